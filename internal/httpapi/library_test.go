package httpapi_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/library"
)

// The district's library: the district administrator adds materials, a counselor adds the
// school's book and a copy; every school of the district finds them by topic and
// audience; copies are the school's own; a copy is lent to one borrower at a time (also
// under concurrent requests) and returned; only counselors see who borrowed.
func TestLibrarySearchCopiesAndLoans(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own, sibling := w.target("s1"), w.target("s2")
	admin, counselor, leader, teacher := w.token("district.admin"), w.token("counselor.s1"), w.token("leader.s1"), w.token("teacher.s1")
	d := "/api/v1/districts/" + own.district.String()
	base := "/api/v1/schools/" + own.school.String()

	r := w.do(admin, "POST", d+"/library", map[string]any{"kind": "link", "title": "考前焦虑自助手册", "url": "https://example.org/exam-anxiety",
		"topics": []string{"考试焦虑", "情绪"}, "audiences": []string{"student", "guardian"}, "summary": "给学生和家长的放松练习"})
	if r.status != 201 {
		t.Fatalf("district link: %d %s", r.status, r.body)
	}
	r = w.do(counselor, "POST", base+"/library", map[string]any{"kind": "book", "title": "少年心理自助读本", "author": "王老师", "isbn": "978-7-5600-0000-1",
		"topics": []string{"情绪"}, "audiences": []string{"student"}})
	var book library.Item
	r.decode(t, &book)
	if r.status != 201 || book.OwnerSchoolID == nil || *book.OwnerSchoolID != own.school {
		t.Fatalf("school book: %d %s", r.status, r.body)
	}
	r = w.do(counselor, "POST", base+"/library/"+book.ID.String()+"/copies", map[string]any{"label": "XL-001"})
	var cp library.Copy
	r.decode(t, &cp)
	if r.status != 201 {
		t.Fatalf("copy: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/library/"+book.ID.String()+"/copies", map[string]any{"label": "XL-001"}); r.status != 422 {
		t.Fatalf("a second copy with the same label: %d", r.status)
	}

	// Search by topic and audience, from the school (with copies) and the sibling school (without).
	search := func(tok, path string) []library.Item {
		var res struct{ Items []library.Item }
		r := w.do(tok, "GET", path, nil)
		if r.status != 200 {
			t.Fatalf("search %s: %d %s", path, r.status, r.body)
		}
		r.decode(t, &res)
		return res.Items
	}
	if got := search(teacher, base+"/library?topic=情绪&audience=student"); len(got) != 2 {
		t.Fatalf("topic and audience: %+v", got)
	}
	if got := search(leader, base+"/library?audience=guardian"); len(got) != 1 || got[0].Kind != "link" {
		t.Fatalf("for guardians: %+v", got)
	}
	if got := search(teacher, base+"/library?q=自助读本"); len(got) != 1 || len(got[0].Copies) != 1 || got[0].Copies[0].Out {
		t.Fatalf("words with the school's copy: %+v", got)
	}
	if got := search(w.token("counselor.s2"), "/api/v1/schools/"+sibling.school.String()+"/library?q=自助读本"); len(got) != 1 || len(got[0].Copies) != 0 {
		t.Fatalf("the sibling school finds the book without our copy: %+v", got)
	}
	if got := search(w.token("d2.district.admin"), "/api/v1/districts/"+w.foreignDistrict.String()+"/library"); len(got) != 0 {
		t.Fatalf("another district sees our library: %+v", got)
	}
	if got := search(teacher, base+"/library?q=%25"); len(got) != 0 {
		t.Fatalf("a %% matches everything: %+v", got)
	}

	// Lend: concurrent loans of one copy leave exactly one.
	due := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)
	statuses := make([]int, 6)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = w.do(counselor, "POST", base+"/library-loans", map[string]any{"copy_id": cp.ID, "student_id": own.student, "due_on": due}).status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == 201 {
			created++
		} else if s != 409 {
			t.Fatalf("loan answered %d", s)
		}
	}
	if created != 1 || w.scalar(`SELECT count(*) FROM library_loans WHERE returned_at IS NULL`) != 1 {
		t.Fatalf("concurrent loans of one copy: %v", statuses)
	}
	if got := search(teacher, base+"/library?q=自助读本"); !got[0].Copies[0].Out {
		t.Fatalf("the copy is not shown out: %+v", got)
	}
	var loans struct{ Items []library.Loan }
	w.do(counselor, "GET", base+"/library-loans", nil).decode(t, &loans)
	if len(loans.Items) != 1 || loans.Items[0].BorrowerName == "" || loans.Items[0].Title != "少年心理自助读本" || loans.Items[0].Overdue {
		t.Fatalf("loans: %+v", loans.Items)
	}
	if r := w.do(teacher, "GET", base+"/library-loans", nil); r.status != 403 {
		t.Fatalf("a teacher lists the loans: %d", r.status)
	}
	for _, body := range []string{string(w.do(teacher, "GET", base+"/library", nil).body)} {
		if strings.Contains(body, own.student.String()) || strings.Contains(body, loans.Items[0].BorrowerName) {
			t.Fatalf("the search names the borrower: %s", body)
		}
	}
	loan := loans.Items[0].ID
	if r := w.do(counselor, "POST", base+"/library-loans/"+loan.String()+"/return", nil); r.status != 200 {
		t.Fatalf("return: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/library-loans/"+loan.String()+"/return", nil); r.status != 409 {
		t.Fatalf("returning twice: %d", r.status)
	}
	staff := w.id(`SELECT id FROM users WHERE username = 'teacher.s1'`)
	if r := w.do(counselor, "POST", base+"/library-loans", map[string]any{"copy_id": cp.ID, "staff_user_id": staff, "due_on": due}); r.status != 201 {
		t.Fatalf("lending the returned copy to a teacher: %d %s", r.status, r.body)
	}
	if w.auditCount("library.lend", "allowed") != 2 || w.auditCount("library.return", "allowed") != 1 {
		t.Fatal("loans are audited")
	}
}

// Bad library input is refused with a problem naming the field; nothing is stored.
func TestLibraryBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own, sibling := w.target("s1"), w.target("s2")
	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	items := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no title", map[string]any{"kind": "book", "audiences": []string{"student"}}, "title"},
		{"unknown kind", map[string]any{"kind": "video", "title": "x", "audiences": []string{"student"}}, "kind"},
		{"link without address", map[string]any{"kind": "link", "title": "x", "audiences": []string{"student"}}, "url"},
		{"javascript link", map[string]any{"kind": "link", "title": "x", "url": "javascript:alert(1)", "audiences": []string{"student"}}, "url"},
		{"no audience", map[string]any{"kind": "book", "title": "x"}, "audiences"},
		{"unknown audience", map[string]any{"kind": "book", "title": "x", "audiences": []string{"principal"}}, "audiences"},
		{"bad isbn", map[string]any{"kind": "book", "title": "x", "isbn": "12", "audiences": []string{"student"}}, "isbn"},
	}
	for _, c := range items {
		r := w.do(counselor, "POST", base+"/library", c.body)
		if r.status != 422 {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM library_items`); n != 0 {
		t.Fatalf("%d items stored from bad input", n)
	}
	link := w.do(counselor, "POST", base+"/library", map[string]any{"kind": "link", "title": "x", "url": "https://example.org", "audiences": []string{"student"}})
	var l library.Item
	link.decode(t, &l)
	if r := w.do(counselor, "POST", base+"/library/"+l.ID.String()+"/copies", map[string]any{"label": "A1"}); r.status != 422 {
		t.Errorf("a copy of a link: %d", r.status)
	}
	if r := w.do(counselor, "POST", base+"/library/"+uuid.NewString()+"/copies", map[string]any{"label": "A1"}); r.status != 404 {
		t.Errorf("a copy of a missing item: %d", r.status)
	}
	book := w.do(counselor, "POST", base+"/library", map[string]any{"kind": "book", "title": "y", "audiences": []string{"teacher"}})
	var b library.Item
	book.decode(t, &b)
	var cp library.Copy
	w.do(counselor, "POST", base+"/library/"+b.ID.String()+"/copies", map[string]any{"label": "B1"}).decode(t, &cp)
	due := time.Now().AddDate(0, 0, 7).Format(time.DateOnly)
	loans := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no borrower", map[string]any{"copy_id": cp.ID, "due_on": due}, "student_id"},
		{"two borrowers", map[string]any{"copy_id": cp.ID, "student_id": own.student, "staff_user_id": uuid.New(), "due_on": due}, "student_id"},
		{"due yesterday", map[string]any{"copy_id": cp.ID, "student_id": own.student, "due_on": time.Now().AddDate(0, 0, -1).Format(time.DateOnly)}, "due_on"},
		{"a sibling's student", map[string]any{"copy_id": cp.ID, "student_id": sibling.student, "due_on": due}, "student_id"},
		{"no such copy", map[string]any{"copy_id": uuid.New(), "student_id": own.student, "due_on": due}, "copy_id"},
	}
	for _, c := range loans {
		r := w.do(counselor, "POST", base+"/library-loans", c.body)
		if r.status != 422 {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM library_loans`); n != 0 {
		t.Fatalf("%d loans stored from bad input", n)
	}
	if r := w.do(counselor, "GET", base+"/library?audience=everyone", nil); r.status != 422 {
		t.Errorf("unknown audience filter: %d", r.status)
	}
}

// Documents: a counselor uploads a document (its metadata stripped) to the district's
// library; every school of the district finds and downloads it, another district finds
// nothing; files of the wrong type or size are refused and nothing is stored.
func TestLibraryDocumentsUploadedSearchedAndDownloaded(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own, sibling := w.target("s1"), w.target("s2")
	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	r := w.upload(counselor, base+"/library/documents", "情绪卡片.png", pngFixture(true), "title", "情绪卡片", "topics", "情绪，自我觉察", "audiences", "student,guardian")
	if r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	var it library.Item
	r.decode(t, &it)
	if it.Kind != "document" || it.ContentType == nil || *it.ContentType != "image/png" || len(it.Topics) != 2 || len(it.Audiences) != 2 {
		t.Fatalf("document entry: %s", r.body)
	}
	var found struct{ Items []library.Item }
	w.do(w.token("teacher.s2"), "GET", "/api/v1/schools/"+sibling.school.String()+"/library?topic=自我觉察&audience=guardian", nil).decode(t, &found)
	if len(found.Items) != 1 || found.Items[0].ID != it.ID {
		t.Fatalf("the sibling school's search: %+v", found.Items)
	}
	got := w.do(w.token("teacher.s2"), "GET", "/api/v1/schools/"+sibling.school.String()+"/library/"+it.ID.String()+"/content", nil)
	if got.status != 200 || !bytes.Equal(got.body, pngFixture(false)) || got.header.Get("Content-Type") != "image/png" {
		t.Fatalf("download: %d %d bytes (metadata stripped: %v)", got.status, len(got.body), bytes.Equal(got.body, pngFixture(false)))
	}
	if r := w.do(w.token("d2.counselor.s1"), "GET", "/api/v1/schools/"+w.schools["d2.s1"].String()+"/library/"+it.ID.String()+"/content", nil); r.status != 404 {
		t.Fatalf("another district downloads it: %d", r.status)
	}
	before := w.scalar(`SELECT count(*) FROM library_items`)
	for _, c := range []struct {
		name    string
		content []byte
		fields  []string
		status  int
	}{
		{"a script", []byte("#!/bin/sh\necho hi\n"), []string{"title", "x", "audiences", "student"}, 415},
		{"too large", append(pngFixture(false), make([]byte, testDocumentCap)...), []string{"title", "x", "audiences", "student"}, 413},
		{"no title", pngFixture(false), []string{"audiences", "student"}, 422},
		{"no audience", pngFixture(false), []string{"title", "x"}, 422},
	} {
		if r := w.upload(counselor, base+"/library/documents", "f.png", c.content, c.fields...); r.status != c.status {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if after := w.scalar(`SELECT count(*) FROM library_items`); after != before {
		t.Fatalf("refused uploads stored %d entries", after-before)
	}
}
