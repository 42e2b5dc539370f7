// Package casefile owns the confidential case file of each student (一人一档案): its
// status and counselors, and the counseling sessions in it with their notes. Free text
// is encrypted with the school's data key; a signed note is locked and later changes
// are addenda; a private process note is readable by its author only. Only the school's
// counselors reach any of it (row-level security), and every read and write is audited.
package casefile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// Service is the case-file domain service.
type Service struct {
	DB     *database.DB
	Cipher Cipher
}

// Vocabularies.
var (
	Statuses     = []string{"open", "monitoring", "closed", "archived"}
	Channels     = []string{"walk_in", "scheduled", "phone", "online", "letter", "mailbox"}
	Participants = []string{"student", "guardian", "teacher"}
	Initiators   = []string{"self", "teacher", "guardian", "screening", "counselor"}
)

// Concern categories are no fixed list: each district manages its taxonomy (the table
// concern_categories, see categories.go) and sessions are checked against it.

// CaseFile is a student's case file.
type CaseFile struct {
	ID            uuid.UUID   `json:"id"`
	SchoolID      uuid.UUID   `json:"school_id"`
	StudentID     uuid.UUID   `json:"student_id"`
	StudentNumber string      `json:"student_number"`
	StudentName   string      `json:"student_name"`
	HomeroomName  string      `json:"homeroom_name"`
	Status        string      `json:"status"`
	RiskTier      string      `json:"risk_tier"`
	LastContactAt *time.Time  `json:"last_contact_at"`
	Counselors    []uuid.UUID `json:"counselors"`
	OpenedAt      time.Time   `json:"opened_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	ArchivedAt    *time.Time  `json:"archived_at"`
	ArchiveReason *string     `json:"archive_reason"`
}

func (s *Service) get(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (CaseFile, error) {
	var c CaseFile
	err := tx.QueryRow(ctx, `SELECT c.id, c.school_id, c.student_id, st.student_number, st.name, h.name, c.status, c.risk_tier, c.last_contact_at,
		c.opened_at, c.updated_at, c.archived_at, c.archive_reason,
		coalesce((SELECT array_agg(user_id ORDER BY assigned_at) FROM case_file_counselors k WHERE k.school_id = c.school_id AND k.case_file_id = c.id), '{}')
		FROM case_files c
		JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
		JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id
		WHERE c.school_id = $1 AND c.id = $2`, school, id).
		Scan(&c.ID, &c.SchoolID, &c.StudentID, &c.StudentNumber, &c.StudentName, &c.HomeroomName, &c.Status, &c.RiskTier, &c.LastContactAt,
			&c.OpenedAt, &c.UpdatedAt, &c.ArchivedAt, &c.ArchiveReason, &c.Counselors)
	return c, database.MapError(err)
}

// Open opens the case file of a student, with the actor as its counselor. A student has
// one case file: opening it again is a conflict that names the existing file.
func (s *Service) Open(ctx context.Context, a scope.Actor, school, student uuid.UUID) (CaseFile, error) {
	if student == uuid.Nil {
		return CaseFile{}, fault.Validation(fault.Field("student_id", "required", "student_id is required"))
	}
	var c CaseFile
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id = $2)`, school, student).Scan(&exists); err != nil {
			return database.MapError(err)
		}
		if !exists {
			return fault.Validation(fault.Field("student_id", "invalid_value", "no such student in this school"))
		}
		id, err := create(ctx, tx, a, school, student)
		if err != nil {
			return err
		}
		c, err = s.get(ctx, tx, school, id)
		return err
	})
	return c, err
}

// create opens the student's case file with the actor as its counselor, and audits it.
// A plain INSERT, not ON CONFLICT: that would have to see the conflicting row, which the
// caseload-only rule may hide; the unique key answers instead.
func create(ctx context.Context, tx pgx.Tx, a scope.Actor, school, student uuid.UUID) (uuid.UUID, error) {
	id := uuid.Must(uuid.NewV7())
	if _, err := tx.Exec(ctx, `INSERT INTO case_files (school_id, id, student_id, opened_by) VALUES ($1, $2, $3, $4)`, school, id, student, a.UserID); err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "23505" {
			return uuid.Nil, &fault.Error{Kind: fault.Conflict, Message: "the student already has a case file",
				Fields: []fault.FieldError{fault.Field("student_id", "duplicate", "the student already has a case file")}}
		}
		return uuid.Nil, database.MapError(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_file_counselors (school_id, case_file_id, user_id) VALUES ($1, $2, $3)`, school, id, a.UserID); err != nil {
		return uuid.Nil, database.MapError(err)
	}
	return id, audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.open", ObjectType: "case_file", ObjectID: id.String()})
}

// OpenInTx finds the student's case file or opens one with the actor as its counselor,
// inside the caller's transaction (the intake queue takes concerns in with it). The
// caller audits its own action; opening a file is audited here.
func (s *Service) OpenInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, student uuid.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM case_files WHERE school_id = $1 AND student_id = $2`, school, student).Scan(&id)
	if err == nil {
		return id, nil
	}
	if err != pgx.ErrNoRows {
		return uuid.Nil, database.MapError(err)
	}
	return create(ctx, tx, a, school, student)
}

// Get returns a case file; the read is audited.
func (s *Service) Get(ctx context.Context, a scope.Actor, school, id uuid.UUID) (CaseFile, error) {
	var c CaseFile
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if c, err = s.get(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.read", ObjectType: "case_file", ObjectID: id.String()})
	})
	return c, err
}

// SetStatus moves a case file between open, monitoring, closed and archived. An
// archived file is read-only and stays archived.
func (s *Service) SetStatus(ctx context.Context, a scope.Actor, school, id uuid.UUID, status, reason string) (CaseFile, error) {
	if !slices.Contains(Statuses, status) {
		return CaseFile{}, fault.Validation(fault.Field("status", "invalid_value", "status must be open, monitoring, closed or archived"))
	}
	var c CaseFile
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if c, err = s.get(ctx, tx, school, id); err != nil {
			return err
		}
		if c.Status == "archived" {
			return fault.New(fault.Conflict, "an archived case file is read-only")
		}
		if _, err := tx.Exec(ctx, `UPDATE case_files SET status = $3, updated_at = now() WHERE school_id = $1 AND id = $2`, school, id, status); err != nil {
			return database.MapError(err)
		}
		if c, err = s.get(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.status", ObjectType: "case_file", ObjectID: id.String(), Reason: "status " + status})
	})
	return c, err
}

// SessionInput records a counseling session.
type SessionInput struct {
	OccurredAt      time.Time `json:"occurred_at"`
	Channel         string    `json:"channel"`
	Participants    []string  `json:"participants"`
	InitiatedBy     string    `json:"initiated_by"`
	Categories      []string  `json:"categories"`
	DurationMinutes int       `json:"duration_minutes"`
	Summary         string    `json:"summary"`
	NextSteps       string    `json:"next_steps"`
	Note            string    `json:"note"`
	PrivateNote     string    `json:"private_note"`
}

func (in *SessionInput) validate() error {
	var f []fault.FieldError
	if in.OccurredAt.IsZero() || in.OccurredAt.After(time.Now().Add(5*time.Minute)) {
		f = append(f, fault.Field("occurred_at", "out_of_range", "when the session happened; not in the future"))
	}
	if !slices.Contains(Channels, in.Channel) {
		f = append(f, fault.Field("channel", "invalid_value", "channel must be one of "+strings.Join(Channels, ", ")))
	}
	if len(in.Participants) == 0 {
		f = append(f, fault.Field("participants", "required", "who took part"))
	}
	for _, p := range in.Participants {
		if !slices.Contains(Participants, p) {
			f = append(f, fault.Field("participants", "invalid_value", "participants are student, guardian or teacher"))
			break
		}
	}
	if !slices.Contains(Initiators, in.InitiatedBy) {
		f = append(f, fault.Field("initiated_by", "invalid_value", "initiated_by must be one of "+strings.Join(Initiators, ", ")))
	}
	if len(in.Categories) > 20 {
		f = append(f, fault.Field("categories", "too_long", "at most 20 categories"))
	}
	if in.DurationMinutes < 1 || in.DurationMinutes > 600 {
		f = append(f, fault.Field("duration_minutes", "out_of_range", "1 to 600 minutes"))
	}
	if strings.TrimSpace(in.Summary) == "" {
		f = append(f, fault.Field("summary", "required", "a summary is required"))
	}
	for name, v := range map[string]string{"summary": in.Summary, "next_steps": in.NextSteps, "note": in.Note, "private_note": in.PrivateNote} {
		if utf8.RuneCountInString(v) > 20000 {
			f = append(f, fault.Field(name, "too_long", "at most 20,000 characters"))
		}
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// Session is a counseling session as its reader may see it.
type Session struct {
	ID              uuid.UUID  `json:"id"`
	CaseFileID      uuid.UUID  `json:"case_file_id"`
	OccurredAt      time.Time  `json:"occurred_at"`
	Channel         string     `json:"channel"`
	Participants    []string   `json:"participants"`
	InitiatedBy     string     `json:"initiated_by"`
	Categories      []string   `json:"categories"`
	DurationMinutes int        `json:"duration_minutes"`
	Summary         string     `json:"summary"`
	NextSteps       string     `json:"next_steps"`
	Note            string     `json:"note"`
	NoteSignedAt    *time.Time `json:"note_signed_at"`
	NoteSignedBy    *uuid.UUID `json:"note_signed_by"`
	PrivateNote     *string    `json:"private_note,omitempty"` // only for its author
	Addenda         []Addendum `json:"addenda"`
	CreatedBy       uuid.UUID  `json:"created_by"`
}

// Addendum is a later remark on a signed note.
type Addendum struct {
	ID        uuid.UUID `json:"id"`
	Body      string    `json:"body"`
	Author    uuid.UUID `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Service) seal(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, purpose, text string) ([]byte, error) {
	if text == "" {
		return nil, nil
	}
	return s.Cipher.EncryptFile(ctx, tx, school, caseFile, purpose, []byte(text))
}

func (s *Service) unseal(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, b []byte) (string, error) {
	if b == nil {
		return "", nil
	}
	p, err := s.Cipher.Decrypt(ctx, tx, school, purpose, b)
	if err != nil {
		return "", fault.Wrap(err, "decrypt "+purpose)
	}
	return string(p), nil
}

// RecordSession adds a session to a case file.
func (s *Service) RecordSession(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID, in SessionInput) (Session, error) {
	if err := in.validate(); err != nil {
		return Session{}, err
	}
	var out Session
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = s.recordSession(ctx, tx, a, school, caseFile, in)
		return err
	})
	return out, err
}

// RecordSessionInTx adds a session to a case file inside the caller's transaction (an
// appointment's check-in records its session together with the check-in).
func (s *Service) RecordSessionInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, caseFile uuid.UUID, in SessionInput) (Session, error) {
	if err := in.validate(); err != nil {
		return Session{}, err
	}
	return s.recordSession(ctx, tx, a, school, caseFile, in)
}

func (s *Service) recordSession(ctx context.Context, tx pgx.Tx, a scope.Actor, school, caseFile uuid.UUID, in SessionInput) (Session, error) {
	var out Session
	err := func() error {
		c, err := s.get(ctx, tx, school, caseFile)
		if err != nil {
			return err
		}
		if c.Status == "archived" {
			return fault.New(fault.Conflict, "an archived case file is read-only")
		}
		if err := checkCategories(ctx, tx, school, in.Categories); err != nil {
			return err
		}
		fields := map[string][]byte{}
		for purpose, text := range map[string]string{"session.summary": in.Summary, "session.next_steps": in.NextSteps,
			"session.note": in.Note, "session.private_note": in.PrivateNote} {
			if fields[purpose], err = s.seal(ctx, tx, school, caseFile, purpose, text); err != nil {
				return err
			}
		}
		var author *uuid.UUID
		if in.PrivateNote != "" {
			author = &a.UserID
		}
		id := uuid.Must(uuid.NewV7())
		if in.Categories == nil {
			in.Categories = []string{}
		}
		var unique []string
		for _, c := range in.Categories {
			if !slices.Contains(unique, c) {
				unique = append(unique, c)
			}
		}
		if unique != nil {
			in.Categories = unique
		}
		if _, err := tx.Exec(ctx, `INSERT INTO counseling_sessions (school_id, id, case_file_id, occurred_at, channel, participants,
			initiated_by, categories, duration_minutes, summary, next_steps, note, private_note, private_note_author, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			school, id, caseFile, in.OccurredAt, in.Channel, in.Participants, in.InitiatedBy, in.Categories, in.DurationMinutes,
			fields["session.summary"], fields["session.next_steps"], fields["session.note"], fields["session.private_note"], author, a.UserID); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE case_files SET updated_at = now(), last_contact_at = greatest(last_contact_at, $3)
			WHERE school_id = $1 AND id = $2`, school, caseFile, in.OccurredAt); err != nil {
			return database.MapError(err)
		}
		if out, err = s.session(ctx, tx, a, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "sessions.create", ObjectType: "session", ObjectID: id.String()})
	}()
	return out, err
}

func (s *Service) session(ctx context.Context, tx pgx.Tx, a scope.Actor, school, id uuid.UUID) (Session, error) {
	list, err := s.sessions(ctx, tx, a, school, `s.id = $2`, id)
	if err != nil {
		return Session{}, err
	}
	if len(list) == 0 {
		return Session{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

func (s *Service) sessions(ctx context.Context, tx pgx.Tx, a scope.Actor, school uuid.UUID, where string, arg uuid.UUID) ([]Session, error) {
	rows, err := tx.Query(ctx, `SELECT s.id, s.case_file_id, s.occurred_at, s.channel, s.participants, s.initiated_by, s.categories,
		s.duration_minutes, s.summary, s.next_steps, s.note, s.note_signed_at, s.note_signed_by,
		CASE WHEN s.private_note_author = $3 THEN s.private_note END, s.created_by
		FROM counseling_sessions s WHERE s.school_id = $1 AND `+where+` ORDER BY s.occurred_at, s.id`, school, arg, a.UserID)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Session
		summary, next, note, private []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		err := r.Scan(&x.ID, &x.CaseFileID, &x.OccurredAt, &x.Channel, &x.Participants, &x.InitiatedBy, &x.Categories,
			&x.DurationMinutes, &x.summary, &x.next, &x.note, &x.NoteSignedAt, &x.NoteSignedBy, &x.private, &x.CreatedBy)
		return x, err
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Session, 0, len(list))
	for _, x := range list {
		ss := x.Session
		if ss.Summary, err = s.unseal(ctx, tx, school, "session.summary", x.summary); err != nil {
			return nil, err
		}
		if ss.NextSteps, err = s.unseal(ctx, tx, school, "session.next_steps", x.next); err != nil {
			return nil, err
		}
		if ss.Note, err = s.unseal(ctx, tx, school, "session.note", x.note); err != nil {
			return nil, err
		}
		if x.private != nil {
			p, err := s.unseal(ctx, tx, school, "session.private_note", x.private)
			if err != nil {
				return nil, err
			}
			ss.PrivateNote = &p
		}
		ss.Addenda = []Addendum{}
		arows, err := tx.Query(ctx, `SELECT id, body, author, created_at FROM session_addenda WHERE school_id = $1 AND session_id = $2 ORDER BY created_at, id`, school, ss.ID)
		if err != nil {
			return nil, database.MapError(err)
		}
		raws, err := pgx.CollectRows(arows, func(r pgx.CollectableRow) (struct {
			Addendum
			body []byte
		}, error) {
			var y struct {
				Addendum
				body []byte
			}
			return y, r.Scan(&y.ID, &y.body, &y.Author, &y.CreatedAt)
		})
		if err != nil {
			return nil, database.MapError(err)
		}
		for _, y := range raws {
			if y.Body, err = s.unseal(ctx, tx, school, "session.addendum", y.body); err != nil {
				return nil, err
			}
			ss.Addenda = append(ss.Addenda, y.Addendum)
		}
		out = append(out, ss)
	}
	return out, nil
}

// Timeline returns the case file's sessions in time order; the read is audited.
func (s *Service) Timeline(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) ([]Session, error) {
	var out []Session
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := s.get(ctx, tx, school, caseFile); err != nil {
			return err
		}
		var err error
		if out, err = s.sessions(ctx, tx, a, school, `s.case_file_id = $2`, caseFile); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.timeline", ObjectType: "case_file", ObjectID: caseFile.String()})
	})
	return out, err
}

// SetNote replaces the note of a session while it is unsigned.
func (s *Service) SetNote(ctx context.Context, a scope.Actor, school, session uuid.UUID, note string) (Session, error) {
	if utf8.RuneCountInString(note) > 20000 {
		return Session{}, fault.Validation(fault.Field("note", "too_long", "at most 20,000 characters"))
	}
	return s.change(ctx, a, school, session, "sessions.note", func(tx pgx.Tx, cur Session) error {
		if cur.NoteSignedAt != nil {
			return fault.New(fault.Conflict, "the note is signed and locked; add an addendum instead")
		}
		b, err := s.seal(ctx, tx, school, cur.CaseFileID, "session.note", note)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE counseling_sessions SET note = $3 WHERE school_id = $1 AND id = $2`, school, session, b)
		return database.MapError(err)
	})
}

// Sign signs and locks a session's note.
func (s *Service) Sign(ctx context.Context, a scope.Actor, school, session uuid.UUID) (Session, error) {
	return s.change(ctx, a, school, session, "sessions.sign", func(tx pgx.Tx, cur Session) error {
		if cur.NoteSignedAt != nil {
			return fault.New(fault.Conflict, "the note is already signed")
		}
		_, err := tx.Exec(ctx, `UPDATE counseling_sessions SET note_signed_at = now(), note_signed_by = $3 WHERE school_id = $1 AND id = $2`, school, session, a.UserID)
		return database.MapError(err)
	})
}

// AddAddendum adds a remark to a signed note; the original stays as it was.
func (s *Service) AddAddendum(ctx context.Context, a scope.Actor, school, session uuid.UUID, body string) (Session, error) {
	if strings.TrimSpace(body) == "" || utf8.RuneCountInString(body) > 20000 {
		return Session{}, fault.Validation(fault.Field("body", "required", "an addendum of 1 to 20,000 characters"))
	}
	return s.change(ctx, a, school, session, "sessions.addendum", func(tx pgx.Tx, cur Session) error {
		if cur.NoteSignedAt == nil {
			return fault.New(fault.Conflict, "the note is not signed yet; edit it instead")
		}
		b, err := s.seal(ctx, tx, school, cur.CaseFileID, "session.addendum", body)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO session_addenda (school_id, id, session_id, body, author) VALUES ($1, $2, $3, $4, $5)`,
			school, uuid.Must(uuid.NewV7()), session, b, a.UserID)
		return database.MapError(err)
	})
}

func (s *Service) change(ctx context.Context, a scope.Actor, school, session uuid.UUID, action string, fn func(tx pgx.Tx, cur Session) error) (Session, error) {
	var out Session
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.session(ctx, tx, a, school, session)
		if err != nil {
			return err
		}
		if err := fn(tx, cur); err != nil {
			return err
		}
		if out, err = s.session(ctx, tx, a, school, session); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: action, ObjectType: "session", ObjectID: session.String()})
	})
	return out, err
}

// TypeAutoSign is the periodic job that signs notes left unsigned for 24 hours.
const TypeAutoSign = "casefile:auto_sign"

// SignAllOverdue signs, in every school, the notes older than age (24 h in production)
// and records one audit row per school. It needs no user: the database function it
// calls can sign notes and nothing else. It returns how many notes it signed.
func (s *Service) SignAllOverdue(ctx context.Context, age time.Duration) (int, error) {
	type signed struct {
		district, school uuid.UUID
		n                int
	}
	var list []signed
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT district_id, school_id, signed FROM sign_overdue_notes($1)`, int64(age.Seconds()))
		if err != nil {
			return database.MapError(err)
		}
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (signed, error) {
			var x signed
			return x, r.Scan(&x.district, &x.school, &x.n)
		})
		if err != nil {
			return database.MapError(err)
		}
		for _, x := range list {
			a := scope.Actor{DistrictID: x.district, SchoolID: x.school, Kind: scope.School, Username: "system:auto_sign"}
			if err := database.SetScope(ctx, tx, a); err != nil {
				return fault.Wrap(err, "scope")
			}
			if err := audit.Record(ctx, tx, a, audit.Entry{Action: "sessions.auto_sign", ObjectType: "session",
				Reason: fmt.Sprintf("%d notes older than %s signed", x.n, age)}); err != nil {
				return err
			}
		}
		return nil
	})
	total := 0
	for _, x := range list {
		total += x.n
	}
	return total, err
}

// HandoffInput hands a case file to other counselors of the school.
type HandoffInput struct {
	Counselors []uuid.UUID `json:"counselors"`
	Reason     string      `json:"reason"`
}

// Handoff replaces the counselors of a case file (1 to 3 counselors of the school) and
// records who handed it to whom and why. Private process notes stay with their authors:
// the new counselors never read them. The new counselors are told through their inbox.
func (s *Service) Handoff(ctx context.Context, a scope.Actor, school, id uuid.UUID, in HandoffInput) (CaseFile, error) {
	var f []fault.FieldError
	if len(in.Counselors) < 1 || len(in.Counselors) > 3 {
		f = append(f, fault.Field("counselors", "out_of_range", "one to three counselors"))
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Reason)); n == 0 || n > 2000 {
		f = append(f, fault.Field("reason", "required", "why the case file changes hands, 1 to 2,000 characters"))
	}
	if len(f) > 0 {
		return CaseFile{}, fault.Validation(f...)
	}
	slices.SortFunc(in.Counselors, func(x, y uuid.UUID) int { return strings.Compare(x.String(), y.String()) })
	in.Counselors = slices.Compact(in.Counselors)
	var c CaseFile
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.get(ctx, tx, school, id)
		if err != nil {
			return err
		}
		if cur.Status == "archived" {
			return fault.New(fault.Conflict, "an archived case file is read-only")
		}
		rows, err := tx.Query(ctx, `SELECT school_counselors($1)`, school)
		if err != nil {
			return database.MapError(err)
		}
		counselors, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		for _, u := range in.Counselors {
			if !slices.Contains(counselors, u) {
				return fault.Validation(fault.Field("counselors", "invalid_value", "every new counselor must be a counselor of this school"))
			}
		}
		reason, err := s.seal(ctx, tx, school, id, "case_file.handoff", in.Reason)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_file_handoffs (school_id, id, case_file_id, from_users, to_users, reason, handed_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, school, uuid.Must(uuid.NewV7()), id, cur.Counselors, in.Counselors, reason, a.UserID); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM case_file_counselors WHERE school_id = $1 AND case_file_id = $2 AND NOT (user_id = ANY ($3))`,
			school, id, in.Counselors); err != nil {
			return database.MapError(err)
		}
		for _, u := range in.Counselors {
			if slices.Contains(cur.Counselors, u) {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO case_file_counselors (school_id, case_file_id, user_id) VALUES ($1, $2, $3)`, school, id, u); err != nil {
				return database.MapError(err)
			}
			if _, err := inbox.Post(ctx, tx, inbox.Notice{School: school, User: u, Kind: "case_file_assigned", CaseFileID: &id,
				Subject: "case_file", SubjectID: &id}); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE case_files SET updated_at = now() WHERE school_id = $1 AND id = $2`, school, id); err != nil {
			return database.MapError(err)
		}
		if err := audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.handoff", ObjectType: "case_file", ObjectID: id.String()}); err != nil {
			return err
		}
		// Under the caseload-only rule the actor may have handed the file away: it is
		// then no longer theirs to read.
		c, err = s.get(ctx, tx, school, id)
		if fe, ok := fault.As(err); ok && fe.Kind == fault.NotFound {
			c, err = cur, nil
			c.Counselors = in.Counselors
		}
		return err
	})
	return c, err
}

// Event is one entry of a case file's timeline: what kind, when, by whom, and a short
// code (a channel, a tier change, a consent scope ...). Free text is never in it; each
// kind's own route returns its content.
type Event struct {
	Kind      string     `json:"kind"`
	ID        uuid.UUID  `json:"id"`
	At        time.Time  `json:"at"`
	ActorID   *uuid.UUID `json:"actor_id"`
	ActorName string     `json:"actor_name"`
	Code      *string    `json:"code"`
}

// Events returns every entry of the case file in time order (sessions, tier changes,
// hand-offs, concerns, documents, consents, disclosures, refused inquiries, support
// plans and reviews, emergency access), as far as the reader's policies allow; audited.
func (s *Service) Events(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) ([]Event, error) {
	var out []Event
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := s.get(ctx, tx, school, caseFile); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT e.kind, e.id, e.at, e.actor_id, coalesce(u.display_name, ''), e.code
			FROM case_file_events e LEFT JOIN users u ON u.id = e.actor_id
			WHERE e.school_id = $1 AND e.case_file_id = $2 ORDER BY e.at, e.id LIMIT 5000`, school, caseFile)
		if err != nil {
			return database.MapError(err)
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
			var e Event
			return e, r.Scan(&e.Kind, &e.ID, &e.At, &e.ActorID, &e.ActorName, &e.Code)
		}); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.events", ObjectType: "case_file", ObjectID: caseFile.String()})
	})
	return out, err
}
