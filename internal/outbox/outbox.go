// Package outbox owns the transactional outbox: domain services add background work in
// the same transaction as the change that needs it, so work is never lost and never
// sent for a change that rolled back. The relay in internal/jobs hands rows to asynq.
package outbox

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/tracing"
)

// Add records background work in tx, in the actor's scope. The payload must hold ids
// and kinds only. It returns the row id, which becomes the asynq task id.
func Add(ctx context.Context, tx pgx.Tx, a scope.Actor, taskType string, payload any, queue string) (uuid.UUID, error) {
	if queue == "" {
		queue = "default"
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return uuid.Nil, fault.Wrap(err, "encode outbox payload")
	}
	var district, school *uuid.UUID
	if a.Kind != scope.None && a.DistrictID != uuid.Nil {
		district = &a.DistrictID
	}
	if a.Kind == scope.School {
		school = &a.SchoolID
	}
	id := uuid.Must(uuid.NewV7())
	_, err = tx.Exec(ctx, `INSERT INTO outbox (id, district_id, school_id, task_type, payload, queue, trace_context)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, district, school, taskType, body, queue, tracing.Carrier(ctx))
	if err != nil {
		return uuid.Nil, database.MapError(err)
	}
	return id, nil
}
