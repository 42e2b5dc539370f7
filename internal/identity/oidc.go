package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// OIDC runs OpenID Connect single sign-on for the districts that configured it. The
// verified claim (email or sub) must name an existing user of the district: nobody is
// ever created by a login.
type OIDC struct {
	// Getenv reads a district's client secret by the variable name it configured.
	Getenv func(string) string
	// HTTPClient reaches the identity providers (nil: a client with a 10 s timeout).
	HTTPClient *http.Client

	mu        sync.Mutex
	providers map[string]*oidc.Provider
}

// OIDCState is what the browser keeps (in a cookie) between the redirect to the
// identity provider and the callback.
type OIDCState struct {
	State, Nonce, Verifier string
}

// Encode joins the state for a cookie.
func (st OIDCState) Encode() string { return st.State + "." + st.Nonce + "." + st.Verifier }

// DecodeOIDCState splits a cookie value written by Encode.
func DecodeOIDCState(v string) (OIDCState, bool) {
	p := strings.Split(v, ".")
	if len(p) != 3 || p[0] == "" || p[1] == "" || len(p[2]) < 43 {
		return OIDCState{}, false
	}
	return OIDCState{p[0], p[1], p[2]}, true
}

// ErrSSONotAvailable answers a district without single sign-on, like an unknown one.
var ErrSSONotAvailable = fault.New(fault.NotFound, "single sign-on is not available for this district")

// ErrSSONoUser answers a verified identity that names no usable account.
var ErrSSONoUser = fault.New(fault.Unauthenticated, "no account of this district matches the identity provider's login")

type oidcConfig struct {
	district                    uuid.UUID
	issuer, clientID, secretEnv string
	claim                       string
	mfaDelegated                bool
}

func (o *OIDC) client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (o *OIDC) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p, ok := o.providers[issuer]; ok {
		return p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client()), issuer)
	if err != nil {
		return nil, &fault.Error{Kind: fault.Unavailable, Message: "the identity provider cannot be reached", Err: err}
	}
	if o.providers == nil {
		o.providers = map[string]*oidc.Provider{}
	}
	o.providers[issuer] = p
	return p, nil
}

var districtCodePattern = regexp.MustCompile(`^[a-z0-9-]{2,32}$`)

func (s *Service) oidcConfig(ctx context.Context, districtCode string) (oidcConfig, error) {
	var c oidcConfig
	if s.OIDC == nil || !districtCodePattern.MatchString(districtCode) {
		// Not a district code (the column's CHECK): no district has it.
		return c, ErrSSONotAvailable
	}
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT district_id, issuer, client_id, client_secret_env, claim, mfa_delegated FROM auth_oidc_config($1)`,
			districtCode).Scan(&c.district, &c.issuer, &c.clientID, &c.secretEnv, &c.claim, &c.mfaDelegated)
		if err == pgx.ErrNoRows {
			return ErrSSONotAvailable
		}
		return database.MapError(err)
	})
	return c, err
}

func (s *Service) oauthConfig(ctx context.Context, c oidcConfig, callbackURL string) (*oauth2.Config, *oidc.Provider, error) {
	secret := ""
	if s.OIDC.Getenv != nil {
		secret = s.OIDC.Getenv(c.secretEnv)
	}
	if secret == "" {
		return nil, nil, fault.New(fault.Unavailable, "single sign-on is not configured on this server (client secret missing)")
	}
	p, err := s.OIDC.provider(ctx, c.issuer)
	if err != nil {
		return nil, nil, err
	}
	return &oauth2.Config{ClientID: c.clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: callbackURL,
		Scopes: []string{oidc.ScopeOpenID, "email"}}, p, nil
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// StartOIDC returns the identity provider's authorization URL for the district and the
// state the browser must bring back.
func (s *Service) StartOIDC(ctx context.Context, districtCode, callbackURL string) (string, OIDCState, error) {
	c, err := s.oidcConfig(ctx, districtCode)
	if err != nil {
		return "", OIDCState{}, err
	}
	cfg, _, err := s.oauthConfig(ctx, c, callbackURL)
	if err != nil {
		return "", OIDCState{}, err
	}
	st := OIDCState{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier()}
	return cfg.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), st, nil
}

// FinishOIDC exchanges the authorization code, verifies the ID token (signature,
// issuer, audience, expiry, nonce), maps its claim to an existing user and opens a
// session. MFA is the identity provider's when the district delegates it; otherwise
// the user's own TOTP is asked as after a password.
func (s *Service) FinishOIDC(ctx context.Context, districtCode, callbackURL, code string, st OIDCState, clientIP, userAgent, requestID string) (Login, error) {
	c, err := s.oidcConfig(ctx, districtCode)
	if err != nil {
		return Login{}, err
	}
	cfg, p, err := s.oauthConfig(ctx, c, callbackURL)
	if err != nil {
		return Login{}, err
	}
	anon := scope.Actor{ClientIP: clientIP, RequestID: requestID}
	refuse := func(reason string, answer error) error {
		if err := s.DB.InTx(ctx, anon, func(tx pgx.Tx) error {
			return audit.Record(ctx, tx, anon, audit.Entry{Action: "auth.sso", ObjectType: "district", ObjectID: c.district.String(),
				Outcome: audit.Denied, Reason: reason})
		}); err != nil {
			return err
		}
		return answer
	}
	if code == "" || len(code) > 2048 {
		return Login{}, refuse("no authorization code", ErrSSONoUser)
	}
	hctx := oidc.ClientContext(ctx, s.OIDC.client())
	tok, err := cfg.Exchange(hctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return Login{}, refuse("code exchange failed", ErrSSONoUser)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Login{}, refuse("no id token", ErrSSONoUser)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.clientID, Now: s.now}).Verify(hctx, raw)
	if err != nil {
		return Login{}, refuse("id token not valid", ErrSSONoUser)
	}
	if idt.Nonce != st.Nonce {
		return Login{}, refuse("nonce mismatch", ErrSSONoUser)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return Login{}, refuse("claims not readable", ErrSSONoUser)
	}
	value := idt.Subject
	if c.claim == "email" {
		if claims.Email == "" || claims.EmailVerified == nil || !*claims.EmailVerified {
			return Login{}, refuse("no verified email", ErrSSONoUser)
		}
		value = strings.ToLower(claims.Email)
	}
	var user uuid.UUID
	var username string
	var disabled bool
	err = s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT user_id, username, disabled FROM auth_sso_lookup($1, $2)`, c.district, value).Scan(&user, &username, &disabled)
		if err == pgx.ErrNoRows {
			return nil
		}
		return database.MapError(err)
	})
	if err != nil {
		return Login{}, err
	}
	if user == uuid.Nil || disabled {
		return Login{}, refuse("no matching user", ErrSSONoUser)
	}
	actor := scope.Actor{UserID: user, Username: username, DistrictID: c.district, Kind: scope.User, ClientIP: clientIP, RequestID: requestID}
	var res Login
	err = s.DB.InTx(ctx, actor, func(tx pgx.Tx) error {
		stage, err := loginStage(ctx, tx, user, c.mfaDelegated)
		if err != nil {
			return err
		}
		if res, err = s.openSession(ctx, tx, actor, stage, "oidc", clientIP, userAgent); err != nil {
			return err
		}
		reason := "single sign-on"
		if c.mfaDelegated {
			reason += "; MFA delegated to the identity provider"
		}
		return audit.Record(ctx, tx, actor, audit.Entry{Action: "auth.login", ObjectType: "user", ObjectID: user.String(), Reason: reason})
	})
	return res, err
}
