package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/notify"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// A crisis escalated by a job acting for a school lands in the district supervisor's
// district inbox (once per dedupe key); the header badge counts it in the district
// scope; the supervisor reads and closes it; nobody else of the district can.
func TestDistrictInboxAndBadgeCounts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	own := w.target("s1")
	supervisor := w.id(`SELECT id FROM users WHERE username = 'district.supervisor' AND district_id = $1`, w.district)
	base := "/api/v1/districts/" + w.district.String() + "/inbox"
	sup, admin := w.token("district.supervisor"), w.token("district.admin")
	badge := func(token string) inbox.Counts {
		t.Helper()
		var c inbox.Counts
		r := w.do(token, "GET", base+"/summary", nil)
		if r.status != 200 {
			t.Fatalf("summary: %d %s", r.status, r.body)
		}
		r.decode(t, &c)
		return c
	}
	supBefore, adminBefore := badge(sup), badge(admin)
	crisis := uuid.New()
	job := scope.Actor{DistrictID: w.district, SchoolID: own.school, Kind: scope.School, Username: "system:crisis_escalation"}
	for range 2 {
		if err := w.db.App.InTx(ctx, job, func(tx pgx.Tx) error {
			_, err := inbox.PostDistrict(ctx, tx, inbox.DistrictNotice{District: w.district, User: supervisor, Kind: "crisis_escalated", Task: true,
				Subject: "crisis", SubjectID: &crisis, DedupeKey: "crisis_escalated:" + crisis.String()})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if c := badge(sup); c.Unread != supBefore.Unread+1 || c.Open != supBefore.Open+1 {
		t.Fatalf("supervisor's badge = %+v (before %+v), want one more unread item and open task", c, supBefore)
	}
	var box inbox.Summary
	w.do(sup, "GET", base, nil).decode(t, &box)
	var item string
	for _, it := range box.Items {
		if it.Kind == "crisis_escalated" {
			if item != "" {
				t.Fatalf("the escalation is listed twice: %+v", box.Items)
			}
			item = it.ID.String()
		}
	}
	if !hasItem(box, "crisis_escalated", crisis, true) {
		t.Fatalf("supervisor's inbox: %+v", box)
	}
	if c := badge(admin); c != adminBefore {
		t.Fatalf("the administrator's badge counts the supervisor's item: %+v (before %+v)", c, adminBefore)
	}
	for _, action := range []string{"read", "done"} {
		if r := w.do(admin, "POST", base+"/"+item+"/"+action, nil); r.status != 404 {
			t.Fatalf("the administrator %s the supervisor's item: %d", action, r.status)
		}
	}
	if r := w.do(sup, "POST", base+"/"+item+"/read", nil); r.status != 200 {
		t.Fatalf("read: %d %s", r.status, r.body)
	}
	if c := badge(sup); c.Unread != supBefore.Unread || c.Open != supBefore.Open+1 {
		t.Fatalf("after reading: %+v, want the task still open", c)
	}
	if r := w.do(sup, "POST", base+"/"+item+"/done", nil); r.status != 200 {
		t.Fatalf("done: %d %s", r.status, r.body)
	}
	if c := badge(sup); c != supBefore {
		t.Fatalf("after done: %+v, want %+v", c, supBefore)
	}
	if r := w.do(sup, "POST", base+"/not-a-uuid/read", nil); r.status != 404 && r.status != 400 {
		t.Fatalf("a malformed item id: %d", r.status)
	}

	// The school badge: a counselor's unread items and open tasks in the school.
	w.victim("inbox_item", own)
	var counts inbox.Counts
	if r := w.do(w.token("counselor.s1"), "GET", "/api/v1/schools/"+own.school.String()+"/inbox/summary", nil); r.status != 200 {
		t.Fatalf("school summary: %d %s", r.status, r.body)
	} else if r.decode(t, &counts); counts.Unread < 1 {
		t.Fatalf("counselor's badge = %+v", counts)
	}
}

// Each user sets their own e-mail address and switch; bad input is refused with the
// field named and nothing stored.
func TestNotificationSettingsAreSelfService(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	teacher, leader := w.token("teacher.s1"), w.token("leader.s1")
	const path = "/api/v1/me/notification-settings"
	var s notify.Settings
	if r := w.do(teacher, "GET", path, nil); r.status != 200 {
		t.Fatalf("get: %d %s", r.status, r.body)
	} else if r.decode(t, &s); s.Email != nil || s.EmailEnabled {
		t.Fatalf("defaults: %+v", s)
	}
	for _, c := range []struct {
		body   any
		status int
		field  string
	}{
		{map[string]any{"email": "no-at-sign", "email_enabled": true}, 422, "email"},
		{map[string]any{"email": "a@example.test\r\nBcc: x@example.test", "email_enabled": true}, 422, "email"},
		{map[string]any{"email_enabled": true}, 422, "email"},
		{map[string]any{"email": "a@example.test"}, 422, "email_enabled"},
		{map[string]any{"email": 12, "email_enabled": true}, 422, "email"},
		{"[]", 400, ""},
	} {
		r := w.do(teacher, "PUT", path, c.body)
		if r.status != c.status || !strings.Contains(string(r.body), c.field) {
			t.Errorf("%v: %d %s, want %d naming %q", c.body, r.status, r.body, c.status, c.field)
		}
	}
	if w.do(teacher, "GET", path, nil).decode(t, &s); s.UpdatedAt != nil {
		t.Fatalf("a refused change was stored: %+v", s)
	}
	if r := w.do(teacher, "PUT", path, map[string]any{"email": "teacher.s1@example.test", "email_enabled": true}); r.status != 200 {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	if w.do(teacher, "GET", path, nil).decode(t, &s); s.Email == nil || *s.Email != "teacher.s1@example.test" || !s.EmailEnabled {
		t.Fatalf("saved: %+v", s)
	}
	if w.do(leader, "GET", path, nil).decode(t, &s); s.Email != nil {
		t.Fatalf("another user reads the teacher's address: %+v", s)
	}
}

// Items posted by any domain through the API queue one e-mail job each, in the same
// transaction, whose payload holds ids only.
func TestInboxItemsQueueAnEmailJobWithIdsOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	const observation = "王同学说不想活了"
	student := w.id(`SELECT id FROM students s WHERE school_id = $1 AND homeroom_id = $2
		AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) LIMIT 1`, own.school, own.homeroom)
	r := w.do(w.token("teacher.s1"), "POST", "/api/v1/schools/"+own.school.String()+"/concerns",
		map[string]any{"student_id": student, "urgency": "urgent", "observation": observation})
	if r.status != 201 {
		t.Fatalf("raise: %d %s", r.status, r.body)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var items, jobs int
		ctx := context.Background()
		tx.QueryRow(ctx, `SELECT count(*) FROM inbox_items WHERE school_id = $1 AND kind = 'concern_raised'`, own.school).Scan(&items)
		tx.QueryRow(ctx, `SELECT count(*) FROM outbox o WHERE task_type = $1 AND school_id = $2
			AND EXISTS (SELECT 1 FROM inbox_items i WHERE i.school_id = o.school_id AND i.id = (o.payload->>'item_id')::uuid AND i.kind = 'concern_raised')`,
			inbox.TypeEmail, own.school).Scan(&jobs)
		if items == 0 || jobs != items {
			t.Fatalf("inbox items %d, e-mail jobs %d: want one job per item", items, jobs)
		}
		var leaks int
		tx.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE task_type = $1 AND (payload::text LIKE '%' || $2 || '%' OR payload::text LIKE '%concern%')`,
			inbox.TypeEmail, observation).Scan(&leaks)
		if leaks != 0 {
			t.Fatalf("%d e-mail job payloads carry more than ids", leaks)
		}
	})
}

// A crisis the school leaves overdue reaches the district: the escalation job's notifier
// gives every district supervisor (and nobody else) one task in their district inbox, with
// one e-mail job, however often the job runs.
func TestAnEscalatedCrisisLandsOnceInTheSupervisorsDistrictInbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	student := w.calmStudent(s1)
	c, err := w.crises.Open(bg(), w.counselorActor(t, "s1"), s1.school, crisis.OpenInput{Source: "counselor", StudentID: &student, Level: "imminent"})
	if err != nil {
		t.Fatal(err)
	}
	run := func() {
		if _, err := w.crises.EscalateOverdue(bg(), crisis.NotifySupervisors); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Advance(16 * time.Minute) // to the leader
	run()
	items := func(username string) int {
		return w.scalar(`SELECT count(*) FROM district_inbox_items i JOIN users u ON u.id = i.user_id
			WHERE u.username = $1 AND i.kind = 'crisis_escalated' AND i.subject_id = $2`, username, c.ID)
	}
	if n := items("district.supervisor"); n != 0 {
		t.Fatalf("the supervisor has %d items before the district escalation", n)
	}
	w.clock.Advance(61 * time.Minute) // to the district
	run()
	run()
	if n := items("district.supervisor"); n != 1 {
		t.Fatalf("supervisor items = %d, want 1", n)
	}
	for _, other := range []string{"district.admin", "researcher"} {
		if n := items(other); n != 0 {
			t.Fatalf("%s has %d crisis items", other, n)
		}
	}
	var box inbox.Summary
	w.do(w.token("district.supervisor"), "GET", "/api/v1/districts/"+s1.district.String()+"/inbox", nil).decode(t, &box)
	if !hasItem(box, "crisis_escalated", c.ID, true) {
		t.Fatalf("the supervisor's inbox: %+v", box)
	}
	if n := w.scalar(`SELECT count(*) FROM outbox o JOIN district_inbox_items i ON i.id = (o.payload->>'item_id')::uuid
		WHERE o.task_type = $1 AND i.subject_id = $2`, inbox.TypeEmail, c.ID); n != 1 {
		t.Fatalf("e-mail jobs for the district item = %d, want 1", n)
	}
}
