package program

import (
	"context"
	"encoding/json"
	"fmt"
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

// School term plans (学校学期计划): the school's answer to each indicator of a published
// district plan — planned dates and owners (staff of the school) — with a note; saved
// as a draft, submitted, then accepted (locked for good) or returned with a reason by
// the district.

// Term plan statuses; NotSubmitted is the district's name for a school without a
// submitted term plan (nothing stored, or a draft the district does not see).
const (
	TermPlanDraft     = "draft"
	TermPlanSubmitted = "submitted"
	TermPlanAccepted  = "accepted"
	TermPlanReturned  = "returned"
	NotSubmitted      = "not_submitted"
)

// Answer is the school's answer to one indicator.
type Answer struct {
	IndicatorCode string      `json:"indicator_code"`
	PlannedDates  []string    `json:"planned_dates"`
	OwnerIDs      []uuid.UUID `json:"owner_ids"`
	Note          string      `json:"note"`
}

// Staff is a staff user of a school who may own an indicator.
type Staff struct {
	UserID uuid.UUID `json:"user_id"`
	Name   string    `json:"name"`
	Role   string    `json:"role"`
}

// StaffRoles are the roles whose users may own an indicator of a term plan.
var StaffRoles = []string{"school_leader", "counselor", "homeroom_teacher"}

// TermPlan is a school's term plan for a district plan.
type TermPlan struct {
	SchoolID     uuid.UUID  `json:"school_id"`
	SchoolName   string     `json:"school_name"`
	PlanID       uuid.UUID  `json:"plan_id"`
	Plan         Plan       `json:"plan"`
	Status       string     `json:"status"`
	Stored       bool       `json:"stored"` // false: a fresh draft nobody saved yet
	PlanVersion  int        `json:"plan_version"`
	Answers      []Answer   `json:"answers"`
	Note         string     `json:"note"`
	UpdatedAt    *time.Time `json:"updated_at"`
	SubmittedAt  *time.Time `json:"submitted_at"`
	ReviewedAt   *time.Time `json:"reviewed_at"`
	ReviewReason string     `json:"review_reason"`
	Locked       bool       `json:"locked"` // submitted (until reviewed) or accepted (for good)
	DueOn        string     `json:"due_on"`
	Staff        []Staff    `json:"staff"` // who may own an indicator (and whose names the answers show)
}

// TermPlanInput is what the school writes.
type TermPlanInput struct {
	Answers []Answer `json:"answers"`
	Note    string   `json:"note"`
}

func (in *TermPlanInput) validate() []fault.FieldError {
	var f []fault.FieldError
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > 2000 {
		f = append(f, fault.Field("note", "too_long", "at most 2,000 characters"))
	}
	if len(in.Answers) > 50 {
		return append(f, fault.Field("answers", "invalid_value", "at most one answer per indicator (50)"))
	}
	for i := range in.Answers {
		x := &in.Answers[i]
		at := func(field string) string { return fmt.Sprintf("answers[%d].%s", i, field) }
		if x.PlannedDates == nil {
			x.PlannedDates = []string{}
		}
		if x.OwnerIDs == nil {
			x.OwnerIDs = []uuid.UUID{}
		}
		if len(x.PlannedDates) > 20 {
			f = append(f, fault.Field(at("planned_dates"), "invalid_value", "at most 20 planned dates"))
		}
		for _, d := range x.PlannedDates {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				f = append(f, fault.Field(at("planned_dates"), "invalid_date", "planned dates are dates (YYYY-MM-DD)"))
				break
			}
		}
		slices.Sort(x.PlannedDates)
		x.PlannedDates = slices.Compact(x.PlannedDates)
		slices.SortFunc(x.OwnerIDs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
		x.OwnerIDs = slices.Compact(x.OwnerIDs)
		if len(x.OwnerIDs) > 10 {
			f = append(f, fault.Field(at("owner_ids"), "invalid_value", "at most 10 owners"))
		}
		x.Note = strings.TrimSpace(x.Note)
		if utf8.RuneCountInString(x.Note) > 500 {
			f = append(f, fault.Field(at("note"), "too_long", "at most 500 characters"))
		}
	}
	return f
}

// check validates the answers against the plan and the school's staff; complete also
// requires a planned date and an owner for every indicator (submission).
func (in *TermPlanInput) check(p Plan, staff []Staff, complete bool) []fault.FieldError {
	var f []fault.FieldError
	codes := map[string]int{}
	for i, ind := range p.Indicators {
		codes[ind.Code] = i
	}
	isStaff := map[uuid.UUID]bool{}
	for _, s := range staff {
		isStaff[s.UserID] = true
	}
	seen := map[string]bool{}
	for i, x := range in.Answers {
		at := func(field string) string { return fmt.Sprintf("answers[%d].%s", i, field) }
		if _, ok := codes[x.IndicatorCode]; !ok {
			f = append(f, fault.Field(at("indicator_code"), "invalid_value", "no indicator "+x.IndicatorCode+" in the plan"))
			continue
		}
		if seen[x.IndicatorCode] {
			f = append(f, fault.Field(at("indicator_code"), "duplicate", "the indicator "+x.IndicatorCode+" is answered twice"))
		}
		seen[x.IndicatorCode] = true
		for _, d := range x.PlannedDates {
			if d < p.Term.StartsOn || d > p.Term.EndsOn {
				f = append(f, fault.Field(at("planned_dates"), "outside_term", "planned dates fall inside the term ("+p.Term.StartsOn+" – "+p.Term.EndsOn+")"))
				break
			}
		}
		for _, o := range x.OwnerIDs {
			if !isStaff[o] {
				f = append(f, fault.Field(at("owner_ids"), "invalid_value", "owners are staff of the school (leaders, counselors, homeroom teachers)"))
				break
			}
		}
	}
	if complete && len(f) == 0 {
		var missing []string
		byCode := map[string]Answer{}
		for _, x := range in.Answers {
			byCode[x.IndicatorCode] = x
		}
		for _, ind := range p.Indicators {
			if x := byCode[ind.Code]; len(x.PlannedDates) == 0 || len(x.OwnerIDs) == 0 {
				missing = append(missing, ind.Code)
			}
		}
		if len(missing) > 0 {
			f = append(f, fault.Field("answers", "incomplete", "give every indicator a planned date and an owner before submitting; missing: "+strings.Join(missing, ", ")))
		}
	}
	// Answers in the order of the plan's indicators.
	slices.SortFunc(in.Answers, func(a, b Answer) int { return codes[a.IndicatorCode] - codes[b.IndicatorCode] })
	return f
}

func schoolStaff(ctx context.Context, tx pgx.Tx, school uuid.UUID) ([]Staff, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (u.id) u.id, u.display_name, m.role FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.school_id = $1 AND m.role = ANY ($2) AND NOT u.disabled
		ORDER BY u.id, array_position($2, m.role)`, school, StaffRoles)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Staff])
	if err != nil {
		return nil, database.MapError(err)
	}
	slices.SortFunc(out, func(a, b Staff) int {
		if c := slices.Index(StaffRoles, a.Role) - slices.Index(StaffRoles, b.Role); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	if out == nil {
		out = []Staff{}
	}
	return out, nil
}

// storedTermPlan reads the stored term plan (ok false when there is none).
func storedTermPlan(ctx context.Context, tx pgx.Tx, school, planID uuid.UUID) (TermPlan, bool, error) {
	x := TermPlan{SchoolID: school, PlanID: planID, Stored: true}
	var answers []byte
	err := tx.QueryRow(ctx, `SELECT status, plan_version, answers, note, updated_at, submitted_at, reviewed_at, review_reason
		FROM term_plans WHERE school_id = $1 AND plan_id = $2`, school, planID).
		Scan(&x.Status, &x.PlanVersion, &answers, &x.Note, &x.UpdatedAt, &x.SubmittedAt, &x.ReviewedAt, &x.ReviewReason)
	if err == pgx.ErrNoRows {
		return TermPlan{}, false, nil
	}
	if err != nil {
		return TermPlan{}, false, database.MapError(err)
	}
	x.Locked = x.Status == TermPlanSubmitted || x.Status == TermPlanAccepted
	return x, true, json.Unmarshal(answers, &x.Answers)
}

// taskPlan reads the published plan p and checks the school has its task: for a school
// actor through the school's own view of plans, for the district through its plans.
func taskPlan(ctx context.Context, tx pgx.Tx, a scope.Actor, school, planID uuid.UUID) (Plan, error) {
	if a.Kind == scope.School {
		list, err := plans(ctx, tx, schoolPlanWhere+` AND p.id = $2`, school, planID)
		if err != nil {
			return Plan{}, err
		}
		if len(list) == 0 {
			return Plan{}, fault.New(fault.NotFound, "not found")
		}
		return list[0], nil
	}
	p, err := plan(ctx, tx, a.DistrictID, planID)
	if err != nil {
		return Plan{}, err
	}
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM plan_tasks WHERE district_id = $1 AND plan_id = $2 AND school_id = $3)`,
		a.DistrictID, planID, school).Scan(&ok); err != nil {
		return Plan{}, database.MapError(err)
	}
	if !ok || p.Status != "published" {
		return Plan{}, fault.New(fault.NotFound, "not found")
	}
	return p, nil
}

// termPlan assembles the term plan the actor may read: the school reads its own (a fresh
// draft with one empty answer per indicator when nothing is stored); the district reads
// it once submitted (a draft is the school's business).
func termPlan(ctx context.Context, tx pgx.Tx, a scope.Actor, school, planID uuid.UUID) (TermPlan, error) {
	p, err := taskPlan(ctx, tx, a, school, planID)
	if err != nil {
		return TermPlan{}, err
	}
	x, ok, err := storedTermPlan(ctx, tx, school, planID)
	if err != nil {
		return TermPlan{}, err
	}
	if a.Kind != scope.School && (!ok || x.Status == TermPlanDraft) {
		return TermPlan{}, fault.New(fault.NotFound, "not found")
	}
	if !ok {
		x = TermPlan{SchoolID: school, PlanID: planID, Status: TermPlanDraft, PlanVersion: p.Version}
	}
	// One answer per indicator of the current version, in its order.
	byCode := map[string]Answer{}
	for _, ans := range x.Answers {
		byCode[ans.IndicatorCode] = ans
	}
	x.Answers = make([]Answer, len(p.Indicators))
	for i, ind := range p.Indicators {
		ans, found := byCode[ind.Code]
		if !found {
			ans = Answer{IndicatorCode: ind.Code}
		}
		if ans.PlannedDates == nil {
			ans.PlannedDates = []string{}
		}
		if ans.OwnerIDs == nil {
			ans.OwnerIDs = []uuid.UUID{}
		}
		x.Answers[i] = ans
	}
	x.Plan, x.DueOn = p, p.TermPlanDueOn
	if err := tx.QueryRow(ctx, `SELECT name FROM schools WHERE id = $1 AND district_id = $2`, school, a.DistrictID).Scan(&x.SchoolName); err != nil {
		return TermPlan{}, database.MapError(err)
	}
	x.Staff, err = schoolStaff(ctx, tx, school)
	return x, err
}

// TermPlan reads a school's term plan of a district plan.
func (s *Service) TermPlan(ctx context.Context, a scope.Actor, school, planID uuid.UUID) (TermPlan, error) {
	var out TermPlan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = termPlan(ctx, tx, a, school, planID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "term_plans.read", ObjectType: "term_plan", ObjectID: school.String() + "/" + planID.String()})
	})
	return out, err
}

var errTermPlanLocked = fault.New(fault.Conflict, "the term plan is submitted or accepted and cannot change; a returned one can be changed again")

// SaveTermPlan stores the school's answers as a draft; submit also hands the term plan
// to the district, which needs a planned date and an owner for every indicator.
func (s *Service) SaveTermPlan(ctx context.Context, a scope.Actor, school, planID uuid.UUID, in TermPlanInput, submit bool) (TermPlan, error) {
	if f := in.validate(); len(f) > 0 {
		return TermPlan{}, fault.Validation(f...)
	}
	var out TermPlan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		p, err := taskPlan(ctx, tx, a, school, planID)
		if err != nil {
			return err
		}
		cur, ok, err := storedTermPlan(ctx, tx, school, planID)
		if err != nil {
			return err
		}
		if ok && cur.Locked {
			return errTermPlanLocked
		}
		staff, err := schoolStaff(ctx, tx, school)
		if err != nil {
			return err
		}
		if f := in.check(p, staff, submit); len(f) > 0 {
			return fault.Validation(f...)
		}
		answers, _ := json.Marshal(in.Answers)
		if !ok {
			if _, err := tx.Exec(ctx, `INSERT INTO term_plans (school_id, plan_id, district_id, plan_version, answers, note, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, school, planID, a.DistrictID, p.Version, answers, in.Note, a.UserID); err != nil {
				return database.MapError(err)
			}
		}
		status := TermPlanDraft
		if ok {
			status = cur.Status
		}
		if submit {
			status = TermPlanSubmitted
		}
		// The update policy only reaches drafts and returned plans: one submitted or
		// accepted meanwhile is left alone and reported as locked.
		tag, err := tx.Exec(ctx, `UPDATE term_plans SET status = $3, plan_version = $4, answers = $5, note = $6, updated_by = $7, updated_at = now(),
			submitted_by = CASE WHEN $3 = 'submitted' THEN $7 ELSE submitted_by END,
			submitted_at = CASE WHEN $3 = 'submitted' THEN now() ELSE submitted_at END
			WHERE school_id = $1 AND plan_id = $2`, school, planID, status, p.Version, answers, in.Note, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return errTermPlanLocked
		}
		if out, err = termPlan(ctx, tx, a, school, planID); err != nil {
			return err
		}
		action := "term_plans.save"
		if submit {
			action = "term_plans.submit"
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: action, ObjectType: "term_plan", ObjectID: school.String() + "/" + planID.String()})
	})
	return out, err
}

// TermPlanVerdicts are the district's answers to a submitted term plan.
var TermPlanVerdicts = []string{"accept", "return"}

// ReviewTermPlan accepts a submitted term plan (it is locked for good) or returns it to
// the school with a reason.
func (s *Service) ReviewTermPlan(ctx context.Context, a scope.Actor, district, planID, school uuid.UUID, verdict, reason string) (TermPlan, error) {
	reason = strings.TrimSpace(reason)
	var f []fault.FieldError
	switch verdict {
	case "accept":
	case "return":
		if reason == "" {
			f = append(f, fault.Field("reason", "required", "tell the school why the term plan is returned"))
		}
	default:
		f = append(f, fault.Field("verdict", "invalid_value", "verdict must be accept or return"))
	}
	if utf8.RuneCountInString(reason) > 1000 {
		f = append(f, fault.Field("reason", "too_long", "at most 1,000 characters"))
	}
	if len(f) > 0 {
		return TermPlan{}, fault.Validation(f...)
	}
	var out TermPlan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM term_plans WHERE district_id = $1 AND plan_id = $2 AND school_id = $3`,
			district, planID, school).Scan(&status); err != nil {
			return database.MapError(err)
		}
		if status == TermPlanDraft {
			return fault.New(fault.NotFound, "not found")
		}
		if status != TermPlanSubmitted {
			return fault.New(fault.Conflict, "the term plan is %s; only a submitted term plan is reviewed", status)
		}
		next := map[string]string{"accept": TermPlanAccepted, "return": TermPlanReturned}[verdict]
		tag, err := tx.Exec(ctx, `UPDATE term_plans SET status = $4, reviewed_by = $5, reviewed_at = now(), review_reason = $6
			WHERE district_id = $1 AND plan_id = $2 AND school_id = $3 AND status = 'submitted'`, district, planID, school, next, a.UserID, reason)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return fault.New(fault.Conflict, "the term plan changed meanwhile; reload it")
		}
		if out, err = termPlan(ctx, tx, a, school, planID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "term_plans." + verdict, ObjectType: "term_plan", ObjectID: school.String() + "/" + planID.String()})
	})
	return out, err
}

// Submission is one target school's term plan state, for the district.
type Submission struct {
	SchoolID    uuid.UUID  `json:"school_id"`
	SchoolName  string     `json:"school_name"`
	Status      string     `json:"status"` // not_submitted, submitted, accepted, returned
	SubmittedAt *time.Time `json:"submitted_at"`
	ReviewedAt  *time.Time `json:"reviewed_at"`
	Overdue     bool       `json:"overdue"` // not submitted (or returned) and the deadline passed
}

// Submissions is the district's view of a plan's term plans.
type Submissions struct {
	Plan         Plan         `json:"plan"`
	DueOn        string       `json:"due_on"`
	Today        string       `json:"today"`
	Items        []Submission `json:"items"`
	NotSubmitted int          `json:"not_submitted"` // schools without a submitted or accepted term plan
}

// TermPlanSubmissions lists every target school of a published plan with the state of
// its term plan, the schools that have not submitted included.
func (s *Service) TermPlanSubmissions(ctx context.Context, a scope.Actor, district, planID uuid.UUID) (Submissions, error) {
	today := s.today().Format(time.DateOnly)
	out := Submissions{Today: today, Items: []Submission{}}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out.Plan, err = plan(ctx, tx, district, planID); err != nil {
			return err
		}
		out.DueOn = out.Plan.TermPlanDueOn
		if out.Plan.Status != "published" {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT s.id, s.name, CASE WHEN x.status IS NULL OR x.status = 'draft' THEN 'not_submitted' ELSE x.status END,
				CASE WHEN x.status = 'draft' THEN NULL ELSE x.submitted_at END, x.reviewed_at
			FROM plan_tasks k JOIN schools s ON s.district_id = k.district_id AND s.id = k.school_id
			LEFT JOIN term_plans x ON x.school_id = k.school_id AND x.plan_id = k.plan_id
			WHERE k.district_id = $1 AND k.plan_id = $2 AND ($3 OR s.id = ANY ($4))
			ORDER BY (x.status = 'submitted') DESC NULLS LAST, s.name`, district, planID, out.Plan.AllSchools, out.Plan.SchoolIDs)
		if err != nil {
			return database.MapError(err)
		}
		out.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Submission, error) {
			var x Submission
			err := r.Scan(&x.SchoolID, &x.SchoolName, &x.Status, &x.SubmittedAt, &x.ReviewedAt)
			open := x.Status == NotSubmitted || x.Status == TermPlanReturned
			x.Overdue = open && today > out.DueOn
			return x, err
		})
		if err != nil {
			return database.MapError(err)
		}
		for _, x := range out.Items {
			if x.Status == NotSubmitted || x.Status == TermPlanReturned {
				out.NotSubmitted++
			}
		}
		return nil
	})
	if out.Items == nil {
		out.Items = []Submission{}
	}
	return out, err
}
