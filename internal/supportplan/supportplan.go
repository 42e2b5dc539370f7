// Package supportplan owns the support plans (一生一策) of a case file: goals and actions,
// who is responsible, when the next review is due, and every review recorded. Free text
// (goals, actions, review outcomes) is encrypted with the school's data key. A plan is
// edited while active (its items are replaced, the old ones kept); reviews are never
// changed. A periodic job gives the counselors of the file a task when a review is
// overdue; recording the review closes it. Only the school's counselors reach any of it.
package supportplan

import (
	"context"
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
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Cipher encrypts free text with the school's data key (keyring.Keyring implements it).
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	// EncryptFile seals content of one case file under that file's own key.
	EncryptFile(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// Service is the support-plan domain service.
type Service struct {
	DB     *database.DB
	Cipher Cipher
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
}

// Statuses of a plan: active plans are edited and reviewed; the others are closed.
var Statuses = []string{"active", "completed", "discontinued"}

// KindReviewDue is the inbox kind of the review task.
const KindReviewDue = "support_plan_review_due"

// TypeReviewReminder is the periodic job that posts review tasks for overdue plans.
const TypeReviewReminder = "supportplan:review_reminder"

const (
	dateLayout = "2006-01-02"
	maxItems   = 20
	maxItemLen = 2000
	maxOutcome = 20000
)

// china is the time zone dates are judged in (review dates are school days in China).
var china = time.FixedZone("CST", 8*3600)

func (s *Service) today() string {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().In(china).Format(dateLayout)
}

// Item is one goal or action of a plan.
type Item struct {
	ID   uuid.UUID `json:"id"`
	Text string    `json:"text"`
}

// Review is one recorded review of a plan.
type Review struct {
	ID             uuid.UUID `json:"id"`
	ReviewedOn     string    `json:"reviewed_on"`
	DueDate        string    `json:"due_date"`
	Outcome        string    `json:"outcome"`
	NextReviewDate *string   `json:"next_review_date"`
	StatusAfter    string    `json:"status_after"`
	CreatedBy      uuid.UUID `json:"created_by"`
	CreatedAt      time.Time `json:"created_at"`
}

// Plan is a support plan as a counselor reads it.
type Plan struct {
	ID                uuid.UUID  `json:"id"`
	CaseFileID        uuid.UUID  `json:"case_file_id"`
	Status            string     `json:"status"`
	Goals             []Item     `json:"goals"`
	Actions           []Item     `json:"actions"`
	ResponsibleUserID *uuid.UUID `json:"responsible_user_id"`
	ResponsibleName   string     `json:"responsible_name"`
	ResponsibleRole   string     `json:"responsible_role"`
	ReviewDate        string     `json:"review_date"`
	Overdue           bool       `json:"overdue"`
	Reviews           []Review   `json:"reviews"`
	CreatedBy         uuid.UUID  `json:"created_by"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	ClosedAt          *time.Time `json:"closed_at"`
}

// Input creates a plan, or changes an active one (nil fields are left as they are; a
// list given replaces the current goals or actions).
type Input struct {
	Goals             *[]string  `json:"goals"`
	Actions           *[]string  `json:"actions"`
	ResponsibleUserID *uuid.UUID `json:"responsible_user_id"`
	ResponsibleRole   *string    `json:"responsible_role"`
	ReviewDate        *string    `json:"review_date"`
	Status            *string    `json:"status"`
}

func cleanItems(field string, list *[]string, required bool, f *[]fault.FieldError) {
	if list == nil {
		if required {
			*f = append(*f, fault.Field(field, "required", "at least one is required"))
		}
		return
	}
	var out []string
	for _, v := range *list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	*list = out
	switch {
	case len(out) == 0 && (required || field == "goals"):
		*f = append(*f, fault.Field(field, "required", "at least one is required"))
	case len(out) > maxItems:
		*f = append(*f, fault.Field(field, "too_long", fmt.Sprintf("at most %d", maxItems)))
	}
	for _, v := range out {
		if utf8.RuneCountInString(v) > maxItemLen {
			*f = append(*f, fault.Field(field, "too_long", fmt.Sprintf("each at most %d characters", maxItemLen)))
			break
		}
	}
}

// futureDate checks a date that must be today or later.
func (s *Service) futureDate(field, v string, f *[]fault.FieldError) {
	d, err := time.Parse(dateLayout, v)
	if err != nil || d.Format(dateLayout) != v {
		*f = append(*f, fault.Field(field, "invalid_format", "a date, YYYY-MM-DD"))
		return
	}
	if v < s.today() {
		*f = append(*f, fault.Field(field, "out_of_range", "the review date may not be in the past"))
	}
}

func (s *Service) validate(in *Input, create bool) error {
	var f []fault.FieldError
	cleanItems("goals", in.Goals, create, &f)
	cleanItems("actions", in.Actions, false, &f)
	if in.ResponsibleRole != nil {
		*in.ResponsibleRole = strings.TrimSpace(*in.ResponsibleRole)
		if utf8.RuneCountInString(*in.ResponsibleRole) > 40 {
			f = append(f, fault.Field("responsible_role", "too_long", "at most 40 characters"))
		}
	}
	if create && in.ResponsibleUserID == nil && (in.ResponsibleRole == nil || *in.ResponsibleRole == "") {
		f = append(f, fault.Field("responsible_role", "required", "a responsible staff member or role (e.g. homeroom teacher, guardian) is required"))
	}
	if in.ReviewDate != nil {
		s.futureDate("review_date", *in.ReviewDate, &f)
	} else if create {
		f = append(f, fault.Field("review_date", "required", "the date of the first review is required"))
	}
	if in.Status != nil && !slices.Contains(Statuses, *in.Status) {
		f = append(f, fault.Field("status", "invalid_value", "status must be active, completed or discontinued"))
	}
	if create && in.Status != nil && *in.Status != "active" {
		f = append(f, fault.Field("status", "invalid_value", "a new plan is active"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

func (s *Service) seal(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, purpose, text string) ([]byte, error) {
	return s.Cipher.EncryptFile(ctx, tx, school, caseFile, purpose, []byte(text))
}

func (s *Service) unseal(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, b []byte) (string, error) {
	p, err := s.Cipher.Decrypt(ctx, tx, school, purpose, b)
	if err != nil {
		return "", fault.Wrap(err, "decrypt "+purpose)
	}
	return string(p), nil
}

// caseFileWritable checks the case file exists in the school and is not archived.
func caseFileStatus(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID) (string, error) {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM case_files WHERE school_id = $1 AND id = $2`, school, caseFile).Scan(&status)
	return status, database.MapError(err)
}

var errArchived = fault.New(fault.Conflict, "an archived case file is read-only")

// checkResponsible refuses a responsible user who is not staff of the school.
func checkResponsible(ctx context.Context, tx pgx.Tx, school uuid.UUID, user *uuid.UUID) error {
	if user == nil {
		return nil
	}
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE school_id = $1 AND user_id = $2 AND scope_type = 'school')`,
		school, *user).Scan(&ok); err != nil {
		return database.MapError(err)
	}
	if !ok {
		return fault.Validation(fault.Field("responsible_user_id", "invalid_value", "no such staff member in this school"))
	}
	return nil
}

func (s *Service) addItems(ctx context.Context, tx pgx.Tx, a scope.Actor, school, caseFile, plan uuid.UUID, kind string, list []string) error {
	for i, text := range list {
		b, err := s.seal(ctx, tx, school, caseFile, "support_plan."+kind, text)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO support_plan_items (school_id, id, plan_id, kind, position, body, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, school, uuid.Must(uuid.NewV7()), plan, kind, i, b, a.UserID); err != nil {
			return database.MapError(err)
		}
	}
	return nil
}

// Create adds a plan to a case file.
func (s *Service) Create(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID, in Input) (Plan, error) {
	if err := s.validate(&in, true); err != nil {
		return Plan{}, err
	}
	var out Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		status, err := caseFileStatus(ctx, tx, school, caseFile)
		if err != nil {
			return err
		}
		if status == "archived" {
			return errArchived
		}
		if err := checkResponsible(ctx, tx, school, in.ResponsibleUserID); err != nil {
			return err
		}
		var role *string
		if in.ResponsibleRole != nil && *in.ResponsibleRole != "" {
			role = in.ResponsibleRole
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO support_plans (school_id, id, case_file_id, responsible_user_id, responsible_role, review_date, created_by)
			VALUES ($1, $2, $3, $4, $5, $6::date, $7)`, school, id, caseFile, in.ResponsibleUserID, role, *in.ReviewDate, a.UserID); err != nil {
			return database.MapError(err)
		}
		if err := s.addItems(ctx, tx, a, school, caseFile, id, "goal", *in.Goals); err != nil {
			return err
		}
		if in.Actions != nil {
			if err := s.addItems(ctx, tx, a, school, caseFile, id, "action", *in.Actions); err != nil {
				return err
			}
		}
		if out, err = s.plan(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "support_plans.create", ObjectType: "support_plan", ObjectID: id.String()})
	})
	return out, err
}

// List returns the plans of a case file, newest first; the read is audited.
func (s *Service) List(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) ([]Plan, error) {
	out := []Plan{}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := caseFileStatus(ctx, tx, school, caseFile); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM support_plans WHERE school_id = $1 AND case_file_id = $2 ORDER BY created_at DESC, id DESC`, school, caseFile)
		if err != nil {
			return database.MapError(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		for _, id := range ids {
			p, err := s.plan(ctx, tx, school, id)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "support_plans.list", ObjectType: "case_file", ObjectID: caseFile.String()})
	})
	return out, err
}

// Get returns one plan; the read is audited.
func (s *Service) Get(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Plan, error) {
	var out Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = s.plan(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "support_plans.read", ObjectType: "support_plan", ObjectID: id.String()})
	})
	return out, err
}

// Update changes an active plan: its goals or actions (replaced; the old items are kept
// as removed), the responsible person, the review date, or its status (completed or
// discontinued close it for good).
func (s *Service) Update(ctx context.Context, a scope.Actor, school, id uuid.UUID, in Input) (Plan, error) {
	if err := s.validate(&in, false); err != nil {
		return Plan{}, err
	}
	var out Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.lockActive(ctx, tx, school, id)
		if err != nil {
			return err
		}
		if err := checkResponsible(ctx, tx, school, in.ResponsibleUserID); err != nil {
			return err
		}
		userID, role := cur.ResponsibleUserID, &cur.ResponsibleRole
		if in.ResponsibleUserID != nil || in.ResponsibleRole != nil {
			userID, role = in.ResponsibleUserID, in.ResponsibleRole
		}
		if role != nil && *role == "" {
			role = nil
		}
		if userID == nil && role == nil {
			return fault.Validation(fault.Field("responsible_role", "required", "a responsible staff member or role is required"))
		}
		status := cur.Status
		if in.Status != nil {
			status = *in.Status
		}
		if _, err := tx.Exec(ctx, `UPDATE support_plans SET responsible_user_id = $3, responsible_role = $4,
			review_date = coalesce($5::date, review_date), status = $6,
			closed_at = CASE WHEN $6 = 'active' THEN NULL ELSE now() END, updated_at = now()
			WHERE school_id = $1 AND id = $2`, school, id, userID, role, in.ReviewDate, status); err != nil {
			return database.MapError(err)
		}
		for kind, list := range map[string]*[]string{"goal": in.Goals, "action": in.Actions} {
			if list == nil {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE support_plan_items SET removed_at = now(), removed_by = $4
				WHERE school_id = $1 AND plan_id = $2 AND kind = $3 AND removed_at IS NULL`, school, id, kind, a.UserID); err != nil {
				return database.MapError(err)
			}
			if err := s.addItems(ctx, tx, a, school, cur.CaseFileID, id, kind, *list); err != nil {
				return err
			}
		}
		if status != "active" || (in.ReviewDate != nil && *in.ReviewDate != cur.ReviewDate) {
			// A closed plan, or a review moved: the pending task for the old date is void.
			if err := closeReviewTasks(ctx, tx, school, id); err != nil {
				return err
			}
		}
		if out, err = s.plan(ctx, tx, school, id); err != nil {
			return err
		}
		reason := ""
		if status != cur.Status {
			reason = "status " + status
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "support_plans.update", ObjectType: "support_plan", ObjectID: id.String(), Reason: reason})
	})
	return out, err
}

// ReviewInput records a review.
type ReviewInput struct {
	ReviewedOn     string  `json:"reviewed_on"`
	Outcome        string  `json:"outcome"`
	NextReviewDate *string `json:"next_review_date"`
	// Status, when completed or discontinued, closes the plan with this review.
	Status string `json:"status"`
}

func (s *Service) validateReview(in *ReviewInput) error {
	var f []fault.FieldError
	today := s.today()
	if in.ReviewedOn == "" {
		in.ReviewedOn = today
	}
	if d, err := time.Parse(dateLayout, in.ReviewedOn); err != nil || d.Format(dateLayout) != in.ReviewedOn {
		f = append(f, fault.Field("reviewed_on", "invalid_format", "a date, YYYY-MM-DD"))
	} else if in.ReviewedOn > today {
		f = append(f, fault.Field("reviewed_on", "out_of_range", "when the review happened; not in the future"))
	}
	in.Outcome = strings.TrimSpace(in.Outcome)
	if in.Outcome == "" || utf8.RuneCountInString(in.Outcome) > maxOutcome {
		f = append(f, fault.Field("outcome", "required", "an outcome of 1 to 20,000 characters"))
	}
	if in.Status == "" {
		in.Status = "active"
	}
	if !slices.Contains(Statuses, in.Status) {
		f = append(f, fault.Field("status", "invalid_value", "status must be active, completed or discontinued"))
	}
	switch {
	case in.Status == "active" && in.NextReviewDate == nil:
		f = append(f, fault.Field("next_review_date", "required", "the date of the next review is required while the plan stays active"))
	case in.Status == "active":
		s.futureDate("next_review_date", *in.NextReviewDate, &f)
		if *in.NextReviewDate <= in.ReviewedOn {
			f = append(f, fault.Field("next_review_date", "out_of_range", "the next review comes after this one"))
		}
	case in.NextReviewDate != nil:
		f = append(f, fault.Field("next_review_date", "invalid_value", "a closed plan has no next review"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// RecordReview records a review of an active plan and sets its next review date (or
// closes it). The open review tasks of the plan are marked done in the same transaction.
func (s *Service) RecordReview(ctx context.Context, a scope.Actor, school, id uuid.UUID, in ReviewInput) (Plan, error) {
	if err := s.validateReview(&in); err != nil {
		return Plan{}, err
	}
	var out Plan
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.lockActive(ctx, tx, school, id)
		if err != nil {
			return err
		}
		b, err := s.seal(ctx, tx, school, cur.CaseFileID, "support_plan.review", in.Outcome)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO support_plan_reviews (school_id, id, plan_id, reviewed_on, due_date, outcome, next_review_date, status_after, created_by)
			VALUES ($1, $2, $3, $4::date, $5::date, $6, $7::date, $8, $9)`,
			school, uuid.Must(uuid.NewV7()), id, in.ReviewedOn, cur.ReviewDate, b, in.NextReviewDate, in.Status, a.UserID); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE support_plans SET review_date = coalesce($3::date, review_date), status = $4,
			closed_at = CASE WHEN $4 = 'active' THEN NULL ELSE now() END, updated_at = now()
			WHERE school_id = $1 AND id = $2`, school, id, in.NextReviewDate, in.Status); err != nil {
			return database.MapError(err)
		}
		if err := closeReviewTasks(ctx, tx, school, id); err != nil {
			return err
		}
		if out, err = s.plan(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "support_plans.review", ObjectType: "support_plan", ObjectID: id.String(),
			Reason: "status " + in.Status})
	})
	return out, err
}

// closeReviewTasks marks the plan's open review tasks done, for every counselor.
func closeReviewTasks(ctx context.Context, tx pgx.Tx, school, plan uuid.UUID) error {
	_, err := tx.Exec(ctx, `UPDATE inbox_items SET done_at = now(), read_at = coalesce(read_at, now())
		WHERE school_id = $1 AND kind = $2 AND subject_type = 'support_plan' AND subject_id = $3 AND done_at IS NULL`,
		school, KindReviewDue, plan)
	return database.MapError(err)
}

// lockActive reads a plan for a change: it must be active and its case file not archived.
func (s *Service) lockActive(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Plan, error) {
	var caseFile uuid.UUID
	if err := tx.QueryRow(ctx, `SELECT case_file_id FROM support_plans WHERE school_id = $1 AND id = $2 FOR UPDATE`, school, id).Scan(&caseFile); err != nil {
		return Plan{}, database.MapError(err)
	}
	status, err := caseFileStatus(ctx, tx, school, caseFile)
	if err != nil {
		return Plan{}, err
	}
	if status == "archived" {
		return Plan{}, errArchived
	}
	p, err := s.plan(ctx, tx, school, id)
	if err != nil {
		return Plan{}, err
	}
	if p.Status != "active" {
		return Plan{}, fault.New(fault.Conflict, "the plan is %s and can no longer change", p.Status)
	}
	return p, nil
}

func (s *Service) plan(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Plan, error) {
	var p Plan
	var role *string
	err := tx.QueryRow(ctx, `SELECT p.id, p.case_file_id, p.status, p.responsible_user_id, coalesce(u.display_name, ''), p.responsible_role,
		p.review_date::text, p.created_by, p.created_at, p.updated_at, p.closed_at
		FROM support_plans p LEFT JOIN users u ON u.id = p.responsible_user_id
		WHERE p.school_id = $1 AND p.id = $2`, school, id).
		Scan(&p.ID, &p.CaseFileID, &p.Status, &p.ResponsibleUserID, &p.ResponsibleName, &role, &p.ReviewDate, &p.CreatedBy, &p.CreatedAt, &p.UpdatedAt, &p.ClosedAt)
	if err != nil {
		return Plan{}, database.MapError(err)
	}
	if role != nil {
		p.ResponsibleRole = *role
	}
	p.Overdue = p.Status == "active" && p.ReviewDate < s.today()
	p.Goals, p.Actions, p.Reviews = []Item{}, []Item{}, []Review{}
	rows, err := tx.Query(ctx, `SELECT id, kind, body FROM support_plan_items WHERE school_id = $1 AND plan_id = $2 AND removed_at IS NULL
		ORDER BY kind, position, id`, school, id)
	if err != nil {
		return Plan{}, database.MapError(err)
	}
	type rawItem struct {
		id   uuid.UUID
		kind string
		body []byte
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rawItem, error) {
		var x rawItem
		return x, r.Scan(&x.id, &x.kind, &x.body)
	})
	if err != nil {
		return Plan{}, database.MapError(err)
	}
	for _, x := range items {
		text, err := s.unseal(ctx, tx, school, "support_plan."+x.kind, x.body)
		if err != nil {
			return Plan{}, err
		}
		if x.kind == "goal" {
			p.Goals = append(p.Goals, Item{ID: x.id, Text: text})
		} else {
			p.Actions = append(p.Actions, Item{ID: x.id, Text: text})
		}
	}
	rows, err = tx.Query(ctx, `SELECT id, reviewed_on::text, due_date::text, outcome, next_review_date::text, status_after, created_by, created_at
		FROM support_plan_reviews WHERE school_id = $1 AND plan_id = $2 ORDER BY created_at, id`, school, id)
	if err != nil {
		return Plan{}, database.MapError(err)
	}
	type rawReview struct {
		Review
		outcome []byte
	}
	reviews, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rawReview, error) {
		var x rawReview
		return x, r.Scan(&x.ID, &x.ReviewedOn, &x.DueDate, &x.outcome, &x.NextReviewDate, &x.StatusAfter, &x.CreatedBy, &x.CreatedAt)
	})
	if err != nil {
		return Plan{}, database.MapError(err)
	}
	for _, x := range reviews {
		r := x.Review
		if r.Outcome, err = s.unseal(ctx, tx, school, "support_plan.review", x.outcome); err != nil {
			return Plan{}, err
		}
		p.Reviews = append(p.Reviews, r)
	}
	return p, nil
}

// RemindOverdue posts, in every school, a review task to each counselor of the case
// file of every active plan whose review date has passed, and records one audit row per
// school that got new tasks. It needs no user: the database function it calls lists
// overdue plans and nothing else. Posting is idempotent (one task per plan, review date
// and counselor), so a retried or repeated run posts nothing twice. It returns how many
// tasks it posted.
func (s *Service) RemindOverdue(ctx context.Context) (int, error) {
	type due struct {
		district, school, plan, caseFile, counselor uuid.UUID
		reviewDate                                  time.Time
	}
	total := 0
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		total = 0
		rows, err := tx.Query(ctx, `SELECT district_id, school_id, plan_id, case_file_id, review_date, counselor_id FROM support_plans_review_overdue()`)
		if err != nil {
			return database.MapError(err)
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
			var x due
			return x, r.Scan(&x.district, &x.school, &x.plan, &x.caseFile, &x.reviewDate, &x.counselor)
		})
		if err != nil {
			return database.MapError(err)
		}
		var posted audit.PerSchool
		for i, x := range list {
			a := scope.Actor{DistrictID: x.district, SchoolID: x.school, Kind: scope.School, Username: "system:support_plan_review"}
			if i == 0 || x.school != list[i-1].school {
				if err := database.SetScope(ctx, tx, a); err != nil {
					return fault.Wrap(err, "scope")
				}
			}
			date := x.reviewDate.Format(dateLayout)
			dueAt := time.Date(x.reviewDate.Year(), x.reviewDate.Month(), x.reviewDate.Day(), 0, 0, 0, 0, china)
			plan, caseFile := x.plan, x.caseFile
			ok, err := inbox.Post(ctx, tx, inbox.Notice{School: x.school, User: x.counselor, Kind: KindReviewDue, Task: true,
				CaseFileID: &caseFile, Subject: "support_plan", SubjectID: &plan, Params: map[string]string{"review_date": date},
				DueAt: &dueAt, DedupeKey: "support_plan_review:" + plan.String() + ":" + date})
			if err != nil {
				return err
			}
			if ok {
				total++
				posted.Add(a, 1)
			}
		}
		return posted.Record(ctx, tx, func(_ scope.Actor, n int) audit.Entry {
			return audit.Entry{Action: "support_plans.remind", ObjectType: "support_plan", Reason: fmt.Sprintf("%d review tasks posted", n)}
		})
	})
	return total, err
}
