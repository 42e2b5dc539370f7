package casefile

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Snapshot is a whole case file as a reader under emergency access sees it: the file,
// its sessions in time order and its tier history. It never holds private process notes.
type Snapshot struct {
	CaseFile  CaseFile     `json:"case_file"`
	Sessions  []Session    `json:"sessions"`
	RiskTiers []TierChange `json:"risk_tiers"`
}

// ReadSnapshot reads a case file in the caller's transaction, which decides what the
// rows policies let through and records the audit entry itself. Private process notes
// are dropped whoever reads.
func (s *Service) ReadSnapshot(ctx context.Context, tx pgx.Tx, a scope.Actor, school, id uuid.UUID) (Snapshot, error) {
	var out Snapshot
	var err error
	if out.CaseFile, err = s.get(ctx, tx, school, id); err != nil {
		return Snapshot{}, err
	}
	if out.Sessions, err = s.sessions(ctx, tx, a, school, `s.case_file_id = $2`, id); err != nil {
		return Snapshot{}, err
	}
	for i := range out.Sessions {
		out.Sessions[i].PrivateNote = nil
	}
	rows, err := tx.Query(ctx, `SELECT id, from_tier, to_tier, reason, changed_by, changed_at FROM risk_tier_changes
		WHERE school_id = $1 AND case_file_id = $2 ORDER BY changed_at, id`, school, id)
	if err != nil {
		return Snapshot{}, database.MapError(err)
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
		return Snapshot{}, database.MapError(err)
	}
	out.RiskTiers = make([]TierChange, 0, len(list))
	for _, x := range list {
		if x.Reason, err = s.unseal(ctx, tx, school, "risk_tier.reason", x.reason); err != nil {
			return Snapshot{}, err
		}
		out.RiskTiers = append(out.RiskTiers, x.TierChange)
	}
	return out, nil
}
