package httpapi_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/concern"
	"github.com/xinqiao/xinqiao/internal/inbox"
)

// A homeroom teacher raises a concern about a student of their homeroom; it lands in the
// counselors' intake queue and inbox; the counselor takes it in (opening the case file)
// and closes it; the teacher follows the status and learns nothing else.
func TestConcernFromTeacherToIntakeQueue(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	teacher, counselor := w.token("teacher.s1"), w.token("counselor.s1")
	const observation = "最近上课总是趴在桌上，作业未交，和同桌说不想活了"

	student := w.id(`SELECT id FROM students s WHERE school_id = $1 AND homeroom_id = $2
		AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) LIMIT 1`, own.school, own.homeroom)
	r := w.do(teacher, "POST", base+"/concerns", map[string]any{"student_id": student, "urgency": "urgent", "observation": observation})
	if r.status != 201 {
		t.Fatalf("raise: %d %s", r.status, r.body)
	}
	var raised concern.Raised
	r.decode(t, &raised)
	if raised.Status != "received" || raised.Observation != observation {
		t.Fatalf("raised: %+v", raised)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var obs []byte
		tx.QueryRow(context.Background(), `SELECT observation FROM concerns WHERE id = $1`, raised.ID).Scan(&obs)
		if len(obs) == 0 || bytes.Contains(obs, []byte("不想活了")) {
			t.Errorf("the observation is stored in clear or not at all: %q", obs)
		}
	})

	// The counselors have a task in their inbox and the concern in the queue, urgent first.
	var box inbox.Summary
	w.do(counselor, "GET", base+"/inbox", nil).decode(t, &box)
	if !hasItem(box, "concern_raised", raised.ID, true) {
		t.Fatalf("counselor inbox: %+v", box)
	}
	var queue struct{ Items []concern.Concern }
	w.do(counselor, "GET", base+"/intake", nil).decode(t, &queue)
	if len(queue.Items) == 0 || queue.Items[0].ID != raised.ID || queue.Items[0].Observation != observation || queue.Items[0].RaisedByName == "" {
		t.Fatalf("queue: %+v", queue.Items)
	}

	// Taking it in opens the student's case file and tells the teacher; the task is done.
	r = w.do(counselor, "POST", base+"/intake/"+raised.ID.String()+"/accept", nil)
	var taken concern.Concern
	r.decode(t, &taken)
	if r.status != 200 || taken.Status != "in_progress" || taken.CaseFileID == nil {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	if got := w.do(counselor, "GET", base+"/case-files/"+taken.CaseFileID.String(), nil); got.status != 200 {
		t.Fatalf("the case file opened by intake: %d", got.status)
	}
	if r := w.do(counselor, "POST", base+"/intake/"+raised.ID.String()+"/accept", nil); r.status != 409 {
		t.Fatalf("accepting twice: %d", r.status)
	}
	w.do(counselor, "GET", base+"/inbox", nil).decode(t, &box)
	if hasItem(box, "concern_raised", raised.ID, true) {
		t.Fatalf("the intake task is still open: %+v", box)
	}

	// Closing: the outcome note stays with the counselors.
	const outcomeNote = "已建档，每周一次个别辅导"
	r = w.do(counselor, "POST", base+"/intake/"+raised.ID.String()+"/close", map[string]any{"outcome": "case_opened", "note": outcomeNote})
	if r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	r = w.do(teacher, "GET", base+"/concerns", nil)
	var mine struct{ Items []concern.Raised }
	r.decode(t, &mine)
	if len(mine.Items) == 0 || mine.Items[0].ID != raised.ID || mine.Items[0].Status != "closed" {
		t.Fatalf("the teacher's view: %s", r.body)
	}
	for _, leak := range []string{outcomeNote, "case_file", "outcome", taken.CaseFileID.String()} {
		if strings.Contains(string(r.body), leak) {
			t.Errorf("the teacher's view shows %q: %s", leak, r.body)
		}
	}
	w.do(teacher, "GET", base+"/inbox", nil).decode(t, &box)
	if !hasItem(box, "concern_status_changed", raised.ID, true) {
		t.Fatalf("teacher inbox: %+v", box)
	}
	// The teacher still cannot open the case file.
	if r := w.do(teacher, "GET", base+"/case-files/"+taken.CaseFileID.String(), nil); r.status != 403 {
		t.Fatalf("teacher reads the case file: %d", r.status)
	}
	if n := w.auditCount("concerns.raise", "allowed") + w.auditCount("intake.accept", "allowed") + w.auditCount("intake.close", "allowed"); n < 3 {
		t.Fatalf("audit rows: %d", n)
	}
}

func hasItem(box inbox.Summary, kind string, subject uuid.UUID, open bool) bool {
	for _, it := range box.Items {
		if it.Kind == kind && it.SubjectID != nil && *it.SubjectID == subject && (it.DoneAt == nil) == open {
			return true
		}
	}
	return false
}

// Bad concerns are refused with a problem naming the field, and nothing is stored.
func TestConcernBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	teacher, counselor := w.token("teacher.s1"), w.token("counselor.s1")
	otherHomeroom := w.id(`SELECT id FROM students WHERE school_id = $1 AND homeroom_id <> $2 LIMIT 1`, own.school, own.homeroom)
	otherSchool := w.target("s2").student
	cases := []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"no student", map[string]any{"urgency": "soon", "observation": "x"}, 422, "student_id"},
		{"wrong urgency", map[string]any{"student_id": own.student, "urgency": "asap", "observation": "x"}, 422, "urgency"},
		{"empty observation", map[string]any{"student_id": own.student, "urgency": "soon", "observation": "  "}, 422, "observation"},
		{"another homeroom", map[string]any{"student_id": otherHomeroom, "urgency": "soon", "observation": "x"}, 422, "student_id"},
		{"another school", map[string]any{"student_id": otherSchool, "urgency": "soon", "observation": "x"}, 422, "student_id"},
		{"not a uuid", map[string]any{"student_id": "42", "urgency": "soon", "observation": "x"}, 422, ""},
	}
	for _, c := range cases {
		r := w.do(teacher, "POST", base+"/concerns", c.body)
		if r.status != c.status {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field) {
			t.Errorf("%s: problem %+v", c.name, p)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM concerns`); n != 0 {
		t.Fatalf("%d concerns stored from bad input", n)
	}
	for _, q := range []string{"?status=open", "?status=1"} {
		if r := w.do(counselor, "GET", base+"/intake"+q, nil); r.status != 422 {
			t.Errorf("queue %s: %d", q, r.status)
		}
	}
	r := w.do(teacher, "POST", base+"/concerns", map[string]any{"student_id": own.student, "urgency": "routine", "observation": "x"})
	var raised concern.Raised
	r.decode(t, &raised)
	for _, body := range []map[string]any{{"outcome": "done"}, {}} {
		if r := w.do(counselor, "POST", base+"/intake/"+raised.ID.String()+"/close", body); r.status != 422 {
			t.Errorf("close with %v: %d", body, r.status)
		}
	}
	if r := w.do(counselor, "POST", base+"/intake/"+raised.ID.String()+"/close", map[string]any{"outcome": "case_opened"}); r.status != 422 {
		t.Errorf("closing as case_opened without a case file: %d", r.status)
	}
	if r := w.do(counselor, "POST", base+"/intake/"+uuid.NewString()+"/accept", nil); r.status != 404 {
		t.Errorf("accepting a missing concern: %d", r.status)
	}
}
