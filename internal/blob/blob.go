// Package blob owns the object store (MinIO / S3) where documents are kept, encrypted
// at rest with server-side encryption.
package blob

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Store is a bucket on an S3-compatible server.
type Store struct {
	Client *minio.Client
	Bucket string
}

// Open connects to endpoint (host:port).
func Open(endpoint, accessKey, secretKey, bucket string, useTLS bool) (*Store, error) {
	c, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""), Secure: useTLS})
	if err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	return &Store{Client: c, Bucket: bucket}, nil
}

// EnsureBucket creates the bucket if it does not exist.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.Client.BucketExists(ctx, s.Bucket)
	if err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	if ok {
		return nil
	}
	if err := s.Client.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("object store: create bucket: %w", err)
	}
	return nil
}

// Ping checks that the bucket is reachable.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.Client.BucketExists(ctx, s.Bucket)
	return err
}
