// Package research owns the annual research export (科研数据导出): requests filed by
// researchers against a published codebook, approval by the district, and the export job
// that turns the district's records into de-identified files — pseudonymous ids from a
// keyed HMAC whose key lives only inside one run, dates reduced to years, birth dates to
// age bands, schools to pseudonymous codes, quasi-identifiers generalized (and rows
// suppressed) until every combination holds at least k students — with a codebook, a
// suppression report and a manifest of SHA-256 sums, downloaded through the API for a
// limited time. Free text, notes, names, numbers and contacts are never read.
package research

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/outbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Objects stores export files (blob.Store implements it).
type Objects interface {
	Put(ctx context.Context, district uuid.UUID, key string, body io.Reader, size int64, contentType string) error
	Get(ctx context.Context, district uuid.UUID, key string) (io.ReadCloser, error)
}

// Keys seals the district's longitudinal research key (keyring.Keyring implements it).
type Keys interface {
	Seal(plaintext, aad []byte) (string, []byte, error)
	Open(masterID string, sealed, aad []byte) ([]byte, error)
}

// Service is the research export service.
type Service struct {
	DB      *database.DB
	Objects Objects
	// Keys seals the longitudinal key; without it longitudinal exports fail.
	Keys Keys
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
	// Available is how long a ready export can be downloaded (default 14 days).
	Available time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// TypeExport is the export task.
const TypeExport = "research:export"

// MinK is the smallest k a request may ask for.
const MinK = 5

// Field is one entry of the published codebook.
type Field struct {
	Name    string   `json:"name"`
	Meaning string   `json:"meaning"`
	Type    string   `json:"type"`
	Codes   []string `json:"codes,omitempty"`
	// Quasi marks a quasi-identifier, generalized or suppressed for k-anonymity.
	Quasi bool `json:"quasi_identifier"`
}

// Codebook is the allowlist of exportable fields. pid and year are always exported.
var Codebook = []Field{
	{Name: "pid", Meaning: "pseudonymous student id (HMAC-SHA256 with a key made for this export and destroyed after it; for an export the district approved as longitudinal, with the district's persistent research key, so ids match across longitudinal exports)", Type: "string"},
	{Name: "year", Meaning: "calendar year of the record", Type: "integer"},
	{Name: "school", Meaning: "pseudonymous school code, or * when generalized", Type: "string", Quasi: true},
	{Name: "grade", Meaning: "grade, or school stage (primary, junior, senior, vocational) when generalized, or *", Type: "string", Quasi: true},
	{Name: "gender", Meaning: "male, female, or * when generalized", Type: "string", Codes: []string{"male", "female", "*"}, Quasi: true},
	{Name: "age_band", Meaning: "age at the end of the year, as a band (6-8, 9-11, 12-14, 15-17, 18+; wider when generalized)", Type: "string", Quasi: true},
	{Name: "has_case_file", Meaning: "the student had a case file by the end of the year", Type: "boolean"},
	{Name: "max_risk_tier", Meaning: "highest risk tier set during the year", Type: "string", Codes: []string{"none", "watch", "elevated", "high", "crisis"}},
	{Name: "sessions", Meaning: "number of counseling sessions in the year", Type: "integer"},
	{Name: "crises", Meaning: "number of crises opened in the year", Type: "integer"},
	{Name: "referrals", Meaning: "number of referrals sent in the year", Type: "integer"},
	{Name: "phq9_band", Meaning: "band of the last valid PHQ-9 of the year (empty: none)", Type: "string", Codes: []string{"minimal", "mild", "moderate", "moderately_severe", "severe", ""}},
	{Name: "gad7_band", Meaning: "band of the last valid GAD-7 of the year (empty: none)", Type: "string", Codes: []string{"minimal", "mild", "moderate", "severe", ""}},
}

func selectable(name string) bool {
	return name != "pid" && name != "year" && slices.ContainsFunc(Codebook, func(f Field) bool { return f.Name == name })
}

// Request is a research export request.
type Request struct {
	ID             uuid.UUID  `json:"id"`
	ResearcherID   uuid.UUID  `json:"researcher_id"`
	Purpose        string     `json:"purpose"`
	Years          []int      `json:"years"`
	Fields         []string   `json:"fields"`
	EthicsRef      string     `json:"ethics_ref"`
	K              int        `json:"k"`
	Longitudinal   bool       `json:"longitudinal"`
	Status         string     `json:"status"`
	DecisionReason *string    `json:"decision_reason"`
	DecidedAt      *time.Time `json:"decided_at"`
	Progress       int        `json:"progress"`
	Files          []File     `json:"files"`
	Report         *Report    `json:"report,omitempty"`
	RowsExported   *int       `json:"rows_exported"`
	ReadyAt        *time.Time `json:"ready_at"`
	ExpiresAt      *time.Time `json:"expires_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

// File is one output file.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	key    string
}

// RequestInput files a request.
type RequestInput struct {
	Purpose   string   `json:"purpose"`
	Years     []int    `json:"years"`
	Fields    []string `json:"fields"`
	EthicsRef string   `json:"ethics_ref"`
	K         *int     `json:"k"`
}

// Decision approves or rejects a request. Longitudinal (with approval only) makes the
// export use the district's persistent research key, so its pseudonymous ids match
// those of the district's other longitudinal exports.
type Decision struct {
	Approve      bool   `json:"approve"`
	Reason       string `json:"reason"`
	Longitudinal bool   `json:"longitudinal"`
}

// File files a research request. Fields outside the codebook and k below the minimum are
// refused by name.
func (s *Service) File(ctx context.Context, a scope.Actor, district uuid.UUID, in RequestInput) (Request, error) {
	var f []fault.FieldError
	in.Purpose = strings.TrimSpace(in.Purpose)
	if n := utf8.RuneCountInString(in.Purpose); n == 0 || n > 2000 {
		f = append(f, fault.Field("purpose", "required", "the purpose, 1 to 2,000 characters"))
	}
	in.EthicsRef = strings.TrimSpace(in.EthicsRef)
	if n := utf8.RuneCountInString(in.EthicsRef); n == 0 || n > 200 {
		f = append(f, fault.Field("ethics_ref", "required", "the ethics approval reference"))
	}
	this := s.now().Year()
	if len(in.Years) == 0 || len(in.Years) > 10 {
		f = append(f, fault.Field("years", "required", "one to ten years"))
	}
	for i, y := range in.Years {
		if y < 2000 || y > this {
			f = append(f, fault.Field("years["+strconv.Itoa(i)+"]", "out_of_range", "a past or the current year"))
		}
	}
	if len(in.Fields) == 0 {
		f = append(f, fault.Field("fields", "required", "at least one field of the codebook"))
	}
	seen := map[string]bool{}
	for i, name := range in.Fields {
		if !selectable(name) {
			f = append(f, fault.Field("fields["+strconv.Itoa(i)+"]", "not_allowed", name+" is not in the published codebook"))
		} else if seen[name] {
			f = append(f, fault.Field("fields["+strconv.Itoa(i)+"]", "duplicate", "listed twice"))
		}
		seen[name] = true
	}
	k := MinK
	if in.K != nil {
		k = *in.K
	}
	if k < MinK || k > 100 {
		f = append(f, fault.Field("k", "out_of_range", "k is at least 5 (and at most 100)"))
	}
	if len(f) > 0 {
		return Request{}, fault.Validation(f...)
	}
	slices.Sort(in.Years)
	in.Years = slices.Compact(in.Years)
	var out Request
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO research_requests (district_id, id, researcher_id, purpose, years, fields, ethics_ref, k)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, district, id, a.UserID, in.Purpose, in.Years, in.Fields, in.EthicsRef, k); err != nil {
			return database.MapError(err)
		}
		var err error
		if out, err = get(ctx, tx, district, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "research.request", ObjectType: "research_request", ObjectID: id.String()})
	})
	return out, err
}

const requestColumns = `id, researcher_id, purpose, years, fields, ethics_ref, k, longitudinal, status, decision_reason, decided_at, progress, files, report,
	rows_exported, ready_at, expires_at, created_at`

func scan(r pgx.Row) (Request, error) {
	var x Request
	var files, report []byte
	err := r.Scan(&x.ID, &x.ResearcherID, &x.Purpose, &x.Years, &x.Fields, &x.EthicsRef, &x.K, &x.Longitudinal, &x.Status, &x.DecisionReason, &x.DecidedAt,
		&x.Progress, &files, &report, &x.RowsExported, &x.ReadyAt, &x.ExpiresAt, &x.CreatedAt)
	if err != nil {
		return x, database.MapError(err)
	}
	x.Files = []File{}
	if err := jsonUnmarshal(files, &x.Files); err != nil {
		return x, err
	}
	if len(report) > 2 {
		x.Report = &Report{}
		if err := jsonUnmarshal(report, x.Report); err != nil {
			return x, err
		}
	}
	return x, nil
}

func get(ctx context.Context, tx pgx.Tx, district, id uuid.UUID) (Request, error) {
	return scan(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM research_requests WHERE district_id = $1 AND id = $2`, district, id))
}

// List lists requests: a researcher's own, or (district admin) all of the district's.
func (s *Service) List(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Request, error) {
	var out []Request
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+requestColumns+` FROM research_requests WHERE district_id = $1 ORDER BY created_at DESC LIMIT 200`, district)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Request, error) { return scan(r) })
		return database.MapError(err)
	})
	return out, err
}

// Get returns one request.
func (s *Service) Get(ctx context.Context, a scope.Actor, district, id uuid.UUID) (Request, error) {
	var out Request
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		out, err = get(ctx, tx, district, id)
		return err
	})
	return out, err
}

// Decide approves (and queues the export through the outbox) or rejects a pending
// request, with a reason.
func (s *Service) Decide(ctx context.Context, a scope.Actor, district, id uuid.UUID, in Decision) (Request, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if !in.Approve && in.Reason == "" {
		return Request{}, fault.Validation(fault.Field("reason", "required", "say why the request is rejected"))
	}
	if in.Longitudinal && !in.Approve {
		return Request{}, fault.Validation(fault.Field("longitudinal", "invalid_value", "only an approval can be longitudinal"))
	}
	if utf8.RuneCountInString(in.Reason) > 1000 {
		return Request{}, fault.Validation(fault.Field("reason", "too_long", "at most 1,000 characters"))
	}
	var out Request
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM research_requests WHERE district_id = $1 AND id = $2 FOR UPDATE`, district, id).Scan(&status); err != nil {
			return database.MapError(err)
		}
		if status != "pending" {
			return fault.New(fault.Conflict, "the request is already %s", status)
		}
		to := "rejected"
		if in.Approve {
			to = "approved"
		}
		var reason *string
		if in.Reason != "" {
			reason = &in.Reason
		}
		if _, err := tx.Exec(ctx, `UPDATE research_requests SET status = $3, decided_by = $4, decision_reason = $5, decided_at = $6, longitudinal = $7
			WHERE district_id = $1 AND id = $2`, district, id, to, a.UserID, reason, s.now(), in.Longitudinal); err != nil {
			return database.MapError(err)
		}
		if in.Approve {
			if _, err := outbox.Add(ctx, tx, a, TypeExport, map[string]string{"district_id": district.String(), "request_id": id.String()}, "low"); err != nil {
				return err
			}
		}
		var err error
		if out, err = get(ctx, tx, district, id); err != nil {
			return err
		}
		if in.Longitudinal {
			to += " (longitudinal)"
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "research.decide", ObjectType: "research_request", ObjectID: id.String(), Reason: to})
	})
	return out, err
}
