package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/jobrun"
	"github.com/xinqiao/xinqiao/internal/rollup"
	"github.com/xinqiao/xinqiao/internal/suppress"
)

// published reads a district's precomputed publication as the owner, one line per label.
func (w *world) published(district uuid.UUID) []string {
	var out []string
	w.ownerQuery(func(tx pgx.Tx) {
		rows, err := tx.Query(context.Background(), `SELECT measure, period_kind, period_start::text, row_kind, row_key, category, label, threshold
			FROM rollup_published WHERE district_id = $1 ORDER BY 1, 2, 3, 4, 5, 6`, district)
		if err != nil {
			w.t.Fatal(err)
		}
		for rows.Next() {
			var m, k, s, rk, key, c, l string
			var th int
			if err := rows.Scan(&m, &k, &s, &rk, &key, &c, &l, &th); err != nil {
				w.t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %s %s %s %s %s k=%d", m, k, s, rk, key, c, l, th))
		}
	})
	return out
}

// randomUnits writes, as the owner, random data of the newer measures in the district's
// schools over the last 300 days: a screening campaign with paper assessments, barometer
// reports, activities, public room requests, opening hours and closures.
func (w *world) randomUnits(rng *rand.Rand, district uuid.UUID) {
	ctx := context.Background()
	now := time.Now()
	w.ownerQuery(func(tx pgx.Tx) {
		admin := w.id(`SELECT user_id FROM memberships WHERE district_id = $1 AND scope_type = 'district' AND role = 'district_admin' LIMIT 1`, district)
		type school struct{ id, counselor uuid.UUID }
		rows, err := tx.Query(ctx, `SELECT sc.id, (SELECT user_id FROM memberships m WHERE m.school_id = sc.id AND m.role = 'counselor' LIMIT 1)
			FROM schools sc WHERE sc.district_id = $1 ORDER BY sc.id`, district)
		if err != nil {
			w.t.Fatal(err)
		}
		schools, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (school, error) {
			var s school
			return s, r.Scan(&s.id, &s.counselor)
		})
		if err != nil {
			w.t.Fatal(err)
		}
		ids := make([]uuid.UUID, len(schools))
		for i, s := range schools {
			ids[i] = s.id
		}
		// A campaign of PHQ-9 some time in the past; a third of the invited answer it.
		campaign := uuid.New()
		opens := now.Add(-time.Duration(20+rng.IntN(250*24)) * time.Hour)
		if _, err := tx.Exec(ctx, `INSERT INTO campaigns (id, district_id, title, school_ids, opens_at, closes_at, consent_rule, created_by)
			VALUES ($1, $2, '随机测查', $3, $4, $5, 'none', $6)`, campaign, district, ids, opens, opens.AddDate(0, 0, 14), admin); err != nil {
			w.t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO campaign_instruments (campaign_id, position, instrument_id) VALUES ($1, 1, $2)`, campaign, phq9ID); err != nil {
			w.t.Fatal(err)
		}
		bands := []string{"minimal", "mild", "moderate", "severe"}
		if _, err := tx.Exec(ctx, `INSERT INTO assessments (school_id, id, student_id, instrument_id, instrument_code, instrument_version, definition_md5,
				campaign_id, source, taken_at, answers, total, band, valid, recorded_by)
			SELECT s.school_id, gen_random_uuid(), s.id, i.id, i.code, i.version, md5(i.definition::text), $1, 'paper', $2, '\x00', 3, $3, true,
				(SELECT user_id FROM memberships m WHERE m.school_id = s.school_id AND m.role = 'counselor' LIMIT 1)
			FROM students s JOIN instruments i ON i.id = $4 WHERE s.school_id = ANY ($5) AND random() < 0.3`,
			campaign, opens.Add(time.Hour), bands[rng.IntN(len(bands))], phq9ID, ids); err != nil {
			w.t.Fatal(err)
		}
		var term uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT id FROM terms WHERE district_id = $1 AND name = 'rollup-random'`, district).Scan(&term); err != nil {
			term = uuid.New()
			if _, err := tx.Exec(ctx, `INSERT INTO terms (district_id, id, name, starts_on, ends_on) VALUES ($1, $2, 'rollup-random', $3, $4)`,
				district, term, now.AddDate(0, 0, -320), now.AddDate(0, 0, 30)); err != nil {
				w.t.Fatal(err)
			}
		}
		types := []string{"lecture", "group_session", "themed_month", "parent_event", "staff_training"}
		for _, s := range schools {
			// Barometer reports of random homerooms and weeks.
			for range rng.IntN(8) {
				week := rollup.Start("week", now.AddDate(0, 0, -rng.IntN(300)))
				if _, err := tx.Exec(ctx, `INSERT INTO barometer_reports (school_id, id, district_id, homeroom_id, week_start, liaison_id, mood)
					SELECT $1, gen_random_uuid(), $2, h.id, $3, $4, $5 FROM org_units h WHERE h.school_id = $1 AND h.kind = 'homeroom'
					ORDER BY random() LIMIT 1 ON CONFLICT DO NOTHING`, s.id, district, week, s.counselor, 1+rng.IntN(5)); err != nil {
					w.t.Fatal(err)
				}
			}
			for range rng.IntN(5) {
				typ := types[rng.IntN(len(types))]
				size := 10 + rng.IntN(300)
				if _, err := tx.Exec(ctx, `INSERT INTO activities (school_id, id, district_id, term_id, type, title, held_on, audience, audience_size, attendance, hours, recorded_by)
					VALUES ($1, $2, $3, $4, $5, '活动', $6, 'students', $7, $8, 2, $9)`, s.id, uuid.New(), district, term, typ,
					now.AddDate(0, 0, -rng.IntN(300)), size, rng.IntN(size+1), s.counselor); err != nil {
					w.t.Fatal(err)
				}
			}
			for range rng.IntN(6) {
				created := now.Add(-time.Duration(rng.IntN(300*24)) * time.Hour)
				var answered *time.Time
				status := "requested"
				if rng.IntN(4) > 0 {
					a := created.Add(time.Duration(rng.IntN(6*24)) * time.Hour)
					answered, status = &a, "declined"
				}
				if _, err := tx.Exec(ctx, `INSERT INTO appointments (school_id, id, client_kind, starts_at, ends_at, status, source, created_at, answered_at)
					VALUES ($1, $2, 'guardian', $3, $4, $5, 'public_request', $6, $7)`, s.id, uuid.New(), created.AddDate(0, 0, 3), created.AddDate(0, 0, 3).Add(time.Hour),
					status, created, answered); err != nil {
					w.t.Fatal(err)
				}
			}
			if rng.IntN(2) == 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO room_opening_hours (school_id, id, weekday, opens_min, closes_min) VALUES ($1, $2, $3, 480, 720)
					ON CONFLICT DO NOTHING`, s.id, uuid.New(), 1+rng.IntN(5)); err != nil {
					w.t.Fatal(err)
				}
			}
			if rng.IntN(3) == 0 {
				from := now.AddDate(0, 0, -rng.IntN(300))
				if _, err := tx.Exec(ctx, `INSERT INTO room_closures (school_id, id, starts_on, ends_on, label, created_by) VALUES ($1, $2, $3, $4, '假期', $5)`,
					s.id, uuid.New(), from, from.AddDate(0, 0, rng.IntN(10)), s.counselor); err != nil {
					w.t.Fatal(err)
				}
			}
		}
		if err := tx.Commit(ctx); err != nil {
			w.t.Fatal(err)
		}
	})
}

// TestRollupNewMeasuresAgainstAHandComputedFixture checks one school's week of the newer
// measures against counts worked out by hand.
func TestRollupNewMeasuresAgainstAHandComputedFixture(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	svc := &rollup.Service{DB: w.db.App}
	cst := time.FixedZone("CST", 8*3600)
	monday := rollup.Start("week", time.Now().In(cst).AddDate(0, 0, -21))
	at := func(days, hour int) time.Time {
		return time.Date(monday.Year(), monday.Month(), monday.Day(), hour, 0, 0, 0, cst).AddDate(0, 0, days)
	}
	counselor := w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'counselor' LIMIT 1`, s1.school)
	liaisonHomerooms := w.scalar(`SELECT count(DISTINCT homeroom_id) FROM memberships WHERE school_id = $1 AND role = 'peer_liaison' AND homeroom_id IS NOT NULL`, s1.school)
	enrolled := w.scalar(`SELECT count(*) FROM students WHERE school_id = $1 AND status = 'enrolled'`, s1.school)
	w.ownerQuery(func(tx pgx.Tx) {
		ctx := context.Background()
		term := uuid.New()
		exec := func(sql string, args ...any) {
			t.Helper()
			if _, err := tx.Exec(ctx, sql, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO terms (district_id, id, name, starts_on, ends_on) VALUES ($1, $2, 'fixture', $3, $4)`, s1.district, term, monday.AddDate(0, 0, -30), monday.AddDate(0, 0, 60))
		// Two lectures (100 and 50 attend) and a training (20) in the week.
		for _, a := range []struct {
			typ        string
			day, count int
		}{{"lecture", 0, 100}, {"lecture", 2, 50}, {"staff_training", 4, 20}} {
			exec(`INSERT INTO activities (school_id, id, district_id, term_id, type, title, held_on, audience, audience_size, attendance, hours, recorded_by)
				VALUES ($1, $2, $3, $4, $5, '活动', $6, 'students', 300, $7, 2, $8)`, s1.school, uuid.New(), s1.district, term, a.typ, at(a.day, 0), a.count, counselor)
		}
		// Requests: Monday → Wednesday (2 school days), Monday → Thursday (3), Friday of the
		// week before → Tuesday is in another week; Tuesday, never answered.
		for _, r := range []struct {
			created  int
			answered int // -1: never
		}{{0, 2}, {0, 3}, {1, -1}} {
			var answered *time.Time
			status := "requested"
			if r.answered >= 0 {
				a := at(r.answered, 10)
				answered, status = &a, "declined"
			}
			exec(`INSERT INTO appointments (school_id, id, client_kind, starts_at, ends_at, status, source, created_at, answered_at)
				VALUES ($1, $2, 'guardian', $3, $4, $5, 'public_request', $6, $7)`, s1.school, uuid.New(), at(r.created+7, 9), at(r.created+7, 10), status, at(r.created, 9), answered)
		}
		// Open Monday to Friday 8:00–12:00 and Saturday; closed on Wednesday of the week.
		exec(`DELETE FROM room_opening_hours WHERE school_id = $1`, s1.school)
		exec(`DELETE FROM room_closures WHERE school_id = $1`, s1.school)
		for d := 1; d <= 6; d++ {
			exec(`INSERT INTO room_opening_hours (school_id, id, weekday, opens_min, closes_min) VALUES ($1, $2, $3, 480, 720)`, s1.school, uuid.New(), d)
		}
		exec(`INSERT INTO room_closures (school_id, id, starts_on, ends_on, label, created_by) VALUES ($1, $2, $3, $3, '运动会', $4)`, s1.school, uuid.New(), at(2, 0), counselor)
		// The liaison's homeroom reports mood 4 this week.
		exec(`INSERT INTO barometer_reports (school_id, id, district_id, homeroom_id, week_start, liaison_id, mood) VALUES ($1, $2, $3, $4, $5, $6, 4)`,
			s1.school, uuid.New(), s1.district, s1.homeroom, monday, counselor)
		// A campaign of the whole school opens on Tuesday; the target student answers it.
		campaign := uuid.New()
		exec(`INSERT INTO campaigns (id, district_id, title, school_ids, opens_at, closes_at, consent_rule, created_by) VALUES ($1, $2, '测查', $3, $4, $5, 'none', $6)`,
			campaign, s1.district, []uuid.UUID{s1.school}, at(1, 9), at(8, 9), counselor)
		exec(`INSERT INTO campaign_instruments (campaign_id, position, instrument_id) VALUES ($1, 1, $2)`, campaign, phq9ID)
		exec(`INSERT INTO assessments (school_id, id, student_id, instrument_id, instrument_code, instrument_version, definition_md5, campaign_id, source, taken_at,
			answers, total, band, valid, recorded_by) SELECT $1, gen_random_uuid(), $2, id, code, version, md5(definition::text), $3, 'paper', $4, '\x00', 1, 'minimal', true, $5
			FROM instruments WHERE id = $6`, s1.school, s1.student, campaign, at(2, 9), counselor, phq9ID)
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := svc.Refresh(bg()); err != nil {
		t.Fatal(err)
	}
	get := func(measure, category string) string {
		var students, value int64
		found := true
		w.ownerQuery(func(tx pgx.Tx) {
			err := tx.QueryRow(context.Background(), `SELECT students, value FROM rollup_cells WHERE district_id = $1 AND school_id = $2 AND period_kind = 'week'
				AND period_start = $3 AND measure = $4 AND grade = '' AND gender = '' AND category = $5`, s1.district, s1.school, monday, measure, category).Scan(&students, &value)
			found = err == nil
		})
		if !found {
			return "none"
		}
		return fmt.Sprintf("%d/%d", students, value)
	}
	for _, c := range []struct{ measure, category, want string }{
		{"activities_type", "lecture", "2/2"},
		{"activities_type", "staff_training", "1/1"},
		{"activities_attendance", "lecture", "2/150"},
		{"activities_attendance", "staff_training", "1/20"},
		{"room_requests", "within_2_school_days", "1/1"},
		{"room_requests", "later", "1/1"},
		{"room_requests", "unanswered", "1/1"},
		// Four school days open (Wednesday closed, Saturday is no school day), 240 minutes each.
		{"room_hours", "open_minutes", "1/960"},
		{"room_hours", "school_days", "1/4"},
		{"barometer_mood", "4", "1/1"},
		{"barometer_submission", "submitted", "1/1"},
		{"barometer_submission", "missing", fmt.Sprintf("%d/%d", liaisonHomerooms-1, liaisonHomerooms-1)},
		{"screening_completion", "phq9:completed", "1/1"},
		{"screening_completion", "phq9:not_completed", fmt.Sprintf("%d/%d", enrolled-1, enrolled-1)},
	} {
		want := c.want
		if want == "0/0" {
			want = "none"
		}
		if got := get(c.measure, c.category); got != want {
			t.Errorf("%s %s: %s, want %s", c.measure, c.category, got, want)
		}
	}
	// A term is the sum of its months, also for the calendar measures.
	if n := w.scalar(`SELECT count(*) FROM (SELECT t.measure, t.category, t.value, (SELECT coalesce(sum(m.value), 0) FROM rollup_cells m WHERE m.school_id = t.school_id
		AND m.period_kind = 'month' AND m.period_start >= t.period_start AND m.period_start < t.period_start + interval '6 months' AND m.measure = t.measure
		AND m.category = t.category AND m.grade = '' AND m.gender = '') AS months FROM rollup_cells t WHERE t.school_id = $1 AND t.period_kind = 'term'
		AND t.grade = '' AND t.gender = '' AND t.measure IN ('barometer_submission', 'room_hours', 'activities_type', 'room_requests')) x WHERE x.value <> x.months`, s1.school); n != 0 {
		t.Errorf("%d term cells are not the sum of their months", n)
	}
	// Plan compliance: the rollup holds the compliance matrix's cells counted by status.
	plan := w.districtPlan(s1.district, true)
	if _, err := svc.Refresh(bg()); err != nil {
		t.Fatal(err)
	}
	m, err := w.programs.Compliance(bg(), w.districtAdminActor(s1.district), s1.district, plan.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, r := range m.Rows {
		for _, c := range r.Cells {
			want[c.Status]++
		}
	}
	termStart := rollup.Start("term", mustDate(plan.Term.StartsOn))
	for status, n := range want {
		got := w.scalar(`SELECT coalesce(sum(value), 0) FROM rollup_cells WHERE district_id = $1 AND school_id = $2 AND period_kind = 'term' AND period_start = $3
			AND measure = 'plan_compliance' AND category = $4`, s1.district, rollup.AllSchools, termStart, status)
		if got != n {
			t.Errorf("plan compliance %s: %d cells, the matrix has %d", status, got, n)
		}
	}
	// What the district reads: activities are exact (no suppression), room requests are not.
	admin := w.token("district.admin")
	q := func(measure string) rollup.Report {
		r := w.do(admin, "GET", fmt.Sprintf("/api/v1/districts/%s/rollups?measure=%s&period_kind=week&from=%s&to=%s", s1.district, measure,
			monday.Format(time.DateOnly), monday.Format(time.DateOnly)), nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", measure, r.status, r.body)
		}
		var rep rollup.Report
		r.decode(t, &rep)
		return rep
	}
	rep := q("activities_attendance")
	if rep.Suppressed || len(rep.Periods) != 1 || !strings.Contains(fmt.Sprint(rep.Periods[0].Rows), "150") {
		t.Errorf("activities: %+v", rep)
	}
	rep = q("room_requests")
	for _, row := range rep.Periods[0].Rows {
		if row.Kind == "school" && row.Key == s1.school.String() {
			for _, c := range row.Cells {
				if c != "<5" && c != "*" && c != "0" {
					t.Errorf("a single room request is shown: %v", row.Cells)
				}
			}
		}
	}
}

func mustDate(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestDifferencingAttackFailsAgainstWhatTheAPIServes rebuilds, from the served reports
// alone, every sum the public knows (row totals, the district over its schools, grades
// and genders, a term over its months) and runs the suppress package's attacker on it:
// no suppressed cell may be recovered.
func TestDifferencingAttackFailsAgainstWhatTheAPIServes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rng := rand.New(rand.NewPCG(21, uint64(time.Now().UnixNano())))
	w.randomHistory(rng, w.district, 40)
	w.randomUnits(rng, w.district)
	if _, err := (&rollup.Service{DB: w.db.App}).Refresh(bg()); err != nil {
		t.Fatal(err)
	}
	supervisor := w.token("district.supervisor")
	now := time.Now()
	termStart := rollup.Start("term", now)
	from, to := termStart.Format(time.DateOnly), termStart.AddDate(0, 6, -1).Format(time.DateOnly)
	suppressed := 0
	for _, m := range rollup.Measures {
		if !m.Suppressed {
			continue
		}
		reports := map[string]rollup.Report{}
		for _, kind := range []string{"month", "term"} {
			r := w.do(supervisor, "GET", fmt.Sprintf("/api/v1/districts/%s/rollups?measure=%s&period_kind=%s&from=%s&to=%s", w.district, m.Name, kind, from, to), nil)
			if r.status != 200 {
				t.Fatalf("%s/%s: %d %s", m.Name, kind, r.status, r.body)
			}
			var rep rollup.Report
			r.decode(t, &rep)
			reports[kind] = rep
		}
		// The public's view: one cell per (period, row, category or total).
		var view []suppress.Published
		index := map[string]int{}
		cell := func(key, label string) int {
			if i, ok := index[key]; ok {
				return i
			}
			p := suppress.Published{Mark: suppress.Shown}
			switch {
			case strings.HasPrefix(label, "<"):
				p.Mark = suppress.Small
				suppressed++
			case label == "*":
				p.Mark = suppress.Hidden
				suppressed++
			default:
				v, err := strconv.ParseInt(label, 10, 64)
				if err != nil {
					t.Fatalf("label %q", label)
				}
				p.Value = v
			}
			index[key] = len(view)
			view = append(view, p)
			return index[key]
		}
		cats := map[string]bool{}
		for _, rep := range reports {
			for _, c := range rep.Categories {
				cats[c] = true
			}
		}
		var lines []suppress.Line
		for kind, rep := range reports {
			for _, p := range rep.Periods {
				byKind := map[string][]rollup.Row{}
				for _, row := range p.Rows {
					byKind[row.Kind] = append(byKind[row.Kind], row)
					var parts []int
					for i, c := range rep.Categories {
						parts = append(parts, cell(kind+p.Start+row.Kind+row.Key+c, row.Cells[i]))
					}
					if m.ByCategory {
						lines = append(lines, suppress.Line{Total: cell(kind+p.Start+row.Kind+row.Key+"#", row.Total), Parts: parts})
					}
				}
				cols := append([]string{}, rep.Categories...)
				if m.ByCategory {
					cols = append(cols, "#")
				}
				for _, c := range cols {
					for _, rk := range []string{"school", "grade", "gender"} {
						var parts []int
						for _, row := range byKind[rk] {
							parts = append(parts, index[kind+p.Start+row.Kind+row.Key+c])
						}
						if len(parts) > 0 {
							lines = append(lines, suppress.Line{Total: index[kind+p.Start+"district"+c], Parts: parts})
						}
					}
				}
			}
		}
		if m.OverTime {
			for _, tp := range reports["term"].Periods {
				start := mustDate(tp.Start)
				for _, row := range tp.Rows {
					for c := range cats {
						for _, c := range []string{c, "#"} {
							tot, ok := index["term"+tp.Start+row.Kind+row.Key+c]
							if !ok {
								continue
							}
							var parts []int
							for i := range 6 {
								key := "month" + start.AddDate(0, i, 0).Format(time.DateOnly) + row.Kind + row.Key + c
								if _, ok := index[key]; !ok {
									key = "zero" + key
									cell(key, "0")
								}
								parts = append(parts, index[key])
							}
							lines = append(lines, suppress.Line{Total: tot, Parts: parts})
						}
					}
				}
			}
		}
		if got := suppress.Recoverable(view, lines, 5); len(got) > 0 {
			t.Fatalf("%s: the attacker recovers %d suppressed cells from what the API serves", m.Name, len(got))
		}
	}
	if suppressed == 0 {
		t.Fatal("nothing was suppressed: the test data is too large")
	}
}

// TestJobStatusListsQueuedRunningDoneAndFailedRuns: work waiting in the outbox shows as
// queued until the worker starts it; then running, done or failed with the reason.
func TestJobStatusListsQueuedRunningDoneAndFailedRuns(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin := w.token("district.admin")
	path := "/api/v1/districts/" + w.district.String() + "/jobs"
	// A threshold change queues the district's rebuild.
	if r := w.do(admin, "PUT", "/api/v1/districts/"+w.district.String()+"/rollup-settings", map[string]any{"threshold": 7}); r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	type run struct {
		ID, TaskType, Status, Error string
		Progress                    int
	}
	list := func() []run {
		r := w.do(admin, "GET", path, nil)
		if r.status != 200 {
			t.Fatalf("jobs: %d %s", r.status, r.body)
		}
		var body struct {
			Items []struct {
				ID       string `json:"id"`
				TaskType string `json:"task_type"`
				Status   string `json:"status"`
				Error    string `json:"error"`
				Progress int    `json:"progress"`
			} `json:"items"`
		}
		r.decode(t, &body)
		var out []run
		for _, x := range body.Items {
			out = append(out, run{x.ID, x.TaskType, x.Status, x.Error, x.Progress})
		}
		return out
	}
	var queued string
	for _, r := range list() {
		if r.TaskType == rollup.TypeRebuild && r.Status == "queued" {
			queued = r.ID
		}
	}
	if queued == "" {
		t.Fatalf("the rebuild is not listed as queued: %+v", list())
	}
	store := &jobrun.Store{DB: w.db.App}
	if err := store.Started(bg(), queued, rollup.TypeRebuild, []byte(`{"district_id":"`+w.district.String()+`"}`)); err != nil {
		t.Fatal(err)
	}
	_ = store.SetProgress(bg(), queued, 40)
	status := func() run {
		for _, r := range list() {
			if r.ID == queued {
				return r
			}
		}
		return run{}
	}
	if r := status(); r.Status != "running" || r.Progress != 40 {
		t.Fatalf("after start: %+v", r)
	}
	if err := store.Finished(bg(), queued, nil); err != nil {
		t.Fatal(err)
	}
	if r := status(); r.Status != "done" || r.Progress != 100 {
		t.Fatalf("after the end: %+v", r)
	}
	// The publication was withdrawn by the change; the rebuild brings it back with k = 7.
	if err := (&rollup.Service{DB: w.db.App}).Rebuild(bg(), w.district); err != nil {
		t.Fatal(err)
	}
	if n := w.scalar(`SELECT count(*) FROM rollup_published WHERE district_id = $1 AND threshold <> 7`, w.district); n != 0 {
		t.Fatalf("%d labels made with another threshold", n)
	}
	// Supervisors do not see job runs.
	if r := w.do(w.token("district.supervisor"), "GET", path, nil); r.status != 403 {
		t.Errorf("supervisor: %d", r.status)
	}
}
