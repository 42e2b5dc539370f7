package program

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Audiences of an activity.
var Audiences = []string{"students", "parents", "staff", "mixed"}

// Details are the fields of a group session (团体辅导); other types leave them empty.
type Details struct {
	Theme               string   `json:"theme,omitempty"`
	Sessions            int      `json:"sessions,omitempty"`
	Facilitators        []string `json:"facilitators,omitempty"`
	ConfidentialityRule string   `json:"confidentiality_rule,omitempty"`
}

// ActivityInput records an activity that took place.
type ActivityInput struct {
	TermID       uuid.UUID `json:"term_id"`
	Type         string    `json:"type"`
	Title        string    `json:"title"`
	HeldOn       string    `json:"held_on"`
	Audience     string    `json:"audience"`
	AudienceSize int       `json:"audience_size"`
	Attendance   int       `json:"attendance"`
	Hours        *float64  `json:"hours"`
	Details      Details   `json:"details"`
}

// Activity is a recorded activity.
type Activity struct {
	ID             uuid.UUID  `json:"id"`
	TermID         uuid.UUID  `json:"term_id"`
	Type           string     `json:"type"`
	Title          string     `json:"title"`
	HeldOn         string     `json:"held_on"`
	Audience       string     `json:"audience"`
	AudienceSize   int        `json:"audience_size"`
	Attendance     int        `json:"attendance"`
	Hours          *float64   `json:"hours"`
	Details        Details    `json:"details"`
	RecordedBy     uuid.UUID  `json:"recorded_by"`
	RecordedByName string     `json:"recorded_by_name"`
	RecordedAt     time.Time  `json:"recorded_at"`
	Evidence       []Evidence `json:"evidence"`
}

func text(f *[]fault.FieldError, name string, v *string, min, max int) {
	*v = strings.TrimSpace(*v)
	if n := utf8.RuneCountInString(*v); n < min || n > max {
		*f = append(*f, fault.Field(name, "invalid_length", "between "+itoa(min)+" and "+itoa(max)+" characters"))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func (in *ActivityInput) validate(today time.Time) ([]fault.FieldError, time.Time) {
	var f []fault.FieldError
	if in.TermID == uuid.Nil {
		f = append(f, fault.Field("term_id", "required", "term_id is required"))
	}
	if !slices.Contains(ActivityTypes, in.Type) {
		f = append(f, fault.Field("type", "invalid_value", "type must be one of "+strings.Join(ActivityTypes, ", ")))
	}
	text(&f, "title", &in.Title, 1, 120)
	held, err := time.Parse(time.DateOnly, in.HeldOn)
	if err != nil {
		f = append(f, fault.Field("held_on", "invalid_date", "held_on must be a date (YYYY-MM-DD)"))
	} else if held.After(today) {
		f = append(f, fault.Field("held_on", "in_future", "record an activity once it has taken place"))
	}
	if !slices.Contains(Audiences, in.Audience) {
		f = append(f, fault.Field("audience", "invalid_value", "audience must be one of "+strings.Join(Audiences, ", ")))
	}
	if in.AudienceSize < 0 || in.AudienceSize > 100000 {
		f = append(f, fault.Field("audience_size", "invalid_value", "audience_size is from 0 to 100000"))
	}
	switch {
	case in.Attendance < 0:
		f = append(f, fault.Field("attendance", "invalid_value", "attendance cannot be negative"))
	case in.Attendance > in.AudienceSize:
		f = append(f, fault.Field("attendance", "exceeds_audience", "attendance cannot be greater than the audience"))
	}
	if slices.Contains(HourTypes, in.Type) {
		if in.Hours == nil {
			f = append(f, fault.Field("hours", "required", "hours are required for "+in.Type))
		}
	}
	if in.Hours != nil && (math.IsNaN(*in.Hours) || *in.Hours <= 0 || *in.Hours > 1000) {
		f = append(f, fault.Field("hours", "invalid_value", "hours are more than 0 and at most 1000"))
	}
	d := &in.Details
	if in.Type == "group_session" {
		text(&f, "details.theme", &d.Theme, 1, 100)
		if d.Sessions < 1 || d.Sessions > 100 {
			f = append(f, fault.Field("details.sessions", "invalid_value", "a group runs 1 to 100 sessions"))
		}
		if len(d.Facilitators) == 0 || len(d.Facilitators) > 10 {
			f = append(f, fault.Field("details.facilitators", "required", "1 to 10 facilitators"))
		}
		for i := range d.Facilitators {
			text(&f, "details.facilitators", &d.Facilitators[i], 1, 40)
		}
		text(&f, "details.confidentiality_rule", &d.ConfidentialityRule, 1, 1000)
	} else if d.Theme != "" || d.Sessions != 0 || len(d.Facilitators) > 0 || d.ConfidentialityRule != "" {
		f = append(f, fault.Field("details", "not_allowed", "details are recorded for group sessions only"))
	}
	return f, held
}

// RecordActivity records an activity of the school. Its date must fall inside its term.
func (s *Service) RecordActivity(ctx context.Context, a scope.Actor, school uuid.UUID, in ActivityInput) (Activity, error) {
	f, held := in.validate(s.today())
	if len(f) > 0 {
		return Activity{}, fault.Validation(f...)
	}
	var out Activity
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		t, err := term(ctx, tx, a.DistrictID, in.TermID)
		if fault.KindOf(err) == fault.NotFound {
			return fault.Validation(fault.Field("term_id", "invalid_value", "no such term"))
		} else if err != nil {
			return err
		}
		start, end := t.bounds()
		if held.Before(start) || held.After(end) {
			return fault.Validation(fault.Field("held_on", "outside_term", "the date is outside the term "+t.Name+" ("+t.StartsOn+" – "+t.EndsOn+")"))
		}
		details, _ := json.Marshal(in.Details)
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO activities (school_id, id, district_id, term_id, type, title, held_on, audience, audience_size, attendance, hours, details, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			school, id, a.DistrictID, in.TermID, in.Type, in.Title, in.HeldOn, in.Audience, in.AudienceSize, in.Attendance, in.Hours, details, a.UserID); err != nil {
			return database.MapError(err)
		}
		list, err := activities(ctx, tx, school, `a.id = $2`, id)
		if err != nil || len(list) == 0 {
			return fault.Wrap(err, "read back activity")
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "activities.record", ObjectType: "activity", ObjectID: id.String()})
	})
	return out, err
}

// Activities lists the school's activities of a term (all terms when term is Nil).
func (s *Service) Activities(ctx context.Context, a scope.Actor, school, termID uuid.UUID) ([]Activity, error) {
	var out []Activity
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if termID == uuid.Nil {
			out, err = activities(ctx, tx, school, `true`)
		} else {
			out, err = activities(ctx, tx, school, `a.term_id = $2`, termID)
		}
		return err
	})
	return out, err
}

func activities(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, args ...any) ([]Activity, error) {
	rows, err := tx.Query(ctx, `SELECT a.id, a.term_id, a.type, a.title, a.held_on::text, a.audience, a.audience_size, a.attendance, a.hours::float8,
		a.details, a.recorded_by, u.display_name, a.recorded_at
		FROM activities a JOIN users u ON u.id = a.recorded_by
		WHERE a.school_id = $1 AND `+where+` ORDER BY a.held_on DESC, a.id DESC LIMIT 500`, append([]any{school}, args...)...)
	if err != nil {
		return nil, database.MapError(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Activity, error) {
		var x Activity
		var d []byte
		if err := r.Scan(&x.ID, &x.TermID, &x.Type, &x.Title, &x.HeldOn, &x.Audience, &x.AudienceSize, &x.Attendance, &x.Hours,
			&d, &x.RecordedBy, &x.RecordedByName, &x.RecordedAt); err != nil {
			return x, err
		}
		x.Evidence = []Evidence{}
		return x, json.Unmarshal(d, &x.Details)
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	ev, err := evidenceOf(ctx, tx, school, `e.activity_id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	byActivity := map[uuid.UUID][]Evidence{}
	for _, e := range ev {
		byActivity[*e.ActivityID] = append(byActivity[*e.ActivityID], e)
	}
	for i := range list {
		if e := byActivity[list[i].ID]; e != nil {
			list[i].Evidence = e
		}
	}
	return list, nil
}
