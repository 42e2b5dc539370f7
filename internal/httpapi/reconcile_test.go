package httpapi_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/document"
	"github.com/xinqiao/xinqiao/internal/library"
	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/reconcile"
)

// One reconciliation job serves every kind of stored object: an old orphan of each kind
// (case-file document, plan evidence, library document) is removed, each referenced
// object is kept, as are fresh orphans, keys of no kind and other deployments' keys;
// one audit row per kind and school (or district) records the removal.
func TestObjectReconciliationRemovesOrphansOfEveryKind(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	own := w.target("s1")
	term := w.currentTerm(own.district)
	doc := w.newDocument("s1", own.caseFile)
	ev := w.evidence(own.school, w.activity(own.school, term.ID))
	lib := w.libraryDocument(own)
	put := func(key string) {
		t.Helper()
		if err := w.store.Put(ctx, own.district, key, bytes.NewReader(pdfFixture), int64(len(pdfFixture)), "application/pdf"); err != nil {
			t.Fatal(err)
		}
	}
	s := own.school.String() + "/"
	keptDoc, keptEvidence, keptLibrary := s+own.caseFile.String()+"/"+doc.String(), s+"evidence/"+ev.String(), "library/"+lib.String()
	orphanDoc, orphanEvidence, orphanLibrary := s+own.caseFile.String()+"/"+uuid.NewString(), s+"evidence/"+uuid.NewString(), "library/"+uuid.NewString()
	foreignEvidence := uuid.NewString() + "/evidence/" + uuid.NewString() // a school this database does not know
	noKind := []string{"library/readme.txt", "exports/2024.csv", s + "evidence/notes"}
	for _, k := range append([]string{orphanDoc, orphanEvidence, orphanLibrary, foreignEvidence}, noKind...) {
		put(k)
	}
	time.Sleep(1500 * time.Millisecond)
	cutoff := time.Now().Add(-500 * time.Millisecond)
	freshEvidence, freshLibrary := s+"evidence/"+uuid.NewString(), "library/"+uuid.NewString()
	put(freshEvidence)
	put(freshLibrary)

	job := &reconcile.Job{DB: w.db.App, Store: w.store, Kinds: []reconcile.Kind{document.Orphans, program.EvidenceOrphans, library.Orphans}}
	n, err := job.Run(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("removed %d objects, want 3 (one orphan of each kind)", n)
	}
	left := map[string]bool{}
	for _, k := range w.objects(own.district, "") {
		left[k] = true
	}
	for _, k := range []string{orphanDoc, orphanEvidence, orphanLibrary} {
		if left[k] {
			t.Errorf("the orphan %s is still stored", k)
		}
	}
	for _, k := range append([]string{keptDoc, keptEvidence, keptLibrary, freshEvidence, freshLibrary, foreignEvidence}, noKind...) {
		if !left[k] {
			t.Errorf("%s was removed", k)
		}
	}
	for _, c := range []struct{ action, chain string }{
		{"documents.orphans_removed", "school"}, {"evidence.orphans_removed", "school"}, {"library.orphans_removed", "district"},
	} {
		got := w.scalar(`SELECT count(*) FROM audit_log WHERE action = $1 AND district_id = $2 AND school_id IS NULL`, c.action, own.district)
		if c.chain == "school" {
			got = w.scalar(`SELECT count(*) FROM audit_log WHERE action = $1 AND district_id = $2 AND school_id = $3`, c.action, own.district, own.school)
		}
		if got != 1 {
			t.Errorf("%s audit rows in the %s chain: %d", c.action, c.chain, got)
		}
	}
	// The referenced objects still download.
	tok := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	if r := w.do(tok, "GET", base+"/documents/"+doc.String()+"/content", nil); r.status != 200 {
		t.Fatalf("document after reconciliation: %d", r.status)
	}
	// Idempotent.
	if n, err := job.Run(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
}
