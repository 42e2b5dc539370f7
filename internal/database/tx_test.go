package database_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

// assertSQL fails (division by zero) unless cond holds when it runs.
func assertSQL(cond string) string { return `SELECT 1 / (` + cond + `)::int` }

func auditRows(t *testing.T, db *testdb.DB, school uuid.UUID) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT set_config('app.scope', 'audit', false)`).Scan(new(string)); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE school_id = $1`, school).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func insertAudit(ctx context.Context, tx pgx.Tx, a scope.Actor) error {
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (id, district_id, school_id, action, outcome) VALUES ($1, $2, $3, 'test', 'allowed')`,
		uuid.New(), a.DistrictID, a.SchoolID)
	return err
}

// InTx begins with the actor's scope already set (BEGIN and the settings are one
// query), sends queued statements with COMMIT, and rolls everything back when a queued
// statement fails; a scope change sends the statements queued under the old scope first.
func TestInTxScopeAndStatementsQueuedBeforeCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	a := scope.Actor{UserID: uuid.New(), DistrictID: uuid.New(), SchoolID: uuid.New(), Kind: scope.School}
	b := a
	b.SchoolID = uuid.New()

	err := db.App.InTx(ctx, a, func(tx pgx.Tx) error {
		var user, district, school, kind string
		if err := tx.QueryRow(ctx, `SELECT current_setting('app.user_id'), current_setting('app.district_id'),
			current_setting('app.school_id'), current_setting('app.scope')`).Scan(&user, &district, &school, &kind); err != nil {
			return err
		}
		if user != a.UserID.String() || district != a.DistrictID.String() || school != a.SchoolID.String() || kind != "school" {
			t.Errorf("scope in the transaction: %s %s %s %s", user, district, school, kind)
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		tx.(*database.Tx).QueueBeforeCommit(`INSERT INTO audit_log (id, district_id, school_id, action, outcome) VALUES ($1, $2, $3, 'queued', 'allowed')`,
			uuid.New(), a.DistrictID, a.SchoolID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := auditRows(t, db, a.SchoolID); n != 2 {
		t.Fatalf("the row written and the one queued commit together: %d rows", n)
	}

	// A failing queued statement rolls back the transaction's work.
	err = db.App.InTx(ctx, a, func(tx pgx.Tx) error {
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		tx.(*database.Tx).QueueBeforeCommit(assertSQL(`false`))
		return nil
	})
	if err == nil {
		t.Fatal("a failing queued statement must fail the transaction")
	}
	if n := auditRows(t, db, a.SchoolID); n != 2 {
		t.Fatalf("the work of a failed commit is rolled back: %d rows", n)
	}

	// Queued statements run in the scope they were queued in.
	err = db.App.InTx(ctx, a, func(tx pgx.Tx) error {
		tx.(*database.Tx).QueueBeforeCommit(assertSQL(`current_setting('app.school_id') = '` + a.SchoolID.String() + `'`))
		if err := database.SetScope(ctx, tx, b); err != nil {
			return err
		}
		return insertAudit(ctx, tx, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := auditRows(t, db, b.SchoolID); n != 1 {
		t.Fatalf("after the scope change: %d rows", n)
	}
	// The pool's connections are all usable afterwards (none left inside a transaction).
	for range 12 {
		if err := db.App.InTx(ctx, a, func(tx pgx.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

// With AsyncAuditCommit, a transaction that wrote nothing before its queued statements
// (a read and its audit rows) commits with synchronous_commit off; one that wrote keeps
// the synchronous commit; without the setting every commit is synchronous.
func TestAsyncAuditCommitOnlyForTransactionsThatOnlyAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	a := scope.Actor{UserID: uuid.New(), DistrictID: uuid.New(), SchoolID: uuid.New(), Kind: scope.School}
	run := func(async, write bool, want string) {
		t.Helper()
		db.App.AsyncAuditCommit = async
		defer func() { db.App.AsyncAuditCommit = false }()
		err := db.App.InTx(ctx, a, func(tx pgx.Tx) error {
			if write {
				if err := insertAudit(ctx, tx, a); err != nil {
					return err
				}
			} else if _, err := tx.Exec(ctx, `SELECT count(*) FROM audit_log`); err != nil {
				return err
			}
			tx.(*database.Tx).QueueBeforeCommit(assertSQL(`current_setting('synchronous_commit') = '` + want + `'`))
			return nil
		})
		if err != nil {
			t.Fatalf("async=%v write=%v: want synchronous_commit %s: %v", async, write, want, err)
		}
	}
	run(true, false, "off")
	run(true, true, "on")
	run(false, false, "on")
	run(false, true, "on")
}

// countingConn counts the times the client sends to the server: with pgx buffering a
// pipeline's messages, one write is one round trip.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// An audited read is three round trips in InTx: BEGIN with the scope settings, the read,
// and the audit row with COMMIT (five before: BEGIN, settings, read, INSERT, COMMIT).
func TestAuditedReadIsThreeRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	cfg, err := pgxpool.ParseConfig(db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int64
	cfg.MaxConns = 1
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{c, &writes}, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	app := &database.DB{Pool: pool}
	a := scope.Actor{UserID: uuid.New(), DistrictID: uuid.New(), SchoolID: uuid.New(), Kind: scope.School}
	read := func() int64 {
		before := writes.Load()
		err := app.InTx(ctx, a, func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE school_id = $1`, a.SchoolID).Scan(&n); err != nil {
				return err
			}
			return audit.Record(ctx, tx, a, audit.Entry{Action: "test.read"})
		})
		if err != nil {
			t.Fatal(err)
		}
		return writes.Load() - before
	}
	read() // connect, and prepare the statements once per connection
	if n := read(); n != 3 {
		t.Fatalf("an audited read took %d round trips, want 3", n)
	}
	if n := auditRows(t, db, a.SchoolID); n != 2 {
		t.Fatalf("audit rows: %d", n)
	}
}
