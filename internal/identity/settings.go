package identity

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// SecuritySettings are a district's identity settings.
type SecuritySettings struct {
	// MFARequired makes MFA mandatory for district roles, school leaders and counselors.
	MFARequired bool `json:"mfa_required"`
	// OIDC single sign-on: the issuer, the client id, the NAME of the environment variable
	// that holds the client secret (never the secret), the claim that names the user
	// (email or sub) and whether the identity provider's MFA replaces ours.
	OIDCEnabled         bool       `json:"oidc_enabled"`
	OIDCIssuer          string     `json:"oidc_issuer"`
	OIDCClientID        string     `json:"oidc_client_id"`
	OIDCClientSecretEnv string     `json:"oidc_client_secret_env"`
	OIDCClaim           string     `json:"oidc_claim"`
	OIDCMFADelegated    bool       `json:"oidc_mfa_delegated"`
	UpdatedAt           *time.Time `json:"updated_at"`
}

// DefaultSecuritySettings apply to a district that never saved its own.
var DefaultSecuritySettings = SecuritySettings{MFARequired: true, OIDCClaim: "email"}

var envNamePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

func (in *SecuritySettings) validate() error {
	in.OIDCIssuer = strings.TrimSpace(in.OIDCIssuer)
	in.OIDCClientID = strings.TrimSpace(in.OIDCClientID)
	in.OIDCClientSecretEnv = strings.TrimSpace(in.OIDCClientSecretEnv)
	if in.OIDCClaim == "" {
		in.OIDCClaim = "email"
	}
	var f []fault.FieldError
	if in.OIDCClaim != "email" && in.OIDCClaim != "sub" {
		f = append(f, fault.Field("oidc_claim", "invalid_value", "the claim is email or sub"))
	}
	if u, err := url.Parse(in.OIDCIssuer); in.OIDCIssuer != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.OIDCIssuer) > 300) {
		f = append(f, fault.Field("oidc_issuer", "invalid_format", "the issuer is an https URL"))
	}
	if len(in.OIDCClientID) > 200 {
		f = append(f, fault.Field("oidc_client_id", "too_long", "at most 200 characters"))
	}
	if in.OIDCClientSecretEnv != "" && !envNamePattern.MatchString(in.OIDCClientSecretEnv) {
		f = append(f, fault.Field("oidc_client_secret_env", "invalid_format", "the name of an environment variable (A-Z, 0-9, _)"))
	}
	if in.OIDCEnabled {
		for name, v := range map[string]string{"oidc_issuer": in.OIDCIssuer, "oidc_client_id": in.OIDCClientID, "oidc_client_secret_env": in.OIDCClientSecretEnv} {
			if v == "" {
				f = append(f, fault.Field(name, "required", "required when single sign-on is on"))
			}
		}
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// GetSecuritySettings reads the district's settings (the defaults when never saved).
func (s *Service) GetSecuritySettings(ctx context.Context, a scope.Actor, district uuid.UUID) (SecuritySettings, error) {
	out := DefaultSecuritySettings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var at time.Time
		err := tx.QueryRow(ctx, `SELECT mfa_required, oidc_enabled, oidc_issuer, oidc_client_id, oidc_client_secret_env, oidc_claim,
			oidc_mfa_delegated, updated_at FROM district_security_settings WHERE district_id = $1`, district).
			Scan(&out.MFARequired, &out.OIDCEnabled, &out.OIDCIssuer, &out.OIDCClientID, &out.OIDCClientSecretEnv, &out.OIDCClaim,
				&out.OIDCMFADelegated, &at)
		if err == nil {
			out.UpdatedAt = &at
		} else if err != pgx.ErrNoRows {
			return database.MapError(err)
		}
		return nil
	})
	return out, err
}

// SaveSecuritySettings replaces the district's settings (district administrator).
func (s *Service) SaveSecuritySettings(ctx context.Context, a scope.Actor, district uuid.UUID, in SecuritySettings) (SecuritySettings, error) {
	if err := in.validate(); err != nil {
		return SecuritySettings{}, err
	}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		args := []any{district, in.MFARequired, in.OIDCEnabled, in.OIDCIssuer, in.OIDCClientID, in.OIDCClientSecretEnv, in.OIDCClaim,
			in.OIDCMFADelegated, nilIfZero(a.UserID)}
		tag, err := tx.Exec(ctx, `UPDATE district_security_settings SET mfa_required = $2, oidc_enabled = $3, oidc_issuer = $4,
			oidc_client_id = $5, oidc_client_secret_env = $6, oidc_claim = $7, oidc_mfa_delegated = $8, updated_by = $9, updated_at = now()
			WHERE district_id = $1`, args...)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO district_security_settings (district_id, mfa_required, oidc_enabled, oidc_issuer,
				oidc_client_id, oidc_client_secret_env, oidc_claim, oidc_mfa_delegated, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				args...); err != nil {
				return database.MapError(err)
			}
		}
		reason := "mfa required"
		if !in.MFARequired {
			reason = "mfa optional"
		}
		if in.OIDCEnabled {
			reason += "; sso on"
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "security_settings.write", ObjectType: "district", ObjectID: district.String(), Reason: reason})
	})
	if err != nil {
		return SecuritySettings{}, err
	}
	return s.GetSecuritySettings(ctx, a, district)
}

func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// SSOIdentity links a user to the identity provider's claim value (email or sub).
type SSOIdentity struct {
	SSOID *string `json:"sso_id"`
}

// SetSSOID sets or clears the value of the district's OIDC claim that identifies user
// (district administrator). A value is unique in the district.
func (s *Service) SetSSOID(ctx context.Context, a scope.Actor, district, user uuid.UUID, in SSOIdentity) (SSOIdentity, error) {
	if in.SSOID != nil {
		v := strings.TrimSpace(*in.SSOID)
		if v == "" {
			in.SSOID = nil
		} else if len(v) > 254 {
			return SSOIdentity{}, fault.Validation(fault.Field("sso_id", "too_long", "at most 254 characters"))
		} else {
			in.SSOID = &v
		}
	}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := getUser(ctx, tx, district, user); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET sso_id = $3, updated_at = now() WHERE district_id = $1 AND id = $2`, district, user, in.SSOID); err != nil {
			err = database.MapError(err)
			if fault.KindOf(err) == fault.Conflict {
				return &fault.Error{Kind: fault.Conflict, Message: "another user has this single sign-on identity",
					Fields: []fault.FieldError{fault.Field("sso_id", "duplicate", "another user has this single sign-on identity")}}
			}
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "users.sso_id", ObjectType: "user", ObjectID: user.String()})
	})
	return in, err
}
