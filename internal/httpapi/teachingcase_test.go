package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/teachingcase"
)

// A counselor drafts a teaching case from a closed case file: names, the student number,
// the homeroom, the school, the guardian, phone numbers and dates are removed and listed
// side by side; the draft is sealed and its author's alone; publishing needs every field
// reviewed and refuses an identifier typed back in; the published case names no school,
// author or file, and only the audit log links it to the original.
func TestTeachingCaseDraftedReviewedAndPublishedWithoutIdentifiers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	ctx := context.Background()
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	a := w.counselorActor(t, "s1")

	var name, number, homeroom string
	var student uuid.UUID
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(ctx, `SELECT s.id, s.name, s.student_number, h.name FROM students s JOIN org_units h ON h.school_id = s.school_id AND h.id = s.homeroom_id
			WHERE s.school_id = $1 AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) LIMIT 1`, own.school).
			Scan(&student, &name, &number, &homeroom)
		if _, err := tx.Exec(ctx, `UPDATE students SET guardians = '[{"name":"赵桂芳","relation":"母亲","phone":"13912345678"}]' WHERE id = $1`, student); err != nil {
			t.Fatal(err)
		}
		tx.Commit(ctx)
	})
	c, err := w.cases.Open(ctx, a, own.school, student)
	if err != nil {
		t.Fatal(err)
	}
	summary := name + "（学号" + number + "，" + homeroom + "）自述与同学矛盾，示范区第一中学心理辅导室于2026年3月5日约谈；母亲赵桂芳来电13912345678。"
	if _, err := w.cases.RecordSession(ctx, a, own.school, c.ID, casefile.SessionInput{OccurredAt: time.Now().Add(-30 * 24 * time.Hour), Channel: "walk_in",
		Participants: []string{"student"}, InitiatedBy: "self", Categories: []string{"family"}, DurationMinutes: 40, Summary: summary, NextSteps: "下周三再约"}); err != nil {
		t.Fatal(err)
	}
	if r := w.do(counselor, "POST", base+"/case-files/"+c.ID.String()+"/teaching-case", nil); r.status != 409 {
		t.Fatalf("drafting from an open file: %d %s", r.status, r.body)
	}
	if _, err := w.cases.SetStatus(ctx, a, own.school, c.ID, "closed", "目标达成"); err != nil {
		t.Fatal(err)
	}
	r := w.do(counselor, "POST", base+"/case-files/"+c.ID.String()+"/teaching-case", nil)
	if r.status != 201 {
		t.Fatalf("draft: %d %s", r.status, r.body)
	}
	var d teachingcase.Draft
	r.decode(t, &d)
	all := strings.Join([]string{d.Fields["title"], d.Fields["background"], d.Fields["presenting_concern"], d.Fields["process"], d.Fields["outcome"]}, "\n")
	for _, leak := range []string{name, number, homeroom, "示范区第一中学", "赵桂芳", "13912345678", "2026年3月5日"} {
		if strings.Contains(all, leak) {
			t.Errorf("the draft still holds %q:\n%s", leak, all)
		}
	}
	for _, want := range []string{"[学生]", "[学号]", "[班级]", "[学校]", "[家长]", "[电话]", "[日期]", "第1次"} {
		if !strings.Contains(d.Fields["process"], want) {
			t.Errorf("the process lacks %q: %s", want, d.Fields["process"])
		}
	}
	kinds := map[string]bool{}
	for _, rm := range d.Removed {
		kinds[rm.Kind] = true
	}
	for _, k := range []string{"student_name", "student_number", "homeroom", "school", "guardian_name", "phone", "date"} {
		if !kinds[k] {
			t.Errorf("the side-by-side list lacks %s: %+v", k, d.Removed)
		}
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var draft []byte
		var school *uuid.UUID
		tx.QueryRow(ctx, `SELECT draft, school_id FROM teaching_cases WHERE id = $1`, d.ID).Scan(&draft, &school)
		if len(draft) == 0 || bytes.Contains(draft, []byte("[学生]")) || bytes.Contains(draft, []byte(name)) {
			t.Errorf("the draft is stored in clear")
		}
	})
	// The link to the original: the audit log, nowhere else.
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'teaching_cases.draft' AND object_id = $1 AND reason LIKE '%' || $2`, d.ID.String(), c.ID.String()); n != 1 {
		t.Fatal("the audit log does not link the draft to its file")
	}

	// Another counselor's view and the leader's: nothing.
	if r := w.do(w.token("leader.s1"), "GET", base+"/teaching-case-drafts", nil); r.status != 403 {
		t.Fatalf("the leader lists drafts: %d", r.status)
	}

	// Publishing: every field must be reviewed.
	r = w.do(counselor, "POST", base+"/teaching-case-drafts/"+d.ID.String()+"/publish", nil)
	if p := w.problem(t, r); r.status != 422 || len(p.Errors) != len(teachingcase.Fields) || p.Errors[0].Code != "not_reviewed" {
		t.Fatalf("publishing unreviewed: %d %s", r.status, r.body)
	}
	marks := map[string]bool{}
	for _, f := range teachingcase.Fields {
		marks[f] = true
	}
	// An identifier typed back in is caught.
	r = w.do(counselor, "PUT", base+"/teaching-case-drafts/"+d.ID.String(), map[string]any{
		"fields": map[string]string{"reflection": "回顾：" + name + "的同伴关系改善明显"}, "reviewed": marks})
	if r.status != 200 {
		t.Fatalf("review: %d %s", r.status, r.body)
	}
	r = w.do(counselor, "POST", base+"/teaching-case-drafts/"+d.ID.String()+"/publish", nil)
	if p := w.problem(t, r); r.status != 422 || p.Errors[0].Field != "fields.reflection" || p.Errors[0].Code != "identifier_left" {
		t.Fatalf("publishing with the name: %d %s", r.status, r.body)
	}
	// An edit without a new review mark loses the mark.
	r = w.do(counselor, "PUT", base+"/teaching-case-drafts/"+d.ID.String(), map[string]any{"fields": map[string]string{"reflection": "回顾：同伴关系改善明显，建立信任是关键"}})
	var again teachingcase.Draft
	r.decode(t, &again)
	if again.Reviewed["reflection"] || !again.Reviewed["process"] {
		t.Fatalf("review marks after an edit: %+v", again.Reviewed)
	}
	w.do(counselor, "PUT", base+"/teaching-case-drafts/"+d.ID.String(), map[string]any{"reviewed": map[string]bool{"reflection": true}})
	r = w.do(counselor, "POST", base+"/teaching-case-drafts/"+d.ID.String()+"/publish", nil)
	var pub teachingcase.Published
	r.decode(t, &pub)
	if r.status != 200 || pub.Fields["reflection"] == "" || pub.Title == "" {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var school, author *uuid.UUID
		var draft []byte
		var fields []byte
		tx.QueryRow(ctx, `SELECT school_id, author_id, draft, fields::text FROM teaching_cases WHERE id = $1`, d.ID).Scan(&school, &author, &draft, &fields)
		if school != nil || author != nil || draft != nil || bytes.Contains(fields, []byte(c.ID.String())) {
			t.Errorf("the published case keeps a link: school %v author %v draft %d bytes", school, author, len(draft))
		}
	})

	// The district's bank: counselors of every school of the district, supervisors, admins; not another district.
	for _, who := range []struct{ tok, path string }{
		{w.token("counselor.s2"), "/api/v1/schools/" + w.schools["s2"].String() + "/teaching-cases"},
		{w.token("district.supervisor"), "/api/v1/districts/" + own.district.String() + "/teaching-cases"},
		{w.token("district.admin"), "/api/v1/districts/" + own.district.String() + "/teaching-cases"},
	} {
		var bank struct{ Items []teachingcase.Published }
		r := w.do(who.tok, "GET", who.path, nil)
		r.decode(t, &bank)
		if len(bank.Items) != 1 || bank.Items[0].ID != d.ID {
			t.Fatalf("bank %s: %s", who.path, r.body)
		}
		for _, leak := range []string{name, number, own.school.String(), c.ID.String(), student.String()} {
			if strings.Contains(string(r.body), leak) {
				t.Fatalf("the bank shows %q", leak)
			}
		}
	}
	var foreign struct{ Items []json.RawMessage }
	w.do(w.token("d2.counselor.s1"), "GET", "/api/v1/schools/"+w.schools["d2.s1"].String()+"/teaching-cases", nil).decode(t, &foreign)
	if len(foreign.Items) != 0 {
		t.Fatal("another district's bank shows our case")
	}
	if r := w.do(counselor, "PUT", base+"/teaching-case-drafts/"+d.ID.String(), map[string]any{"reviewed": marks}); r.status != 404 {
		t.Fatalf("editing a published case: %d", r.status)
	}
}

// Another counselor of the same school cannot read, edit, publish or discard a draft.
func TestTeachingCaseDraftIsItsAuthorsAlone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	draft := w.teachingDraft(own, true)
	// A second counselor of the school, behind the API.
	other := w.victim("user", own)
	w.ownerQuery(func(tx pgx.Tx) {
		ctx := context.Background()
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (id, user_id, district_id, scope_type, school_id, role) VALUES ($1, $2, $3, 'school', $4, 'counselor')`,
			uuid.New(), other, own.district, own.school); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'counselor.s1') WHERE id = $1`, other); err != nil {
			t.Fatal(err)
		}
		tx.Commit(ctx)
	})
	var username string
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(context.Background(), `SELECT username FROM users WHERE id = $1`, other).Scan(&username)
	})
	tok := w.token(username)
	base := "/api/v1/schools/" + own.school.String() + "/teaching-case-drafts"
	var list struct{ Items []teachingcase.Draft }
	w.do(tok, "GET", base, nil).decode(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another counselor sees the draft: %+v", list.Items)
	}
	for _, c := range []struct{ method, path string }{
		{"PUT", base + "/" + draft.String()}, {"POST", base + "/" + draft.String() + "/publish"}, {"DELETE", base + "/" + draft.String()},
	} {
		var body any
		if c.method == "PUT" {
			body = map[string]any{"fields": map[string]string{"reflection": "x"}}
		}
		if r := w.do(tok, c.method, c.path, body); r.status != 404 {
			t.Errorf("%s %s by another counselor: %d", c.method, c.path, r.status)
		}
	}
	if r := w.do(w.token("counselor.s1"), "PUT", base+"/"+draft.String(), map[string]any{"fields": map[string]string{"notes": "x"}}); r.status != 422 {
		t.Errorf("an unknown field: %d", r.status)
	}
	if r := w.do(w.token("counselor.s1"), "DELETE", base+"/"+draft.String(), nil); r.status != 204 {
		t.Errorf("discard: %d", r.status)
	}
}
