package tenant

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Settings are a school's own choices.
type Settings struct {
	// CaseloadOnly: counselors see only the case files assigned to them.
	CaseloadOnly bool       `json:"caseload_only"`
	UpdatedAt    *time.Time `json:"updated_at"`
}

// SchoolSettings returns the settings of a school (defaults when never set).
func (s *Service) SchoolSettings(ctx context.Context, a scope.Actor, school uuid.UUID) (Settings, error) {
	var out Settings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		out, err = settings(ctx, tx, school)
		return err
	})
	return out, err
}

func settings(ctx context.Context, tx pgx.Tx, school uuid.UUID) (Settings, error) {
	var out Settings
	err := tx.QueryRow(ctx, `SELECT caseload_only, updated_at FROM school_settings WHERE school_id = $1`, school).Scan(&out.CaseloadOnly, &out.UpdatedAt)
	if err == pgx.ErrNoRows {
		return Settings{}, nil
	}
	return out, database.MapError(err)
}

// SettingsInput changes a school's settings; nil fields stay as they are.
type SettingsInput struct {
	CaseloadOnly *bool `json:"caseload_only"`
}

// UpdateSchoolSettings changes a school's settings (school leaders); audited.
func (s *Service) UpdateSchoolSettings(ctx context.Context, a scope.Actor, school uuid.UUID, in SettingsInput) (Settings, error) {
	var out Settings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		cur, err := settings(ctx, tx, school)
		if err != nil {
			return err
		}
		if in.CaseloadOnly != nil {
			cur.CaseloadOnly = *in.CaseloadOnly
		}
		if _, err := tx.Exec(ctx, `INSERT INTO school_settings (school_id, caseload_only, updated_by) VALUES ($1, $2, $3)
			ON CONFLICT (school_id) DO UPDATE SET caseload_only = EXCLUDED.caseload_only, updated_by = EXCLUDED.updated_by, updated_at = now()`,
			school, cur.CaseloadOnly, a.UserID); err != nil {
			return database.MapError(err)
		}
		if out, err = settings(ctx, tx, school); err != nil {
			return err
		}
		reason := "caseload_only off"
		if out.CaseloadOnly {
			reason = "caseload_only on"
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "school_settings.update", ObjectType: "school", ObjectID: school.String(), Reason: reason})
	})
	return out, err
}
