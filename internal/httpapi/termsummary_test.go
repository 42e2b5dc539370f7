package httpapi_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/termsummary"
)

// termSummary creates a term in the target's district and a summary of the target school
// for it, saved by the school's leader (and submitted when asked); it returns the term.
func (w *world) termSummary(t target, submit bool) uuid.UUID {
	w.t.Helper()
	term := w.currentTerm(t.district)
	if _, err := w.termSummaries.Save(bg(), schoolActor(w, t.school, "school_leader"), t.school, term.ID, "本学期工作小结", submit); err != nil {
		w.t.Fatal(err)
	}
	return term.ID
}

// The summary is drafted from the term's data, written and submitted by the school, then
// returned, resubmitted and approved by the district; once approved it is locked until
// the district reopens it. The PDF (Chinese font embedded) and the XLSX carry its figures.
func TestTermSummaryDraftedSubmittedApprovedAndLocked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1") // records a signed session in category "emotion"
	term := w.currentTerm(w.district)
	w.activity(own.school, term.ID)
	w.activity(own.school, term.ID)
	hours := 6.0
	if _, err := w.programs.RecordActivity(bg(), schoolActor(w, own.school, "counselor"), own.school, program.ActivityInput{TermID: term.ID,
		Type: "staff_training", Title: "班主任培训", HeldOn: nowCST().Format(time.DateOnly), Audience: "staff", AudienceSize: 50, Attendance: 40, Hours: &hours}); err != nil {
		t.Fatal(err)
	}
	if r := w.do(w.token("liaison.s1"), "POST", "/api/v1/schools/"+own.school.String()+"/barometer/form", map[string]any{"mood": 3}); r.status != 201 {
		t.Fatalf("barometer: %d", r.status)
	}
	leader, admin, counselor := w.token("leader.s1"), w.token("district.admin"), w.token("counselor.s1")
	path := "/api/v1/schools/" + own.school.String() + "/term-summaries/" + term.ID.String()
	review := "/api/v1/districts/" + w.district.String() + "/term-summaries/" + own.school.String() + "/" + term.ID.String() + "/review"

	var sum termsummary.Summary
	r := w.do(leader, "GET", path, nil)
	r.decode(t, &sum)
	if r.status != 200 || sum.Stored || sum.Status != "draft" || sum.Figures.SchoolName != "示范区第一中学" || sum.Figures.BarometerReports != 1 {
		t.Fatalf("draft: %d %s", r.status, r.body)
	}
	byType := map[string]termsummary.ActivityFigure{}
	for _, a := range sum.Figures.Activities {
		byType[a.Type] = a
	}
	if byType["lecture"].Count != 2 || byType["lecture"].Attendance != 560 || byType["staff_training"].Hours != 6 {
		t.Fatalf("activities: %+v", sum.Figures.Activities)
	}
	if len(sum.Figures.Sessions) != 1 || sum.Figures.Sessions[0].Category != "情绪" || sum.Figures.Sessions[0].Sessions != 1 {
		t.Fatalf("sessions by category: %+v", sum.Figures.Sessions)
	}
	if bytes.Contains(r.body, []byte(canary("s1"))) || bytes.Contains(r.body, []byte(own.student.String())) {
		t.Fatalf("the summary carries case-file content: %s", r.body)
	}
	// The district sees nothing before the school saves it.
	if r := w.do(admin, "GET", path, nil); r.status != 404 {
		t.Fatalf("district before saving: %d", r.status)
	}
	if r := w.do(leader, "POST", path+"/submit", map[string]any{"narrative": " "}); r.status != 422 {
		t.Fatalf("submitting an empty summary: %d", r.status)
	}
	const text = "本学期开展心理健康讲座两次，组织班主任培训六小时。"
	if r := w.do(leader, "PUT", path, map[string]any{"narrative": text}); r.status != 200 {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "POST", review, map[string]any{"verdict": "approve"}); r.status != 409 {
		t.Fatalf("approving a draft: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", path+"/submit", map[string]any{"narrative": text}); r.status != 200 {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	if r := w.do(leader, "PUT", path, map[string]any{"narrative": "改一改"}); r.status != 409 {
		t.Fatalf("editing a submitted summary: %d", r.status)
	}
	var queue struct{ Items []termsummary.QueueItem }
	w.do(admin, "GET", "/api/v1/districts/"+w.district.String()+"/term-summaries", nil).decode(t, &queue)
	if len(queue.Items) != 1 || queue.Items[0].Status != "submitted" || queue.Items[0].SchoolName != "示范区第一中学" {
		t.Fatalf("review queue: %+v", queue.Items)
	}
	if r := w.do(admin, "POST", review, map[string]any{"verdict": "return"}); r.status != 422 {
		t.Fatalf("returning without a comment: %d", r.status)
	}
	if r := w.do(admin, "POST", review, map[string]any{"verdict": "return", "comment": "请补充团体辅导情况"}); r.status != 200 {
		t.Fatalf("return: %d %s", r.status, r.body)
	}
	const final = text + "下学期计划开展团体辅导四次。"
	if r := w.do(leader, "POST", path+"/submit", map[string]any{"narrative": final}); r.status != 200 {
		t.Fatalf("resubmit: %d %s", r.status, r.body)
	}
	r = w.do(admin, "POST", review, map[string]any{"verdict": "approve", "comment": "同意"})
	r.decode(t, &sum)
	if r.status != 200 || sum.Status != "approved" || !sum.Locked {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	// Locked: no edit, no submit; new data does not change the approved figures.
	w.activity(own.school, term.ID)
	for _, c := range []struct{ method, path string }{{"PUT", path}, {"POST", path + "/submit"}} {
		if r := w.do(leader, c.method, c.path, map[string]any{"narrative": "偷偷修改"}); r.status != 409 {
			t.Fatalf("%s on an approved summary: %d", c.method, r.status)
		}
	}
	w.do(leader, "GET", path, nil).decode(t, &sum)
	if sum.Narrative != final || sum.Figures.Activities[0].Count != 2 {
		t.Fatalf("the approved summary changed: %+v", sum)
	}
	if r := w.do(admin, "POST", review, map[string]any{"verdict": "approve"}); r.status != 409 {
		t.Fatalf("approving twice: %d", r.status)
	}
	if r := w.do(w.token("district.supervisor"), "POST", review, map[string]any{"verdict": "reopen", "comment": "x"}); r.status != 403 {
		t.Fatalf("a supervisor reopens: %d", r.status)
	}

	// Exports, opened and checked.
	pdf := w.do(admin, "GET", path+"/export?format=pdf", nil)
	if pdf.status != 200 || !bytes.HasPrefix(pdf.body, []byte("%PDF-")) || pdf.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf: %d %v", pdf.status, pdf.header)
	}
	// The TrueType font is embedded (FontFile2) as a subset of the glyphs used: the file is
	// a fraction of the 4 MB font.
	if !bytes.Contains(pdf.body, []byte("/FontFile2")) || !regexp.MustCompile(`/BaseFont /utf8cjk`).Match(pdf.body) || len(pdf.body) > 400<<10 {
		t.Fatalf("the PDF does not embed a subset of the Chinese font (%d bytes)", len(pdf.body))
	}
	if !strings.Contains(pdf.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("pdf disposition: %v", pdf.header)
	}
	xl := w.do(leader, "GET", path+"/export?format=xlsx", nil)
	if xl.status != 200 {
		t.Fatalf("xlsx: %d %s", xl.status, xl.body)
	}
	book, err := excelize.OpenReader(bytes.NewReader(xl.body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	cell := func(sheet, at string) string {
		v, err := book.GetCellValue(sheet, at)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if cell("概况", "B1") != "示范区第一中学" || cell("概况", "B3") != "已审核通过" || cell("概况", "B6") != final || cell("概况", "B4") != "1" {
		t.Fatalf("overview sheet: %q %q %q", cell("概况", "B1"), cell("概况", "B3"), cell("概况", "B6"))
	}
	if cell("活动", "A2") != "心理健康讲座" || cell("活动", "B2") != "2" || cell("活动", "C2") != "560" {
		t.Fatalf("activities sheet: %q %q %q", cell("活动", "A2"), cell("活动", "B2"), cell("活动", "C2"))
	}
	if cell("个别辅导", "A2") != "情绪" || cell("个别辅导", "B2") != "1" {
		t.Fatalf("sessions sheet: %q %q", cell("个别辅导", "A2"), cell("个别辅导", "B2"))
	}
	if r := w.do(leader, "GET", path+"/export?format=doc", nil); r.status != 422 {
		t.Fatalf("unknown format: %d", r.status)
	}

	// The district reopens it: the school may change it again.
	if r := w.do(admin, "POST", review, map[string]any{"verdict": "reopen", "comment": "请更正讲座人次"}); r.status != 200 {
		t.Fatalf("reopen: %d %s", r.status, r.body)
	}
	r = w.do(leader, "PUT", path, map[string]any{"narrative": final + "（已更正）"})
	r.decode(t, &sum)
	if r.status != 200 || sum.Status != "returned" || sum.Figures.Activities[0].Count != 3 {
		t.Fatalf("edit after reopening: %d %s", r.status, r.body)
	}
}
