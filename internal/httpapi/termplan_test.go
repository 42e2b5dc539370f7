package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/termsummary"
)

func (w *world) userID(username string) uuid.UUID {
	return w.id(`SELECT id FROM users WHERE username = $1`, username)
}

// fullAnswers answers every indicator of p with one planned date (the term's first day
// or today, whichever is later) and the school's counselor as owner.
func (w *world) fullAnswers(p program.Plan, school uuid.UUID) []map[string]any {
	owner := w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'counselor' LIMIT 1`, school)
	date := nowCST().Format(time.DateOnly)
	if date < p.Term.StartsOn {
		date = p.Term.StartsOn
	}
	var out []map[string]any
	for _, ind := range p.Indicators {
		out = append(out, map[string]any{"indicator_code": ind.Code, "planned_dates": []string{date}, "owner_ids": []uuid.UUID{owner}, "note": "按计划推进"})
	}
	return out
}

// termPlan submits, as its counselor, the school's term plan of p (a published plan).
func (w *world) submittedTermPlan(p program.Plan, school uuid.UUID) {
	w.t.Helper()
	var answers []program.Answer
	owner := w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'counselor' LIMIT 1`, school)
	date := nowCST().Format(time.DateOnly)
	for _, ind := range p.Indicators {
		answers = append(answers, program.Answer{IndicatorCode: ind.Code, PlannedDates: []string{date}, OwnerIDs: []uuid.UUID{owner}})
	}
	if _, err := w.programs.SaveTermPlan(bg(), schoolActor(w, school, "counselor"), school, p.ID, program.TermPlanInput{Answers: answers, Note: "学期计划"}, true); err != nil {
		w.t.Fatal(err)
	}
}

func submissionOf(s program.Submissions, school uuid.UUID) program.Submission {
	for _, x := range s.Items {
		if x.SchoolID == school {
			return x
		}
	}
	return program.Submission{}
}

// A school answers each indicator of the district plan (planned dates, owners), saves a
// draft the district does not see, submits; the district lists who has not submitted,
// returns the plan with a reason, the school resubmits, the district accepts and the
// accepted term plan is locked for everybody.
func TestTermPlanDraftedSubmittedReturnedAcceptedAndLocked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1, s2 := w.schools["s1"], w.schools["s2"]
	p := w.districtPlan(w.district, true)
	counselor, leader, admin, supervisor := w.token("counselor.s1"), w.token("leader.s1"), w.token("district.admin"), w.token("district.supervisor")
	path := "/api/v1/schools/" + s1.String() + "/plans/" + p.ID.String() + "/term-plan"
	dpath := "/api/v1/districts/" + w.district.String() + "/plans/" + p.ID.String() + "/term-plans"

	var tp program.TermPlan
	r := w.do(counselor, "GET", path, nil)
	r.decode(t, &tp)
	if r.status != 200 || tp.Status != "draft" || tp.Stored || len(tp.Answers) != len(p.Indicators) || tp.DueOn == "" || len(tp.Staff) == 0 {
		t.Fatalf("fresh term plan: %d %s", r.status, r.body)
	}
	for _, s := range tp.Staff {
		if s.Role == "peer_liaison" || s.UserID == w.userID("liaison.s1") {
			t.Fatalf("a liaison offered as owner: %+v", tp.Staff)
		}
	}
	answers := w.fullAnswers(p, s1)
	r = w.do(leader, "PUT", path, map[string]any{"answers": answers[:1], "note": "草稿"})
	r.decode(t, &tp)
	if r.status != 200 || tp.Status != "draft" || !tp.Stored || len(tp.Answers[0].PlannedDates) != 1 || len(tp.Answers[1].PlannedDates) != 0 {
		t.Fatalf("draft: %d %s", r.status, r.body)
	}
	// The district does not see drafts: s1 has not submitted.
	var subs program.Submissions
	w.do(admin, "GET", dpath, nil).decode(t, &subs)
	if x := submissionOf(subs, s1); x.Status != program.NotSubmitted || subs.NotSubmitted != len(subs.Items) || len(subs.Items) < 2 {
		t.Fatalf("submissions with a draft: %+v", subs)
	}
	if r := w.do(admin, "GET", dpath+"/"+s1.String(), nil); r.status != 404 {
		t.Fatalf("the district reads a draft: %d %s", r.status, r.body)
	}
	// Submitting an incomplete plan is refused; nothing changes.
	r = w.do(counselor, "POST", path+"/submit", map[string]any{"answers": answers[:2]})
	if r.status != 422 || !hasField(w.problem(t, r), "answers") {
		t.Fatalf("incomplete submission: %d %s", r.status, r.body)
	}
	r = w.do(counselor, "POST", path+"/submit", map[string]any{"answers": answers, "note": "本学期计划"})
	r.decode(t, &tp)
	if r.status != 200 || tp.Status != "submitted" || !tp.Locked || tp.SubmittedAt == nil {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "PUT", path, map[string]any{"answers": answers}); r.status != 409 {
		t.Fatalf("changing a submitted plan: %d %s", r.status, r.body)
	}
	w.do(supervisor, "GET", dpath, nil).decode(t, &subs)
	if x := submissionOf(subs, s1); x.Status != "submitted" || submissionOf(subs, s2).Status != program.NotSubmitted || subs.NotSubmitted != len(subs.Items)-1 {
		t.Fatalf("submissions: %+v", subs)
	}
	var seen program.TermPlan
	r = w.do(supervisor, "GET", dpath+"/"+s1.String(), nil)
	r.decode(t, &seen)
	if r.status != 200 || seen.Status != "submitted" || seen.Answers[0].OwnerIDs[0] != answers[0]["owner_ids"].([]uuid.UUID)[0] || seen.SchoolName == "" {
		t.Fatalf("district reads the submission: %d %s", r.status, r.body)
	}
	// Only administrators review.
	if r := w.do(supervisor, "POST", dpath+"/"+s1.String()+"/review", map[string]any{"verdict": "accept"}); r.status != 403 {
		t.Fatalf("supervisor review: %d", r.status)
	}
	if r := w.do(admin, "POST", dpath+"/"+s1.String()+"/review", map[string]any{"verdict": "return"}); r.status != 422 || !hasField(w.problem(t, r), "reason") {
		t.Fatalf("return without a reason: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "POST", dpath+"/"+s2.String()+"/review", map[string]any{"verdict": "accept"}); r.status != 404 {
		t.Fatalf("reviewing a plan never submitted: %d %s", r.status, r.body)
	}
	r = w.do(admin, "POST", dpath+"/"+s1.String()+"/review", map[string]any{"verdict": "return", "reason": "请补充团体辅导的具体日期"})
	r.decode(t, &seen)
	if r.status != 200 || seen.Status != "returned" || seen.ReviewReason == "" {
		t.Fatalf("return: %d %s", r.status, r.body)
	}
	w.do(counselor, "GET", path, nil).decode(t, &tp)
	if tp.Status != "returned" || tp.Locked || !strings.Contains(tp.ReviewReason, "团体辅导") {
		t.Fatalf("the school sees the return: %+v", tp)
	}
	if r := w.do(counselor, "POST", path+"/submit", map[string]any{"answers": answers, "note": "已补充"}); r.status != 200 {
		t.Fatalf("resubmit: %d %s", r.status, r.body)
	}
	r = w.do(admin, "POST", dpath+"/"+s1.String()+"/review", map[string]any{"verdict": "accept"})
	r.decode(t, &seen)
	if r.status != 200 || seen.Status != "accepted" || !seen.Locked {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	// Accepted is final: neither the school nor the district changes it.
	for _, c := range []struct {
		token, method, path string
		body                any
	}{
		{counselor, "PUT", path, map[string]any{"answers": answers}},
		{leader, "POST", path + "/submit", map[string]any{"answers": answers}},
		{admin, "POST", dpath + "/" + s1.String() + "/review", map[string]any{"verdict": "return", "reason": "再改改"}},
		{admin, "POST", dpath + "/" + s1.String() + "/review", map[string]any{"verdict": "accept"}},
	} {
		if r := w.do(c.token, c.method, c.path, c.body); r.status != 409 {
			t.Fatalf("%s %s on an accepted plan: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM term_plans WHERE school_id = $1 AND status = 'accepted' AND note = '已补充'`, s1); n != 1 {
		t.Fatalf("accepted term plan changed: %d", n)
	}
	if w.auditCount("term_plans.accept", "allowed") != 1 || w.auditCount("term_plans.submit", "allowed") != 2 {
		t.Fatalf("audit: accept %d, submit %d", w.auditCount("term_plans.accept", "allowed"), w.auditCount("term_plans.submit", "allowed"))
	}
	// A school outside the plan has no term plan to write.
	other := w.programs
	pOne, err := other.CreatePlan(bg(), w.districtAdminActor(w.district), w.district, program.PlanInput{TermID: p.TermID, Title: "仅二中", Indicators: testIndicators, SchoolIDs: []uuid.UUID{s2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Publish(bg(), w.districtAdminActor(w.district), w.district, pOne.ID, ""); err != nil {
		t.Fatal(err)
	}
	if r := w.do(counselor, "PUT", "/api/v1/schools/"+s1.String()+"/plans/"+pOne.ID.String()+"/term-plan", map[string]any{"answers": answers}); r.status != 404 {
		t.Fatalf("a term plan for a plan the school is not in: %d %s", r.status, r.body)
	}
}

// Bad term plans are refused with a problem naming the answer's field; nothing is stored.
func TestTermPlanBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.schools["s1"]
	p := w.districtPlan(w.district, true)
	counselor := w.token("counselor.s1")
	path := "/api/v1/schools/" + s1.String() + "/plans/" + p.ID.String() + "/term-plan"
	owner := w.userID("counselor.s1")
	today := nowCST().Format(time.DateOnly)
	answer := func(code string, dates []string, owners []uuid.UUID) map[string]any {
		return map[string]any{"indicator_code": code, "planned_dates": dates, "owner_ids": owners}
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = nowCST().AddDate(0, 0, i).Format(time.DateOnly)
	}
	for _, c := range []struct {
		name  string
		body  any
		field string
	}{
		{"an indicator not in the plan", map[string]any{"answers": []any{answer("parties", []string{today}, []uuid.UUID{owner})}}, "answers[0].indicator_code"},
		{"an indicator answered twice", map[string]any{"answers": []any{answer("lectures", nil, nil), answer("lectures", nil, nil)}}, "answers[1].indicator_code"},
		{"a date outside the term", map[string]any{"answers": []any{answer("lectures", []string{"2001-01-01"}, nil)}}, "answers[0].planned_dates"},
		{"a malformed date", map[string]any{"answers": []any{answer("lectures", []string{"next week"}, nil)}}, "answers[0].planned_dates"},
		{"too many dates", map[string]any{"answers": []any{answer("lectures", many, nil)}}, "answers[0].planned_dates"},
		{"a liaison as owner", map[string]any{"answers": []any{answer("lectures", nil, []uuid.UUID{w.userID("liaison.s1")})}}, "answers[0].owner_ids"},
		{"staff of another school as owner", map[string]any{"answers": []any{answer("lectures", nil, []uuid.UUID{w.userID("counselor.s2")})}}, "answers[0].owner_ids"},
		{"an unknown user as owner", map[string]any{"answers": []any{answer("lectures", nil, []uuid.UUID{uuid.New()})}}, "answers[0].owner_ids"},
		{"a note too long", map[string]any{"answers": []any{}, "note": strings.Repeat("长", 2001)}, "note"},
		{"an answer note too long", map[string]any{"answers": []any{map[string]any{"indicator_code": "lectures", "note": strings.Repeat("长", 501)}}}, "answers[0].note"},
	} {
		for _, suffix := range []string{"", "/submit"} {
			method := "PUT"
			if suffix != "" {
				method = "POST"
			}
			r := w.do(counselor, method, path+suffix, c.body)
			if r.status != 422 || !hasField(w.problem(t, r), c.field) {
				t.Errorf("%s (%s): %d %s", c.name, method, r.status, r.body)
			}
		}
	}
	if r := w.do(counselor, "PUT", path, `{"answers": "all of them"}`); r.status != 400 && r.status != 422 {
		t.Errorf("answers not a list: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM term_plans`); n != 0 {
		t.Fatalf("stored: %d", n)
	}
	w.submittedTermPlan(p, s1)
	review := "/api/v1/districts/" + w.district.String() + "/plans/" + p.ID.String() + "/term-plans/" + s1.String() + "/review"
	for _, body := range []map[string]any{{"verdict": "approve"}, {"verdict": ""}, {"verdict": "return", "reason": strings.Repeat("长", 1001)}} {
		if r := w.do(w.token("district.admin"), "POST", review, body); r.status != 422 {
			t.Errorf("review %v: %d %s", body, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM term_plans WHERE status <> 'submitted' OR reviewed_at IS NOT NULL`); n != 0 {
		t.Fatalf("a bad review changed the term plan: %d", n)
	}
	// A deadline outside the term is refused too.
	r := w.do(w.token("district.admin"), "POST", "/api/v1/districts/"+w.district.String()+"/plans", map[string]any{"term_id": p.TermID, "title": "截止日期有误",
		"indicators": testIndicators, "all_schools": true, "term_plan_due_on": "2001-01-01"})
	if r.status != 422 || !hasField(w.problem(t, r), "term_plan_due_on") {
		t.Fatalf("deadline outside the term: %d %s", r.status, r.body)
	}
}

// The district's overdue tasks: a term plan not submitted by its deadline, an indicator
// whose last planned date passed unmet, indicators missed in a term that is over, and
// term summaries not submitted after the grace period — per school.
func TestOverdueTasksFromPlansTermPlansAndSummaries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1, s2 := w.schools["s1"], w.schools["s2"]
	a := w.districtAdminActor(w.district)
	now := nowCST()

	// A term that ended 40 days ago, with a published plan for s1 only.
	past, err := w.programs.CreateTerm(bg(), a, w.district, program.TermInput{Name: "上学期（测试）",
		StartsOn: now.AddDate(0, 0, -160).Format(time.DateOnly), EndsOn: now.AddDate(0, 0, -40).Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	old, err := w.programs.CreatePlan(bg(), a, w.district, program.PlanInput{TermID: past.ID, Title: "上学期计划", SchoolIDs: []uuid.UUID{s1},
		Indicators: []program.Indicator{{Code: "lectures", Name: "讲座", Kind: "activity_count", ActivityType: "lecture", Target: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.programs.Publish(bg(), a, w.district, old.ID, ""); err != nil {
		t.Fatal(err)
	}
	// s2 submitted its summary of that term; s1 did not.
	if _, err := (&termsummary.Service{DB: w.db.App}).Save(bg(), schoolActor(w, s2, "school_leader"), s2, past.ID, "上学期小结", true); err != nil {
		t.Fatal(err)
	}
	// The current plan (for every school): s1 submits a term plan whose lectures are
	// planned for the term's first day; s2 submits nothing. Five days later both the
	// deadline (30 days after the start) and that date have passed.
	cur := w.districtPlan(w.district, true)
	answers := []program.Answer{}
	owner := w.userID("counselor.s1")
	for _, ind := range cur.Indicators {
		answers = append(answers, program.Answer{IndicatorCode: ind.Code, PlannedDates: []string{cur.Term.StartsOn}, OwnerIDs: []uuid.UUID{owner}})
	}
	if _, err := w.programs.SaveTermPlan(bg(), schoolActor(w, s1, "counselor"), s1, cur.ID, program.TermPlanInput{Answers: answers}, true); err != nil {
		t.Fatal(err)
	}
	later := &program.Service{DB: w.db.App, Now: func() time.Time { return time.Now().AddDate(0, 0, 5) }}
	got, err := later.OverdueTasks(bg(), a, w.district)
	if err != nil {
		t.Fatal(err)
	}
	has := func(school uuid.UUID, kind string, plan *uuid.UUID, code string) bool {
		for _, x := range got.Items {
			if x.SchoolID == school && x.Kind == kind && (plan == nil || (x.PlanID != nil && *x.PlanID == *plan)) && x.IndicatorCode == code && x.DaysOverdue > 0 {
				return true
			}
		}
		return false
	}
	cases := []struct {
		name   string
		school uuid.UUID
		kind   string
		plan   *uuid.UUID
		code   string
		want   bool
	}{
		{"s2 has not submitted its term plan", s2, program.OverdueTermPlan, &cur.ID, "", true},
		{"s1 submitted its term plan", s1, program.OverdueTermPlan, &cur.ID, "", false},
		{"s1's lectures planned for the first day are overdue", s1, program.OverdueIndicator, &cur.ID, "lectures", true},
		{"s2 planned nothing, so no indicator of it is overdue yet", s2, program.OverdueIndicator, &cur.ID, "lectures", false},
		{"s1 missed the lectures of the past term", s1, program.MissedIndicator, &old.ID, "lectures", true},
		{"s2 was not in the past plan", s2, program.MissedIndicator, &old.ID, "lectures", false},
		{"no term plan is chased once its term is over", s1, program.OverdueTermPlan, &old.ID, "", false},
		{"s1 has not submitted the past term's summary", s1, program.OverdueTermSummary, nil, "", true},
		{"s2 submitted the past term's summary", s2, program.OverdueTermSummary, nil, "", false},
	}
	for _, c := range cases {
		if has(c.school, c.kind, c.plan, c.code) != c.want {
			t.Errorf("%s: want %v in %+v", c.name, c.want, got.Items)
		}
	}
	// Recording the two lectures takes the overdue indicator off the list.
	w.activity(s1, cur.TermID)
	w.activity(s1, cur.TermID)
	if got, err = later.OverdueTasks(bg(), a, w.district); err != nil {
		t.Fatal(err)
	}
	if has(s1, program.OverdueIndicator, &cur.ID, "lectures") {
		t.Fatalf("a met indicator is overdue: %+v", got.Items)
	}
	// Over HTTP: district administrators and supervisors, today.
	for _, user := range []string{"district.admin", "district.supervisor"} {
		var res program.Overdue
		r := w.do(w.token(user), "GET", "/api/v1/districts/"+w.district.String()+"/overdue-tasks", nil)
		r.decode(t, &res)
		if r.status != 200 || res.Today == "" {
			t.Fatalf("%s: %d %s", user, r.status, r.body)
		}
		got = res
		if !has(s1, program.OverdueTermSummary, nil, "") || !has(s1, program.MissedIndicator, &old.ID, "lectures") {
			t.Fatalf("%s: %+v", user, res.Items)
		}
	}
}
