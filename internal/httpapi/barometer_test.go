package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/barometer"
	"github.com/xinqiao/xinqiao/internal/concern"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/program"
)

// A liaison files the weekly barometer naming a classmate: the counselors (only) get
// the concern in their intake queue and a task; the homeroom teacher, the district and
// the liaison learn nothing more; the report keeps no name.
func TestBarometerNamedStudentReachesOnlyCounselors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	liaison, counselor, teacher, leader := w.token("liaison.s1"), w.token("counselor.s1"), w.token("teacher.s1"), w.token("leader.s1")

	var form barometer.Form
	r := w.do(liaison, "GET", base+"/barometer/form", nil)
	r.decode(t, &form)
	if r.status != 200 || len(form.Homerooms) != 1 || form.Homerooms[0].ID != own.homeroom || len(form.Classmates) == 0 || len(form.Concerns) != len(barometer.Concerns) {
		t.Fatalf("form: %d %s", r.status, r.body)
	}
	for _, c := range form.Classmates {
		if c.HomeroomID != own.homeroom {
			t.Fatalf("a student of another homeroom offered: %+v", c)
		}
	}
	named := form.Classmates[0]
	const note = "他说最近整夜睡不着，不想来上学"
	r = w.do(liaison, "POST", base+"/barometer/form", map[string]any{"mood": 2, "concerns": []string{"sleep", "exam_anxiety"}, "student_id": named.ID, "note": note})
	var rep barometer.Report
	r.decode(t, &rep)
	if r.status != 201 || !rep.Named || rep.Mood != 2 || len(rep.Concerns) != 2 || rep.WeekStart != barometer.WeekStart(time.Now()).Format(time.DateOnly) {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	if r := w.do(liaison, "POST", base+"/barometer/form", map[string]any{"mood": 3}); r.status != 409 {
		t.Fatalf("a second report the same week: %d %s", r.status, r.body)
	}

	// The counselor: the concern in the intake queue, a task in the inbox.
	var queue struct{ Items []concern.Concern }
	w.do(counselor, "GET", base+"/intake", nil).decode(t, &queue)
	var got *concern.Concern
	for i := range queue.Items {
		if queue.Items[i].StudentID == named.ID && queue.Items[i].Source == "barometer" {
			got = &queue.Items[i]
		}
	}
	if got == nil || !bytes.Contains([]byte(got.Observation), []byte(note)) {
		t.Fatalf("intake queue: %+v", queue.Items)
	}
	var box inbox.Summary
	w.do(counselor, "GET", base+"/inbox", nil).decode(t, &box)
	if !hasItem(box, "concern_raised", got.ID, true) {
		t.Fatalf("counselor inbox: %+v", box)
	}
	// The inbox item says where it came from — the weekly barometer of the homeroom —
	// and names the homeroom, never the student.
	for _, it := range box.Items {
		if it.Kind != "concern_raised" || it.SubjectID == nil || *it.SubjectID != got.ID {
			continue
		}
		if it.Params["source"] != "barometer" || it.Params["homeroom"] != own.homeroomName {
			t.Fatalf("counselor inbox item params: %+v", it.Params)
		}
		for _, v := range it.Params {
			if v == named.Name || v == named.ID.String() {
				t.Fatalf("the inbox item names the student: %+v", it.Params)
			}
		}
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var obs []byte
		tx.QueryRow(context.Background(), `SELECT observation FROM concerns WHERE id = $1`, got.ID).Scan(&obs)
		if len(obs) == 0 || bytes.Contains(obs, []byte("睡不着")) {
			t.Errorf("the note is stored in clear: %q", obs)
		}
	})

	// The homeroom teacher of that homeroom sees nothing of it.
	r = w.do(teacher, "GET", base+"/concerns", nil)
	if r.status != 200 || bytes.Contains(r.body, []byte(named.ID.String())) || bytes.Contains(r.body, []byte(note)) {
		t.Fatalf("teacher's concerns: %d %s", r.status, r.body)
	}
	if r := w.do(teacher, "GET", base+"/inbox", nil); bytes.Contains(r.body, []byte(got.ID.String())) {
		t.Fatalf("teacher's inbox: %s", r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items i JOIN users u ON u.id = i.user_id WHERE i.subject_id = $1 AND u.username <> 'counselor.s1'
		AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.school_id = $2 AND m.role = 'counselor')`, got.ID, own.school); n != 0 {
		t.Fatalf("%d inbox items about the concern reached users who are not counselors", n)
	}
	if n := w.scalar(`SELECT count(*) FROM district_inbox_items WHERE subject_id = $1 OR params::text LIKE '%' || $2 || '%'`, got.ID, own.homeroomName); n != 0 {
		t.Fatalf("the district inbox got %d items about it", n)
	}
	if r := w.do(w.token("district.supervisor"), "GET", "/api/v1/districts/"+w.district.String()+"/inbox", nil); bytes.Contains(r.body, []byte(got.ID.String())) {
		t.Fatalf("district inbox: %s", r.body)
	}
	// The leader reads the school's barometer: mood and concerns, no name.
	r = w.do(leader, "GET", base+"/barometer", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"mood":2`)) || bytes.Contains(r.body, []byte(named.ID.String())) || bytes.Contains(r.body, []byte(named.Name)) {
		t.Fatalf("leader's barometer: %d %s", r.status, r.body)
	}
	// The district reaches neither the barometer nor intake.
	admin := w.token("district.admin")
	for _, path := range []string{base + "/barometer", base + "/barometer/form", base + "/intake"} {
		if r := w.do(admin, "GET", path, nil); r.status != 403 {
			t.Fatalf("district on %s: %d", path, r.status)
		}
	}
	// The liaison sees only their form: not the intake queue, not the school's barometer.
	for _, path := range []string{base + "/intake", base + "/barometer", base + "/concerns", base + "/students"} {
		if r := w.do(liaison, "GET", path, nil); r.status != 403 {
			t.Fatalf("liaison on %s: %d", path, r.status)
		}
	}
	// Taking it in tells the liaison nothing.
	if r := w.do(counselor, "POST", base+"/intake/"+got.ID.String()+"/accept", nil); r.status != 200 {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	if r := w.do(liaison, "GET", base+"/inbox", nil); bytes.Contains(r.body, []byte(got.ID.String())) || bytes.Contains(r.body, []byte("concern_status_changed")) {
		t.Fatalf("liaison's inbox: %s", r.body)
	}
	w.do(liaison, "GET", base+"/barometer/form", nil).decode(t, &form)
	if len(form.Reports) != 1 || form.Reports[0].ID != rep.ID {
		t.Fatalf("the liaison's own reports: %+v", form.Reports)
	}
}

func TestBarometerBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own, sibling := w.target("s1"), w.target("s2")
	base := "/api/v1/schools/" + own.school.String()
	liaison := w.token("liaison.s1")
	other := w.id(`SELECT id FROM students WHERE school_id = $1 AND homeroom_id <> $2 LIMIT 1`, own.school, own.homeroom)
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"mood 0", map[string]any{"mood": 0}, "mood"},
		{"mood 6", map[string]any{"mood": 6}, "mood"},
		{"a concern not on the list", map[string]any{"mood": 3, "concerns": []string{"aliens"}}, "concerns"},
		{"a student of another homeroom", map[string]any{"mood": 3, "student_id": other}, "student_id"},
		{"a student of another school", map[string]any{"mood": 3, "student_id": sibling.student}, "student_id"},
		{"a note without a student", map[string]any{"mood": 3, "note": "有人情绪不好"}, "student_id"},
		{"a homeroom not theirs", map[string]any{"mood": 3, "homeroom_id": w.victim("homeroom", own)}, "homeroom_id"},
	} {
		r := w.do(liaison, "POST", base+"/barometer/form", c.body)
		if r.status != 422 || !hasField(w.problem(t, r), c.field) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM barometer_reports`) + w.scalar(`SELECT count(*) FROM concerns WHERE source = 'barometer'`); n != 0 {
		t.Fatalf("stored: %d", n)
	}
}

// Liaisons whose homeroom filed nothing last week are reminded once; a second run posts
// nothing; a liaison who filed is not reminded.
func TestBarometerReminderOncePerMissingWeek(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	if r := w.do(w.token("liaison.s1"), "POST", base+"/barometer/form", map[string]any{"mood": 4}); r.status != 201 {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	nextWeek := &barometer.Service{DB: w.db.App, Now: func() time.Time { return time.Now().AddDate(0, 0, 7) }}
	n, err := nextWeek.RemindMissing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	liaisons := w.scalar(`SELECT count(*) FROM memberships WHERE role = 'peer_liaison'`)
	if n != liaisons-1 {
		t.Fatalf("reminders: %d for %d liaisons, one of whom filed", n, liaisons)
	}
	if n, err := nextWeek.RemindMissing(context.Background()); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
	reminded := func(username string) int {
		return w.scalar(`SELECT count(*) FROM inbox_items i JOIN users u ON u.id = i.user_id WHERE u.username = $1 AND i.kind = $2`, username, barometer.KindMissing)
	}
	if reminded("liaison.s1") != 0 || reminded("liaison.s2") != 1 {
		t.Fatalf("liaison.s1: %d, liaison.s2: %d", reminded("liaison.s1"), reminded("liaison.s2"))
	}
	var box inbox.Summary
	w.do(w.token("liaison.s2"), "GET", "/api/v1/schools/"+w.schools["s2"].String()+"/inbox", nil).decode(t, &box)
	if fmt.Sprint(box) == "" || w.auditCount("barometer.remind", "allowed") == 0 {
		t.Fatalf("inbox %+v", box)
	}
}

// The "barometer filed" percentage indicator counts the reports of the term's weeks so
// far against one per homeroom with a liaison and week.
func TestBarometerWeeksIndicatorComputedFromReports(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.schools["s1"]
	a := w.districtAdminActor(w.district)
	term := w.currentTerm(w.district)
	p, err := w.programs.CreatePlan(bg(), a, w.district, program.PlanInput{TermID: term.ID, Title: "晴雨表", SchoolIDs: []uuid.UUID{s1},
		Indicators: []program.Indicator{{Code: "barometer", Name: "晴雨表提交率不低于90%", Kind: "percentage", Metric: "barometer_weeks", Target: 90}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.programs.Publish(bg(), a, w.district, p.ID, ""); err != nil {
		t.Fatal(err)
	}
	value := func() program.Cell {
		m, err := w.programs.Compliance(bg(), a, w.district, p.ID)
		if err != nil || len(m.Rows) != 1 {
			t.Fatalf("compliance: %v %+v", err, m)
		}
		return m.Rows[0].Cells[0]
	}
	if c := value(); c.Value != 0 || c.Status != program.AtRisk {
		t.Fatalf("before any report: %+v", c)
	}
	if r := w.do(w.token("liaison.s1"), "POST", "/api/v1/schools/"+s1.String()+"/barometer/form", map[string]any{"mood": 4}); r.status != 201 {
		t.Fatalf("submit: %d", r.status)
	}
	monday := func(d time.Time) time.Time { return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) }
	start, _ := time.Parse(time.DateOnly, term.StartsOn)
	today, _ := time.Parse(time.DateOnly, nowCST().Format(time.DateOnly))
	weeks := int(monday(today).Sub(monday(start)).Hours()/24/7) + 1
	liaisons := float64(w.scalar(`SELECT count(DISTINCT homeroom_id) FROM memberships WHERE school_id = $1 AND role = 'peer_liaison'`, s1))
	want := math.Round(1/(liaisons*float64(weeks))*1000) / 10
	if c := value(); c.Value != want {
		t.Fatalf("after one report in %d weeks: %+v, want %v", weeks, c, want)
	}
}
