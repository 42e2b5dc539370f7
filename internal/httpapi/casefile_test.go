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
)

func TestCaseFileSessionsNotesAndPrivacy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	// A second counselor of the school: the leader is made counselor too.
	leaderID := w.id(`SELECT id FROM users WHERE username = 'leader.s1'`)
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `INSERT INTO memberships (id, user_id, district_id, scope_type, school_id, role)
			VALUES ($1, $2, $3, 'school', $4, 'counselor')`, uuid.New(), leaderID, w.district, own.school); err != nil {
			t.Fatal(err)
		}
		tx.Commit(context.Background())
	})
	w.enforcer.Reload()
	second := w.login("leader.s1")

	student := w.id(`SELECT id FROM students s WHERE school_id = $1 AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.student_id = s.id) LIMIT 1`, own.school)
	r := w.do(counselor, "POST", base+"/case-files", map[string]any{"student_id": student})
	if r.status != 201 {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	var cf casefile.CaseFile
	r.decode(t, &cf)
	if r := w.do(counselor, "POST", base+"/case-files", map[string]any{"student_id": student}); r.status != 409 {
		t.Fatalf("a second case file for the student: %d", r.status)
	}
	const note, private = "学生谈到与父母的冲突，情绪低落。", "我的工作假设：依恋问题（仅自己可见）"
	r = w.do(counselor, "POST", base+"/case-files/"+cf.ID.String()+"/sessions", map[string]any{
		"occurred_at": time.Now().Add(-2 * time.Hour).Format(time.RFC3339), "channel": "walk_in", "participants": []string{"student"},
		"initiated_by": "self", "categories": []string{"family", "emotion"}, "duration_minutes": 45,
		"summary": "家庭关系困扰", "next_steps": "一周后复谈", "note": note, "private_note": private})
	if r.status != 201 {
		t.Fatalf("record: %d %s", r.status, r.body)
	}
	var s casefile.Session
	r.decode(t, &s)
	if s.PrivateNote == nil || *s.PrivateNote != private || s.Note != note {
		t.Fatalf("the author reads back both notes: %s", r.body)
	}
	// At rest, nothing is readable.
	w.ownerQuery(func(tx pgx.Tx) {
		var summary, n, p []byte
		tx.QueryRow(context.Background(), `SELECT summary, note, private_note FROM counseling_sessions WHERE id = $1`, s.ID).Scan(&summary, &n, &p)
		for _, b := range [][]byte{summary, n, p} {
			if len(b) == 0 || bytes.Contains(b, []byte("家庭")) || bytes.Contains(b, []byte("冲突")) || bytes.Contains(b, []byte("依恋")) {
				t.Fatal("free text is stored in clear")
			}
		}
	})
	// Another counselor sees the session and its note, never the private note.
	r = w.do(second, "GET", base+"/case-files/"+cf.ID.String()+"/timeline", nil)
	if r.status != 200 || !strings.Contains(string(r.body), note) || strings.Contains(string(r.body), "依恋") || strings.Contains(string(r.body), "private_note") {
		t.Fatalf("timeline for another counselor: %d %s", r.status, r.body)
	}
	// Sign: locked; changes become addenda that keep the original.
	sess := base + "/sessions/" + s.ID.String()
	if r := w.do(counselor, "POST", sess+"/addenda", map[string]any{"body": "x"}); r.status != 409 {
		t.Fatalf("an addendum to an unsigned note: %d", r.status)
	}
	if r := w.do(counselor, "PUT", sess+"/note", map[string]any{"note": note + "（修改）"}); r.status != 200 {
		t.Fatalf("edit unsigned: %d", r.status)
	}
	if r := w.do(counselor, "POST", sess+"/sign", nil); r.status != 200 {
		t.Fatalf("sign: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "PUT", sess+"/note", map[string]any{"note": "改写"}); r.status != 409 {
		t.Fatalf("a signed note is locked: %d", r.status)
	}
	if r := w.do(counselor, "POST", sess+"/sign", nil); r.status != 409 {
		t.Fatalf("signing twice: %d", r.status)
	}
	r = w.do(counselor, "POST", sess+"/addenda", map[string]any{"body": "补记：家长来电"})
	if r.status != 201 {
		t.Fatalf("addendum: %d", r.status)
	}
	r.decode(t, &s)
	if s.Note != note+"（修改）" || len(s.Addenda) != 1 || s.Addenda[0].Body != "补记：家长来电" || s.NoteSignedAt == nil {
		t.Fatalf("after the addendum: %+v", s)
	}
	// Even the owner cannot rewrite a signed note in SQL: the trigger refuses.
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `UPDATE counseling_sessions SET note = NULL WHERE id = $1`, s.ID); err == nil {
			t.Fatal("a signed note was rewritten")
		}
	})
	// Reads are audited; archived files are read-only.
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'case_files.timeline' AND object_id = $1`, cf.ID.String()); n != 1 {
		t.Fatalf("timeline reads audited: %d", n)
	}
	if r := w.do(counselor, "PATCH", base+"/case-files/"+cf.ID.String(), map[string]any{"status": "archived"}); r.status != 200 {
		t.Fatalf("archive: %d", r.status)
	}
	if r := w.do(counselor, "POST", base+"/case-files/"+cf.ID.String()+"/sessions", map[string]any{
		"occurred_at": time.Now().Format(time.RFC3339), "channel": "phone", "participants": []string{"guardian"},
		"initiated_by": "guardian", "duration_minutes": 5, "summary": "x"}); r.status != 409 {
		t.Fatalf("a session in an archived file: %d", r.status)
	}
	// Bad input changes nothing.
	for _, body := range []map[string]any{
		{"occurred_at": time.Now().Add(time.Hour).Format(time.RFC3339), "channel": "phone", "participants": []string{"student"}, "initiated_by": "self", "duration_minutes": 5, "summary": "x"},
		{"occurred_at": time.Now().Format(time.RFC3339), "channel": "fax", "participants": []string{"student"}, "initiated_by": "self", "duration_minutes": 5, "summary": "x"},
		{"occurred_at": time.Now().Format(time.RFC3339), "channel": "phone", "participants": []string{}, "initiated_by": "self", "duration_minutes": 0, "summary": ""},
	} {
		if r := w.do(counselor, "POST", base+"/case-files/"+own.caseFile.String()+"/sessions", body); r.status != 422 {
			t.Fatalf("bad session input: %d %s", r.status, r.body)
		}
	}
}

func TestNotesAreSignedAutomaticallyAfter24Hours(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	fresh := w.newSession("s1", own.caseFile, false)
	old := w.newSession("s1", own.caseFile, false)
	w.ownerQuery(func(tx pgx.Tx) {
		tx.Exec(context.Background(), `UPDATE counseling_sessions SET created_at = now() - interval '25 hours' WHERE id = $1`, old)
		tx.Commit(context.Background())
	})
	n, err := w.cases.SignAllOverdue(context.Background(), 24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("signed %d, %v", n, err)
	}
	if c := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'sessions.auto_sign' AND school_id = $1`, own.school); c != 1 {
		t.Fatalf("auto-signing is audited in the school's chain: %d", c)
	}
	if w.scalar(`SELECT count(*) FROM counseling_sessions WHERE id = $1 AND note_signed_at IS NOT NULL`, old) != 1 ||
		w.scalar(`SELECT count(*) FROM counseling_sessions WHERE id = $1 AND note_signed_at IS NULL`, fresh) != 1 {
		t.Fatal("only the note older than 24 h is signed")
	}
}

func TestRiskTiersAndWarningList(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor, leader, teacher := w.token("counselor.s1"), w.token("leader.s1"), w.token("teacher.s1")
	file := base + "/case-files/" + own.caseFile.String()
	for _, step := range []struct {
		tier, reason string
		status       int
	}{
		{"high", "表达了自伤念头", 200},
		{"high", "重复", 409},
		{"severe", "x", 422},
		{"watch", "", 422},
		{"elevated", "情况好转，降级观察", 200},
	} {
		if r := w.do(counselor, "PUT", file+"/risk-tier", map[string]any{"tier": step.tier, "reason": step.reason}); r.status != step.status {
			t.Fatalf("%s: want %d, got %d %s", step.tier, step.status, r.status, r.body)
		}
	}
	r := w.do(counselor, "GET", file+"/risk-tiers", nil)
	var hist struct {
		Items []casefile.TierChange `json:"items"`
	}
	r.decode(t, &hist)
	if len(hist.Items) != 2 || hist.Items[0].FromTier != "none" || hist.Items[0].ToTier != "high" || hist.Items[0].Reason != "表达了自伤念头" ||
		hist.Items[1].ToTier != "elevated" {
		t.Fatalf("history: %s", r.body)
	}
	// A second student at crisis sorts first.
	other := w.id(`SELECT id FROM students s WHERE school_id = $1 AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.student_id = s.id) LIMIT 1`, own.school)
	cf, err := w.cases.Open(context.Background(), w.counselorActor(t, "s1"), own.school, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.cases.SetTier(context.Background(), w.counselorActor(t, "s1"), own.school, cf.ID, "crisis", "危机"); err != nil {
		t.Fatal(err)
	}
	r = w.do(leader, "GET", base+"/warning-list", nil)
	if r.status != 200 {
		t.Fatalf("leader warning list: %d", r.status)
	}
	var list struct {
		Items []casefile.Warning `json:"items"`
	}
	r.decode(t, &list)
	if len(list.Items) != 2 || list.Items[0].RiskTier != "crisis" || list.Items[1].RiskTier != "elevated" || list.Items[1].DaysSinceContact == nil {
		t.Fatalf("warning list: %s", r.body)
	}
	if strings.Contains(string(r.body), "自伤") || strings.Contains(string(r.body), canary("s1")) {
		t.Fatal("the warning list carries no reasons or notes")
	}
	// The leader sees the list, not the file; the homeroom teacher sees neither.
	if r := w.do(leader, "GET", file+"/timeline", nil); r.status != 403 {
		t.Fatalf("leader timeline: %d", r.status)
	}
	if r := w.do(teacher, "GET", base+"/warning-list", nil); r.status != 403 {
		t.Fatalf("teacher warning list: %d", r.status)
	}
}

func TestArchiveCatalogueSearch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String() + "/case-files"
	if _, err := w.cases.SetTier(context.Background(), w.counselorActor(t, "s1"), own.school, own.caseFile, "high", "x"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{}, 1},
		{map[string]any{"q": own.studentNumber}, 1},
		{map[string]any{"q": "nobody"}, 0},
		{map[string]any{"risk_tier": "high"}, 1},
		{map[string]any{"risk_tier": "crisis"}, 0},
		{map[string]any{"mine": true}, 1},
		{map[string]any{"homeroom_id": own.homeroom}, 1},
	} {
		r := w.do(counselor, "POST", base+"/search", c.body)
		var p struct {
			Items []casefile.Entry `json:"items"`
		}
		r.decode(t, &p)
		if r.status != 200 || len(p.Items) != c.want {
			t.Errorf("%v: %d, %d items (want %d)", c.body, r.status, len(p.Items), c.want)
		}
	}
	// The GET list keeps its filters but refuses a search term in the address.
	if r := w.do(counselor, "GET", base+"?risk_tier=high", nil); r.status != 200 {
		t.Fatalf("GET with filters: %d", r.status)
	}
	if r := w.do(counselor, "GET", base+"?q="+own.studentNumber, nil); r.status != 400 {
		t.Fatalf("GET with a search term: %d", r.status)
	}
	if r := w.do(counselor, "POST", base+"/search", map[string]any{"risk_tier": "severe"}); r.status != 422 {
		t.Fatalf("bad tier: %d", r.status)
	}
}
