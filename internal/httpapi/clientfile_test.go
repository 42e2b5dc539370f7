package httpapi_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/clientfile"
)

// A counselor opens a teacher's confidential file and records a session: names and
// notes are encrypted, every access is audited; the school leader, the teacher and
// district roles are refused; the file is in no student view; another school finds nothing.
func TestStaffClientFileIsCounselorsOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	ctx := context.Background()
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	teacherID := w.id(`SELECT id FROM users WHERE username = 'teacher.s1'`)
	r := w.do(counselor, "POST", base+"/client-files", map[string]any{"client_kind": "teacher", "staff_user_id": teacherID, "name": "张老师", "contact": "13700001111"})
	if r.status != 201 {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	var f clientfile.File
	r.decode(t, &f)
	const summary = "教学压力大，失眠两周，担心被领导知道"
	r = w.do(counselor, "POST", base+"/client-files/"+f.ID.String()+"/sessions", map[string]any{
		"occurred_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "channel": "walk_in", "duration_minutes": 50, "summary": summary, "note": "下周再约"})
	if r.status != 201 {
		t.Fatalf("session: %d %s", r.status, r.body)
	}
	var got clientfile.File
	w.do(counselor, "GET", base+"/client-files/"+f.ID.String(), nil).decode(t, &got)
	if got.Name != "张老师" || got.Contact != "13700001111" || len(got.Sessions) != 1 || got.Sessions[0].Summary != summary {
		t.Fatalf("file: %+v", got)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var name, sum []byte
		tx.QueryRow(ctx, `SELECT f.name, s.summary FROM client_files f JOIN client_sessions s ON s.school_id = f.school_id AND s.client_file_id = f.id WHERE f.id = $1`, f.ID).Scan(&name, &sum)
		if len(name) == 0 || bytes.Contains(name, []byte("张老师")) || bytes.Contains(sum, []byte("失眠")) {
			t.Errorf("stored in clear: %q %q", name, sum)
		}
	})
	for _, who := range []string{"leader.s1", "teacher.s1", "liaison.s1"} {
		for _, path := range []string{base + "/client-files", base + "/client-files/" + f.ID.String()} {
			if r := w.do(w.token(who), "GET", path, nil); r.status != 403 {
				t.Errorf("%s reads %s: %d", who, path, r.status)
			}
		}
	}
	for _, who := range []string{"district.admin", "district.supervisor"} {
		if r := w.do(w.token(who), "GET", base+"/client-files/"+f.ID.String(), nil); r.status != 403 {
			t.Errorf("%s reads the file: %d", who, r.status)
		}
	}
	// The warning list and the catalogue (the leader's and counselors' student views) never show it.
	for _, view := range []struct{ who, path string }{{"leader.s1", base + "/warning-list"}, {"counselor.s1", base + "/case-files"}} {
		if r := w.do(w.token(view.who), "GET", view.path, nil); strings.Contains(string(r.body), "张老师") || strings.Contains(string(r.body), f.ID.String()) {
			t.Errorf("%s shows the client", view.path)
		}
	}
	if r := w.do(w.token("counselor.s2"), "GET", "/api/v1/schools/"+w.schools["s2"].String()+"/client-files/"+f.ID.String(), nil); r.status != 404 {
		t.Errorf("another school's counselor: %d", r.status)
	}
	if r := w.do(counselor, "POST", base+"/client-files", map[string]any{"client_kind": "teacher", "staff_user_id": teacherID, "name": "张老师"}); r.status != 409 {
		t.Errorf("a second file for the same colleague: %d", r.status)
	}
	if w.auditCount("client_files.read", "allowed") != 1 || w.auditCount("client_files.record_session", "allowed") != 1 {
		t.Fatal("reads and writes are audited")
	}
}

// A counselor who is also a client never reads their own file, even as a counselor.
func TestCounselorNeverReadsOwnClientFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	self := w.id(`SELECT id FROM users WHERE username = 'counselor.s1'`)
	// A colleague counselor opens a file for counselor.s1, behind the API.
	colleague := w.victim("user", own)
	w.ownerQuery(func(tx pgx.Tx) {
		ctx := context.Background()
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (id, user_id, district_id, scope_type, school_id, role) VALUES ($1, $2, $3, 'school', $4, 'counselor')`,
			uuid.New(), colleague, own.district, own.school); err != nil {
			t.Fatal(err)
		}
		tx.Commit(ctx)
	})
	a := w.counselorActor(t, "s1")
	a.UserID = colleague
	f, err := w.clients.Open(context.Background(), a, own.school, clientfile.OpenInput{ClientKind: "teacher", StaffUserID: &self, Name: "本人"})
	if err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/schools/" + own.school.String()
	if r := w.do(w.token("counselor.s1"), "GET", base+"/client-files/"+f.ID.String(), nil); r.status != 404 {
		t.Fatalf("a counselor reads their own client file: %d", r.status)
	}
	var list struct{ Items []clientfile.File }
	w.do(w.token("counselor.s1"), "GET", base+"/client-files", nil).decode(t, &list)
	for _, x := range list.Items {
		if x.ID == f.ID {
			t.Fatal("the own file is listed")
		}
	}
}

// Bad client-file input is refused with a problem naming the field; nothing is stored.
func TestClientFileBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	foreignTeacher := w.id(`SELECT id FROM users WHERE username = 'teacher.s2'`)
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no name", map[string]any{"client_kind": "guardian"}, "name"},
		{"a student", map[string]any{"client_kind": "student", "name": "x"}, "client_kind"},
		{"a guardian with an account", map[string]any{"client_kind": "guardian", "name": "x", "staff_user_id": foreignTeacher}, "staff_user_id"},
		{"another school's teacher", map[string]any{"client_kind": "teacher", "name": "x", "staff_user_id": foreignTeacher}, "staff_user_id"},
	} {
		r := w.do(counselor, "POST", base+"/client-files", c.body)
		if r.status != 422 {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); p.Errors[0].Field != c.field {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM client_files`); n != 0 {
		t.Fatalf("%d files stored from bad input", n)
	}
	id := w.clientFile(own)
	for _, body := range []map[string]any{
		{"occurred_at": time.Now().Add(time.Hour).Format(time.RFC3339), "channel": "phone", "duration_minutes": 10, "summary": "x"},
		{"occurred_at": time.Now().Format(time.RFC3339), "channel": "letter", "duration_minutes": 10, "summary": "x"},
		{"occurred_at": time.Now().Format(time.RFC3339), "channel": "phone", "duration_minutes": 10, "summary": " "},
	} {
		if r := w.do(counselor, "POST", base+"/client-files/"+id.String()+"/sessions", body); r.status != 422 {
			t.Errorf("session %v: %d", body, r.status)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM client_sessions`); n != 0 {
		t.Fatalf("%d sessions stored from bad input", n)
	}
}
