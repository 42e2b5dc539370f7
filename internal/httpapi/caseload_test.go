package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/inbox"
)

// The caseload-only rule, hand-off between counselors, and the archive of a graduate.
func TestCaseloadOnlyHandoffAndArchive(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	// A second counselor: the school leader is made counselor too.
	leaderID := w.id(`SELECT id FROM users WHERE username = 'leader.s1'`)
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `INSERT INTO memberships (id, user_id, district_id, scope_type, school_id, role)
			VALUES ($1, $2, $3, 'school', $4, 'counselor')`, uuid.New(), leaderID, w.district, own.school); err != nil {
			t.Fatal(err)
		}
		tx.Commit(context.Background())
	})
	w.enforcer.Reload()
	a, b := w.token("counselor.s1"), w.login("leader.s1")
	open := func(tok string) casefile.CaseFile {
		t.Helper()
		student := w.id(`SELECT id FROM students s WHERE school_id = $1 AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.student_id = s.id) LIMIT 1`, own.school)
		r := w.do(tok, "POST", base+"/case-files", map[string]any{"student_id": student})
		var c casefile.CaseFile
		r.decode(t, &c)
		if r.status != 201 {
			t.Fatalf("open: %d %s", r.status, r.body)
		}
		return c
	}
	x, y := open(a), open(b)
	w.newPlan("s1", y.ID)
	r := w.do(a, "POST", base+"/case-files/"+x.ID.String()+"/sessions", map[string]any{
		"occurred_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "channel": "walk_in", "participants": []string{"student"},
		"initiated_by": "self", "duration_minutes": 30, "summary": "初次来访", "private_note": "只有我能看到的工作假设"})
	if r.status != 201 {
		t.Fatalf("session: %d %s", r.status, r.body)
	}
	reads := func(tok string, c casefile.CaseFile) int {
		return w.do(tok, "GET", base+"/case-files/"+c.ID.String(), nil).status
	}
	inCatalogue := func(tok string, c casefile.CaseFile) bool {
		var p struct {
			Items []struct {
				CaseFileID uuid.UUID `json:"case_file_id"`
			}
		}
		w.do(tok, "GET", base+"/case-files?limit=200", nil).decode(t, &p)
		for _, e := range p.Items {
			if e.CaseFileID == c.ID {
				return true
			}
		}
		return false
	}
	if reads(a, y) != 200 || !inCatalogue(a, y) {
		t.Fatal("by default a counselor sees every case file of the school")
	}
	if r := w.do(w.token("counselor.s1"), "PUT", base+"/settings", map[string]any{"caseload_only": true}); r.status != 403 {
		t.Fatalf("a counselor changes the setting: %d", r.status)
	}
	if r := w.do(b, "PUT", base+"/settings", map[string]any{"caseload_only": true}); r.status != 200 {
		t.Fatalf("leader turns caseload-only on: %d %s", r.status, r.body)
	}
	if reads(a, y) != 404 || inCatalogue(a, y) || reads(a, x) != 200 || !inCatalogue(a, x) {
		t.Fatal("caseload-only: a counselor sees exactly their own case files")
	}
	// Opening a new file still works under the rule, and it is the opener's.
	if z := open(a); reads(a, z) != 200 || reads(b, z) != 404 {
		t.Fatal("caseload-only: a newly opened file belongs to its opener")
	}
	// A student whose file is a peer's: a conflict, as without the rule.
	if r := w.do(a, "POST", base+"/case-files", map[string]any{"student_id": y.StudentID}); r.status != 409 {
		t.Fatalf("opening a second file for a peer's student: %d %s", r.status, r.body)
	}
	// A peer's case file is out of reach on every route of a case file, reads and writes
	// alike, exactly as if it did not exist; the owner still reaches it.
	peer := []struct{ method, path string }{
		{"GET", ""}, {"GET", "/timeline"}, {"GET", "/events"}, {"GET", "/risk-tiers"}, {"GET", "/documents"},
		{"GET", "/consents"}, {"GET", "/disclosures"}, {"GET", "/support-plans"}, {"GET", "/emergency-access"},
		{"PATCH", ""}, {"POST", "/sessions"}, {"PUT", "/risk-tier"}, {"POST", "/handoff"}, {"POST", "/consents"},
		{"POST", "/disclosures"}, {"POST", "/inquiries"}, {"POST", "/support-plans"},
	}
	for _, p := range peer {
		body := map[string]any{}
		if p.method == "PATCH" {
			body = map[string]any{"status": "monitoring"}
		}
		if p.method == "GET" {
			body = nil
		}
		missing := w.do(a, p.method, base+"/case-files/"+uuid.NewString()+p.path, body)
		if r := w.do(a, p.method, base+"/case-files/"+y.ID.String()+p.path, body); r.status != missing.status || (p.method == "GET" && r.status != 404) {
			t.Errorf("%s %s of a peer's case file under caseload-only: %d (a missing file: %d) %s", p.method, p.path, r.status, missing.status, r.body)
		}
		if p.method == "GET" {
			if r := w.do(b, p.method, base+"/case-files/"+y.ID.String()+p.path, nil); r.status != 200 {
				t.Errorf("%s %s by the file's own counselor: %d", p.method, p.path, r.status)
			}
		}
	}

	// Bad hand-offs change nothing.
	teacherID := w.id(`SELECT id FROM users WHERE username = 'teacher.s1'`)
	for name, body := range map[string]map[string]any{
		"nobody":        {"counselors": []uuid.UUID{}, "reason": "调岗"},
		"no reason":     {"counselors": []uuid.UUID{leaderID}, "reason": " "},
		"not counselor": {"counselors": []uuid.UUID{teacherID}, "reason": "调岗"},
		"stranger":      {"counselors": []uuid.UUID{uuid.New()}, "reason": "调岗"},
	} {
		if r := w.do(a, "POST", base+"/case-files/"+x.ID.String()+"/handoff", body); r.status != 422 {
			t.Errorf("hand-off %s: %d %s", name, r.status, r.body)
		}
	}
	if r := w.do(a, "POST", base+"/case-files/"+x.ID.String()+"/handoff", map[string]any{"counselors": []uuid.UUID{leaderID}, "reason": "本人调岗，交接给同事"}); r.status != 200 {
		t.Fatalf("hand-off: %d %s", r.status, r.body)
	}
	if reads(a, x) != 404 || reads(b, x) != 200 {
		t.Fatal("after the hand-off under caseload-only the file is the new counselor's only")
	}
	var tl struct{ Items []casefile.Session }
	w.do(b, "GET", base+"/case-files/"+x.ID.String()+"/timeline", nil).decode(t, &tl)
	if len(tl.Items) != 1 || tl.Items[0].PrivateNote != nil {
		t.Fatalf("the previous counselor's private note stays sealed: %+v", tl.Items)
	}
	var box inbox.Summary
	w.do(b, "GET", base+"/inbox", nil).decode(t, &box)
	found := false
	for _, it := range box.Items {
		found = found || (it.Kind == "case_file_assigned" && it.CaseFileID != nil && *it.CaseFileID == x.ID)
	}
	if !found {
		t.Fatalf("the new counselor is told: %+v", box.Items)
	}
	if n := w.scalar(`SELECT count(*) FROM case_file_handoffs WHERE case_file_id = $1`, x.ID); n != 1 {
		t.Fatalf("hand-off history rows: %d", n)
	}
	w.do(b, "PUT", base+"/settings", map[string]any{"caseload_only": false})
	if reads(a, x) != 200 {
		t.Fatal("caseload-only off: the school's counselors see the file again")
	}

	// A graduate's case file is archived and read-only.
	if r := w.do(b, "PATCH", base+"/students/"+x.StudentID.String(), map[string]any{"status": "graduated"}); r.status != 200 {
		t.Fatalf("graduate: %d %s", r.status, r.body)
	}
	var got casefile.CaseFile
	w.do(a, "GET", base+"/case-files/"+x.ID.String(), nil).decode(t, &got)
	if got.Status != "archived" || got.ArchivedAt == nil || got.ArchiveReason == nil || *got.ArchiveReason != "graduated" {
		t.Fatalf("archived on graduation: %+v", got)
	}
	for _, c := range []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", "/sessions", map[string]any{"occurred_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "channel": "phone",
			"participants": []string{"guardian"}, "initiated_by": "guardian", "duration_minutes": 10, "summary": "x"}},
		{"PUT", "/risk-tier", map[string]any{"tier": "watch", "reason": "x"}},
		{"PATCH", "", map[string]any{"status": "open"}},
		{"POST", "/handoff", map[string]any{"counselors": []uuid.UUID{leaderID}, "reason": "x"}},
	} {
		if r := w.do(a, c.method, base+"/case-files/"+x.ID.String()+c.path, c.body); r.status != 409 {
			t.Errorf("%s %s on an archived file: %d %s", c.method, c.path, r.status, r.body)
		}
	}
}
