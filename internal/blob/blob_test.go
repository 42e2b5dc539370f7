package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/blob"
	"github.com/xinqiao/xinqiao/internal/config"
)

// The store against the local MinIO: district buckets are created on demand, objects
// are encrypted at rest (SSE-S3), listed with their times, streamed and removed.
func TestStoreOnMinIO(t *testing.T) {
	t.Parallel()
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	st, err := blob.Open(cfg.S3Endpoint, cfg.S3AccessKey, cfg.S3SecretKey, "xqtest", cfg.S3UseTLS)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	district := uuid.New()
	t.Cleanup(func() {
		if err := st.RemoveDistrict(context.Background(), district); err != nil {
			t.Error(err)
		}
	})
	// A district without a bucket has nothing.
	n := 0
	if err := st.List(ctx, district, "", func(string, time.Time) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("list of a missing bucket: %d %v", n, err)
	}
	if _, err := st.Get(ctx, district, "x"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("get from a missing bucket: %v", err)
	}

	start := time.Now().Add(-time.Minute)
	content := []byte("%PDF-1.4 consent")
	for _, key := range []string{"s/a/1", "s/a/2", "s/b/1"} {
		if err := st.Put(ctx, district, key, bytes.NewReader(content), int64(len(content)), "application/pdf"); err != nil {
			t.Fatal(err)
		}
	}
	info, err := st.Stat(ctx, district, "s/a/1")
	if err != nil {
		t.Fatal(err)
	}
	if info.ServerSideEncryption != "AES256" || info.Size != int64(len(content)) || info.ContentType != "application/pdf" || info.ModTime.Before(start) {
		t.Fatalf("stat: %+v", info)
	}
	var keys []string
	if err := st.List(ctx, district, "s/a/", func(k string, m time.Time) error {
		if m.Before(start) {
			t.Errorf("%s modified %s", k, m)
		}
		keys = append(keys, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"s/a/1", "s/a/2"}) {
		t.Fatalf("list by prefix: %v", keys)
	}
	r, err := st.Get(ctx, district, "s/b/1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("get: %q %v", got, err)
	}
	if _, err := st.Get(ctx, district, "s/none"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("get a missing object: %v", err)
	}
	districts, err := st.Districts(ctx)
	if err != nil || !slices.Contains(districts, district) {
		t.Fatalf("districts: %v %v", districts, err)
	}
	if err := st.Remove(ctx, district, "s/a/2"); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(ctx, district, "s/a/2"); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	if _, err := st.Stat(ctx, district, "s/a/2"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("removed object: %v", err)
	}
}

func TestOpenRefusesLongBucketPrefix(t *testing.T) {
	t.Parallel()
	if _, err := blob.Open("127.0.0.1:1", "a", "b", "a-bucket-prefix-that-is-far-too-long", false); err == nil {
		t.Fatal("a prefix that leaves no room for the district id was accepted")
	}
}
