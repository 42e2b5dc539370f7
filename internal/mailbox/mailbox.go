// Package mailbox owns the counseling mailbox (心理辅导信箱): students leave messages,
// anonymous or named, on a public page of their school; the school's counselors read and
// answer them and may link a named message to the student's case file. A message keeps
// nothing the student did not write — no IP address, no browser, no account — and the
// sender reads the answer with the reply code shown once after sending.
package mailbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
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

// CaseFiles opens (or finds) a student's case file in the caller's transaction.
type CaseFiles interface {
	OpenInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, student uuid.UUID) (uuid.UUID, error)
}

// Service is the mailbox service.
type Service struct {
	DB        *database.DB
	Cipher    Cipher
	CaseFiles CaseFiles
	// SchoolLimit is how many messages a school accepts per Window from the public page
	// (all senders together); 0 means 30 per 10 minutes.
	SchoolLimit int
	Window      time.Duration
}

const (
	purposeBody, purposeName, purposeHomeroom, purposeAnswer = "mailbox.body", "mailbox.sender_name", "mailbox.sender_homeroom", "mailbox.answer"
)

// School is what the public page shows of a school.
type School struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// public is the actor of the public page: the school, no user, no IP.
func public(district, school uuid.UUID, requestID string) scope.Actor {
	return scope.Actor{DistrictID: district, SchoolID: school, Kind: scope.School, Username: "public:mailbox", RequestID: requestID}
}

func (s *Service) school(ctx context.Context, id uuid.UUID) (uuid.UUID, string, error) {
	var district uuid.UUID
	var name string
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT district_id, name FROM mailbox_school($1)`, id).Scan(&district, &name)
	})
	return district, name, database.MapError(err)
}

// School names the school of a public mailbox page.
func (s *Service) School(ctx context.Context, id uuid.UUID) (School, error) {
	_, name, err := s.school(ctx, id)
	return School{ID: id, Name: name}, err
}

// PostInput is a student's message.
type PostInput struct {
	Anonymous bool   `json:"anonymous"`
	Name      string `json:"name"`
	Homeroom  string `json:"homeroom"`
	Body      string `json:"body"`
}

// Posted is what the sender gets back: the reply code, shown once.
type Posted struct {
	ReplyCode string `json:"reply_code"`
}

// Post stores a message from the public page. requestID only ties the audit row to the
// request log; no address is kept anywhere.
func (s *Service) Post(ctx context.Context, schoolID uuid.UUID, requestID string, in PostInput) (Posted, error) {
	var f []fault.FieldError
	in.Body = strings.TrimSpace(in.Body)
	if n := utf8.RuneCountInString(in.Body); n == 0 || n > 3000 {
		f = append(f, fault.Field("body", "required", "a message of 1 to 3,000 characters"))
	}
	in.Name, in.Homeroom = strings.TrimSpace(in.Name), strings.TrimSpace(in.Homeroom)
	if in.Anonymous && (in.Name != "" || in.Homeroom != "") {
		f = append(f, fault.Field("name", "not_allowed", "an anonymous message carries no name"))
	}
	if !in.Anonymous {
		if n := utf8.RuneCountInString(in.Name); n == 0 || n > 40 {
			f = append(f, fault.Field("name", "required", "your name (1 to 40 characters), or send it anonymously"))
		}
		if utf8.RuneCountInString(in.Homeroom) > 40 {
			f = append(f, fault.Field("homeroom", "too_long", "at most 40 characters"))
		}
	}
	if len(f) > 0 {
		return Posted{}, fault.Validation(f...)
	}
	district, _, err := s.school(ctx, schoolID)
	if err != nil {
		return Posted{}, err
	}
	limit, window := s.SchoolLimit, s.Window
	if limit <= 0 {
		limit = 30
	}
	if window <= 0 {
		window = 10 * time.Minute
	}
	raw := make([]byte, 10)
	if _, err := rand.Read(raw); err != nil {
		return Posted{}, err
	}
	code := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	sum := sha256.Sum256([]byte(code))
	a := public(district, schoolID, requestID)
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var recent int
		if err := tx.QueryRow(ctx, `SELECT mailbox_recent($1, $2)`, schoolID, time.Now().Add(-window)).Scan(&recent); err != nil {
			return database.MapError(err)
		}
		if recent >= limit {
			return &fault.Error{Kind: fault.RateLimited, Message: "the mailbox is receiving too many messages; please try again later"}
		}
		body, err := s.Cipher.Encrypt(ctx, tx, schoolID, purposeBody, []byte(in.Body))
		if err != nil {
			return err
		}
		var name, homeroom []byte
		if !in.Anonymous {
			if name, err = s.Cipher.Encrypt(ctx, tx, schoolID, purposeName, []byte(in.Name)); err != nil {
				return err
			}
			if in.Homeroom != "" {
				if homeroom, err = s.Cipher.Encrypt(ctx, tx, schoolID, purposeHomeroom, []byte(in.Homeroom)); err != nil {
					return err
				}
			}
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO mailbox_messages (school_id, id, anonymous, sender_name, sender_homeroom, body, reply_code_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, schoolID, id, in.Anonymous, name, homeroom, body, sum[:]); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "mailbox.post", ObjectType: "mailbox_message", ObjectID: id.String()})
	})
	if err != nil {
		return Posted{}, err
	}
	return Posted{ReplyCode: code}, nil
}

// Reply is what the sender reads with the reply code.
type Reply struct {
	Status     string     `json:"status"`
	Answer     string     `json:"answer"`
	AnsweredAt *time.Time `json:"answered_at"`
	SentAt     time.Time  `json:"sent_at"`
}

// Reply reads the answer to the message of a reply code; a wrong code is not found.
func (s *Service) Reply(ctx context.Context, schoolID uuid.UUID, code string) (Reply, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	sum := sha256.Sum256([]byte(code))
	district, _, err := s.school(ctx, schoolID)
	if err != nil {
		return Reply{}, err
	}
	var out Reply
	err = s.DB.InTx(ctx, public(district, schoolID, ""), func(tx pgx.Tx) error {
		var answer []byte
		if err := tx.QueryRow(ctx, `SELECT status, answer, answered_at, created_at FROM mailbox_reply($1, $2)`, schoolID, sum[:]).
			Scan(&out.Status, &answer, &out.AnsweredAt, &out.SentAt); err != nil {
			return database.MapError(err)
		}
		if answer != nil {
			p, err := s.Cipher.Decrypt(ctx, tx, schoolID, purposeAnswer, answer)
			if err != nil {
				return fault.Wrap(err, "decrypt answer")
			}
			out.Answer = string(p)
		}
		return nil
	})
	return out, err
}

// Message is a message as the counselors see it.
type Message struct {
	ID         uuid.UUID  `json:"id"`
	CreatedAt  time.Time  `json:"created_at"`
	Anonymous  bool       `json:"anonymous"`
	SenderName string     `json:"sender_name"`
	Homeroom   string     `json:"homeroom"`
	Body       string     `json:"body"`
	Status     string     `json:"status"`
	Answer     string     `json:"answer"`
	AnsweredAt *time.Time `json:"answered_at"`
	StudentID  *uuid.UUID `json:"student_id"`
	CaseFileID *uuid.UUID `json:"case_file_id"`
}

func (s *Service) list(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, args ...any) ([]Message, error) {
	rows, err := tx.Query(ctx, `SELECT id, created_at, anonymous, sender_name, sender_homeroom, body, status, answer, answered_at, student_id, case_file_id
		FROM mailbox_messages WHERE school_id = $1 AND `+where+` ORDER BY created_at DESC LIMIT 500`, append([]any{school}, args...)...)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Message
		name, homeroom, body, answer []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		return x, r.Scan(&x.ID, &x.CreatedAt, &x.Anonymous, &x.name, &x.homeroom, &x.body, &x.Status, &x.answer, &x.AnsweredAt, &x.StudentID, &x.CaseFileID)
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Message, 0, len(list))
	dec := func(purpose string, b []byte) (string, error) {
		if b == nil {
			return "", nil
		}
		p, err := s.Cipher.Decrypt(ctx, tx, school, purpose, b)
		return string(p), err
	}
	for _, x := range list {
		var err error
		if x.Body, err = dec(purposeBody, x.body); err != nil {
			return nil, fault.Wrap(err, "decrypt message")
		}
		if x.SenderName, err = dec(purposeName, x.name); err != nil {
			return nil, fault.Wrap(err, "decrypt message")
		}
		if x.Homeroom, err = dec(purposeHomeroom, x.homeroom); err != nil {
			return nil, fault.Wrap(err, "decrypt message")
		}
		if x.Answer, err = dec(purposeAnswer, x.answer); err != nil {
			return nil, fault.Wrap(err, "decrypt message")
		}
		out = append(out, x.Message)
	}
	return out, nil
}

// Inbox lists the school's messages, newest first (status "new" or "answered" filters).
func (s *Service) Inbox(ctx context.Context, a scope.Actor, school uuid.UUID, status string) ([]Message, error) {
	if status != "" && status != "new" && status != "answered" {
		return nil, fault.Validation(fault.Field("status", "invalid_value", "status must be new or answered"))
	}
	var out []Message
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = s.list(ctx, tx, school, `($2 = '' OR status = $2)`, status); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "mailbox.list", ObjectType: "mailbox_message"})
	})
	return out, err
}

func (s *Service) one(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Message, error) {
	list, err := s.list(ctx, tx, school, `id = $2`, id)
	if err != nil {
		return Message{}, err
	}
	if len(list) == 0 {
		return Message{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

// Answer answers a message (again, to correct it); the sender reads it with the reply code.
func (s *Service) Answer(ctx context.Context, a scope.Actor, school, id uuid.UUID, answer string) (Message, error) {
	answer = strings.TrimSpace(answer)
	if n := utf8.RuneCountInString(answer); n == 0 || n > 3000 {
		return Message{}, fault.Validation(fault.Field("answer", "required", "an answer of 1 to 3,000 characters"))
	}
	var out Message
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := s.one(ctx, tx, school, id); err != nil {
			return err
		}
		sealed, err := s.Cipher.Encrypt(ctx, tx, school, purposeAnswer, []byte(answer))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE mailbox_messages SET status = 'answered', answer = $3, answered_by = $4, answered_at = now()
			WHERE school_id = $1 AND id = $2`, school, id, sealed, a.UserID); err != nil {
			return database.MapError(err)
		}
		if out, err = s.one(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "mailbox.answer", ObjectType: "mailbox_message", ObjectID: id.String()})
	})
	return out, err
}

// Link links a named message to the student's case file, opening one if there is none.
func (s *Service) Link(ctx context.Context, a scope.Actor, school, id, student uuid.UUID) (Message, error) {
	if student == uuid.Nil {
		return Message{}, fault.Validation(fault.Field("student_id", "required", "student_id is required"))
	}
	var out Message
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.one(ctx, tx, school, id)
		if err != nil {
			return err
		}
		if cur.Anonymous {
			return fault.New(fault.Conflict, "an anonymous message cannot be linked to a student")
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id = $2)`, school, student).Scan(&exists); err != nil {
			return database.MapError(err)
		}
		if !exists {
			return fault.Validation(fault.Field("student_id", "invalid_value", "no such student"))
		}
		file, err := s.CaseFiles.OpenInTx(ctx, tx, a, school, student)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE mailbox_messages SET student_id = $3, case_file_id = $4, linked_by = $5 WHERE school_id = $1 AND id = $2`,
			school, id, student, file, a.UserID); err != nil {
			return database.MapError(err)
		}
		if out, err = s.one(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "mailbox.link", ObjectType: "mailbox_message", ObjectID: id.String()})
	})
	return out, err
}
