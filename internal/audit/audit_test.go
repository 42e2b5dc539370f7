package audit_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/page"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

func verify(t *testing.T, ownerURL string) audit.Report {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rep, err := audit.Verify(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Concurrent audited transactions of one school, each on its own connection, append to
// the stripes of the school's chain chosen by their connections (migration 00085), not
// to one chain whose head they would take turns on; every stripe verifies; the viewer
// lists all of them in time order, page by page; tampering with a striped row, or
// deleting a stripe with its head, is reported.
func TestConcurrentAuditedWritesOfOneSchoolUseSeveralChainsThatAllVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	district, school := uuid.New(), uuid.New()
	a := scope.Actor{UserID: uuid.New(), Username: "counselor", DistrictID: district, SchoolID: school, Kind: scope.School, Roles: []string{scope.Counselor}}

	const workers, rounds = 8, 5
	var (
		mu     sync.Mutex
		want   = map[string]int{} // chain → rows, from each transaction's own connection
		failed error
	)
	for round := range rounds {
		var ready, wg sync.WaitGroup
		ready.Add(workers)
		wg.Add(workers)
		for w := range workers {
			go func() {
				defer wg.Done()
				err := db.App.InTx(ctx, a, func(tx pgx.Tx) error {
					var pid int
					if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
						ready.Done()
						return err
					}
					// Every worker holds its own connection before any of them writes.
					ready.Done()
					ready.Wait()
					chain := "school:" + school.String()
					if k := pid % 16; k != 0 {
						chain += "/" + strconv.Itoa(k)
					}
					mu.Lock()
					want[chain]++
					mu.Unlock()
					return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.read", ObjectType: "case_file", ObjectID: fmt.Sprint(round, "-", w)})
				})
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	if failed != nil {
		t.Fatal(failed)
	}
	owner, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	if _, err := owner.Exec(ctx, `SELECT set_config('app.scope', 'audit', false)`); err != nil {
		t.Fatal(err)
	}
	rows, err := owner.Query(ctx, `SELECT chain, count(*)::int FROM audit_log WHERE school_id = $1 GROUP BY chain`, school)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		got[c] = n
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(got) < 2 {
		t.Fatalf("%d concurrent writers of one school used one chain: %v", workers, got)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows by chain %v, want those of the writers' connections %v", got, want)
	}
	rep := verify(t, db.OwnerURL)
	if len(rep.Breaks) != 0 || rep.Chains < len(got) || rep.Rows < workers*rounds {
		t.Fatalf("want every stripe intact: %+v", rep)
	}

	// The viewer lists every stripe's rows once, newest first, across pages.
	svc := &audit.Service{DB: db.App}
	seen := map[uuid.UUID]bool{}
	var last *audit.Row
	cursor := ""
	for {
		p, err := svc.List(ctx, a, audit.Filter{Action: "case_files.read", Page: page.Request{Cursor: cursor, Limit: 7}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Items {
			if seen[r.ID] {
				t.Fatalf("row %s listed twice", r.ID)
			}
			seen[r.ID] = true
			if last != nil && (r.OccurredAt.After(last.OccurredAt) || (r.OccurredAt.Equal(last.OccurredAt) && r.ID.String() > last.ID.String())) {
				t.Fatalf("not in time order: %v after %v", r.OccurredAt, last.OccurredAt)
			}
			last = &r
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if len(seen) != workers*rounds {
		t.Fatalf("listed %d rows, want %d", len(seen), workers*rounds)
	}

	// A rewritten row in one stripe is reported in that stripe only.
	var chain string
	for c, n := range got {
		if n >= 2 {
			chain = c
			break
		}
	}
	if chain == "" {
		for c := range got {
			chain = c
		}
	}
	for _, sql := range []string{
		`ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY`,
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`,
	} {
		if _, err := owner.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = owner.Exec(context.Background(), `ALTER TABLE audit_log FORCE ROW LEVEL SECURITY`)
	})
	if _, err := owner.Exec(ctx, `UPDATE audit_log SET object_id = 'rewritten' WHERE chain = $1 AND seq = 1`, chain); err != nil {
		t.Fatal(err)
	}
	rep = verify(t, db.OwnerURL)
	if len(rep.Breaks) != 1 || rep.Breaks[0].Chain != chain || rep.Breaks[0].Seq != 1 {
		t.Fatalf("want the rewritten row of %s reported, got %+v", chain, rep.Breaks)
	}
	// A whole stripe deleted with its head: its rows are gone, nothing to find; a head
	// deleted alone leaves rows without a head, which is reported.
	var other string
	for c := range got {
		if c != chain {
			other = c
			break
		}
	}
	if _, err := owner.Exec(ctx, `DELETE FROM audit_chain_heads WHERE chain = $1`, other); err != nil {
		t.Fatal(err)
	}
	rep = verify(t, db.OwnerURL)
	if len(rep.Breaks) != 2 || !strings.Contains(fmt.Sprint(rep.Breaks), other+" 1 rows without a chain head") {
		t.Fatalf("want the headless stripe %s reported, got %+v", other, rep.Breaks)
	}
}
