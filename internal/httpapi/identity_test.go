package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp/totp"

	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/identity"
)

// mfaClock gives the world's identity service its own clock (the screening clock of
// other tests is not touched) and returns it.
func (w *world) mfaClock() *testClock {
	c := &testClock{}
	w.identity.Now = c.Now
	return c
}

// requireMFA turns the district's MFA requirement on or off as its administrator.
func (w *world) requireMFA(t *testing.T, on bool) {
	t.Helper()
	r := w.do(w.token("district.admin"), "PUT", "/api/v1/districts/"+w.district.String()+"/security-settings",
		map[string]any{"mfa_required": on})
	if r.status != 200 {
		t.Fatalf("security settings: %d %s", r.status, r.body)
	}
}

type enrolled struct {
	secret   string
	recovery []string
	token    string
}

// enrol logs username in with the password (MFA not yet set up) and enrols it, computing
// the first code from the secret the API shows.
func (w *world) enrol(t *testing.T, username string, clk *testClock) enrolled {
	t.Helper()
	tok := w.login(username)
	r := w.do(tok, "POST", "/api/v1/me/mfa/enrolment", nil)
	if r.status != 201 {
		t.Fatalf("start enrolment: %d %s", r.status, r.body)
	}
	var e identity.Enrolment
	r.decode(t, &e)
	if e.Secret == "" || !strings.HasPrefix(e.OTPAuthURI, "otpauth://totp/") || !strings.HasPrefix(e.QRCodePNG, "data:image/png;base64,") {
		t.Fatalf("enrolment: %s", r.body)
	}
	code, _ := totp.GenerateCode(e.Secret, clk.Now())
	r = w.do(tok, "POST", "/api/v1/me/mfa/enrolment/confirm", map[string]string{"code": code})
	if r.status != 200 {
		t.Fatalf("confirm enrolment: %d %s", r.status, r.body)
	}
	var rc identity.RecoveryCodes
	r.decode(t, &rc)
	if len(rc.Codes) != identity.RecoveryCodeCount {
		t.Fatalf("want %d recovery codes, got %s", identity.RecoveryCodeCount, r.body)
	}
	return enrolled{secret: e.Secret, recovery: rc.Codes, token: tok}
}

func (w *world) passwordStep(t *testing.T, username string) identity.Login {
	t.Helper()
	r := w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": demo.Password})
	if r.status != 200 {
		t.Fatalf("login %s: %d %s", username, r.status, r.body)
	}
	var l identity.Login
	r.decode(t, &l)
	return l
}

func TestMFARequiredRolesMustEnrolBeforeAnythingElse(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := w.mfaClock()
	w.requireMFA(t, true)
	school := w.schools["s1"].String()

	l := w.passwordStep(t, "counselor.s1")
	if !l.EnrolmentRequired || l.MFARequired || l.Token == "" {
		t.Fatalf("a counselor without MFA must be in the enrolment stage: %+v", l)
	}
	if r := w.do(l.Token, "GET", "/api/v1/schools/"+school+"/case-files", nil); r.status != 403 {
		t.Fatalf("only enrolment routes work before enrolment: got %d %s", r.status, r.body)
	} else if p := w.problem(t, r); !strings.Contains(p.Detail, "multi-factor") {
		t.Fatalf("problem: %s", r.body)
	}
	r := w.do(l.Token, "GET", "/api/v1/me", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"mfa_enrolment_required":true`) {
		t.Fatalf("me in the enrolment stage: %d %s", r.status, r.body)
	}
	r = w.do(l.Token, "POST", "/api/v1/me/mfa/enrolment", nil)
	var e identity.Enrolment
	r.decode(t, &e)
	// A wrong code is refused and confirms nothing.
	for _, bad := range []any{map[string]string{"code": "12345"}, map[string]string{"code": "abcdef"}, []byte(`{"code": 1}`), []byte(`[]`)} {
		if r := w.do(l.Token, "POST", "/api/v1/me/mfa/enrolment/confirm", bad); r.status < 400 || r.status >= 500 {
			t.Fatalf("bad code %v: %d", bad, r.status)
		} else {
			w.problem(t, r)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM user_mfa WHERE confirmed_at IS NOT NULL`); n != 0 {
		t.Fatalf("a refused confirmation stored %d enrolments", n)
	}
	// The secret is sealed at rest: the base32 secret is nowhere in the row.
	if n := w.scalar(`SELECT count(*) FROM user_mfa WHERE position(convert_to($1, 'UTF8') in secret_sealed) > 0`, e.Secret); n != 0 {
		t.Fatal("the TOTP secret is stored in clear")
	}
	code, _ := totp.GenerateCode(e.Secret, clk.Now())
	r = w.do(l.Token, "POST", "/api/v1/me/mfa/enrolment/confirm", map[string]string{"code": code})
	if r.status != 200 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	if r := w.do(l.Token, "GET", "/api/v1/schools/"+school+"/case-files", nil); r.status != 200 {
		t.Fatalf("after enrolment the session is a full one: %d %s", r.status, r.body)
	}
	if n := w.scalar(`SELECT count(*) FROM user_recovery_codes WHERE used_at IS NULL`); n != 10 {
		t.Fatalf("want 10 recovery codes stored, got %d", n)
	}
	// Roles for which MFA is optional log in with the password alone.
	if l := w.passwordStep(t, "teacher.s1"); l.EnrolmentRequired || l.MFARequired || l.Token == "" {
		t.Fatalf("a homeroom teacher needs no MFA: %+v", l)
	}
	// District roles and school leaders must enrol too.
	for _, u := range []string{"district.admin", "district.supervisor", "researcher", "leader.s1"} {
		if l := w.passwordStep(t, u); !l.EnrolmentRequired {
			t.Fatalf("%s must enrol", u)
		}
	}
	// With the requirement off nobody is forced.
	w.requireMFA(t, false)
	if l := w.passwordStep(t, "leader.s1"); l.EnrolmentRequired || l.Token == "" {
		t.Fatalf("requirement off: %+v", l)
	}
}

func TestMFATwoStepLoginRefusesReplayAndUsesRecoveryCodesOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := w.mfaClock()
	en := w.enrol(t, "counselor.s1", clk)

	second := func(body map[string]string) response {
		return w.do("", "POST", "/api/v1/auth/login/mfa", body)
	}
	l := w.passwordStep(t, "counselor.s1")
	if !l.MFARequired || l.Token != "" || l.Challenge == "" {
		t.Fatalf("an enrolled user gets a challenge, not a session: %+v", l)
	}
	if r := w.do(l.Challenge, "GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("a challenge is no session: %d", r.status)
	}
	if r := second(map[string]string{"challenge": l.Challenge, "code": "000000"}); r.status != 401 {
		t.Fatalf("wrong code: %d %s", r.status, r.body)
	}
	clk.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(en.secret, clk.Now())
	r := second(map[string]string{"challenge": l.Challenge, "code": code})
	if r.status != 200 {
		t.Fatalf("second step: %d %s", r.status, r.body)
	}
	var full identity.Login
	r.decode(t, &full)
	if full.Token == "" || full.MFARequired {
		t.Fatalf("second step: %s", r.body)
	}
	if r := w.do(full.Token, "GET", "/api/v1/me", nil); r.status != 200 {
		t.Fatalf("full session: %d", r.status)
	}
	// The challenge is single-use.
	if r := second(map[string]string{"challenge": l.Challenge, "code": code}); r.status != 401 {
		t.Fatalf("challenge reused: %d", r.status)
	}
	// The same code in the same step window, with a fresh challenge: refused.
	l2 := w.passwordStep(t, "counselor.s1")
	if r := second(map[string]string{"challenge": l2.Challenge, "code": code}); r.status != 401 {
		t.Fatalf("replayed TOTP code accepted: %d %s", r.status, r.body)
	}
	// A recovery code works once, in any spelling.
	rc := strings.ToUpper(strings.ReplaceAll(en.recovery[3], "-", " "))
	if r := second(map[string]string{"challenge": l2.Challenge, "recovery_code": rc}); r.status != 200 {
		t.Fatalf("recovery code: %d %s", r.status, r.body)
	}
	l3 := w.passwordStep(t, "counselor.s1")
	if r := second(map[string]string{"challenge": l3.Challenge, "recovery_code": en.recovery[3]}); r.status != 401 {
		t.Fatalf("a used recovery code must be refused: %d", r.status)
	}
	if n := w.scalar(`SELECT count(*) FROM user_recovery_codes WHERE used_at IS NOT NULL`); n != 1 {
		t.Fatalf("want 1 used recovery code, got %d", n)
	}
	// Codes are stored hashed only.
	if n := w.scalar(`SELECT count(*) FROM user_recovery_codes WHERE position(convert_to($1, 'UTF8') in code_hash) > 0`, en.recovery[0]); n != 0 {
		t.Fatal("a recovery code is stored in clear")
	}
	// Bad input: problem+json, no session.
	before := w.scalar(`SELECT count(*) FROM sessions WHERE stage = 'active'`)
	for _, body := range []any{[]byte(`{`), map[string]string{"challenge": l3.Challenge}, map[string]string{"challenge": l3.Challenge, "code": "1", "recovery_code": "x"},
		map[string]string{"challenge": l3.Challenge, "code": strings.Repeat("1", 100)}, map[string]any{"challenge": 5}} {
		r := w.do("", "POST", "/api/v1/auth/login/mfa", body)
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("bad body %v: %d", body, r.status)
		}
		w.problem(t, r)
	}
	if after := w.scalar(`SELECT count(*) FROM sessions WHERE stage = 'active'`); after != before {
		t.Fatal("bad input opened a session")
	}
	if w.auditCount("auth.mfa", "allowed") != 2 || w.auditCount("auth.mfa", "denied") < 3 {
		t.Fatalf("second steps are audited: %d allowed, %d denied", w.auditCount("auth.mfa", "allowed"), w.auditCount("auth.mfa", "denied"))
	}
}

func TestMFASecondStepIsThrottled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := w.mfaClock()
	en := w.enrol(t, "leader.s1", clk)
	w.identity.Throttle = identity.Throttle{UserLimit: 3, IPLimit: 100, Window: time.Minute, Lockout: time.Minute}
	l := w.passwordStep(t, "leader.s1")
	for i := 0; i < 3; i++ {
		w.do("", "POST", "/api/v1/auth/login/mfa", map[string]string{"challenge": l.Challenge, "code": "123456"})
	}
	clk.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(en.secret, clk.Now())
	if r := w.do("", "POST", "/api/v1/auth/login/mfa", map[string]string{"challenge": l.Challenge, "code": code}); r.status != 429 {
		t.Fatalf("a locked second step must answer 429 even with the right code, got %d %s", r.status, r.body)
	}
}

func TestMFAChallengeCookieCarriesTheSecondStep(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := w.mfaClock()
	en := w.enrol(t, "counselor.s1", clk)
	r := w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": "counselor.s1", "password": demo.Password})
	var mfa *http.Cookie
	for _, c := range r.cookies {
		if c.Name == "xq_session" {
			t.Fatal("no session cookie before the second factor")
		}
		if c.Name == "xq_mfa" {
			mfa = c
		}
	}
	if mfa == nil || !mfa.HttpOnly {
		t.Fatalf("challenge cookie: %+v", r.cookies)
	}
	clk.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(en.secret, clk.Now())
	req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/auth/login/mfa", strings.NewReader(`{"code":"`+code+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(mfa)
	res := w.send(req)
	if res.status != 200 {
		t.Fatalf("second step by cookie: %d %s", res.status, res.body)
	}
	found := false
	for _, c := range res.cookies {
		found = found || (c.Name == "xq_session" && c.Value != "")
	}
	if !found {
		t.Fatal("the second step sets the session cookie")
	}
}

func TestAdminResetsMFAAndRevokesSessions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := w.mfaClock()
	en := w.enrol(t, "counselor.s1", clk)
	user := w.id(`SELECT id FROM users WHERE username = 'counselor.s1'`)
	d := "/api/v1/districts/" + w.district.String()
	admin := w.token("district.admin")
	// The users list shows who enrolled.
	r := w.do(admin, "POST", d+"/users/search", map[string]any{"q": "counselor.s1"})
	if !strings.Contains(string(r.body), `"mfa_enrolled":true`) {
		t.Fatalf("users list: %s", r.body)
	}
	// Foreign and unknown users are not found; nothing is reset.
	foreign := w.id(`SELECT id FROM users WHERE username = 'd2.counselor.s1'`)
	for _, id := range []uuid.UUID{foreign, uuid.New()} {
		if r := w.do(admin, "DELETE", d+"/users/"+id.String()+"/mfa", nil); r.status != 404 {
			t.Fatalf("reset of a foreign user: %d", r.status)
		}
	}
	if r := w.do(w.token("district.supervisor"), "DELETE", d+"/users/"+user.String()+"/mfa", nil); r.status != 403 {
		t.Fatalf("only administrators reset: %d", r.status)
	}
	if r := w.do(admin, "DELETE", d+"/users/"+user.String()+"/mfa", nil); r.status != 204 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if r := w.do(en.token, "GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("a reset revokes the user's sessions: %d", r.status)
	}
	if n := w.scalar(`SELECT count(*) FROM user_mfa WHERE user_id = $1`, user) + w.scalar(`SELECT count(*) FROM user_recovery_codes WHERE user_id = $1`, user); n != 0 {
		t.Fatal("the reset left secrets behind")
	}
	if w.auditCount("users.mfa_reset", "allowed") != 1 {
		t.Fatal("the reset is audited")
	}
	if l := w.passwordStep(t, "counselor.s1"); l.MFARequired || l.Token == "" {
		t.Fatalf("after a reset the password alone works again (requirement off): %+v", l)
	}
}

func TestSessionIdleTimeoutAndAbsoluteLifetime(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := w.mfaClock()
	w.identity.IdleTimeout = 30 * time.Minute // fixture: SessionTTL 1h
	tok := w.login("counselor.s1")
	me := func() int { return w.do(tok, "GET", "/api/v1/me", nil).status }
	clk.Advance(29 * time.Minute)
	if s := me(); s != 200 {
		t.Fatalf("29 minutes idle: %d", s)
	}
	clk.Advance(29 * time.Minute)
	if s := me(); s != 200 {
		t.Fatalf("use keeps a session alive: %d", s)
	}
	clk.Advance(31 * time.Minute)
	if s := me(); s != 401 {
		t.Fatalf("31 minutes idle must end the session: %d", s)
	}
	tok = w.login("counselor.s1")
	for i := 0; i < 2; i++ {
		clk.Advance(20 * time.Minute)
		if s := me(); s != 200 {
			t.Fatalf("active session at %d min: %d", (i+1)*20, s)
		}
	}
	clk.Advance(25 * time.Minute) // 65 minutes after login, 25 idle: the 1 h lifetime ends it
	if s := me(); s != 401 {
		t.Fatalf("past the absolute lifetime a used session ends too: %d", s)
	}
}

func TestUsersListAndRevokeTheirSessions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.login("counselor.s1")
	b := w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": "counselor.s1", "password": demo.Password}, "User-Agent", "Phone/1.0")
	var lb identity.Login
	b.decode(t, &lb)
	r := w.do(a, "GET", "/api/v1/me/sessions", nil)
	var list struct {
		Items []identity.SessionInfo `json:"items"`
	}
	r.decode(t, &list)
	if r.status != 200 || len(list.Items) != 2 {
		t.Fatalf("my sessions: %d %s", r.status, r.body)
	}
	var other uuid.UUID
	for _, s := range list.Items {
		if !s.Current {
			other = s.ID
			if s.UserAgent != "Phone/1.0" || s.ClientIP == "" {
				t.Fatalf("session details: %+v", s)
			}
		}
	}
	// Nobody revokes another user's session: not found.
	if r := w.do(w.token("teacher.s1"), "DELETE", "/api/v1/me/sessions/"+other.String(), nil); r.status != 404 {
		t.Fatalf("revoking someone else's session: %d", r.status)
	}
	if r := w.do(lb.Token, "GET", "/api/v1/me", nil); r.status != 200 {
		t.Fatal("the session survived the foreign attempt")
	}
	if r := w.do(a, "DELETE", "/api/v1/me/sessions/"+other.String(), nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := w.do(lb.Token, "GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("revoked session still works: %d", r.status)
	}
	// Administrators list and revoke a user's sessions in their district only.
	user := w.id(`SELECT id FROM users WHERE username = 'counselor.s1'`)
	d := "/api/v1/districts/" + w.district.String()
	admin := w.token("district.admin")
	r = w.do(admin, "GET", d+"/users/"+user.String()+"/sessions", nil)
	r.decode(t, &list)
	if r.status != 200 || len(list.Items) != 1 {
		t.Fatalf("admin list: %d %s", r.status, r.body)
	}
	foreign := w.id(`SELECT id FROM users WHERE username = 'd2.counselor.s1'`)
	w.login("d2.counselor.s1")
	if r := w.do(admin, "GET", d+"/users/"+foreign.String()+"/sessions", nil); r.status != 404 {
		t.Fatalf("a foreign user's sessions: %d %s", r.status, r.body)
	}
	if r := w.do(admin, "DELETE", d+"/users/"+user.String()+"/sessions", nil); r.status != 204 {
		t.Fatalf("admin revoke: %d", r.status)
	}
	if r := w.do(a, "GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatal("admin revocation did not end the session")
	}
	if w.auditCount("users.sessions_revoke", "allowed") != 1 {
		t.Fatal("the revocation is audited")
	}
}

func TestPasswordChangeRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.login("teacher.s1"), w.login("teacher.s1")
	const newPassword = "a-brand-new-password"
	hash := func() int {
		return w.scalar(`SELECT hashtext(password_hash) FROM users WHERE username = 'teacher.s1'`)
	}
	before := hash()
	for _, c := range []struct {
		body any
		want int
	}{
		{map[string]string{"current_password": "wrong-password-here", "new_password": newPassword}, 403},
		{map[string]string{"current_password": demo.Password, "new_password": "short"}, 422},
		{[]byte(`{"current_password": 1}`), 422},
		{[]byte(`{`), 400},
	} {
		r := w.do(a, "POST", "/api/v1/me/password", c.body)
		if r.status != c.want {
			t.Fatalf("%v: want %d, got %d %s", c.body, c.want, r.status, r.body)
		}
		w.problem(t, r)
	}
	if hash() != before {
		t.Fatal("a refused change stored a password")
	}
	if r := w.do(a, "POST", "/api/v1/me/password", map[string]string{"current_password": demo.Password, "new_password": newPassword}); r.status != 204 {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	if r := w.do(b, "GET", "/api/v1/me", nil); r.status != 401 {
		t.Fatalf("other sessions end with a password change: %d", r.status)
	}
	if r := w.do(a, "GET", "/api/v1/me", nil); r.status != 200 {
		t.Fatalf("the current session stays: %d", r.status)
	}
	if r := w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": "teacher.s1", "password": newPassword}); r.status != 200 {
		t.Fatalf("login with the new password: %d", r.status)
	}
}

func TestSecuritySettingsBadInputStoresNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	d := "/api/v1/districts/" + w.district.String() + "/security-settings"
	admin := w.token("district.admin")
	before := w.scalar(`SELECT count(*) FROM district_security_settings WHERE mfa_required`)
	for _, body := range []any{
		map[string]any{"mfa_required": true, "oidc_enabled": true},
		map[string]any{"mfa_required": true, "oidc_claim": "name"},
		map[string]any{"mfa_required": true, "oidc_issuer": "ftp://x"},
		map[string]any{"mfa_required": true, "oidc_client_secret_env": "lower-case"},
		map[string]any{"mfa_required": "yes"},
		[]byte(`{"mfa_required": true, "extra": 1}`),
	} {
		r := w.do(admin, "PUT", d, body)
		if r.status != 422 && r.status != 400 {
			t.Fatalf("%v: %d %s", body, r.status, r.body)
		}
		w.problem(t, r)
	}
	if after := w.scalar(`SELECT count(*) FROM district_security_settings WHERE mfa_required`); after != before {
		t.Fatal("a refused change was stored")
	}
	r := w.do(admin, "GET", d, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"mfa_required":false`) {
		t.Fatalf("the demo district keeps MFA optional: %s", r.body)
	}
	// A district that never saved settings requires MFA.
	w.ownerQuery(func(tx pgx.Tx) {
		if _, err := tx.Exec(context.Background(), `DELETE FROM district_security_settings WHERE district_id = $1`, w.district); err != nil {
			t.Fatal(err)
		}
		tx.Commit(context.Background())
	})
	r = w.do(admin, "GET", d, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"mfa_required":true`) {
		t.Fatalf("default settings: %s", r.body)
	}
	if l := w.passwordStep(t, "counselor.s1"); !l.EnrolmentRequired {
		t.Fatalf("by default counselors must enrol: %+v", l)
	}
}
