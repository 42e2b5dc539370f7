package rollup

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/outbox"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/suppress"
)

// Measure describes a published measure.
type Measure struct {
	Name string `json:"name"`
	// ByCategory: the categories partition the measure, so a row total is the sum of its
	// categories (sessions have one channel; a session's concern categories do not).
	ByCategory bool `json:"additive_categories"`
	// OverTime: a term is the sum of its months (flows; not the tier stock).
	OverTime bool `json:"additive_over_time"`
	// Unit is what a count counts (students, homeroom_weeks, reports, requests,
	// activities, attendees, indicators, minutes).
	Unit string `json:"unit"`
	// Suppressed: small cells are suppressed. Measures about students, homerooms (the
	// barometer) and room requests are; records of a school's own work (activities,
	// opening hours, plan compliance) are published as they are — they single out no
	// child, and the district needs them exact to supervise the schools.
	Suppressed bool `json:"suppressed"`
}

// Measures are the published measures.
var Measures = []Measure{
	{"sessions_channel", true, true, "students", true},
	{"sessions_category", false, true, "students", true},
	{"case_files_tier", true, false, "students", true},
	{"screening_band", true, true, "students", true},
	{"screening_completion", true, true, "students", true},
	{"screening_campaign", true, true, "students", true},
	{"crises_level", true, true, "students", true},
	{"crises_ack", true, true, "students", true},
	{"referrals_status", true, true, "students", true},
	{"referrals_feedback", true, true, "students", true},
	{"barometer_submission", true, true, "homeroom_weeks", true},
	{"barometer_mood", true, true, "reports", true},
	{"room_requests", true, true, "requests", true},
	{"activities_type", true, true, "activities", false},
	{"activities_attendance", true, true, "attendees", false},
	{"room_hours", false, true, "minutes", false},
	{"plan_compliance", true, false, "indicators", false},
}

// MeasureNamed returns the measure called name.
func MeasureNamed(name string) (Measure, bool) {
	i := slices.IndexFunc(Measures, func(m Measure) bool { return m.Name == name })
	if i < 0 {
		return Measure{}, false
	}
	return Measures[i], true
}

// Query asks for one measure over a range of periods of one kind.
type Query struct {
	Measure    string
	PeriodKind string
	From, To   time.Time // dates, inclusive of the periods that start in [From, To]
}

// Row is one line of a published table: a school, a grade, a gender or the district.
type Row struct {
	Kind  string   `json:"kind"` // school, grade, gender, district
	Key   string   `json:"key"`  // school id, grade name, gender
	Label string   `json:"label"`
	Cells []string `json:"cells"` // per category: a number, "<k" or "*"
	Total string   `json:"total,omitempty"`
}

// Period is the table of one period.
type Period struct {
	Start string `json:"start"`
	Rows  []Row  `json:"rows"`
}

// Report is a published rollup: counts with every small count and its complements
// suppressed, consistently across the schools, grades, genders, the district total and
// the term/month hierarchy.
type Report struct {
	Measure    string   `json:"measure"`
	PeriodKind string   `json:"period_kind"`
	Threshold  int      `json:"threshold"`
	Unit       string   `json:"unit"`
	Suppressed bool     `json:"suppressed"`
	Categories []string `json:"categories"`
	// CategoryLabels names categories that are ids (screening_campaign: campaign titles).
	CategoryLabels map[string]string `json:"category_labels,omitempty"`
	Periods        []Period          `json:"periods"`
}

type cellKey struct {
	period, kind, key, category string
}

type stored struct {
	students, value int64
	schools         int
}

// totalCategory is the category of a row total in rollup_published.
const totalCategory = "#total"

// Threshold returns the district's suppression threshold (default 5).
func Threshold(ctx context.Context, tx pgx.Tx, district uuid.UUID) (int, error) {
	k := suppress.DefaultThreshold
	err := tx.QueryRow(ctx, `SELECT threshold FROM rollup_settings WHERE district_id = $1`, district).Scan(&k)
	if errors.Is(err, pgx.ErrNoRows) {
		return suppress.DefaultThreshold, nil
	}
	return k, database.MapError(err)
}

// unit is a set of periods of one measure suppressed together: one week; for flows, a
// term with its months (a term is the sum of its months); for stocks, one month or term.
// Units share no cell and no published sum, so each can be suppressed on its own.
type unit struct {
	district uuid.UUID
	measure  string
	kinds    string // "week", "month", "term" or "month,term"
	from, to time.Time
}

func unitOf(district uuid.UUID, m Measure, kind string, start time.Time) unit {
	switch {
	case kind == "week":
		return unit{district, m.Name, "week", start, start}
	case m.OverTime:
		ts := Start("term", start)
		return unit{district, m.Name, "month,term", ts, ts.AddDate(0, 6, -1)}
	default:
		return unit{district, m.Name, kind, start, start}
	}
}

// cellRow is one stored cell of a unit.
type cellRow struct {
	kind                    string
	start                   time.Time
	school                  uuid.UUID
	grade, gender, category string
	st                      stored
}

// labelRow is one published label.
type labelRow struct {
	kind            string
	start           time.Time
	rowKind, rowKey string
	category, label string
}

// suppressUnit suppresses one unit's cells and returns its labels (zero labels are not
// stored: a missing label reads as "0").
func suppressUnit(u unit, in []cellRow, k int) ([]labelRow, error) {
	m, _ := MeasureNamed(u.measure)
	var err error
	cells := map[cellKey]stored{}
	periodSet := map[string]string{} // period id → kind
	rowSet := map[[2]string]bool{}
	cats := map[string]bool{}
	for _, c := range in {
		kind, start, school, grade, gender, category, st := c.kind, c.start, c.school, c.grade, c.gender, c.category, c.st
		pid := kind + "/" + start.Format(time.DateOnly)
		periodSet[pid] = kind
		var rk, key string
		switch {
		case school != AllSchools:
			rk, key = "school", school.String()
		case grade != "":
			rk, key = "grade", grade
		case gender != "":
			rk, key = "gender", gender
		default:
			rk, key = "district", ""
		}
		rowSet[[2]string{rk, key}] = true
		cats[category] = true
		cells[cellKey{pid, rk, key, category}] = st
	}
	var categories []string
	for c := range cats {
		categories = append(categories, c)
	}
	sort.Strings(categories)
	var rowList [][2]string
	for r := range rowSet {
		rowList = append(rowList, r)
	}
	rowList = append(rowList, [2]string{"district", ""})
	sort.Slice(rowList, func(i, j int) bool {
		if rowList[i][0] != rowList[j][0] {
			return rowList[i][0] < rowList[j][0]
		}
		return rowList[i][1] < rowList[j][1]
	})
	rowList = slices.Compact(rowList)
	var periods []string
	for p := range periodSet {
		periods = append(periods, p)
	}
	sort.Strings(periods)
	// Build the table: a cell per (period, row, category) and row totals.
	t := suppress.Table{}
	index := map[cellKey]int{}
	cell := func(ck cellKey, v int64, single bool) int {
		if i, ok := index[ck]; ok {
			return i
		}
		index[ck] = len(t.Cells)
		t.Cells = append(t.Cells, suppress.Cell{Value: v})
		t.Single = append(t.Single, single)
		return index[ck]
	}
	cols := slices.Clone(categories)
	if m.ByCategory {
		cols = append(cols, totalCategory)
	}
	for _, p := range periods {
		for _, r := range rowList {
			var sum int64
			for _, c := range categories {
				st := cells[cellKey{p, r[0], r[1], c}]
				// Hidden when fewer than k students stand behind it or one school makes it.
				single := (st.students > 0 && st.students < int64(k)) || (r[0] != "school" && st.schools == 1 && st.value > 0)
				cell(cellKey{p, r[0], r[1], c}, st.value, single)
				sum += st.value
			}
			if m.ByCategory {
				tot := cell(cellKey{p, r[0], r[1], totalCategory}, sum, false)
				parts := []int{}
				for _, c := range categories {
					parts = append(parts, index[cellKey{p, r[0], r[1], c}])
				}
				if len(parts) > 0 {
					t.Lines = append(t.Lines, suppress.Line{Total: tot, Parts: parts})
				}
			}
		}
		// The district is the sum of its schools, of its grades and of its genders.
		for _, c := range cols {
			dist := index[cellKey{p, "district", "", c}]
			for _, kind := range []string{"school", "grade", "gender"} {
				var parts []int
				for _, r := range rowList {
					if r[0] == kind {
						parts = append(parts, index[cellKey{p, r[0], r[1], c}])
					}
				}
				if len(parts) > 0 {
					t.Lines = append(t.Lines, suppress.Line{Total: dist, Parts: parts})
				}
			}
		}
	}
	// A term is the sum of its months (flows only).
	if u.kinds == "month,term" {
		for _, p := range periods {
			if periodSet[p] != "term" {
				continue
			}
			start, _ := time.Parse(time.DateOnly, p[len("term/"):])
			for _, r := range rowList {
				for _, c := range cols {
					var parts []int
					for i := 0; i < 6; i++ {
						mp := "month/" + start.AddDate(0, i, 0).Format(time.DateOnly)
						if j, ok := index[cellKey{mp, r[0], r[1], c}]; ok {
							parts = append(parts, j)
						} else {
							parts = append(parts, cell(cellKey{mp, r[0], r[1], c}, 0, false))
						}
					}
					t.Lines = append(t.Lines, suppress.Line{Total: index[cellKey{p, r[0], r[1], c}], Parts: parts})
				}
			}
		}
	}
	marks := make([]suppress.Mark, len(t.Cells))
	if m.Suppressed {
		if marks, err = suppress.Suppress(t, int64(k)); err != nil {
			return nil, fault.Wrap(fmt.Errorf("%s %s %s: %w", u.measure, u.kinds, u.from.Format(time.DateOnly), err), "suppress")
		}
	}
	var out []labelRow
	for ck, i := range index {
		l := suppress.Label(t.Cells[i].Value, marks[i], int64(k))
		if l == "0" {
			continue
		}
		kind, start, _ := strings.Cut(ck.period, "/")
		st, _ := time.Parse(time.DateOnly, start)
		out = append(out, labelRow{kind, st, ck.kind, ck.key, ck.category, l})
	}
	return out, nil
}

// publishUnits suppresses the units of one district and measure again and replaces their
// labels: one read of their cells, one write of their labels.
func publishUnits(ctx context.Context, tx pgx.Tx, district uuid.UUID, measure string, units []unit, k int) error {
	kinds := make([]string, len(units))
	froms := make([]time.Time, len(units))
	tos := make([]time.Time, len(units))
	for i, u := range units {
		kinds[i], froms[i], tos[i] = u.kinds, u.from, u.to
	}
	rows, err := tx.Query(ctx, `SELECT unit, period_kind, period_start, school_id, grade, gender, category, students, value, schools
		FROM rollup_units_cells($1, $2, $3, $4, $5)`, district, measure, kinds, froms, tos)
	if err != nil {
		return database.MapError(err)
	}
	byUnit := make([][]cellRow, len(units))
	for rows.Next() {
		var n int
		var c cellRow
		if err := rows.Scan(&n, &c.kind, &c.start, &c.school, &c.grade, &c.gender, &c.category, &c.st.students, &c.st.value, &c.st.schools); err != nil {
			rows.Close()
			return database.MapError(err)
		}
		byUnit[n-1] = append(byUnit[n-1], c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return database.MapError(err)
	}
	// Units share no cell: suppress them in parallel (a full rebuild has ≈ 70 per measure).
	outs := make([][]labelRow, len(units))
	errs := make([]error, len(units))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, u := range units {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			outs[i], errs[i] = suppressUnit(u, byUnit[i], k)
		}()
	}
	wg.Wait()
	var pk, rks, keys, cs, labels []string
	var starts []time.Time
	for i := range units {
		if errs[i] != nil {
			return errs[i]
		}
		for _, l := range outs[i] {
			pk, starts, rks, keys, cs, labels = append(pk, l.kind), append(starts, l.start), append(rks, l.rowKind), append(keys, l.rowKey), append(cs, l.category), append(labels, l.label)
		}
	}
	_, err = tx.Exec(ctx, `SELECT rollup_put_published_units($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		district, measure, kinds, froms, tos, k, pk, starts, rks, keys, cs, labels)
	return database.MapError(err)
}

// publish rewrites the publication units of the touched district periods.
func publish(ctx context.Context, tx pgx.Tx, touched map[districtPeriod]bool) error {
	units := map[unit]bool{}
	for dp := range touched {
		for _, m := range Measures {
			if m.Name == "plan_compliance" && dp.kind != "term" {
				continue
			}
			units[unitOf(dp.district, m, dp.kind, dp.start)] = true
		}
	}
	thresholds := map[uuid.UUID]int{}
	list := make([]unit, 0, len(units))
	for u := range units {
		list = append(list, u)
	}
	// A stable order: the same locks in the same order in every run.
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.district != b.district {
			return a.district.String() < b.district.String()
		}
		if a.measure != b.measure {
			return a.measure < b.measure
		}
		if a.kinds != b.kinds {
			return a.kinds < b.kinds
		}
		return a.from.Before(b.from)
	})
	for i := 0; i < len(list); {
		j := i
		for j < len(list) && list[j].district == list[i].district && list[j].measure == list[i].measure {
			j++
		}
		d := list[i].district
		k, ok := thresholds[d]
		if !ok {
			if err := tx.QueryRow(ctx, `SELECT rollup_threshold($1)`, d).Scan(&k); err != nil {
				return database.MapError(err)
			}
			thresholds[d] = k
		}
		if err := publishUnits(ctx, tx, d, list[i].measure, list[i:j], k); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// Publish reads the published view of a query for district staff: the labels the
// rollup job precomputed (suppressed per unit, see unit), for the periods of the query.
func (s *Service) Publish(ctx context.Context, a scope.Actor, district uuid.UUID, q Query) (Report, error) {
	m, ok := MeasureNamed(q.Measure)
	var f []fault.FieldError
	if !ok {
		f = append(f, fault.Field("measure", "invalid_value", "not a published measure"))
	}
	if q.PeriodKind != "week" && q.PeriodKind != "month" && q.PeriodKind != "term" {
		f = append(f, fault.Field("period_kind", "invalid_value", "week, month or term"))
	}
	if q.From.IsZero() || q.To.IsZero() || q.To.Before(q.From) || q.To.Sub(q.From) > 3*366*24*time.Hour {
		f = append(f, fault.Field("from", "out_of_range", "a range of at most three years, from before to"))
	}
	if len(f) > 0 {
		return Report{}, fault.Validation(f...)
	}
	out := Report{Measure: m.Name, PeriodKind: q.PeriodKind, Unit: m.Unit, Suppressed: m.Suppressed, Categories: []string{}, Periods: []Period{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		k, err := Threshold(ctx, tx, district)
		if err != nil {
			return err
		}
		out.Threshold = k
		rows, err := tx.Query(ctx, `SELECT p.period_start, p.row_kind, p.row_key, coalesce(sc.name, ''), p.category, p.label
			FROM rollup_published p LEFT JOIN schools sc ON p.row_kind = 'school' AND sc.district_id = p.district_id AND sc.id::text = p.row_key
			WHERE p.district_id = $1 AND p.measure = $2 AND p.period_kind = $3 AND p.period_start >= $4 AND p.period_start <= $5`,
			district, m.Name, q.PeriodKind, Start(q.PeriodKind, q.From), q.To)
		if err != nil {
			return database.MapError(err)
		}
		labels := map[cellKey]string{}
		names := map[string]string{}
		periodSet := map[string]bool{}
		rowSet := map[[2]string]bool{{"district", ""}: true}
		cats := map[string]bool{}
		for rows.Next() {
			var start time.Time
			var rk, key, name, category, label string
			if err := rows.Scan(&start, &rk, &key, &name, &category, &label); err != nil {
				rows.Close()
				return database.MapError(err)
			}
			p := start.Format(time.DateOnly)
			periodSet[p] = true
			rowSet[[2]string{rk, key}] = true
			if rk == "school" {
				names[key] = name
			}
			if category != totalCategory {
				cats[category] = true
			}
			labels[cellKey{p, rk, key, category}] = label
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return database.MapError(err)
		}
		for c := range cats {
			out.Categories = append(out.Categories, c)
		}
		sort.Strings(out.Categories)
		var rowList [][2]string
		for r := range rowSet {
			rowList = append(rowList, r)
		}
		order := map[string]int{"district": 0, "school": 1, "grade": 2, "gender": 3}
		sort.Slice(rowList, func(i, j int) bool {
			if rowList[i][0] != rowList[j][0] {
				return order[rowList[i][0]] < order[rowList[j][0]]
			}
			return names[rowList[i][1]]+rowList[i][1] < names[rowList[j][1]]+rowList[j][1]
		})
		var periods []string
		for p := range periodSet {
			periods = append(periods, p)
		}
		sort.Strings(periods)
		get := func(ck cellKey) string {
			if l, ok := labels[ck]; ok {
				return l
			}
			return "0"
		}
		for _, p := range periods {
			per := Period{Start: p, Rows: []Row{}}
			for _, r := range rowList {
				row := Row{Kind: r[0], Key: r[1], Cells: []string{}}
				switch r[0] {
				case "school":
					row.Label = names[r[1]]
				case "grade", "gender":
					row.Label = r[1]
				}
				for _, c := range out.Categories {
					row.Cells = append(row.Cells, get(cellKey{p, r[0], r[1], c}))
				}
				if m.ByCategory {
					row.Total = get(cellKey{p, r[0], r[1], totalCategory})
				}
				per.Rows = append(per.Rows, row)
			}
			out.Periods = append(out.Periods, per)
		}
		if m.Name == "screening_campaign" {
			out.CategoryLabels = map[string]string{}
			rows, err := tx.Query(ctx, `SELECT id::text, title FROM campaigns WHERE district_id = $1`, district)
			if err != nil {
				return database.MapError(err)
			}
			titles := map[string]string{}
			for rows.Next() {
				var id, title string
				if err := rows.Scan(&id, &title); err != nil {
					rows.Close()
					return database.MapError(err)
				}
				titles[id] = title
			}
			rows.Close()
			for _, c := range out.Categories {
				id, status, _ := strings.Cut(c, ":")
				if t, ok := titles[id]; ok {
					out.CategoryLabels[c] = t + ":" + status
				}
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "rollups.read", ObjectType: "district", ObjectID: district.String(), Reason: m.Name + "/" + q.PeriodKind})
	})
	return out, err
}

// Settings are the district's rollup settings.
type Settings struct {
	Threshold int `json:"threshold"`
}

// GetSettings returns the district's suppression threshold.
func (s *Service) GetSettings(ctx context.Context, a scope.Actor, district uuid.UUID) (Settings, error) {
	var out Settings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		out.Threshold, err = Threshold(ctx, tx, district)
		return err
	})
	return out, err
}

// SaveSettings sets the district's suppression threshold: never below 3. A change
// withdraws the district's publication and queues its rebuild, so no label made with
// the old threshold is served after the change.
func (s *Service) SaveSettings(ctx context.Context, a scope.Actor, district uuid.UUID, in Settings) (Settings, error) {
	if in.Threshold < suppress.MinThreshold || in.Threshold > 50 {
		return Settings{}, fault.Validation(fault.Field("threshold", "out_of_range", "between 3 and 50"))
	}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		old, err := Threshold(ctx, tx, district)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE rollup_settings SET threshold = $2, updated_by = $3, updated_at = now() WHERE district_id = $1`, district, in.Threshold, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO rollup_settings (district_id, threshold, updated_by) VALUES ($1, $2, $3)`, district, in.Threshold, a.UserID); err != nil {
				return database.MapError(err)
			}
		}
		if old != in.Threshold {
			if _, err := tx.Exec(ctx, `SELECT rollup_withdraw_published($1)`, district); err != nil {
				return database.MapError(err)
			}
			if _, err := outbox.Add(ctx, tx, a, TypeRebuild, map[string]string{"district_id": district.String()}, "low"); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "rollup_settings.update", ObjectType: "district", ObjectID: district.String()})
	})
	return in, err
}
