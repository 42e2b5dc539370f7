package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/clientfile"
	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/emergency"
)

// teacherFile opens, as the school's counselor, a teacher client's file for a staff
// account of the school (the leader's, in some tests) with one session whose summary is
// SUMMARY-MARK and whose counselor's note is NOTE-MARK.
func (w *world) teacherFile(code string, staff *uuid.UUID) uuid.UUID {
	w.t.Helper()
	ctx := context.Background()
	counselor := w.counselorActor(w.t, code)
	f, err := w.clients.Open(ctx, counselor, w.schools[code], clientfile.OpenInput{ClientKind: "teacher", StaffUserID: staff,
		Name: "王老师 NAME-MARK", Contact: "13900000000"})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.clients.RecordSession(ctx, counselor, w.schools[code], f.ID, clientfile.SessionInput{OccurredAt: time.Now().Add(-time.Hour),
		Channel: "walk_in", DurationMinutes: 40, Summary: "工作压力大 SUMMARY-MARK", Note: "NOTE-MARK 咨询师个人笔记"}); err != nil {
		w.t.Fatal(err)
	}
	return f.ID
}

// leaderClientGrant gives the target school's leader an emergency grant on a fresh
// guardian client's file (not the canary's: the grant is meant to show it) and returns
// the grant's id.
func (w *world) leaderClientGrant(t target) uuid.UUID {
	w.t.Helper()
	ctx := context.Background()
	f, err := w.clients.Open(ctx, w.counselorActor(w.t, t.code), t.school, clientfile.OpenInput{ClientKind: "guardian", Name: "紧急查阅用家长"})
	if err != nil {
		w.t.Fatal(err)
	}
	g, err := w.emergency.OpenClientFile(ctx, w.schoolLeader(t.code), t.school, f.ID,
		emergency.Request{Reason: "测试用紧急查阅", Password: demo.Password})
	if err != nil {
		w.t.Fatal(err)
	}
	return g.ID
}

func clientEmergencyPath(school, file uuid.UUID) string {
	return "/api/v1/schools/" + school.String() + "/client-files/" + file.String() + "/emergency-access"
}

type clientReading struct {
	Grant      emergency.Grant `json:"grant"`
	ClientFile clientfile.File `json:"client_file"`
}

func TestClientFileEmergencyAccessRequestIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	file := w.teacherFile("s1", nil)
	siblingFile := w.teacherFile("s2", nil)
	leader := w.schoolLeader("s1")
	ownFile := w.teacherFile("s1", &leader.UserID) // the leader is also a client of the room
	body := map[string]string{"reason": "老师失联，家属求助", "password": demo.Password}
	tests := []struct {
		name, user string
		file       uuid.UUID
		body       any
		status     int
		field      string
	}{
		{"empty reason", "leader.s1", file, map[string]string{"reason": " ", "password": demo.Password}, 422, "reason"},
		{"no password", "leader.s1", file, map[string]string{"reason": "老师失联"}, 422, "password"},
		{"a reason too long", "leader.s1", file, map[string]string{"reason": strings.Repeat("长", 1001), "password": demo.Password}, 422, "reason"},
		{"counselor", "counselor.s1", file, body, 403, ""},
		{"homeroom teacher", "teacher.s1", file, body, 403, ""},
		{"peer liaison", "liaison.s1", file, body, 403, ""},
		{"district admin", "district.admin", file, body, 403, ""},
		{"researcher", "researcher", file, body, 403, ""},
		{"a client file of a sibling school through the own school", "leader.s1", siblingFile, body, 404, ""},
		{"a case file's id as a client file", "leader.s1", own.caseFile, body, 404, ""},
		{"the leader's own file", "leader.s1", ownFile, body, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := w.do(w.token(tt.user), "POST", clientEmergencyPath(own.school, tt.file), tt.body)
			if res.status != tt.status {
				t.Fatalf("want %d, got %d %s", tt.status, res.status, res.body)
			}
			pr := w.problem(t, res)
			if tt.field != "" && (len(pr.Errors) == 0 || pr.Errors[0].Field != tt.field) {
				t.Fatalf("want a field error on %s: %s", tt.field, res.body)
			}
		})
	}
	if r := w.do(w.token("leader.s2"), "POST", clientEmergencyPath(own.school, file), body); r.status != 404 {
		t.Fatalf("leader of a sibling school: %d", r.status)
	}
	if n := w.grantCount(); n != 0 {
		t.Fatalf("refused requests granted %d", n)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE kind IN ('emergency_access_opened', 'client_file_emergency_opened')`); n != 0 {
		t.Fatalf("refused requests notified %d", n)
	}
	// The database refuses a grant on the grantee's own file too.
	err := w.db.App.InTx(context.Background(), leader, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO emergency_grants (school_id, id, client_file_id, grantee_id, grantee_role, grantee_name, reason, expires_at)
			VALUES ($1, $2, $3, $4, 'school_leader', '校长', '\x00', now() + interval '10 minutes')`, own.school, uuid.New(), ownFile, leader.UserID)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Fatalf("a grant on the grantee's own file: %v", err)
	}
}

// A teacher's file is never visible to that teacher's school leader except through an
// audited emergency grant: not through the counselors' routes, not in the database.
func TestTeacherFileIsNotVisibleToTheLeaderWithoutAGrant(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	teacher := w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'homeroom_teacher' LIMIT 1`, own.school)
	file := w.teacherFile("s1", &teacher)
	tok := w.token("leader.s1")
	base := "/api/v1/schools/" + own.school.String() + "/client-files"
	for _, p := range []string{base, base + "/" + file.String(), base + "/" + file.String() + "/emergency-access"} {
		if r := w.do(tok, "GET", p, nil); r.status != 403 {
			t.Fatalf("GET %s as the leader: %d", p, r.status)
		}
	}
	var files, sessions int
	err := w.db.App.InTx(context.Background(), w.schoolLeader("s1"), func(tx pgx.Tx) error {
		if err := tx.QueryRow(context.Background(), `SELECT count(*) FROM client_files`).Scan(&files); err != nil {
			return err
		}
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM client_sessions`).Scan(&sessions)
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 0 || sessions != 0 {
		t.Fatalf("the leader sees %d client files, %d sessions", files, sessions)
	}
	// A student's case-file grant does not open the client file, nor the other way round.
	caseGrant := w.leaderGrant(own)
	if r := w.do(tok, "GET", "/api/v1/schools/"+own.school.String()+"/emergency-access/"+caseGrant.String()+"/client-file", nil); r.status != 404 {
		t.Fatalf("a case-file grant read as a client file: %d", r.status)
	}
	clientGrant := w.leaderClientGrant(own)
	if r := w.do(tok, "GET", "/api/v1/schools/"+own.school.String()+"/emergency-access/"+clientGrant.String()+"/case-file", nil); r.status != 404 {
		t.Fatalf("a client-file grant read as a case file: %d", r.status)
	}
}

// The whole path: a leader opens a teacher's file, reads it (audited, the counselor
// notified, no counselor's note), the grant expires and the same login session can no
// longer read; a district administrator reviews the grant in the same queue.
func TestClientFileEmergencyAccessLeaderReadsUntilExpiry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	own := w.target("s1")
	teacher := w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'homeroom_teacher' LIMIT 1`, own.school)
	file := w.teacherFile("s1", &teacher)
	counselor := w.counselorActor(t, "s1")
	tok := w.token("leader.s1")
	base := "/api/v1/schools/" + own.school.String()

	reason := "王老师今晚失联，家属求助 REASON-MARK"
	res := w.do(tok, "POST", clientEmergencyPath(own.school, file), map[string]string{"reason": reason, "password": demo.Password})
	if res.status != 201 {
		t.Fatalf("grant: %d %s", res.status, res.body)
	}
	var g emergency.Grant
	res.decode(t, &g)
	if !g.Active || g.GranteeRole != "school_leader" || g.ClientFileID == nil || *g.ClientFileID != file || g.CaseFileID != nil {
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
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'client_files.emergency_grant' AND object_type = 'client_file' AND object_id = $1
		AND reason LIKE '%' || $2 || '%'`, file.String(), g.ID.String()); n != 1 {
		t.Fatalf("grant audit rows: %d", n)
	}
	// The counselor of the file is told: role, expiry and which file, no reason.
	var params string
	w.ownerQuery(func(tx pgx.Tx) {
		if err := tx.QueryRow(ctx, `SELECT params::text FROM inbox_items WHERE kind = 'client_file_emergency_opened' AND user_id = $1 AND subject_id = $2`,
			counselor.UserID, g.ID).Scan(&params); err != nil {
			t.Fatal(err)
		}
	})
	var p map[string]string
	if err := json.Unmarshal([]byte(params), &p); err != nil || p["role"] != "school_leader" || p["client_file_id"] != file.String() ||
		p["expires_at"] != g.ExpiresAt.UTC().Format(time.RFC3339) || strings.Contains(params, "REASON-MARK") {
		t.Fatalf("counselor's notice: %s", params)
	}
	// The counselors see who opened the file and until when.
	var onFile struct{ Items []emergency.Grant }
	r := w.do(w.token("counselor.s1"), "GET", clientEmergencyPath(own.school, file), nil)
	r.decode(t, &onFile)
	if r.status != 200 || len(onFile.Items) != 1 || onFile.Items[0].ID != g.ID || onFile.Items[0].GranteeName == "" {
		t.Fatalf("grants on the file: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "REASON-MARK") {
		t.Fatal("counselors see the reason")
	}

	readPath := base + "/emergency-access/" + g.ID.String() + "/client-file"
	res = w.do(tok, "GET", readPath, nil)
	if res.status != 200 {
		t.Fatalf("read under the grant: %d %s", res.status, res.body)
	}
	var rd clientReading
	res.decode(t, &rd)
	if rd.ClientFile.ID != file || !strings.Contains(rd.ClientFile.Name, "NAME-MARK") || len(rd.ClientFile.Sessions) != 1 ||
		!strings.Contains(rd.ClientFile.Sessions[0].Summary, "SUMMARY-MARK") {
		t.Fatalf("reading: %s", res.body)
	}
	if strings.Contains(string(res.body), "NOTE-MARK") {
		t.Fatalf("a counselor's note reached the grantee: %s", res.body)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'client_files.emergency_read' AND outcome = 'allowed'
		AND object_id = $1 AND reason LIKE '%' || $2 || '%' AND school_id = $3`, file.String(), g.ID.String(), own.school); n != 1 {
		t.Fatalf("read audit rows: %d", n)
	}
	// Still no access through the counselors' routes.
	if r := w.do(tok, "GET", base+"/client-files/"+file.String(), nil); r.status != 403 {
		t.Fatalf("client-file route under a grant: %d", r.status)
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
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'client_files.emergency_read' AND outcome = 'denied' AND object_id = $1`, g.ID.String()); n != 1 {
		t.Fatalf("refused read audit rows: %d", n)
	}
	if n := w.scalar(`SELECT read_count FROM emergency_grants WHERE id = $1`, g.ID); n != 1 {
		t.Fatalf("read count: %d", n)
	}

	// Review: in the district's one queue, with the reason; closed once.
	admin := w.token("district.admin")
	reviews := "/api/v1/districts/" + w.district.String() + "/emergency-reviews"
	var queue struct{ Items []emergency.Review }
	r = w.do(admin, "GET", reviews, nil)
	r.decode(t, &queue)
	if r.status != 200 || len(queue.Items) != 1 || queue.Items[0].Reason != reason || queue.Items[0].ClientFileID == nil ||
		*queue.Items[0].ClientFileID != file || queue.Items[0].Verdict != nil {
		t.Fatalf("review queue: %d %s", r.status, r.body)
	}
	r = w.do(admin, "POST", reviews+"/"+g.ID.String(), map[string]string{"verdict": "justified", "comment": "家属报警，理由充分"})
	if r.status != 200 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "POST", reviews+"/"+g.ID.String(), map[string]string{"verdict": "not_justified", "comment": "改主意"}); r.status != 409 {
		t.Fatalf("closing twice: want 409, got %d", r.status)
	}
}

// Row-level security, not the application, decides: inside one transaction scoped as
// the leader, the file's rows are visible while the grant lasts and gone once it expires.
func TestClientFileEmergencyAccessExpiryIsEnforcedByTheDatabase(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	own := w.target("s1")
	file := w.teacherFile("s1", nil)
	leader := w.schoolLeader("s1")
	count := func() (files, sessions int) {
		err := w.db.App.InTx(ctx, leader, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM client_sessions WHERE school_id = $1`, own.school).Scan(&sessions); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT count(*) FROM client_files WHERE school_id = $1`, own.school).Scan(&files)
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if f, s := count(); f != 0 || s != 0 {
		t.Fatalf("without a grant the leader sees %d files, %d sessions", f, s)
	}
	g, err := w.emergency.OpenClientFile(ctx, leader, own.school, file, emergency.Request{Reason: "紧急", Password: demo.Password})
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
	g, err = short.OpenClientFile(ctx, leader, own.school, file, emergency.Request{Reason: "紧急", Password: demo.Password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := short.ReadClientFile(ctx, leader, own.school, g.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := short.ReadClientFile(ctx, leader, own.school, g.ID); err != emergency.ErrExpired {
		t.Fatalf("read after the short duration: %v", err)
	}
	// A longer duration is capped at 60 minutes.
	long := *w.emergency
	long.Duration = 2 * time.Hour
	g, err = long.OpenClientFile(ctx, leader, own.school, file, emergency.Request{Reason: "紧急", Password: demo.Password})
	if err != nil || g.ExpiresAt.Sub(g.GrantedAt) != time.Hour {
		t.Fatalf("a longer duration: %v %+v", err, g)
	}
}

// A district supervisor opens client files of the district's schools as a district
// actor; a school of another district is not found.
func TestClientFileEmergencyAccessDistrictSupervisor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sibling, foreign := w.target("s2"), w.target("d2.s1")
	file, foreignFile := w.teacherFile("s2", nil), w.clientFile(foreign)
	tok := w.token("district.supervisor")
	body := map[string]string{"reason": "区级督导：学校报告教师危机事件", "password": demo.Password}
	if r := w.do(tok, "POST", clientEmergencyPath(foreign.school, foreignFile), body); r.status != 404 {
		t.Fatalf("another district's school: want 404, got %d", r.status)
	}
	res := w.do(tok, "POST", clientEmergencyPath(sibling.school, file), body)
	if res.status != 201 {
		t.Fatalf("grant: %d %s", res.status, res.body)
	}
	var g emergency.Grant
	res.decode(t, &g)
	if g.GranteeRole != "district_supervisor" {
		t.Fatalf("grant: %+v", g)
	}
	base := "/api/v1/schools/" + sibling.school.String()
	res = w.do(tok, "GET", base+"/emergency-access/"+g.ID.String()+"/client-file", nil)
	if res.status != 200 {
		t.Fatalf("read: %d %s", res.status, res.body)
	}
	var rd clientReading
	res.decode(t, &rd)
	if !strings.Contains(rd.ClientFile.Name, "NAME-MARK") || len(rd.ClientFile.Sessions) != 1 || strings.Contains(string(res.body), "NOTE-MARK") {
		t.Fatalf("reading: %s", res.body)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'client_files.emergency_read' AND district_id = $1 AND school_id IS NULL
		AND reason LIKE '%' || $2 || '%'`, w.district, g.ID.String()); n != 1 {
		t.Fatalf("read audit rows: %d", n)
	}
	if r := w.do(w.token("leader.s2"), "GET", base+"/emergency-access/"+g.ID.String()+"/client-file", nil); r.status != 404 {
		t.Fatalf("the school's leader reading the supervisor's grant: %d", r.status)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE kind = 'client_file_emergency_opened' AND school_id = $1 AND params->>'role' = 'district_supervisor'`, sibling.school); n != 1 {
		t.Fatalf("notices: %d", n)
	}
	// Nothing else of the school's client files opens to the supervisor.
	if r := w.do(tok, "GET", base+"/client-files", nil); r.status != 403 {
		t.Fatalf("client files: %d", r.status)
	}
}

// The grantee may end the access early: reading stops at once; nobody else may end it.
func TestClientFileEmergencyAccessEndedEarly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	file := w.teacherFile("s1", nil)
	tok := w.token("leader.s1")
	base := "/api/v1/schools/" + own.school.String()
	res := w.do(tok, "POST", clientEmergencyPath(own.school, file), map[string]string{"reason": "家属深夜求助，需要了解近况", "password": demo.Password})
	var g emergency.Grant
	res.decode(t, &g)
	if res.status != 201 {
		t.Fatalf("grant: %d %s", res.status, res.body)
	}
	read := func() int {
		return w.do(tok, "GET", base+"/emergency-access/"+g.ID.String()+"/client-file", nil).status
	}
	if s := read(); s != 200 {
		t.Fatalf("read under the grant: %d", s)
	}
	if r := w.do(w.token("district.supervisor"), "POST", base+"/emergency-access/"+g.ID.String()+"/end", nil); r.status != 404 {
		t.Fatalf("someone else ends the grant: %d", r.status)
	}
	if r := w.do(tok, "POST", base+"/emergency-access/"+g.ID.String()+"/end", nil); r.status != 200 {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	if s := read(); s != 403 {
		t.Fatalf("read after the end: %d", s)
	}
	if r := w.do(tok, "POST", base+"/emergency-access/"+g.ID.String()+"/end", nil); r.status != 409 {
		t.Fatalf("ending twice: %d", r.status)
	}
	// With the caseload rule on, the school's counselors still see the grants on client
	// files (client files are no one's caseload).
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `INSERT INTO school_settings (school_id, caseload_only) VALUES ($1, true)
			ON CONFLICT (school_id) DO UPDATE SET caseload_only = true`, own.school); err != nil {
			t.Fatal(err)
		}
		tx.Commit(context.Background())
	})
	var onFile struct{ Items []emergency.Grant }
	r := w.do(w.token("counselor.s1"), "GET", clientEmergencyPath(own.school, file), nil)
	r.decode(t, &onFile)
	if r.status != 200 || len(onFile.Items) != 1 || onFile.Items[0].ID != g.ID {
		t.Fatalf("grants on the file with the caseload rule on: %d %s", r.status, r.body)
	}
}
