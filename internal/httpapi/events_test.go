package httpapi_test

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xinqiao/xinqiao/internal/casefile"
)

// The case-file timeline merges every kind of entry in time order, without free text.
func TestCaseFileEventsMergeEveryEntry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor := w.token("counselor.s1")
	file := own.caseFile
	const reason = "期中考试后情绪持续低落"
	if r := w.do(counselor, "PUT", base+"/case-files/"+file.String()+"/risk-tier", map[string]any{"tier": "watch", "reason": reason}); r.status != 200 {
		t.Fatalf("tier: %d %s", r.status, r.body)
	}
	w.newPlan("s1", file)
	w.newDocument("s1", file)
	if r := w.do(counselor, "POST", base+"/case-files/"+file.String()+"/consents", map[string]any{
		"given_by": "student", "scope": "screening", "valid_from": time.Now().Format(time.DateOnly)}); r.status != 201 {
		t.Fatalf("consent: %d %s", r.status, r.body)
	}
	r := w.do(counselor, "GET", base+"/case-files/"+file.String()+"/events", nil)
	var ev struct{ Items []casefile.Event }
	r.decode(t, &ev)
	if r.status != 200 {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
	var kinds []string
	for _, e := range ev.Items {
		kinds = append(kinds, e.Kind)
	}
	for _, want := range []string{"session", "risk_tier", "support_plan", "document", "consent"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("the timeline lacks %s: %v", want, kinds)
		}
	}
	if !sort.SliceIsSorted(ev.Items, func(i, j int) bool { return ev.Items[i].At.Before(ev.Items[j].At) }) {
		t.Errorf("not in time order: %+v", ev.Items)
	}
	if strings.Contains(string(r.body), reason) || strings.Contains(string(r.body), canary("s1")) {
		t.Errorf("the timeline carries free text: %s", r.body)
	}
	// Nobody else reads it: leaders are refused, another school's counselor finds nothing.
	if r := w.do(w.token("leader.s1"), "GET", base+"/case-files/"+file.String()+"/events", nil); r.status != 403 {
		t.Errorf("leader: %d", r.status)
	}
	other := "/api/v1/schools/" + w.target("s2").school.String()
	if r := w.do(counselor, "GET", other+"/case-files/"+file.String()+"/events", nil); r.status != 404 {
		t.Errorf("through another school: %d", r.status)
	}
}
