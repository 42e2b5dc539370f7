package casefile

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Tiers are the risk tiers, lowest first.
var Tiers = []string{"none", "watch", "elevated", "high", "crisis"}

// TierChange is one change of a student's risk tier.
type TierChange struct {
	ID        uuid.UUID `json:"id"`
	FromTier  string    `json:"from_tier"`
	ToTier    string    `json:"to_tier"`
	Reason    string    `json:"reason"`
	ChangedBy uuid.UUID `json:"changed_by"`
	ChangedAt time.Time `json:"changed_at"`
}

// SetTier changes the case file's risk tier; a reason is required and kept encrypted.
func (s *Service) SetTier(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID, tier, reason string) (CaseFile, error) {
	var f []fault.FieldError
	if !slices.Contains(Tiers, tier) {
		f = append(f, fault.Field("tier", "invalid_value", "tier must be none, watch, elevated, high or crisis"))
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(reason)); n == 0 || n > 2000 {
		f = append(f, fault.Field("reason", "required", "a reason of 1 to 2,000 characters is required"))
	}
	if len(f) > 0 {
		return CaseFile{}, fault.Validation(f...)
	}
	var c CaseFile
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var from, status string
		if err := tx.QueryRow(ctx, `SELECT risk_tier, status FROM case_files WHERE school_id = $1 AND id = $2 FOR UPDATE`, school, caseFile).Scan(&from, &status); err != nil {
			return database.MapError(err)
		}
		if status == "archived" {
			return fault.New(fault.Conflict, "an archived case file is read-only")
		}
		if from == tier {
			return fault.New(fault.Conflict, "the case file already has this tier")
		}
		sealed, err := s.Cipher.EncryptFile(ctx, tx, school, caseFile, "risk_tier.reason", []byte(reason))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO risk_tier_changes (school_id, id, case_file_id, from_tier, to_tier, reason, changed_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, school, uuid.Must(uuid.NewV7()), caseFile, from, tier, sealed, a.UserID); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE case_files SET risk_tier = $3, updated_at = now() WHERE school_id = $1 AND id = $2`, school, caseFile, tier); err != nil {
			return database.MapError(err)
		}
		if c, err = s.get(ctx, tx, school, caseFile); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.risk_tier", ObjectType: "case_file", ObjectID: caseFile.String(),
			Reason: from + " -> " + tier})
	})
	return c, err
}

// TierHistory lists every tier change of the case file, oldest first (audited).
func (s *Service) TierHistory(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) ([]TierChange, error) {
	var out []TierChange
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		if _, err := s.get(ctx, tx, school, caseFile); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, from_tier, to_tier, reason, changed_by, changed_at FROM risk_tier_changes
			WHERE school_id = $1 AND case_file_id = $2 ORDER BY changed_at, id`, school, caseFile)
		if err != nil {
			return database.MapError(err)
		}
		type raw struct {
			TierChange
			reason []byte
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (raw, error) {
			var x raw
			return x, r.Scan(&x.ID, &x.FromTier, &x.ToTier, &x.reason, &x.ChangedBy, &x.ChangedAt)
		})
		if err != nil {
			return database.MapError(err)
		}
		out = make([]TierChange, 0, len(list))
		for _, x := range list {
			if x.Reason, err = s.unseal(ctx, tx, school, "risk_tier.reason", x.reason); err != nil {
				return err
			}
			out = append(out, x.TierChange)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "case_files.risk_history", ObjectType: "case_file", ObjectID: caseFile.String()})
	})
	return out, err
}

// Warning is one line of the school's warning list: no notes, no reasons.
type Warning struct {
	CaseFileID       uuid.UUID  `json:"case_file_id"`
	StudentID        uuid.UUID  `json:"student_id"`
	StudentNumber    string     `json:"student_number"`
	StudentName      string     `json:"student_name"`
	HomeroomName     string     `json:"homeroom_name"`
	RiskTier         string     `json:"risk_tier"`
	Status           string     `json:"status"`
	LastContactAt    *time.Time `json:"last_contact_at"`
	DaysSinceContact *int       `json:"days_since_contact"`
}

// WarningList lists the school's case files at tier watch or above, highest tier first,
// then longest without contact. Counselors and school leaders read it (audited).
func (s *Service) WarningList(ctx context.Context, a scope.Actor, school uuid.UUID) ([]Warning, error) {
	var out []Warning
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT c.id, c.student_id, st.student_number, st.name, h.name, c.risk_tier, c.status, c.last_contact_at,
			(current_date - c.last_contact_at::date)
			FROM case_files c
			JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
			JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id
			WHERE c.school_id = $1 AND c.risk_tier <> 'none' AND c.status <> 'archived'
			ORDER BY array_position(ARRAY['crisis','high','elevated','watch'], c.risk_tier), c.last_contact_at NULLS FIRST, st.student_number`, school)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Warning, error) {
			var w Warning
			return w, r.Scan(&w.CaseFileID, &w.StudentID, &w.StudentNumber, &w.StudentName, &w.HomeroomName, &w.RiskTier, &w.Status, &w.LastContactAt, &w.DaysSinceContact)
		})
		if err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "warning_list.read", ObjectType: "case_file"})
	})
	if out == nil {
		out = []Warning{}
	}
	return out, err
}
