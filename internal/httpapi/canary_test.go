package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func ioNopCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// logText is everything the API has logged so far.
func (w *world) logText() string {
	w.logBuf.mu.Lock()
	defer w.logBuf.mu.Unlock()
	return w.logs.String()
}

func firstLine(text, sub string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// Canary strings go into every kind of confidential value through the API — a student's
// name and number, a concern, session summaries and notes, a support plan, a crisis
// note, a client's name, mailbox messages and answers, search terms in query strings, a
// wrong password, and bad input that quotes them back — and none appears in any log line
// (at debug level), in /metrics or in any span name, attribute or event.
func TestCanariesNeverReachLogsMetricsOrTraces(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	w := newWorld(t)
	own := w.target("s1")
	s := "/api/v1/schools/" + own.school.String()
	tag := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	var canaries []string
	c := func(kind string) string {
		v := fmt.Sprintf("KANARIE%s%s金丝雀", kind, tag)
		canaries = append(canaries, v)
		return v
	}
	leader, teacher, counselor := w.token("leader.s1"), w.token("teacher.s1"), w.token("counselor.s1")
	step := func(name string, r response, want ...int) response {
		t.Helper()
		for _, code := range want {
			if r.status == code {
				return r
			}
		}
		t.Errorf("%s: %d %s", name, r.status, truncateBody(r.body))
		return r
	}
	var created struct {
		ID uuid.UUID `json:"id"`
	}
	// A student whose name and number are canaries, found again by a search.
	name, number := c("NAME"), "KN"+tag+"NUM"
	canaries = append(canaries, number)
	r := step("create student", w.do(leader, "POST", s+"/students", map[string]any{"student_number": number, "name": name, "gender": "female",
		"birth_date": "2012-01-01", "homeroom_id": own.homeroom}), 201)
	r.decode(t, &created)
	student := created.ID
	step("search by name", w.do(teacher, "POST", s+"/students/search", map[string]any{"q": name}), 200)
	step("search by number", w.do(leader, "POST", s+"/students/search", map[string]any{"q": number, "limit": 5}), 200)
	step("case catalogue search", w.do(counselor, "POST", s+"/case-files/search", map[string]any{"q": name}), 200)
	step("a search term in the address is refused", w.do(teacher, "GET", s+"/students?q="+name, nil), 400)
	// Bad input quoting canaries back: an unknown field, a wrong type, a wrong date.
	step("unknown field", w.do(leader, "POST", s+"/students", map[string]any{c("FIELD"): 1}), 422)
	step("wrong type", w.do(leader, "POST", s+"/students", map[string]any{"name": 7, "student_number": c("TYPE")}), 422)
	step("wrong date", w.do(leader, "POST", s+"/students", map[string]any{"student_number": "X1", "name": "x", "gender": "male",
		"birth_date": c("DATE"), "homeroom_id": own.homeroom}), 422)
	step("malformed id in path", w.do(leader, "GET", s+"/students/"+c("PATHID"), nil), 404)
	step("wrong password", w.do("", "POST", "/api/v1/auth/login", map[string]any{"username": "teacher.s1", "password": c("PASSWORD")}), 401)
	// A concern, taken in: a case file with a session, its note and a support plan.
	r = step("raise concern", w.do(teacher, "POST", s+"/concerns", map[string]any{"student_id": student, "urgency": "soon", "observation": c("CONCERN")}), 201)
	r.decode(t, &created)
	r = step("accept concern", w.do(counselor, "POST", s+"/intake/"+created.ID.String()+"/accept", nil), 200, 201)
	var accepted struct {
		CaseFileID uuid.UUID `json:"case_file_id"`
	}
	r.decode(t, &accepted)
	caseFile := accepted.CaseFileID
	if caseFile == uuid.Nil {
		caseFile = own.caseFile
	}
	r = step("record session", w.do(counselor, "POST", s+"/case-files/"+caseFile.String()+"/sessions", map[string]any{
		"occurred_at": time.Now().Add(-time.Hour).Format(time.RFC3339), "channel": "walk_in", "participants": []string{"student"},
		"initiated_by": "self", "categories": []string{"emotion"}, "duration_minutes": 30, "summary": c("SUMMARY")}), 201)
	r.decode(t, &created)
	step("session note", w.do(counselor, "PUT", s+"/sessions/"+created.ID.String()+"/note", map[string]any{"note": c("NOTE")}), 200)
	step("support plan", w.do(counselor, "POST", s+"/case-files/"+caseFile.String()+"/support-plans", map[string]any{
		"goals": []string{c("GOAL")}, "actions": []string{c("ACTION")}, "responsible_role": "班主任",
		"review_date": time.Now().AddDate(0, 0, 14).Format(time.DateOnly)}), 201)
	step("read case file", w.do(counselor, "GET", s+"/case-files/"+caseFile.String()+"/timeline", nil), 200)
	step("paper assessment", w.do(counselor, "POST", s+"/students/"+student.String()+"/assessments",
		map[string]any{"instrument_id": phq9ID, "answers": phq9Answers(3)}), 201)
	step("crisis", w.do(counselor, "POST", s+"/crises", map[string]any{"source": "counselor", "student_id": w.calmStudent(own),
		"level": "moderate", "note": c("CRISIS")}), 201)
	step("client file", w.do(counselor, "POST", s+"/client-files", map[string]any{"client_kind": "guardian", "name": c("CLIENT"), "contact": "13800000000"}), 201)
	// The public mailbox: a message, its answer, and a reply looked up by a wrong code.
	step("mailbox post", w.do("", "POST", "/api/v1/public/mailbox/"+own.school.String(), map[string]any{"anonymous": true, "body": c("MAILBOX")}), 201)
	var inbox struct {
		Items []struct {
			ID uuid.UUID `json:"id"`
		} `json:"items"`
	}
	step("mailbox inbox", w.do(counselor, "GET", s+"/mailbox", nil), 200).decode(t, &inbox)
	if len(inbox.Items) > 0 {
		step("mailbox answer", w.do(counselor, "POST", s+"/mailbox/"+inbox.Items[0].ID.String()+"/answer", map[string]any{"answer": c("ANSWER")}), 200, 201)
	}
	step("mailbox reply code", w.do("", "GET", "/api/v1/public/mailbox/"+own.school.String()+"/replies/"+c("CODE"), nil), 404)
	step("screening code", w.do("", "GET", "/api/v1/s/"+c("SCODE"), nil), 404)

	metrics := string(w.do("", "GET", "/metrics", nil).body)
	logs := w.logText()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatal("the API logged nothing: the test looks at the wrong buffer")
	}
	var spans strings.Builder
	for _, sp := range rec.Ended() {
		spans.WriteString(sp.Name() + "\n")
		for _, a := range sp.Attributes() {
			spans.WriteString(string(a.Key) + "=" + a.Value.String() + "\n")
		}
		for _, e := range sp.Events() {
			spans.WriteString(e.Name + "\n")
			for _, a := range e.Attributes {
				spans.WriteString(string(a.Key) + "=" + a.Value.String() + "\n")
			}
		}
		spans.WriteString(sp.Status().Description + "\n")
	}
	if len(rec.Ended()) == 0 {
		t.Fatal("no spans recorded")
	}
	for _, cv := range canaries {
		for _, sink := range []struct{ name, text string }{{"log", logs}, {"metrics", metrics}, {"trace", spans.String()}} {
			if strings.Contains(sink.text, cv) {
				t.Errorf("canary %s in the %s: %s", cv, sink.name, firstLine(sink.text, cv))
			}
		}
	}
}
