// Package consent owns the consents (知情同意) recorded on a case file: who gave them (a
// guardian or the student), for what scope (screening, referral, sharing with a named
// recipient) and for which dates, and their revocation. A consent is never changed; its
// revocation is a record of its own. A revoked, expired or not yet valid consent covers
// nothing: other domains call Require (or Covers, for one cited consent) inside their own
// transaction before the action the consent is for. Only the school's counselors reach
// consents (row-level security), and every read and write is audited.
package consent

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
	// EncryptFile seals content of one case file under that file's own key.
	EncryptFile(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// Service is the consent domain service.
type Service struct {
	DB     *database.DB
	Cipher Cipher
}

// Scopes a consent may cover.
const (
	Screening = "screening"
	Referral  = "referral"
	Sharing   = "sharing"
)

// Vocabularies.
var (
	Scopes = []string{Screening, Referral, Sharing}
	Givers = []string{"guardian", "student"}
)

// Statuses of a consent, computed on the day it is read.
const (
	Active  = "active"  // valid today and not revoked
	Pending = "pending" // valid_from is after today
	Expired = "expired" // valid_until is before today
	Revoked = "revoked"
)

// Error codes (in the field errors of a 409 problem) saying why no consent covers an action.
const (
	CodeRequired      = "consent_required"      // Require found no active consent
	CodeRevoked       = "consent_revoked"       // the cited consent was revoked
	CodeExpired       = "consent_expired"       // its valid_until had passed
	CodeNotYetValid   = "consent_not_yet_valid" // its valid_from had not come
	CodeWrongScope    = "consent_scope"         // it is for another scope
	CodeWrongReceiver = "consent_recipient"     // it names another recipient
)

// Zone is the time zone of the district: consent dates are calendar days there.
var Zone = time.FixedZone("CST", 8*3600)

// Day is the calendar day of t in Zone, as YYYY-MM-DD.
func Day(t time.Time) string { return t.In(Zone).Format(time.DateOnly) }

// Input records a consent.
type Input struct {
	GivenBy       string `json:"given_by"`
	Guardian      string `json:"guardian"` // the guardian's name and relation, free text (encrypted)
	Scope         string `json:"scope"`
	RecipientName string `json:"recipient_name"`
	ValidFrom     string `json:"valid_from"`  // YYYY-MM-DD, required
	ValidUntil    string `json:"valid_until"` // YYYY-MM-DD, optional (open-ended)
}

func (in *Input) validate() error {
	var f []fault.FieldError
	if !slices.Contains(Givers, in.GivenBy) {
		f = append(f, fault.Field("given_by", "invalid_value", "given_by must be guardian or student"))
	}
	guardian := strings.TrimSpace(in.Guardian)
	switch {
	case in.GivenBy == "guardian" && guardian == "":
		f = append(f, fault.Field("guardian", "required", "the guardian's name and relation are required"))
	case in.GivenBy == "student" && guardian != "":
		f = append(f, fault.Field("guardian", "not_allowed", "a consent given by the student names no guardian"))
	case utf8.RuneCountInString(guardian) > 200:
		f = append(f, fault.Field("guardian", "too_long", "at most 200 characters"))
	}
	in.RecipientName = normalizeSpace(in.RecipientName)
	switch {
	case !slices.Contains(Scopes, in.Scope):
		f = append(f, fault.Field("scope", "invalid_value", "scope must be screening, referral or sharing"))
	case in.Scope == Sharing && in.RecipientName == "":
		f = append(f, fault.Field("recipient_name", "required", "a consent to share names its recipient"))
	case in.Scope == Screening && in.RecipientName != "":
		f = append(f, fault.Field("recipient_name", "not_allowed", "a consent to screening names no recipient"))
	}
	if utf8.RuneCountInString(in.RecipientName) > 200 {
		f = append(f, fault.Field("recipient_name", "too_long", "at most 200 characters"))
	}
	from, err := time.Parse(time.DateOnly, in.ValidFrom)
	if err != nil {
		f = append(f, fault.Field("valid_from", "invalid_format", "the first day of the consent, YYYY-MM-DD"))
	}
	if in.ValidUntil != "" {
		until, uerr := time.Parse(time.DateOnly, in.ValidUntil)
		switch {
		case uerr != nil:
			f = append(f, fault.Field("valid_until", "invalid_format", "the last day of the consent, YYYY-MM-DD (or empty)"))
		case err == nil && until.Before(from):
			f = append(f, fault.Field("valid_until", "out_of_range", "valid_until is before valid_from"))
		}
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// normalizeSpace trims a name and collapses its inner whitespace (full-width spaces too).
func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// SameRecipient compares two recipient names as people write them: case and spacing aside.
func SameRecipient(a, b string) bool {
	return strings.EqualFold(normalizeSpace(a), normalizeSpace(b))
}

// Consent is a recorded consent with its status today.
type Consent struct {
	ID            uuid.UUID   `json:"id"`
	CaseFileID    uuid.UUID   `json:"case_file_id"`
	GivenBy       string      `json:"given_by"`
	Guardian      string      `json:"guardian"`
	Scope         string      `json:"scope"`
	RecipientName string      `json:"recipient_name"`
	ValidFrom     string      `json:"valid_from"`
	ValidUntil    *string     `json:"valid_until"`
	Status        string      `json:"status"`
	RecordedBy    uuid.UUID   `json:"recorded_by"`
	RecordedAt    time.Time   `json:"recorded_at"`
	Revocation    *Revocation `json:"revocation"`
}

// Revocation is the withdrawal of a consent.
type Revocation struct {
	RevokedAt time.Time `json:"revoked_at"`
	RevokedBy uuid.UUID `json:"revoked_by"`
	Reason    string    `json:"reason"`
}

// caseFileStatus returns the status of a case file the actor may see; NotFound otherwise.
func caseFileStatus(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID) (string, error) {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM case_files WHERE school_id = $1 AND id = $2`, school, caseFile).Scan(&status)
	return status, database.MapError(err)
}

// Record records a consent on a case file. An archived case file takes no new consent.
func (s *Service) Record(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID, in Input) (Consent, error) {
	if err := in.validate(); err != nil {
		return Consent{}, err
	}
	var out Consent
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		status, err := caseFileStatus(ctx, tx, school, caseFile)
		if err != nil {
			return err
		}
		if status == "archived" {
			return fault.New(fault.Conflict, "an archived case file is read-only")
		}
		var guardian []byte
		if in.GivenBy == "guardian" {
			if guardian, err = s.Cipher.EncryptFile(ctx, tx, school, caseFile, "consent.guardian", []byte(strings.TrimSpace(in.Guardian))); err != nil {
				return err
			}
		}
		var until *string
		if in.ValidUntil != "" {
			until = &in.ValidUntil
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO consents (school_id, id, case_file_id, given_by, guardian, scope, recipient_name, valid_from, valid_until, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date, $9::date, $10)`,
			school, id, caseFile, in.GivenBy, guardian, in.Scope, in.RecipientName, in.ValidFrom, until, a.UserID); err != nil {
			return database.MapError(err)
		}
		if out, err = s.one(ctx, tx, school, caseFile, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "consents.create", ObjectType: "consent", ObjectID: id.String(), Reason: in.Scope})
	})
	return out, err
}

// List returns the consents of a case file, newest first (audited).
func (s *Service) List(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) ([]Consent, error) {
	var out []Consent
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := caseFileStatus(ctx, tx, school, caseFile); err != nil {
			return err
		}
		var err error
		if out, err = s.list(ctx, tx, school, caseFile, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "consents.list", ObjectType: "case_file", ObjectID: caseFile.String()})
	})
	return out, err
}

// Revoke withdraws a consent from now on; a reason is required and kept encrypted. What
// was done under the consent before stays recorded as it was.
func (s *Service) Revoke(ctx context.Context, a scope.Actor, school, caseFile, id uuid.UUID, reason string) (Consent, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > 2000 {
		return Consent{}, fault.Validation(fault.Field("reason", "required", "a reason of 1 to 2,000 characters is required"))
	}
	var out Consent
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := s.one(ctx, tx, school, caseFile, id)
		if err != nil {
			return err
		}
		if cur.Revocation != nil {
			return fault.New(fault.Conflict, "the consent is already revoked")
		}
		sealed, err := s.Cipher.EncryptFile(ctx, tx, school, caseFile, "consent.revocation_reason", []byte(reason))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO consent_revocations (school_id, consent_id, revoked_by, reason) VALUES ($1, $2, $3, $4)`,
			school, id, a.UserID, sealed); err != nil {
			return database.MapError(err)
		}
		if out, err = s.one(ctx, tx, school, caseFile, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "consents.revoke", ObjectType: "consent", ObjectID: id.String()})
	})
	return out, err
}

func (s *Service) one(ctx context.Context, tx pgx.Tx, school, caseFile, id uuid.UUID) (Consent, error) {
	list, err := s.list(ctx, tx, school, caseFile, &id)
	if err != nil {
		return Consent{}, err
	}
	if len(list) == 0 {
		return Consent{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

func (s *Service) list(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, id *uuid.UUID) ([]Consent, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, c.case_file_id, c.given_by, c.guardian, c.scope, c.recipient_name,
		to_char(c.valid_from, 'YYYY-MM-DD'), to_char(c.valid_until, 'YYYY-MM-DD'), c.recorded_by, c.recorded_at,
		r.revoked_at, r.revoked_by, r.reason,
		CASE WHEN r.consent_id IS NOT NULL THEN 'revoked' WHEN c.valid_from > $4::date THEN 'pending'
		  WHEN c.valid_until < $4::date THEN 'expired' ELSE 'active' END
		FROM consents c LEFT JOIN consent_revocations r ON r.school_id = c.school_id AND r.consent_id = c.id
		WHERE c.school_id = $1 AND c.case_file_id = $2 AND ($3::uuid IS NULL OR c.id = $3)
		ORDER BY c.recorded_at DESC, c.id DESC`, school, caseFile, id, Day(time.Now()))
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Consent
		guardian, reason []byte
		revokedAt        *time.Time
		revokedBy        *uuid.UUID
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		err := r.Scan(&x.ID, &x.CaseFileID, &x.GivenBy, &x.guardian, &x.Scope, &x.RecipientName, &x.ValidFrom, &x.ValidUntil,
			&x.RecordedBy, &x.RecordedAt, &x.revokedAt, &x.revokedBy, &x.reason, &x.Status)
		return x, err
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Consent, 0, len(list))
	for _, x := range list {
		c := x.Consent
		if x.guardian != nil {
			p, err := s.Cipher.Decrypt(ctx, tx, school, "consent.guardian", x.guardian)
			if err != nil {
				return nil, fault.Wrap(err, "decrypt consent.guardian")
			}
			c.Guardian = string(p)
		}
		if x.revokedAt != nil {
			p, err := s.Cipher.Decrypt(ctx, tx, school, "consent.revocation_reason", x.reason)
			if err != nil {
				return nil, fault.Wrap(err, "decrypt consent.revocation_reason")
			}
			c.Revocation = &Revocation{RevokedAt: *x.revokedAt, RevokedBy: *x.revokedBy, Reason: string(p)}
		}
		out = append(out, c)
	}
	return out, nil
}

// covering is what Require and Covers read of a consent: no free text.
type covering struct {
	id                   uuid.UUID
	scope, recipient     string
	fromOK, untilOK, rev bool // valid_from reached, valid_until not passed (on the day judged), revoked
}

func coverings(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, id *uuid.UUID, at time.Time) ([]covering, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, c.scope, c.recipient_name, c.valid_from <= $4::date, c.valid_until IS NULL OR c.valid_until >= $4::date,
		r.consent_id IS NOT NULL
		FROM consents c LEFT JOIN consent_revocations r ON r.school_id = c.school_id AND r.consent_id = c.id
		WHERE c.school_id = $1 AND c.case_file_id = $2 AND ($3::uuid IS NULL OR c.id = $3)
		ORDER BY c.recorded_at DESC, c.id DESC`, school, caseFile, id, Day(at))
	if err != nil {
		return nil, database.MapError(err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (covering, error) {
		var x covering
		return x, r.Scan(&x.id, &x.scope, &x.recipient, &x.fromOK, &x.untilOK, &x.rev)
	})
	return list, database.MapError(err)
}

// why says why c does not cover (scope, recipient) at its time; "" when it does.
func (c covering) why(scope, recipient string) (code, message string) {
	switch {
	case c.rev:
		return CodeRevoked, "the consent was revoked"
	case !c.fromOK:
		return CodeNotYetValid, "the consent was not yet valid"
	case !c.untilOK:
		return CodeExpired, "the consent had expired"
	case c.scope != scope:
		return CodeWrongScope, "the consent is for " + c.scope + ", not " + scope
	case c.recipient != "" && !SameRecipient(c.recipient, recipient):
		return CodeWrongReceiver, "the consent names another recipient"
	case c.recipient == "" && scope == Sharing:
		return CodeWrongReceiver, "the consent names no recipient"
	}
	return "", ""
}

// Require checks, in the caller's transaction, that an active consent on the case file
// covers scope (and, for sharing — or a referral consent naming one — the recipient)
// now. It returns the covering consent's id, or a Conflict whose field error has code
// CodeRequired. A consent naming no recipient covers a screening or referral to anyone;
// a sharing consent always names its recipient. The caller's actor must be one who may
// read consents (row-level security); the caller audits its own action.
func Require(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, scope, recipient string) (uuid.UUID, error) {
	if !slices.Contains(Scopes, scope) {
		return uuid.Nil, fault.New(fault.Internal, "unknown consent scope %q", scope)
	}
	list, err := coverings(ctx, tx, school, caseFile, nil, time.Now())
	if err != nil {
		return uuid.Nil, err
	}
	for _, c := range list {
		if code, _ := c.why(scope, recipient); code == "" {
			return c.id, nil
		}
	}
	return uuid.Nil, &fault.Error{Kind: fault.Conflict, Message: "no active consent covers this action",
		Fields: []fault.FieldError{fault.Field("consent", CodeRequired, "no active "+scope+" consent on this case file covers this action")}}
}

// Covers checks, in the caller's transaction, that the consent id of this case file
// covers scope and recipient for an action done at time at: the consent's dates are
// judged on the day of at (a disclosure made on the last day of a consent and recorded
// the next day is covered), while a revocation blocks everything recorded after it,
// whenever the action is said to have happened (no back-dating past a revocation). A
// consent that is not on this case file — another file's, another school's, a missing
// one — is a validation error on field; one that does not cover is a Conflict whose
// field error names why (CodeRevoked, CodeExpired, CodeNotYetValid, CodeWrongScope,
// CodeWrongReceiver).
func Covers(ctx context.Context, tx pgx.Tx, school, caseFile, id uuid.UUID, scope, recipient string, at time.Time, field string) error {
	list, err := coverings(ctx, tx, school, caseFile, &id, at)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fault.Validation(fault.Field(field, "invalid_value", "no such consent on this case file"))
	}
	if code, message := list[0].why(scope, recipient); code != "" {
		return &fault.Error{Kind: fault.Conflict, Message: "the consent does not cover this disclosure: " + message,
			Fields: []fault.FieldError{fault.Field(field, code, message)}}
	}
	return nil
}
