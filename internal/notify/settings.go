// Package notify owns the e-mail side of notifications (通知): each user's own e-mail
// address and preference, and the job that announces a new inbox item by e-mail. The
// job is written to the outbox by inbox.Post / inbox.PostDistrict in the transaction of
// the item, so a message goes out only for an item that committed; a deliveries table
// keyed by the item makes it exactly-once under job retries. Messages carry no names,
// notes, answers or student data: only "you have a new task / notification" and a link.
package notify

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Settings are a user's own notification settings.
type Settings struct {
	Email        *string    `json:"email"`         // nil: no address
	EmailEnabled bool       `json:"email_enabled"` // announce new inbox items by e-mail
	UpdatedAt    *time.Time `json:"updated_at"`    // nil: never saved
}

// Service reads and writes the actor's own settings.
type Service struct {
	DB *database.DB
}

// Get returns the actor's settings (the defaults when never saved: no e-mail).
func (s *Service) Get(ctx context.Context, a scope.Actor) (Settings, error) {
	var out Settings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT email, email_enabled, updated_at FROM notification_settings
			WHERE district_id = $1 AND user_id = $2`, a.DistrictID, a.UserID).Scan(&out.Email, &out.EmailEnabled, &out.UpdatedAt)
		if err == pgx.ErrNoRows {
			return nil
		}
		return database.MapError(err)
	})
	return out, err
}

// SettingsInput is the body of PUT /me/notification-settings.
type SettingsInput struct {
	Email        *string `json:"email"`
	EmailEnabled *bool   `json:"email_enabled"`
}

// ValidEmail normalises an address: a bare addr-spec (no display name), at most 254
// characters, no spaces or line breaks (nothing that could reach a mail header).
func ValidEmail(raw string) (string, bool) {
	v := strings.TrimSpace(raw)
	if v == "" || len(v) > 254 || strings.ContainsAny(v, " \t\r\n<>,;\"") {
		return "", false
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return "", false
	}
	at := strings.LastIndex(v, "@")
	if at < 1 || !strings.Contains(v[at+1:], ".") && v[at+1:] != "localhost" {
		return "", false
	}
	return v, true
}

// Save replaces the actor's settings. E-mail can be enabled only with an address.
func (s *Service) Save(ctx context.Context, a scope.Actor, in SettingsInput) (Settings, error) {
	var fields []fault.FieldError
	var email *string
	if in.Email != nil && strings.TrimSpace(*in.Email) != "" {
		if v, ok := ValidEmail(*in.Email); ok {
			email = &v
		} else {
			fields = append(fields, fault.Field("email", "invalid", "not a valid e-mail address"))
		}
	}
	if in.EmailEnabled == nil {
		fields = append(fields, fault.Field("email_enabled", "required", "say whether e-mail is on"))
	} else if *in.EmailEnabled && email == nil && len(fields) == 0 {
		fields = append(fields, fault.Field("email", "required", "an e-mail address is needed to turn e-mail on"))
	}
	if len(fields) > 0 {
		return Settings{}, fault.Validation(fields...)
	}
	var out Settings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO notification_settings (district_id, user_id, email, email_enabled)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (district_id, user_id) DO UPDATE SET email = excluded.email, email_enabled = excluded.email_enabled, updated_at = now()
			RETURNING email, email_enabled, updated_at`, a.DistrictID, a.UserID, email, *in.EmailEnabled).
			Scan(&out.Email, &out.EmailEnabled, &out.UpdatedAt)
		if err != nil {
			return database.MapError(err)
		}
		// The address itself stays out of the audit log.
		return audit.Record(ctx, tx, a, audit.Entry{Action: "notification_settings.write", ObjectType: "user", ObjectID: a.UserID.String()})
	})
	return out, err
}
