package httpapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/pquerna/otp/totp"

	"github.com/xinqiao/xinqiao/internal/demo"
)

// testOIDCSecrets are the environment the test worlds' OIDC reads client secrets from.
var testOIDCSecrets = map[string]string{"XQ_TEST_OIDC_SECRET": "test-client-secret"}

// idp is a small in-process OpenID provider: discovery, authorization (it "logs in"
// whoever the test says), token endpoint with PKCE and client secret checks, JWKS.
type idp struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu    sync.Mutex
	next  map[string]any // claims of the next login
	codes map[string]grant
}

type grant struct {
	claims    map[string]any
	nonce     string
	challenge string
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{key: key, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := p.srv.URL
		json.NewEncoder(w).Encode(map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "xinqiao" || q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" {
			http.Error(w, "bad authorization request", 400)
			return
		}
		code := base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
		p.mu.Lock()
		p.codes[code] = grant{claims: p.next, nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		p.mu.Lock()
		g, found := p.codes[r.Form.Get("code")]
		delete(p.codes, r.Form.Get("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if id != "xinqiao" || secret != testOIDCSecrets["XQ_TEST_OIDC_SECRET"] || !found ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		claims := map[string]any{"iss": p.srv.URL, "aud": "xinqiao", "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(),
			"nonce": g.nonce}
		for k, v := range g.claims {
			claims[k] = v
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		payload, _ := json.Marshal(claims)
		jws, err := signer.Sign(payload)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		raw, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": raw})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// ssoLogin plays the browser: start at Xinqiao, follow the identity provider (which
// logs in claims), come back to the callback. It returns the callback's redirect target
// and cookies.
func (w *world) ssoLogin(t *testing.T, p *idp, claims map[string]any, tamper func(u *url.URL)) (string, []*http.Cookie) {
	t.Helper()
	p.mu.Lock()
	p.next = claims
	p.mu.Unlock()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(w.srv.URL + "/api/v1/auth/oidc/" + demo.DistrictCode + "/start")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 302 || !strings.HasPrefix(res.Header.Get("Location"), p.srv.URL+"/authorize?") {
		t.Fatalf("start: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	state := res.Cookies()
	res, err = client.Get(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cb, _ := url.Parse(res.Header.Get("Location"))
	if tamper != nil {
		tamper(cb)
	}
	req, _ := http.NewRequest("GET", cb.String(), nil)
	for _, c := range state {
		req.AddCookie(c)
	}
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 302 {
		t.Fatalf("callback: %d", res.StatusCode)
	}
	return res.Header.Get("Location"), res.Cookies()
}

func cookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}

func TestOIDCSingleSignOnMapsToExistingUsersOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := newIDP(t)
	d := "/api/v1/districts/" + w.district.String()
	admin := w.token("district.admin")
	// Before the district configures it, single sign-on does not exist.
	if r := w.do("", "GET", "/api/v1/auth/oidc/"+demo.DistrictCode+"/start", nil); r.status != 404 {
		t.Fatalf("sso before configuration: %d", r.status)
	}
	r := w.do(admin, "PUT", d+"/security-settings", map[string]any{"mfa_required": false, "oidc_enabled": true, "oidc_issuer": p.srv.URL,
		"oidc_client_id": "xinqiao", "oidc_client_secret_env": "XQ_TEST_OIDC_SECRET", "oidc_claim": "email"})
	if r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	counselor := w.id(`SELECT id FROM users WHERE username = 'counselor.s1'`)
	if r := w.do(admin, "PUT", d+"/users/"+counselor.String()+"/sso-id", map[string]any{"sso_id": "Counselor@School.example"}); r.status != 200 {
		t.Fatalf("sso id: %d %s", r.status, r.body)
	}
	// Duplicates, foreign users, bad input: refused, nothing stored.
	leader := w.id(`SELECT id FROM users WHERE username = 'leader.s1'`)
	if r := w.do(admin, "PUT", d+"/users/"+leader.String()+"/sso-id", map[string]any{"sso_id": "Counselor@School.example"}); r.status != 409 {
		t.Fatalf("duplicate sso id: %d %s", r.status, r.body)
	}
	foreign := w.id(`SELECT id FROM users WHERE username = 'd2.counselor.s1'`)
	if r := w.do(admin, "PUT", d+"/users/"+foreign.String()+"/sso-id", map[string]any{"sso_id": "x@y"}); r.status != 404 {
		t.Fatalf("foreign user: %d", r.status)
	}
	if r := w.do(admin, "PUT", d+"/users/"+leader.String()+"/sso-id", map[string]any{"sso_id": strings.Repeat("x", 300)}); r.status != 422 {
		t.Fatalf("long sso id: %d", r.status)
	}
	if n := w.scalar(`SELECT count(*) FROM users WHERE sso_id IS NOT NULL`); n != 1 {
		t.Fatalf("refused sso ids were stored: %d", n)
	}
	w.ownerQuery(func(tx pgxTx) {
		tx.Exec(bg(), `UPDATE users SET sso_id = lower(sso_id)`)
		tx.Commit(bg())
	})
	users := w.scalar(`SELECT count(*) FROM users`)

	// A verified e-mail of an existing user: a session, straight to the UI.
	loc, cs := w.ssoLogin(t, p, map[string]any{"sub": "idp-1", "email": "counselor@school.example", "email_verified": true}, nil)
	sess := cookie(cs, "xq_session")
	if loc != "/" || sess == nil {
		t.Fatalf("sso login: %s %v", loc, cs)
	}
	req, _ := http.NewRequest("GET", w.srv.URL+"/api/v1/me", nil)
	req.AddCookie(sess)
	if me := w.send(req); me.status != 200 || !strings.Contains(string(me.body), `"username":"counselor.s1"`) {
		t.Fatalf("me after sso: %d %s", me.status, me.body)
	}
	// Unknown, unverified, tampered: back to the login page, no session, nobody created.
	for name, c := range map[string]struct {
		claims map[string]any
		tamper func(*url.URL)
	}{
		"unknown user":     {map[string]any{"sub": "idp-2", "email": "stranger@school.example", "email_verified": true}, nil},
		"unverified email": {map[string]any{"sub": "idp-1", "email": "counselor@school.example", "email_verified": false}, nil},
		"no email":         {map[string]any{"sub": "idp-1"}, nil},
		"wrong state": {map[string]any{"sub": "idp-1", "email": "counselor@school.example", "email_verified": true}, func(u *url.URL) {
			q := u.Query()
			q.Set("state", "forged")
			u.RawQuery = q.Encode()
		}},
		"forged code": {map[string]any{"sub": "idp-1", "email": "counselor@school.example", "email_verified": true}, func(u *url.URL) {
			q := u.Query()
			q.Set("code", "forged")
			u.RawQuery = q.Encode()
		}},
	} {
		loc, cs := w.ssoLogin(t, p, c.claims, c.tamper)
		if loc != "/login?sso=failed" || cookie(cs, "xq_session") != nil {
			t.Errorf("%s: %s %v", name, loc, cs)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM users`); n != users {
		t.Fatal("single sign-on created a user")
	}
	if w.auditCount("auth.sso", "denied") < 3 {
		t.Fatalf("refused sso logins are audited: %d", w.auditCount("auth.sso", "denied"))
	}

	// MFA stays ours unless the district delegates it: an enrolled user gets the second step.
	clk := w.mfaClock()
	en := w.enrol(t, "counselor.s1", clk)
	loc, cs = w.ssoLogin(t, p, map[string]any{"sub": "idp-1", "email": "counselor@school.example", "email_verified": true}, nil)
	if loc != "/login?step=mfa" || cookie(cs, "xq_session") != nil || cookie(cs, "xq_mfa") == nil {
		t.Fatalf("sso with our MFA: %s %v", loc, cs)
	}
	clk.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(en.secret, clk.Now())
	req, _ = http.NewRequest("POST", w.srv.URL+"/api/v1/auth/login/mfa", strings.NewReader(`{"code":"`+code+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(cookie(cs, "xq_mfa"))
	if r := w.send(req); r.status != 200 {
		t.Fatalf("second step after sso: %d %s", r.status, r.body)
	}
	r = w.do(admin, "PUT", d+"/security-settings", map[string]any{"mfa_required": false, "oidc_enabled": true, "oidc_issuer": p.srv.URL,
		"oidc_client_id": "xinqiao", "oidc_client_secret_env": "XQ_TEST_OIDC_SECRET", "oidc_claim": "email", "oidc_mfa_delegated": true})
	if r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	loc, cs = w.ssoLogin(t, p, map[string]any{"sub": "idp-1", "email": "counselor@school.example", "email_verified": true}, nil)
	if loc != "/" || cookie(cs, "xq_session") == nil {
		t.Fatalf("sso with delegated MFA: %s %v", loc, cs)
	}

	// Mapping by subject.
	r = w.do(admin, "PUT", d+"/security-settings", map[string]any{"mfa_required": false, "oidc_enabled": true, "oidc_issuer": p.srv.URL,
		"oidc_client_id": "xinqiao", "oidc_client_secret_env": "XQ_TEST_OIDC_SECRET", "oidc_claim": "sub", "oidc_mfa_delegated": true})
	if r.status != 200 {
		t.Fatal(r.status)
	}
	teacher := w.id(`SELECT id FROM users WHERE username = 'teacher.s1'`)
	w.do(admin, "PUT", d+"/users/"+teacher.String()+"/sso-id", map[string]any{"sso_id": "idp-teacher"})
	loc, cs = w.ssoLogin(t, p, map[string]any{"sub": "idp-teacher"}, nil)
	req, _ = http.NewRequest("GET", w.srv.URL+"/api/v1/me", nil)
	if c := cookie(cs, "xq_session"); loc != "/" || c == nil {
		t.Fatalf("sso by sub: %s", loc)
	} else {
		req.AddCookie(c)
	}
	if me := w.send(req); !strings.Contains(string(me.body), `"username":"teacher.s1"`) {
		t.Fatalf("sso by sub logged in %s", me.body)
	}
}
