package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/program"
)

// The school's liaison roster shows every homeroom with its liaisons and the homerooms
// without one; counselors record the liaisons' trainings and meetings (leaders read them),
// and these count for plan indicators of the fitting kind.
func TestLiaisonNetworkRosterEventsCountForIndicators(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	counselor, leader := w.token("counselor.s1"), w.token("leader.s1")

	var roster program.Roster
	r := w.do(leader, "GET", base+"/liaison-roster", nil)
	r.decode(t, &roster)
	homerooms := w.scalar(`SELECT count(*) FROM org_units WHERE school_id = $1 AND kind = 'homeroom'`, own.school)
	covered := w.scalar(`SELECT count(DISTINCT homeroom_id) FROM memberships WHERE school_id = $1 AND role = 'peer_liaison'`, own.school)
	if r.status != 200 || len(roster.Homerooms) != homerooms || roster.Covered != covered || roster.Missing != homerooms-covered || covered == 0 {
		t.Fatalf("roster: %d %s", r.status, r.body)
	}
	liaison := w.userID("liaison.s1")
	for _, h := range roster.Homerooms {
		if h.ID == own.homeroom && (!h.HasLiaison || h.Liaisons[0].UserID != liaison || h.Parent == "") {
			t.Fatalf("the liaison's homeroom: %+v", h)
		}
	}
	// A new homeroom without a liaison shows as a gap.
	w.victim("homeroom", own)
	w.do(counselor, "GET", base+"/liaison-roster", nil).decode(t, &roster)
	if roster.Missing != homerooms-covered+1 {
		t.Fatalf("a homeroom without a liaison is not a gap: %+v", roster)
	}

	// A plan counting liaison trainings (and their hours) and meetings.
	a := w.districtAdminActor(w.district)
	term := w.currentTerm(w.district)
	p, err := w.programs.CreatePlan(bg(), a, w.district, program.PlanInput{TermID: term.ID, Title: "心理委员培训", SchoolIDs: []uuid.UUID{own.school},
		Indicators: []program.Indicator{
			{Code: "trainings", Name: "心理委员培训不少于1次", Kind: "activity_count", ActivityType: "liaison_training", Target: 1},
			{Code: "training_hours", Name: "心理委员培训不少于2小时", Kind: "hours", ActivityType: "liaison_training", Target: 2},
			{Code: "meetings", Name: "心理委员例会不少于2次", Kind: "activity_count", ActivityType: "liaison_meeting", Target: 2},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.programs.Publish(bg(), a, w.district, p.ID, ""); err != nil {
		t.Fatal(err)
	}
	today := nowCST().Format(time.DateOnly)
	training := map[string]any{"kind": "training", "held_on": today, "topic": "如何识别同学的情绪变化", "hours": 2.5, "attendee_ids": []uuid.UUID{liaison},
		"notes": "讲解倾听技巧与转介流程"}
	if r := w.do(leader, "POST", base+"/liaison-events", training); r.status != 403 {
		t.Fatalf("a leader records: %d", r.status)
	}
	var ev program.LiaisonEvent
	r = w.do(counselor, "POST", base+"/liaison-events", training)
	r.decode(t, &ev)
	if r.status != 201 || ev.Kind != "training" || ev.Hours != 2.5 || len(ev.Attendees) != 1 || ev.Attendees[0].UserID != liaison || ev.RecordedByName == "" {
		t.Fatalf("record: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/liaison-events", map[string]any{"kind": "meeting", "held_on": today, "topic": "本周班级情况交流", "hours": 1,
		"attendee_ids": []uuid.UUID{liaison}}); r.status != 201 {
		t.Fatalf("meeting: %d %s", r.status, r.body)
	}
	var list struct{ Items []program.LiaisonEvent }
	w.do(leader, "GET", base+"/liaison-events", nil).decode(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("events: %+v", list.Items)
	}
	m, err := w.programs.Compliance(bg(), a, w.district, p.ID)
	if err != nil || len(m.Rows) != 1 {
		t.Fatalf("compliance: %v %+v", err, m)
	}
	for code, want := range map[string]struct {
		value  float64
		status string
	}{"trainings": {1, program.Met}, "training_hours": {2.5, program.Met}, "meetings": {1, program.OnTrack}} {
		if c := cellOf(m.Rows[0].Cells, code); c.Value != want.value || c.Status != want.status {
			t.Errorf("%s: %+v, want %v", code, c, want)
		}
	}
	// The district counts them, but never reads the events themselves.
	if r := w.do(w.token("district.admin"), "GET", base+"/liaison-events", nil); r.status != 403 {
		t.Fatalf("district reads the events: %d", r.status)
	}
}

// Bad liaison events are refused with a problem naming the field; nothing is stored.
func TestLiaisonEventBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	base := "/api/v1/schools/" + w.schools["s1"].String() + "/liaison-events"
	counselor := w.token("counselor.s1")
	liaison := w.userID("liaison.s1")
	today := nowCST().Format(time.DateOnly)
	good := func(change func(map[string]any)) map[string]any {
		b := map[string]any{"kind": "meeting", "held_on": today, "topic": "例会", "hours": 1, "attendee_ids": []uuid.UUID{liaison}, "notes": ""}
		change(b)
		return b
	}
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"an unknown kind", good(func(b map[string]any) { b["kind"] = "party" }), "kind"},
		{"a date in the future", good(func(b map[string]any) { b["held_on"] = nowCST().AddDate(0, 0, 2).Format(time.DateOnly) }), "held_on"},
		{"a malformed date", good(func(b map[string]any) { b["held_on"] = "yesterday" }), "held_on"},
		{"no topic", good(func(b map[string]any) { b["topic"] = "  " }), "topic"},
		{"zero hours", good(func(b map[string]any) { b["hours"] = 0 }), "hours"},
		{"a day and more", good(func(b map[string]any) { b["hours"] = 25 }), "hours"},
		{"no attendees", good(func(b map[string]any) { b["attendee_ids"] = []uuid.UUID{} }), "attendee_ids"},
		{"a counselor as attendee", good(func(b map[string]any) { b["attendee_ids"] = []uuid.UUID{w.userID("counselor.s1")} }), "attendee_ids"},
		{"a liaison of another school", good(func(b map[string]any) { b["attendee_ids"] = []uuid.UUID{w.userID("liaison.s2")} }), "attendee_ids"},
		{"notes too long", good(func(b map[string]any) { b["notes"] = strings.Repeat("长", 1001) }), "notes"},
	} {
		r := w.do(counselor, "POST", base, c.body)
		if r.status != 422 || !hasField(w.problem(t, r), c.field) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM liaison_events`); n != 0 {
		t.Fatalf("stored: %d", n)
	}
}
