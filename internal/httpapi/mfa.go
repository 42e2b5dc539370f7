package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/identity"
)

// Cookies of the login's second step and of single sign-on.
const (
	// MFACookie carries the login challenge to the second step (HttpOnly, 5 minutes).
	MFACookie = "xq_mfa"
	// OIDCCookie keeps state, nonce and PKCE verifier between the redirect to the
	// identity provider and the callback.
	OIDCCookie = "xq_oidc"
)

// enrolmentRoutes are the only routes a session in the enrolment-required stage may use.
var enrolmentRoutes = map[string]bool{
	"GET /api/v1/me":                        true,
	"POST /api/v1/auth/logout":              true,
	"GET /api/v1/me/mfa":                    true,
	"POST /api/v1/me/mfa/enrolment":         true,
	"POST /api/v1/me/mfa/enrolment/confirm": true,
}

// errEnrolmentRequired refuses other routes until the user has enrolled in MFA.
var errEnrolmentRequired = fault.New(fault.Forbidden, "set up multi-factor authentication first")

// writeLogin answers a login step: a full or enrolment-stage session sets the session
// cookies; a challenge sets the second step's cookie only.
func (s *Server) writeLogin(cl *call, res identity.Login) {
	if res.MFARequired {
		http.SetCookie(cl.Writer, &http.Cookie{Name: MFACookie, Value: res.Challenge, Path: "/api/v1/auth/login", MaxAge: int(identity.ChallengeTTL.Seconds()),
			HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
		return
	}
	maxAge := int(time.Until(res.ExpiresAt).Seconds())
	s.setCookie(cl, SessionCookie, res.Token, maxAge, true)
	s.setCookie(cl, CSRFCookie, identity.CSRFToken(res.Token), maxAge, false)
	http.SetCookie(cl.Writer, &http.Cookie{Name: MFACookie, Value: "", Path: "/api/v1/auth/login", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies})
}

func (s *Server) loginSecondStep(cl *call) error {
	var in identity.SecondFactor
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	if in.Challenge == "" {
		if ck, err := cl.Cookie(MFACookie); err == nil {
			in.Challenge = ck
		}
	}
	res, err := s.Identity.CompleteLogin(cl, in, cl.Actor.ClientIP, cl.Request.UserAgent(), cl.Actor.RequestID)
	if err != nil {
		return err
	}
	s.writeLogin(cl, res)
	cl.JSON(http.StatusOK, res)
	return nil
}

func (s *Server) getMyMFA(cl *call) error {
	res, err := s.Identity.MFAStatus(cl, cl.Actor)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) startMFAEnrolment(cl *call) error {
	res, err := s.Identity.StartEnrolment(cl, cl.Actor)
	return respond(cl, http.StatusCreated, res, err)
}

type codeRequest struct {
	Code string `json:"code"`
}

func (s *Server) confirmMFAEnrolment(cl *call) error {
	var in codeRequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Identity.ConfirmEnrolment(cl, cl.Actor, cl.Principal.SessionID, in.Code)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) regenerateRecoveryCodes(cl *call) error {
	var in codeRequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Identity.RegenerateRecoveryCodes(cl, cl.Actor, in.Code)
	return respond(cl, http.StatusOK, res, err)
}

type disableMFARequest struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

// disableMFA switches off the user's own second factor where the district allows it.
func (s *Server) disableMFA(cl *call) error {
	var in disableMFARequest
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	if err := s.Identity.DisableMFA(cl, cl.Actor, cl.Principal.SessionID, in.Password, in.Code); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) resetUserMFA(cl *call) error {
	user, err := cl.pathID("userId")
	if err != nil {
		return err
	}
	if err := s.Identity.ResetMFA(cl, cl.Actor, cl.District, user); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) listMySessions(cl *call) error {
	res, err := s.Identity.MySessions(cl, cl.Actor, cl.Principal.SessionID)
	return respond(cl, http.StatusOK, map[string]any{"items": res}, err)
}

func (s *Server) revokeMySession(cl *call) error {
	id, err := cl.pathID("loginSessionId")
	if err != nil {
		return err
	}
	if err := s.Identity.RevokeMySession(cl, cl.Actor, id); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) changePassword(cl *call) error {
	var in identity.PasswordChange
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	if err := s.Identity.ChangePassword(cl, cl.Actor, cl.Principal.SessionID, in); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) listUserSessions(cl *call) error {
	user, err := cl.pathID("userId")
	if err != nil {
		return err
	}
	res, err := s.Identity.UserSessions(cl, cl.Actor, cl.District, user)
	return respond(cl, http.StatusOK, map[string]any{"items": res}, err)
}

func (s *Server) revokeUserSessions(cl *call) error {
	user, err := cl.pathID("userId")
	if err != nil {
		return err
	}
	if err := s.Identity.RevokeUserSessions(cl, cl.Actor, cl.District, user); err != nil {
		return err
	}
	cl.Status(http.StatusNoContent)
	return nil
}

func (s *Server) getSecuritySettings(cl *call) error {
	res, err := s.Identity.GetSecuritySettings(cl, cl.Actor, cl.District)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) saveSecuritySettings(cl *call) error {
	var in identity.SecuritySettings
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	in.UpdatedAt = nil
	res, err := s.Identity.SaveSecuritySettings(cl, cl.Actor, cl.District, in)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) setUserSSOID(cl *call) error {
	user, err := cl.pathID("userId")
	if err != nil {
		return err
	}
	var in identity.SSOIdentity
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Identity.SetSSOID(cl, cl.Actor, cl.District, user, in)
	return respond(cl, http.StatusOK, res, err)
}

// oidcCallbackURL is where the identity provider sends the browser back.
func (s *Server) oidcCallbackURL(cl *call) string {
	base := strings.TrimRight(s.PublicURL, "/")
	return base + "/api/v1/auth/oidc/" + url.PathEscape(cl.Param("districtCode")) + "/callback"
}

func (s *Server) startOIDC(cl *call) error {
	target, st, err := s.Identity.StartOIDC(cl, cl.Param("districtCode"), s.oidcCallbackURL(cl))
	if err != nil {
		return err
	}
	// Lax: the identity provider's redirect back is a cross-site top-level navigation.
	http.SetCookie(cl.Writer, &http.Cookie{Name: OIDCCookie, Value: st.Encode(), Path: "/api/v1/auth/oidc", MaxAge: 600,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	cl.Redirect(http.StatusFound, target)
	return nil
}

// finishOIDC ends in a redirect to the web UI: home, the second step, or the login page
// with an error flag (the reason is in the audit log, never in the URL).
func (s *Server) finishOIDC(cl *call) error {
	http.SetCookie(cl.Writer, &http.Cookie{Name: OIDCCookie, Value: "", Path: "/api/v1/auth/oidc", MaxAge: -1, HttpOnly: true, Secure: s.SecureCookies})
	ck, _ := cl.Cookie(OIDCCookie)
	st, ok := identity.DecodeOIDCState(ck)
	if !ok || cl.Query("state") != st.State || cl.Query("error") != "" {
		cl.Redirect(http.StatusFound, "/login?sso=failed")
		return nil
	}
	res, err := s.Identity.FinishOIDC(cl, cl.Param("districtCode"), s.oidcCallbackURL(cl), cl.Query("code"), st,
		cl.Actor.ClientIP, cl.Request.UserAgent(), cl.Actor.RequestID)
	if err != nil {
		if k := fault.KindOf(err); k == fault.Internal || k == fault.Unavailable {
			return err
		}
		cl.Redirect(http.StatusFound, "/login?sso=failed")
		return nil
	}
	s.writeLogin(cl, res)
	switch {
	case res.MFARequired:
		cl.Redirect(http.StatusFound, "/login?step=mfa")
	case res.EnrolmentRequired:
		cl.Redirect(http.StatusFound, "/mfa/enrol")
	default:
		cl.Redirect(http.StatusFound, "/")
	}
	return nil
}
