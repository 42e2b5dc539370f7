// Package document owns the documents of a case file (资料): consent forms, letters,
// drawings, reports. The bytes go to the object store (one bucket per district, keys
// <school>/<case file>/<id>, server-side encryption); the database holds what they are,
// with the title and file name encrypted with the school's data key. Types are detected
// from the content against an allowlist, image metadata (EXIF and the like) is stripped,
// and the SHA-256 of the stored bytes is kept. Only the school's counselors reach any of
// it (row-level security), and every upload, list and download is audited.
//
// Upload is atomic from the user's view: the object is written first, with no
// transaction open, then the row in a transaction; when the row cannot be written the
// object is removed. Objects left behind by a crash between the two are removed by a
// periodic job (RemoveOrphans) once they are an hour old and still have no row.
package document

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/reconcile"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/upload"
)

// ObjectStore keeps the bytes, one bucket per district (blob.Store implements it).
type ObjectStore interface {
	// Put writes an object encrypted at rest (server-side encryption).
	Put(ctx context.Context, district uuid.UUID, key string, body io.Reader, size int64, contentType string) error
	// Get streams an object.
	Get(ctx context.Context, district uuid.UUID, key string) (io.ReadCloser, error)
	// Remove deletes an object; a missing one is not an error.
	Remove(ctx context.Context, district uuid.UUID, key string) error
	// List calls fn for each object whose key starts with prefix.
	List(ctx context.Context, district uuid.UUID, prefix string, fn func(key string, modified time.Time) error) error
	// Districts lists the districts that have a bucket.
	Districts(ctx context.Context) ([]uuid.UUID, error)
}

// Cipher encrypts free text with the school's data key (keyring.Keyring implements it).
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	// EncryptFile seals content of one case file under that file's own key.
	EncryptFile(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// DefaultMaxBytes is the size cap of a document when none is configured (20 MiB).
const DefaultMaxBytes = upload.DefaultMaxBytes

// TypeNames names the types a document may have (every type upload.Detect knows).
const TypeNames = "PDF, JPEG, PNG, WEBP, DOCX, M4A or MP3"

// Service is the document domain service.
type Service struct {
	DB       *database.DB
	Cipher   Cipher
	Store    ObjectStore
	MaxBytes int64        // size cap; 0 means DefaultMaxBytes
	Log      *slog.Logger // optional: failures to clean up an object
}

// Limit is the effective size cap.
func (s *Service) Limit() int64 {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return DefaultMaxBytes
}

// Kinds of documents.
var Kinds = []string{"consent_form", "letter", "drawing", "report", "other"}

// Document is a stored document as a counselor sees it.
type Document struct {
	ID             uuid.UUID  `json:"id"`
	CaseFileID     uuid.UUID  `json:"case_file_id"`
	SessionID      *uuid.UUID `json:"session_id"`
	Kind           string     `json:"kind"`
	Title          string     `json:"title"`
	Filename       string     `json:"filename"`
	ContentType    string     `json:"content_type"`
	SizeBytes      int64      `json:"size_bytes"`
	SHA256         string     `json:"sha256"`
	UploadedBy     uuid.UUID  `json:"uploaded_by"`
	UploadedByName string     `json:"uploaded_by_name"`
	UploadedAt     time.Time  `json:"uploaded_at"`

	school   uuid.UUID
	district uuid.UUID
	key      string
}

// Input describes an upload; the content comes separately.
type Input struct {
	Kind      string
	Title     string
	SessionID *uuid.UUID
	Filename  string // as the client named it; only used to name the download
}

func (in *Input) validate() error {
	var f []fault.FieldError
	if !slices.Contains(Kinds, in.Kind) {
		f = append(f, fault.Field("kind", "invalid_value", "kind must be one of "+strings.Join(Kinds, ", ")))
	}
	in.Title = strings.TrimSpace(in.Title)
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		f = append(f, fault.Field("title", "required", "a title is required"))
	case n > 200 || !utf8.ValidString(in.Title):
		f = append(f, fault.Field("title", "too_long", "at most 200 characters"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// Upload stores a document in a case file. content is read up to the size cap; its type
// is detected from the bytes and image metadata is stripped before it is stored.
func (s *Service) Upload(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID, in Input, content io.Reader) (Document, error) {
	if err := in.validate(); err != nil {
		return Document{}, err
	}
	file, err := upload.Read(content, upload.Rules{MaxBytes: s.Limit(), TypeNames: TypeNames})
	if err != nil {
		return Document{}, err
	}
	data, ct, sum := file.Data, file.ContentType, file.SHA256
	if a.DistrictID == uuid.Nil {
		return Document{}, fault.New(fault.NotFound, "not found")
	}
	d := Document{ID: uuid.Must(uuid.NewV7()), CaseFileID: caseFile, SessionID: in.SessionID, Kind: in.Kind, Title: in.Title,
		Filename: upload.Filename(in.Filename, ct, "document"), ContentType: ct, SizeBytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		UploadedBy: a.UserID, school: school, district: a.DistrictID}
	d.key = school.String() + "/" + caseFile.String() + "/" + d.ID.String()

	// A first short look: the case file is there and writable, the session is its own.
	if err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error { return s.writable(ctx, tx, school, caseFile, in.SessionID, false) }); err != nil {
		return Document{}, err
	}
	// The bytes, with no transaction open.
	if err := s.Store.Put(ctx, d.district, d.key, bytes.NewReader(data), d.SizeBytes, ct); err != nil {
		return Document{}, fault.Down(err, "the document store is not available")
	}
	// The row; when it fails, the object goes.
	var out Document
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if err := s.writable(ctx, tx, school, caseFile, in.SessionID, true); err != nil {
			return err
		}
		title, err := s.Cipher.EncryptFile(ctx, tx, school, caseFile, "document.title", []byte(d.Title))
		if err != nil {
			return fault.Wrap(err, "encrypt title")
		}
		name, err := s.Cipher.EncryptFile(ctx, tx, school, caseFile, "document.filename", []byte(d.Filename))
		if err != nil {
			return fault.Wrap(err, "encrypt file name")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO documents (school_id, id, case_file_id, session_id, kind, title, filename, content_type,
			size_bytes, sha256, object_key, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			school, d.ID, caseFile, d.SessionID, d.Kind, title, name, ct, d.SizeBytes, sum[:], d.key, a.UserID); err != nil {
			return database.MapError(err)
		}
		if out, err = s.get(ctx, tx, school, d.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "documents.upload", ObjectType: "document", ObjectID: d.ID.String()})
	})
	if err != nil {
		if rerr := s.Store.Remove(context.WithoutCancel(ctx), d.district, d.key); rerr != nil && s.Log != nil {
			// The reconciliation job removes it later.
			s.Log.Error("remove the object of a failed upload", "document_id", d.ID, "err", rerr)
		}
		return Document{}, err
	}
	return out, nil
}

// writable checks that the case file exists (for this actor), is not archived, and
// that the session, if any, belongs to it. lock holds the case file's row until the
// transaction ends, so it cannot be archived meanwhile.
func (s *Service) writable(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, session *uuid.UUID, lock bool) error {
	q := `SELECT status FROM case_files WHERE school_id = $1 AND id = $2`
	if lock {
		q += ` FOR SHARE`
	}
	var status string
	if err := tx.QueryRow(ctx, q, school, caseFile).Scan(&status); err != nil {
		return database.MapError(err)
	}
	if status == "archived" {
		return fault.New(fault.Conflict, "an archived case file is read-only")
	}
	if session != nil {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM counseling_sessions WHERE school_id = $1 AND case_file_id = $2 AND id = $3)`,
			school, caseFile, *session).Scan(&ok); err != nil {
			return database.MapError(err)
		}
		if !ok {
			return fault.Validation(fault.Field("session_id", "invalid_value", "no such session in this case file"))
		}
	}
	return nil
}

const selectDocuments = `SELECT d.id, d.case_file_id, d.session_id, d.kind, d.title, d.filename, d.content_type, d.size_bytes, d.sha256,
	d.uploaded_by, coalesce(u.display_name, ''), d.uploaded_at, d.school_id, sc.district_id, d.object_key
	FROM documents d JOIN schools sc ON sc.id = d.school_id LEFT JOIN users u ON u.id = d.uploaded_by
	WHERE d.school_id = $1 AND `

func (s *Service) query(ctx context.Context, tx pgx.Tx, school uuid.UUID, where string, arg uuid.UUID) ([]Document, error) {
	rows, err := tx.Query(ctx, selectDocuments+where+` ORDER BY d.uploaded_at, d.id`, school, arg)
	if err != nil {
		return nil, database.MapError(err)
	}
	type raw struct {
		Document
		title, name, sum []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
		var x raw
		err := r.Scan(&x.ID, &x.CaseFileID, &x.SessionID, &x.Kind, &x.title, &x.name, &x.ContentType, &x.SizeBytes, &x.sum,
			&x.UploadedBy, &x.UploadedByName, &x.UploadedAt, &x.school, &x.district, &x.key)
		return x, err
	})
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Document, 0, len(list))
	for _, x := range list {
		d := x.Document
		t, err := s.Cipher.Decrypt(ctx, tx, school, "document.title", x.title)
		if err != nil {
			return nil, fault.Wrap(err, "decrypt document.title")
		}
		n, err := s.Cipher.Decrypt(ctx, tx, school, "document.filename", x.name)
		if err != nil {
			return nil, fault.Wrap(err, "decrypt document.filename")
		}
		d.Title, d.Filename, d.SHA256 = string(t), string(n), hex.EncodeToString(x.sum)
		out = append(out, d)
	}
	return out, nil
}

func (s *Service) get(ctx context.Context, tx pgx.Tx, school, id uuid.UUID) (Document, error) {
	list, err := s.query(ctx, tx, school, `d.id = $2`, id)
	if err != nil {
		return Document{}, err
	}
	if len(list) == 0 {
		return Document{}, fault.New(fault.NotFound, "not found")
	}
	return list[0], nil
}

// ListInTx returns a case file's documents in upload order inside the caller's
// transaction, without auditing (the case-file timeline merges them into its own
// audited read).
func (s *Service) ListInTx(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID) ([]Document, error) {
	return s.query(ctx, tx, school, `d.case_file_id = $2`, caseFile)
}

// List returns a case file's documents in upload order; the read is audited.
func (s *Service) List(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) ([]Document, error) {
	var out []Document
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM case_files WHERE school_id = $1 AND id = $2)`, school, caseFile).Scan(&exists); err != nil {
			return database.MapError(err)
		}
		if !exists {
			return fault.New(fault.NotFound, "not found")
		}
		var err error
		if out, err = s.ListInTx(ctx, tx, school, caseFile); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "documents.list", ObjectType: "case_file", ObjectID: caseFile.String()})
	})
	return out, err
}

// Open authorizes and audits a download, then opens the stored bytes for streaming.
// The caller closes the reader.
func (s *Service) Open(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Document, io.ReadCloser, error) {
	var d Document
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if d, err = s.get(ctx, tx, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "documents.download", ObjectType: "document", ObjectID: id.String()})
	})
	if err != nil {
		return Document{}, nil, err
	}
	r, err := s.Store.Get(ctx, d.district, d.key)
	if err != nil {
		return Document{}, nil, fault.Down(err, "the document store is not available")
	}
	return d, r, nil
}

// OrphanAge is how old an object without a row must be before it is removed.
const OrphanAge = reconcile.OrphanAge

// Orphans are the document objects for the reconciliation job (internal/reconcile).
var Orphans = reconcile.Kind{
	Pattern:      regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[0-9a-f-]{36}/[0-9a-f-]{36}$`),
	Unreferenced: "document_keys_unreferenced", PerSchool: true,
	AuditAction: "documents.orphans_removed", ObjectType: "document", RowName: "document",
}

// RemoveOrphans removes the document objects last modified before cutoff that have no
// row (the reconciliation job for documents alone). It returns how many it removed.
func (s *Service) RemoveOrphans(ctx context.Context, cutoff time.Time) (int, error) {
	return (&reconcile.Job{DB: s.DB, Store: s.Store, Kinds: []reconcile.Kind{Orphans}}).Run(ctx, cutoff)
}
