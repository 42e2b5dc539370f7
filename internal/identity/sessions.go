package identity

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// DefaultIdleTimeout ends a session nobody used for this long.
const DefaultIdleTimeout = 30 * time.Minute

// touchEvery is how stale last_seen_at may get before a request writes it again.
const touchEvery = time.Minute

// SessionInfo is one open session as its user or an administrator sees it.
type SessionInfo struct {
	ID         uuid.UUID `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	ClientIP   string    `json:"client_ip"`
	UserAgent  string    `json:"user_agent"`
	Method     string    `json:"method"`
	Current    bool      `json:"current"`
}

// openSession inserts a session of stage for the actor (a user) and returns the login.
// A stage "mfa" session is a challenge: short-lived, never a usable session.
func (s *Service) openSession(ctx context.Context, tx pgx.Tx, a scope.Actor, stage, method, clientIP, userAgent string) (Login, error) {
	token := randomToken()
	now := s.now()
	ttl := s.SessionTTL
	if stage == "mfa" {
		ttl = ChallengeTTL
	}
	res := Login{ExpiresAt: now.Add(ttl).UTC().Truncate(time.Second)}
	if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, token_hash, user_id, expires_at, client_ip, user_agent, stage, last_seen_at, method)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, uuid.Must(uuid.NewV7()), HashToken(token), a.UserID, res.ExpiresAt, clientIP,
		truncate(userAgent, 200), stage, now, method); err != nil {
		return Login{}, database.MapError(err)
	}
	switch stage {
	case "mfa":
		res.MFARequired, res.Challenge = true, token
		return res, nil
	case "enrol":
		res.EnrolmentRequired = true
	}
	res.Token = token
	err := tx.QueryRow(ctx, `SELECT id, username, display_name, district_id FROM users WHERE id = $1`, a.UserID).
		Scan(&res.User.ID, &res.User.Username, &res.User.DisplayName, &res.User.DistrictID)
	return res, database.MapError(err)
}

// loginStage decides the stage of a session after the first factor: a user enrolled in
// MFA must give a code; one who must have MFA and has none must enrol first.
func loginStage(ctx context.Context, tx pgx.Tx, user uuid.UUID, mfaDelegated bool) (string, error) {
	if mfaDelegated {
		return "active", nil
	}
	var required, enrolled bool
	if err := tx.QueryRow(ctx, `SELECT required, enrolled FROM auth_mfa_status($1)`, user).Scan(&required, &enrolled); err != nil {
		return "", database.MapError(err)
	}
	switch {
	case enrolled:
		return "mfa", nil
	case required:
		return "enrol", nil
	}
	return "active", nil
}

// revokeSessions revokes the user's open sessions except keep; it returns how many.
func revokeSessions(ctx context.Context, tx pgx.Tx, user, keep uuid.UUID) (int64, error) {
	tag, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`, user, keep)
	if err != nil {
		return 0, database.MapError(err)
	}
	return tag.RowsAffected(), nil
}

func (s *Service) listSessions(ctx context.Context, tx pgx.Tx, user, current uuid.UUID) ([]SessionInfo, error) {
	rows, err := tx.Query(ctx, `SELECT id, created_at, last_seen_at, expires_at, client_ip, user_agent, method FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND stage <> 'mfa' AND expires_at > $2 AND ($3 = 0 OR last_seen_at > $2 - $3 * interval '1 second')
		ORDER BY last_seen_at DESC LIMIT 100`, user, s.now(), int64(s.idle().Seconds()))
	if err != nil {
		return nil, database.MapError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SessionInfo, error) {
		var x SessionInfo
		err := r.Scan(&x.ID, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.ClientIP, &x.UserAgent, &x.Method)
		x.Current = x.ID == current
		return x, err
	})
	if out == nil {
		out = []SessionInfo{}
	}
	return out, database.MapError(err)
}

func (s *Service) idle() time.Duration {
	if s.IdleTimeout < 0 {
		return 0
	}
	if s.IdleTimeout == 0 {
		return DefaultIdleTimeout
	}
	return s.IdleTimeout
}

// MySessions lists the actor's open sessions, the current one marked.
func (s *Service) MySessions(ctx context.Context, a scope.Actor, current uuid.UUID) ([]SessionInfo, error) {
	var out []SessionInfo
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = s.listSessions(ctx, tx, a.UserID, current)
		return err
	})
	return out, err
}

// RevokeMySession revokes one of the actor's own sessions (possibly the current one).
func (s *Service) RevokeMySession(ctx context.Context, a scope.Actor, id uuid.UUID) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, id, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return fault.New(fault.NotFound, "not found")
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "auth.session_revoke", ObjectType: "session", ObjectID: id.String()})
	})
}

// UserSessions lists a user's open sessions (district administrator).
func (s *Service) UserSessions(ctx context.Context, a scope.Actor, district, user uuid.UUID) ([]SessionInfo, error) {
	var out []SessionInfo
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := getUser(ctx, tx, district, user); err != nil {
			return err
		}
		var err error
		if out, err = s.listSessions(ctx, tx, user, uuid.Nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "users.sessions_list", ObjectType: "user", ObjectID: user.String()})
	})
	return out, err
}

// RevokeUserSessions revokes every session of a user (district administrator).
func (s *Service) RevokeUserSessions(ctx context.Context, a scope.Actor, district, user uuid.UUID) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := getUser(ctx, tx, district, user); err != nil {
			return err
		}
		keep := uuid.Nil
		if _, err := revokeSessions(ctx, tx, user, keep); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "users.sessions_revoke", ObjectType: "user", ObjectID: user.String()})
	})
}

// PasswordChange is the input of ChangePassword.
type PasswordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// ChangePassword changes the actor's password after checking the current one (with
// the login throttle) and revokes every other session of the actor.
func (s *Service) ChangePassword(ctx context.Context, a scope.Actor, current uuid.UUID, in PasswordChange) error {
	if err := CheckPasswordPolicy(in.NewPassword); err != nil {
		return fault.Validation(fault.Field("new_password", "too_short", err.Error()))
	}
	if err := s.Reauthenticate(ctx, a, in.CurrentPassword); err != nil {
		return err
	}
	hash, err := HashPassword(in.NewPassword)
	if err != nil {
		return fault.Wrap(err, "hash password")
	}
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, a.UserID, hash); err != nil {
			return database.MapError(err)
		}
		n, err := revokeSessions(ctx, tx, a.UserID, current)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "auth.password_change", ObjectType: "user", ObjectID: a.UserID.String(),
			Reason: "other sessions revoked: " + strconv.FormatInt(n, 10)})
	})
}
