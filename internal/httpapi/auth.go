package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Cookie names of the web UI's session.
const (
	SessionCookie = "xq_session"
	CSRFCookie    = "xq_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// authenticate reads a bearer token or the session cookie. Cookie-authenticated
// requests that change state must echo the CSRF token bound to the session.
func (s *Server) authenticate(cl *call) error {
	token := ""
	if h := cl.GetHeader("Authorization"); h != "" {
		if !strings.HasPrefix(h, "Bearer ") {
			return fault.New(fault.Unauthenticated, "use a Bearer token")
		}
		token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if ck, err := cl.Cookie(SessionCookie); err == nil {
		token, cl.FromCookie = ck, true
	}
	p, err := s.Identity.Authenticate(cl, token)
	if err != nil {
		return err
	}
	if cl.FromCookie && !safeMethod(cl.Request.Method) {
		want := identity.CSRFToken(token)
		if subtle.ConstantTimeCompare([]byte(cl.GetHeader(CSRFHeader)), []byte(want)) != 1 {
			cl.Actor.UserID, cl.Actor.Username, cl.Actor.DistrictID, cl.Actor.Kind = p.UserID, p.Username, p.DistrictID, scope.User
			return fault.New(fault.Forbidden, "missing or wrong CSRF token")
		}
	}
	cl.Principal, cl.Token = p, token
	cl.Actor.UserID, cl.Actor.Username, cl.Actor.DistrictID = p.UserID, p.Username, p.DistrictID
	cl.Set("user_id", p.UserID.String())
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(cl *call) error {
	var req loginRequest
	if err := decodeJSON(cl.Context, &req); err != nil {
		return err
	}
	res, err := s.Identity.Login(cl, strings.ToLower(strings.TrimSpace(req.Username)), req.Password,
		cl.Actor.ClientIP, cl.Request.UserAgent(), cl.Actor.RequestID)
	if err != nil {
		return err
	}
	s.writeLogin(cl, res)
	cl.JSON(http.StatusOK, res)
	return nil
}

func (s *Server) setCookie(cl *call, name, value string, maxAge int, httpOnly bool) {
	http.SetCookie(cl.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (s *Server) logout(cl *call) error {
	if err := s.Identity.Logout(cl, cl.Actor, cl.Principal.SessionID); err != nil {
		return err
	}
	s.setCookie(cl, SessionCookie, "", -1, true)
	s.setCookie(cl, CSRFCookie, "", -1, false)
	cl.Status(http.StatusNoContent)
	return nil
}

type meResponse struct {
	User        identity.UserRef   `json:"user"`
	Memberships []scope.Membership `json:"memberships"`
	// MFAEnrolmentRequired: the session may only enrol in MFA (then log in fully).
	MFAEnrolmentRequired bool `json:"mfa_enrolment_required"`
}

func (s *Server) me(cl *call) error {
	p := cl.Principal
	ms := p.Memberships
	if ms == nil {
		ms = []scope.Membership{}
	}
	cl.JSON(http.StatusOK, meResponse{
		User:        identity.UserRef{ID: p.UserID, Username: p.Username, DisplayName: p.DisplayName, DistrictID: p.DistrictID},
		Memberships: ms, MFAEnrolmentRequired: p.Stage == "enrol",
	})
	return nil
}
