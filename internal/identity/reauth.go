package identity

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// ErrWrongPassword answers a failed re-entry of the password by a signed-in user. It is
// a 403, not a 401: the session stays valid, only the sensitive action is refused.
var ErrWrongPassword = fault.New(fault.Forbidden, "the password is not correct")

// Reauthenticate checks the password of the signed-in actor again before a sensitive
// action (emergency access). It shares the login throttle: a failure counts against the
// user and the client address, a lockout refuses the check before the password is
// verified, and every failure is audited (action "auth.reauthenticate") in the actor's
// scope. A success is recorded by the caller with the action it allowed.
func (s *Service) Reauthenticate(ctx context.Context, a scope.Actor, password string) error {
	userKey, ipKey := "user:"+a.Username, "ip:"+a.ClientIP
	if password == "" || len(password) > 256 {
		return s.failed(ctx, a, "auth.reauthenticate", userKey, ipKey, "bad credentials", ErrWrongPassword)
	}
	var locked bool
	var hash string
	var disabled bool
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_throttle WHERE key = ANY($1) AND locked_until > now())`,
			[]string{userKey, ipKey}).Scan(&locked); err != nil {
			return database.MapError(err)
		}
		err := tx.QueryRow(ctx, `SELECT password_hash, disabled FROM auth_login_lookup($1) WHERE user_id = $2`, a.Username, a.UserID).
			Scan(&hash, &disabled)
		if err == pgx.ErrNoRows {
			hash, disabled = dummyHash, true
			return nil
		}
		return database.MapError(err)
	})
	if err != nil {
		return err
	}
	if locked {
		return s.failed(ctx, a, "auth.reauthenticate", userKey, ipKey, "locked out", ErrLocked)
	}
	if !VerifyPassword(password, hash) || disabled {
		return s.failed(ctx, a, "auth.reauthenticate", userKey, ipKey, "bad credentials", ErrWrongPassword)
	}
	return nil
}

// ReauthenticateWithCode is Reauthenticate for the most sensitive actions (emergency
// access): a user enrolled in MFA must also give a current code of the authenticator app
// (a recovery code is not enough here). A missing code is a 422 on "code"; a wrong one
// counts against the login throttle and is refused (403) like a wrong password.
func (s *Service) ReauthenticateWithCode(ctx context.Context, a scope.Actor, password, code string) error {
	var enrolled bool
	if err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		return database.MapError(tx.QueryRow(ctx, `SELECT enrolled FROM auth_mfa_status($1)`, a.UserID).Scan(&enrolled))
	}); err != nil {
		return err
	}
	code = normaliseTOTP(code)
	if enrolled && len(code) != 6 {
		return fault.Validation(fault.Field("code", "required", "enter the 6-digit code of the authenticator app"))
	}
	if err := s.Reauthenticate(ctx, a, password); err != nil {
		return err
	}
	if !enrolled {
		return nil
	}
	var step int64
	if err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		step, err = s.useTOTP(ctx, tx, a, code)
		return err
	}); err != nil {
		return err
	}
	if step == 0 {
		return s.failed(ctx, a, "auth.reauthenticate", "user:"+a.Username, "ip:"+a.ClientIP, "bad second factor", ErrWrongCode)
	}
	return nil
}
