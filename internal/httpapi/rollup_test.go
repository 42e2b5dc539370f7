package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/rollup"
)

// cells reads a district's rollup cells as the owner, one line per cell.
func (w *world) cells(district uuid.UUID) []string {
	var out []string
	w.ownerQuery(func(tx pgx.Tx) {
		rows, err := tx.Query(context.Background(), `SELECT school_id, period_kind, period_start, measure, grade, gender, category, students, value, schools
			FROM rollup_cells WHERE district_id = $1 ORDER BY 1, 2, 3, 4, 5, 6, 7`, district)
		if err != nil {
			w.t.Fatal(err)
		}
		for rows.Next() {
			var school uuid.UUID
			var kind, measure, grade, gender, category string
			var start time.Time
			var students, value int64
			var schools int
			if err := rows.Scan(&school, &kind, &start, &measure, &grade, &gender, &category, &students, &value, &schools); err != nil {
				w.t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %s %s %s|%s|%s %d/%d/%d", school, kind, start.Format(time.DateOnly), measure, grade, gender, category, students, value, schools))
		}
	})
	return out
}

// randomHistory writes, as the owner, random case files, sessions, tier changes and
// crises in the district's schools over the last 300 days (the triggers mark them dirty).
func (w *world) randomHistory(rng *rand.Rand, district uuid.UUID, files int) {
	ctx := context.Background()
	channels := []string{"walk_in", "scheduled", "phone", "online", "letter", "mailbox"}
	categories := []string{"emotion", "family", "study", "peer", "self_harm"}
	tiers := []string{"watch", "elevated", "high", "crisis", "none"}
	levels := []string{"low", "moderate", "high", "imminent"}
	w.ownerQuery(func(tx pgx.Tx) {
		rows, err := tx.Query(ctx, `SELECT s.school_id, s.id, (SELECT user_id FROM memberships m WHERE m.school_id = s.school_id AND m.role = 'counselor' LIMIT 1)
			FROM students s JOIN schools sc ON sc.id = s.school_id WHERE sc.district_id = $1
			AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) ORDER BY s.id`, district)
		if err != nil {
			w.t.Fatal(err)
		}
		type pupil struct{ school, id, counselor uuid.UUID }
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pupil, error) {
			var p pupil
			return p, r.Scan(&p.school, &p.id, &p.counselor)
		})
		if err != nil {
			w.t.Fatal(err)
		}
		now := time.Now()
		for i := 0; i < files && i < len(list); i++ {
			p := list[rng.IntN(len(list))]
			opened := now.Add(-time.Duration(rng.IntN(300*24)) * time.Hour)
			cf := uuid.New()
			if _, err := tx.Exec(ctx, `INSERT INTO case_files (school_id, id, student_id, opened_at, opened_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
				p.school, cf, p.id, opened, p.counselor); err != nil {
				w.t.Fatal(err)
			}
			if w.scalarTx(tx, `SELECT count(*) FROM case_files WHERE id = $1`, cf) == 0 {
				continue
			}
			for range rng.IntN(6) {
				at := opened.Add(time.Duration(rng.IntN(int(now.Sub(opened).Hours())+1)) * time.Hour)
				cats := []string{categories[rng.IntN(len(categories))]}
				if rng.IntN(3) == 0 {
					cats = append(cats, categories[rng.IntN(len(categories))])
				}
				if _, err := tx.Exec(ctx, `INSERT INTO counseling_sessions (school_id, id, case_file_id, occurred_at, channel, participants, initiated_by, categories,
					duration_minutes, summary, created_by) VALUES ($1, $2, $3, $4, $5, '{student}', 'self', $6, 30, '\x00', $7)`,
					p.school, uuid.New(), cf, at, channels[rng.IntN(len(channels))], uniq(cats), p.counselor); err != nil {
					w.t.Fatal(err)
				}
			}
			for range rng.IntN(3) {
				at := opened.Add(time.Duration(rng.IntN(int(now.Sub(opened).Hours())+1)) * time.Hour)
				if _, err := tx.Exec(ctx, `INSERT INTO risk_tier_changes (school_id, id, case_file_id, from_tier, to_tier, reason, changed_by, changed_at)
					VALUES ($1, $2, $3, 'none', $4, '\x00', $5, $6)`, p.school, uuid.New(), cf, tiers[rng.IntN(len(tiers))], p.counselor, at); err != nil {
					w.t.Fatal(err)
				}
			}
			if rng.IntN(4) == 0 {
				at := opened.Add(time.Hour)
				var assessed *time.Time
				if rng.IntN(3) > 0 {
					a := at.Add(time.Duration(rng.IntN(300)) * time.Minute)
					assessed = &a
				}
				if _, err := tx.Exec(ctx, `INSERT INTO crises (school_id, id, case_file_id, student_id, source, level, opened_by, opened_at, ack_due_at, guardian_due_at, assessed_at)
					VALUES ($1, $2, $3, $4, 'counselor', $5, $6, $7, $7, $7, $8)`, p.school, uuid.New(), cf, p.id, levels[rng.IntN(len(levels))], p.counselor, at, assessed); err != nil {
					w.t.Fatal(err)
				}
			}
		}
		if err := tx.Commit(ctx); err != nil {
			w.t.Fatal(err)
		}
	})
}

func uniq(s []string) []string {
	if len(s) == 2 && s[0] == s[1] {
		return s[:1]
	}
	return s
}

func (w *world) scalarTx(tx pgx.Tx, sql string, args ...any) int {
	var n int
	if err := tx.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestRollupIncrementalEqualsFullRebuildOnRandomData(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	svc := &rollup.Service{DB: w.db.App, Batch: 7} // small batches: many transactions
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	w.districtPlan(w.district, true) // plan compliance comes from Go (internal/program)
	for round := range 3 {
		w.randomHistory(rng, w.district, 10)
		w.randomUnits(rng, w.district)
		// Some changes after the first round: a moved session, a deleted one.
		if round > 0 {
			w.ownerQuery(func(tx pgx.Tx) {
				ctx := context.Background()
				if _, err := tx.Exec(ctx, `UPDATE counseling_sessions SET occurred_at = occurred_at - interval '40 days', channel = 'phone'
					WHERE id = (SELECT id FROM counseling_sessions ORDER BY id LIMIT 1)`); err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, `DELETE FROM counseling_sessions WHERE id = (SELECT id FROM counseling_sessions ORDER BY id DESC LIMIT 1)`); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			})
		}
		if _, err := svc.Refresh(bg()); err != nil {
			t.Fatal(err)
		}
		if n := w.scalar(`SELECT count(*) FROM rollup_dirty`); n != 0 {
			t.Fatalf("dirty marks left: %d", n)
		}
		incremental, incPublished := w.cells(w.district), w.published(w.district)
		if len(incremental) == 0 || len(incPublished) == 0 {
			t.Fatal("no cells")
		}
		for _, m := range rollup.Measures {
			if round == 2 && !strings.HasPrefix(m.Name, "referrals_") && !strings.Contains(strings.Join(incremental, "\n"), " "+m.Name+" ") {
				t.Errorf("no cell of %s after three rounds (the random history sends no referral)", m.Name)
			}
		}
		if err := svc.Rebuild(bg(), w.district); err != nil {
			t.Fatal(err)
		}
		full, fullPublished := w.cells(w.district), w.published(w.district)
		if strings.Join(incremental, "\n") != strings.Join(full, "\n") {
			t.Fatalf("round %d: incremental (%d cells) differs from the full rebuild (%d cells)\nfirst difference: %s", round, len(incremental), len(full), firstDiff(incremental, full))
		}
		// The precomputed publication too: the same suppression of the same cells.
		if strings.Join(incPublished, "\n") != strings.Join(fullPublished, "\n") {
			t.Fatalf("round %d: incremental publication (%d labels) differs from the full rebuild's (%d)\nfirst difference: %s", round, len(incPublished), len(fullPublished), firstDiff(incPublished, fullPublished))
		}
		// Running the refresh again changes nothing.
		if n, err := svc.Refresh(bg()); err != nil || n != 0 {
			t.Fatalf("second refresh: %d %v", n, err)
		}
	}
	// The other district's cells are its own.
	if n := w.scalar(`SELECT count(*) FROM rollup_cells WHERE district_id = $1`, w.foreignDistrict); n != 0 {
		t.Fatalf("the foreign district got %d cells", n)
	}
	// No identifying column exists in a rollup table.
	if n := w.scalar(`SELECT count(*) FROM information_schema.columns WHERE table_name = 'rollup_cells'
		AND column_name IN ('student_id', 'name', 'student_number', 'birth_date', 'note', 'summary')`); n != 0 {
		t.Fatal("a rollup table has an identifying column")
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return "incremental: " + a[i] + "\nfull:        " + b[i]
		}
	}
	return "lengths differ"
}

func TestRollupCellsAgainstAHandComputedFixture(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	svc := &rollup.Service{DB: w.db.App}
	// Two sessions of the target student in one week (phone, walk-in), one a week later.
	monday := rollup.Start("week", time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -14))
	at := func(days int) time.Time {
		return time.Date(monday.Year(), monday.Month(), monday.Day(), 10, 0, 0, 0, time.FixedZone("CST", 8*3600)).AddDate(0, 0, days)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		ctx := context.Background()
		for i, x := range []struct {
			day     int
			channel string
		}{{0, "phone"}, {2, "walk_in"}, {7, "phone"}} {
			if _, err := tx.Exec(ctx, `INSERT INTO counseling_sessions (school_id, id, case_file_id, occurred_at, channel, participants, initiated_by, categories,
				duration_minutes, summary, created_by) SELECT $1, $2, $3, $4, $5, '{student}', 'self', '{family}', 30, '\x00', opened_by FROM case_files WHERE id = $3`,
				s1.school, uuid.New(), s1.caseFile, at(x.day), x.channel); err != nil {
				t.Fatal(i, err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := svc.Refresh(bg()); err != nil {
		t.Fatal(err)
	}
	get := func(school uuid.UUID, kind string, start time.Time, measure, grade, gender, category string) string {
		var students, value int64
		var schools int
		ok := true
		w.ownerQuery(func(tx pgx.Tx) {
			err := tx.QueryRow(context.Background(), `SELECT students, value, schools FROM rollup_cells WHERE district_id = $1 AND school_id = $2 AND period_kind = $3
				AND period_start = $4 AND measure = $5 AND grade = $6 AND gender = $7 AND category = $8`,
				s1.district, school, kind, start, measure, grade, gender, category).Scan(&students, &value, &schools)
			ok = err == nil
		})
		if !ok {
			return "none"
		}
		return fmt.Sprintf("%d/%d/%d", students, value, schools)
	}
	// The setup session of the fixture (from target()) may sit in the same week: count it.
	base := w.scalar(`SELECT count(*) FROM counseling_sessions WHERE case_file_id = $1 AND channel = 'phone' AND occurred_at >= $2 AND occurred_at < $3`,
		s1.caseFile, at(0).Add(-10*time.Hour), at(7).Add(-10*time.Hour))
	want := fmt.Sprintf("1/%d/1", base)
	if got := get(s1.school, "week", monday, "sessions_channel", "", "", "phone"); got != want {
		t.Errorf("week 1 phone: %s, want %s", got, want)
	}
	if got := get(s1.school, "week", monday, "sessions_channel", "", "", "walk_in"); got != "1/1/1" {
		t.Errorf("week 1 walk-in: %s", got)
	}
	if got := get(s1.school, "week", monday, "sessions_channel", s1.gradeName, "", "walk_in"); got != "1/1/1" {
		t.Errorf("week 1 walk-in in %s: %s", s1.gradeName, got)
	}
	if got := get(rollup.AllSchools, "week", monday, "sessions_channel", "", "", "walk_in"); got != "1/1/1" {
		t.Errorf("district week 1 walk-in: %s", got)
	}
	if got := get(s1.school, "week", monday.AddDate(0, 0, 7), "sessions_channel", "", "", "phone"); !strings.HasPrefix(got, "1/") {
		t.Errorf("week 2 phone: %s", got)
	}
}

func TestPublishedRollupsNeverShowASmallCount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.randomHistory(rand.New(rand.NewPCG(11, 12)), w.district, 30)
	if _, err := (&rollup.Service{DB: w.db.App}).Refresh(bg()); err != nil {
		t.Fatal(err)
	}
	supervisor := w.token("district.supervisor")
	from, to := time.Now().AddDate(0, -10, 0).Format(time.DateOnly), time.Now().Format(time.DateOnly)
	for _, m := range rollup.Measures {
		if !m.Suppressed {
			continue // records of the schools' own work (activities, opening hours, compliance)
		}
		for _, kind := range []string{"week", "month", "term"} {
			q := fmt.Sprintf("?measure=%s&period_kind=%s&from=%s&to=%s", m.Name, kind, from, to)
			r := w.do(supervisor, "GET", "/api/v1/districts/"+w.district.String()+"/rollups"+q, nil)
			if r.status != 200 {
				t.Fatalf("%s/%s: %d %s", m.Name, kind, r.status, r.body)
			}
			var rep rollup.Report
			r.decode(t, &rep)
			for _, p := range rep.Periods {
				for _, row := range p.Rows {
					for i, c := range row.Cells {
						var n int
						if _, err := fmt.Sscan(c, &n); err == nil && n > 0 && n < 5 {
							t.Fatalf("%s/%s %s %s %s: a small count is shown: %s", m.Name, kind, p.Start, row.Kind, rep.Categories[i], c)
						}
						// A shown school cell stands for at least k students.
						if row.Kind == "school" && c != "0" && c != "<5" && c != "*" {
							start, _ := time.Parse(time.DateOnly, p.Start)
							students := w.scalar(`SELECT students FROM rollup_cells WHERE district_id = $1 AND school_id = $2 AND period_kind = $3
								AND period_start = $4 AND measure = $5 AND grade = '' AND gender = '' AND category = $6`,
								w.district, uuid.MustParse(row.Key), kind, start, m.Name, rep.Categories[i])
							if students < 5 {
								t.Fatalf("%s/%s: %s shown for %d students", m.Name, kind, c, students)
							}
						}
					}
				}
			}
			if strings.Contains(string(r.body), "student") && strings.Contains(string(r.body), "name") {
				t.Fatalf("identifying fields in %s", r.body)
			}
		}
	}
	// The CSV shows exactly the same suppressed table.
	q := "?measure=sessions_channel&period_kind=month&from=" + from + "&to=" + to
	r := w.do(supervisor, "GET", "/api/v1/districts/"+w.district.String()+"/rollups.csv"+q, nil)
	if r.status != 200 || !bytes.HasPrefix(r.body, []byte("\ufeff")) {
		t.Fatalf("csv: %d", r.status)
	}
	// The threshold is never below 3; district roles cannot read the raw tables.
	if r := w.do(w.token("district.admin"), "PUT", "/api/v1/districts/"+w.district.String()+"/rollup-settings", map[string]any{"threshold": 2}); r.status != 422 {
		t.Errorf("threshold 2: %d", r.status)
	}
	err := w.db.App.InTx(bg(), w.districtAdmin(w.target("s1")), func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(bg(), `SELECT count(*) FROM counseling_sessions`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("a district role sees %d sessions", n)
		}
		return tx.QueryRow(bg(), `SELECT count(*) FROM rollup_published`).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The raw (unsuppressed) cells are not readable by the application role at all.
	err = w.db.App.InTx(bg(), w.districtAdmin(w.target("s1")), func(tx pgx.Tx) error {
		var n int
		return tx.QueryRow(bg(), `SELECT count(*) FROM rollup_cells`).Scan(&n)
	})
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("a district role reads the raw rollup cells: %v", err)
	}
}

// A write never waits for a refresh: while a refresh batch's recompute transaction is
// open (held by the test), sessions of the very school and day it claimed, and of
// another day, are written with a lock_timeout that turns any wait into an error. The
// change leaves a fresh mark that the next refresh consumes; a recompute that fails
// keeps its marks for the next one; the result equals the full rebuild.
func TestRollupRefreshNeverBlocksAWrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	ctx := context.Background()
	day := time.Now().Add(-2 * time.Hour)
	insert := func(tx pgx.Tx, at time.Time) {
		t.Helper()
		if _, err := tx.Exec(ctx, `INSERT INTO counseling_sessions (school_id, id, case_file_id, occurred_at, channel, participants, initiated_by, categories,
			duration_minutes, summary, created_by) SELECT $1, $2, $3, $4, 'phone', '{student}', 'self', '{family}', 30, '\x00', opened_by FROM case_files WHERE id = $3`,
			s1.school, uuid.New(), s1.caseFile, at); err != nil {
			t.Fatal(err)
		}
	}
	w.ownerQuery(func(tx pgx.Tx) {
		insert(tx, day)
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if n := w.scalar(`SELECT count(*) FROM rollup_dirty WHERE school_id = $1 AND day = rollup_day($2)`, s1.school, day); n != 1 {
		t.Fatalf("marks of the day before the refresh: %d", n)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	held := &rollup.Service{DB: w.db.App, InRecompute: func(context.Context) error {
		close(inside)
		<-release
		return nil
	}}
	done := make(chan error, 1)
	go func() {
		_, err := held.Refresh(ctx)
		done <- err
	}()
	<-inside
	// The refresh holds its claimed marks and its recompute open: write the same school
	// and day, and another day, with any lock wait an error.
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '1s'`); err != nil {
			t.Fatal(err)
		}
		insert(tx, day)
		insert(tx, day.AddDate(0, 0, -10))
		if err := tx.Commit(ctx); err != nil {
			t.Fatalf("a write waited for the refresh: %v", err)
		}
	})
	if n := w.scalar(`SELECT count(*) FROM rollup_dirty WHERE claim IS NULL AND school_id = $1 AND day = rollup_day($2)`, s1.school, day); n != 1 {
		t.Fatalf("the write during the refresh left %d pending marks of its day, want 1", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The claimed marks are consumed; the two written during the refresh wait.
	if n := w.scalar(`SELECT count(*) FROM rollup_dirty`); n != 2 {
		t.Fatalf("marks after the held refresh: %d, want the 2 written meanwhile", n)
	}
	// A recompute that fails leaves its marks (claimed) for the next refresh.
	failing := &rollup.Service{DB: w.db.App, InRecompute: func(context.Context) error { return errors.New("recompute failed") }}
	if _, err := failing.Refresh(ctx); err == nil {
		t.Fatal("the failing refresh succeeded")
	}
	if n := w.scalar(`SELECT count(*) FROM rollup_dirty`); n != 2 {
		t.Fatalf("marks after a failed refresh: %d, want 2", n)
	}
	svc := &rollup.Service{DB: w.db.App}
	if n, err := svc.Refresh(ctx); err != nil || n != 2 {
		t.Fatalf("refresh after the failure: %d marks, %v", n, err)
	}
	if n := w.scalar(`SELECT count(*) FROM rollup_dirty`); n != 0 {
		t.Fatalf("dirty marks left: %d", n)
	}
	incremental := w.cells(s1.district)
	if err := svc.Rebuild(ctx, s1.district); err != nil {
		t.Fatal(err)
	}
	if full := w.cells(s1.district); strings.Join(incremental, "\n") != strings.Join(full, "\n") {
		t.Fatalf("incremental (%d cells) differs from the full rebuild (%d cells)\nfirst difference: %s", len(incremental), len(full), firstDiff(incremental, full))
	}
}
