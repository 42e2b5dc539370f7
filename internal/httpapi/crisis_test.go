package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/referral"
)

// pdfText extracts the text of a PDF with poppler's pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

func TestCrisisFromAScreeningAlertToAClosedReferral(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + s1.school.String()
	alert := w.newAlert(s1)

	r := w.do(counselor, "POST", base+"/crises", map[string]any{"source": "screening_alert", "source_id": alert, "level": "high", "note": "PHQ-9 第9题为2"})
	var c crisis.Crisis
	r.decode(t, &c)
	if r.status != 201 || c.StudentID != s1.student || len(c.Steps) != 1 || c.Steps[0].Kind != "reported" {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	if got := w.scalarText(`SELECT coalesce(outcome, '') FROM screening_alerts WHERE id = $1`, alert); got != "case_opened" {
		t.Errorf("the alert was not acknowledged by opening the crisis: %q", got)
	}
	if r := w.do(counselor, "POST", base+"/crises", map[string]any{"source": "counselor", "student_id": s1.student, "level": "high"}); r.status != 409 {
		t.Errorf("a second open crisis for the student: %d", r.status)
	}
	step := func(body map[string]any) response {
		return w.do(counselor, "POST", fmt.Sprintf("%s/crises/%s/steps", base, c.ID), body)
	}
	// Out of order: refused, nothing written.
	for _, b := range []map[string]any{
		{"kind": "safety_actions", "note": "移除危险物品"},
		{"kind": "guardian_notified", "guardian": "母亲", "channel": "phone"},
		{"kind": "closed", "outcome": "stabilised"},
	} {
		if r := step(b); r.status != 409 {
			t.Errorf("%v before assessment: %d %s", b["kind"], r.status, r.body)
		}
	}
	if r := step(map[string]any{"kind": "risk_assessed", "level": "imminent", "method": "suicide_risk_scale", "note": "有具体计划"}); r.status != 201 {
		t.Fatalf("assess: %d %s", r.status, r.body)
	}
	r = step(map[string]any{"kind": "closed", "outcome": "stabilised"})
	if r.status != 409 || !strings.Contains(string(r.body), "guardian notification") {
		t.Errorf("closing too early: %d %s", r.status, r.body)
	}
	if r := step(map[string]any{"kind": "safety_actions", "note": "专人陪护，移除危险物品"}); r.status != 201 {
		t.Fatalf("safety: %d %s", r.status, r.body)
	}
	if r := step(map[string]any{"kind": "guardian_notified", "guardian": "母亲 王丽", "channel": "phone", "response": "立即到校"}); r.status != 201 {
		t.Fatalf("guardian: %d %s", r.status, r.body)
	}
	// The guardian notification is in the disclosure log with the imminent-danger basis.
	if n := w.scalar(`SELECT count(*) FROM disclosures WHERE case_file_id = $1 AND legal_basis = 'imminent_danger' AND recipient_kind = 'guardian'`, c.CaseFileID); n != 1 {
		t.Fatalf("disclosures = %d", n)
	}

	// Referral: no consent covers the hospital → 403 with the reason.
	hospital := w.newInstitution(s1, "市精神卫生中心")
	send := map[string]any{"case_file_id": c.CaseFileID, "institution_id": hospital, "basis": "consent", "items": []string{"risk_tier"}, "reason": "持续自伤念头"}
	r = w.do(counselor, "POST", base+"/referrals", send)
	if r.status != 403 || !strings.Contains(string(r.body), "consent") {
		t.Fatalf("referral without consent: %d %s", r.status, r.body)
	}
	send["basis"], send["crisis_id"], send["items"] = "imminent_danger", c.ID, []string{"risk_tier", "crisis"}
	r = w.do(counselor, "POST", base+"/referrals", send)
	var ref referral.Referral
	r.decode(t, &ref)
	if r.status != 201 || !strings.HasPrefix(ref.Link, "/r/") || ref.Status != "sent" {
		t.Fatalf("referral: %d %s", r.status, r.body)
	}
	// The letter holds the reason and the selected items only.
	r = w.do(counselor, "GET", fmt.Sprintf("%s/referrals/%s/letter.pdf", base, ref.ID), nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("letter: %d", r.status)
	}
	text := pdfText(t, r.body)
	student := w.scalarText(`SELECT name FROM students WHERE id = $1`, s1.student)
	for _, want := range []string{"转介函", "市精神卫生中心", "持续自伤念头", "风险等级", "危机风险等级：紧急"} {
		if !strings.Contains(text, want) {
			t.Errorf("the letter lacks %q: %s", want, text)
		}
	}
	for _, leak := range []string{student, s1.studentNumber, "监护人联系方式", "心理测评"} {
		if strings.Contains(text, leak) {
			t.Errorf("the letter shares %q, which was not selected", leak)
		}
	}
	// The crisis records the referral; the institution answers through its link, once.
	pub := "/api/v1" + ref.Link
	r = w.do("", "GET", pub, nil)
	if r.status != 200 || strings.Contains(string(r.body), student) {
		t.Fatalf("link page: %d %s", r.status, r.body)
	}
	r = w.do("", "POST", pub, map[string]any{"received": true, "appointment_at": time.Now().Add(48 * time.Hour)})
	if r.status != 200 || !strings.Contains(string(r.body), `"status":"appointment"`) {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	if r := w.do("", "POST", pub, map[string]any{"received": true}); r.status != 409 {
		t.Errorf("second answer: %d", r.status)
	}
	ref2 := w.referralByID(t, s1, ref.ID)
	if ref2.Status != "appointment" || ref2.AppointmentAt == nil || ref2.AcknowledgedAt == nil {
		t.Fatalf("after the answer: %+v", ref2)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE subject_id = $1 AND kind = 'referral_answered'`, ref.ID); n != 1 {
		t.Errorf("the counselor was not told of the answer: %d", n)
	}
	// The counselor records the rest of the loop; going back is refused.
	status := func(body map[string]any) int {
		return w.do(counselor, "POST", fmt.Sprintf("%s/referrals/%s/status", base, ref.ID), body).status
	}
	if s := status(map[string]any{"status": "acknowledged"}); s != 409 {
		t.Errorf("going back: %d", s)
	}
	if s := status(map[string]any{"status": "feedback"}); s != 422 {
		t.Errorf("feedback without text: %d", s)
	}
	if s := status(map[string]any{"status": "feedback", "feedback": "已就诊，建议药物治疗并每两周复诊"}); s != 200 {
		t.Errorf("feedback: %d", s)
	}
	if r := w.do(counselor, "PUT", fmt.Sprintf("%s/referrals/%s/return-plan", base, ref.ID),
		map[string]any{"plan": "返校后每周面谈，班主任关注", "return_date": time.Now().AddDate(0, 0, 14).Format(time.DateOnly)}); r.status != 200 {
		t.Errorf("return plan: %d %s", r.status, r.body)
	}
	if s := status(map[string]any{"status": "closed"}); s != 200 {
		t.Errorf("close referral: %d", s)
	}

	// Follow-up, then the crisis closes; afterwards only addenda.
	r = step(map[string]any{"kind": "follow_up_scheduled", "due_on": time.Now().AddDate(0, 0, 7).Format(time.DateOnly), "note": "一周后回访"})
	r.decode(t, &c)
	var followUp uuid.UUID
	for _, s := range c.Steps {
		if s.Kind == "follow_up_scheduled" {
			followUp = s.ID
		}
	}
	if r := step(map[string]any{"kind": "closed", "outcome": "referred_treatment"}); r.status != 409 {
		t.Errorf("closing with a pending follow-up: %d", r.status)
	}
	if r := step(map[string]any{"kind": "follow_up_done", "ref_step": followUp, "note": "已回访，情绪平稳"}); r.status != 201 {
		t.Fatalf("follow-up done: %d %s", r.status, r.body)
	}
	if r := step(map[string]any{"kind": "closed", "outcome": "referred_treatment"}); r.status != 201 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	if r := step(map[string]any{"kind": "safety_actions", "note": "补充"}); r.status != 409 {
		t.Errorf("a step after closing: %d", r.status)
	}
	r = step(map[string]any{"kind": "addendum", "ref_step": followUp, "note": "更正：回访由班主任陪同"})
	r.decode(t, &c)
	if r.status != 201 || c.Status != "closed" {
		t.Fatalf("addendum: %d %s", r.status, r.body)
	}
	kinds := []string{}
	for _, s := range c.Steps {
		kinds = append(kinds, s.Kind)
	}
	if got := strings.Join(kinds, ","); got != "reported,risk_assessed,safety_actions,guardian_notified,referred,follow_up_scheduled,follow_up_done,closed,addendum" {
		t.Errorf("timeline = %s", got)
	}
	// Steps are append-only in the database too.
	if err := w.db.App.InTx(bg(), w.counselorActor(t, "s1"), func(tx pgxTx) error {
		_, err := tx.Exec(bg(), `UPDATE crisis_steps SET occurred_at = now() WHERE crisis_id = $1`, c.ID)
		return err
	}); err == nil {
		t.Error("a step was changed")
	}
	// The leader reads the crisis; the homeroom teacher cannot.
	if r := w.do(w.token("leader.s1"), "GET", fmt.Sprintf("%s/crises/%s", base, c.ID), nil); r.status != 200 {
		t.Errorf("leader: %d", r.status)
	}
	if r := w.do(w.token("teacher.s1"), "GET", fmt.Sprintf("%s/crises/%s", base, c.ID), nil); r.status != 403 {
		t.Errorf("teacher: %d", r.status)
	}
}

func (w *world) referralByID(t *testing.T, tg target, id uuid.UUID) referral.Referral {
	r := w.do(w.token("counselor."+tg.code), "GET", fmt.Sprintf("/api/v1/schools/%s/referrals/%s", tg.school, id), nil)
	var out referral.Referral
	r.decode(t, &out)
	return out
}

func TestCrisisStepsCannotBeBackdatedAndBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	student := w.calmStudent(s1)
	reported := time.Now().Add(-30 * time.Minute)
	opened, err := w.crises.Open(bg(), w.counselorActor(t, "s1"), s1.school, crisis.OpenInput{Source: "counselor", StudentID: &student, Level: "moderate", ReportedAt: &reported})
	if err != nil {
		t.Fatal(err)
	}
	id := opened.ID
	path := fmt.Sprintf("/api/v1/schools/%s/crises/%s/steps", s1.school, id)
	counselor := w.token("counselor.s1")
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"back-dated beyond the window", map[string]any{"kind": "risk_assessed", "level": "high", "method": "interview", "occurred_at": time.Now().Add(-3 * time.Hour)}, 422, "occurred_at"},
		{"before the crisis was reported", map[string]any{"kind": "risk_assessed", "level": "high", "method": "interview", "occurred_at": time.Now().Add(-time.Hour)}, 422, "occurred_at"},
		{"in the future", map[string]any{"kind": "risk_assessed", "level": "high", "method": "interview", "occurred_at": time.Now().Add(time.Hour)}, 422, "occurred_at"},
		{"an unknown kind", map[string]any{"kind": "teleported"}, 422, "kind"},
		{"reported is not recorded by hand", map[string]any{"kind": "reported"}, 422, "kind"},
		{"an unknown level", map[string]any{"kind": "risk_assessed", "level": "extreme", "method": "interview"}, 422, "level"},
		{"a guardian notification without the guardian", map[string]any{"kind": "guardian_notified", "channel": "phone"}, 422, "guardian"},
		{"an addendum without its step", map[string]any{"kind": "addendum", "note": "更正"}, 422, "ref_step"},
		{"an unknown field", map[string]any{"kind": "risk_assessed", "level": "high", "method": "interview", "severity": 3}, 422, "severity"},
	}
	for _, c := range cases {
		r := w.do(counselor, "POST", path, c.body)
		if r.status != c.status || !strings.Contains(string(r.body), `"field":"`+c.field+`"`) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM crisis_steps WHERE crisis_id = $1`, id); n != 1 {
		t.Fatalf("bad input wrote steps: %d", n)
	}
	// Within the window, back-dating is fine.
	r := w.do(counselor, "POST", path, map[string]any{"kind": "risk_assessed", "level": "high", "method": "interview", "occurred_at": time.Now().Add(-5 * time.Second)})
	if r.status != 201 {
		t.Fatalf("a recent time: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", fmt.Sprintf("/api/v1/schools/%s/crises/%s/steps", s1.school, uuid.New()), map[string]any{"kind": "risk_assessed", "level": "high", "method": "interview"}); r.status != 404 {
		t.Errorf("unknown crisis: %d", r.status)
	}
}

func TestOverdueCrisesEscalateToTheLeaderThenTheDistrictBoard(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	student := w.calmStudent(s1)
	c, err := w.crises.Open(bg(), w.counselorActor(t, "s1"), s1.school, crisis.OpenInput{Source: "counselor", StudentID: &student, Level: "imminent"})
	if err != nil {
		t.Fatal(err)
	}
	quiet := w.openCrisis(s1, false) // a crisis handled in time never reaches the district
	w.assess(s1, quiet)
	if _, err := w.crises.RecordStep(bg(), w.counselorActor(t, "s1"), s1.school, quiet, crisis.StepInput{Kind: "guardian_notified", Guardian: "父亲", Channel: "phone"}); err != nil {
		t.Fatal(err)
	}
	run := func() int {
		n, err := w.crises.EscalateOverdue(bg(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	supervisor := w.token("district.supervisor")
	board := func() []crisis.BoardEntry {
		r := w.do(supervisor, "GET", "/api/v1/districts/"+s1.district.String()+"/crisis-board", nil)
		if r.status != 200 {
			t.Fatalf("board: %d", r.status)
		}
		name := w.scalarText(`SELECT name FROM students WHERE id = $1`, student)
		if strings.Contains(string(r.body), name) || strings.Contains(string(r.body), student.String()) {
			t.Fatalf("the board identifies the student: %s", r.body)
		}
		var b struct {
			Items []crisis.BoardEntry `json:"items"`
		}
		r.decode(t, &b)
		return b.Items
	}
	if n := run(); n != 0 {
		t.Fatalf("before any deadline: %d", n)
	}
	w.clock.Advance(16 * time.Minute) // imminent: assess within 15 minutes
	if n := run(); n != 1 {
		t.Fatalf("after the acknowledgement deadline: %d", n)
	}
	if n := run(); n != 0 {
		t.Fatalf("repeated run: %d", n)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items i JOIN users u ON u.id = i.user_id WHERE u.username = 'leader.s1' AND i.kind = 'crisis_escalated' AND i.subject_id = $1`, c.ID); n != 1 {
		t.Fatalf("leader tasks = %d", n)
	}
	if len(board()) != 0 {
		t.Fatal("the district sees a crisis before it was escalated to it")
	}
	if r := w.do(supervisor, "GET", fmt.Sprintf("/api/v1/districts/%s/crisis-board/%s", s1.district, c.ID), nil); r.status != 404 {
		t.Fatalf("a crisis not escalated: %d", r.status)
	}
	w.clock.Advance(61 * time.Minute)
	if n := run(); n != 1 {
		t.Fatalf("after the leader's time: %d", n)
	}
	b := board()
	if len(b) != 1 || b[0].CrisisID != c.ID || b[0].Level != "imminent" || b[0].Grade == "" {
		t.Fatalf("board = %+v", b)
	}
	// The supervisor asks for a follow-up; the counselor sees it and marks it done.
	r := w.do(supervisor, "POST", fmt.Sprintf("/api/v1/districts/%s/crisis-board/%s/notes", s1.district, c.ID),
		map[string]any{"kind": "follow_up", "body": "请今天内完成风险评估并告知监护人", "due_on": time.Now().AddDate(0, 0, 1).Format(time.DateOnly)})
	var entry crisis.BoardEntry
	r.decode(t, &entry)
	if r.status != 201 || len(entry.Notes) != 1 {
		t.Fatalf("note: %d %s", r.status, r.body)
	}
	if w.auditCount("crisis_board.read", "allowed") < 1 {
		t.Error("board reads are not audited")
	}
	got, err := w.crises.Get(bg(), w.counselorActor(t, "s1"), s1.school, c.ID)
	if err != nil || len(got.DistrictNotes) != 1 {
		t.Fatalf("the counselor does not see the request: %v %+v", err, got.DistrictNotes)
	}
	w.assess(s1, c.ID)
	note := got.DistrictNotes[0].ID
	if _, err := w.crises.RecordStep(bg(), w.counselorActor(t, "s1"), s1.school, c.ID, crisis.StepInput{Kind: "follow_up_done", DistrictNote: &note, Note: "已完成"}); err != nil {
		t.Fatal(err)
	}
	if n := w.scalar(`SELECT count(*) FROM crisis_district_notes WHERE id = $1 AND done_at IS NOT NULL`, note); n != 1 {
		t.Fatal("the request is not marked done")
	}
	if got := w.scalarText(`SELECT escalation FROM crises WHERE id = $1`, quiet); got != "none" {
		t.Fatalf("a crisis handled in time escalated to %s", got)
	}
	// A comment mentions no one; bad notes are refused.
	for _, body := range []map[string]any{{"kind": "comment", "body": ""}, {"kind": "follow_up", "body": "回访"}, {"kind": "order", "body": "x"}} {
		if r := w.do(supervisor, "POST", fmt.Sprintf("/api/v1/districts/%s/crisis-board/%s/notes", s1.district, c.ID), body); r.status != 422 {
			t.Errorf("%v: %d", body, r.status)
		}
	}
}

func TestReferralLinkIsSingleUseAndExpires(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	ref := w.newReferral(s1)
	fresh := w.newReferral(s1)
	pub := "/api/v1" + ref.Link
	const n = 6
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- w.do("", "POST", pub, map[string]any{"received": true}).status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[409] != n-1 {
		t.Fatalf("statuses = %v", count)
	}
	// A fresh link replaces the used one; after 30 days it has expired.
	r := w.do(w.token("counselor.s1"), "POST", fmt.Sprintf("/api/v1/schools/%s/referrals/%s/link", s1.school, ref.ID), nil)
	var again referral.Referral
	r.decode(t, &again)
	if r.status != 201 || again.Link == ref.Link {
		t.Fatalf("reissue: %d %s", r.status, r.body)
	}
	if r := w.do("", "GET", pub, nil); r.status != 404 {
		t.Errorf("the replaced link: %d", r.status)
	}
	w.clock.Advance(31 * 24 * time.Hour)
	r = w.do("", "POST", "/api/v1"+again.Link, map[string]any{"received": true, "feedback": "已就诊"})
	if r.status != http.StatusGone || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
		t.Fatalf("an expired link: %d %s", r.status, r.body)
	}
	if got := w.referralByID(t, s1, ref.ID); got.Status != "acknowledged" || got.Feedback != "" {
		t.Fatalf("an expired link changed the referral: %+v", got)
	}
	// Bad answers change nothing.
	w.clock.Advance(-31 * 24 * time.Hour)
	for _, body := range []any{map[string]any{}, map[string]any{"received": true, "decline_reason": "不接诊"}, map[string]any{"received": true, "feedback": strings.Repeat("长", 1001)}} {
		if r := w.do("", "POST", "/api/v1"+fresh.Link, body); r.status != 422 {
			t.Errorf("%v: %d", body, r.status)
		}
	}
	if r := w.do("", "GET", "/api/v1"+fresh.Link, nil); r.status != 200 {
		t.Errorf("bad answers used the link up: %d", r.status)
	}
}

func TestOverdueReferralFeedbackIsRemindedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	ref := w.newReferral(s1)
	remind := func() int {
		n, err := w.referrals.RemindFeedbackOverdue(bg())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := remind(); n != 0 {
		t.Fatalf("before the feedback date: %d", n)
	}
	w.clock.Advance(15 * 24 * time.Hour)
	if n := remind(); n != 1 {
		t.Fatalf("overdue: %d", n)
	}
	if n := remind(); n != 0 {
		t.Fatalf("repeated: %d", n)
	}
	if got := w.referralByID(t, s1, ref.ID); !got.FeedbackOverdue {
		t.Error("the referral is not marked overdue")
	}
	if r := w.do("", "POST", "/api/v1"+ref.Link, map[string]any{"received": true, "seen": true, "feedback": "已就诊，建议复诊"}); r.status != 200 {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM inbox_items WHERE subject_id = $1 AND kind = 'referral_feedback_overdue' AND done_at IS NULL`, ref.ID); n != 0 {
		t.Errorf("the reminder is still open after the feedback: %d", n)
	}
	if got := w.referralByID(t, s1, ref.ID); got.Status != "feedback" || got.Feedback != "已就诊，建议复诊" {
		t.Fatalf("after feedback: %+v", got)
	}
}

func TestAReferralConsentMustCoverTheInstitution(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s1 := w.target("s1")
	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + s1.school.String()
	covered := w.newInstitution(s1, "市精神卫生中心")
	other := w.newInstitution(s1, "区儿童医院")
	if r := w.do(counselor, "POST", fmt.Sprintf("%s/case-files/%s/consents", base, s1.caseFile), map[string]any{"given_by": "guardian", "guardian": "母亲",
		"scope": "referral", "recipient_name": "市精神卫生中心", "valid_from": time.Now().Format(time.DateOnly)}); r.status != 201 {
		t.Fatalf("consent: %d %s", r.status, r.body)
	}
	send := func(inst uuid.UUID) response {
		return w.do(counselor, "POST", base+"/referrals", map[string]any{"case_file_id": s1.caseFile, "institution_id": inst, "basis": "consent",
			"items": []string{"basics", "guardian_contact", "screening"}, "reason": "睡眠问题持续两个月"})
	}
	if r := send(other); r.status != 403 || !strings.Contains(string(r.body), "区儿童医院") {
		t.Fatalf("a consent naming another institution: %d %s", r.status, r.body)
	}
	r := send(covered)
	var ref referral.Referral
	r.decode(t, &ref)
	if r.status != 201 || ref.Basis != "consent" || ref.ConsentID == nil {
		t.Fatalf("covered: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM disclosures WHERE case_file_id = $1 AND legal_basis = 'consent' AND consent_id = $2 AND recipient_name = '市精神卫生中心'`,
		s1.caseFile, *ref.ConsentID); n != 1 {
		t.Errorf("the referral is not in the disclosure log: %d", n)
	}
	r = w.do(counselor, "GET", fmt.Sprintf("%s/referrals/%s/letter.pdf", base, ref.ID), nil)
	text := pdfText(t, r.body)
	name := w.scalarText(`SELECT name FROM students WHERE id = $1`, s1.student)
	for _, want := range []string{name, "监护人联系方式", "心理测评", "睡眠问题持续两个月"} {
		if !strings.Contains(text, want) {
			t.Errorf("the letter lacks %q", want)
		}
	}
	if strings.Contains(text, "风险等级") {
		t.Error("the letter shares the risk tier, which was not selected")
	}
	// Bad input.
	for _, body := range []map[string]any{
		{"case_file_id": s1.caseFile, "institution_id": covered, "basis": "consent", "items": []string{"everything"}, "reason": "x"},
		{"case_file_id": s1.caseFile, "institution_id": covered, "basis": "imminent_danger", "items": []string{}, "reason": "x"},
		{"case_file_id": s1.caseFile, "institution_id": covered, "basis": "consent", "items": []string{}, "reason": ""},
		{"case_file_id": uuid.New(), "institution_id": covered, "basis": "consent", "items": []string{}, "reason": "x"},
	} {
		if r := w.do(counselor, "POST", base+"/referrals", body); r.status != 422 {
			t.Errorf("%v: %d %s", body, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM referrals`); n != 1 {
		t.Fatalf("referrals = %d", n)
	}
}
