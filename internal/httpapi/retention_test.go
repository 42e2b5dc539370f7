package httpapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/keyring"
	"github.com/xinqiao/xinqiao/internal/retention"
)

// A graduate's archived case file is kept for the district's retention period, then the
// job destroys every row and object of it and leaves a record of what it destroyed.
func TestRetentionDestroysExpiredCaseFiles(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	admin, leader := w.token("district.admin"), w.token("leader.s1")
	dbase := "/api/v1/districts/" + w.district.String()
	svc := &retention.Service{DB: w.docs.DB, Objects: w.store}

	// The district's rule: 10 years by default, 1 to 30.
	var p retention.Policy
	w.do(admin, "GET", dbase+"/retention", nil).decode(t, &p)
	if p.RetentionYears != 10 {
		t.Fatalf("default retention: %+v", p)
	}
	for _, years := range []int{0, 31} {
		if r := w.do(admin, "PUT", dbase+"/retention", map[string]any{"retention_years": years}); r.status != 422 {
			t.Errorf("retention %d years: %d", years, r.status)
		}
	}
	if r := w.do(admin, "PUT", dbase+"/retention", map[string]any{"retention_years": 5}); r.status != 200 {
		t.Fatalf("set retention: %d %s", r.status, r.body)
	}

	// A file with a session, a support plan and a document; the student graduates.
	file := own.caseFile
	doc := w.newDocument("s1", file)
	w.newPlan("s1", file)
	var key string
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(context.Background(), `SELECT object_key FROM documents WHERE id = $1`, doc).Scan(&key)
	})
	if _, err := w.store.Stat(context.Background(), w.district, key); err != nil {
		t.Fatalf("the document object: %v", err)
	}
	// Its content is sealed under the case file's own key, which reads it back for now.
	var sealed []byte
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(context.Background(), `SELECT summary FROM counseling_sessions WHERE case_file_id = $1 LIMIT 1`, file).Scan(&sealed)
	})
	if len(sealed) == 0 || sealed[0] != 2 {
		t.Fatalf("the session is not sealed under the case file's key: %x", sealed)
	}
	decrypt := func() error {
		return w.cases.DB.InTx(context.Background(), w.counselorActor(t, "s1"), func(tx pgx.Tx) error {
			_, err := w.cases.Cipher.Decrypt(context.Background(), tx, own.school, "session.summary", sealed)
			return err
		})
	}
	if err := decrypt(); err != nil {
		t.Fatalf("decrypt before the destruction: %v", err)
	}
	if r := w.do(leader, "PATCH", base+"/students/"+own.student.String(), map[string]any{"status": "graduated"}); r.status != 200 {
		t.Fatalf("graduate: %d %s", r.status, r.body)
	}
	if rep, err := svc.DestroyExpired(context.Background(), 100); err != nil || rep.Destroyed != 0 {
		t.Fatalf("nothing is due yet: %+v %v", rep, err)
	}
	// Archived six years ago: past the district's five.
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `UPDATE case_files SET archived_at = now() - interval '6 years' WHERE id = $1`, file); err != nil {
			t.Fatal(err)
		}
		tx.Commit(context.Background())
	})
	rep, err := svc.DestroyExpired(context.Background(), 100)
	if err != nil || rep.Destroyed != 1 || rep.ObjectsRemoved != 1 {
		t.Fatalf("destroy: %+v %v", rep, err)
	}
	for table, col := range map[string]string{"case_files": "id", "counseling_sessions": "case_file_id", "documents": "case_file_id",
		"support_plans": "case_file_id", "risk_tier_changes": "case_file_id", "inbox_items": "case_file_id"} {
		if n := w.scalar(`SELECT count(*) FROM `+table+` WHERE `+col+` = $1`, file); n != 0 {
			t.Errorf("%s still has %d rows of the destroyed file", table, n)
		}
	}
	if _, err := w.store.Stat(context.Background(), w.district, key); err == nil {
		t.Error("the document object survived the destruction")
	}
	// Crypto-shred: the file's key is gone, so a copy of its ciphertext kept anywhere
	// (a backup, a replica) can no longer be read.
	if n := w.scalar(`SELECT count(*) FROM case_file_keys WHERE case_file_id = $1`, file); n != 0 {
		t.Errorf("the case file's key survived: %d", n)
	}
	if err := decrypt(); !errors.Is(err, keyring.ErrShredded) {
		t.Errorf("a copy of the ciphertext after the destruction: %v", err)
	}
	var list struct{ Items []retention.Destruction }
	w.do(admin, "GET", dbase+"/destructions", nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].CaseFileID != file || list.Items[0].Counts["sessions"] < 1 ||
		list.Items[0].Counts["documents"] != 1 || list.Items[0].Counts["support_plans"] != 1 || list.Items[0].ObjectsRemovedAt == nil {
		t.Fatalf("destruction record: %+v", list.Items)
	}
	if n := w.auditCount("case_files.destroy", "allowed"); n != 1 {
		t.Fatalf("audit rows of the destruction: %d", n)
	}
	// Idempotent: a second run finds nothing.
	if rep, err := svc.DestroyExpired(context.Background(), 100); err != nil || rep.Destroyed != 0 || rep.ObjectsRemoved != 0 {
		t.Fatalf("second run: %+v %v", rep, err)
	}
	// The counselor's catalogue no longer lists it; the file answers 404.
	if r := w.do(w.token("counselor.s1"), "GET", base+"/case-files/"+file.String(), nil); r.status != 404 {
		t.Fatalf("a destroyed file: %d", r.status)
	}
}

// Destroying a school's data key makes every note of the school unreadable, case-file
// keys included (they are wrapped by it).
func TestSchoolShredMakesCaseFileNotesUnreadable(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	ctx := context.Background()
	var sealed []byte
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(ctx, `SELECT note FROM counseling_sessions WHERE case_file_id = $1 AND note IS NOT NULL LIMIT 1`, own.caseFile).Scan(&sealed)
	})
	if len(sealed) == 0 || sealed[0] != 2 {
		t.Fatalf("no note sealed under the case file's key: %x", sealed)
	}
	ring := w.cases.Cipher.(*keyring.Keyring)
	counselor := w.counselorActor(t, "s1")
	read := func() error {
		return w.cases.DB.InTx(ctx, counselor, func(tx pgx.Tx) error {
			_, err := ring.Decrypt(ctx, tx, own.school, "session.note", sealed)
			return err
		})
	}
	if err := read(); err != nil {
		t.Fatalf("before the shred: %v", err)
	}
	if err := w.cases.DB.InTx(ctx, counselor, func(tx pgx.Tx) error { return ring.Shred(ctx, tx, own.school) }); err != nil {
		t.Fatal(err)
	}
	if err := read(); !errors.Is(err, keyring.ErrShredded) {
		t.Fatalf("after the shred: %v", err)
	}
}
