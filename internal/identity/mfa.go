package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"image/png"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// SecretSealer seals secrets that belong to no school under the master key
// (keyring.Keyring implements it).
type SecretSealer interface {
	SealSecret(purpose string, owner uuid.UUID, plaintext []byte) ([]byte, error)
	OpenSecret(purpose string, owner uuid.UUID, sealed []byte) ([]byte, error)
}

const (
	purposeTOTP = "user.totp_secret" // keyring.PurposeTOTP: `xinqiao keys rotate` seals it again
	// RecoveryCodeCount is how many one-time recovery codes an enrolment issues.
	RecoveryCodeCount = 10
	// ChallengeTTL is how long a password login waits for its second factor.
	ChallengeTTL = 5 * time.Minute
	// TOTPIssuer names the service in authenticator apps.
	TOTPIssuer = "心桥 Xinqiao"
	totpPeriod = 30
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// ErrBadSecondFactor is the one answer to a wrong, replayed or malformed code.
var ErrBadSecondFactor = fault.New(fault.Unauthenticated, "the verification code is not valid")

// MFAStatus is a user's multi-factor state.
type MFAStatus struct {
	Required          bool `json:"required"`
	Enrolled          bool `json:"enrolled"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

// Enrolment is a new, unconfirmed TOTP secret, shown once.
type Enrolment struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRCodePNG  string `json:"qr_code_png"` // data: URI of the QR code of OTPAuthURI
}

// RecoveryCodes are the one-time codes of a confirmed enrolment, shown once.
type RecoveryCodes struct {
	Codes []string `json:"recovery_codes"`
}

// MFAStatus reports the actor's own multi-factor state.
func (s *Service) MFAStatus(ctx context.Context, a scope.Actor) (MFAStatus, error) {
	var st MFAStatus
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT required, enrolled FROM auth_mfa_status($1)`, a.UserID).Scan(&st.Required, &st.Enrolled); err != nil {
			return database.MapError(err)
		}
		return database.MapError(tx.QueryRow(ctx, `SELECT count(*) FROM user_recovery_codes WHERE district_id = $1 AND user_id = $2 AND used_at IS NULL`,
			a.DistrictID, a.UserID).Scan(&st.RecoveryCodesLeft))
	})
	return st, err
}

// StartEnrolment creates a new TOTP secret for the actor (replacing an unconfirmed
// one). A user already enrolled must be reset by an administrator first.
func (s *Service) StartEnrolment(ctx context.Context, a scope.Actor) (Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: a.Username, Period: totpPeriod, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, fault.Wrap(err, "generate totp secret")
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return Enrolment{}, fault.Wrap(err, "qr code")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fault.Wrap(err, "qr code")
	}
	sealed, err := s.Cipher.SealSecret(purposeTOTP, a.UserID, []byte(key.Secret()))
	if err != nil {
		return Enrolment{}, fault.Wrap(err, "seal totp secret")
	}
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var confirmed bool
		err := tx.QueryRow(ctx, `SELECT confirmed_at IS NOT NULL FROM user_mfa WHERE district_id = $1 AND user_id = $2`,
			a.DistrictID, a.UserID).Scan(&confirmed)
		switch {
		case err == nil && confirmed:
			return fault.New(fault.Conflict, "multi-factor authentication is already set up; ask an administrator to reset it")
		case err == nil:
			if _, err := tx.Exec(ctx, `DELETE FROM user_mfa WHERE district_id = $1 AND user_id = $2`, a.DistrictID, a.UserID); err != nil {
				return database.MapError(err)
			}
		case err != pgx.ErrNoRows:
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO user_mfa (district_id, user_id, secret_sealed) VALUES ($1, $2, $3)`,
			a.DistrictID, a.UserID, sealed); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "auth.mfa_enrolment_start", ObjectType: "user", ObjectID: a.UserID.String()})
	})
	if err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Secret: key.Secret(), OTPAuthURI: key.URL(),
		QRCodePNG: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmEnrolment checks a first code from the authenticator, confirms the secret,
// issues fresh recovery codes and, for a session in the enrolment-required stage,
// makes the session a full one.
func (s *Service) ConfirmEnrolment(ctx context.Context, a scope.Actor, sessionID uuid.UUID, code string) (RecoveryCodes, error) {
	code = normaliseTOTP(code)
	if len(code) != 6 {
		return RecoveryCodes{}, fault.Validation(fault.Field("code", "invalid_format", "enter the 6-digit code of the authenticator app"))
	}
	codes, hashes := newRecoveryCodes()
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var sealed []byte
		var last int64
		err := tx.QueryRow(ctx, `SELECT secret_sealed, last_step FROM user_mfa WHERE district_id = $1 AND user_id = $2 AND confirmed_at IS NULL`,
			a.DistrictID, a.UserID).Scan(&sealed, &last)
		if err == pgx.ErrNoRows {
			return fault.New(fault.Conflict, "no enrolment is in progress")
		}
		if err != nil {
			return database.MapError(err)
		}
		secret, err := s.Cipher.OpenSecret(purposeTOTP, a.UserID, sealed)
		if err != nil {
			return fault.Wrap(err, "open totp secret")
		}
		step, ok := s.matchTOTP(string(secret), code, last)
		if !ok {
			return fault.Validation(fault.Field("code", "invalid_value", "the code is not correct; check the time of the device"))
		}
		if _, err := tx.Exec(ctx, `UPDATE user_mfa SET confirmed_at = now(), last_step = $3 WHERE district_id = $1 AND user_id = $2`,
			a.DistrictID, a.UserID, step); err != nil {
			return database.MapError(err)
		}
		if err := storeRecoveryCodes(ctx, tx, a, hashes); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET stage = 'active' WHERE id = $1 AND user_id = $2 AND stage = 'enrol'`, sessionID, a.UserID); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "auth.mfa_enrol", ObjectType: "user", ObjectID: a.UserID.String()})
	})
	if err != nil {
		return RecoveryCodes{}, err
	}
	return RecoveryCodes{Codes: codes}, nil
}

// RegenerateRecoveryCodes replaces the actor's recovery codes after checking a current
// TOTP code.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, a scope.Actor, code string) (RecoveryCodes, error) {
	code = normaliseTOTP(code)
	if len(code) != 6 {
		return RecoveryCodes{}, fault.Validation(fault.Field("code", "invalid_format", "enter the 6-digit code of the authenticator app"))
	}
	codes, hashes := newRecoveryCodes()
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		step, err := s.useTOTP(ctx, tx, a, code)
		if err != nil {
			return err
		}
		if step == 0 {
			return fault.Validation(fault.Field("code", "invalid_value", "the code is not correct"))
		}
		if err := storeRecoveryCodes(ctx, tx, a, hashes); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "auth.mfa_recovery_codes", ObjectType: "user", ObjectID: a.UserID.String()})
	})
	if err != nil {
		return RecoveryCodes{}, err
	}
	return RecoveryCodes{Codes: codes}, nil
}

// useTOTP checks code against the actor's confirmed secret and consumes its time step
// (a step is accepted once). It returns the step, or 0 when the code is not valid.
func (s *Service) useTOTP(ctx context.Context, tx pgx.Tx, a scope.Actor, code string) (int64, error) {
	var sealed []byte
	var last int64
	err := tx.QueryRow(ctx, `SELECT secret_sealed, last_step FROM user_mfa WHERE district_id = $1 AND user_id = $2 AND confirmed_at IS NOT NULL`,
		a.DistrictID, a.UserID).Scan(&sealed, &last)
	if err == pgx.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, database.MapError(err)
	}
	secret, err := s.Cipher.OpenSecret(purposeTOTP, a.UserID, sealed)
	if err != nil {
		return 0, fault.Wrap(err, "open totp secret")
	}
	step, ok := s.matchTOTP(string(secret), code, last)
	if !ok {
		return 0, nil
	}
	// The conditional update makes the check atomic: of two uses of one code, one wins.
	tag, err := tx.Exec(ctx, `UPDATE user_mfa SET last_step = $3 WHERE district_id = $1 AND user_id = $2 AND last_step < $3`,
		a.DistrictID, a.UserID, step)
	if err != nil {
		return 0, database.MapError(err)
	}
	if tag.RowsAffected() != 1 {
		return 0, nil
	}
	return step, nil
}

// useRecoveryCode consumes one of the actor's unused recovery codes.
func useRecoveryCode(ctx context.Context, tx pgx.Tx, a scope.Actor, code string) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE user_recovery_codes SET used_at = now()
		WHERE district_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL`, a.DistrictID, a.UserID, hashRecoveryCode(code))
	if err != nil {
		return false, database.MapError(err)
	}
	return tag.RowsAffected() == 1, nil
}

// matchTOTP finds the time step (now, one before or one after) whose code is code and
// that is later than last.
func (s *Service) matchTOTP(secret, code string, last int64) (int64, bool) {
	cur := s.now().Unix() / totpPeriod
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		if step <= last {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

func normaliseTOTP(code string) string {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	for _, r := range code {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return code
}

const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

func newRecoveryCodes() ([]string, [][]byte) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, 10)
		for j := range b {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(recoveryAlphabet))))
			if err != nil {
				panic(err)
			}
			b[j] = recoveryAlphabet[n.Int64()]
		}
		codes[i] = string(b[:5]) + "-" + string(b[5:])
		hashes[i] = hashRecoveryCode(codes[i])
	}
	return codes, hashes
}

func normaliseRecoveryCode(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

func hashRecoveryCode(code string) []byte {
	sum := sha256.Sum256([]byte("xinqiao-recovery|" + normaliseRecoveryCode(code)))
	return sum[:]
}

func storeRecoveryCodes(ctx context.Context, tx pgx.Tx, a scope.Actor, hashes [][]byte) error {
	if _, err := tx.Exec(ctx, `DELETE FROM user_recovery_codes WHERE district_id = $1 AND user_id = $2`, a.DistrictID, a.UserID); err != nil {
		return database.MapError(err)
	}
	for _, h := range hashes {
		if _, err := tx.Exec(ctx, `INSERT INTO user_recovery_codes (district_id, user_id, code_hash) VALUES ($1, $2, $3)`,
			a.DistrictID, a.UserID, h); err != nil {
			return database.MapError(err)
		}
	}
	return nil
}

// SecondFactor is the second step of a login: a TOTP code or a recovery code.
type SecondFactor struct {
	Challenge    string `json:"challenge"`
	Code         string `json:"code"`
	RecoveryCode string `json:"recovery_code"`
}

// CompleteLogin checks the second factor of a login challenge and opens the session.
// Failures count against the user ("mfa:<name>") and the address like password
// failures; a lockout refuses before the code is checked. A challenge is single-use.
func (s *Service) CompleteLogin(ctx context.Context, in SecondFactor, clientIP, userAgent, requestID string) (Login, error) {
	code, recovery := normaliseTOTP(in.Code), normaliseRecoveryCode(in.RecoveryCode)
	if in.Challenge == "" || len(in.Challenge) > 128 {
		return Login{}, fault.New(fault.Unauthenticated, "the login has expired; sign in again")
	}
	if (in.Code == "") == (in.RecoveryCode == "") {
		return Login{}, fault.Validation(fault.Field("code", "required", "enter either a verification code or a recovery code"))
	}
	if len(in.Code) > 16 || len(in.RecoveryCode) > 32 {
		return Login{}, fault.Validation(fault.Field("code", "invalid_format", "the code is too long"))
	}
	var sess struct {
		id, user, district uuid.UUID
		username, stage    string
		method             string
		expires            time.Time
	}
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		var dn string
		var seen time.Time
		err := tx.QueryRow(ctx, `SELECT session_id, user_id, district_id, username, display_name, expires_at, last_seen_at, stage, method
			FROM auth_session_resolve($1)`, HashToken(in.Challenge)).
			Scan(&sess.id, &sess.user, &sess.district, &sess.username, &dn, &sess.expires, &seen, &sess.stage, &sess.method)
		if err == pgx.ErrNoRows {
			return fault.New(fault.Unauthenticated, "the login has expired; sign in again")
		}
		return database.MapError(err)
	})
	if err != nil {
		return Login{}, err
	}
	if sess.stage != "mfa" || !s.now().Before(sess.expires) {
		return Login{}, fault.New(fault.Unauthenticated, "the login has expired; sign in again")
	}
	actor := scope.Actor{UserID: sess.user, Username: sess.username, DistrictID: sess.district, Kind: scope.User, ClientIP: clientIP, RequestID: requestID}
	userKey, ipKey := "mfa:"+sess.username, "ip:"+clientIP
	var locked bool
	err = s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		return database.MapError(tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_throttle WHERE key = ANY($1) AND locked_until > now())`,
			[]string{userKey, ipKey}).Scan(&locked))
	})
	if err != nil {
		return Login{}, err
	}
	if locked {
		return Login{}, s.failed(ctx, actor, "auth.mfa", userKey, ipKey, "locked out", ErrLocked)
	}
	var res Login
	valid := false
	err = s.DB.InTx(ctx, actor, func(tx pgx.Tx) error {
		how := "totp"
		if recovery != "" {
			how = "recovery code"
			ok, err := useRecoveryCode(ctx, tx, actor, recovery)
			if err != nil || !ok {
				return err
			}
		} else {
			if len(code) != 6 {
				return nil
			}
			step, err := s.useTOTP(ctx, tx, actor, code)
			if err != nil || step == 0 {
				return err
			}
		}
		valid = true
		tag, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND stage = 'mfa' AND revoked_at IS NULL`,
			sess.id, sess.user)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() != 1 {
			return fault.New(fault.Unauthenticated, "the login has expired; sign in again")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = ANY($1)`, []string{userKey, "user:" + sess.username}); err != nil {
			return database.MapError(err)
		}
		if res, err = s.openSession(ctx, tx, actor, "active", sess.method, clientIP, userAgent); err != nil {
			return err
		}
		return audit.Record(ctx, tx, actor, audit.Entry{Action: "auth.mfa", ObjectType: "user", ObjectID: sess.user.String(), Reason: how})
	})
	if err != nil {
		return Login{}, err
	}
	if !valid {
		return Login{}, s.failed(ctx, actor, "auth.mfa", userKey, ipKey, "bad second factor", ErrBadSecondFactor)
	}
	return res, nil
}

// ResetMFA removes a user's MFA secret and recovery codes and revokes every session of
// the user (district administrator). The user enrols again at the next login.
func (s *Service) ResetMFA(ctx context.Context, a scope.Actor, district, user uuid.UUID) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := getUser(ctx, tx, district, user); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_recovery_codes WHERE district_id = $1 AND user_id = $2`, district, user); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_mfa WHERE district_id = $1 AND user_id = $2`, district, user); err != nil {
			return database.MapError(err)
		}
		if _, err := revokeSessions(ctx, tx, user, uuid.Nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "users.mfa_reset", ObjectType: "user", ObjectID: user.String()})
	})
}

// ErrMFARequiredForRole refuses to switch off a second factor the district requires.
var ErrMFARequiredForRole = fault.New(fault.Forbidden, "your district requires multi-factor authentication for your role: it cannot be switched off")

// ErrWrongCode answers a wrong second factor of a signed-in user re-authenticating (403:
// the session stays valid, only the sensitive action is refused).
var ErrWrongCode = fault.New(fault.Forbidden, "the verification code is not correct")

// DisableMFA switches off the actor's own second factor: only when the district does not
// require it for any of the user's roles, after the password and a current code of the
// authenticator app (both count against the login throttle when wrong). The secret and
// the recovery codes are deleted; the other sessions of the user are revoked.
func (s *Service) DisableMFA(ctx context.Context, a scope.Actor, sessionID uuid.UUID, password, code string) error {
	code = normaliseTOTP(code)
	var f []fault.FieldError
	if password == "" {
		f = append(f, fault.Field("password", "required", "re-enter your password"))
	}
	if len(code) != 6 {
		f = append(f, fault.Field("code", "invalid_format", "enter the 6-digit code of the authenticator app"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	st, err := s.MFAStatus(ctx, a)
	if err != nil {
		return err
	}
	if st.Required {
		return ErrMFARequiredForRole
	}
	if !st.Enrolled {
		return fault.New(fault.Conflict, "multi-factor authentication is not set up")
	}
	if err := s.Reauthenticate(ctx, a, password); err != nil {
		return err
	}
	var wrong bool
	err = s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		step, err := s.useTOTP(ctx, tx, a, code)
		if err != nil {
			return err
		}
		if step == 0 {
			wrong = true
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_recovery_codes WHERE district_id = $1 AND user_id = $2`, a.DistrictID, a.UserID); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_mfa WHERE district_id = $1 AND user_id = $2`, a.DistrictID, a.UserID); err != nil {
			return database.MapError(err)
		}
		if _, err := revokeSessions(ctx, tx, a.UserID, sessionID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "auth.mfa_disabled", ObjectType: "user", ObjectID: a.UserID.String()})
	})
	if err != nil {
		return err
	}
	if wrong {
		return s.failed(ctx, a, "auth.mfa_disable", "user:"+a.Username, "ip:"+a.ClientIP, "bad second factor", ErrWrongCode)
	}
	return nil
}
