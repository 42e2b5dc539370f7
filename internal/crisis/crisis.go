// Package crisis owns crisis intervention (危机干预 / 偶发事件): a crisis opened from a
// screening alert, a concern or by a counselor, its append-only timeline of steps (each
// with actor and time, corrections as addenda), the deadlines per risk level that the
// district sets, the escalation of overdue crises to the school leaders and then to the
// district supervisors' crisis board, and the board itself — escalated crises only, with
// the minimum needed to act on them.
package crisis

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/disclosure"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Cipher seals step details under the case file's key (keyring.Keyring implements it).
type Cipher interface {
	EncryptFile(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// CaseFiles opens (or finds) a student's case file inside the caller's transaction.
type CaseFiles interface {
	OpenInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, student uuid.UUID) (uuid.UUID, error)
}

// Disclosures records a disclosure inside the caller's transaction.
type Disclosures interface {
	RecordInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, caseFile uuid.UUID, in disclosure.Input) (uuid.UUID, error)
}

// Service is the crisis service.
type Service struct {
	DB          *database.DB
	Cipher      Cipher
	CaseFiles   CaseFiles
	Disclosures Disclosures
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// TypeEscalate is the periodic task that escalates overdue crises.
const TypeEscalate = "crisis:escalate"

// Vocabularies.
var (
	Levels   = []string{"low", "moderate", "high", "imminent"}
	Sources  = []string{"screening_alert", "counselor", "concern"}
	Outcomes = []string{"stabilised", "referred_treatment", "hospitalised", "transferred", "other"}
	Methods  = []string{"interview", "suicide_risk_scale", "consultation", "other"}
	Channels = []string{"phone", "in_person", "message", "other"}
	// StepKinds a client may record (reported is recorded on opening; referred by a referral).
	StepKinds = []string{"risk_assessed", "safety_actions", "guardian_notified", "follow_up_scheduled", "follow_up_done", "closed", "addendum"}
)

const purposeDetails = "crisis.step"

// Deadline is a level's time limits in minutes.
type Deadline struct {
	AckMinutes      int `json:"ack_minutes"`
	GuardianMinutes int `json:"guardian_minutes"`
}

// Settings are a district's crisis settings.
type Settings struct {
	Deadlines               map[string]Deadline `json:"deadlines"`
	LeaderEscalationMinutes int                 `json:"leader_escalation_minutes"`
	BackdateMinutes         int                 `json:"backdate_minutes"`
	FeedbackDays            int                 `json:"feedback_days"`
}

// DefaultSettings apply until the district saves its own.
func DefaultSettings() Settings {
	return Settings{Deadlines: map[string]Deadline{
		"imminent": {15, 60}, "high": {60, 240}, "moderate": {240, 1440}, "low": {1440, 4320},
	}, LeaderEscalationMinutes: 60, BackdateMinutes: 120, FeedbackDays: 14}
}

// LoadSettings reads the district's crisis settings in the caller's transaction.
func LoadSettings(ctx context.Context, tx pgx.Tx, district uuid.UUID) (Settings, error) {
	out := DefaultSettings()
	var raw []byte
	err := tx.QueryRow(ctx, `SELECT deadlines, leader_escalation_minutes, backdate_minutes, feedback_days FROM crisis_settings WHERE district_id = $1`,
		district).Scan(&raw, &out.LeaderEscalationMinutes, &out.BackdateMinutes, &out.FeedbackDays)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, database.MapError(err)
	}
	out.Deadlines = map[string]Deadline{}
	return out, fault.Wrap(json.Unmarshal(raw, &out.Deadlines), "decode deadlines")
}

// GetSettings returns the district's crisis settings.
func (s *Service) GetSettings(ctx context.Context, a scope.Actor, district uuid.UUID) (Settings, error) {
	var out Settings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		out, err = LoadSettings(ctx, tx, district)
		return err
	})
	return out, err
}

// SaveSettings stores the district's crisis settings: a deadline for every level, each
// guardian deadline no shorter than the acknowledgement one.
func (s *Service) SaveSettings(ctx context.Context, a scope.Actor, district uuid.UUID, in Settings) (Settings, error) {
	var f []fault.FieldError
	for _, l := range Levels {
		d, ok := in.Deadlines[l]
		switch {
		case !ok:
			f = append(f, fault.Field("deadlines."+l, "required", "a deadline for every level"))
		case d.AckMinutes < 5 || d.AckMinutes > 10080:
			f = append(f, fault.Field("deadlines."+l+".ack_minutes", "out_of_range", "between 5 minutes and 7 days"))
		case d.GuardianMinutes < d.AckMinutes || d.GuardianMinutes > 20160:
			f = append(f, fault.Field("deadlines."+l+".guardian_minutes", "out_of_range", "at least the acknowledgement time, at most 14 days"))
		}
	}
	for l := range in.Deadlines {
		if !slices.Contains(Levels, l) {
			f = append(f, fault.Field("deadlines."+l, "invalid_value", "not a risk level"))
		}
	}
	if in.LeaderEscalationMinutes < 5 || in.LeaderEscalationMinutes > 1440 {
		f = append(f, fault.Field("leader_escalation_minutes", "out_of_range", "between 5 and 1,440 minutes"))
	}
	if in.BackdateMinutes < 0 || in.BackdateMinutes > 1440 {
		f = append(f, fault.Field("backdate_minutes", "out_of_range", "between 0 and 1,440 minutes"))
	}
	if in.FeedbackDays < 1 || in.FeedbackDays > 90 {
		f = append(f, fault.Field("feedback_days", "out_of_range", "between 1 and 90 days"))
	}
	if len(f) > 0 {
		return Settings{}, fault.Validation(f...)
	}
	raw, err := json.Marshal(in.Deadlines)
	if err != nil {
		return Settings{}, fault.Wrap(err, "encode deadlines")
	}
	var out Settings
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE crisis_settings SET deadlines = $2, leader_escalation_minutes = $3, backdate_minutes = $4, feedback_days = $5,
			updated_by = $6, updated_at = now() WHERE district_id = $1`, district, raw, in.LeaderEscalationMinutes, in.BackdateMinutes, in.FeedbackDays, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO crisis_settings (district_id, deadlines, leader_escalation_minutes, backdate_minutes, feedback_days, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6)`, district, raw, in.LeaderEscalationMinutes, in.BackdateMinutes, in.FeedbackDays, a.UserID); err != nil {
				return database.MapError(err)
			}
		}
		if out, err = LoadSettings(ctx, tx, district); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "crisis_settings.update", ObjectType: "district", ObjectID: district.String()})
	})
	return out, err
}

// Step is one entry of a crisis timeline.
type Step struct {
	ID          uuid.UUID  `json:"id"`
	Kind        string     `json:"kind"`
	ActorID     *uuid.UUID `json:"actor_id"`
	ActorName   string     `json:"actor_name"`
	OccurredAt  time.Time  `json:"occurred_at"`
	RecordedAt  time.Time  `json:"recorded_at"`
	Level       *string    `json:"level,omitempty"`
	Method      *string    `json:"method,omitempty"`
	Guardian    *string    `json:"guardian,omitempty"`
	Channel     *string    `json:"channel,omitempty"`
	DueOn       *string    `json:"due_on,omitempty"`
	RefStep     *uuid.UUID `json:"ref_step,omitempty"`
	ReferralID  *uuid.UUID `json:"referral_id,omitempty"`
	Note        string     `json:"note,omitempty"`
	Response    string     `json:"response,omitempty"`
	Outcome     string     `json:"outcome,omitempty"`
	DistrictRef *uuid.UUID `json:"district_note,omitempty"`
}

// details is what a step keeps sealed.
type details struct {
	Note     string `json:"note,omitempty"`
	Response string `json:"response,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
}

// DistrictNote is a district supervisor's comment or follow-up request.
type DistrictNote struct {
	ID        uuid.UUID  `json:"id"`
	Kind      string     `json:"kind"`
	Body      string     `json:"body"`
	DueOn     *string    `json:"due_on"`
	CreatedAt time.Time  `json:"created_at"`
	DoneAt    *time.Time `json:"done_at"`
}

// Crisis is a crisis with its timeline.
type Crisis struct {
	ID                 uuid.UUID      `json:"id"`
	CaseFileID         uuid.UUID      `json:"case_file_id"`
	StudentID          uuid.UUID      `json:"student_id"`
	StudentName        string         `json:"student_name"`
	StudentNumber      string         `json:"student_number"`
	HomeroomName       string         `json:"homeroom_name"`
	Source             string         `json:"source"`
	SourceID           *uuid.UUID     `json:"source_id"`
	Level              string         `json:"level"`
	Status             string         `json:"status"`
	OpenedAt           time.Time      `json:"opened_at"`
	AckDueAt           time.Time      `json:"ack_due_at"`
	GuardianDueAt      time.Time      `json:"guardian_due_at"`
	AssessedAt         *time.Time     `json:"assessed_at"`
	GuardianNotifiedAt *time.Time     `json:"guardian_notified_at"`
	Escalation         string         `json:"escalation"`
	ClosedAt           *time.Time     `json:"closed_at"`
	Outcome            *string        `json:"outcome"`
	Overdue            []string       `json:"overdue"`
	Steps              []Step         `json:"steps,omitempty"`
	DistrictNotes      []DistrictNote `json:"district_notes,omitempty"`
}

// OpenInput opens a crisis.
type OpenInput struct {
	Source     string     `json:"source"`
	SourceID   *uuid.UUID `json:"source_id"`
	StudentID  *uuid.UUID `json:"student_id"`
	Level      string     `json:"level"`
	Note       string     `json:"note"`
	ReportedAt *time.Time `json:"reported_at"`
}

func trimmed(field string, v *string, max int, required bool, f *[]fault.FieldError) {
	*v = strings.TrimSpace(*v)
	n := utf8.RuneCountInString(*v)
	if required && n == 0 {
		*f = append(*f, fault.Field(field, "required", field+" is required"))
	} else if n > max {
		*f = append(*f, fault.Field(field, "too_long", "too long"))
	}
}

// when checks a step time: not in the future (beyond clock skew), not back-dated beyond
// the district's allowed window.
func (s *Service) when(t *time.Time, set Settings, field string) (time.Time, error) {
	now := s.now()
	if t == nil || t.IsZero() {
		return now, nil
	}
	if t.After(now.Add(5 * time.Minute)) {
		return now, fault.Validation(fault.Field(field, "out_of_range", "not in the future"))
	}
	if t.Before(now.Add(-time.Duration(set.BackdateMinutes) * time.Minute)) {
		return now, fault.Validation(fault.Field(field, "out_of_range", "steps may be back-dated by at most "+strconv.Itoa(set.BackdateMinutes)+" minutes: record an addendum for anything older"))
	}
	return *t, nil
}

// Open opens a crisis on the student's case file (opening the file if needed) and
// records the "reported" step. From a screening alert it acknowledges the alert; from a
// concern it takes the concern in.
func (s *Service) Open(ctx context.Context, a scope.Actor, school uuid.UUID, in OpenInput) (Crisis, error) {
	var f []fault.FieldError
	if !slices.Contains(Sources, in.Source) {
		f = append(f, fault.Field("source", "invalid_value", "one of "+strings.Join(Sources, ", ")))
	}
	if !slices.Contains(Levels, in.Level) {
		f = append(f, fault.Field("level", "invalid_value", "one of "+strings.Join(Levels, ", ")))
	}
	if in.Source == "counselor" && (in.StudentID == nil || *in.StudentID == uuid.Nil) {
		f = append(f, fault.Field("student_id", "required", "the student is required"))
	}
	if in.Source != "counselor" && in.Source != "" && (in.SourceID == nil || *in.SourceID == uuid.Nil) {
		f = append(f, fault.Field("source_id", "required", "the alert or concern is required"))
	}
	trimmed("note", &in.Note, 5000, false, &f)
	if len(f) > 0 {
		return Crisis{}, fault.Validation(f...)
	}
	var out Crisis
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		set, err := LoadSettings(ctx, tx, a.DistrictID)
		if err != nil {
			return err
		}
		at, err := s.when(in.ReportedAt, set, "reported_at")
		if err != nil {
			return err
		}
		var student uuid.UUID
		switch in.Source {
		case "counselor":
			student = *in.StudentID
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id = $2)`, school, student).Scan(&ok); err != nil {
				return database.MapError(err)
			}
			if !ok {
				return fault.Validation(fault.Field("student_id", "invalid_value", "no such student"))
			}
		case "screening_alert":
			err := tx.QueryRow(ctx, `SELECT student_id FROM screening_alerts WHERE school_id = $1 AND id = $2`, school, *in.SourceID).Scan(&student)
			if errors.Is(err, pgx.ErrNoRows) {
				return fault.Validation(fault.Field("source_id", "invalid_value", "no such alert"))
			}
			if err != nil {
				return database.MapError(err)
			}
		case "concern":
			err := tx.QueryRow(ctx, `SELECT student_id FROM concerns WHERE school_id = $1 AND id = $2`, school, *in.SourceID).Scan(&student)
			if errors.Is(err, pgx.ErrNoRows) {
				return fault.Validation(fault.Field("source_id", "invalid_value", "no such concern"))
			}
			if err != nil {
				return database.MapError(err)
			}
		}
		caseFile, err := s.CaseFiles.OpenInTx(ctx, tx, a, school, student)
		if err != nil {
			return err
		}
		d := set.Deadlines[in.Level]
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO crises (school_id, id, case_file_id, student_id, source, source_id, level, opened_by, opened_at, ack_due_at, guardian_due_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, school, id, caseFile, student, in.Source, in.SourceID, in.Level, a.UserID, at,
			at.Add(time.Duration(d.AckMinutes)*time.Minute), at.Add(time.Duration(d.GuardianMinutes)*time.Minute)); err != nil {
			if fault.KindOf(database.MapError(err)) == fault.Conflict {
				return fault.New(fault.Conflict, "this student already has an open crisis")
			}
			return database.MapError(err)
		}
		level := in.Level
		if err := s.insertStep(ctx, tx, a, school, caseFile, id, stepRow{kind: "reported", at: at, level: &level}, details{Note: in.Note}); err != nil {
			return err
		}
		switch in.Source {
		case "screening_alert":
			if _, err := tx.Exec(ctx, `UPDATE screening_alerts SET acknowledged_at = $3, acknowledged_by = $4, outcome = 'case_opened', case_file_id = $5
				WHERE school_id = $1 AND id = $2 AND acknowledged_at IS NULL`, school, *in.SourceID, s.now(), a.UserID, caseFile); err != nil {
				return database.MapError(err)
			}
			if _, err := tx.Exec(ctx, `SELECT close_screening_alert_tasks($1, $2)`, school, *in.SourceID); err != nil {
				return database.MapError(err)
			}
		case "concern":
			if _, err := tx.Exec(ctx, `UPDATE concerns SET status = 'in_progress', case_file_id = $3, handled_by = $4, status_changed_at = now()
				WHERE school_id = $1 AND id = $2 AND status = 'received'`, school, *in.SourceID, caseFile, a.UserID); err != nil {
				return database.MapError(err)
			}
		}
		if out, err = s.crisis(ctx, tx, school, id, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "crises.open", ObjectType: "crisis", ObjectID: id.String(), Reason: in.Source + " / " + in.Level})
	})
	return out, err
}

type stepRow struct {
	kind                    string
	at                      time.Time
	level, method, guardian *string
	channel                 *string
	dueOn                   *time.Time
	refStep, referral       *uuid.UUID
}

func (s *Service) insertStep(ctx context.Context, tx pgx.Tx, a scope.Actor, school, caseFile, crisis uuid.UUID, r stepRow, d details) error {
	var sealed []byte
	if d.Note != "" || d.Response != "" || d.Outcome != "" {
		raw, err := json.Marshal(d)
		if err != nil {
			return fault.Wrap(err, "encode step")
		}
		if sealed, err = s.Cipher.EncryptFile(ctx, tx, school, caseFile, purposeDetails, raw); err != nil {
			return err
		}
	}
	var actor *uuid.UUID
	if a.UserID != uuid.Nil {
		actor = &a.UserID
	}
	_, err := tx.Exec(ctx, `INSERT INTO crisis_steps (school_id, id, crisis_id, kind, actor_id, occurred_at, recorded_at, level, method, guardian, channel, due_on, ref_step, referral_id, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		school, uuid.Must(uuid.NewV7()), crisis, r.kind, actor, r.at, s.now(), r.level, r.method, r.guardian, r.channel, r.dueOn, r.refStep, r.referral, sealed)
	return database.MapError(err)
}

// RecordReferral adds the "referred" step for a referral made during the crisis, in the
// referral's transaction; it refuses a crisis that is closed or not yet risk-assessed.
func (s *Service) RecordReferral(ctx context.Context, tx pgx.Tx, a scope.Actor, school, crisis, referral uuid.UUID) (uuid.UUID, error) {
	c, err := s.crisis(ctx, tx, school, crisis, true)
	if err != nil {
		return uuid.Nil, err
	}
	if c.Status != "open" {
		return uuid.Nil, fault.New(fault.Conflict, "the crisis is closed")
	}
	if c.AssessedAt == nil {
		return uuid.Nil, fault.New(fault.Conflict, "assess the risk before referring")
	}
	ref := referral
	return c.CaseFileID, s.insertStep(ctx, tx, a, school, c.CaseFileID, crisis, stepRow{kind: "referred", at: s.now(), referral: &ref}, details{})
}
