// Package rollup owns the district statistics (统计汇总): aggregate cells per school (and
// all schools), period, measure, grade, gender and category — never a student's identity
// — kept fresh incrementally from dirty marks that the database writes in the same
// transaction as each change, rebuilt in full every night (and the two must agree), and
// published to district staff only through suppression (see internal/suppress).
package rollup

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Task types.
const (
	TypeRefresh = "rollup:refresh" // incremental: the outbox wakes it after each change
	TypeRebuild = "rollup:rebuild" // nightly full rebuild
)

// AllSchools is the school id of district-level cells.
var AllSchools = uuid.Nil

// Service computes rollups.
type Service struct {
	DB *database.DB
	// Batch is how many dirty marks one transaction claims (default 500).
	Batch int
	// Now is the clock of plan compliance (tests move it); nil is time.Now.
	Now func() time.Time
	// InRecompute, when set, runs at the end of each refresh batch's recompute
	// transaction, before it commits (tests hold a refresh open with it).
	InRecompute func(ctx context.Context) error
}

type period struct {
	kind  string
	start time.Time
}

type districtPeriod struct {
	district uuid.UUID
	period
}

// Refresh recomputes the cells of every dirty school and period, and the district sums
// of those periods, batch by batch. It holds the rollup advisory lock (one refresher or
// rebuild at a time: district sums must read every school's latest cells) on one
// connection for its whole run. Each batch claims its marks in a short transaction of
// its own and recomputes in another, which also consumes exactly the claimed marks: a
// write never waits for a refresh (a change committed meanwhile leaves a new mark for
// the next refresh), and if the recompute fails its marks stay (claimed, and claimed
// again by the next refresher). Running it twice changes nothing more. It returns how
// many marks it consumed.
func (s *Service) Refresh(ctx context.Context) (total int, err error) {
	batch := s.Batch
	if batch <= 0 {
		batch = 500
	}
	conn, err := s.DB.Pool.Acquire(ctx)
	if err != nil {
		return 0, database.MapError(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('xinqiao:rollup'))`); err != nil {
		return 0, database.MapError(err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('xinqiao:rollup'))`); uerr != nil {
			// Never hand a connection that may still hold the lock back to the pool.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	for {
		claim := uuid.New()
		var marks []mark
		err := connTx(ctx, conn, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT district_id, school_id, day FROM rollup_claim_marks($1, $2)`, claim, batch)
			if err != nil {
				return database.MapError(err)
			}
			marks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (mark, error) {
				var m mark
				return m, r.Scan(&m.district, &m.school, &m.day)
			})
			return database.MapError(err)
		})
		if err != nil {
			return total, err
		}
		if len(marks) == 0 {
			break
		}
		err = connTx(ctx, conn, func(tx pgx.Tx) error {
			if err := s.recompute(ctx, tx, marks); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SELECT rollup_consume_marks($1)`, claim); err != nil {
				return database.MapError(err)
			}
			if s.InRecompute != nil {
				return s.InRecompute(ctx)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(marks)
		if len(marks) < batch {
			break
		}
	}
	// Suppress again every publication unit that holds a changed cell (also those left by
	// a refresh that stopped before this step: the marks wait in rollup_publish_dirty).
	err = connTx(ctx, conn, func(tx pgx.Tx) error {
		return publishPending(ctx, tx, nil)
	})
	return total, err
}

type mark struct {
	district, school uuid.UUID
	day              *time.Time
}

// connTx runs fn in a transaction on conn (the refresher's own connection) with the
// system scope.
func connTx(ctx context.Context, conn *pgxpool.Conn, fn func(tx pgx.Tx) error) (err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return database.MapError(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := database.SetScope(ctx, tx, scope.Actor{}); err != nil {
		return database.MapError(err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	return database.MapError(tx.Commit(ctx))
}

// recompute writes the cells of the marks' schools and periods (all of them for a NULL
// day), plan compliance and the district sums of the touched periods, each step one
// set-based statement per district.
func (s *Service) recompute(ctx context.Context, tx pgx.Tx, marks []mark) error {
	type schoolPeriod struct {
		school uuid.UUID
		period
	}
	rebuild := map[uuid.UUID][]uuid.UUID{} // district → schools rebuilt whole
	rebuilt := map[uuid.UUID]bool{}
	districtOf := map[uuid.UUID]uuid.UUID{}
	for _, m := range marks {
		districtOf[m.school] = m.district
		if m.day == nil && !rebuilt[m.school] {
			rebuilt[m.school] = true
			rebuild[m.district] = append(rebuild[m.district], m.school)
		}
	}
	districts := map[districtPeriod]bool{}
	for district, schools := range rebuild {
		ps, err := rebuildSchools(ctx, tx, schools)
		if err != nil {
			return err
		}
		for _, p := range ps {
			districts[districtPeriod{district, p}] = true
		}
	}
	dirty := map[schoolPeriod]bool{}
	var schools []uuid.UUID
	for _, m := range marks {
		if m.day == nil || rebuilt[m.school] {
			continue
		}
		for _, k := range []string{"week", "month", "term"} {
			dirty[schoolPeriod{m.school, period{k, Start(k, *m.day)}}] = true
		}
		if !slices.Contains(schools, m.school) {
			schools = append(schools, m.school)
		}
	}
	if len(schools) > 0 {
		// Periods never computed (a new week, or before the first computed one).
		rows, err := tx.Query(ctx, `SELECT school_id, period_kind, period_start FROM rollup_uncomputed_periods_of($1)`, schools)
		if err != nil {
			return database.MapError(err)
		}
		missing, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (schoolPeriod, error) {
			var p schoolPeriod
			return p, r.Scan(&p.school, &p.kind, &p.start)
		})
		if err != nil {
			return database.MapError(err)
		}
		for _, p := range missing {
			dirty[p] = true
		}
		ss := make([]uuid.UUID, 0, len(dirty))
		ks := make([]string, 0, len(dirty))
		ps := make([]time.Time, 0, len(dirty))
		for p := range dirty {
			ss, ks, ps = append(ss, p.school), append(ks, p.kind), append(ps, p.start)
			districts[districtPeriod{districtOf[p.school], p.period}] = true
		}
		if _, err := tx.Exec(ctx, `SELECT rollup_refresh_dirty($1, $2, $3)`, ss, ks, ps); err != nil {
			return database.MapError(err)
		}
	}
	// Plan compliance of every district with a mark (it depends on activities,
	// evidence, barometer reports and the day, so it is recomputed as a whole).
	seen := map[uuid.UUID]bool{}
	for _, m := range marks {
		if seen[m.district] {
			continue
		}
		seen[m.district] = true
		ps, err := s.compliance(ctx, tx, m.district)
		if err != nil {
			return err
		}
		for _, p := range ps {
			districts[districtPeriod{m.district, p}] = true
		}
	}
	if err := refreshDistricts(ctx, tx, districts); err != nil {
		return err
	}
	// The publication units holding a changed cell are suppressed again once, at the end.
	return markPublish(ctx, tx, districts)
}

// refreshDistricts recomputes the all-schools cells of the touched district periods.
func refreshDistricts(ctx context.Context, tx pgx.Tx, touched map[districtPeriod]bool) error {
	return perDistrict(ctx, tx, touched, `SELECT rollup_refresh_district_periods($1, $2, $3)`)
}

// markPublish records the touched district periods for publication.
func markPublish(ctx context.Context, tx pgx.Tx, touched map[districtPeriod]bool) error {
	return perDistrict(ctx, tx, touched, `SELECT rollup_publish_mark($1, $2, $3)`)
}

// perDistrict runs fn(district, kinds[], starts[]) once per district of the touched periods.
func perDistrict(ctx context.Context, tx pgx.Tx, touched map[districtPeriod]bool, fn string) error {
	byDistrict := map[uuid.UUID][]period{}
	for dp := range touched {
		byDistrict[dp.district] = append(byDistrict[dp.district], dp.period)
	}
	for d, ps := range byDistrict {
		kinds := make([]string, len(ps))
		starts := make([]time.Time, len(ps))
		for i, p := range ps {
			kinds[i], starts[i] = p.kind, p.start
		}
		if _, err := tx.Exec(ctx, fn, d, kinds, starts); err != nil {
			return database.MapError(err)
		}
	}
	return nil
}

// publishPending claims the pending periods (of one district, or all when nil) and
// suppresses their units again.
func publishPending(ctx context.Context, tx pgx.Tx, district *uuid.UUID) error {
	rows, err := tx.Query(ctx, `SELECT district_id, period_kind, period_start FROM rollup_publish_claim($1)`, district)
	if err != nil {
		return database.MapError(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (districtPeriod, error) {
		var dp districtPeriod
		return dp, r.Scan(&dp.district, &dp.kind, &dp.start)
	})
	if err != nil {
		return database.MapError(err)
	}
	touched := map[districtPeriod]bool{}
	for _, dp := range list {
		touched[dp] = true
	}
	return publish(ctx, tx, touched)
}

func rebuildSchools(ctx context.Context, tx pgx.Tx, schools []uuid.UUID) ([]period, error) {
	rows, err := tx.Query(ctx, `SELECT period_kind, period_start FROM rollup_rebuild_schools($1)`, schools)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (period, error) {
		var p period
		return p, r.Scan(&p.kind, &p.start)
	})
	return out, database.MapError(err)
}

// Rebuild recomputes every cell of a district from scratch (the nightly job), in one
// transaction.
func (s *Service) Rebuild(ctx context.Context, district uuid.UUID) error {
	return s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('xinqiao:rollup'))`); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `SELECT rollup_clear_district($1)`, district); err != nil {
			return database.MapError(err)
		}
		rows, err := tx.Query(ctx, `SELECT rollup_district_schools($1)`, district)
		if err != nil {
			return database.MapError(err)
		}
		schools, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		// Every period of every school in one set-based statement.
		ps, err := rebuildSchools(ctx, tx, schools)
		if err != nil {
			return err
		}
		cps, err := s.compliance(ctx, tx, district)
		if err != nil {
			return err
		}
		touched := map[districtPeriod]bool{}
		for _, p := range append(ps, cps...) {
			touched[districtPeriod{district, p}] = true
		}
		if err := refreshDistricts(ctx, tx, touched); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT rollup_clear_published($1)`, district); err != nil {
			return database.MapError(err)
		}
		// Everything is published below: pending marks of the district are covered.
		if _, err := tx.Exec(ctx, `SELECT count(*) FROM rollup_publish_claim($1)`, district); err != nil {
			return database.MapError(err)
		}
		return publish(ctx, tx, touched)
	})
}

// compliance writes the district's plan compliance cells (computed by internal/program
// with the district's scope, as the compliance matrix) and returns the term periods
// whose cells changed or may have.
func (s *Service) compliance(ctx context.Context, tx pgx.Tx, district uuid.UUID) ([]period, error) {
	sys := scope.Actor{Kind: scope.District, DistrictID: district, Username: "system:rollup"}
	if err := database.SetScope(ctx, tx, sys); err != nil {
		return nil, database.MapError(err)
	}
	now := s.now().In(shanghai)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	tally, err := program.ComplianceTally(ctx, tx, district, today)
	if err != nil {
		return nil, err
	}
	if err := database.SetScope(ctx, tx, scope.Actor{}); err != nil {
		return nil, database.MapError(err)
	}
	schools := make([]uuid.UUID, len(tally))
	starts := make([]time.Time, len(tally))
	cats := make([]string, len(tally))
	values := make([]int64, len(tally))
	for i, t := range tally {
		schools[i], starts[i], cats[i], values[i] = t.School, Start("term", t.TermStart), t.Status, t.N
	}
	// Several plans of one term add up.
	rows, err := tx.Query(ctx, `SELECT period_start FROM rollup_put_compliance($1, $2, $3, $4, $5)`, district, schools, starts, cats, values)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (period, error) {
		p := period{kind: "term"}
		return p, r.Scan(&p.start)
	})
	return out, database.MapError(err)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// RebuildAll rebuilds every district (the nightly task).
func (s *Service) RebuildAll(ctx context.Context) error {
	var districts []uuid.UUID
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT rollup_districts()`)
		if err != nil {
			return database.MapError(err)
		}
		districts, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		return database.MapError(err)
	})
	if err != nil {
		return err
	}
	for _, d := range districts {
		if err := s.Rebuild(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// Start is the first day of the period of kind holding day (China dates): weeks from
// Monday, months, and terms from 1 February and 1 August (as rollup_period_start).
func Start(kind string, day time.Time) time.Time {
	y, m, d := day.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch kind {
	case "week":
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		return t.AddDate(0, 0, -wd)
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	default:
		switch {
		case m >= 2 && m <= 7:
			return time.Date(y, 2, 1, 0, 0, 0, 0, time.UTC)
		case m == 1:
			return time.Date(y-1, 8, 1, 0, 0, 0, 0, time.UTC)
		default:
			return time.Date(y, 8, 1, 0, 0, 0, 0, time.UTC)
		}
	}
}
