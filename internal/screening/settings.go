package screening

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Settings are a district's screening settings. An alert is due AlertDeadlineMinutes
// after it is raised; then it goes to the school leaders, and LeaderEscalationMinutes
// later to the district supervisors. Thresholds name, per instrument code,
// the lowest band that raises an alert. The critical-item alert has no setting: it is
// always raised.
type Settings struct {
	AlertDeadlineMinutes    int               `json:"alert_deadline_minutes"`
	LeaderEscalationMinutes int               `json:"leader_escalation_minutes"`
	Thresholds              map[string]string `json:"thresholds"`
	HelpContacts            string            `json:"help_contacts"`
}

// DefaultSettings apply until the district saves its own.
func DefaultSettings() Settings {
	return Settings{AlertDeadlineMinutes: 240, LeaderEscalationMinutes: 240,
		Thresholds: map[string]string{"phq9": "moderately_severe", "gad7": "severe"}}
}

func settings(ctx context.Context, tx pgx.Tx, district uuid.UUID) (Settings, error) {
	out := DefaultSettings()
	var raw []byte
	err := tx.QueryRow(ctx, `SELECT alert_deadline_minutes, leader_escalation_minutes, thresholds, help_contacts
		FROM screening_settings WHERE district_id = $1`, district).Scan(&out.AlertDeadlineMinutes, &out.LeaderEscalationMinutes,
		&raw, &out.HelpContacts)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, database.MapError(err)
	}
	out.Thresholds = map[string]string{}
	return out, fault.Wrap(json.Unmarshal(raw, &out.Thresholds), "decode thresholds")
}

// GetSettings returns the district's screening settings.
func (s *Service) GetSettings(ctx context.Context, a scope.Actor, district uuid.UUID) (Settings, error) {
	var out Settings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) (err error) {
		out, err = settings(ctx, tx, district)
		return err
	})
	return out, err
}

// SaveSettings stores the district's screening settings. Thresholds must name a band of
// an instrument the district can use.
func (s *Service) SaveSettings(ctx context.Context, a scope.Actor, district uuid.UUID, in Settings) (Settings, error) {
	var f []fault.FieldError
	between := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			f = append(f, fault.Field(field, "out_of_range", "between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi)+" minutes"))
		}
	}
	between("alert_deadline_minutes", in.AlertDeadlineMinutes, 15, 1440)
	between("leader_escalation_minutes", in.LeaderEscalationMinutes, 15, 2880)
	in.HelpContacts = strings.TrimSpace(in.HelpContacts)
	if utf8.RuneCountInString(in.HelpContacts) > 1000 {
		f = append(f, fault.Field("help_contacts", "too_long", "at most 1,000 characters"))
	}
	if in.Thresholds == nil {
		in.Thresholds = map[string]string{}
	}
	var out Settings
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		for code, band := range in.Thresholds {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instruments i, jsonb_array_elements(i.definition->'bands') b
				WHERE (i.district_id IS NULL OR i.district_id = $1) AND i.code = $2 AND b->>'code' = $3)`, district, code, band).Scan(&ok); err != nil {
				return database.MapError(err)
			}
			if !ok {
				f = append(f, fault.Field("thresholds."+code, "invalid_value", "not a band of this instrument"))
			}
		}
		if len(f) > 0 {
			return fault.Validation(f...)
		}
		raw, err := json.Marshal(in.Thresholds)
		if err != nil {
			return fault.Wrap(err, "encode thresholds")
		}
		tag, err := tx.Exec(ctx, `UPDATE screening_settings SET alert_deadline_minutes = $2, leader_escalation_minutes = $3,
			thresholds = $4, help_contacts = $5, updated_by = $6, updated_at = now() WHERE district_id = $1`,
			district, in.AlertDeadlineMinutes, in.LeaderEscalationMinutes, raw, in.HelpContacts, a.UserID)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO screening_settings (district_id, alert_deadline_minutes, leader_escalation_minutes,
				thresholds, help_contacts, updated_by) VALUES ($1, $2, $3, $4, $5, $6)`,
				district, in.AlertDeadlineMinutes, in.LeaderEscalationMinutes, raw, in.HelpContacts, a.UserID); err != nil {
				return database.MapError(err)
			}
		}
		if out, err = settings(ctx, tx, district); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "screening_settings.update", ObjectType: "district", ObjectID: district.String()})
	})
	return out, err
}
