package program

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Compliance statuses.
const (
	Met     = "met"
	OnTrack = "on_track"
	AtRisk  = "at_risk"
	Missed  = "missed"
)

// Status is the compliance status of an indicator with value against target on day
// today of a term running from start to end (both inclusive):
//   - met: the value reaches the target (at any time);
//   - missed: the term is over and it does not;
//   - counts and hours: on track while the value reaches the whole part of the target
//     pro rata of the days elapsed, at risk below it;
//   - percentages: on track from 90 % of the target, at risk below;
//   - yes/no: on track during the first three quarters of the term, then at risk;
//   - the counseling room's weekly opening hours and response rate: on track from 90 %
//     of the target, at risk below.
func Status(kind string, value, target float64, start, end, today time.Time) string {
	if value >= target {
		return Met
	}
	if today.After(end) {
		return Missed
	}
	total := end.Sub(start).Hours()/24 + 1
	elapsed := math.Max(0, math.Min(total, today.Sub(start).Hours()/24+1))
	if today.Before(start) {
		elapsed = 0
	}
	frac := elapsed / total
	switch kind {
	case "percentage":
		if value >= target*0.9 {
			return OnTrack
		}
	case "yes_no":
		if frac <= 0.75 {
			return OnTrack
		}
	case RoomOpenHours, RoomResponseRate: // a weekly average and a share: like percentages
		if value >= target*0.9 {
			return OnTrack
		}
	default:
		if value >= math.Floor(target*frac+1e-9) {
			return OnTrack
		}
	}
	return AtRisk
}

// Cell is the compliance of one school with one indicator.
type Cell struct {
	Code   string  `json:"code"`
	Kind   string  `json:"kind"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Status string  `json:"status"`
}

// Row is one school's compliance with every indicator of a plan.
type Row struct {
	SchoolID   uuid.UUID `json:"school_id"`
	SchoolName string    `json:"school_name"`
	Cells      []Cell    `json:"cells"`
}

// Matrix is the district's schools × indicators view of a plan.
type Matrix struct {
	Plan  Plan   `json:"plan"`
	Today string `json:"today"`
	Rows  []Row  `json:"rows"`
}

type key struct {
	school uuid.UUID
	what   string
}

// compute reads the data behind every indicator of p for the schools and rates it.
func compute(ctx context.Context, tx pgx.Tx, district uuid.UUID, p Plan, schools []uuid.UUID, today time.Time) (map[uuid.UUID][]Cell, error) {
	counts, hours := map[key]float64{}, map[key]float64{}
	rows, err := tx.Query(ctx, `SELECT school_id, type, count(*), coalesce(sum(hours), 0)::float8 FROM activities
		WHERE district_id = $1 AND term_id = $2 AND school_id = ANY ($3) GROUP BY school_id, type`, district, p.TermID, schools)
	if err != nil {
		return nil, database.MapError(err)
	}
	for rows.Next() {
		var k key
		var n, h float64
		if err := rows.Scan(&k.school, &k.what, &n, &h); err != nil {
			return nil, database.MapError(err)
		}
		counts[k], hours[k] = n, h
	}
	if err := rows.Err(); err != nil {
		return nil, database.MapError(err)
	}
	// Opening hours of the counseling room: the latest weekly hours recorded in the term.
	rows, err = tx.Query(ctx, `SELECT DISTINCT ON (school_id) school_id, hours::float8 FROM activities
		WHERE district_id = $1 AND term_id = $2 AND school_id = ANY ($3) AND type = 'room_hours'
		ORDER BY school_id, held_on DESC, recorded_at DESC`, district, p.TermID, schools)
	if err != nil {
		return nil, database.MapError(err)
	}
	for rows.Next() {
		var k key
		var h float64
		if err := rows.Scan(&k.school, &h); err != nil {
			return nil, database.MapError(err)
		}
		k.what = "room_hours"
		hours[k] = h
	}
	if err := rows.Err(); err != nil {
		return nil, database.MapError(err)
	}
	// Peer-liaison trainings and meetings of the term's days (internal/program/liaison.go).
	if err := liaisonFigures(ctx, tx, district, p.Term, schools, counts, hours); err != nil {
		return nil, err
	}
	evidence := map[key]float64{}
	rows, err = tx.Query(ctx, `SELECT school_id, indicator_code, count(*) FROM program_evidence
		WHERE district_id = $1 AND plan_id = $2 AND school_id = ANY ($3) GROUP BY school_id, indicator_code`, district, p.ID, schools)
	if err != nil {
		return nil, database.MapError(err)
	}
	for rows.Next() {
		var k key
		var n float64
		if err := rows.Scan(&k.school, &k.what, &n); err != nil {
			return nil, database.MapError(err)
		}
		evidence[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, database.MapError(err)
	}
	percent := map[key]float64{}
	rows, err = tx.Query(ctx, `SELECT h.school_id, count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM memberships m
			WHERE m.school_id = h.school_id AND m.homeroom_id = h.id AND m.role = 'peer_liaison'))
		FROM org_units h WHERE h.district_id = $1 AND h.school_id = ANY ($2) AND h.kind = 'homeroom' GROUP BY h.school_id`, district, schools)
	if err != nil {
		return nil, database.MapError(err)
	}
	for rows.Next() {
		var school uuid.UUID
		var all, covered float64
		if err := rows.Scan(&school, &all, &covered); err != nil {
			return nil, database.MapError(err)
		}
		if all > 0 {
			percent[key{school, "liaison_coverage"}] = math.Round(covered/all*1000) / 10
		}
	}
	if err := rows.Err(); err != nil {
		return nil, database.MapError(err)
	}
	start, end := p.Term.bounds()
	if err := barometerWeeks(ctx, tx, district, schools, start, end, today, percent); err != nil {
		return nil, err
	}
	room := map[key]float64{}
	if err := roomIndicators(ctx, tx, p, schools, start, end, today, room); err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]Cell{}
	for _, sc := range schools {
		cells := make([]Cell, 0, len(p.Indicators))
		for _, in := range p.Indicators {
			var v float64
			switch in.Kind {
			case "activity_count":
				v = counts[key{sc, in.ActivityType}]
			case "hours":
				v = hours[key{sc, in.ActivityType}]
			case "percentage":
				v = percent[key{sc, in.Metric}]
			case "yes_no":
				if evidence[key{sc, in.Code}] > 0 {
					v = 1
				}
			case RoomOpenHours, RoomResponseRate:
				v = room[key{sc, in.Kind}]
			}
			cells = append(cells, Cell{Code: in.Code, Kind: in.Kind, Value: v, Target: in.Target, Status: Status(in.Kind, v, in.Target, start, end, today)})
		}
		out[sc] = cells
	}
	return out, nil
}

// weekStart is the Monday of the week of day d.
func weekStart(d time.Time) time.Time { return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) }

// barometerWeeks sets, per school, the share of barometers filed of those due: one per
// homeroom with a peer liaison and week of the term up to this week (100 when none is due yet).
func barometerWeeks(ctx context.Context, tx pgx.Tx, district uuid.UUID, schools []uuid.UUID, start, end, today time.Time, percent map[key]float64) error {
	first, last := weekStart(start), weekStart(end)
	if t := weekStart(today); t.Before(last) {
		last = t
	}
	weeks := 0
	if !last.Before(first) {
		weeks = int(last.Sub(first).Hours()/24/7) + 1
	}
	rows, err := tx.Query(ctx, `SELECT s.id,
			(SELECT count(DISTINCT m.homeroom_id) FROM memberships m WHERE m.school_id = s.id AND m.role = 'peer_liaison' AND m.homeroom_id IS NOT NULL),
			(SELECT count(*) FROM barometer_reports b WHERE b.district_id = $1 AND b.school_id = s.id AND b.week_start BETWEEN $3::date AND $4::date)
		FROM unnest($2::uuid[]) AS s (id)`, district, schools, first.Format(time.DateOnly), last.Format(time.DateOnly))
	if err != nil {
		return database.MapError(err)
	}
	for rows.Next() {
		var school uuid.UUID
		var homerooms, filed float64
		if err := rows.Scan(&school, &homerooms, &filed); err != nil {
			return database.MapError(err)
		}
		due := homerooms * float64(weeks)
		v := 100.0
		if due > 0 {
			v = math.Min(100, math.Round(filed/due*1000)/10)
		}
		percent[key{school, "barometer_weeks"}] = v
	}
	return database.MapError(rows.Err())
}

// targetSchools lists the schools a published plan currently addresses that have their task.
func targetSchools(ctx context.Context, tx pgx.Tx, district uuid.UUID, p Plan) ([]Row, error) {
	rows, err := tx.Query(ctx, `SELECT s.id, s.name FROM plan_tasks k JOIN schools s ON s.district_id = k.district_id AND s.id = k.school_id
		WHERE k.district_id = $1 AND k.plan_id = $2 AND ($3 OR s.id = ANY ($4)) ORDER BY s.name`, district, p.ID, p.AllSchools, p.SchoolIDs)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Row, error) {
		var x Row
		return x, r.Scan(&x.SchoolID, &x.SchoolName)
	})
	return out, database.MapError(err)
}

// Compliance is the district's matrix of a plan: each target school × each indicator.
func (s *Service) Compliance(ctx context.Context, a scope.Actor, district, id uuid.UUID) (Matrix, error) {
	today := s.today()
	out := Matrix{Today: today.Format(time.DateOnly), Rows: []Row{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out.Plan, err = plan(ctx, tx, district, id); err != nil {
			return err
		}
		if out.Plan.Status != "published" {
			return nil
		}
		rows, err := targetSchools(ctx, tx, district, out.Plan)
		if err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.SchoolID
		}
		cells, err := compute(ctx, tx, district, out.Plan, ids, today)
		if err != nil {
			return err
		}
		for i := range rows {
			rows[i].Cells = cells[rows[i].SchoolID]
		}
		out.Rows = rows
		return nil
	})
	return out, err
}

// SchoolPlan is a school's task: the plan and the school's compliance with it.
type SchoolPlan struct {
	Plan  Plan   `json:"plan"`
	Cells []Cell `json:"cells"`
}

// SchoolPlanDetail adds what the compliance is computed from: the term's activities and
// the evidence of yes/no indicators (the district's drill-down).
type SchoolPlanDetail struct {
	SchoolPlan
	Today      string     `json:"today"`
	Activities []Activity `json:"activities"`
	Evidence   []Evidence `json:"evidence"`
}

const schoolPlanWhere = `p.status = 'published' AND (p.all_schools OR $1 = ANY (p.school_ids))
	AND EXISTS (SELECT 1 FROM plan_tasks k WHERE k.school_id = $1 AND k.plan_id = p.id AND k.district_id = p.district_id)`

// SchoolPlans lists the school's tasks: the published plans addressed to it, with its compliance.
func (s *Service) SchoolPlans(ctx context.Context, a scope.Actor, school uuid.UUID) ([]SchoolPlan, error) {
	today := s.today()
	out := []SchoolPlan{}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		list, err := plans(ctx, tx, schoolPlanWhere, school)
		if err != nil {
			return err
		}
		for _, p := range list {
			cells, err := compute(ctx, tx, a.DistrictID, p, []uuid.UUID{school}, today)
			if err != nil {
				return err
			}
			out = append(out, SchoolPlan{Plan: p, Cells: cells[school]})
		}
		return nil
	})
	return out, err
}

// SchoolPlanDetail reads one task of the school with the data behind its compliance.
func (s *Service) SchoolPlanDetail(ctx context.Context, a scope.Actor, school, id uuid.UUID) (SchoolPlanDetail, error) {
	today := s.today()
	out := SchoolPlanDetail{Today: today.Format(time.DateOnly)}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		list, err := plans(ctx, tx, schoolPlanWhere+` AND p.id = $2`, school, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		out.Plan = list[0]
		cells, err := compute(ctx, tx, a.DistrictID, out.Plan, []uuid.UUID{school}, today)
		if err != nil {
			return err
		}
		out.Cells = cells[school]
		if out.Activities, err = activities(ctx, tx, school, `a.term_id = $2`, out.Plan.TermID); err != nil {
			return err
		}
		out.Evidence, err = evidenceOf(ctx, tx, school, `e.plan_id = $2`, id)
		return err
	})
	return out, err
}
