package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/xinqiao/xinqiao/internal/httpapi"
)

func sharedRateServer(t *testing.T, store httpapi.RateStore, limits *httpapi.Limits, log io.Writer) *httptest.Server {
	t.Helper()
	srv := &httpapi.Server{Log: slog.New(slog.NewTextHandler(log, nil)), Limits: limits, RateStore: store,
		Ready: map[string]func(context.Context) error{"postgres": func(context.Context) error { return nil }}}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func postLogin(t *testing.T, url string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/auth/login", strings.NewReader(`not json`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Two API instances sharing one Redis spend one budget: the login burst of a client
// address is used up across both, and both refuse the next attempt.
func TestRateLimitsAreSharedAcrossInstancesThroughRedis(t *testing.T) {
	t.Parallel()
	addr := os.Getenv("XINQIAO_REDIS_ADDR")
	if addr == "" {
		t.Fatal("XINQIAO_REDIS_ADDR is not set: run `scripts/services.sh up` and `eval \"$(scripts/services.sh env)\"`")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	prefix := "xinqiao:test:rate:" + uuid.NewString() + ":"
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	limits := &httpapi.Limits{Login: httpapi.Rate{Every: time.Minute, Burst: 3}}
	store := httpapi.RedisRates{Client: rdb, Prefix: prefix}
	a := sharedRateServer(t, store, limits, io.Discard)
	b := sharedRateServer(t, store, limits, io.Discard)
	for i, url := range []string{a.URL, b.URL, a.URL} {
		if r := postLogin(t, url); r.StatusCode != 400 {
			t.Fatalf("attempt %d within the shared burst: %d", i, r.StatusCode)
		}
	}
	for _, url := range []string{b.URL, a.URL} {
		r := postLogin(t, url)
		if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("past the shared burst: %d %q", r.StatusCode, r.Header.Get("Retry-After"))
		}
	}
	if keys, err := rdb.Keys(context.Background(), prefix+"*").Result(); err != nil || len(keys) != 1 || strings.Contains(keys[0], "127.0.0.1") {
		t.Fatalf("one bucket per class and client, named without the address: %v %v", keys, err)
	}
	// Instances without the shared store count on their own: a fresh one still admits.
	if r := postLogin(t, sharedRateServer(t, nil, limits, io.Discard).URL); r.StatusCode != 400 {
		t.Fatalf("a local-only instance: %d", r.StatusCode)
	}
}

// With Redis unreachable the instance falls back to its own buckets: it still limits,
// never answers 5xx, and says so in its log.
func TestRateLimitsFallBackToLocalWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	log := &syncWriter{b: &strings.Builder{}}
	ts := sharedRateServer(t, httpapi.RedisRates{Client: dead}, &httpapi.Limits{Login: httpapi.Rate{Every: time.Hour, Burst: 2}}, log)
	for i := range 2 {
		if r := postLogin(t, ts.URL); r.StatusCode != 400 {
			t.Fatalf("attempt %d within the burst: %d", i, r.StatusCode)
		}
	}
	for range 3 {
		if r := postLogin(t, ts.URL); r.StatusCode != 429 {
			t.Fatalf("past the burst with Redis down: %d", r.StatusCode)
		}
	}
	if !strings.Contains(log.String(), "counting in this instance") {
		t.Fatalf("the fallback is not logged: %s", log.String())
	}
}

// syncWriter serialises the writes of concurrent request goroutines into b.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
