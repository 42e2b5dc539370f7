package program

import (
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The term of the tests runs 100 days, 2026-09-01 to 2026-12-09 inclusive.
func TestComplianceStatusAtTheEdgesOfEachIndicatorKind(t *testing.T) {
	t.Parallel()
	start, end := day("2026-09-01"), day("2026-12-09")
	cases := []struct {
		name          string
		kind          string
		value, target float64
		today         string
		want          string
	}{
		// Counts: met at the target, at any time; pro rata on track before.
		{"count reaching the target on the first day is met", "activity_count", 2, 2, "2026-09-01", Met},
		{"count above the target is met", "activity_count", 3, 2, "2026-10-01", Met},
		{"count one short on the last day is at risk", "activity_count", 1, 2, "2026-12-09", AtRisk},
		{"count one short the day after the term is missed", "activity_count", 1, 2, "2026-12-10", Missed},
		{"count at the target after the term is still met", "activity_count", 2, 2, "2027-01-10", Met},
		{"nothing yet on the first day is on track", "activity_count", 0, 2, "2026-09-01", OnTrack},
		{"nothing yet before the term is on track", "activity_count", 0, 2, "2026-08-01", OnTrack},
		{"nothing at half term of a target of 2 is at risk", "activity_count", 0, 2, "2026-10-20", AtRisk},
		{"nothing the day before half term is on track", "activity_count", 0, 2, "2026-10-19", OnTrack},
		{"one at half term of a target of 2 is on track", "activity_count", 1, 2, "2026-10-20", OnTrack},
		// Hours: the same pro rata rule on the whole part of the target.
		{"8 hours of 8 is met", "hours", 8, 8, "2026-09-02", Met},
		{"7.5 hours of 8 at the last day is at risk", "hours", 7.5, 8, "2026-12-09", AtRisk},
		{"7.5 hours of 8 after the term is missed", "hours", 7.5, 8, "2026-12-10", Missed},
		{"4 hours of 8 at half term is on track", "hours", 4, 8, "2026-10-20", OnTrack},
		{"3.9 hours of 8 at half term is at risk", "hours", 3.9, 8, "2026-10-20", AtRisk},
		// Percentages: on track from 90 % of the target.
		{"95 % of 95 is met", "percentage", 95, 95, "2026-09-10", Met},
		{"85.5 % of 95 is on track (exactly 90 % of the target)", "percentage", 85.5, 95, "2026-11-01", OnTrack},
		{"85.4 % of 95 is at risk", "percentage", 85.4, 95, "2026-11-01", AtRisk},
		{"94.9 % of 95 after the term is missed", "percentage", 94.9, 95, "2026-12-10", Missed},
		// Yes/no: evidence makes it met; without, on track for three quarters of the term.
		{"yes with evidence is met", "yes_no", 1, 1, "2026-12-09", Met},
		{"no evidence at 75 % of the term is on track", "yes_no", 0, 1, "2026-11-14", OnTrack},
		{"no evidence past 75 % of the term is at risk", "yes_no", 0, 1, "2026-11-15", AtRisk},
		{"no evidence after the term is missed", "yes_no", 0, 1, "2026-12-10", Missed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Status(c.kind, c.value, c.target, start, end, day(c.today)); got != c.want {
				t.Errorf("Status(%s, %v, %v, %s) = %s, want %s", c.kind, c.value, c.target, c.today, got, c.want)
			}
		})
	}
}

func TestIndicatorValidationNamesEachProblemPrecisely(t *testing.T) {
	t.Parallel()
	good := func() Indicator {
		return Indicator{Code: "lectures", Name: "心理健康讲座", Kind: "activity_count", ActivityType: "lecture", Target: 2}
	}
	cases := []struct {
		name  string
		list  []Indicator
		field string
		code  string
	}{
		{"no indicators", nil, "indicators", "required"},
		{"unknown kind", []Indicator{{Code: "x1", Name: "x", Kind: "vibes", Target: 1}}, "indicators[0].kind", "invalid_value"},
		{"bad code", []Indicator{func() Indicator { i := good(); i.Code = "Lectures!"; return i }()}, "indicators[0].code", "invalid_value"},
		{"duplicate code", []Indicator{good(), good()}, "indicators[1].code", "duplicate"},
		{"empty name", []Indicator{func() Indicator { i := good(); i.Name = " "; return i }()}, "indicators[0].name", "required"},
		{"count target not whole", []Indicator{func() Indicator { i := good(); i.Target = 1.5; return i }()}, "indicators[0].target", "invalid_value"},
		{"count target zero", []Indicator{func() Indicator { i := good(); i.Target = 0; return i }()}, "indicators[0].target", "invalid_value"},
		{"count of an unknown activity", []Indicator{func() Indicator { i := good(); i.ActivityType = "party"; return i }()}, "indicators[0].activity_type", "invalid_value"},
		{"count with a metric", []Indicator{func() Indicator { i := good(); i.Metric = "liaison_coverage"; return i }()}, "indicators[0].metric", "not_allowed"},
		{"hours of lectures", []Indicator{{Code: "h", Name: "培训", Kind: "hours", ActivityType: "lecture", Target: 8}}, "indicators[0].code", "invalid_value"},
		{"hours of an activity without hours", []Indicator{{Code: "hx", Name: "培训", Kind: "hours", ActivityType: "lecture", Target: 8}}, "indicators[0].activity_type", "invalid_value"},
		{"hours of liaison meetings (they record none)", []Indicator{{Code: "hx", Name: "例会", Kind: "hours", ActivityType: "liaison_meeting", Target: 2}}, "indicators[0].activity_type", "invalid_value"},
		{"a count of an unknown liaison event", []Indicator{{Code: "lx", Name: "活动", Kind: "activity_count", ActivityType: "liaison_party", Target: 2}}, "indicators[0].activity_type", "invalid_value"},
		{"hours target negative", []Indicator{{Code: "hx", Name: "培训", Kind: "hours", ActivityType: "staff_training", Target: -1}}, "indicators[0].target", "invalid_value"},
		{"percentage above 100", []Indicator{{Code: "px", Name: "覆盖", Kind: "percentage", Metric: "liaison_coverage", Target: 101}}, "indicators[0].target", "invalid_value"},
		{"percentage of an unknown metric", []Indicator{{Code: "px", Name: "覆盖", Kind: "percentage", Metric: "happiness", Target: 90}}, "indicators[0].metric", "invalid_value"},
		{"percentage with an activity type", []Indicator{{Code: "px", Name: "覆盖", Kind: "percentage", Metric: "liaison_coverage", ActivityType: "lecture", Target: 90}}, "indicators[0].activity_type", "not_allowed"},
		{"yes/no with a target of 2", []Indicator{{Code: "yn", Name: "制度", Kind: "yes_no", Target: 2}}, "indicators[0].target", "invalid_value"},
		{"yes/no with a metric", []Indicator{{Code: "yn", Name: "制度", Kind: "yes_no", Metric: "liaison_coverage"}}, "indicators[0].kind", "not_allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ValidateIndicators(c.list)
			for _, e := range f {
				if e.Field == c.field && e.Code == c.code {
					return
				}
			}
			t.Errorf("want %s %s, got %+v", c.field, c.code, f)
		})
	}
	ok := []Indicator{good(),
		{Code: "training", Name: "教师培训", Kind: "hours", ActivityType: "staff_training", Target: 8},
		{Code: "room", Name: "辅导室开放", Kind: "hours", ActivityType: "room_hours", Target: 10},
		{Code: "liaisons", Name: "心理委员覆盖", Kind: "percentage", Metric: "liaison_coverage", Target: 100},
		{Code: "protocol", Name: "危机干预制度", Kind: "yes_no"},
		{Code: "liaison_trainings", Name: "心理委员培训", Kind: "activity_count", ActivityType: "liaison_training", Target: 2},
		{Code: "liaison_meetings", Name: "心理委员例会", Kind: "activity_count", ActivityType: "liaison_meeting", Target: 4},
		{Code: "liaison_hours", Name: "心理委员培训时长", Kind: "hours", ActivityType: "liaison_training", Target: 4}}
	if f := ValidateIndicators(ok); len(f) > 0 {
		t.Fatalf("valid indicators refused: %+v", f)
	}
	if ok[4].Target != 1 || strings.TrimSpace(ok[0].Name) != ok[0].Name {
		t.Fatalf("normalised: %+v", ok)
	}
}
