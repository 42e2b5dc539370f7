// Package blob owns the object store (MinIO / S3) where documents are kept, encrypted
// at rest with server-side encryption.
//
// Documents live in one bucket per district, named <Bucket>-<district id>, created on
// demand. Every object is written with SSE-S3 (the server's KMS key), so the server
// must have a KMS configured (MINIO_KMS_SECRET_KEY for a local MinIO; see
// scripts/services.sh). Domain packages use Store through small interfaces of their
// own and never import minio-go.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// ErrNotFound is returned by Get and Stat for a missing object or bucket.
var ErrNotFound = errors.New("object store: no such object")

// Store is a bucket on an S3-compatible server; district buckets share its name as
// their prefix.
type Store struct {
	Client *minio.Client
	Bucket string

	buckets sync.Map // district buckets known to exist
}

// Open connects to endpoint (host:port).
func Open(endpoint, accessKey, secretKey, bucket string, useTLS bool) (*Store, error) {
	c, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""), Secure: useTLS})
	if err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	if len(bucket)+1+36 > 63 {
		return nil, fmt.Errorf("object store: bucket prefix %q is too long for district buckets (at most 26 characters)", bucket)
	}
	return &Store{Client: c, Bucket: bucket}, nil
}

// EnsureBucket creates the bucket if it does not exist.
func (s *Store) EnsureBucket(ctx context.Context) error {
	return s.ensure(ctx, s.Bucket)
}

func (s *Store) ensure(ctx context.Context, bucket string) error {
	ok, err := s.Client.BucketExists(ctx, bucket)
	if err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	if ok {
		return nil
	}
	if err := s.Client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		var e minio.ErrorResponse
		if errors.As(err, &e) && (e.Code == "BucketAlreadyOwnedByYou" || e.Code == "BucketAlreadyExists") {
			return nil
		}
		return fmt.Errorf("object store: create bucket: %w", err)
	}
	return nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.Client.BucketExists(ctx, s.Bucket)
	return err
}

// DistrictBucket is the name of a district's bucket.
func (s *Store) DistrictBucket(district uuid.UUID) string {
	return s.Bucket + "-" + district.String()
}

func (s *Store) districtBucket(ctx context.Context, district uuid.UUID) (string, error) {
	b := s.DistrictBucket(district)
	if _, ok := s.buckets.Load(b); ok {
		return b, nil
	}
	if err := s.ensure(ctx, b); err != nil {
		return "", err
	}
	s.buckets.Store(b, true)
	return b, nil
}

// Put writes an object of size bytes into the district's bucket (created on demand),
// encrypted at rest with SSE-S3.
func (s *Store) Put(ctx context.Context, district uuid.UUID, key string, body io.Reader, size int64, contentType string) error {
	b, err := s.districtBucket(ctx, district)
	if err != nil {
		return fullErr(err)
	}
	_, err = s.Client.PutObject(ctx, b, key, body, size, minio.PutObjectOptions{
		ContentType: contentType, ServerSideEncryption: encrypt.NewSSE(), DisableContentSha256: false})
	if err != nil {
		return fullErr(fmt.Errorf("object store: put: %w", err))
	}
	return nil
}

// StorageFull tells a write refused because the store's drives are full: MinIO answers
// 507 XMinioStorageFull (below its minimum free space), or passes on the drive's
// ENOSPC.
func StorageFull(err error) bool {
	var e minio.ErrorResponse
	if errors.As(err, &e) && (e.StatusCode == http.StatusInsufficientStorage || e.Code == "XMinioStorageFull") {
		return true
	}
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "no space left on device")
}

// fullErr is the one mapping of a full store: a temporary Unavailable error (503 with
// Retry-After) that says so; any other error is returned as it is.
func fullErr(err error) error {
	if !StorageFull(err) {
		return err
	}
	return &fault.Error{Kind: fault.Unavailable, Message: "the document store is full; uploads are refused until space is freed", Err: err}
}

// Get opens an object for streaming. The object is checked first, so a missing object
// is ErrNotFound here rather than on the first read.
func (s *Store) Get(ctx context.Context, district uuid.UUID, key string) (io.ReadCloser, error) {
	o, err := s.Client.GetObject(ctx, s.DistrictBucket(district), key, minio.GetObjectOptions{})
	if err != nil {
		return nil, mapErr(err)
	}
	if _, err := o.Stat(); err != nil {
		o.Close()
		return nil, mapErr(err)
	}
	return o, nil
}

// Info describes a stored object.
type Info struct {
	Size                 int64
	ContentType          string
	ModTime              time.Time
	ServerSideEncryption string // "AES256" for SSE-S3, "aws:kms" for SSE-KMS, "" for none
}

// Stat describes an object.
func (s *Store) Stat(ctx context.Context, district uuid.UUID, key string) (Info, error) {
	o, err := s.Client.StatObject(ctx, s.DistrictBucket(district), key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, mapErr(err)
	}
	return Info{Size: o.Size, ContentType: o.ContentType, ModTime: o.LastModified,
		ServerSideEncryption: o.Metadata.Get("X-Amz-Server-Side-Encryption")}, nil
}

// Remove deletes an object; a missing object is not an error.
func (s *Store) Remove(ctx context.Context, district uuid.UUID, key string) error {
	err := s.Client.RemoveObject(ctx, s.DistrictBucket(district), key, minio.RemoveObjectOptions{})
	if err != nil && !errors.Is(mapErr(err), ErrNotFound) {
		return fmt.Errorf("object store: remove: %w", err)
	}
	return nil
}

// List calls fn for every object of the district whose key starts with prefix, with its
// last modification time. A district without a bucket has no objects.
func (s *Store) List(ctx context.Context, district uuid.UUID, prefix string, fn func(key string, modified time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range s.Client.ListObjects(ctx, s.DistrictBucket(district), minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			if errors.Is(mapErr(o.Err), ErrNotFound) {
				return nil
			}
			return fmt.Errorf("object store: list: %w", o.Err)
		}
		if err := fn(o.Key, o.LastModified); err != nil {
			return err
		}
	}
	return nil
}

// Districts lists the districts that have a bucket.
func (s *Store) Districts(ctx context.Context) ([]uuid.UUID, error) {
	bs, err := s.Client.ListBuckets(ctx)
	if err != nil {
		return nil, fmt.Errorf("object store: list buckets: %w", err)
	}
	var out []uuid.UUID
	for _, b := range bs {
		rest, ok := strings.CutPrefix(b.Name, s.Bucket+"-")
		if !ok || len(rest) != 36 {
			continue
		}
		if id, err := uuid.Parse(rest); err == nil {
			out = append(out, id)
		}
	}
	return out, nil
}

// RemoveDistrict deletes a district's bucket with everything in it (tests clean up
// with it; the application never deletes buckets).
func (s *Store) RemoveDistrict(ctx context.Context, district uuid.UUID) error {
	b := s.DistrictBucket(district)
	err := s.List(ctx, district, "", func(key string, _ time.Time) error { return s.Remove(ctx, district, key) })
	if err != nil {
		return err
	}
	s.buckets.Delete(b)
	if err := s.Client.RemoveBucket(ctx, b); err != nil && !errors.Is(mapErr(err), ErrNotFound) {
		return fmt.Errorf("object store: remove bucket: %w", err)
	}
	return nil
}

func mapErr(err error) error {
	var e minio.ErrorResponse
	if errors.As(err, &e) && (e.StatusCode == http.StatusNotFound || e.Code == "NoSuchKey" || e.Code == "NoSuchBucket") {
		return fmt.Errorf("%w: %s", ErrNotFound, e.Code)
	}
	return err
}
