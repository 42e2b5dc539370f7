package rollup

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
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
}

// Measures are the published measures.
var Measures = []Measure{
	{"sessions_channel", true, true},
	{"sessions_category", false, true},
	{"case_files_tier", true, false},
	{"screening_band", true, true},
	{"crises_level", true, true},
	{"crises_ack", true, true},
	{"referrals_status", true, true},
	{"referrals_feedback", true, true},
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
	Categories []string `json:"categories"`
	Periods    []Period `json:"periods"`
}

type cellKey struct {
	period, kind, key, category string
}

type stored struct {
	students, value int64
	schools         int
}

// Threshold returns the district's suppression threshold (default 5).
func Threshold(ctx context.Context, tx pgx.Tx, district uuid.UUID) (int, error) {
	k := suppress.DefaultThreshold
	err := tx.QueryRow(ctx, `SELECT threshold FROM rollup_settings WHERE district_id = $1`, district).Scan(&k)
	if errors.Is(err, pgx.ErrNoRows) {
		return suppress.DefaultThreshold, nil
	}
	return k, database.MapError(err)
}

// Publish builds the published view of a query for district staff. The table that is
// suppressed holds every row kind, the district row and — for flows by month or term —
// the whole term hierarchy, so that no two publications can be subtracted to recover a
// suppressed count.
func (s *Service) Publish(ctx context.Context, a scope.Actor, district uuid.UUID, q Query) (Report, error) {
	mi := slices.IndexFunc(Measures, func(m Measure) bool { return m.Name == q.Measure })
	var f []fault.FieldError
	if mi < 0 {
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
	m := Measures[mi]
	out := Report{Measure: m.Name, PeriodKind: q.PeriodKind, Categories: []string{}, Periods: []Period{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		k, err := Threshold(ctx, tx, district)
		if err != nil {
			return err
		}
		out.Threshold = k
		// The periods asked for, and for flows by month or term the whole terms around them.
		kinds := []string{q.PeriodKind}
		from, to := Start(q.PeriodKind, q.From), q.To
		if m.OverTime && q.PeriodKind != "week" {
			kinds = []string{"month", "term"}
			from = Start("term", q.From)
			to = Start("term", q.To).AddDate(0, 6, -1)
		}
		rows, err := tx.Query(ctx, `SELECT c.period_kind, c.period_start, c.school_id, coalesce(sc.name, ''), c.grade, c.gender, c.category, c.students, c.value, c.schools
			FROM rollup_cells c LEFT JOIN schools sc ON sc.id = c.school_id
			WHERE c.district_id = $1 AND c.measure = $2 AND c.period_kind = ANY ($3) AND c.period_start >= $4 AND c.period_start <= $5
			  AND (c.school_id = $6 OR (c.grade = '' AND c.gender = '')) AND NOT (c.grade <> '' AND c.gender <> '')`,
			district, m.Name, kinds, from, to, AllSchools)
		if err != nil {
			return database.MapError(err)
		}
		cells := map[cellKey]stored{}
		labels := map[string]string{}
		periodSet := map[string]string{} // period id → kind
		rowSet := map[[2]string]bool{}
		cats := map[string]bool{}
		for rows.Next() {
			var kind, grade, gender, category, schoolName string
			var start time.Time
			var school uuid.UUID
			var st stored
			if err := rows.Scan(&kind, &start, &school, &schoolName, &grade, &gender, &category, &st.students, &st.value, &st.schools); err != nil {
				rows.Close()
				return database.MapError(err)
			}
			pid := kind + "/" + start.Format(time.DateOnly)
			periodSet[pid] = kind
			var rk, key string
			switch {
			case school != AllSchools:
				rk, key = "school", school.String()
				labels[key] = schoolName
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
		rowList = append(rowList, [2]string{"district", ""})
		order := map[string]int{"district": 0, "school": 1, "grade": 2, "gender": 3}
		sort.Slice(rowList, func(i, j int) bool {
			if rowList[i][0] != rowList[j][0] {
				return order[rowList[i][0]] < order[rowList[j][0]]
			}
			li, lj := labels[rowList[i][1]]+rowList[i][1], labels[rowList[j][1]]+rowList[j][1]
			return li < lj
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
		total := "\x00total"
		for _, p := range periods {
			for _, r := range rowList {
				var sum int64
				for _, c := range out.Categories {
					st := cells[cellKey{p, r[0], r[1], c}]
					// Hidden when fewer than k students stand behind it or one school makes it.
					single := (st.students > 0 && st.students < int64(k)) || (r[0] != "school" && st.schools == 1 && st.value > 0)
					cell(cellKey{p, r[0], r[1], c}, st.value, single)
					sum += st.value
				}
				if m.ByCategory {
					tot := cell(cellKey{p, r[0], r[1], total}, sum, false)
					parts := []int{}
					for _, c := range out.Categories {
						parts = append(parts, index[cellKey{p, r[0], r[1], c}])
					}
					if len(parts) > 0 {
						t.Lines = append(t.Lines, suppress.Line{Total: tot, Parts: parts})
					}
				}
			}
			cols := slices.Clone(out.Categories)
			if m.ByCategory {
				cols = append(cols, total)
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
		if m.OverTime && q.PeriodKind != "week" {
			for _, p := range periods {
				if periodSet[p] != "term" {
					continue
				}
				start, _ := time.Parse(time.DateOnly, p[len("term/"):])
				for _, r := range rowList {
					cols := slices.Clone(out.Categories)
					if m.ByCategory {
						cols = append(cols, total)
					}
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
		marks, err := suppress.Suppress(t, int64(k))
		if err != nil {
			return fault.Wrap(err, "suppress")
		}
		for _, p := range periods {
			if periodSet[p] != q.PeriodKind {
				continue
			}
			start := p[len(q.PeriodKind)+1:]
			if st, _ := time.Parse(time.DateOnly, start); st.Before(Start(q.PeriodKind, q.From)) || st.After(q.To) {
				continue
			}
			per := Period{Start: start, Rows: []Row{}}
			for _, r := range rowList {
				row := Row{Kind: r[0], Key: r[1], Label: labels[r[1]], Cells: []string{}}
				if r[0] == "district" {
					row.Label = ""
				} else if r[0] != "school" {
					row.Label = r[1]
				}
				for _, c := range out.Categories {
					i := index[cellKey{p, r[0], r[1], c}]
					row.Cells = append(row.Cells, suppress.Label(t.Cells[i].Value, marks[i], int64(k)))
				}
				if m.ByCategory {
					i := index[cellKey{p, r[0], r[1], total}]
					row.Total = suppress.Label(t.Cells[i].Value, marks[i], int64(k))
				}
				per.Rows = append(per.Rows, row)
			}
			out.Periods = append(out.Periods, per)
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

// SaveSettings sets the district's suppression threshold: never below 3.
func (s *Service) SaveSettings(ctx context.Context, a scope.Actor, district uuid.UUID, in Settings) (Settings, error) {
	if in.Threshold < suppress.MinThreshold || in.Threshold > 50 {
		return Settings{}, fault.Validation(fault.Field("threshold", "out_of_range", "between 3 and 50"))
	}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE rollup_settings SET threshold = $2, updated_by = $3, updated_at = now() WHERE district_id = $1`, district, in.Threshold, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO rollup_settings (district_id, threshold, updated_by) VALUES ($1, $2, $3)`, district, in.Threshold, a.UserID); err != nil {
				return database.MapError(err)
			}
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "rollup_settings.update", ObjectType: "district", ObjectID: district.String()})
	})
	return in, err
}
