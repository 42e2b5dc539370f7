package crisis

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// NotifySupervisors is the DistrictNotifier of the escalation job: a task in the district
// inbox of every district supervisor, once per crisis (the inbox e-mail follows from it).
func NotifySupervisors(ctx context.Context, tx pgx.Tx, district, id uuid.UUID) error {
	_, err := inbox.PostDistrictRole(ctx, tx, scope.DistrictSupervisor, inbox.DistrictNotice{District: district, Kind: "crisis_escalated",
		Task: true, Subject: "crisis", SubjectID: &id, DedupeKey: "crisis_district:" + id.String()})
	return err
}
