package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Enqueuer is the part of the asynq client the relay needs.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// LagObserver receives the outbox backlog after each pass (metrics.Registry implements it).
type LagObserver interface {
	ObserveOutbox(pending int, oldest time.Duration)
}

// Relay moves outbox rows to asynq. It never holds a database transaction across a
// Redis call: it claims a batch (FOR UPDATE SKIP LOCKED, a short lease) and commits,
// enqueues each row with TaskID = row id, then marks the sent rows in a second short
// transaction. A crash between the two leaves rows whose lease lapses and are sent
// again; asynq refuses the duplicate task id, so a job is never queued twice. While
// Redis is down rows stay in the outbox with a growing back-off and go out when it returns.
type Relay struct {
	DB       *database.DB
	Queue    Enqueuer
	Log      *slog.Logger
	Observer LagObserver   // optional
	Interval time.Duration // between passes; default 250 ms
	Batch    int           // rows per pass; default 100
	Lease    time.Duration // claim lease; default 30 s
}

var relayActor = scope.Actor{Kind: "relay", Username: "system:relay"}

type outboxRow struct {
	id       uuid.UUID
	taskType string
	payload  []byte
	queue    string
	attempts int
	trace    map[string]string
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.Pass(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("outbox relay pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass relays one batch and reports how many rows went out.
func (r *Relay) Pass(ctx context.Context) (int, error) {
	batch, lease := r.Batch, r.Lease
	if batch <= 0 {
		batch = 100
	}
	if lease <= 0 {
		lease = 30 * time.Second
	}
	var rows []outboxRow
	err := r.DB.InTx(ctx, relayActor, func(tx pgx.Tx) error {
		res, err := tx.Query(ctx, `UPDATE outbox SET claimed_until = now() + $2 * interval '1 millisecond', attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE dispatched_at IS NULL AND available_at <= now()
			               AND (claimed_until IS NULL OR claimed_until < now())
			             ORDER BY available_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
			RETURNING id, task_type, payload, queue, attempts, trace_context`, batch, lease.Milliseconds())
		if err != nil {
			return database.MapError(err)
		}
		rows, err = pgx.CollectRows(res, func(row pgx.CollectableRow) (outboxRow, error) {
			var o outboxRow
			return o, row.Scan(&o.id, &o.taskType, &o.payload, &o.queue, &o.attempts, &o.trace)
		})
		return database.MapError(err)
	})
	if err != nil {
		return 0, err
	}
	var sent []uuid.UUID
	type failure struct {
		id       uuid.UUID
		attempts int
	}
	var failed []failure
	var down error
	for _, o := range rows {
		if down != nil { // the queue is unreachable: the rest of the batch waits too
			failed = append(failed, failure{o.id, o.attempts})
			continue
		}
		task := asynq.NewTaskWithHeaders(o.taskType, o.payload, o.trace)
		_, err := r.Queue.EnqueueContext(ctx, task, asynq.TaskID(o.id.String()), asynq.Queue(o.queue),
			asynq.MaxRetry(10), asynq.Retention(24*time.Hour))
		if err == nil || errors.Is(err, asynq.ErrTaskIDConflict) {
			sent = append(sent, o.id)
			continue
		}
		failed = append(failed, failure{o.id, o.attempts})
		down = err
	}
	if down != nil {
		r.Log.Warn("outbox: the queue is unreachable; rows wait in the outbox", "waiting", len(failed), "err", down)
	}
	err = r.DB.InTx(context.WithoutCancel(ctx), relayActor, func(tx pgx.Tx) error {
		if len(sent) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE outbox SET dispatched_at = now(), claimed_until = NULL, last_error = '' WHERE id = ANY($1)`, sent); err != nil {
				return database.MapError(err)
			}
		}
		for _, f := range failed {
			backoff := min(time.Duration(1<<min(f.attempts, 8))*time.Second, 5*time.Minute)
			if _, err := tx.Exec(ctx, `UPDATE outbox SET claimed_until = NULL, last_error = 'enqueue failed',
				available_at = now() + $2 * interval '1 millisecond' WHERE id = $1`, f.id, backoff.Milliseconds()); err != nil {
				return database.MapError(err)
			}
		}
		if r.Observer != nil {
			var pending int
			var oldest float64
			if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
				FROM outbox WHERE dispatched_at IS NULL`).Scan(&pending, &oldest); err != nil {
				return database.MapError(err)
			}
			r.Observer.ObserveOutbox(pending, time.Duration(oldest*float64(time.Second)))
		}
		return nil
	})
	return len(sent), err
}
