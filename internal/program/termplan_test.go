package program

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestTermPlanAnswersAreCheckedAgainstThePlanAndTheStaff(t *testing.T) {
	t.Parallel()
	p := Plan{Term: Term{StartsOn: "2026-09-01", EndsOn: "2027-01-20"}, Indicators: []Indicator{
		{Code: "lectures", Kind: "activity_count"}, {Code: "training", Kind: "hours"}}}
	owner, stranger := uuid.New(), uuid.New()
	staff := []Staff{{UserID: owner, Name: "王老师", Role: "counselor"}}
	full := func() []Answer {
		return []Answer{
			{IndicatorCode: "training", PlannedDates: []string{"2026-10-01"}, OwnerIDs: []uuid.UUID{owner}},
			{IndicatorCode: "lectures", PlannedDates: []string{"2026-09-01", "2027-01-20"}, OwnerIDs: []uuid.UUID{owner}},
		}
	}
	cases := []struct {
		name     string
		change   func(*TermPlanInput)
		complete bool
		field    string // "" when valid
		code     string
	}{
		{"a complete plan submits", func(*TermPlanInput) {}, true, "", ""},
		{"the term's first and last days are inside it", func(*TermPlanInput) {}, false, "", ""},
		{"a draft may leave indicators unanswered", func(in *TermPlanInput) { in.Answers = in.Answers[:1] }, false, "", ""},
		{"a submission may not", func(in *TermPlanInput) { in.Answers = in.Answers[:1] }, true, "answers", "incomplete"},
		{"a submission needs an owner per indicator", func(in *TermPlanInput) { in.Answers[0].OwnerIDs = nil }, true, "answers", "incomplete"},
		{"a submission needs a date per indicator", func(in *TermPlanInput) { in.Answers[1].PlannedDates = nil }, true, "answers", "incomplete"},
		{"a day before the term", func(in *TermPlanInput) { in.Answers[1].PlannedDates = []string{"2026-08-31"} }, false, "answers[1].planned_dates", "outside_term"},
		{"a day after the term", func(in *TermPlanInput) { in.Answers[0].PlannedDates = []string{"2027-01-21"} }, false, "answers[0].planned_dates", "outside_term"},
		{"an owner who is not staff", func(in *TermPlanInput) { in.Answers[0].OwnerIDs = []uuid.UUID{stranger} }, false, "answers[0].owner_ids", "invalid_value"},
		{"an unknown indicator", func(in *TermPlanInput) { in.Answers[0].IndicatorCode = "parties" }, false, "answers[0].indicator_code", "invalid_value"},
		{"an indicator twice", func(in *TermPlanInput) { in.Answers[1].IndicatorCode = "training" }, false, "answers[1].indicator_code", "duplicate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := TermPlanInput{Answers: full()}
			c.change(&in)
			f := in.validate()
			f = append(f, in.check(p, staff, c.complete)...)
			if c.field == "" {
				if len(f) > 0 {
					t.Fatalf("refused: %+v", f)
				}
				if len(in.Answers) > 1 && in.Answers[0].IndicatorCode != "lectures" {
					t.Fatalf("answers not in the plan's order: %+v", in.Answers)
				}
				return
			}
			for _, e := range f {
				if e.Field == c.field && e.Code == c.code {
					return
				}
			}
			t.Fatalf("want %s %s, got %+v", c.field, c.code, f)
		})
	}
	in := TermPlanInput{Note: strings.Repeat("长", 2001), Answers: []Answer{{IndicatorCode: "lectures", PlannedDates: []string{"2026-10-02", "2026-10-01", "2026-10-02"}}}}
	f := in.validate()
	if len(f) != 1 || f[0].Field != "note" || len(in.Answers[0].PlannedDates) != 2 || in.Answers[0].PlannedDates[0] != "2026-10-01" {
		t.Fatalf("validate: %+v %+v", f, in.Answers)
	}
}
