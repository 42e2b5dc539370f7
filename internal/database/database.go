// Package database owns connections to PostgreSQL: the pool, per-request transactions
// that carry the actor's scope for row-level security, migrations, and the mapping of
// PostgreSQL errors to domain errors.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/tracing"
	"github.com/xinqiao/xinqiao/migrations"
)

// DB is the application's connection pool (as the app role).
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects a pool to url and pings it.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	// Fail fast when the server cannot be reached (e.g. a host that drops packets): a
	// request answers 503 instead of hanging on the dial.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "xinqiao"
	cfg.ConnConfig.Tracer = tracing.QueryTracer{}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// InTx runs fn in a transaction whose first statement sets the actor's scope as
// transaction-local settings (nothing survives on the pooled connection). It commits
// when fn returns nil and rolls back on error or panic (the panic continues).
//
// A connection lost on the way (the database restarted, the network dropped) is an
// Unavailable error whatever wrapped it, so callers answer 503, never 500. When the
// connection is found dead before fn runs (a pooled connection that did not survive a
// restart), the transaction is begun once more on a fresh connection: nothing ran yet.
func (db *DB) InTx(ctx context.Context, a scope.Actor, fn func(tx pgx.Tx) error) (err error) {
	var tx pgx.Tx
	for attempt := 0; ; attempt++ {
		tx, err = db.begin(ctx, a)
		if err == nil {
			break
		}
		if attempt > 0 || !ConnectionLost(err) || ctx.Err() != nil {
			return unavailable(err)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			if fault.KindOf(err) == fault.Internal && (ConnectionLost(err) || tx.Conn().IsClosed()) {
				err = unavailable(err)
			} else if fault.KindOf(err) == fault.Internal && DiskFull(err) {
				err = outOfSpace(err)
			}
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return MapError(err)
	}
	return nil
}

// begin opens a transaction and sets the actor's scope in it.
func (db *DB) begin(ctx context.Context, a scope.Actor) (pgx.Tx, error) {
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, err
	}
	if err := SetScope(ctx, tx, a); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		if ConnectionLost(err) || tx.Conn().IsClosed() {
			return nil, err
		}
		return nil, fault.Wrap(err, "set request scope")
	}
	return tx, nil
}

func unavailable(err error) error {
	if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
		return err
	}
	return &fault.Error{Kind: fault.Unavailable, Message: "the database is not available", Err: err}
}

// ConnectionLost tells errors that mean the database could not be reached or the
// connection broke (as opposed to a statement that failed): a refused or timed-out dial,
// a reset or closed socket, the server shutting down or not yet accepting connections.
func ConnectionLost(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03" || pg.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE), errors.Is(err, pgconn.ErrConnClosed):
		return true
	}
	// pgconn reports a connection it already closed with an unexported error.
	return strings.Contains(err.Error(), "conn closed")
}

// diskFull is SQLSTATE 53100: PostgreSQL could not extend a file (No space left on
// device). The statement failed and its transaction is rolled back; nothing was written.
const diskFull = "53100"

// DiskFull tells a statement refused because the database's disk is full, also when a
// domain package wrapped the error.
func DiskFull(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == diskFull
}

// outOfSpace is the one answer to a full database disk: a temporary Unavailable error
// (503 with Retry-After), not an internal one.
func outOfSpace(err error) error {
	return &fault.Error{Kind: fault.Unavailable, Message: "the database is out of disk space; try again later", Err: err}
}

// SetScope writes the actor into transaction-local settings read by RLS policies.
func SetScope(ctx context.Context, tx pgx.Tx, a scope.Actor) error {
	var user, district, school string
	if a.UserID != [16]byte{} {
		user = a.UserID.String()
	}
	if a.DistrictID != [16]byte{} && a.Kind != scope.None {
		district = a.DistrictID.String()
	}
	if a.SchoolID != [16]byte{} && a.Kind == scope.School {
		school = a.SchoolID.String()
	}
	_, err := tx.Exec(ctx, `SELECT set_config('app.user_id', $1, true), set_config('app.district_id', $2, true),
		set_config('app.school_id', $3, true), set_config('app.scope', $4, true)`,
		user, district, school, string(a.Kind))
	return err
}

// MapError turns PostgreSQL errors into domain errors; others become Internal.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fault.New(fault.NotFound, "not found")
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return &fault.Error{Kind: fault.Conflict, Message: "a record with the same key already exists", Err: err}
		case "23503":
			return &fault.Error{Kind: fault.Invalid, Message: "a referenced record does not exist", Err: err}
		case "23514", "23502", "22P02", "22007", "22008", "22001":
			return &fault.Error{Kind: fault.Invalid, Message: "a value is not valid", Err: err}
		case diskFull:
			return outOfSpace(err)
		case "42501":
			// Row-level security refused a write: the row belongs to another scope.
			return &fault.Error{Kind: fault.NotFound, Message: "not found", Err: err}
		}
	}
	if ConnectionLost(err) || errors.Is(err, context.DeadlineExceeded) {
		return &fault.Error{Kind: fault.Unavailable, Message: "the database is not available", Err: err}
	}
	return fault.Wrap(err, "database error")
}

// Migrate applies every embedded migration using the owner role's URL.
func Migrate(ctx context.Context, ownerURL string, log *slog.Logger) error {
	cfg, err := pgx.ParseConfig(ownerURL)
	if err != nil {
		return fmt.Errorf("parse migrate url: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	return migrate(ctx, db, log)
}

func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	for _, r := range results {
		if log != nil {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
