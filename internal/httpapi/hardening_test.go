package httpapi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xinqiao/xinqiao/internal/httpapi"
)

// bareServer is an API without services: enough for everything the middleware answers
// before a handler touches a service.
func bareServer(t *testing.T, limits *httpapi.Limits, proxies ...string) *httptest.Server {
	t.Helper()
	srv := &httpapi.Server{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: limits, TrustedProxies: proxies,
		Ready: map[string]func(context.Context) error{"postgres": func(context.Context) error { return nil }}}
	ts := httptest.NewUnstartedServer(srv.Handler())
	return ts
}

func get(t *testing.T, c *http.Client, url string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// HSTS is sent over TLS, and behind a trusted proxy that says the client used HTTPS;
// never over plain HTTP, nor because an untrusted client claims HTTPS.
func TestHSTSOnlyOverTLS(t *testing.T) {
	t.Parallel()
	const hsts = "Strict-Transport-Security"
	plain := bareServer(t, nil)
	plain.Start()
	defer plain.Close()
	if h := get(t, http.DefaultClient, plain.URL+"/healthz").Header.Get(hsts); h != "" {
		t.Fatalf("HSTS over plain HTTP: %q", h)
	}
	if h := get(t, http.DefaultClient, plain.URL+"/healthz", "X-Forwarded-Proto", "https").Header.Get(hsts); h != "" {
		t.Fatalf("HSTS from an untrusted X-Forwarded-Proto: %q", h)
	}
	proxied := bareServer(t, nil, "127.0.0.1/32")
	proxied.Start()
	defer proxied.Close()
	if h := get(t, http.DefaultClient, proxied.URL+"/api/v1/openapi.json", "X-Forwarded-Proto", "https").Header.Get(hsts); !strings.Contains(h, "max-age=") {
		t.Fatalf("no HSTS behind a trusted TLS proxy: %q", h)
	}
	if h := get(t, http.DefaultClient, proxied.URL+"/healthz", "X-Forwarded-Proto", "http").Header.Get(hsts); h != "" {
		t.Fatalf("HSTS behind a plain-HTTP proxy: %q", h)
	}
	secure := bareServer(t, nil)
	secure.StartTLS()
	defer secure.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec G402 -- the test server's own certificate
	h := get(t, c, secure.URL+"/healthz").Header.Get(hsts)
	if !strings.Contains(h, "max-age=63072000") || !strings.Contains(h, "includeSubDomains") {
		t.Fatalf("HSTS over TLS: %q", h)
	}
}

// CORS is closed: no Access-Control-Allow-* header for any origin, and a preflight is
// refused with a problem.
func TestCORSClosedByDefault(t *testing.T) {
	t.Parallel()
	ts := bareServer(t, nil)
	ts.Start()
	defer ts.Close()
	for _, path := range []string{"/api/v1/auth/login", "/api/v1/me", "/api/v1/schools/00000000-0000-0000-0000-000000000001/students", "/api/v1/nope"} {
		req, _ := http.NewRequest("OPTIONS", ts.URL+path, nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, x-csrf-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("preflight %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for k := range resp.Header {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("preflight %s: %s sent", path, k)
			}
		}
		resp = get(t, http.DefaultClient, ts.URL+path, "Origin", "https://evil.example")
		for k := range resp.Header {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("GET %s from a foreign origin: %s sent", path, k)
			}
		}
	}
}

// A body over the cap of its class answers 413 problem+json before any handler runs:
// declared too long, or streamed without a length.
func TestBodyLimitsPerRouteClass(t *testing.T) {
	t.Parallel()
	ts := bareServer(t, &httpapi.Limits{JSONBytes: 2048, UploadBytes: 8192})
	ts.Start()
	defer ts.Close()
	post := func(path, ctype string, body io.Reader, length int64) *http.Response {
		req, _ := http.NewRequest("POST", ts.URL+path, body)
		req.Header.Set("Content-Type", ctype)
		req.ContentLength = length
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	big := `{"username":"` + strings.Repeat("x", 4000) + `","password":"y"}`
	for _, length := range []int64{int64(len(big)), -1} { // declared, and chunked
		resp := post("/api/v1/auth/login", "application/json", strings.NewReader(big), length)
		if resp.StatusCode != 413 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("JSON over the cap (length %d): %d %s", length, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// The same size is fine for an upload, which has the larger cap; past it, 413.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "roster.csv")
	fw.Write(bytes.Repeat([]byte("a"), 16000))
	mw.Close()
	resp := post("/api/v1/schools/00000000-0000-0000-0000-000000000001/students/import", mw.FormDataContentType(), bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if resp.StatusCode != 413 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("upload over the cap: %d", resp.StatusCode)
	}
	small := post("/api/v1/schools/00000000-0000-0000-0000-000000000001/students/import", mw.FormDataContentType(), strings.NewReader(strings.Repeat("a", 4000)), 4000)
	if small.StatusCode == 413 {
		t.Errorf("an upload under its cap is refused: %d", small.StatusCode)
	}
}

// Login and the public pages are limited per client address: past the burst, 429
// problem+json with Retry-After; another route class keeps its own budget.
func TestRateLimitsPerRouteClass(t *testing.T) {
	t.Parallel()
	ts := bareServer(t, &httpapi.Limits{Login: httpapi.Rate{Every: time.Hour, Burst: 3}, Public: httpapi.Rate{Every: time.Hour, Burst: 2}})
	ts.Start()
	defer ts.Close()
	do := func(method, path string) *http.Response {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(`not json`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for i := range 3 {
		if r := do("POST", "/api/v1/auth/login"); r.StatusCode != 400 {
			t.Fatalf("login %d within the burst: %d", i, r.StatusCode)
		}
	}
	r := do("POST", "/api/v1/auth/login")
	if r.StatusCode != 429 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("login past the burst: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 3600 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// The public pages have their own budget (a malformed school id answers 404).
	for i := range 2 {
		if r := do("GET", "/api/v1/public/mailbox/nope"); r.StatusCode != 404 {
			t.Fatalf("public page %d within the burst: %d", i, r.StatusCode)
		}
	}
	if r := do("GET", "/api/v1/public/mailbox/nope"); r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("public page past the burst: %d", r.StatusCode)
	}
	// Health checks and authenticated reads are not limited here.
	if r := do("GET", "/healthz"); r.StatusCode != 200 {
		t.Fatalf("healthz: %d", r.StatusCode)
	}
}

// Authenticated writes are limited per user: one user past the burst gets 429 with
// Retry-After, nothing is written, while another user and the same user's reads go on.
func TestWritesAreRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(w *world) {
		w.limits = &httpapi.Limits{Writes: httpapi.Rate{Every: time.Hour, Burst: 2}}
	})
	own := w.target("s1")
	path := "/api/v1/schools/" + own.school.String() + "/concerns"
	raise := func(user string) response {
		return w.do(w.token(user), "POST", path, map[string]any{"student_id": own.student, "urgency": "routine", "observation": "近来沉默寡言"})
	}
	for i := range 2 {
		if r := raise("teacher.s1"); r.status != 201 {
			t.Fatalf("write %d within the burst: %d %s", i, r.status, r.body)
		}
	}
	before := w.scalar(`SELECT count(*) FROM concerns`)
	r := raise("teacher.s1")
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("write past the burst: %d %s", r.status, r.body)
	}
	w.problem(t, r)
	if after := w.scalar(`SELECT count(*) FROM concerns`); after != before {
		t.Fatalf("a refused write stored a concern: %d -> %d", before, after)
	}
	if r := w.do(w.token("teacher.s1"), "GET", path, nil); r.status != 200 {
		t.Fatalf("reads go on: %d", r.status)
	}
	if r := w.do(w.token("counselor.s1"), "PUT", "/api/v1/me/notification-settings", map[string]any{"email": nil, "enabled": false}); r.status == 429 {
		t.Fatalf("another user shares the budget")
	}
}

// A NUL byte or invalid UTF-8 in the address, or a NUL character in a JSON body, is never
// text Xinqiao keeps: 400 problem+json before any handler runs, nothing stored (found by
// TestOpenAPIRandomRequests: PostgreSQL refuses NUL in text and the answer was a 500).
func TestNonTextInputIsMalformed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	base := "/api/v1/schools/" + own.school.String()
	teacher, counselor := w.token("teacher.s1"), w.token("counselor.s1")
	before := w.scalar(`SELECT count(*) FROM concerns`)
	cases := []struct {
		name, token, method, path string
		body                      any
	}{
		{"NUL in a search term", counselor, "GET", base + "/library?q=%00", nil},
		{"NUL in a cursor", counselor, "GET", base + "/students?cursor=a%00b", nil},
		{"invalid UTF-8 in a search term", counselor, "GET", base + "/students?q=%ff%fe", nil},
		{"NUL in a path segment", counselor, "GET", base + "/case-files/%00", nil},
		{"NUL in a JSON string", teacher, "POST", base + "/concerns", map[string]any{"student_id": own.student, "urgency": "soon", "observation": "a\x00b"}},
	}
	for _, c := range cases {
		r := w.do(c.token, c.method, c.path, c.body)
		if r.status != 400 {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); p.Type != "urn:xinqiao:problem:malformed" {
			t.Errorf("%s: problem %+v", c.name, p)
		}
	}
	if after := w.scalar(`SELECT count(*) FROM concerns`); after != before {
		t.Errorf("concerns %d → %d: a refused request stored something", before, after)
	}
}

// A number beyond its column's range is a 422 naming the field, not a database error (found
// by TestOpenAPIRandomRequests: an org unit's position above 2^31 answered 500).
func TestOrgUnitPositionOutOfRangeIs422(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	leader := w.token("leader.s1")
	path := "/api/v1/schools/" + own.school.String() + "/org-units/" + own.homeroom.String()
	for _, pos := range []int64{-1, 100_001, 1 << 40} {
		r := w.do(leader, "PATCH", path, map[string]any{"position": pos})
		if r.status != 422 {
			t.Errorf("position %d: %d %s", pos, r.status, r.body)
			continue
		}
		if p := w.problem(t, r); len(p.Errors) != 1 || p.Errors[0].Field != "position" {
			t.Errorf("position %d: problem %+v", pos, p)
		}
	}
	if r := w.do(leader, "PATCH", path, map[string]any{"position": 7}); r.status != 200 {
		t.Errorf("position 7: %d %s", r.status, r.body)
	}
}
