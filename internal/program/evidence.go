package program

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/reconcile"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/upload"
)

// ObjectStore keeps the bytes of evidence, one bucket per district (blob.Store implements it).
type ObjectStore interface {
	Put(ctx context.Context, district uuid.UUID, key string, body io.Reader, size int64, contentType string) error
	Get(ctx context.Context, district uuid.UUID, key string) (io.ReadCloser, error)
	Remove(ctx context.Context, district uuid.UUID, key string) error
}

// DefaultMaxBytes is the size cap of an evidence file when none is configured (20 MiB).
const DefaultMaxBytes = upload.DefaultMaxBytes

// Limit is the effective size cap.
func (s *Service) Limit() int64 {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return DefaultMaxBytes
}

// EvidenceTypes are the allowed types of evidence (detected from the content).
var EvidenceTypes = []string{upload.TypePDF, upload.TypeJPEG, upload.TypePNG, upload.TypeWEBP, upload.TypeDOCX}

// Evidence is a stored evidence document.
type Evidence struct {
	ID             uuid.UUID  `json:"id"`
	ActivityID     *uuid.UUID `json:"activity_id"`
	PlanID         *uuid.UUID `json:"plan_id"`
	IndicatorCode  *string    `json:"indicator_code"`
	Title          string     `json:"title"`
	Filename       string     `json:"filename"`
	ContentType    string     `json:"content_type"`
	SizeBytes      int64      `json:"size_bytes"`
	SHA256         string     `json:"sha256"`
	UploadedBy     uuid.UUID  `json:"uploaded_by"`
	UploadedByName string     `json:"uploaded_by_name"`
	UploadedAt     time.Time  `json:"uploaded_at"`

	district uuid.UUID
	key      string
}

// EvidenceInput says what the evidence is for: an activity, or a yes/no indicator of a plan.
type EvidenceInput struct {
	ActivityID    *uuid.UUID
	PlanID        *uuid.UUID
	IndicatorCode string
	Title         string
	Filename      string
}

// UploadEvidence stores an evidence file. The type is detected from the content against
// the allowlist; image metadata is stripped. The object is written with no transaction
// open, then the row; when the row fails the object is removed.
func (s *Service) UploadEvidence(ctx context.Context, a scope.Actor, school uuid.UUID, in EvidenceInput, content io.Reader) (Evidence, error) {
	var f []fault.FieldError
	text(&f, "title", &in.Title, 1, 200)
	if len(f) > 0 {
		return Evidence{}, fault.Validation(f...)
	}
	file, err := upload.Read(content, upload.Rules{MaxBytes: s.Limit(), Types: EvidenceTypes, Noun: "evidence", TypeNames: "PDF, JPEG, PNG, WEBP or DOCX"})
	if err != nil {
		return Evidence{}, err
	}
	data, ct, sum := file.Data, file.ContentType, file.SHA256
	e := Evidence{ID: uuid.Must(uuid.NewV7()), Title: in.Title, Filename: upload.Filename(in.Filename, ct, "evidence"), ContentType: ct,
		SizeBytes: int64(len(data)), district: a.DistrictID}
	e.key = school.String() + "/evidence/" + e.ID.String()
	check := func(tx pgx.Tx) error {
		if in.ActivityID != nil {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM activities WHERE school_id = $1 AND id = $2`, school, *in.ActivityID).Scan(&n); err != nil {
				return database.MapError(err)
			}
			if n == 0 {
				return fault.New(fault.NotFound, "not found")
			}
			return nil
		}
		list, err := plans(ctx, tx, schoolPlanWhere+` AND p.id = $2`, school, *in.PlanID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		for _, ind := range list[0].Indicators {
			if ind.Code == in.IndicatorCode && ind.Kind == "yes_no" {
				return nil
			}
		}
		return fault.New(fault.NotFound, "no yes/no indicator of this code in the plan")
	}
	if err := s.DB.InTx(ctx, a, check); err != nil {
		return Evidence{}, err
	}
	if err := s.Store.Put(ctx, e.district, e.key, bytes.NewReader(data), e.SizeBytes, ct); err != nil {
		return Evidence{}, fault.Down(err, "the document store is not available")
	}
	var out Evidence
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		var code *string
		if in.PlanID != nil {
			code = &in.IndicatorCode
		}
		if _, err := tx.Exec(ctx, `INSERT INTO program_evidence (school_id, id, district_id, activity_id, plan_id, indicator_code, title, filename,
			content_type, size_bytes, sha256, object_key, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			school, e.ID, a.DistrictID, in.ActivityID, in.PlanID, code, e.Title, e.Filename, ct, e.SizeBytes, sum[:], e.key, a.UserID); err != nil {
			return database.MapError(err)
		}
		list, err := evidenceOf(ctx, tx, school, `e.id = $2`, e.ID)
		if err != nil || len(list) == 0 {
			return fault.Wrap(err, "read back evidence")
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "evidence.upload", ObjectType: "evidence", ObjectID: e.ID.String()})
	})
	if err != nil {
		_ = s.Store.Remove(context.WithoutCancel(ctx), e.district, e.key)
		return Evidence{}, err
	}
	return out, nil
}

func evidenceOf(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, args ...any) ([]Evidence, error) {
	rows, err := tx.Query(ctx, `SELECT e.id, e.activity_id, e.plan_id, e.indicator_code, e.title, e.filename, e.content_type, e.size_bytes, e.sha256,
		e.uploaded_by, u.display_name, e.uploaded_at, e.district_id, e.object_key
		FROM program_evidence e JOIN users u ON u.id = e.uploaded_by
		WHERE e.school_id = $1 AND `+where+` ORDER BY e.uploaded_at, e.id LIMIT 1000`, append([]any{school}, args...)...)
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Evidence, error) {
		var e Evidence
		var sum []byte
		err := r.Scan(&e.ID, &e.ActivityID, &e.PlanID, &e.IndicatorCode, &e.Title, &e.Filename, &e.ContentType, &e.SizeBytes, &sum,
			&e.UploadedBy, &e.UploadedByName, &e.UploadedAt, &e.district, &e.key)
		e.SHA256 = hex.EncodeToString(sum)
		return e, err
	})
	if out == nil {
		out = []Evidence{}
	}
	return out, database.MapError(err)
}

// OpenEvidence authorizes and audits a download, then streams the object.
func (s *Service) OpenEvidence(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Evidence, io.ReadCloser, error) {
	var e Evidence
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		list, err := evidenceOf(ctx, tx, school, `e.id = $2`, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		e = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "evidence.download", ObjectType: "evidence", ObjectID: id.String()})
	})
	if err != nil {
		return Evidence{}, nil, err
	}
	r, err := s.Store.Get(ctx, e.district, e.key)
	if err != nil {
		return Evidence{}, nil, fault.Down(err, "the document store is not available")
	}
	return e, r, nil
}

// EvidenceOrphans are the evidence objects for the reconciliation job (internal/reconcile).
var EvidenceOrphans = reconcile.Kind{
	Pattern:      regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/evidence/[0-9a-f-]{36}$`),
	Unreferenced: "evidence_keys_unreferenced", PerSchool: true,
	AuditAction: "evidence.orphans_removed", ObjectType: "evidence", RowName: "evidence",
}
