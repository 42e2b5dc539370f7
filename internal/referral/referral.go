// Package referral owns the partner-institution directory (医校协同) and closed-loop
// referrals (转介): a referral needs a consent covering the institution (or the
// imminent-danger basis of a crisis), shares only the items the counselor selects, is
// entered in the disclosure log, produces a Chinese referral letter, and carries a
// one-time acknowledgement link for the institution. Its status runs sent →
// acknowledged → appointment → seen → feedback → closed (or declined); overdue feedback
// is reminded; a return-to-school plan closes the loop.
package referral

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/consent"
	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/disclosure"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Cipher seals letters and feedback under the case file's key.
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	EncryptFile(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// Disclosures records a disclosure inside the caller's transaction.
type Disclosures interface {
	RecordInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, caseFile uuid.UUID, in disclosure.Input) (uuid.UUID, error)
}

// Crises adds the "referred" step to a crisis inside the caller's transaction.
type Crises interface {
	RecordReferral(ctx context.Context, tx pgx.Tx, a scope.Actor, school, crisis, referral uuid.UUID) (uuid.UUID, error)
}

// Service is the referral service.
type Service struct {
	DB          *database.DB
	Cipher      Cipher
	Disclosures Disclosures
	Crises      Crises
	// FontPath is a TrueType font with CJK glyphs for the letter.
	FontPath string
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// TypeFeedbackReminder is the periodic task that reminds counselors of overdue feedback.
const TypeFeedbackReminder = "referral:feedback_reminder"

// Vocabularies.
var (
	InstitutionKinds = []string{"hospital", "clinic", "hotline", "other"}
	// Items a counselor may share; the reason is always in the letter.
	Items    = []string{"basics", "guardian_contact", "risk_tier", "crisis", "screening"}
	Statuses = []string{"sent", "acknowledged", "appointment", "seen", "feedback", "closed", "declined"}
)

// LinkTTL is how long an acknowledgement link works.
const LinkTTL = 30 * 24 * time.Hour

const (
	purposeLetter   = "referral.letter"
	purposeFeedback = "referral.feedback"
	purposeReturn   = "referral.return_plan"
)

// Institution is a partner institution.
type Institution struct {
	ID            uuid.UUID `json:"id"`
	Name          string    `json:"name"`
	Kind          string    `json:"kind"`
	Services      []string  `json:"services"`
	Contact       string    `json:"contact"`
	AcceptsDirect bool      `json:"accepts_direct"`
	Active        bool      `json:"active"`
}

// InstitutionInput creates or edits an institution.
type InstitutionInput struct {
	Name          *string   `json:"name"`
	Kind          *string   `json:"kind"`
	Services      *[]string `json:"services"`
	Contact       *string   `json:"contact"`
	AcceptsDirect *bool     `json:"accepts_direct"`
	Active        *bool     `json:"active"`
}

func (in *InstitutionInput) validate(create bool) error {
	var f []fault.FieldError
	if in.Name != nil || create {
		if in.Name == nil {
			in.Name = new(string)
		}
		*in.Name = strings.TrimSpace(*in.Name)
		if n := utf8.RuneCountInString(*in.Name); n == 0 || n > 200 {
			f = append(f, fault.Field("name", "required", "1 to 200 characters"))
		}
	}
	if in.Kind != nil || create {
		if in.Kind == nil || !slices.Contains(InstitutionKinds, *in.Kind) {
			f = append(f, fault.Field("kind", "invalid_value", "one of "+strings.Join(InstitutionKinds, ", ")))
		}
	}
	if in.Services != nil {
		if len(*in.Services) > 30 {
			f = append(f, fault.Field("services", "too_long", "at most 30 services"))
		}
		for i, v := range *in.Services {
			(*in.Services)[i] = strings.TrimSpace(v)
			if n := utf8.RuneCountInString((*in.Services)[i]); n == 0 || n > 100 {
				f = append(f, fault.Field("services", "invalid_value", "services of 1 to 100 characters"))
				break
			}
		}
	}
	if in.Contact != nil && utf8.RuneCountInString(*in.Contact) > 500 {
		f = append(f, fault.Field("contact", "too_long", "at most 500 characters"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

func institutions(ctx context.Context, tx pgx.Tx, district uuid.UUID, activeOnly bool, id *uuid.UUID) ([]Institution, error) {
	rows, err := tx.Query(ctx, `SELECT id, name, kind, services, contact, accepts_direct, active FROM institutions
		WHERE district_id = $1 AND (NOT $2 OR active) AND ($3::uuid IS NULL OR id = $3) ORDER BY kind, name`, district, activeOnly, id)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Institution, error) {
		var x Institution
		return x, r.Scan(&x.ID, &x.Name, &x.Kind, &x.Services, &x.Contact, &x.AcceptsDirect, &x.Active)
	})
	return out, database.MapError(err)
}

// Institutions lists the district's institutions (schools see the active ones).
func (s *Service) Institutions(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Institution, error) {
	var out []Institution
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		out, err = institutions(ctx, tx, district, a.Kind == scope.School, nil)
		return err
	})
	return out, err
}

// CreateInstitution adds a partner institution.
func (s *Service) CreateInstitution(ctx context.Context, a scope.Actor, district uuid.UUID, in InstitutionInput) (Institution, error) {
	if err := in.validate(true); err != nil {
		return Institution{}, err
	}
	if in.Services == nil {
		in.Services = &[]string{}
	}
	if in.Contact == nil {
		in.Contact = new(string)
	}
	direct := in.AcceptsDirect != nil && *in.AcceptsDirect
	var out Institution
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO institutions (district_id, id, name, kind, services, contact, accepts_direct) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			district, id, *in.Name, *in.Kind, *in.Services, *in.Contact, direct); err != nil {
			return database.MapError(err)
		}
		list, err := institutions(ctx, tx, district, false, &id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "institutions.create", ObjectType: "institution", ObjectID: id.String()})
	})
	return out, err
}

// UpdateInstitution edits a partner institution.
func (s *Service) UpdateInstitution(ctx context.Context, a scope.Actor, district, id uuid.UUID, in InstitutionInput) (Institution, error) {
	if err := in.validate(false); err != nil {
		return Institution{}, err
	}
	var out Institution
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE institutions SET name = coalesce($3, name), kind = coalesce($4, kind), services = coalesce($5, services),
			contact = coalesce($6, contact), accepts_direct = coalesce($7, accepts_direct), active = coalesce($8, active) WHERE district_id = $1 AND id = $2`,
			district, id, in.Name, in.Kind, in.Services, in.Contact, in.AcceptsDirect, in.Active)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		list, err := institutions(ctx, tx, district, false, &id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "institutions.update", ObjectType: "institution", ObjectID: id.String()})
	})
	return out, err
}

// Referral is a referral as the counselors see it.
type Referral struct {
	ID              uuid.UUID  `json:"id"`
	CaseFileID      uuid.UUID  `json:"case_file_id"`
	StudentID       uuid.UUID  `json:"student_id"`
	CrisisID        *uuid.UUID `json:"crisis_id"`
	InstitutionID   uuid.UUID  `json:"institution_id"`
	InstitutionName string     `json:"institution_name"`
	Basis           string     `json:"basis"`
	ConsentID       *uuid.UUID `json:"consent_id"`
	Items           []string   `json:"items"`
	Status          string     `json:"status"`
	SentAt          time.Time  `json:"sent_at"`
	LinkExpiresAt   *time.Time `json:"link_expires_at"`
	LinkUsedAt      *time.Time `json:"link_used_at"`
	AcknowledgedAt  *time.Time `json:"acknowledged_at"`
	AppointmentAt   *time.Time `json:"appointment_at"`
	SeenAt          *time.Time `json:"seen_at"`
	Feedback        string     `json:"feedback"`
	FeedbackAt      *time.Time `json:"feedback_at"`
	FeedbackDueAt   time.Time  `json:"feedback_due_at"`
	FeedbackOverdue bool       `json:"feedback_overdue"`
	DeclinedReason  *string    `json:"declined_reason"`
	ClosedAt        *time.Time `json:"closed_at"`
	ReturnPlan      string     `json:"return_plan"`
	ReturnDate      *string    `json:"return_date"`
	// Link is the acknowledgement link's path, shown once when it is created.
	Link string `json:"link,omitempty"`
}

// SendInput makes a referral.
type SendInput struct {
	CaseFileID    uuid.UUID  `json:"case_file_id"`
	CrisisID      *uuid.UUID `json:"crisis_id"`
	InstitutionID uuid.UUID  `json:"institution_id"`
	Basis         string     `json:"basis"`
	Items         []string   `json:"items"`
	Reason        string     `json:"reason"`
}

// Letter is what the referral letter says: the reason and the selected items, nothing else.
type Letter struct {
	Institution string       `json:"institution"`
	School      string       `json:"school"`
	Date        string       `json:"date"`
	Reference   string       `json:"reference"`
	Reason      string       `json:"reason"`
	Lines       []LetterLine `json:"lines"`
	Counselor   string       `json:"counselor"`
}

// LetterLine is one shared item.
type LetterLine struct {
	Item  string `json:"item"`
	Label string `json:"label"`
	Value string `json:"value"`
}

func newLink() (token string, hash []byte) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

func linkHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Send makes a referral. Under the consent basis an active referral consent must cover
// the institution (403 with the reason otherwise); the imminent-danger basis needs an
// open, risk-assessed crisis. Only the selected items go into the letter; the referral
// is entered in the disclosure log and, for a crisis, as its "referred" step.
func (s *Service) Send(ctx context.Context, a scope.Actor, school uuid.UUID, in SendInput) (Referral, error) {
	var f []fault.FieldError
	if in.CaseFileID == uuid.Nil {
		f = append(f, fault.Field("case_file_id", "required", "the case file is required"))
	}
	if in.InstitutionID == uuid.Nil {
		f = append(f, fault.Field("institution_id", "required", "the institution is required"))
	}
	switch in.Basis {
	case "consent":
	case "imminent_danger":
		if in.CrisisID == nil {
			f = append(f, fault.Field("crisis_id", "required", "a referral without consent needs the crisis that makes it urgent"))
		}
	default:
		f = append(f, fault.Field("basis", "invalid_value", "consent or imminent_danger"))
	}
	seen := map[string]bool{}
	for _, it := range in.Items {
		if !slices.Contains(Items, it) {
			f = append(f, fault.Field("items", "invalid_value", "items are among "+strings.Join(Items, ", ")))
			break
		}
		if seen[it] {
			f = append(f, fault.Field("items", "duplicate", "an item is listed twice"))
			break
		}
		seen[it] = true
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if n := utf8.RuneCountInString(in.Reason); n == 0 || n > 2000 {
		f = append(f, fault.Field("reason", "required", "the reason for the referral, 1 to 2,000 characters"))
	}
	if len(f) > 0 {
		return Referral{}, fault.Validation(f...)
	}
	var out Referral
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var student uuid.UUID
		var status string
		err := tx.QueryRow(ctx, `SELECT student_id, status FROM case_files WHERE school_id = $1 AND id = $2`, school, in.CaseFileID).Scan(&student, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fault.Validation(fault.Field("case_file_id", "invalid_value", "no such case file"))
		}
		if err != nil {
			return database.MapError(err)
		}
		if status == "archived" {
			return fault.New(fault.Conflict, "the case file is archived")
		}
		list, err := institutions(ctx, tx, a.DistrictID, true, &in.InstitutionID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.Validation(fault.Field("institution_id", "invalid_value", "no such active institution"))
		}
		inst := list[0]
		if in.CrisisID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM crises WHERE school_id = $1 AND id = $2 AND case_file_id = $3)`,
				school, *in.CrisisID, in.CaseFileID).Scan(&ok); err != nil {
				return database.MapError(err)
			}
			if !ok {
				return fault.Validation(fault.Field("crisis_id", "invalid_value", "no such crisis on this case file"))
			}
		}
		var consentID *uuid.UUID
		if in.Basis == "consent" {
			id, err := consent.Require(ctx, tx, school, in.CaseFileID, consent.Referral, inst.Name)
			if err != nil {
				if fe, ok := fault.As(err); ok && fe.Kind == fault.Conflict {
					return &fault.Error{Kind: fault.Forbidden, Message: "no active referral consent covers " + inst.Name +
						": record the guardian's consent first, or refer under the imminent-danger basis of a crisis", Fields: fe.Fields}
				}
				return err
			}
			consentID = &id
		}
		id := uuid.Must(uuid.NewV7())
		letter, err := s.compose(ctx, tx, a, school, in, inst, id)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(letter)
		if err != nil {
			return fault.Wrap(err, "encode letter")
		}
		sealed, err := s.Cipher.EncryptFile(ctx, tx, school, in.CaseFileID, purposeLetter, raw)
		if err != nil {
			return err
		}
		set, err := crisis.LoadSettings(ctx, tx, a.DistrictID)
		if err != nil {
			return err
		}
		now := s.now()
		token, hash := newLink()
		items := in.Items
		if items == nil {
			items = []string{}
		}
		items = append([]string{"reason"}, items...)
		if _, err := tx.Exec(ctx, `INSERT INTO referrals (school_id, id, case_file_id, student_id, crisis_id, district_id, institution_id, basis, consent_id,
			items, letter, sent_by, sent_at, link_hash, link_expires_at, feedback_due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			school, id, in.CaseFileID, student, in.CrisisID, a.DistrictID, in.InstitutionID, in.Basis, consentID, items, sealed, a.UserID, now,
			hash, now.Add(LinkTTL), now.AddDate(0, 0, set.FeedbackDays)); err != nil {
			return database.MapError(err)
		}
		if in.CrisisID != nil {
			if _, err := s.Crises.RecordReferral(ctx, tx, a, school, *in.CrisisID, id); err != nil {
				return err
			}
		} else if in.Basis == "imminent_danger" {
			return fault.New(fault.Conflict, "imminent danger needs a crisis")
		}
		justification := ""
		if in.Basis == "imminent_danger" {
			justification = "危机转介（crisis referral）：" + in.Reason
		}
		basis := disclosure.BasisConsent
		if in.Basis == "imminent_danger" {
			basis = disclosure.BasisImminentDanger
		}
		if _, err := s.Disclosures.RecordInTx(ctx, tx, a, school, in.CaseFileID, disclosure.Input{RecipientKind: "hospital", RecipientName: inst.Name,
			LegalBasis: basis, ConsentID: consentID, Justification: justification, Items: disclosureItems(in.Items), DisclosedAt: now,
			ConsentScope: consent.Referral}); err != nil {
			return err
		}
		if out, err = s.referral(ctx, tx, school, id); err != nil {
			return err
		}
		out.Link = "/r/" + token
		return audit.Record(ctx, tx, a, audit.Entry{Action: "referrals.send", ObjectType: "referral", ObjectID: id.String(), Reason: in.Basis})
	})
	return out, err
}

func disclosureItems(items []string) []disclosure.Item {
	out := []disclosure.Item{{Type: "summary_text"}}
	if slices.Contains(items, "risk_tier") {
		out = append(out, disclosure.Item{Type: "risk_tier"})
	}
	return out
}

const referralColumns = `r.id, r.case_file_id, r.student_id, r.crisis_id, r.institution_id, i.name, r.basis, r.consent_id, r.items, r.status, r.sent_at,
	r.link_expires_at, r.link_used_at, r.acknowledged_at, r.appointment_at, r.seen_at, r.feedback, r.feedback_at, r.feedback_due_at, r.declined_reason,
	r.closed_at, r.return_plan, to_char(r.return_date, 'YYYY-MM-DD')`

func (s *Service) scan(ctx context.Context, tx pgx.Tx, school uuid.UUID, r pgx.Row) (Referral, error) {
	var x Referral
	var feedback, plan []byte
	if err := r.Scan(&x.ID, &x.CaseFileID, &x.StudentID, &x.CrisisID, &x.InstitutionID, &x.InstitutionName, &x.Basis, &x.ConsentID, &x.Items, &x.Status,
		&x.SentAt, &x.LinkExpiresAt, &x.LinkUsedAt, &x.AcknowledgedAt, &x.AppointmentAt, &x.SeenAt, &feedback, &x.FeedbackAt, &x.FeedbackDueAt,
		&x.DeclinedReason, &x.ClosedAt, &plan, &x.ReturnDate); err != nil {
		return x, database.MapError(err)
	}
	for _, p := range []struct {
		b    []byte
		dst  *string
		what string
	}{{feedback, &x.Feedback, purposeFeedback}, {plan, &x.ReturnPlan, purposeReturn}} {
		if p.b != nil {
			plain, err := s.Cipher.Decrypt(ctx, tx, school, p.what, p.b)
			if err != nil {
				return x, err
			}
			*p.dst = string(plain)
		}
	}
	x.FeedbackOverdue = slices.Contains([]string{"sent", "acknowledged", "appointment", "seen"}, x.Status) && !s.now().Before(x.FeedbackDueAt)
	return x, nil
}

func (s *Service) referral(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Referral, error) {
	return s.scan(ctx, tx, school, tx.QueryRow(ctx, `SELECT `+referralColumns+` FROM referrals r
		JOIN institutions i ON i.district_id = r.district_id AND i.id = r.institution_id WHERE r.school_id = $1 AND r.id = $2`, school, id))
}

// Get returns a referral (audited).
func (s *Service) Get(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Referral, error) {
	var out Referral
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		if out, err = s.referral(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "referrals.read", ObjectType: "referral", ObjectID: id.String()})
	})
	return out, err
}

// List lists the referrals of a case file (or of the school when caseFile is nil).
func (s *Service) List(ctx context.Context, a scope.Actor, school uuid.UUID, caseFile *uuid.UUID) ([]Referral, error) {
	var out []Referral
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		// Read the ids first: decrypting needs the connection the rows would hold.
		rows, err := tx.Query(ctx, `SELECT id FROM referrals WHERE school_id = $1 AND ($2::uuid IS NULL OR case_file_id = $2) ORDER BY sent_at DESC LIMIT 500`, school, caseFile)
		if err != nil {
			return database.MapError(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		out = make([]Referral, 0, len(ids))
		for _, id := range ids {
			x, err := s.referral(ctx, tx, school, id)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		target := school.String()
		if caseFile != nil {
			target = caseFile.String()
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "referrals.list", ObjectType: "case_file", ObjectID: target})
	})
	return out, err
}
