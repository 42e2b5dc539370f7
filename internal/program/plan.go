// Package program owns district plans (区计划) and school programs: terms, plans with
// indicators and targets, publication to all or selected schools (each gets a task),
// amendments with a version history, school activities with their evidence documents,
// and compliance (达标情况) per school and indicator, computed from the data on every read.
package program

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
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

// Service is the programs service.
type Service struct {
	DB       *database.DB
	Store    ObjectStore
	MaxBytes int64 // size cap of an evidence file; 0 means DefaultMaxBytes
	Now      func() time.Time
}

func (s *Service) today() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().In(shanghai)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Dates are calendar days of the district (China Standard Time).
var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// Indicator kinds, activity types, data metrics.
var (
	Kinds         = []string{"activity_count", "percentage", "hours", "yes_no", RoomOpenHours, RoomResponseRate}
	ActivityTypes = []string{"lecture", "group_session", "themed_month", "parent_event", "staff_training", "room_hours"}
	// HourTypes are the activity types that record hours.
	HourTypes = []string{"staff_training", "room_hours"}
	// Metrics are the percentages computed from data.
	Metrics = []string{"liaison_coverage", "barometer_weeks"}
	// LiaisonTypes are the peer-liaison trainings and meetings an indicator may count
	// (recorded in the liaison network, not as activities); LiaisonHourTypes record hours.
	LiaisonTypes     = []string{"liaison_training", "liaison_meeting"}
	LiaisonHourTypes = []string{"liaison_training"}
)

// Term is a term (学期) of the district.
type Term struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	StartsOn string    `json:"starts_on"`
	EndsOn   string    `json:"ends_on"`
}

func (t Term) bounds() (time.Time, time.Time) {
	a, _ := time.Parse(time.DateOnly, t.StartsOn)
	b, _ := time.Parse(time.DateOnly, t.EndsOn)
	return a, b
}

// TermInput creates a term.
type TermInput struct {
	Name     string `json:"name"`
	StartsOn string `json:"starts_on"`
	EndsOn   string `json:"ends_on"`
}

// CreateTerm adds a term to the district.
func (s *Service) CreateTerm(ctx context.Context, a scope.Actor, district uuid.UUID, in TermInput) (Term, error) {
	var f []fault.FieldError
	in.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > 60 {
		f = append(f, fault.Field("name", "required", "a name of 1 to 60 characters is required"))
	}
	start, err1 := time.Parse(time.DateOnly, in.StartsOn)
	if err1 != nil {
		f = append(f, fault.Field("starts_on", "invalid_date", "starts_on must be a date (YYYY-MM-DD)"))
	}
	end, err2 := time.Parse(time.DateOnly, in.EndsOn)
	if err2 != nil {
		f = append(f, fault.Field("ends_on", "invalid_date", "ends_on must be a date (YYYY-MM-DD)"))
	}
	if err1 == nil && err2 == nil && (!end.After(start) || end.Sub(start) > 400*24*time.Hour) {
		f = append(f, fault.Field("ends_on", "invalid_value", "ends_on must be after starts_on, at most 400 days later"))
	}
	if len(f) > 0 {
		return Term{}, fault.Validation(f...)
	}
	t := Term{ID: uuid.Must(uuid.NewV7()), Name: in.Name, StartsOn: in.StartsOn, EndsOn: in.EndsOn}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO terms (district_id, id, name, starts_on, ends_on) VALUES ($1, $2, $3, $4, $5)`,
			district, t.ID, t.Name, t.StartsOn, t.EndsOn); err != nil {
			if fault.KindOf(database.MapError(err)) == fault.Conflict {
				return fault.Validation(fault.Field("name", "duplicate", "the district already has a term of this name"))
			}
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "terms.create", ObjectType: "term", ObjectID: t.ID.String()})
	})
	return t, err
}

// Terms lists the district's terms, newest first. A school reads its district's terms.
func (s *Service) Terms(ctx context.Context, a scope.Actor) ([]Term, error) {
	var out []Term
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, name, starts_on::text, ends_on::text FROM terms WHERE district_id = $1 ORDER BY starts_on DESC, name LIMIT 200`, a.DistrictID)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Term, error) {
			var t Term
			return t, r.Scan(&t.ID, &t.Name, &t.StartsOn, &t.EndsOn)
		})
		return database.MapError(err)
	})
	return out, err
}

func term(ctx context.Context, tx pgx.Tx, district, id uuid.UUID) (Term, error) {
	var t Term
	err := tx.QueryRow(ctx, `SELECT id, name, starts_on::text, ends_on::text FROM terms WHERE district_id = $1 AND id = $2`, district, id).
		Scan(&t.ID, &t.Name, &t.StartsOn, &t.EndsOn)
	return t, database.MapError(err)
}

// Indicator is one indicator of a plan with its target.
type Indicator struct {
	Code         string  `json:"code"`
	Name         string  `json:"name"`
	Kind         string  `json:"kind"`
	ActivityType string  `json:"activity_type,omitempty"` // activity_count, hours
	Metric       string  `json:"metric,omitempty"`        // percentage
	Target       float64 `json:"target"`                  // count, hours, percent; yes_no: 1
}

var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// ValidateIndicators checks a plan's indicators and answers one precise error per problem,
// named by its place (indicators[2].target).
func ValidateIndicators(list []Indicator) []fault.FieldError {
	var f []fault.FieldError
	if len(list) == 0 || len(list) > 50 {
		return []fault.FieldError{fault.Field("indicators", "required", "a plan has 1 to 50 indicators")}
	}
	seen := map[string]bool{}
	for i := range list {
		in := &list[i]
		at := func(field string) string { return fmt.Sprintf("indicators[%d].%s", i, field) }
		if !codePattern.MatchString(in.Code) {
			f = append(f, fault.Field(at("code"), "invalid_value", "code: 2 to 40 lower-case letters, digits or _, starting with a letter"))
		} else if seen[in.Code] {
			f = append(f, fault.Field(at("code"), "duplicate", "the code "+in.Code+" is used twice"))
		}
		seen[in.Code] = true
		in.Name = strings.TrimSpace(in.Name)
		if n := utf8.RuneCountInString(in.Name); n == 0 || n > 100 {
			f = append(f, fault.Field(at("name"), "required", "a name of 1 to 100 characters is required"))
		}
		if math.IsNaN(in.Target) || math.IsInf(in.Target, 0) {
			in.Target = -1
		}
		switch in.Kind {
		case "activity_count":
			if !slices.Contains(ActivityTypes, in.ActivityType) && !slices.Contains(LiaisonTypes, in.ActivityType) {
				f = append(f, fault.Field(at("activity_type"), "invalid_value", "activity_type must be one of "+strings.Join(append(slices.Clone(ActivityTypes), LiaisonTypes...), ", ")))
			}
			if in.Target < 1 || in.Target > 1000 || in.Target != math.Trunc(in.Target) {
				f = append(f, fault.Field(at("target"), "invalid_value", "a count target is a whole number from 1 to 1000"))
			}
			if in.Metric != "" {
				f = append(f, fault.Field(at("metric"), "not_allowed", "an activity count has no metric"))
			}
		case "hours":
			if !slices.Contains(HourTypes, in.ActivityType) && !slices.Contains(LiaisonHourTypes, in.ActivityType) {
				f = append(f, fault.Field(at("activity_type"), "invalid_value", "hours are recorded for "+strings.Join(append(slices.Clone(HourTypes), LiaisonHourTypes...), ", ")))
			}
			if in.Target <= 0 || in.Target > 1000 {
				f = append(f, fault.Field(at("target"), "invalid_value", "an hours target is more than 0 and at most 1000"))
			}
			if in.Metric != "" {
				f = append(f, fault.Field(at("metric"), "not_allowed", "an hours indicator has no metric"))
			}
		case "percentage":
			if !slices.Contains(Metrics, in.Metric) {
				f = append(f, fault.Field(at("metric"), "invalid_value", "metric must be one of "+strings.Join(Metrics, ", ")))
			}
			if in.Target <= 0 || in.Target > 100 {
				f = append(f, fault.Field(at("target"), "invalid_value", "a percentage target is more than 0 and at most 100"))
			}
			if in.ActivityType != "" {
				f = append(f, fault.Field(at("activity_type"), "not_allowed", "a percentage has no activity type"))
			}
		case "yes_no":
			if in.ActivityType != "" || in.Metric != "" {
				f = append(f, fault.Field(at("kind"), "not_allowed", "a yes/no indicator has neither activity type nor metric"))
			}
			if in.Target != 0 && in.Target != 1 {
				f = append(f, fault.Field(at("target"), "invalid_value", "a yes/no target is 1 (yes, with evidence)"))
			}
			in.Target = 1
		case RoomOpenHours, RoomResponseRate:
			f = append(f, validateRoomIndicator(in, at)...)
		default:
			f = append(f, fault.Field(at("kind"), "invalid_value", "kind must be one of "+strings.Join(Kinds, ", ")))
		}
	}
	return f
}

// Plan is a district plan.
type Plan struct {
	ID          uuid.UUID   `json:"id"`
	TermID      uuid.UUID   `json:"term_id"`
	Term        Term        `json:"term"`
	Title       string      `json:"title"`
	Indicators  []Indicator `json:"indicators"`
	AllSchools  bool        `json:"all_schools"`
	SchoolIDs   []uuid.UUID `json:"school_ids"`
	Status      string      `json:"status"`
	Version     int         `json:"version"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	PublishedAt *time.Time  `json:"published_at"`
	// TermPlanDueOn is the deadline of the schools' term plans (30 days after the term
	// starts unless the district set one).
	TermPlanDueOn string `json:"term_plan_due_on"`
}

// PlanInput creates or changes a plan. Note explains an amendment of a published plan.
type PlanInput struct {
	TermID     uuid.UUID   `json:"term_id"`
	Title      string      `json:"title"`
	Indicators []Indicator `json:"indicators"`
	AllSchools bool        `json:"all_schools"`
	SchoolIDs  []uuid.UUID `json:"school_ids"`
	Note       string      `json:"note"`
	// TermPlanDueOn optionally sets the deadline of the term plans (a day of the term).
	TermPlanDueOn string `json:"term_plan_due_on"`
}

func (in *PlanInput) validate() error {
	var f []fault.FieldError
	if in.TermID == uuid.Nil {
		f = append(f, fault.Field("term_id", "required", "term_id is required"))
	}
	in.Title = strings.TrimSpace(in.Title)
	if n := utf8.RuneCountInString(in.Title); n == 0 || n > 120 {
		f = append(f, fault.Field("title", "required", "a title of 1 to 120 characters is required"))
	}
	f = append(f, ValidateIndicators(in.Indicators)...)
	if in.AllSchools {
		in.SchoolIDs = nil
	} else if len(in.SchoolIDs) == 0 {
		f = append(f, fault.Field("school_ids", "required", "choose the schools, or all_schools"))
	}
	slices.SortFunc(in.SchoolIDs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	in.SchoolIDs = slices.Compact(in.SchoolIDs)
	if utf8.RuneCountInString(in.Note) > 500 {
		f = append(f, fault.Field("note", "too_long", "at most 500 characters"))
	}
	if in.TermPlanDueOn != "" {
		if _, err := time.Parse(time.DateOnly, in.TermPlanDueOn); err != nil {
			f = append(f, fault.Field("term_plan_due_on", "invalid_date", "term_plan_due_on must be a date (YYYY-MM-DD)"))
		}
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// dueOn is the term plan deadline of the input, nil when the default applies.
func (in PlanInput) dueOn() *string {
	if in.TermPlanDueOn == "" {
		return nil
	}
	return &in.TermPlanDueOn
}

// checkRefs checks that the term and the schools are the district's.
func checkRefs(ctx context.Context, tx pgx.Tx, district uuid.UUID, in PlanInput) error {
	t, err := term(ctx, tx, district, in.TermID)
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return fault.Validation(fault.Field("term_id", "invalid_value", "no such term in the district"))
		}
		return err
	}
	if in.TermPlanDueOn != "" && (in.TermPlanDueOn < t.StartsOn || in.TermPlanDueOn > t.EndsOn) {
		return fault.Validation(fault.Field("term_plan_due_on", "outside_term", "the deadline of the term plans is a day of the term ("+t.StartsOn+" – "+t.EndsOn+")"))
	}
	if len(in.SchoolIDs) > 0 {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM schools WHERE district_id = $1 AND id = ANY ($2)`, district, in.SchoolIDs).Scan(&n); err != nil {
			return database.MapError(err)
		}
		if n != len(in.SchoolIDs) {
			return fault.Validation(fault.Field("school_ids", "invalid_value", "every school must be a school of the district"))
		}
	}
	return nil
}

const planColumns = `p.id, p.term_id, t.name, t.starts_on::text, t.ends_on::text, p.title, p.indicators, p.all_schools, p.school_ids,
	p.status, p.version, p.created_at, p.updated_at, p.published_at, coalesce(p.term_plan_due_on, t.starts_on + 30)::text`

func scanPlan(r pgx.CollectableRow) (Plan, error) {
	var p Plan
	var ind []byte
	if err := r.Scan(&p.ID, &p.TermID, &p.Term.Name, &p.Term.StartsOn, &p.Term.EndsOn, &p.Title, &ind, &p.AllSchools, &p.SchoolIDs,
		&p.Status, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.PublishedAt, &p.TermPlanDueOn); err != nil {
		return p, err
	}
	p.Term.ID = p.TermID
	if p.SchoolIDs == nil {
		p.SchoolIDs = []uuid.UUID{}
	}
	return p, json.Unmarshal(ind, &p.Indicators)
}

func plans(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]Plan, error) {
	rows, err := tx.Query(ctx, `SELECT `+planColumns+` FROM district_plans p JOIN terms t ON t.district_id = p.district_id AND t.id = p.term_id
		WHERE `+where+` ORDER BY t.starts_on DESC, p.created_at DESC LIMIT 200`, args...)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, scanPlan)
	return out, database.MapError(err)
}

func plan(ctx context.Context, tx pgx.Tx, district, id uuid.UUID) (Plan, error) {
	list, err := plans(ctx, tx, `p.district_id = $1 AND p.id = $2`, district, id)
	if err != nil {
		return Plan{}, err
	}
	if len(list) == 0 {
		return Plan{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

// CreatePlan writes a draft plan.
func (s *Service) CreatePlan(ctx context.Context, a scope.Actor, district uuid.UUID, in PlanInput) (Plan, error) {
	if err := in.validate(); err != nil {
		return Plan{}, err
	}
	var out Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if err := checkRefs(ctx, tx, district, in); err != nil {
			return err
		}
		ind, _ := json.Marshal(in.Indicators)
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO district_plans (district_id, id, term_id, title, indicators, all_schools, school_ids, created_by, term_plan_due_on)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, district, id, in.TermID, in.Title, ind, in.AllSchools, nonNil(in.SchoolIDs), a.UserID, in.dueOn()); err != nil {
			return database.MapError(err)
		}
		var err error
		if out, err = plan(ctx, tx, district, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "district_plans.create", ObjectType: "district_plan", ObjectID: id.String()})
	})
	return out, err
}

func nonNil(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}

// UpdatePlan changes a draft, or amends a published plan: the amendment becomes a new
// version (kept in the history) and schools it adds get their task.
func (s *Service) UpdatePlan(ctx context.Context, a scope.Actor, district, id uuid.UUID, in PlanInput) (Plan, error) {
	if err := in.validate(); err != nil {
		return Plan{}, err
	}
	var out Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := plan(ctx, tx, district, id)
		if err != nil {
			return err
		}
		if cur.Status == "published" && in.TermID != cur.TermID {
			return fault.Validation(fault.Field("term_id", "immutable", "the term of a published plan cannot change"))
		}
		if err := checkRefs(ctx, tx, district, in); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM district_plans WHERE district_id = $1 AND id = $2 FOR UPDATE`, district, id); err != nil {
			return database.MapError(err)
		}
		ind, _ := json.Marshal(in.Indicators)
		version := cur.Version
		if cur.Status == "published" {
			version++
		}
		if _, err := tx.Exec(ctx, `UPDATE district_plans SET term_id = $3, title = $4, indicators = $5, all_schools = $6, school_ids = $7,
			version = $8, term_plan_due_on = $9, updated_at = now() WHERE district_id = $1 AND id = $2`,
			district, id, in.TermID, in.Title, ind, in.AllSchools, nonNil(in.SchoolIDs), version, in.dueOn()); err != nil {
			return database.MapError(err)
		}
		action := "district_plans.update"
		if cur.Status == "published" {
			action = "district_plans.amend"
			if err := s.publishVersion(ctx, tx, a, district, id, version, in.Note); err != nil {
				return err
			}
		}
		if out, err = plan(ctx, tx, district, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: action, ObjectType: "district_plan", ObjectID: id.String()})
	})
	return out, err
}

// Publish publishes a draft to its schools: version 1 in the history, a task per school.
func (s *Service) Publish(ctx context.Context, a scope.Actor, district, id uuid.UUID, note string) (Plan, error) {
	if utf8.RuneCountInString(note) > 500 {
		return Plan{}, fault.Validation(fault.Field("note", "too_long", "at most 500 characters"))
	}
	var out Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM district_plans WHERE district_id = $1 AND id = $2 FOR UPDATE`, district, id).Scan(&status); err != nil {
			return database.MapError(err)
		}
		if status != "draft" {
			return fault.New(fault.Conflict, "the plan is already published; amend it instead")
		}
		if _, err := tx.Exec(ctx, `UPDATE district_plans SET status = 'published', version = 1, published_at = now(), updated_at = now()
			WHERE district_id = $1 AND id = $2`, district, id); err != nil {
			return database.MapError(err)
		}
		if err := s.publishVersion(ctx, tx, a, district, id, 1, note); err != nil {
			return err
		}
		var err error
		if out, err = plan(ctx, tx, district, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "district_plans.publish", ObjectType: "district_plan", ObjectID: id.String()})
	})
	return out, err
}

// publishVersion copies the plan's current text to its history and creates the tasks of
// target schools that have none yet.
func (s *Service) publishVersion(ctx context.Context, tx pgx.Tx, a scope.Actor, district, id uuid.UUID, version int, note string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO district_plan_versions (district_id, plan_id, version, title, indicators, all_schools, school_ids, note, published_by)
		SELECT district_id, id, $3, title, indicators, all_schools, school_ids, $4, $5 FROM district_plans WHERE district_id = $1 AND id = $2`,
		district, id, version, strings.TrimSpace(note), a.UserID); err != nil {
		return database.MapError(err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO plan_tasks (school_id, plan_id, district_id)
		SELECT s.id, p.id, p.district_id FROM district_plans p JOIN schools s ON s.district_id = p.district_id
		WHERE p.district_id = $1 AND p.id = $2 AND (p.all_schools OR s.id = ANY (p.school_ids))
		  AND NOT EXISTS (SELECT 1 FROM plan_tasks t WHERE t.school_id = s.id AND t.plan_id = p.id)`, district, id)
	return database.MapError(err)
}

// Plans lists the district's plans.
func (s *Service) Plans(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Plan, error) {
	var out []Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = plans(ctx, tx, `p.district_id = $1`, district)
		return err
	})
	return out, err
}

// Plan reads one plan of the district.
func (s *Service) Plan(ctx context.Context, a scope.Actor, district, id uuid.UUID) (Plan, error) {
	var out Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = plan(ctx, tx, district, id)
		return err
	})
	return out, err
}

// Version is one published version of a plan.
type Version struct {
	Version         int         `json:"version"`
	Title           string      `json:"title"`
	Indicators      []Indicator `json:"indicators"`
	AllSchools      bool        `json:"all_schools"`
	SchoolIDs       []uuid.UUID `json:"school_ids"`
	Note            string      `json:"note"`
	PublishedBy     uuid.UUID   `json:"published_by"`
	PublishedByName string      `json:"published_by_name"`
	PublishedAt     time.Time   `json:"published_at"`
}

// Versions lists a plan's published versions, newest first.
func (s *Service) Versions(ctx context.Context, a scope.Actor, district, id uuid.UUID) ([]Version, error) {
	var out []Version
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := plan(ctx, tx, district, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT v.version, v.title, v.indicators, v.all_schools, v.school_ids, v.note, v.published_by, u.display_name, v.published_at
			FROM district_plan_versions v JOIN users u ON u.id = v.published_by
			WHERE v.district_id = $1 AND v.plan_id = $2 ORDER BY v.version DESC`, district, id)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) {
			var v Version
			var ind []byte
			if err := r.Scan(&v.Version, &v.Title, &ind, &v.AllSchools, &v.SchoolIDs, &v.Note, &v.PublishedBy, &v.PublishedByName, &v.PublishedAt); err != nil {
				return v, err
			}
			if v.SchoolIDs == nil {
				v.SchoolIDs = []uuid.UUID{}
			}
			return v, json.Unmarshal(ind, &v.Indicators)
		})
		return database.MapError(err)
	})
	return out, err
}
