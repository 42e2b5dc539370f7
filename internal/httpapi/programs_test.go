package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/httpapi"
	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// districtAdminActor is the administrator of a district, as the domain services see it.
func (w *world) districtAdminActor(district uuid.UUID) scope.Actor {
	user := w.id(`SELECT user_id FROM memberships WHERE district_id = $1 AND scope_type = 'district' AND role = 'district_admin' LIMIT 1`, district)
	return scope.Actor{UserID: user, Username: "admin", DistrictID: district, Kind: scope.District, Roles: []string{"district_admin"}}
}

func schoolActor(w *world, school uuid.UUID, role string) scope.Actor {
	user := w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = $2 LIMIT 1`, school, role)
	district := w.id(`SELECT district_id FROM schools WHERE id = $1`, school)
	return scope.Actor{UserID: user, DistrictID: district, SchoolID: school, Kind: scope.School, Roles: []string{role}}
}

// currentTerm creates a term of the district running from 30 days ago to 60 days ahead.
func (w *world) currentTerm(district uuid.UUID) program.Term {
	w.t.Helper()
	now := nowCST()
	t, err := w.programs.CreateTerm(context.Background(), w.districtAdminActor(district), district, program.TermInput{
		Name: fmt.Sprintf("学期%d", serial.Add(1)), StartsOn: now.AddDate(0, 0, -30).Format(time.DateOnly), EndsOn: now.AddDate(0, 0, 60).Format(time.DateOnly)})
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}

var testIndicators = []program.Indicator{
	{Code: "lectures", Name: "心理健康讲座", Kind: "activity_count", ActivityType: "lecture", Target: 2},
	{Code: "training", Name: "教师培训", Kind: "hours", ActivityType: "staff_training", Target: 8},
	{Code: "liaisons", Name: "心理委员覆盖", Kind: "percentage", Metric: "liaison_coverage", Target: 100},
	{Code: "protocol", Name: "危机干预制度", Kind: "yes_no", Target: 1},
}

// districtPlan creates a plan of the district for all its schools, published or not.
func (w *world) districtPlan(district uuid.UUID, publish bool) program.Plan {
	w.t.Helper()
	a := w.districtAdminActor(district)
	p, err := w.programs.CreatePlan(context.Background(), a, district, program.PlanInput{TermID: w.currentTerm(district).ID,
		Title: "本学期心理健康工作计划", Indicators: testIndicators, AllSchools: true})
	if err != nil {
		w.t.Fatal(err)
	}
	if publish {
		if p, err = w.programs.Publish(context.Background(), a, district, p.ID, ""); err != nil {
			w.t.Fatal(err)
		}
	}
	return p
}

// activity records a lecture in the school as its counselor.
func (w *world) activity(school uuid.UUID, term uuid.UUID) uuid.UUID {
	w.t.Helper()
	x, err := w.programs.RecordActivity(context.Background(), schoolActor(w, school, "counselor"), school, program.ActivityInput{
		TermID: term, Type: "lecture", Title: "青春期心理讲座", HeldOn: nowCST().Format(time.DateOnly), Audience: "students", AudienceSize: 300, Attendance: 280})
	if err != nil {
		w.t.Fatal(err)
	}
	return x.ID
}

func (w *world) evidence(school, activity uuid.UUID) uuid.UUID {
	w.t.Helper()
	e, err := w.programs.UploadEvidence(context.Background(), schoolActor(w, school, "counselor"), school,
		program.EvidenceInput{ActivityID: &activity, Title: "讲座签到表", Filename: "签到表.png"}, bytes.NewReader(pngFixture(false)))
	if err != nil {
		w.t.Fatal(err)
	}
	return e.ID
}

func cellOf(cells []program.Cell, code string) program.Cell {
	for _, c := range cells {
		if c.Code == code {
			return c
		}
	}
	return program.Cell{}
}

// The district publishes a plan to one school; the school gets its task, records two
// lectures and the lectures indicator turns "met" in the district's matrix; the other
// schools have no task. Hours, the liaison percentage and the yes/no indicator with
// evidence are computed from data too.
func TestDistrictPlanPublishedAndComplianceComputedFromActivities(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1, s2 := w.schools["s1"], w.schools["s2"]
	admin, counselor, leader2 := w.token("district.admin"), w.token("counselor.s1"), w.token("leader.s2")
	dbase, sbase := "/api/v1/districts/"+w.district.String(), "/api/v1/schools/"+s1.String()

	now := nowCST()
	r := w.do(admin, "POST", dbase+"/terms", map[string]any{"name": "2026学年第一学期", "starts_on": now.AddDate(0, 0, -30).Format(time.DateOnly),
		"ends_on": now.AddDate(0, 0, 60).Format(time.DateOnly)})
	var term program.Term
	r.decode(t, &term)
	if r.status != 201 {
		t.Fatalf("term: %d %s", r.status, r.body)
	}
	r = w.do(admin, "POST", dbase+"/plans", map[string]any{"term_id": term.ID, "title": "心理健康教育工作计划", "indicators": testIndicators,
		"all_schools": false, "school_ids": []uuid.UUID{s1}})
	var p program.Plan
	r.decode(t, &p)
	if r.status != 201 || p.Status != "draft" || p.Version != 0 {
		t.Fatalf("create plan: %d %s", r.status, r.body)
	}
	// A draft is not the school's yet.
	var tasks struct{ Items []program.SchoolPlan }
	w.do(counselor, "GET", sbase+"/plans", nil).decode(t, &tasks)
	if len(tasks.Items) != 0 {
		t.Fatalf("a draft reached the school: %+v", tasks.Items)
	}
	r = w.do(admin, "POST", dbase+"/plans/"+p.ID.String()+"/publish", map[string]any{"note": "首次发布"})
	r.decode(t, &p)
	if r.status != 200 || p.Status != "published" || p.Version != 1 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "POST", dbase+"/plans/"+p.ID.String()+"/publish", nil); r.status != 409 {
		t.Fatalf("publishing twice: %d", r.status)
	}
	if n := w.scalar(`SELECT count(*) FROM plan_tasks WHERE plan_id = $1`, p.ID); n != 1 {
		t.Fatalf("tasks created: %d", n)
	}
	w.do(counselor, "GET", sbase+"/plans", nil).decode(t, &tasks)
	if len(tasks.Items) != 1 || tasks.Items[0].Plan.ID != p.ID || cellOf(tasks.Items[0].Cells, "lectures").Status != program.OnTrack {
		t.Fatalf("the school's task: %+v", tasks.Items)
	}
	// The sibling school has no task and cannot open the plan.
	var none struct{ Items []program.SchoolPlan }
	w.do(leader2, "GET", "/api/v1/schools/"+s2.String()+"/plans", nil).decode(t, &none)
	if len(none.Items) != 0 {
		t.Fatalf("a school outside the plan sees it: %+v", none.Items)
	}
	if r := w.do(leader2, "GET", "/api/v1/schools/"+s2.String()+"/plans/"+p.ID.String(), nil); r.status != 404 {
		t.Fatalf("a school outside the plan opens it: %d", r.status)
	}

	// Two lectures; training hours; the yes/no evidence.
	lecture := map[string]any{"term_id": term.ID, "type": "lecture", "title": "情绪管理讲座", "held_on": now.AddDate(0, 0, -3).Format(time.DateOnly),
		"audience": "students", "audience_size": 400, "attendance": 380}
	var first program.Activity
	r = w.do(counselor, "POST", sbase+"/activities", lecture)
	r.decode(t, &first)
	if r.status != 201 || first.Attendance != 380 {
		t.Fatalf("lecture: %d %s", r.status, r.body)
	}
	var m program.Matrix
	w.do(admin, "GET", dbase+"/plans/"+p.ID.String()+"/compliance", nil).decode(t, &m)
	if len(m.Rows) != 1 || m.Rows[0].SchoolID != s1 || cellOf(m.Rows[0].Cells, "lectures").Value != 1 || cellOf(m.Rows[0].Cells, "lectures").Status == program.Met {
		t.Fatalf("after one lecture: %+v", m.Rows)
	}
	lecture["title"] = "压力应对讲座"
	if r := w.do(counselor, "POST", sbase+"/activities", lecture); r.status != 201 {
		t.Fatalf("second lecture: %d %s", r.status, r.body)
	}
	hours := 8.0
	if r := w.do(counselor, "POST", sbase+"/activities", map[string]any{"term_id": term.ID, "type": "staff_training", "title": "班主任心理健康培训",
		"held_on": now.AddDate(0, 0, -1).Format(time.DateOnly), "audience": "staff", "audience_size": 60, "attendance": 58, "hours": hours}); r.status != 201 {
		t.Fatalf("training: %d %s", r.status, r.body)
	}
	if r := w.upload(counselor, sbase+"/plans/"+p.ID.String()+"/indicators/protocol/evidence", "危机干预制度.pdf",
		[]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "title", "危机干预工作制度"); r.status != 201 {
		t.Fatalf("indicator evidence: %d %s", r.status, r.body)
	}
	if r := w.upload(counselor, sbase+"/plans/"+p.ID.String()+"/indicators/lectures/evidence", "x.pdf",
		[]byte("%PDF-1.4\n%%EOF\n"), "title", "不是是否类指标"); r.status != 404 {
		t.Fatalf("evidence for a count indicator: %d %s", r.status, r.body)
	}
	w.do(admin, "GET", dbase+"/plans/"+p.ID.String()+"/compliance", nil).decode(t, &m)
	row := m.Rows[0].Cells
	if c := cellOf(row, "lectures"); c.Value != 2 || c.Status != program.Met {
		t.Fatalf("lectures after two: %+v", c)
	}
	if c := cellOf(row, "training"); c.Value != 8 || c.Status != program.Met {
		t.Fatalf("training hours: %+v", c)
	}
	if c := cellOf(row, "protocol"); c.Value != 1 || c.Status != program.Met {
		t.Fatalf("yes/no with evidence: %+v", c)
	}
	var homerooms, covered float64
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.homeroom_id = h.id AND m.role = 'peer_liaison'))
			FROM org_units h WHERE h.school_id = $1 AND h.kind = 'homeroom'`, s1).Scan(&homerooms, &covered)
	})
	if c := cellOf(row, "liaisons"); c.Value == 0 || c.Value != float64(int(covered/homerooms*1000+0.5))/10 {
		t.Fatalf("liaison coverage %v of %v homerooms: %+v", covered, homerooms, c)
	}

	// The district drills down into the school's evidence.
	var detail program.SchoolPlanDetail
	r = w.do(admin, "GET", sbase+"/plans/"+p.ID.String(), nil)
	r.decode(t, &detail)
	if r.status != 200 || len(detail.Activities) != 3 || len(detail.Evidence) != 1 || cellOf(detail.Cells, "lectures").Status != program.Met {
		t.Fatalf("drill-down: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "GET", sbase+"/evidence/"+detail.Evidence[0].ID.String()+"/content", nil); r.status != 200 || !bytes.HasPrefix(r.body, []byte("%PDF")) {
		t.Fatalf("district downloads evidence: %d", r.status)
	}

	// Amendment: a new version in the history; the added school gets its task.
	amended := append([]program.Indicator{}, testIndicators...)
	amended[0].Target = 3
	r = w.do(admin, "PUT", dbase+"/plans/"+p.ID.String(), map[string]any{"term_id": term.ID, "title": "心理健康教育工作计划（修订）",
		"indicators": amended, "all_schools": false, "school_ids": []uuid.UUID{s1, s2}, "note": "讲座增至3次，增加第二所学校"})
	r.decode(t, &p)
	if r.status != 200 || p.Version != 2 || p.Indicators[0].Target != 3 {
		t.Fatalf("amend: %d %s", r.status, r.body)
	}
	var versions struct{ Items []program.Version }
	w.do(admin, "GET", dbase+"/plans/"+p.ID.String()+"/versions", nil).decode(t, &versions)
	if len(versions.Items) != 2 || versions.Items[0].Version != 2 || versions.Items[1].Indicators[0].Target != 2 ||
		versions.Items[0].Note != "讲座增至3次，增加第二所学校" || versions.Items[1].Note != "首次发布" {
		t.Fatalf("history: %+v", versions.Items)
	}
	w.do(admin, "GET", dbase+"/plans/"+p.ID.String()+"/compliance", nil).decode(t, &m)
	if len(m.Rows) != 2 {
		t.Fatalf("rows after amendment: %+v", m.Rows)
	}
	for _, row := range m.Rows {
		if c := cellOf(row.Cells, "lectures"); row.SchoolID == s1 && (c.Value != 2 || c.Status == program.Met) {
			t.Fatalf("s1 against the amended target: %+v", c)
		}
	}
	if r := w.do(admin, "PUT", dbase+"/plans/"+p.ID.String(), map[string]any{"term_id": w.currentTerm(w.district).ID, "title": "换学期",
		"indicators": amended, "all_schools": true}); r.status != 422 && r.status != 400 {
		t.Fatalf("changing the term of a published plan: %d", r.status)
	}
}

// Invalid plans, activities outside the term, attendance above the audience, bad
// evidence files: a precise problem+json, nothing stored.
func TestProgramBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin, counselor := w.token("district.admin"), w.token("counselor.s1")
	s1 := w.schools["s1"]
	dbase, sbase := "/api/v1/districts/"+w.district.String(), "/api/v1/schools/"+s1.String()
	term := w.currentTerm(w.district)
	foreignTerm := w.currentTerm(w.foreignDistrict)
	day := func(offset int) string { return nowCST().AddDate(0, 0, offset).Format(time.DateOnly) }

	plans := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no indicators", map[string]any{"term_id": term.ID, "title": "计划", "indicators": []any{}, "all_schools": true}, "indicators"},
		{"percentage above 100", map[string]any{"term_id": term.ID, "title": "计划", "all_schools": true,
			"indicators": []map[string]any{{"code": "cover", "name": "覆盖率", "kind": "percentage", "metric": "liaison_coverage", "target": 120}}}, "indicators[0].target"},
		{"unknown kind", map[string]any{"term_id": term.ID, "title": "计划", "all_schools": true,
			"indicators": []map[string]any{{"code": "x1", "name": "x", "kind": "mood", "target": 1}}}, "indicators[0].kind"},
		{"term of another district", map[string]any{"term_id": foreignTerm.ID, "title": "计划", "all_schools": true, "indicators": testIndicators}, "term_id"},
		{"school of another district", map[string]any{"term_id": term.ID, "title": "计划", "school_ids": []uuid.UUID{w.schools["d2.s1"]}, "indicators": testIndicators}, "school_ids"},
		{"no schools", map[string]any{"term_id": term.ID, "title": "计划", "indicators": testIndicators}, "school_ids"},
	}
	for _, c := range plans {
		r := w.do(admin, "POST", dbase+"/plans", c.body)
		p := w.problem(t, r)
		if r.status != 422 || !hasField(p, c.field) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM district_plans`); n != 0 {
		t.Fatalf("bad plans stored: %d", n)
	}
	if r := w.do(admin, "POST", dbase+"/terms", map[string]any{"name": "倒置", "starts_on": "2026-12-01", "ends_on": "2026-09-01"}); r.status != 422 || !hasField(w.problem(t, r), "ends_on") {
		t.Fatalf("term ending before it starts: %d %s", r.status, r.body)
	}

	activities := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"before the term", map[string]any{"term_id": term.ID, "type": "lecture", "title": "讲座", "held_on": day(-31), "audience": "students", "audience_size": 10, "attendance": 5}, "held_on"},
		{"in the future", map[string]any{"term_id": term.ID, "type": "lecture", "title": "讲座", "held_on": day(1), "audience": "students", "audience_size": 10, "attendance": 5}, "held_on"},
		{"attendance above the audience", map[string]any{"term_id": term.ID, "type": "lecture", "title": "讲座", "held_on": day(0), "audience": "students", "audience_size": 10, "attendance": 11}, "attendance"},
		{"training without hours", map[string]any{"term_id": term.ID, "type": "staff_training", "title": "培训", "held_on": day(0), "audience": "staff", "audience_size": 10, "attendance": 10}, "hours"},
		{"group session without its confidentiality rule", map[string]any{"term_id": term.ID, "type": "group_session", "title": "团辅", "held_on": day(0), "audience": "students",
			"audience_size": 12, "attendance": 10, "details": map[string]any{"theme": "人际交往", "sessions": 6, "facilitators": []string{"王老师"}}}, "details.confidentiality_rule"},
		{"unknown type", map[string]any{"term_id": term.ID, "type": "party", "title": "联欢", "held_on": day(0), "audience": "students", "audience_size": 10, "attendance": 5}, "type"},
		{"term of another district", map[string]any{"term_id": foreignTerm.ID, "type": "lecture", "title": "讲座", "held_on": day(0), "audience": "students", "audience_size": 10, "attendance": 5}, "term_id"},
	}
	for _, c := range activities {
		r := w.do(counselor, "POST", sbase+"/activities", c.body)
		p := w.problem(t, r)
		if r.status != 422 || !hasField(p, c.field) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM activities`); n != 0 {
		t.Fatalf("bad activities stored: %d", n)
	}
	// A group session with everything recorded is accepted.
	r := w.do(counselor, "POST", sbase+"/activities", map[string]any{"term_id": term.ID, "type": "group_session", "title": "人际交往团体辅导", "held_on": day(0),
		"audience": "students", "audience_size": 12, "attendance": 12, "details": map[string]any{"theme": "人际交往", "sessions": 6,
			"facilitators": []string{"王老师", "李老师"}, "confidentiality_rule": "组内分享不外传；例外：有伤害自己或他人的风险时告知监护人"}})
	var group program.Activity
	r.decode(t, &group)
	if r.status != 201 || group.Details.Sessions != 6 || len(group.Details.Facilitators) != 2 {
		t.Fatalf("group session: %d %s", r.status, r.body)
	}

	path := sbase + "/activities/" + group.ID.String() + "/evidence"
	before := len(w.objects(w.district, s1.String()+"/evidence/"))
	for _, c := range []struct {
		name    string
		content []byte
		status  int
	}{
		{"a script", []byte("#!/bin/sh\nrm -rf /\n"), 415},
		{"an mp3 (allowed for case files, not as evidence)", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, 64)...), 415},
		{"over the size cap", append([]byte("%PDF-1.4\n"), make([]byte, testDocumentCap)...), 413},
	} {
		if r := w.upload(counselor, path, "证据", c.content, "title", "证据"); r.status != c.status || !hasField(w.problem(t, r), "file") {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if r := w.upload(counselor, path, "a.pdf", []byte("%PDF-1.4\n%%EOF\n"), "title", " "); r.status != 422 {
		t.Errorf("no title: %d", r.status)
	}
	if n := w.scalar(`SELECT count(*) FROM program_evidence`); n != 0 {
		t.Fatalf("bad evidence stored: %d", n)
	}
	if after := len(w.objects(w.district, s1.String()+"/evidence/")); after != before {
		t.Fatalf("objects left behind: %d -> %d", before, after)
	}
	// An image keeps no metadata; the download is the stored file.
	r = w.upload(counselor, path, "活动照片.png", pngFixture(true), "title", "活动照片")
	var e program.Evidence
	r.decode(t, &e)
	if r.status != 201 || e.ContentType != "image/png" || e.Filename != "活动照片.png" {
		t.Fatalf("photo: %d %s", r.status, r.body)
	}
	got := w.do(counselor, "GET", sbase+"/evidence/"+e.ID.String()+"/content", nil)
	if got.status != 200 || bytes.Contains(got.body, []byte("tEXt")) || !strings.HasPrefix(got.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %v", got.status, got.header)
	}
}

func hasField(p httpapi.Problem, field string) bool {
	for _, f := range p.Errors {
		if f.Field == field {
			return true
		}
	}
	return false
}

// nowCST is the current time in the district's calendar (China Standard Time).
func nowCST() time.Time { return time.Now().In(time.FixedZone("CST", 8*3600)) }
