// Package concern owns concerns (关注上报) that homeroom teachers raise about students of
// their own homeroom, and the counselors' intake queue (受理队列) where they land. The
// teacher sees only the status of what they raised (received / in progress / closed);
// the counselor takes a concern into a case file and closes it with an outcome. What the
// teacher observed is encrypted with the school's data key.
package concern

import (
	"context"
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
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// CaseFiles opens (or finds) a student's case file inside the caller's transaction;
// casefile.Service implements it.
type CaseFiles interface {
	OpenInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, student uuid.UUID) (uuid.UUID, error)
}

// Service is the concern and intake-queue service.
type Service struct {
	DB        *database.DB
	Cipher    Cipher
	CaseFiles CaseFiles
}

// Vocabularies.
var (
	Urgencies = []string{"routine", "soon", "urgent"}
	Statuses  = []string{"received", "in_progress", "closed"}
	Outcomes  = []string{"case_opened", "monitoring", "no_action_needed", "referred_elsewhere"}
)

const purposeObservation, purposeOutcome = "concern.observation", "concern.outcome"

// RaiseInput is what a homeroom teacher reports.
type RaiseInput struct {
	StudentID   uuid.UUID `json:"student_id"`
	Urgency     string    `json:"urgency"`
	Observation string    `json:"observation"`
}

// Raised is a concern as the teacher who raised it sees it: the status, nothing else
// of what the counselors did.
type Raised struct {
	ID              uuid.UUID `json:"id"`
	StudentID       uuid.UUID `json:"student_id"`
	StudentName     string    `json:"student_name"`
	Urgency         string    `json:"urgency"`
	Observation     string    `json:"observation"`
	Status          string    `json:"status"`
	RaisedAt        time.Time `json:"raised_at"`
	StatusChangedAt time.Time `json:"status_changed_at"`
}

// Concern is a concern as the counselors see it in the intake queue.
type Concern struct {
	Raised
	StudentNumber string     `json:"student_number"`
	HomeroomName  string     `json:"homeroom_name"`
	RaisedBy      uuid.UUID  `json:"raised_by"`
	RaisedByName  string     `json:"raised_by_name"`
	CaseFileID    *uuid.UUID `json:"case_file_id"`
	HandledBy     *uuid.UUID `json:"handled_by"`
	Outcome       *string    `json:"outcome"`
	OutcomeNote   string     `json:"outcome_note"`
	// Source is "teacher", or "barometer" when a peer liaison named the student in the
	// weekly barometer (the liaison is then never told anything back).
	Source string `json:"source"`
}

// Raise records a teacher's concern about a student of their own homeroom and notifies
// the school's counselors. A student outside the teacher's homerooms is refused as
// unknown: the teacher learns nothing about other classes.
func (s *Service) Raise(ctx context.Context, a scope.Actor, school uuid.UUID, in RaiseInput) (Raised, error) {
	var f []fault.FieldError
	if in.StudentID == uuid.Nil {
		f = append(f, fault.Field("student_id", "required", "student_id is required"))
	}
	if !slices.Contains(Urgencies, in.Urgency) {
		f = append(f, fault.Field("urgency", "invalid_value", "urgency must be one of "+strings.Join(Urgencies, ", ")))
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Observation)); n == 0 || n > 5000 {
		f = append(f, fault.Field("observation", "required", "what you observed, 1 to 5,000 characters"))
	}
	if len(f) > 0 {
		return Raised{}, fault.Validation(f...)
	}
	var out Raised
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var mine bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id = $2 AND homeroom_id = ANY (app_homerooms()))`,
			school, in.StudentID).Scan(&mine); err != nil {
			return database.MapError(err)
		}
		if !mine {
			return fault.Validation(fault.Field("student_id", "invalid_value", "no such student in your homeroom"))
		}
		obs, err := s.Cipher.Encrypt(ctx, tx, school, purposeObservation, []byte(in.Observation))
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO concerns (school_id, id, student_id, raised_by, urgency, observation) VALUES ($1, $2, $3, $4, $5, $6)`,
			school, id, in.StudentID, a.UserID, in.Urgency, obs); err != nil {
			return database.MapError(err)
		}
		rows, err := tx.Query(ctx, `SELECT school_counselors($1)`, school)
		if err != nil {
			return database.MapError(err)
		}
		counselors, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		for _, c := range counselors {
			if _, err := inbox.Post(ctx, tx, inbox.Notice{School: school, User: c, Kind: "concern_raised", Task: true,
				Subject: "concern", SubjectID: &id, Params: map[string]string{"urgency": in.Urgency}}); err != nil {
				return err
			}
		}
		if out, err = s.raised(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "concerns.raise", ObjectType: "concern", ObjectID: id.String()})
	})
	return out, err
}

func (s *Service) raised(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Raised, error) {
	list, err := s.listRaised(ctx, tx, school, `c.id = $2`, id)
	if err != nil {
		return Raised{}, err
	}
	if len(list) == 0 {
		return Raised{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

func (s *Service) listRaised(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, arg any) ([]Raised, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, c.student_id, st.name, c.urgency, c.observation, c.status, c.raised_at, c.status_changed_at
		FROM concerns c JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
		WHERE c.school_id = $1 AND `+where+` ORDER BY c.raised_at DESC, c.id DESC LIMIT 200`, school, arg)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Raised
		obs []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		return x, r.Scan(&x.ID, &x.StudentID, &x.StudentName, &x.Urgency, &x.obs, &x.Status, &x.RaisedAt, &x.StatusChangedAt)
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Raised, 0, len(list))
	for _, x := range list {
		p, err := s.Cipher.Decrypt(ctx, tx, school, purposeObservation, x.obs)
		if err != nil {
			return nil, fault.Wrap(err, "decrypt concern")
		}
		x.Observation = string(p)
		out = append(out, x.Raised)
	}
	return out, nil
}

// Mine lists the concerns the actor raised, newest first, with their status.
func (s *Service) Mine(ctx context.Context, a scope.Actor, school uuid.UUID) ([]Raised, error) {
	var out []Raised
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = s.listRaised(ctx, tx, school, `c.raised_by = $2`, a.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "concerns.list_own", ObjectType: "concern"})
	})
	return out, err
}

// Queue lists the intake queue of the school: open concerns (received, in progress),
// urgent first then oldest; status "closed" lists the closed ones, newest first.
func (s *Service) Queue(ctx context.Context, a scope.Actor, school uuid.UUID, status string) ([]Concern, error) {
	if status != "" && !slices.Contains(Statuses, status) {
		return nil, fault.Validation(fault.Field("status", "invalid_value", "status must be received, in_progress or closed"))
	}
	var out []Concern
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		where, order, args := `c.status <> 'closed'`, `array_position(ARRAY['urgent','soon','routine'], c.urgency), c.raised_at`, []any{}
		if status != "" {
			where, args = `c.status = $2`, []any{status}
		}
		if status == "closed" {
			order = `c.status_changed_at DESC`
		}
		if out, err = s.queue(ctx, tx, school, where+` ORDER BY `+order, args...); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "intake.list", ObjectType: "concern"})
	})
	return out, err
}

func (s *Service) queue(ctx context.Context, tx pgx.Tx, school uuid.UUID, whereOrder string, args ...any) ([]Concern, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, c.student_id, st.name, c.urgency, c.observation, c.status, c.raised_at, c.status_changed_at,
		st.student_number, h.name, c.raised_by, u.display_name, c.case_file_id, c.handled_by, c.outcome, c.outcome_note, c.source
		FROM concerns c
		JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
		JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id
		JOIN users u ON u.id = c.raised_by
		WHERE c.school_id = $1 AND `+whereOrder+` LIMIT 500`, append([]any{school}, args...)...)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Concern
		obs, note []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		return x, r.Scan(&x.ID, &x.StudentID, &x.StudentName, &x.Urgency, &x.obs, &x.Status, &x.RaisedAt, &x.StatusChangedAt,
			&x.StudentNumber, &x.HomeroomName, &x.RaisedBy, &x.RaisedByName, &x.CaseFileID, &x.HandledBy, &x.Outcome, &x.note, &x.Source)
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Concern, 0, len(list))
	for _, x := range list {
		p, err := s.Cipher.Decrypt(ctx, tx, school, purposeObservation, x.obs)
		if err != nil {
			return nil, fault.Wrap(err, "decrypt concern")
		}
		x.Observation = string(p)
		if x.note != nil {
			if p, err = s.Cipher.Decrypt(ctx, tx, school, purposeOutcome, x.note); err != nil {
				return nil, fault.Wrap(err, "decrypt concern outcome")
			}
			x.OutcomeNote = string(p)
		}
		out = append(out, x.Concern)
	}
	return out, nil
}

func (s *Service) one(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Concern, error) {
	list, err := s.queue(ctx, tx, school, `c.id = $2`, id)
	if err != nil {
		return Concern{}, err
	}
	if len(list) == 0 {
		return Concern{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

// Accept takes a received concern in: it opens the student's case file if there is none
// (or links the existing one), makes it in progress and tells the teacher.
func (s *Service) Accept(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Concern, error) {
	var out Concern
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.one(ctx, tx, school, id)
		if err != nil {
			return err
		}
		if cur.Status != "received" {
			return fault.New(fault.Conflict, "the concern has already been taken in")
		}
		file, err := s.CaseFiles.OpenInTx(ctx, tx, a, school, cur.StudentID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE concerns SET status = 'in_progress', case_file_id = $3, handled_by = $4, status_changed_at = now()
			WHERE school_id = $1 AND id = $2`, school, id, file, a.UserID); err != nil {
			return database.MapError(err)
		}
		if err := s.notifyTeacher(ctx, tx, school, cur, "in_progress"); err != nil {
			return err
		}
		if err := closeIntakeTasks(ctx, tx, school, id); err != nil {
			return err
		}
		if out, err = s.one(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "intake.accept", ObjectType: "concern", ObjectID: id.String()})
	})
	return out, err
}

// CloseInput closes a concern with an outcome; the note stays with the counselors.
type CloseInput struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

// Close closes a concern (taken in or not) with an outcome and tells the teacher.
func (s *Service) Close(ctx context.Context, a scope.Actor, school, id uuid.UUID, in CloseInput) (Concern, error) {
	if !slices.Contains(Outcomes, in.Outcome) {
		return Concern{}, fault.Validation(fault.Field("outcome", "invalid_value", "outcome must be one of "+strings.Join(Outcomes, ", ")))
	}
	if utf8.RuneCountInString(in.Note) > 5000 {
		return Concern{}, fault.Validation(fault.Field("note", "too_long", "at most 5,000 characters"))
	}
	var out Concern
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.one(ctx, tx, school, id)
		if err != nil {
			return err
		}
		if cur.Status == "closed" {
			return fault.New(fault.Conflict, "the concern is already closed")
		}
		if in.Outcome == "case_opened" && cur.CaseFileID == nil {
			return fault.Validation(fault.Field("outcome", "invalid_value", "take the concern in first: it has no case file"))
		}
		var note []byte
		if in.Note != "" {
			if note, err = s.Cipher.Encrypt(ctx, tx, school, purposeOutcome, []byte(in.Note)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE concerns SET status = 'closed', outcome = $3, outcome_note = $4, handled_by = coalesce(handled_by, $5),
			status_changed_at = now() WHERE school_id = $1 AND id = $2`, school, id, in.Outcome, note, a.UserID); err != nil {
			return database.MapError(err)
		}
		if err := s.notifyTeacher(ctx, tx, school, cur, "closed"); err != nil {
			return err
		}
		if err := closeIntakeTasks(ctx, tx, school, id); err != nil {
			return err
		}
		if out, err = s.one(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "intake.close", ObjectType: "concern", ObjectID: id.String(), Reason: "outcome " + in.Outcome})
	})
	return out, err
}

func (s *Service) notifyTeacher(ctx context.Context, tx pgx.Tx, school uuid.UUID, c Concern, status string) error {
	if c.Source != "teacher" {
		return nil // a liaison who named a classmate learns nothing of what followed
	}
	_, err := inbox.Post(ctx, tx, inbox.Notice{School: school, User: c.RaisedBy, Kind: "concern_status_changed", Subject: "concern",
		SubjectID: &c.ID, Params: map[string]string{"status": status}, DedupeKey: "concern:" + c.ID.String() + ":" + status})
	return err
}

// closeIntakeTasks completes the counselors' "concern raised" tasks once one of them acted.
// The inbox policy shows a user only their own items, so this goes through a function
// that can close these tasks and nothing else.
func closeIntakeTasks(ctx context.Context, tx pgx.Tx, school, concern uuid.UUID) error {
	_, err := tx.Exec(ctx, `SELECT close_concern_tasks($1, $2)`, school, concern)
	return database.MapError(err)
}
