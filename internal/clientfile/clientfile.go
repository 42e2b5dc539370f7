// Package clientfile owns the confidential files of staff and guardian clients
// (教师、家长心理咨询): teachers and guardians counseled by the school's counselors. They
// live apart from the students' case files and from every statistic; names, contacts and
// what was said are encrypted with the school's data key; every read and write is
// audited; only the school's counselors read them (never the school leader, no district
// role), and a staff member never reads their own file.
package clientfile

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
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Cipher encrypts free text with the school's data key (keyring.Keyring implements it).
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// Service is the client-file service.
type Service struct {
	DB     *database.DB
	Cipher Cipher
}

// Vocabularies.
var (
	Kinds    = []string{"teacher", "guardian"}
	Channels = []string{"walk_in", "scheduled", "phone", "online"}
)

// File is a client's file; Sessions only when one file is read.
type File struct {
	ID          uuid.UUID  `json:"id"`
	ClientKind  string     `json:"client_kind"`
	StaffUserID *uuid.UUID `json:"staff_user_id"`
	Name        string     `json:"name"`
	Contact     string     `json:"contact"`
	Status      string     `json:"status"`
	OpenedAt    time.Time  `json:"opened_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Sessions    []Session  `json:"sessions,omitempty"`
}

// Session is a counseling session with the client.
type Session struct {
	ID              uuid.UUID `json:"id"`
	OccurredAt      time.Time `json:"occurred_at"`
	Channel         string    `json:"channel"`
	DurationMinutes int       `json:"duration_minutes"`
	Summary         string    `json:"summary"`
	Note            string    `json:"note"`
	CreatedBy       uuid.UUID `json:"created_by"`
}

// OpenInput opens a client's file.
type OpenInput struct {
	ClientKind  string     `json:"client_kind"`
	StaffUserID *uuid.UUID `json:"staff_user_id"`
	Name        string     `json:"name"`
	Contact     string     `json:"contact"`
}

func (s *Service) seal(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose, text string) ([]byte, error) {
	if text == "" {
		return nil, nil
	}
	return s.Cipher.Encrypt(ctx, tx, school, purpose, []byte(text))
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

// Open opens a file for a teacher (optionally the staff member's account) or a guardian.
// A teacher has one file: a second one for the same account answers 409.
func (s *Service) Open(ctx context.Context, a scope.Actor, school uuid.UUID, in OpenInput) (File, error) {
	var f []fault.FieldError
	if !slices.Contains(Kinds, in.ClientKind) {
		f = append(f, fault.Field("client_kind", "invalid_value", "client_kind must be teacher or guardian"))
	}
	if in.ClientKind == "guardian" && in.StaffUserID != nil {
		f = append(f, fault.Field("staff_user_id", "invalid_value", "only a teacher's file names a staff account"))
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Name)); n == 0 || n > 50 {
		f = append(f, fault.Field("name", "required", "the client's name, 1 to 50 characters"))
	}
	if utf8.RuneCountInString(in.Contact) > 100 {
		f = append(f, fault.Field("contact", "too_long", "at most 100 characters"))
	}
	if len(f) > 0 {
		return File{}, fault.Validation(f...)
	}
	var out File
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if in.StaffUserID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE school_id = $1 AND user_id = $2 AND scope_type = 'school')`,
				school, *in.StaffUserID).Scan(&ok); err != nil {
				return database.MapError(err)
			}
			if !ok || *in.StaffUserID == a.UserID {
				return fault.Validation(fault.Field("staff_user_id", "invalid_value", "no such colleague in this school"))
			}
		}
		name, err := s.seal(ctx, tx, school, "client_file.name", strings.TrimSpace(in.Name))
		if err != nil {
			return err
		}
		contact, err := s.seal(ctx, tx, school, "client_file.contact", strings.TrimSpace(in.Contact))
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO client_files (school_id, id, client_kind, staff_user_id, name, contact, opened_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			school, id, in.ClientKind, in.StaffUserID, name, contact, a.UserID); err != nil {
			if fe, ok := fault.As(database.MapError(err)); ok && fe.Kind == fault.Conflict {
				return fault.New(fault.Conflict, "this colleague already has a file")
			}
			return database.MapError(err)
		}
		list, err := s.list(ctx, tx, school, `id = $2`, id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "client_files.open", ObjectType: "client_file", ObjectID: id.String()})
	})
	return out, err
}

func (s *Service) list(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, arg any) ([]File, error) {
	rows, err := tx.Query(ctx, `SELECT id, client_kind, staff_user_id, name, contact, status, opened_at, updated_at FROM client_files
		WHERE school_id = $1 AND `+where+` ORDER BY updated_at DESC, id LIMIT 500`, school, arg)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		File
		name, contact []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		return x, r.Scan(&x.ID, &x.ClientKind, &x.StaffUserID, &x.name, &x.contact, &x.Status, &x.OpenedAt, &x.UpdatedAt)
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]File, 0, len(list))
	for _, x := range list {
		if x.Name, err = s.unseal(ctx, tx, school, "client_file.name", x.name); err != nil {
			return nil, err
		}
		if x.Contact, err = s.unseal(ctx, tx, school, "client_file.contact", x.contact); err != nil {
			return nil, err
		}
		out = append(out, x.File)
	}
	return out, nil
}

// List lists the school's client files, most recently active first.
func (s *Service) List(ctx context.Context, a scope.Actor, school uuid.UUID) ([]File, error) {
	var out []File
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = s.list(ctx, tx, school, `$2::boolean`, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "client_files.list", ObjectType: "client_file"})
	})
	return out, err
}

// Get reads one file with its sessions.
func (s *Service) Get(ctx context.Context, a scope.Actor, school, id uuid.UUID) (File, error) {
	var out File
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = s.get(ctx, tx, school, id, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "client_files.read", ObjectType: "client_file", ObjectID: id.String()})
	})
	return out, err
}

// ReadSnapshot reads one file with its sessions in the caller's transaction for an
// emergency grant (internal/emergency, which audits the read): the counselors' notes are
// never selected.
func (s *Service) ReadSnapshot(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (File, error) {
	return s.get(ctx, tx, school, id, false)
}

func (s *Service) get(ctx context.Context, tx pgx.Tx, school, id uuid.UUID, notes bool) (File, error) {
	list, err := s.list(ctx, tx, school, `id = $2`, id)
	if err != nil {
		return File{}, err
	}
	if len(list) == 0 {
		return File{}, fault.New(fault.NotFound, "not found")
	}
	f := list[0]
	rows, err := tx.Query(ctx, `SELECT id, occurred_at, channel, duration_minutes, summary, CASE WHEN $3 THEN note END, created_by FROM client_sessions
		WHERE school_id = $1 AND client_file_id = $2 ORDER BY occurred_at, id`, school, id, notes)
	if err != nil {
		return File{}, database.MapError(err)
	}
	type raw struct {
		Session
		summary, note []byte
	}
	sessions, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		return x, r.Scan(&x.ID, &x.OccurredAt, &x.Channel, &x.DurationMinutes, &x.summary, &x.note, &x.CreatedBy)
	})
	if err != nil {
		return File{}, database.MapError(err)
	}
	f.Sessions = []Session{}
	for _, x := range sessions {
		if x.Summary, err = s.unseal(ctx, tx, school, "client_session.summary", x.summary); err != nil {
			return File{}, err
		}
		if x.Note, err = s.unseal(ctx, tx, school, "client_session.note", x.note); err != nil {
			return File{}, err
		}
		f.Sessions = append(f.Sessions, x.Session)
	}
	return f, nil
}

// SessionInput records a session with the client.
type SessionInput struct {
	OccurredAt      time.Time `json:"occurred_at"`
	Channel         string    `json:"channel"`
	DurationMinutes int       `json:"duration_minutes"`
	Summary         string    `json:"summary"`
	Note            string    `json:"note"`
}

// RecordSession adds a session to a client's file.
func (s *Service) RecordSession(ctx context.Context, a scope.Actor, school, id uuid.UUID, in SessionInput) (File, error) {
	var f []fault.FieldError
	if in.OccurredAt.IsZero() || in.OccurredAt.After(time.Now().Add(5*time.Minute)) {
		f = append(f, fault.Field("occurred_at", "out_of_range", "when the session happened; not in the future"))
	}
	if !slices.Contains(Channels, in.Channel) {
		f = append(f, fault.Field("channel", "invalid_value", "channel must be one of "+strings.Join(Channels, ", ")))
	}
	if in.DurationMinutes < 1 || in.DurationMinutes > 600 {
		f = append(f, fault.Field("duration_minutes", "out_of_range", "1 to 600 minutes"))
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Summary)); n == 0 || n > 20000 {
		f = append(f, fault.Field("summary", "required", "a summary, at most 20,000 characters"))
	}
	if utf8.RuneCountInString(in.Note) > 20000 {
		f = append(f, fault.Field("note", "too_long", "at most 20,000 characters"))
	}
	if len(f) > 0 {
		return File{}, fault.Validation(f...)
	}
	var out File
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := s.get(ctx, tx, school, id, true); err != nil {
			return err
		}
		summary, err := s.seal(ctx, tx, school, "client_session.summary", in.Summary)
		if err != nil {
			return err
		}
		note, err := s.seal(ctx, tx, school, "client_session.note", in.Note)
		if err != nil {
			return err
		}
		sid := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO client_sessions (school_id, id, client_file_id, occurred_at, channel, duration_minutes, summary, note, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, school, sid, id, in.OccurredAt, in.Channel, in.DurationMinutes, summary, note, a.UserID); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE client_files SET updated_at = now() WHERE school_id = $1 AND id = $2`, school, id); err != nil {
			return database.MapError(err)
		}
		if out, err = s.get(ctx, tx, school, id, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "client_files.record_session", ObjectType: "client_file", ObjectID: id.String()})
	})
	return out, err
}
