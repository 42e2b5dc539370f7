package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
)

// Each confidential read, write and denial produces exactly one audit row.
func TestAuditExactlyOneRowPerAction(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.schools["s1"].String()
	student := w.id(`SELECT id FROM students WHERE school_id = $1 ORDER BY student_number LIMIT 1`, w.schools["s1"])
	homeroom := w.id(`SELECT id FROM org_units WHERE school_id = $1 AND kind = 'homeroom' ORDER BY name LIMIT 1`, w.schools["s1"])
	leader, counselor, teacher := w.token("leader.s1"), w.token("counselor.s1"), w.token("teacher.s1")
	tests := []struct {
		name            string
		token, method   string
		path            string
		body            any
		status          int
		action, outcome string
	}{
		{"list students", counselor, "GET", "/api/v1/schools/" + s1 + "/students", nil, 200, "students.list", "allowed"},
		{"read a student", counselor, "GET", "/api/v1/schools/" + s1 + "/students/" + student.String(), nil, 200, "students.read", "allowed"},
		{"update a student", leader, "PATCH", "/api/v1/schools/" + s1 + "/students/" + student.String(), map[string]any{"status": "graduated"}, 200, "students.update", "allowed"},
		{"create a student", leader, "POST", "/api/v1/schools/" + s1 + "/students", map[string]any{"student_number": "A-1", "name": "测试", "gender": "female", "birth_date": "2012-05-01", "homeroom_id": homeroom}, 201, "students.create", "allowed"},
		{"denied write", counselor, "PATCH", "/api/v1/schools/" + s1 + "/students/" + student.String(), map[string]any{"status": "enrolled"}, 403, "students.write", "denied"},
		{"denied foreign school", teacher, "GET", "/api/v1/schools/" + w.schools["d2.s1"].String() + "/students", nil, 404, "students.read", "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.auditCount(tt.action, tt.outcome)
			total := w.scalar(`SELECT count(*) FROM audit_log`)
			r := w.do(tt.token, tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("want %d, got %d %s", tt.status, r.status, r.body)
			}
			if got := w.auditCount(tt.action, tt.outcome) - before; got != 1 {
				t.Fatalf("want exactly one %s/%s audit row, got %d", tt.action, tt.outcome, got)
			}
			if got := w.scalar(`SELECT count(*) FROM audit_log`) - total; got != 1 {
				t.Fatalf("want exactly one audit row in all, got %d", got)
			}
		})
	}
	// The audit row carries the request id returned to the client.
	r := w.do(counselor, "GET", "/api/v1/schools/"+s1+"/students/"+student.String(), nil, "X-Request-Id", "test-request-0001")
	if r.header.Get("X-Request-Id") != "test-request-0001" {
		t.Fatalf("request id not echoed")
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE request_id = 'test-request-0001' AND object_id = $1`, student.String()); n != 1 {
		t.Fatalf("audit row with request id: %d", n)
	}
}

func TestAuditLogIsAppendOnlyAndTamperEvident(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.do(w.token("counselor.s1"), "GET", "/api/v1/schools/"+w.schools["s1"].String()+"/students", nil)

	verify := func() audit.Report {
		conn, err := pgx.Connect(ctx, w.db.OwnerURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rep, err := audit.Verify(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := verify()
	if len(rep.Breaks) != 0 || rep.Rows < 50 || rep.Chains < 7 {
		t.Fatalf("intact log: %+v", rep)
	}

	// The app role can neither change nor delete audit rows.
	app, err := pgx.Connect(ctx, w.db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	for _, sql := range []string{`UPDATE audit_log SET reason = 'x'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := app.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("%s as app: want permission denied, got %v", sql, err)
		}
	}
	// Even the owner is stopped by the trigger...
	owner, err := pgx.Connect(ctx, w.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	if _, err := owner.Exec(ctx, `SELECT set_config('app.scope', 'audit', false)`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `UPDATE audit_log SET reason = 'x'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("owner update: want append-only error, got %v", err)
	}
	// ...until a malicious owner disables it and rewrites history: verify finds the row.
	var chain string
	var seq int64
	if err := owner.QueryRow(ctx, `SELECT chain, seq FROM audit_log WHERE action = 'students.list' LIMIT 1`).Scan(&chain, &seq); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `UPDATE audit_log SET actor_username = 'someone.else' WHERE chain = $1 AND seq = $2`, chain, seq); err != nil {
		t.Fatal(err)
	}
	rep = verify()
	if len(rep.Breaks) != 1 || rep.Breaks[0].Chain != chain || rep.Breaks[0].Seq != seq {
		t.Fatalf("want the tampered row %s/%d reported, got %+v", chain, seq, rep.Breaks)
	}
	// Deleting a row in the middle of another chain is found too.
	var chain2 string
	if err := owner.QueryRow(ctx, `SELECT chain FROM audit_log WHERE chain <> $1 GROUP BY chain HAVING count(*) > 3 LIMIT 1`, chain).Scan(&chain2); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `DELETE FROM audit_log WHERE chain = $1 AND seq = 2`, chain2); err != nil {
		t.Fatal(err)
	}
	rep = verify()
	if len(rep.Breaks) != 2 {
		t.Fatalf("want two broken chains, got %+v", rep.Breaks)
	}
}

func TestAuditListingIsScopedAndFiltered(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	leader := w.token("leader.s1")
	w.do(w.token("counselor.s1"), "GET", "/api/v1/schools/"+w.schools["s1"].String()+"/students", nil)
	r := w.do(leader, "GET", "/api/v1/schools/"+w.schools["s1"].String()+"/audit?action=students.list&limit=10", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var page struct {
		Items []audit.Row `json:"items"`
	}
	r.decode(t, &page)
	if len(page.Items) == 0 {
		t.Fatal("no rows")
	}
	for _, it := range page.Items {
		if it.Action != "students.list" || it.SchoolID == nil || *it.SchoolID != w.schools["s1"] {
			t.Fatalf("row outside filter or scope: %+v", it)
		}
	}
	if strings.Contains(string(r.body), w.schools["s2"].String()) {
		t.Fatal("another school's audit leaked")
	}
	admin := w.token("district.admin")
	r = w.do(admin, "GET", "/api/v1/districts/"+w.district.String()+"/audit?limit=200", nil)
	if r.status != 200 || strings.Contains(string(r.body), `"school_id":"`) {
		t.Fatalf("district audit shows only district rows: %d", r.status)
	}
	if r := w.do(admin, "GET", "/api/v1/districts/"+w.foreignDistrict.String()+"/audit", nil); r.status != 404 {
		t.Fatalf("foreign district audit: %d", r.status)
	}
}
