package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/emergency"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// schoolLeader is the leader of a school (by code) as the domain services see it, with
// the real username, so that password re-entry works.
func (w *world) schoolLeader(code string) scope.Actor {
	w.t.Helper()
	var a scope.Actor
	w.ownerQuery(func(tx pgx.Tx) {
		if err := tx.QueryRow(context.Background(), `SELECT u.id, u.username, s.district_id FROM memberships m
			JOIN users u ON u.id = m.user_id JOIN schools s ON s.id = m.school_id
			WHERE m.school_id = $1 AND m.role = 'school_leader' ORDER BY u.username LIMIT 1`, w.schools[code]).
			Scan(&a.UserID, &a.Username, &a.DistrictID); err != nil {
			w.t.Fatal(err)
		}
	})
	a.SchoolID, a.Kind, a.Roles = w.schools[code], scope.School, []string{scope.SchoolLeader}
	return a
}

// leaderGrant gives the target school's leader an emergency grant on a fresh case file
// (one without the canary session) and returns the grant's id.
func (w *world) leaderGrant(t target) uuid.UUID {
	w.t.Helper()
	ctx := context.Background()
	// A case file without sessions: the one a previous call opened, or a new one.
	var file, free uuid.UUID
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(ctx, `SELECT id FROM case_files c WHERE school_id = $1
			AND NOT EXISTS (SELECT 1 FROM counseling_sessions s WHERE s.school_id = c.school_id AND s.case_file_id = c.id) LIMIT 1`, t.school).Scan(&file)
		tx.QueryRow(ctx, `SELECT id FROM students s WHERE school_id = $1
			AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) ORDER BY student_number DESC LIMIT 1`, t.school).Scan(&free)
	})
	if file == uuid.Nil {
		c, err := w.cases.Open(ctx, w.counselorActor(w.t, t.code), t.school, free)
		if err != nil {
			w.t.Fatal(err)
		}
		file = c.ID
	}
	g, err := w.emergency.Open(ctx, w.schoolLeader(t.code), t.school, file, emergency.Request{Reason: "测试用紧急查阅", Password: demo.Password})
	if err != nil {
		w.t.Fatal(err)
	}
	return g.ID
}

func emergencyPath(school, caseFile uuid.UUID) string {
	return "/api/v1/schools/" + school.String() + "/case-files/" + caseFile.String() + "/emergency-access"
}

func (w *world) grantCount() int { return w.scalar(`SELECT count(*) FROM emergency_grants`) }

func TestEmergencyAccessRequestIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	path := emergencyPath(own.school, own.caseFile)
	tests := []struct {
		name, user string
		body       any
		status     int
		field      string
	}{
		{"empty reason", "leader.s1", map[string]string{"reason": "  ", "password": demo.Password}, 422, "reason"},
		{"no password", "leader.s1", map[string]string{"reason": "学生失联"}, 422, "password"},
		{"a reason too long", "leader.s1", map[string]string{"reason": strings.Repeat("长", 1001), "password": demo.Password}, 422, "reason"},
		{"counselor", "counselor.s1", map[string]string{"reason": "学生失联", "password": demo.Password}, 403, ""},
		{"homeroom teacher", "teacher.s1", map[string]string{"reason": "学生失联", "password": demo.Password}, 403, ""},
		{"peer liaison", "liaison.s1", map[string]string{"reason": "学生失联", "password": demo.Password}, 403, ""},
		{"district admin", "district.admin", map[string]string{"reason": "学生失联", "password": demo.Password}, 403, ""},
		{"researcher", "researcher", map[string]string{"reason": "学生失联", "password": demo.Password}, 403, ""},
		{"leader of a sibling school", "leader.s2", map[string]string{"reason": "学生失联", "password": demo.Password}, 404, ""},
		{"a case file of a sibling school through the own school", "leader.s1", map[string]string{"reason": "学生失联", "password": demo.Password}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := path
			if strings.HasPrefix(tt.name, "a case file of a sibling") {
				p = emergencyPath(own.school, w.target("s2").caseFile)
			}
			res := w.do(w.token(tt.user), "POST", p, tt.body)
			if res.status != tt.status {
				t.Fatalf("want %d, got %d %s", tt.status, res.status, res.body)
			}
			pr := w.problem(t, res)
			if tt.field != "" && (len(pr.Errors) == 0 || pr.Errors[0].Field != tt.field) {
				t.Fatalf("want a field error on %s: %s", tt.field, res.body)
			}
		})
	}
	if n := w.grantCount(); n != 0 {
		t.Fatalf("refused requests granted %d", n)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE kind = 'emergency_access_opened'`); n != 0 {
		t.Fatalf("refused requests notified %d", n)
	}
}

// A wrong password grants nothing, is audited and counts toward the login throttle:
// after five failures the user is locked out even with the right password.
func TestEmergencyAccessWrongPassword(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	tok := w.token("leader.s1")
	path := emergencyPath(own.school, own.caseFile)
	res := w.do(tok, "POST", path, map[string]string{"reason": "学生失联", "password": "not-my-password"})
	if res.status != 403 {
		t.Fatalf("wrong password: want 403, got %d %s", res.status, res.body)
	}
	if p := w.problem(t, res); p.Detail != "the password is not correct" {
		t.Fatalf("detail: %q", p.Detail)
	}
	if n := w.grantCount(); n != 0 {
		t.Fatalf("a wrong password granted %d", n)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'auth.reauthenticate' AND outcome = 'denied'
		AND school_id = $1 AND actor_username = 'leader.s1'`, own.school); n != 1 {
		t.Fatalf("want the failure audited once in the school's chain, got %d", n)
	}
	if n := w.scalar(`SELECT failures FROM login_throttle WHERE key = 'user:leader.s1'`); n != 1 {
		t.Fatalf("want one failure counted by the throttle, got %d", n)
	}
	for i := 0; i < 4; i++ {
		w.do(tok, "POST", path, map[string]string{"reason": "学生失联", "password": "still-not-it"})
	}
	res = w.do(tok, "POST", path, map[string]string{"reason": "学生失联", "password": demo.Password})
	if res.status != 429 {
		t.Fatalf("after five failures: want 429, got %d %s", res.status, res.body)
	}
	if n := w.grantCount(); n != 0 {
		t.Fatalf("a locked-out user was granted %d", n)
	}
	// The session itself stays valid.
	if r := w.do(tok, "GET", "/api/v1/me", nil); r.status != 200 {
		t.Fatalf("/me after failed re-entries: %d", r.status)
	}
}

type reading struct {
	Grant    emergency.Grant       `json:"grant"`
	CaseFile casefile.CaseFile     `json:"case_file"`
	Sessions []casefile.Session    `json:"sessions"`
	Tiers    []casefile.TierChange `json:"risk_tiers"`
}

// The whole path: a leader opens a file, reads it (audited, counselors notified),
// the grant expires and the same login session can no longer read; a district
// administrator reviews the grant once.
func TestEmergencyAccessLeaderReadsUntilExpiry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	own := w.target("s1")
	counselor := w.counselorActor(t, "s1")
	// A private process note and a tier change in the file.
	if _, err := w.cases.RecordSession(ctx, counselor, own.school, own.caseFile, casefile.SessionInput{
		OccurredAt: time.Now().Add(-2 * time.Hour), Channel: "walk_in", Participants: []string{"student"}, InitiatedBy: "self",
		DurationMinutes: 30, Summary: "第二次谈话", PrivateNote: "PRIVATE-过程记录-只给作者"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.cases.SetTier(ctx, counselor, own.school, own.caseFile, "high", "近期有自伤念头"); err != nil {
		t.Fatal(err)
	}
	tok := w.token("leader.s1")
	base := "/api/v1/schools/" + own.school.String()
	// Without a grant the leader reaches none of the file.
	if r := w.do(tok, "GET", base+"/case-files/"+own.caseFile.String()+"/timeline", nil); r.status != 403 {
		t.Fatalf("timeline without a grant: %d", r.status)
	}

	reason := "学生今晚失联，家长求助 REASON-MARK"
	res := w.do(tok, "POST", emergencyPath(own.school, own.caseFile), map[string]string{"reason": reason, "password": demo.Password})
	if res.status != 201 {
		t.Fatalf("grant: %d %s", res.status, res.body)
	}
	var g emergency.Grant
	res.decode(t, &g)
	if !g.Active || g.GranteeRole != "school_leader" || g.CaseFileID == nil || *g.CaseFileID != own.caseFile {
		t.Fatalf("grant: %+v", g)
	}
	if d := g.ExpiresAt.Sub(g.GrantedAt); d != time.Hour {
		t.Fatalf("a grant lasts 60 minutes, got %s", d)
	}
	if strings.Contains(string(res.body), "REASON-MARK") {
		t.Fatal("the grant echoes the reason")
	}
	if n := w.scalar(`SELECT count(*) FROM emergency_grants WHERE position(convert_to('REASON-MARK', 'UTF8') in reason) > 0`); n != 0 {
		t.Fatal("the reason is stored in clear")
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'case_files.emergency_grant' AND object_id = $1 AND reason LIKE '%' || $2 || '%'`,
		own.caseFile.String(), g.ID.String()); n != 1 {
		t.Fatalf("grant audit rows: %d", n)
	}

	// The counselor is told: role and expiry, no reason.
	items, err := (&inbox.Service{DB: w.db.App}).List(ctx, counselor, own.school, false)
	if err != nil {
		t.Fatal(err)
	}
	var notice *inbox.Item
	for i, it := range items.Items {
		if it.Kind == emergency.KindOpened {
			notice = &items.Items[i]
		}
	}
	if notice == nil || notice.CaseFileID == nil || *notice.CaseFileID != own.caseFile || notice.Params["role"] != "school_leader" ||
		notice.Params["expires_at"] != g.ExpiresAt.UTC().Format(time.RFC3339) {
		t.Fatalf("counselor's notice: %+v", notice)
	}
	if b, _ := json.Marshal(notice); strings.Contains(string(b), "REASON-MARK") {
		t.Fatal("the notice carries the reason")
	}
	// The counselor sees who opened the file and until when.
	var onFile struct{ Items []emergency.Grant }
	r := w.do(w.token("counselor.s1"), "GET", emergencyPath(own.school, own.caseFile), nil)
	r.decode(t, &onFile)
	if r.status != 200 || len(onFile.Items) != 1 || onFile.Items[0].ID != g.ID || onFile.Items[0].GranteeName == "" {
		t.Fatalf("grants on the file: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "REASON-MARK") {
		t.Fatal("counselors see the reason")
	}

	readPath := base + "/emergency-access/" + g.ID.String() + "/case-file"
	res = w.do(tok, "GET", readPath, nil)
	if res.status != 200 {
		t.Fatalf("read under the grant: %d %s", res.status, res.body)
	}
	var rd reading
	res.decode(t, &rd)
	if rd.CaseFile.ID != own.caseFile || len(rd.Sessions) != 2 || len(rd.Tiers) != 1 || rd.Tiers[0].ToTier != "high" {
		t.Fatalf("reading: %s", res.body)
	}
	if !strings.Contains(string(res.body), canary("s1")) {
		t.Fatal("the reading lacks the session summary")
	}
	if strings.Contains(string(res.body), "PRIVATE-") || strings.Contains(string(res.body), "private_note") {
		t.Fatalf("a private process note reached the grantee: %s", res.body)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'case_files.emergency_read' AND outcome = 'allowed'
		AND object_id = $1 AND reason LIKE '%' || $2 || '%' AND school_id = $3`, own.caseFile.String(), g.ID.String(), own.school); n != 1 {
		t.Fatalf("read audit rows: %d", n)
	}
	// Still no access through the counselors' routes.
	if r := w.do(tok, "GET", base+"/case-files/"+own.caseFile.String(), nil); r.status != 403 {
		t.Fatalf("case-file route under a grant: %d", r.status)
	}

	// The grant expires while the leader is still signed in.
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(ctx, `UPDATE emergency_grants SET granted_at = now() - interval '61 minutes', expires_at = now() - interval '1 minute' WHERE id = $1`, g.ID); err != nil {
			t.Fatal(err)
		}
		tx.Commit(ctx)
	})
	res = w.do(tok, "GET", readPath, nil)
	if res.status != 403 {
		t.Fatalf("read after expiry: want 403, got %d %s", res.status, res.body)
	}
	if p := w.problem(t, res); p.Detail != "the emergency access has expired" {
		t.Fatalf("detail: %q", p.Detail)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'case_files.emergency_read' AND outcome = 'denied' AND object_id = $1`, g.ID.String()); n != 1 {
		t.Fatalf("refused read audit rows: %d", n)
	}
	if n := w.scalar(`SELECT read_count FROM emergency_grants WHERE id = $1`, g.ID); n != 1 {
		t.Fatalf("read count: %d", n)
	}
	var mine struct{ Items []emergency.Grant }
	w.do(tok, "GET", base+"/emergency-access", nil).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Active {
		t.Fatalf("own grants after expiry: %+v", mine.Items)
	}

	// Review: the district administrator sees the reason and closes the grant once.
	admin := w.token("district.admin")
	reviews := "/api/v1/districts/" + w.district.String() + "/emergency-reviews"
	var queue struct{ Items []emergency.Review }
	r = w.do(admin, "GET", reviews, nil)
	r.decode(t, &queue)
	if r.status != 200 || len(queue.Items) != 1 || queue.Items[0].Reason != reason || queue.Items[0].Verdict != nil || queue.Items[0].ReadCount != 1 {
		t.Fatalf("review queue: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "POST", reviews+"/"+g.ID.String(), map[string]string{"verdict": "maybe", "comment": "x"}); r.status != 422 {
		t.Fatalf("bad verdict: %d", r.status)
	}
	if r := w.do(admin, "POST", reviews+"/"+g.ID.String(), map[string]string{"verdict": "justified", "comment": " "}); r.status != 422 {
		t.Fatalf("no comment: %d", r.status)
	}
	// Another district's administrator finds nothing, in their district or this one.
	foreign := w.token("d2.district.admin")
	if r := w.do(foreign, "POST", "/api/v1/districts/"+w.foreignDistrict.String()+"/emergency-reviews/"+g.ID.String(),
		map[string]string{"verdict": "not_justified", "comment": "越权"}); r.status != 404 {
		t.Fatalf("foreign admin closing through their district: %d %s", r.status, r.body)
	}
	if r := w.do(foreign, "POST", reviews+"/"+g.ID.String(), map[string]string{"verdict": "not_justified", "comment": "越权"}); r.status != 404 {
		t.Fatalf("foreign admin closing through this district: %d", r.status)
	}
	var foreignQueue struct{ Items []emergency.Review }
	w.do(foreign, "GET", "/api/v1/districts/"+w.foreignDistrict.String()+"/emergency-reviews", nil).decode(t, &foreignQueue)
	if len(foreignQueue.Items) != 0 {
		t.Fatalf("a foreign district sees grants: %+v", foreignQueue.Items)
	}
	r = w.do(admin, "POST", reviews+"/"+g.ID.String(), map[string]string{"verdict": "justified", "comment": "家长报警，理由充分"})
	var closed emergency.Review
	r.decode(t, &closed)
	if r.status != 200 || closed.Verdict == nil || *closed.Verdict != "justified" || closed.ReviewComment == nil || closed.ReviewerName == nil {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "POST", reviews+"/"+g.ID.String(), map[string]string{"verdict": "not_justified", "comment": "改主意"}); r.status != 409 {
		t.Fatalf("closing twice: want 409, got %d", r.status)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'emergency_reviews.close' AND object_id = $1`, g.ID.String()); n != 1 {
		t.Fatalf("review audit rows: %d", n)
	}
}

// Row-level security, not the application, decides: inside one transaction scoped as
// the leader, the file's rows are visible while the grant lasts and gone once it expires.
func TestEmergencyAccessExpiryIsEnforcedByTheDatabase(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	own := w.target("s1")
	leader := w.schoolLeader("s1")
	count := func() (files, sessions int) {
		err := w.db.App.InTx(ctx, leader, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM counseling_sessions WHERE school_id = $1`, own.school).Scan(&sessions); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT count(*) FROM case_file_counselors WHERE school_id = $1`, own.school).Scan(&files)
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if f, s := count(); f != 0 || s != 0 {
		t.Fatalf("without a grant the leader sees %d files, %d sessions", f, s)
	}
	g, err := w.emergency.Open(ctx, leader, own.school, own.caseFile, emergency.Request{Reason: "紧急", Password: demo.Password})
	if err != nil {
		t.Fatal(err)
	}
	if f, s := count(); f != 1 || s != 1 {
		t.Fatalf("with a grant the leader sees %d files, %d sessions", f, s)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		tx.Exec(ctx, `UPDATE emergency_grants SET expires_at = granted_at + interval '1 millisecond' WHERE id = $1`, g.ID)
		tx.Commit(ctx)
	})
	if f, s := count(); f != 0 || s != 0 {
		t.Fatalf("after expiry the leader sees %d files, %d sessions", f, s)
	}
	// A short duration (tests only) expires by itself.
	short := *w.emergency
	short.Duration = 300 * time.Millisecond
	g, err = short.Open(ctx, leader, own.school, own.caseFile, emergency.Request{Reason: "紧急", Password: demo.Password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := short.Read(ctx, leader, own.school, g.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := short.Read(ctx, leader, own.school, g.ID); err != emergency.ErrExpired {
		t.Fatalf("read after the short duration: %v", err)
	}
}

// A district supervisor opens files of the district's schools as a district actor; a
// school of another district is not found.
func TestEmergencyAccessDistrictSupervisor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sibling, foreign := w.target("s2"), w.target("d2.s1")
	tok := w.token("district.supervisor")
	body := map[string]string{"reason": "区级督导：学校报告危机事件", "password": demo.Password}
	if r := w.do(tok, "POST", emergencyPath(foreign.school, foreign.caseFile), body); r.status != 404 {
		t.Fatalf("another district's school: want 404, got %d", r.status)
	}
	res := w.do(tok, "POST", emergencyPath(sibling.school, sibling.caseFile), body)
	if res.status != 201 {
		t.Fatalf("grant: %d %s", res.status, res.body)
	}
	var g emergency.Grant
	res.decode(t, &g)
	if g.GranteeRole != "district_supervisor" {
		t.Fatalf("grant: %+v", g)
	}
	base := "/api/v1/schools/" + sibling.school.String()
	res = w.do(tok, "GET", base+"/emergency-access/"+g.ID.String()+"/case-file", nil)
	if res.status != 200 {
		t.Fatalf("read: %d %s", res.status, res.body)
	}
	var rd reading
	res.decode(t, &rd)
	if rd.CaseFile.StudentName == "" || len(rd.Sessions) != 1 || rd.Sessions[0].Summary != canary("s2") {
		t.Fatalf("reading: %s", res.body)
	}
	// The read is audited in the district's chain, with the grant's id.
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'case_files.emergency_read' AND district_id = $1 AND school_id IS NULL
		AND reason LIKE '%' || $2 || '%'`, w.district, g.ID.String()); n != 1 {
		t.Fatalf("read audit rows: %d", n)
	}
	// Another school's path does not reach the grant; the grant does not reach the leader.
	if r := w.do(tok, "GET", "/api/v1/schools/"+w.schools["s1"].String()+"/emergency-access/"+g.ID.String()+"/case-file", nil); r.status != 404 {
		t.Fatalf("grant through another school: %d", r.status)
	}
	if r := w.do(w.token("leader.s2"), "GET", base+"/emergency-access/"+g.ID.String()+"/case-file", nil); r.status != 404 {
		t.Fatalf("the school's leader reading the supervisor's grant: %d", r.status)
	}
	// The school's counselor is told, and sees the grant.
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE kind = 'emergency_access_opened' AND school_id = $1 AND params->>'role' = 'district_supervisor'`, sibling.school); n != 1 {
		t.Fatalf("notices: %d", n)
	}
	var mine struct{ Items []emergency.Grant }
	w.do(tok, "GET", base+"/emergency-access", nil).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != g.ID {
		t.Fatalf("supervisor's own grants: %+v", mine.Items)
	}
	// Nothing else of the school opens to the supervisor.
	if r := w.do(tok, "GET", base+"/students", nil); r.status != 403 {
		t.Fatalf("students: %d", r.status)
	}
}

// The grantee may end the access early: reading stops at once; nobody else may end it.
func TestEmergencyAccessEndedEarly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	tok := w.token("leader.s1")
	base := "/api/v1/schools/" + own.school.String()
	res := w.do(tok, "POST", emergencyPath(own.school, own.caseFile), map[string]string{"reason": "家长深夜求助，需要了解近况", "password": demo.Password})
	var g emergency.Grant
	res.decode(t, &g)
	if res.status != 201 {
		t.Fatalf("grant: %d %s", res.status, res.body)
	}
	read := func() int { return w.do(tok, "GET", base+"/emergency-access/"+g.ID.String()+"/case-file", nil).status }
	if s := read(); s != 200 {
		t.Fatalf("read under the grant: %d", s)
	}
	if r := w.do(w.token("district.supervisor"), "POST", base+"/emergency-access/"+g.ID.String()+"/end", nil); r.status != 404 {
		t.Fatalf("someone else ends the grant: %d", r.status)
	}
	r := w.do(tok, "POST", base+"/emergency-access/"+g.ID.String()+"/end", nil)
	var ended emergency.Grant
	r.decode(t, &ended)
	if r.status != 200 || ended.Active || ended.EndedAt == nil {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	if s := read(); s != 403 {
		t.Fatalf("read after the end: %d", s)
	}
	if r := w.do(tok, "POST", base+"/emergency-access/"+g.ID.String()+"/end", nil); r.status != 409 {
		t.Fatalf("ending twice: %d", r.status)
	}
	if n := w.auditCount("case_files.emergency_end", "allowed"); n != 1 {
		t.Fatalf("audit rows: %d", n)
	}
}
