package httpapi_test

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/identity"
)

// A user switches off the own second factor only where the district does not require it
// for the user's roles, with the password and a current code; wrong input changes
// nothing.
func TestUserDisablesOwnMFAOnlyWhereTheDistrictAllows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := w.mfaClock()
	teacher := w.enrol(t, "teacher.s1", clk)     // homeroom teacher: MFA optional
	counselor := w.enrol(t, "counselor.s1", clk) // counselor: required once the district says so
	w.requireMFA(t, true)
	disable := func(tok string, body map[string]string) response {
		return w.do(tok, "POST", "/api/v1/me/mfa/disable", body)
	}
	status := func(tok string) identity.MFAStatus {
		var st identity.MFAStatus
		w.do(tok, "GET", "/api/v1/me/mfa", nil).decode(t, &st)
		return st
	}
	clk.Advance(30 * time.Second)
	code := func(secret string) string { c, _ := totp.GenerateCode(secret, clk.Now()); return c }

	// The district requires it for counselors: refused even with the right factors.
	if r := disable(counselor.token, map[string]string{"password": demo.Password, "code": code(counselor.secret)}); r.status != 403 {
		t.Fatalf("counselor with MFA required: %d %s", r.status, r.body)
	}
	if !status(counselor.token).Enrolled {
		t.Fatal("the counselor's MFA must stay")
	}
	for _, c := range []struct {
		name   string
		body   map[string]string
		status int
	}{
		{"no password", map[string]string{"code": code(teacher.secret)}, 422},
		{"a code that is not six digits", map[string]string{"password": demo.Password, "code": "abc"}, 422},
		{"a wrong password", map[string]string{"password": "not-the-password", "code": code(teacher.secret)}, 403},
		{"a wrong code", map[string]string{"password": demo.Password, "code": "000000"}, 403},
		{"a recovery code instead of the app's code", map[string]string{"password": demo.Password, "code": teacher.recovery[0]}, 422},
	} {
		if r := disable(teacher.token, c.body); r.status != c.status {
			t.Fatalf("%s: want %d, got %d %s", c.name, c.status, r.status, r.body)
		}
		if !status(teacher.token).Enrolled {
			t.Fatalf("%s switched MFA off", c.name)
		}
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'auth.mfa_disable' AND outcome = 'denied'`); n != 1 {
		t.Fatalf("the wrong code is audited once: %d", n)
	}
	clk.Advance(30 * time.Second)
	if r := disable(teacher.token, map[string]string{"password": demo.Password, "code": code(teacher.secret)}); r.status != 204 {
		t.Fatalf("teacher switches MFA off: %d %s", r.status, r.body)
	}
	if st := status(teacher.token); st.Enrolled || st.RecoveryCodesLeft != 0 {
		t.Fatalf("after switching off: %+v", st)
	}
	if n := w.scalar(`SELECT count(*) FROM audit_log WHERE action = 'auth.mfa_disabled' AND outcome = 'allowed'`); n != 1 {
		t.Fatalf("switching off is audited: %d", n)
	}
	// The password alone signs in again; switching off twice is a conflict.
	if l := w.passwordStep(t, "teacher.s1"); l.MFARequired || l.Token == "" {
		t.Fatalf("after switching off the password is enough: %+v", l)
	}
	if r := disable(teacher.token, map[string]string{"password": demo.Password, "code": "123456"}); r.status != 409 {
		t.Fatalf("not enrolled: %d", r.status)
	}
}

// Emergency access re-authenticates with the TOTP code too when the user has MFA: the
// password alone is refused (422 on code), a wrong code is refused (403) and grants
// nothing; the right code opens the file.
func TestEmergencyAccessAsksForTheCodeWhenMFAIsEnrolled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	clk := w.mfaClock()
	own := w.target("s1")
	leader := w.enrol(t, "leader.s1", clk)
	path := emergencyPath(own.school, own.caseFile)
	r := w.do(leader.token, "POST", path, map[string]string{"reason": "学生失联", "password": demo.Password})
	if pr := w.problem(t, r); r.status != 422 || len(pr.Errors) == 0 || pr.Errors[0].Field != "code" {
		t.Fatalf("password only: %d %s", r.status, r.body)
	}
	if r := w.do(leader.token, "POST", path, map[string]string{"reason": "学生失联", "password": demo.Password, "code": "000000"}); r.status != 403 {
		t.Fatalf("a wrong code: %d %s", r.status, r.body)
	}
	clk.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(leader.secret, clk.Now())
	if r := w.do(leader.token, "POST", path, map[string]string{"reason": "学生失联", "password": "wrong-password", "code": code}); r.status != 403 {
		t.Fatalf("a wrong password with the right code: %d %s", r.status, r.body)
	}
	if n := w.grantCount(); n != 0 {
		t.Fatalf("refused requests granted %d", n)
	}
	if r := w.do(leader.token, "POST", path, map[string]string{"reason": "学生失联", "password": demo.Password, "code": code}); r.status != 201 {
		t.Fatalf("password and code: %d %s", r.status, r.body)
	}
	if n := w.grantCount(); n != 1 {
		t.Fatalf("granted %d", n)
	}
}
