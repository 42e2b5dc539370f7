package database_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

// A full disk (SQLSTATE 53100) is a temporary Unavailable error, never an internal one:
// whether the statement's error reaches InTx raw, through MapError, or wrapped by a
// domain package as an internal error. The transaction is rolled back.
func TestDiskFullErrorIsUnavailableHoweverItIsWrapped(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	full := &pgconn.PgError{Code: "53100", Message: `could not extend file "base/1/2": No space left on device`}
	for name, wrap := range map[string]func(error) error{
		"raw":        func(err error) error { return err },
		"mapped":     database.MapError,
		"wrapped":    func(err error) error { return fault.Wrap(err, "insert session") },
		"re-wrapped": func(err error) error { return fault.Wrap(fault.Wrap(err, "seal"), "insert session") },
	} {
		t.Run(name, func(t *testing.T) {
			err := db.App.InTx(context.Background(), scope.Actor{}, func(tx pgx.Tx) error { return wrap(full) })
			if !database.DiskFull(err) {
				t.Errorf("DiskFull(%v) = false", err)
			}
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.Unavailable || fe.Message != "the database is out of disk space; try again later" {
				t.Errorf("InTx returned %v, want Unavailable (out of disk space)", err)
			}
		})
	}
}
