// Package identity owns users, passwords, login sessions, login throttling and
// memberships (a user's role in a district or a school).
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Authorizer answers whether an actor may perform act on obj in its scope (Casbin).
type Authorizer interface {
	Allowed(a scope.Actor, obj, act string) bool
}

// Throttle limits failed logins per username and per client address.
type Throttle struct {
	UserLimit int           // failures per user before a lockout
	IPLimit   int           // failures per address before a lockout
	Window    time.Duration // failures older than this are forgotten
	Lockout   time.Duration // how long a lockout lasts
}

// DefaultThrottle is the production throttle.
var DefaultThrottle = Throttle{UserLimit: 5, IPLimit: 50, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

// Service is the identity domain service.
type Service struct {
	DB         *database.DB
	Authorizer Authorizer
	// SessionTTL is the absolute lifetime of a session.
	SessionTTL time.Duration
	// IdleTimeout ends a session unused for this long (0: DefaultIdleTimeout; <0: never).
	IdleTimeout time.Duration
	Throttle    Throttle
	Now         func() time.Time
	// Cipher seals TOTP secrets (keyring.Keyring).
	Cipher SecretSealer
	// OIDC runs single sign-on; nil turns it off.
	OIDC *OIDC
}

// User is an account (never with its password hash).
type User struct {
	ID          uuid.UUID `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	DistrictID  uuid.UUID `json:"district_id"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	// MFAEnrolled and SSOID are filled in the district administrator's list only.
	MFAEnrolled bool    `json:"mfa_enrolled"`
	SSOID       *string `json:"sso_id"`
}

// Principal is an authenticated session with the user's memberships.
type Principal struct {
	SessionID   uuid.UUID
	UserID      uuid.UUID
	DistrictID  uuid.UUID
	Username    string
	DisplayName string
	ExpiresAt   time.Time
	Memberships []scope.Membership
	// Stage is "active", or "enrol" while the user must enrol in MFA before anything else.
	Stage string
}

// Login is the result of a successful first or second login step. When MFARequired is
// set, Token is empty and Challenge goes with a code to the second step.
type Login struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      UserRef   `json:"user"`
	// MFARequired: the password was right; the second factor is still needed.
	MFARequired bool   `json:"mfa_required"`
	Challenge   string `json:"challenge,omitempty"`
	// EnrolmentRequired: the session can only enrol in MFA until enrolment is confirmed.
	EnrolmentRequired bool `json:"enrolment_required"`
}

// UserRef is the short form of a user returned with a login and by /me.
type UserRef struct {
	ID          uuid.UUID `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	DistrictID  uuid.UUID `json:"district_id"`
}

// ErrBadCredentials is the one answer to any failed login: it does not tell whether
// the user exists.
var ErrBadCredentials = fault.New(fault.Unauthenticated, "invalid username or password")

// ErrLocked answers logins while a lockout is in force.
var ErrLocked = fault.New(fault.RateLimited, "too many failed attempts; try again later")

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// HashToken is how tokens are stored: only their SHA-256.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CSRFToken derives the CSRF token bound to a session token.
func CSRFToken(token string) string {
	sum := sha256.Sum256([]byte("xinqiao-csrf|" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Login checks a username and password and opens a session. Failures are counted per
// user and per address; a locked user or address is refused before the password is
// checked. Every attempt is audited.
func (s *Service) Login(ctx context.Context, username, password, clientIP, userAgent, requestID string) (Login, error) {
	if username == "" || password == "" || len(username) > 64 || len(password) > 256 {
		return Login{}, ErrBadCredentials
	}
	userKey, ipKey := "user:"+username, "ip:"+clientIP
	type found struct {
		id, district uuid.UUID
		hash         string
		disabled     bool
	}
	var u *found
	var locked bool
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_throttle WHERE key = ANY($1) AND locked_until > now())`,
			[]string{userKey, ipKey}).Scan(&locked); err != nil {
			return database.MapError(err)
		}
		var f found
		err := tx.QueryRow(ctx, `SELECT user_id, district_id, password_hash, disabled FROM auth_login_lookup($1)`, username).
			Scan(&f.id, &f.district, &f.hash, &f.disabled)
		if err == nil {
			u = &f
		} else if err != pgx.ErrNoRows {
			return database.MapError(err)
		}
		return nil
	})
	if err != nil {
		return Login{}, err
	}
	actor := scope.Actor{ClientIP: clientIP, RequestID: requestID}
	if u != nil {
		actor = scope.Actor{UserID: u.id, Username: username, DistrictID: u.district, Kind: scope.User, ClientIP: clientIP, RequestID: requestID}
	}
	if locked {
		return Login{}, s.loginFailed(ctx, actor, userKey, ipKey, "locked out", ErrLocked)
	}
	ok := false
	if u != nil {
		ok = VerifyPassword(password, u.hash) && !u.disabled
	} else {
		VerifyPassword(password, dummyHash)
	}
	if !ok {
		return Login{}, s.loginFailed(ctx, actor, userKey, ipKey, "bad credentials", ErrBadCredentials)
	}
	var res Login
	err = s.DB.InTx(ctx, actor, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = $1`, userKey); err != nil {
			return database.MapError(err)
		}
		stage, err := loginStage(ctx, tx, u.id, false)
		if err != nil {
			return err
		}
		if res, err = s.openSession(ctx, tx, actor, stage, "password", clientIP, userAgent); err != nil {
			return err
		}
		e := audit.Entry{Action: "auth.login", ObjectType: "user", ObjectID: u.id.String()}
		switch stage {
		case "mfa":
			e.Reason = "password accepted; second factor pending"
		case "enrol":
			e.Reason = "password accepted; MFA enrolment required"
		}
		return audit.Record(ctx, tx, actor, e)
	})
	if err != nil {
		return Login{}, err
	}
	return res, nil
}

func (s *Service) loginFailed(ctx context.Context, actor scope.Actor, userKey, ipKey, reason string, answer error) error {
	return s.failed(ctx, actor, "auth.login", userKey, ipKey, reason, answer)
}

// failed counts a failed password check against the user's and the address's throttle
// and audits it as action, in its own transaction; it returns answer.
func (s *Service) failed(ctx context.Context, actor scope.Actor, action, userKey, ipKey, reason string, answer error) error {
	t := s.Throttle
	err := s.DB.InTx(ctx, actor, func(tx pgx.Tx) error {
		for _, k := range []struct {
			key   string
			limit int
		}{{userKey, t.UserLimit}, {ipKey, t.IPLimit}} {
			if _, err := tx.Exec(ctx, `INSERT INTO login_throttle AS t (key, failures, window_start) VALUES ($1, 1, now())
				ON CONFLICT (key) DO UPDATE SET
				  failures = CASE WHEN t.window_start < now() - $2 * interval '1 second' THEN 1 ELSE t.failures + 1 END,
				  window_start = CASE WHEN t.window_start < now() - $2 * interval '1 second' THEN now() ELSE t.window_start END`,
				k.key, int64(t.Window.Seconds())); err != nil {
				return database.MapError(err)
			}
			if _, err := tx.Exec(ctx, `UPDATE login_throttle SET locked_until = now() + $3 * interval '1 second', failures = 0, window_start = now()
				WHERE key = $1 AND failures >= $2`, k.key, k.limit, int64(t.Lockout.Seconds())); err != nil {
				return database.MapError(err)
			}
		}
		objectID := ""
		if actor.UserID != uuid.Nil {
			objectID = actor.UserID.String()
		}
		return audit.Record(ctx, tx, actor, audit.Entry{Action: action, ObjectType: "user", ObjectID: objectID, Outcome: audit.Denied, Reason: reason})
	})
	if err != nil {
		return err
	}
	return answer
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Authenticate resolves a bearer or cookie token to its principal.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" || len(token) > 128 {
		return Principal{}, fault.New(fault.Unauthenticated, "authentication required")
	}
	// One round trip, outside a transaction: both lookups are SECURITY DEFINER functions
	// that read no request scope, so BEGIN, the scope settings and COMMIT (four more
	// round trips on every request) bought nothing (docs/BENCHMARKS.md).
	var p Principal
	expired := fault.New(fault.Unauthenticated, "the session is not valid or has expired")
	batch := &pgx.Batch{}
	batch.Queue(`SELECT session_id, user_id, district_id, username, display_name, expires_at, last_seen_at, stage, method
		FROM auth_session_resolve($1)`, HashToken(token))
	batch.Queue(`SELECT id, scope_type, district_id, district_name, school_id, school_name, role, homeroom_id
		FROM auth_memberships((SELECT user_id FROM auth_session_resolve($1)))`, HashToken(token))
	br := s.DB.Pool.SendBatch(ctx, batch)
	var seen time.Time
	var method string
	err := br.QueryRow().Scan(&p.SessionID, &p.UserID, &p.DistrictID, &p.Username, &p.DisplayName, &p.ExpiresAt, &seen, &p.Stage, &method)
	if err == pgx.ErrNoRows {
		br.Close()
		return Principal{}, expired
	}
	if err != nil {
		br.Close()
		return Principal{}, database.MapError(err)
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return Principal{}, database.MapError(err)
	}
	p.Memberships, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (scope.Membership, error) {
		var m scope.Membership
		var kind string
		err := r.Scan(&m.ID, &kind, &m.DistrictID, &m.DistrictName, &m.SchoolID, &m.SchoolName, &m.Role, &m.HomeroomID)
		m.ScopeType = scope.Kind(kind)
		return m, err
	})
	br.Close()
	if err != nil {
		return Principal{}, database.MapError(err)
	}
	now := s.now()
	// A login challenge is no session; past the absolute lifetime or the idle
	// timeout a session is dead.
	if p.Stage == "mfa" || !now.Before(p.ExpiresAt) || (s.idle() > 0 && now.Sub(seen) > s.idle()) {
		return Principal{}, expired
	}
	if now.Sub(seen) > touchEvery {
		// At most once a minute per session: the idle clock.
		err := s.DB.InTx(ctx, scope.Actor{UserID: p.UserID, DistrictID: p.DistrictID, Kind: scope.User}, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`, p.SessionID, now)
			return database.MapError(err)
		})
		if err != nil {
			return Principal{}, err
		}
	}
	return p, nil
}

// Logout revokes the session of the actor.
func (s *Service) Logout(ctx context.Context, a scope.Actor, sessionID uuid.UUID) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
			sessionID, a.UserID); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "auth.logout", ObjectType: "session", ObjectID: sessionID.String()})
	})
}
