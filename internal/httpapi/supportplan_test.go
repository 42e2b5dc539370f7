package httpapi_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/supportplan"
)

func TestSupportPlanValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	counselor := w.token("counselor.s1")
	plans := "/api/v1/schools/" + own.school.String() + "/case-files/" + own.caseFile.String() + "/support-plans"
	teacher := w.id(`SELECT id FROM users WHERE username = 'teacher.s1'`)
	foreignStaff := w.id(`SELECT id FROM users WHERE username = 'counselor.s2'`)
	before := w.scalar(`SELECT count(*) FROM support_plans`)
	for name, body := range map[string]map[string]any{
		"missing goals":                 {"actions": []string{"面谈"}, "responsible_role": "班主任", "review_date": day(7)},
		"blank goals":                   {"goals": []string{" ", ""}, "responsible_role": "班主任", "review_date": day(7)},
		"review date in the past":       {"goals": []string{"x"}, "responsible_role": "班主任", "review_date": day(-2)},
		"review date malformed":         {"goals": []string{"x"}, "responsible_role": "班主任", "review_date": "2025-13-40"},
		"missing review date":           {"goals": []string{"x"}, "responsible_role": "班主任"},
		"nobody responsible":            {"goals": []string{"x"}, "review_date": day(7)},
		"bad status":                    {"goals": []string{"x"}, "responsible_role": "班主任", "review_date": day(7), "status": "paused"},
		"created closed":                {"goals": []string{"x"}, "responsible_role": "班主任", "review_date": day(7), "status": "completed"},
		"responsible of another school": {"goals": []string{"x"}, "responsible_user_id": foreignStaff, "review_date": day(7)},
	} {
		r := w.do(counselor, "POST", plans, body)
		if r.status != 422 {
			t.Errorf("%s: want 422, got %d %s", name, r.status, r.body)
			continue
		}
		w.problem(t, r)
	}
	if after := w.scalar(`SELECT count(*) FROM support_plans`); after != before {
		t.Fatalf("refused plans were stored: %d -> %d", before, after)
	}
	// A staff member of the school may be responsible; today is a valid review date.
	r := w.do(counselor, "POST", plans, map[string]any{"goals": []string{"按时到校"}, "responsible_user_id": teacher, "review_date": day(0)})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var p supportplan.Plan
	r.decode(t, &p)
	if p.ResponsibleName == "" || p.Status != "active" || p.Overdue {
		t.Fatalf("created plan: %s", r.body)
	}
	item := "/api/v1/schools/" + own.school.String() + "/support-plans/" + p.ID.String()
	for name, tc := range map[string]struct {
		path string
		body map[string]any
	}{
		"patch bad status":         {item, map[string]any{"status": "paused"}},
		"patch past review date":   {item, map[string]any{"review_date": day(-1)}},
		"patch empty goals":        {item, map[string]any{"goals": []string{}}},
		"review without outcome":   {item + "/reviews", map[string]any{"next_review_date": day(14)}},
		"review without next date": {item + "/reviews", map[string]any{"outcome": "x"}},
		"review in the future":     {item + "/reviews", map[string]any{"outcome": "x", "reviewed_on": day(3), "next_review_date": day(14)}},
		"review closing with date": {item + "/reviews", map[string]any{"outcome": "x", "status": "completed", "next_review_date": day(14)}},
		"review with a bad status": {item + "/reviews", map[string]any{"outcome": "x", "status": "paused"}},
	} {
		method := "PATCH"
		if strings.HasSuffix(tc.path, "/reviews") {
			method = "POST"
		}
		if r := w.do(counselor, method, tc.path, tc.body); r.status != 422 {
			t.Errorf("%s: want 422, got %d %s", name, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM support_plan_reviews`); n != 0 {
		t.Fatalf("refused reviews were stored: %d", n)
	}
	// A plan of another school is not found, exactly like a missing one.
	sibling := w.newPlan("s2", w.target("s2").caseFile)
	for _, id := range []uuid.UUID{sibling, uuid.New()} {
		if r := w.do(counselor, "GET", "/api/v1/schools/"+own.school.String()+"/support-plans/"+id.String(), nil); r.status != 404 {
			t.Fatalf("another school's plan: %d", r.status)
		}
	}
}

func TestSupportPlanLifecycleEncryptionAndAudit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	const goal, action, outcome = "减少缺勤：每周到校不少于四天", "班主任每日关注出勤并反馈", "出勤已明显改善，情绪稳定"
	r := w.do(counselor, "POST", base+"/case-files/"+own.caseFile.String()+"/support-plans", map[string]any{
		"goals": []string{goal}, "actions": []string{action, "家长每周与心理老师沟通"}, "responsible_role": "班主任", "review_date": day(7)})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var p supportplan.Plan
	r.decode(t, &p)
	if len(p.Goals) != 1 || p.Goals[0].Text != goal || len(p.Actions) != 2 || p.Actions[0].Text != action || p.ResponsibleRole != "班主任" {
		t.Fatalf("created: %s", r.body)
	}
	item := base + "/support-plans/" + p.ID.String()
	// Edit while active: the goals are replaced, the old ones kept as removed.
	if r := w.do(counselor, "PATCH", item, map[string]any{"goals": []string{goal, "改善同伴关系"}}); r.status != 200 {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM support_plan_items WHERE plan_id = $1 AND removed_at IS NOT NULL`, p.ID); n != 1 {
		t.Fatalf("the replaced goal is kept: %d", n)
	}
	r = w.do(counselor, "POST", item+"/reviews", map[string]any{"outcome": outcome, "next_review_date": day(30)})
	if r.status != 201 {
		t.Fatalf("review: %d %s", r.status, r.body)
	}
	r.decode(t, &p)
	if len(p.Reviews) != 1 || p.Reviews[0].Outcome != outcome || p.ReviewDate != day(30) || p.Reviews[0].DueDate != day(7) || len(p.Goals) != 2 {
		t.Fatalf("after the review: %s", r.body)
	}
	// Close it with a second review: the plan is read-only afterwards; the history stays.
	if r := w.do(counselor, "POST", item+"/reviews", map[string]any{"outcome": "目标达成，结束计划", "status": "completed"}); r.status != 201 {
		t.Fatalf("closing review: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		method, path string
		body         map[string]any
	}{{"PATCH", item, map[string]any{"review_date": day(3)}}, {"POST", item + "/reviews", map[string]any{"outcome": "x", "next_review_date": day(3)}}} {
		if r := w.do(counselor, tc.method, tc.path, tc.body); r.status != 409 {
			t.Fatalf("%s on a completed plan: %d", tc.method, r.status)
		}
	}
	r = w.do(counselor, "GET", item, nil)
	r.decode(t, &p)
	if r.status != 200 || p.Status != "completed" || p.ClosedAt == nil || len(p.Reviews) != 2 || p.Reviews[1].StatusAfter != "completed" {
		t.Fatalf("completed plan: %s", r.body)
	}
	// At rest, no free text is readable; reviews cannot be rewritten by the app.
	w.ownerQuery(func(tx pgx.Tx) {
		rows, _ := tx.Query(context.Background(), `SELECT body FROM support_plan_items WHERE plan_id = $1
			UNION ALL SELECT outcome FROM support_plan_reviews WHERE plan_id = $1`, p.ID)
		n := 0
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			n++
			for _, s := range []string{"缺勤", "出勤", "家长", "同伴", "目标", "班主任"} {
				if len(b) == 0 || bytes.Contains(b, []byte(s)) {
					t.Fatalf("free text stored in clear: %q", s)
				}
			}
		}
		if n != 7 { // 3 items at creation, 2 after the edit, 2 reviews
			t.Fatalf("encrypted rows: %d", n)
		}
	})
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `UPDATE support_plan_items SET body = 'x' WHERE plan_id = $1`, p.ID); err == nil {
			t.Fatal("an item's text was rewritten")
		}
	})
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `SET ROLE xinqiao_app; UPDATE support_plan_reviews SET reviewed_on = now()`); err == nil {
			t.Fatal("the app may rewrite reviews")
		}
	})
	// Every read and write is audited, with no text.
	for action, want := range map[string]int{"support_plans.create": 1, "support_plans.update": 1, "support_plans.review": 2, "support_plans.read": 1} {
		if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = $1 AND object_id = $2 AND outcome = 'allowed'`, action, p.ID.String()); n != want {
			t.Errorf("audit %s: %d, want %d", action, n, want)
		}
	}
	if r := w.do(counselor, "GET", base+"/case-files/"+own.caseFile.String()+"/support-plans", nil); r.status != 200 || !strings.Contains(string(r.body), goal) {
		t.Fatalf("list: %d", r.status)
	}
	if n := w.auditCount("support_plans.list", "allowed"); n != 1 {
		t.Fatalf("list audited: %d", n)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action LIKE 'support_plans.%' AND (reason LIKE '%出勤%' OR reason LIKE '%缺勤%')`); n != 0 {
		t.Fatal("audit rows carry plan text")
	}
	// An archived case file is read-only: no new plan, no change, no review.
	open := w.newPlan("s1", own.caseFile)
	if _, err := w.cases.SetStatus(context.Background(), w.counselorActor(t, "s1"), own.school, own.caseFile, "archived", ""); err != nil {
		t.Fatal(err)
	}
	openItem := base + "/support-plans/" + open.String()
	for _, tc := range []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", base + "/case-files/" + own.caseFile.String() + "/support-plans", map[string]any{"goals": []string{"x"}, "responsible_role": "家长", "review_date": day(3)}},
		{"PATCH", openItem, map[string]any{"review_date": day(3)}},
		{"POST", openItem + "/reviews", map[string]any{"outcome": "x", "next_review_date": day(3)}},
	} {
		if r := w.do(counselor, tc.method, tc.path, tc.body); r.status != 409 {
			t.Errorf("%s %s on an archived file: %d", tc.method, tc.path, r.status)
		}
	}
	if r := w.do(counselor, "GET", openItem, nil); r.status != 200 {
		t.Fatalf("an archived file's plan is readable: %d", r.status)
	}
}

func TestSupportPlanReviewReminders(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own, sibling := w.target("s1"), w.target("s2")
	ctx := context.Background()
	// A second counselor on the s1 file: the leader, made counselor of s1 too.
	leaderID := w.id(`SELECT id FROM users WHERE username = 'leader.s1'`)
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (id, user_id, district_id, scope_type, school_id, role)
			VALUES ($1, $2, $3, 'school', $4, 'counselor')`, uuid.New(), leaderID, w.district, own.school); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_file_counselors (school_id, case_file_id, user_id) VALUES ($1, $2, $3)`, own.school, own.caseFile, leaderID); err != nil {
			t.Fatal(err)
		}
		tx.Commit(ctx)
	})
	w.enforcer.Reload()
	overdue := w.newPlan("s1", own.caseFile)
	fresh := w.newPlan("s1", own.caseFile)
	w.newPlan("s2", sibling.caseFile) // not due: the sibling school gets nothing
	past := day(-3)
	w.ownerQuery(func(tx pgx.Tx) {
		tx.Exec(ctx, `UPDATE support_plans SET review_date = $2::date WHERE id = $1`, overdue, past)
		tx.Commit(ctx)
	})
	for run := 0; run < 2; run++ {
		n, err := w.plans.RemindOverdue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int]int{0: 2, 1: 0}[run]; n != want {
			t.Fatalf("run %d posted %d tasks, want %d", run, n, want)
		}
	}
	key := "support_plan_review:" + overdue.String() + ":" + past
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE kind = 'support_plan_review_due' AND is_task AND dedupe_key = $1 AND school_id = $2
		AND subject_id = $3 AND case_file_id = $4 AND due_at IS NOT NULL AND done_at IS NULL`, key, own.school, overdue, own.caseFile); n != 2 {
		t.Fatalf("one open task per counselor of the file: %d", n)
	}
	if n := w.scalar(`SELECT count(DISTINCT user_id) FROM inbox_items WHERE dedupe_key = $1`, key); n != 2 {
		t.Fatalf("tasks per counselor: %d", n)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE kind = 'support_plan_review_due' AND (school_id <> $1 OR subject_id = $2)`, own.school, fresh); n != 0 {
		t.Fatalf("tasks outside the overdue plan's school: %d", n)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'support_plans.remind' AND school_id = $1`, own.school); n != 1 {
		t.Fatalf("the reminder run is audited once in the school's chain: %d", n)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'support_plans.remind' AND school_id IS DISTINCT FROM $1`, own.school); n != 0 {
		t.Fatalf("the reminder is audited elsewhere: %d", n)
	}
	// The counselor sees the task in the inbox; the plan shows as overdue.
	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	r := w.do(counselor, "GET", base+"/inbox", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"support_plan_review_due"`) || !strings.Contains(string(r.body), past) {
		t.Fatalf("inbox: %d %s", r.status, r.body)
	}
	var p supportplan.Plan
	w.do(counselor, "GET", base+"/support-plans/"+overdue.String(), nil).decode(t, &p)
	if !p.Overdue {
		t.Fatal("the plan is not shown overdue")
	}
	// Recording the review closes the task of every counselor of the file, at once.
	if r := w.do(counselor, "POST", base+"/support-plans/"+overdue.String()+"/reviews", map[string]any{"outcome": "按计划推进", "next_review_date": day(14)}); r.status != 201 {
		t.Fatalf("review: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE dedupe_key = $1 AND done_at IS NOT NULL`, key); n != 2 {
		t.Fatalf("tasks closed by the review: %d", n)
	}
	if n, err := w.plans.RemindOverdue(ctx); err != nil || n != 0 {
		t.Fatalf("after the review the job posts nothing: %d %v", n, err)
	}
}

func TestConcernCategoryTaxonomy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	admin, counselor := w.token("district.admin"), w.token("counselor.s1")
	cats := "/api/v1/districts/" + w.district.String() + "/concern-categories"
	var list struct {
		Items []casefile.Category `json:"items"`
	}
	// Every district starts with the eight categories (seeded when the district is created).
	w.do(admin, "GET", cats, nil).decode(t, &list)
	if len(list.Items) != 8 || list.Items[0].Code != "learning" || list.Items[6].Code != "self_harm_risk" || list.Items[6].NameZh != "自伤风险" {
		t.Fatalf("seeded taxonomy: %+v", list.Items)
	}
	if n := w.scalar(`SELECT count(*) FROM concern_categories WHERE district_id = $1`, w.foreignDistrict); n != 8 {
		t.Fatalf("the other district's taxonomy: %d", n)
	}
	for name, tc := range map[string]struct {
		method, path string
		body         map[string]any
		status       int
	}{
		"bad code":          {"POST", cats, map[string]any{"code": "Bad Code", "name_zh": "x", "name_en": "x"}, 422},
		"missing name":      {"POST", cats, map[string]any{"code": "sleep"}, 422},
		"duplicate code":    {"POST", cats, map[string]any{"code": "emotion", "name_zh": "情绪", "name_en": "Emotion"}, 409},
		"add":               {"POST", cats, map[string]any{"code": "sleep", "name_zh": "睡眠", "name_en": "Sleep"}, 201},
		"rename":            {"PATCH", cats + "/family", map[string]any{"name_zh": "家庭关系", "name_en": "Family relations"}, 200},
		"deactivate":        {"PATCH", cats + "/career", map[string]any{"active": false, "position": 5}, 200},
		"code is immutable": {"PATCH", cats + "/other", map[string]any{"code": "misc"}, 422},
		"unknown code":      {"PATCH", cats + "/nothing", map[string]any{"name_zh": "x"}, 404},
		"blank rename":      {"PATCH", cats + "/family", map[string]any{"name_zh": " "}, 422},
	} {
		if r := w.do(admin, tc.method, tc.path, tc.body); r.status != tc.status {
			t.Errorf("%s: want %d, got %d %s", name, tc.status, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM concern_categories WHERE district_id = $1 AND code = 'sleep'`, w.foreignDistrict); n != 0 {
		t.Fatal("a category leaked into another district")
	}
	if w.auditCount("concern_categories.create", "allowed") != 1 || w.auditCount("concern_categories.update", "allowed") != 2 {
		t.Fatal("taxonomy changes are audited")
	}
	// Counselors read the school's taxonomy, inactive categories included (old sessions).
	w.do(counselor, "GET", "/api/v1/schools/"+own.school.String()+"/concern-categories", nil).decode(t, &list)
	names := map[string]casefile.Category{}
	for _, c := range list.Items {
		names[c.Code] = c
	}
	if len(list.Items) != 9 || names["family"].NameZh != "家庭关系" || names["career"].Active || !names["sleep"].Active || list.Items[0].Code != "career" {
		t.Fatalf("school taxonomy: %+v", list.Items)
	}
	// Sessions are checked against the district's active taxonomy.
	sessions := "/api/v1/schools/" + own.school.String() + "/case-files/" + own.caseFile.String() + "/sessions"
	session := func(categories ...string) int {
		return w.do(counselor, "POST", sessions, map[string]any{"occurred_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "channel": "walk_in",
			"participants": []string{"student"}, "initiated_by": "self", "categories": categories, "duration_minutes": 30, "summary": "x"}).status
	}
	before := w.scalar(`SELECT count(*) FROM counseling_sessions`)
	for _, bad := range [][]string{{"career"}, {"nonsense"}, {"emotion", "nonsense"}} {
		if st := session(bad...); st != 422 {
			t.Errorf("categories %v: want 422, got %d", bad, st)
		}
	}
	if after := w.scalar(`SELECT count(*) FROM counseling_sessions`); after != before {
		t.Fatal("a refused session was stored")
	}
	if st := session("sleep", "emotion", "sleep"); st != 201 {
		t.Fatalf("a new category: %d", st)
	}
	// A category of the other district is unknown here.
	w.ownerQuery(func(tx pgx.Tx) {
		tx.Exec(context.Background(), `INSERT INTO concern_categories (district_id, code, name_zh, name_en) VALUES ($1, 'elsewhere', '别处', 'Elsewhere')`, w.foreignDistrict)
		tx.Commit(context.Background())
	})
	if st := session("elsewhere"); st != 422 {
		t.Fatalf("another district's category: %d", st)
	}
}
