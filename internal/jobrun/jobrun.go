// Package jobrun owns the record of background job runs (job_runs): the worker writes
// when a task starts, its progress, and how it ended (done, or failed with a short
// reason); district admins read their district's runs and the system's.
package jobrun

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Run is one run of a task.
type Run struct {
	ID         string     `json:"id"`
	TaskType   string     `json:"task_type"`
	DistrictID *uuid.UUID `json:"district_id"`
	Status     string     `json:"status"` // queued, running, done, failed
	Progress   int        `json:"progress"`
	Attempts   int        `json:"attempts"`
	Error      string     `json:"error"`
	StartedAt  time.Time  `json:"started_at"` // queued: when it was queued
	FinishedAt *time.Time `json:"finished_at"`
}

// Store reads and writes job runs.
type Store struct{ DB *database.DB }

var worker = scope.Actor{Kind: "jobs", Username: "system:worker"}

// Started records that task id of taskType began (again, on a retry).
func (s *Store) Started(ctx context.Context, id, taskType string, payload []byte) error {
	var p struct {
		District *uuid.UUID `json:"district_id"`
	}
	_ = json.Unmarshal(payload, &p)
	return s.DB.InTx(ctx, worker, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO job_runs (id, task_type, district_id, status) VALUES ($1, $2, $3, 'running')
			ON CONFLICT (id) DO UPDATE SET status = 'running', attempts = job_runs.attempts + 1, error = '', finished_at = NULL, progress = 0`,
			id, taskType, p.District)
		return database.MapError(err)
	})
}

// Finished records how a run ended. The reason is the error's kind-level message only.
func (s *Store) Finished(ctx context.Context, id string, failure error) error {
	status, reason := "done", ""
	if failure != nil {
		// The public message of a domain error; never wrapped internals (they may hold values).
		status, reason = "failed", "internal error (see the worker log)"
		if fe, ok := fault.As(failure); ok && fe.Kind != fault.Internal {
			reason = string(fe.Kind) + ": " + fe.Message
		}
		if len(reason) > 500 {
			reason = reason[:500]
		}
	}
	return s.DB.InTx(ctx, worker, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE job_runs SET status = $2, error = $3, finished_at = now(), progress = CASE WHEN $2 = 'done' THEN 100 ELSE progress END
			WHERE id = $1`, id, status, reason)
		return database.MapError(err)
	})
}

// SetProgress records a run's progress in percent.
func (s *Store) SetProgress(ctx context.Context, id string, pct int) error {
	pct = max(0, min(100, pct))
	return s.DB.InTx(ctx, worker, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE job_runs SET progress = $2 WHERE id = $1`, id, pct)
		return database.MapError(err)
	})
}

// List returns the latest runs a district admin may see: the district's and the system's.
func (s *Store) List(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Run, error) {
	var out []Run
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, task_type, district_id, status, progress, attempts, error, started_at, finished_at FROM job_runs
			WHERE district_id IS NULL OR district_id = $1 ORDER BY started_at DESC LIMIT 200`, district)
		if err != nil {
			return database.MapError(err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Run, error) {
			var x Run
			return x, r.Scan(&x.ID, &x.TaskType, &x.DistrictID, &x.Status, &x.Progress, &x.Attempts, &x.Error, &x.StartedAt, &x.FinishedAt)
		})
		if err != nil {
			return database.MapError(err)
		}
		// Work waiting in the outbox or the queue: not started yet.
		rows, err = tx.Query(ctx, `SELECT id, task_type, district_id, created_at FROM job_runs_queued($1)`, district)
		if err != nil {
			return database.MapError(err)
		}
		queued, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Run, error) {
			x := Run{Status: "queued", Attempts: 0}
			return x, r.Scan(&x.ID, &x.TaskType, &x.DistrictID, &x.StartedAt)
		})
		out = append(queued, out...)
		return database.MapError(err)
	})
	return out, err
}

type progressKey struct{}

// WithProgress gives handlers a way to report progress through ctx.
func WithProgress(ctx context.Context, fn func(pct int)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// Progress reports a handler's progress (no-op outside a recorded run).
func Progress(ctx context.Context, pct int) {
	if fn, ok := ctx.Value(progressKey{}).(func(int)); ok {
		fn(pct)
	}
}
