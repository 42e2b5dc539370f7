// Package disclosure owns the disclosure log (信息披露记录) of a case file: every time
// something from the file left the counselor — to a guardian, a school leader, a
// hospital, a teacher or anyone else — with the recipient, the legal basis (a consent of
// this file that covered it, imminent danger, a legal obligation), exactly which items
// were shared and when; and the outside inquiries (外调) that were refused. Entries are
// append-only: a correction is a new entry. Free text (justifications, what was asked,
// refusal reasons) is encrypted with the school's data key. Only the school's counselors
// reach the log (row-level security), and every read and write is audited.
package disclosure

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/consent"
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

// Service is the disclosure domain service.
type Service struct {
	DB     *database.DB
	Cipher Cipher
}

// Legal bases of a disclosure.
const (
	BasisConsent         = "consent"
	BasisImminentDanger  = "imminent_danger"
	BasisLegalObligation = "legal_obligation"
)

// Vocabularies.
var (
	RecipientKinds = []string{"guardian", "school_leader", "hospital", "teacher", "other"}
	LegalBases     = []string{BasisConsent, BasisImminentDanger, BasisLegalObligation}
	ItemTypes      = []string{"session", "risk_tier", "support_plan", "document", "summary_text"}
	RequesterKinds = []string{"police", "other_school", "media", "employer", "other"}
)

// itemsWithID are the item types that reference one record by id.
var itemsWithID = []string{"session", "document"}

// Item is one thing that was shared: a typed reference.
type Item struct {
	Type string     `json:"type"`
	ID   *uuid.UUID `json:"id,omitempty"`
}

// Input records a disclosure.
type Input struct {
	RecipientKind string     `json:"recipient_kind"`
	RecipientName string     `json:"recipient_name"`
	LegalBasis    string     `json:"legal_basis"`
	ConsentID     *uuid.UUID `json:"consent_id"`
	Justification string     `json:"justification"` // required for imminent danger and legal obligation (encrypted)
	Items         []Item     `json:"items"`
	DisclosedAt   time.Time  `json:"disclosed_at"`
	// ConsentScope is the consent scope a disclosure under consent needs: sharing (the
	// default) or, for a referral, referral. Set by domains, never by clients.
	ConsentScope string `json:"-"`
}

// future is how far ahead of the server's clock a time may be (clock skew).
const future = 5 * time.Minute

func (in *Input) validate() error {
	var f []fault.FieldError
	if !slices.Contains(RecipientKinds, in.RecipientKind) {
		f = append(f, fault.Field("recipient_kind", "invalid_value", "recipient_kind must be one of "+strings.Join(RecipientKinds, ", ")))
	}
	in.RecipientName = strings.Join(strings.Fields(in.RecipientName), " ")
	if n := utf8.RuneCountInString(in.RecipientName); n == 0 || n > 200 {
		f = append(f, fault.Field("recipient_name", "required", "the recipient's name, 1 to 200 characters"))
	}
	in.Justification = strings.TrimSpace(in.Justification)
	switch in.LegalBasis {
	case BasisConsent:
		if in.ConsentID == nil || *in.ConsentID == uuid.Nil {
			f = append(f, fault.Field("consent_id", "required", "a disclosure under consent cites the consent"))
		}
	case BasisImminentDanger, BasisLegalObligation:
		if in.ConsentID != nil {
			f = append(f, fault.Field("consent_id", "not_allowed", "only a disclosure under consent cites a consent"))
		}
		if in.Justification == "" {
			f = append(f, fault.Field("justification", "required", "say why the disclosure was necessary"))
		}
	default:
		f = append(f, fault.Field("legal_basis", "invalid_value", "legal_basis must be consent, imminent_danger or legal_obligation"))
	}
	if utf8.RuneCountInString(in.Justification) > 5000 {
		f = append(f, fault.Field("justification", "too_long", "at most 5,000 characters"))
	}
	if len(in.Items) == 0 || len(in.Items) > 100 {
		f = append(f, fault.Field("items", "required", "list the items shared (1 to 100)"))
	}
	seen := map[string]bool{}
	for i, it := range in.Items {
		name := fmt.Sprintf("items[%d]", i)
		switch {
		case !slices.Contains(ItemTypes, it.Type):
			f = append(f, fault.Field(name+".type", "invalid_value", "type must be one of "+strings.Join(ItemTypes, ", ")))
		case slices.Contains(itemsWithID, it.Type) && (it.ID == nil || *it.ID == uuid.Nil):
			f = append(f, fault.Field(name+".id", "required", "a "+it.Type+" item names its id"))
		case !slices.Contains(itemsWithID, it.Type) && it.ID != nil:
			f = append(f, fault.Field(name+".id", "not_allowed", "a "+it.Type+" item has no id"))
		}
		key := it.Type
		if it.ID != nil {
			key += "/" + it.ID.String()
		}
		if seen[key] {
			f = append(f, fault.Field(name, "duplicate", "the item is listed twice"))
		}
		seen[key] = true
	}
	if in.DisclosedAt.IsZero() || in.DisclosedAt.After(time.Now().Add(future)) {
		f = append(f, fault.Field("disclosed_at", "out_of_range", "when the disclosure happened; not in the future"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// Disclosure is one recorded disclosure.
type Disclosure struct {
	ID            uuid.UUID  `json:"id"`
	CaseFileID    uuid.UUID  `json:"case_file_id"`
	RecipientKind string     `json:"recipient_kind"`
	RecipientName string     `json:"recipient_name"`
	LegalBasis    string     `json:"legal_basis"`
	ConsentID     *uuid.UUID `json:"consent_id"`
	Justification string     `json:"justification"`
	Items         []Item     `json:"items"`
	DisclosedAt   time.Time  `json:"disclosed_at"`
	RecordedBy    uuid.UUID  `json:"recorded_by"`
	RecordedAt    time.Time  `json:"recorded_at"`
}

// InquiryInput records a refused outside inquiry.
type InquiryInput struct {
	RequesterKind string    `json:"requester_kind"`
	Requester     string    `json:"requester"`
	Organisation  string    `json:"organisation"`
	Asked         string    `json:"asked"`          // what was asked for (encrypted)
	RefusalReason string    `json:"refusal_reason"` // why it was refused (encrypted)
	InquiredAt    time.Time `json:"inquired_at"`
}

func (in *InquiryInput) validate() error {
	var f []fault.FieldError
	if !slices.Contains(RequesterKinds, in.RequesterKind) {
		f = append(f, fault.Field("requester_kind", "invalid_value", "requester_kind must be one of "+strings.Join(RequesterKinds, ", ")))
	}
	in.Requester = strings.Join(strings.Fields(in.Requester), " ")
	in.Organisation = strings.Join(strings.Fields(in.Organisation), " ")
	if n := utf8.RuneCountInString(in.Requester); n == 0 || n > 200 {
		f = append(f, fault.Field("requester", "required", "who asked, 1 to 200 characters"))
	}
	if utf8.RuneCountInString(in.Organisation) > 200 {
		f = append(f, fault.Field("organisation", "too_long", "at most 200 characters"))
	}
	for name, v := range map[string]*string{"asked": &in.Asked, "refusal_reason": &in.RefusalReason} {
		*v = strings.TrimSpace(*v)
		if n := utf8.RuneCountInString(*v); n == 0 || n > 5000 {
			f = append(f, fault.Field(name, "required", "1 to 5,000 characters"))
		}
	}
	if in.InquiredAt.IsZero() || in.InquiredAt.After(time.Now().Add(future)) {
		f = append(f, fault.Field("inquired_at", "out_of_range", "when the inquiry came; not in the future"))
	}
	if len(f) > 0 {
		sort.SliceStable(f, func(i, j int) bool { return f[i].Field < f[j].Field })
		return fault.Validation(f...)
	}
	return nil
}

// Inquiry is a refused outside inquiry.
type Inquiry struct {
	ID            uuid.UUID `json:"id"`
	CaseFileID    uuid.UUID `json:"case_file_id"`
	RequesterKind string    `json:"requester_kind"`
	Requester     string    `json:"requester"`
	Organisation  string    `json:"organisation"`
	Asked         string    `json:"asked"`
	RefusalReason string    `json:"refusal_reason"`
	InquiredAt    time.Time `json:"inquired_at"`
	RecordedBy    uuid.UUID `json:"recorded_by"`
	RecordedAt    time.Time `json:"recorded_at"`
}

// Entry is one line of the disclosure log: a disclosure or a refused inquiry.
type Entry struct {
	Type       string      `json:"type"` // "disclosure" or "refused_inquiry"
	At         time.Time   `json:"at"`
	Disclosure *Disclosure `json:"disclosure,omitempty"`
	Inquiry    *Inquiry    `json:"inquiry,omitempty"`
}

func caseFileExists(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM case_files WHERE school_id = $1 AND id = $2`, school, caseFile).Scan(&one)
	return database.MapError(err)
}

// Record records a disclosure. Under consent, the cited consent must be one of this case
// file's and must have covered sharing with this recipient when the disclosure happened:
// otherwise nothing is stored and the refusal is audited. Sessions listed as items must
// be sessions of this case file.
func (s *Service) Record(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID, in Input) (Disclosure, error) {
	if err := in.validate(); err != nil {
		return Disclosure{}, err
	}
	var out Disclosure
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		id, err := s.RecordInTx(ctx, tx, a, school, caseFile, in)
		if err != nil {
			return err
		}
		list, err := s.disclosures(ctx, tx, school, caseFile, &id)
		if err != nil {
			return err
		}
		out = list[0]
		return nil
	})
	if fe, ok := fault.As(err); ok && fe.Kind == fault.Conflict && len(fe.Fields) > 0 {
		// A disclosure the consent did not cover is refused; the attempt is on record.
		code := fe.Fields[0].Code
		if aerr := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
			return audit.Record(ctx, tx, a, audit.Entry{Action: "disclosures.create", ObjectType: "case_file", ObjectID: caseFile.String(),
				Outcome: audit.Denied, Reason: code})
		}); aerr != nil {
			return Disclosure{}, aerr
		}
	}
	return out, err
}

// RecordInTx records a validated disclosure in the caller's transaction (a crisis step
// or a referral that is itself a disclosure) and audits it. It returns the row id.
func (s *Service) RecordInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, caseFile uuid.UUID, in Input) (uuid.UUID, error) {
	if err := in.validate(); err != nil {
		return uuid.Nil, err
	}
	if err := caseFileExists(ctx, tx, school, caseFile); err != nil {
		return uuid.Nil, err
	}
	if err := checkSessions(ctx, tx, school, caseFile, in.Items); err != nil {
		return uuid.Nil, err
	}
	if in.LegalBasis == BasisConsent {
		need := consent.Sharing
		if in.ConsentScope != "" {
			need = in.ConsentScope
		}
		if err := consent.Covers(ctx, tx, school, caseFile, *in.ConsentID, need, in.RecipientName, in.DisclosedAt, "consent_id"); err != nil {
			return uuid.Nil, err
		}
	}
	var justification []byte
	if in.Justification != "" {
		var err error
		if justification, err = s.Cipher.EncryptFile(ctx, tx, school, caseFile, "disclosure.justification", []byte(in.Justification)); err != nil {
			return uuid.Nil, err
		}
	}
	items, err := json.Marshal(in.Items)
	if err != nil {
		return uuid.Nil, fault.Wrap(err, "encode items")
	}
	id := uuid.Must(uuid.NewV7())
	if _, err := tx.Exec(ctx, `INSERT INTO disclosures (school_id, id, case_file_id, recipient_kind, recipient_name, legal_basis, consent_id,
		justification, items, disclosed_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		school, id, caseFile, in.RecipientKind, in.RecipientName, in.LegalBasis, in.ConsentID, justification, items, in.DisclosedAt, a.UserID); err != nil {
		return uuid.Nil, database.MapError(err)
	}
	return id, audit.Record(ctx, tx, a, audit.Entry{Action: "disclosures.create", ObjectType: "disclosure", ObjectID: id.String(),
		Reason: in.RecipientKind + " / " + in.LegalBasis})
}

// checkSessions refuses session items that are not sessions of this case file.
func checkSessions(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, items []Item) error {
	var ids []uuid.UUID
	for _, it := range items {
		if it.Type == "session" {
			ids = append(ids, *it.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id FROM counseling_sessions WHERE school_id = $1 AND case_file_id = $2 AND id = ANY($3)`, school, caseFile, ids)
	if err != nil {
		return database.MapError(err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return database.MapError(err)
	}
	var f []fault.FieldError
	for i, it := range items {
		if it.Type == "session" && !slices.Contains(found, *it.ID) {
			f = append(f, fault.Field(fmt.Sprintf("items[%d].id", i), "invalid_value", "no such session in this case file"))
		}
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// RecordInquiry records an outside inquiry for the file that was refused.
func (s *Service) RecordInquiry(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID, in InquiryInput) (Inquiry, error) {
	if err := in.validate(); err != nil {
		return Inquiry{}, err
	}
	var out Inquiry
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if err := caseFileExists(ctx, tx, school, caseFile); err != nil {
			return err
		}
		asked, err := s.Cipher.EncryptFile(ctx, tx, school, caseFile, "inquiry.asked", []byte(in.Asked))
		if err != nil {
			return err
		}
		reason, err := s.Cipher.EncryptFile(ctx, tx, school, caseFile, "inquiry.refusal_reason", []byte(in.RefusalReason))
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO refused_inquiries (school_id, id, case_file_id, requester_kind, requester, organisation, asked,
			refusal_reason, inquired_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			school, id, caseFile, in.RequesterKind, in.Requester, in.Organisation, asked, reason, in.InquiredAt, a.UserID); err != nil {
			return database.MapError(err)
		}
		list, err := s.inquiries(ctx, tx, school, caseFile, &id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "inquiries.create", ObjectType: "refused_inquiry", ObjectID: id.String(),
			Reason: in.RequesterKind})
	})
	return out, err
}

// Log returns the case file's disclosures and refused inquiries merged in time order,
// oldest first (audited).
func (s *Service) Log(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) ([]Entry, error) {
	out := []Entry{}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if err := caseFileExists(ctx, tx, school, caseFile); err != nil {
			return err
		}
		ds, err := s.disclosures(ctx, tx, school, caseFile, nil)
		if err != nil {
			return err
		}
		qs, err := s.inquiries(ctx, tx, school, caseFile, nil)
		if err != nil {
			return err
		}
		for i := range ds {
			out = append(out, Entry{Type: "disclosure", At: ds[i].DisclosedAt, Disclosure: &ds[i]})
		}
		for i := range qs {
			out = append(out, Entry{Type: "refused_inquiry", At: qs[i].InquiredAt, Inquiry: &qs[i]})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
		return audit.Record(ctx, tx, a, audit.Entry{Action: "disclosures.log", ObjectType: "case_file", ObjectID: caseFile.String()})
	})
	return out, err
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

func (s *Service) disclosures(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, id *uuid.UUID) ([]Disclosure, error) {
	rows, err := tx.Query(ctx, `SELECT id, case_file_id, recipient_kind, recipient_name, legal_basis, consent_id, justification, items,
		disclosed_at, recorded_by, recorded_at FROM disclosures
		WHERE school_id = $1 AND case_file_id = $2 AND ($3::uuid IS NULL OR id = $3) ORDER BY disclosed_at, id`, school, caseFile, id)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Disclosure
		justification, items []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		return x, r.Scan(&x.ID, &x.CaseFileID, &x.RecipientKind, &x.RecipientName, &x.LegalBasis, &x.ConsentID, &x.justification, &x.items,
			&x.DisclosedAt, &x.RecordedBy, &x.RecordedAt)
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Disclosure, 0, len(list))
	for _, x := range list {
		d := x.Disclosure
		if d.Justification, err = s.unseal(ctx, tx, school, "disclosure.justification", x.justification); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(x.items, &d.Items); err != nil {
			return nil, fault.Wrap(err, "decode disclosure items")
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Service) inquiries(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, id *uuid.UUID) ([]Inquiry, error) {
	rows, err := tx.Query(ctx, `SELECT id, case_file_id, requester_kind, requester, organisation, asked, refusal_reason, inquired_at,
		recorded_by, recorded_at FROM refused_inquiries
		WHERE school_id = $1 AND case_file_id = $2 AND ($3::uuid IS NULL OR id = $3) ORDER BY inquired_at, id`, school, caseFile, id)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Inquiry
		asked, reason []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		return x, r.Scan(&x.ID, &x.CaseFileID, &x.RequesterKind, &x.Requester, &x.Organisation, &x.asked, &x.reason, &x.InquiredAt,
			&x.RecordedBy, &x.RecordedAt)
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Inquiry, 0, len(list))
	for _, x := range list {
		q := x.Inquiry
		if q.Asked, err = s.unseal(ctx, tx, school, "inquiry.asked", x.asked); err != nil {
			return nil, err
		}
		if q.RefusalReason, err = s.unseal(ctx, tx, school, "inquiry.refusal_reason", x.reason); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}
