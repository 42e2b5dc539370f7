package library

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/document"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/reconcile"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/upload"
)

// ObjectStore keeps document bytes in the district's bucket (blob.Store implements it).
type ObjectStore interface {
	Put(ctx context.Context, district uuid.UUID, key string, body io.Reader, size int64, contentType string) error
	Get(ctx context.Context, district uuid.UUID, key string) (io.ReadCloser, error)
	Remove(ctx context.Context, district uuid.UUID, key string) error
}

// Files is what a library service needs to hold documents.
type Files struct {
	Store    ObjectStore
	MaxBytes int64
	Log      *slog.Logger
}

// DocumentInput describes an uploaded document; the bytes come separately.
type DocumentInput struct {
	ItemInput
	Filename string
}

// Document is an entry's file as the download needs it.
type Document struct {
	Filename    string
	ContentType string
	SizeBytes   int64
	SHA256      string
}

// AddDocument stores a document (PDF, image, DOCX, audio; metadata stripped) in the
// district's bucket, then its entry; when the entry fails, the object goes.
func (s *Service) AddDocument(ctx context.Context, a scope.Actor, district uuid.UUID, in DocumentInput, content io.Reader) (Item, error) {
	if s.Files == nil || s.Files.Store == nil {
		return Item{}, fault.New(fault.Unavailable, "the document store is not configured")
	}
	in.Kind = "document"
	if err := in.validate(); err != nil {
		return Item{}, err
	}
	file, err := upload.Read(content, upload.Rules{MaxBytes: s.Files.MaxBytes, TypeNames: document.TypeNames})
	if err != nil {
		return Item{}, err
	}
	data, ct := file.Data, file.ContentType
	name := strings.TrimSpace(path.Base(strings.ReplaceAll(in.Filename, `\`, "/")))
	if name == "" || name == "." || name == "/" || utf8.RuneCountInString(name) > 200 {
		name = "document"
	}
	sum := file.SHA256
	id := uuid.Must(uuid.NewV7())
	key := "library/" + id.String()
	if err := s.Files.Store.Put(ctx, district, key, bytes.NewReader(data), int64(len(data)), ct); err != nil {
		return Item{}, fault.Down(err, "the document store is not available")
	}
	var owner *uuid.UUID
	if a.Kind == scope.School {
		owner = &a.SchoolID
	}
	var out Item
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO library_items (district_id, id, kind, title, author, summary, topics, audiences, publisher, owner_school_id, created_by,
			filename, content_type, size_bytes, sha256, object_key) VALUES ($1, $2, 'document', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			district, id, in.Title, strings.TrimSpace(in.Author), strings.TrimSpace(in.Summary), in.Topics, in.Audiences, strings.TrimSpace(in.Publisher),
			owner, a.UserID, name, ct, len(data), sum[:], key); err != nil {
			return database.MapError(err)
		}
		list, err := s.search(ctx, tx, a, district, Query{}, id)
		if err != nil {
			return err
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "library.add_document", ObjectType: "library_item", ObjectID: id.String()})
	})
	if err != nil {
		if rerr := s.Files.Store.Remove(context.WithoutCancel(ctx), district, key); rerr != nil && s.Files.Log != nil {
			s.Files.Log.Error("remove library object after a failed entry", "key", key, "err", rerr)
		}
		return Item{}, err
	}
	return out, nil
}

// OpenDocument streams an entry's document to anyone who may read the library.
func (s *Service) OpenDocument(ctx context.Context, a scope.Actor, district, id uuid.UUID) (Document, io.ReadCloser, error) {
	if s.Files == nil || s.Files.Store == nil {
		return Document{}, nil, fault.New(fault.Unavailable, "the document store is not configured")
	}
	var d Document
	var key string
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var sum []byte
		if err := tx.QueryRow(ctx, `SELECT filename, content_type, size_bytes, sha256, object_key FROM library_items
			WHERE district_id = $1 AND id = $2 AND kind = 'document'`, district, id).Scan(&d.Filename, &d.ContentType, &d.SizeBytes, &sum, &key); err != nil {
			return database.MapError(err)
		}
		d.SHA256 = hex.EncodeToString(sum)
		return audit.Record(ctx, tx, a, audit.Entry{Action: "library.download", ObjectType: "library_item", ObjectID: id.String()})
	})
	if err != nil {
		return Document{}, nil, err
	}
	r, err := s.Files.Store.Get(ctx, district, key)
	if err != nil {
		return Document{}, nil, fault.Down(err, "the document store is not available")
	}
	return d, r, nil
}

// Limit is the effective size cap of a document.
func (s *Service) Limit() int64 {
	if s.Files == nil || s.Files.MaxBytes <= 0 {
		return upload.DefaultMaxBytes
	}
	return s.Files.MaxBytes
}

// Orphans are the library's document objects for the reconciliation job (internal/reconcile).
var Orphans = reconcile.Kind{
	Prefix: "library/", Pattern: regexp.MustCompile(`^library/[0-9a-f-]{36}$`),
	Unreferenced: "library_keys_unreferenced",
	AuditAction:  "library.orphans_removed", ObjectType: "library_item", RowName: "library entry",
}
