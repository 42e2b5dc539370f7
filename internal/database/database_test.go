package database

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// A lost connection is Unavailable (503) however it surfaces; a failed statement is not.
func TestConnectionLossIsUnavailableAndStatementErrorsAreNot(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		lost bool
		kind fault.Kind
	}{
		{"reset by peer", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true, fault.Unavailable},
		{"refused dial", &pgconn.ConnectError{}, true, fault.Unavailable},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true, fault.Unavailable},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, true, fault.Unavailable},
		{"server starting", &pgconn.PgError{Code: "57P03"}, true, fault.Unavailable},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true, fault.Unavailable},
		{"conn closed", errors.New("conn closed"), true, fault.Unavailable},
		{"disk full", &pgconn.PgError{Code: "53100"}, false, fault.Unavailable},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false, fault.Conflict},
		{"check violation", &pgconn.PgError{Code: "23514"}, false, fault.Invalid},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false, fault.Internal},
		{"no rows", pgx.ErrNoRows, false, fault.NotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ConnectionLost(c.err); got != c.lost {
				t.Errorf("ConnectionLost = %v, want %v", got, c.lost)
			}
			if got := fault.KindOf(MapError(c.err)); got != c.kind {
				t.Errorf("MapError kind = %s, want %s", got, c.kind)
			}
		})
	}
}
