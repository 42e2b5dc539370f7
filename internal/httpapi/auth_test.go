package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/identity"
)

func TestLoginAndMe(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.token("counselor.s1")
	res := w.do(tok, "GET", "/api/v1/me", nil)
	if res.status != 200 {
		t.Fatalf("me: %d %s", res.status, res.body)
	}
	var me struct {
		User struct {
			Username string `json:"username"`
		} `json:"user"`
		Memberships []struct {
			Role       string  `json:"role"`
			SchoolName *string `json:"school_name"`
		} `json:"memberships"`
	}
	res.decode(t, &me)
	if me.User.Username != "counselor.s1" || len(me.Memberships) != 1 || me.Memberships[0].Role != "counselor" ||
		me.Memberships[0].SchoolName == nil || *me.Memberships[0].SchoolName != "示范区第一中学" {
		t.Fatalf("unexpected me: %s", res.body)
	}
	if res.header.Get("X-Request-Id") == "" || res.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("missing headers: %v", res.header)
	}
}

func TestLoginFailuresAreGenericAndThrottled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.identity.Throttle = identity.Throttle{UserLimit: 3, IPLimit: 100, Window: time.Minute, Lockout: time.Minute}
	bad := func(user, pw string) response {
		return w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": pw})
	}
	unknown := bad("nobody.here", "whatever-password")
	wrong := bad("leader.s1", "wrong-password!!")
	for _, r := range []response{unknown, wrong} {
		p := w.problem(t, r)
		if r.status != 401 || p.Detail != "invalid username or password" {
			t.Fatalf("want generic 401, got %d %s", r.status, r.body)
		}
	}
	bad("leader.s1", "wrong-password!!")
	bad("leader.s1", "wrong-password!!") // third failure: locked
	if r := bad("leader.s1", demo.Password); r.status != 429 {
		t.Fatalf("a locked user must get 429 even with the right password, got %d %s", r.status, r.body)
	}
	if r := bad("leader.s2", demo.Password); r.status != 200 {
		t.Fatalf("other users are not locked: %d %s", r.status, r.body)
	}
	if n := w.auditCount("auth.login", "denied"); n != 5 {
		t.Fatalf("want 5 denied login audit rows, got %d", n)
	}
	// The unknown username is not stored: it may be a password typed in the wrong box.
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE actor_username = 'nobody.here'`); n != 0 {
		t.Fatalf("unknown usernames must not be recorded")
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.identity.Throttle = identity.Throttle{UserLimit: 100, IPLimit: 4, Window: time.Minute, Lockout: time.Minute}
	for _, u := range []string{"a.user", "b.user", "c.user", "d.user"} {
		w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": u, "password": "x-wrong-password"})
	}
	r := w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": "leader.s1", "password": demo.Password})
	if r.status != 429 {
		t.Fatalf("address is locked after 4 failures; got %d", r.status)
	}
}

func TestTokenExpiryAndRevocation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.login("counselor.s1")
	if r := w.do(tok, "GET", "/api/v1/me", nil); r.status != 200 {
		t.Fatalf("fresh token: %d", r.status)
	}
	if r := w.do(tok, "POST", "/api/v1/auth/logout", nil); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if r := w.do(tok, "GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("revoked token must fail, got %d", r.status)
	}
	tok2 := w.login("counselor.s1")
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, identity.HashToken(tok2)); err != nil {
			t.Fatal(err)
		}
		tx.Commit(context.Background())
	})
	r := w.do(tok2, "GET", "/api/v1/me", nil)
	if r.status != 401 {
		t.Fatalf("expired token must fail, got %d", r.status)
	}
	w.problem(t, r)
	for _, forged := range []string{"forged-token", strings.Repeat("x", 500), tok + "x"} {
		if r := w.do(forged, "GET", "/api/v1/me", nil); r.status != 401 {
			t.Fatalf("forged token %q: %d", forged[:5], r.status)
		}
	}
	if n := w.auditCount("me", "denied"); n != 5 {
		t.Fatalf("each refused token is audited once: want 5, got %d", n)
	}
}

func TestCookieSessionNeedsCSRF(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": "leader.s1", "password": demo.Password})
	var session, csrf *http.Cookie
	for _, c := range res.cookies {
		switch c.Name {
		case "xq_session":
			session = c
		case "xq_csrf":
			csrf = c
		}
	}
	if session == nil || csrf == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || csrf.HttpOnly {
		t.Fatalf("cookies not set as expected: %+v", res.cookies)
	}
	school := w.schools["s1"].String()
	req := func(method, path string, body string, withCSRF bool) response {
		r, _ := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
		r.AddCookie(session)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if withCSRF {
			r.Header.Set("X-CSRF-Token", csrf.Value)
		}
		return w.send(r)
	}
	if r := req("GET", "/api/v1/schools/"+school+"/org-units", "", false); r.status != 200 {
		t.Fatalf("a cookie GET needs no CSRF token: %d", r.status)
	}
	body := `{"kind":"grade","name":"CSRF年级"}`
	if r := req("POST", "/api/v1/schools/"+school+"/org-units", body, false); r.status != 403 {
		t.Fatalf("a cookie POST without CSRF token must be refused, got %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM org_units WHERE name = 'CSRF年级'`); n != 0 {
		t.Fatal("the refused request wrote")
	}
	if r := req("POST", "/api/v1/schools/"+school+"/org-units", body, true); r.status != 201 {
		t.Fatalf("with CSRF token: %d %s", r.status, r.body)
	}
	if r := req("POST", "/api/v1/auth/logout", "", true); r.status != 204 {
		t.Fatalf("logout: %d", r.status)
	}
	if r := req("GET", "/api/v1/me", "", false); r.status != 401 {
		t.Fatalf("after logout the cookie is dead: %d", r.status)
	}
}
