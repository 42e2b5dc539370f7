package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/xinqiao/xinqiao/internal/httpapi"
)

// Every response carries the security headers; API responses are never cached; the web
// UI falls back to index.html for client-side routes, but /api paths never do.
func TestSecurityHeadersAndSPAFallback(t *testing.T) {
	t.Parallel()
	ui := fstest.MapFS{
		"index.html":    {Data: []byte(`<!doctype html><div id="root"></div><script type="module" src="/assets/app.js"></script>`)},
		"assets/app.js": {Data: []byte(`console.log(1)`)},
	}
	srv := &httpapi.Server{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), UI: ui,
		Ready: map[string]func(context.Context) error{"postgres": func(context.Context) error { return nil }}}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, path := range []string{"/", "/students", "/api/v1/nope", "/healthz"} {
		resp, _ := get(path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing security headers %v", path, h)
		}
		if h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: CORS must be closed", path)
		}
	}
	if resp, body := get("/students"); resp.StatusCode != 200 || !strings.Contains(body, `id="root"`) {
		t.Fatalf("client route: %d", resp.StatusCode)
	}
	if resp, _ := get("/assets/app.js"); !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("hashed assets are cached long: %q", resp.Header.Get("Cache-Control"))
	}
	resp, body := get("/api/v1/nope")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("unknown API path: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	req, _ := http.NewRequest("PUT", ts.URL+"/healthz", nil)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 405 {
		t.Fatalf("wrong method: %d", r2.StatusCode)
	}
}
