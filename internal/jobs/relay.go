package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

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
//
// With Redis set, the relay also survives Redis coming back empty (flushed, or restarted
// without its data): it keeps a marker key there, and when the marker is gone every row
// sent in the last day whose job has not finished (job_runs) is sent again — asynq
// refuses the ids it still holds, so only lost tasks run again. And as soon as Redis
// answers again, rows waiting out their back-off go at once.
type Relay struct {
	DB       *database.DB
	Queue    Enqueuer
	Log      *slog.Logger
	Observer LagObserver   // optional
	Interval time.Duration // between passes; default 250 ms
	Batch    int           // rows per pass; default 100
	Lease    time.Duration // claim lease; default 10 s (a duplicate enqueue is refused anyway)
	// Redis, if set, is the queue's Redis: the relay probes it for the marker key.
	Redis redis.UniversalClient

	waiting bool // rows wait out a back-off after a failed enqueue
}

// MarkerKey is the Redis key whose absence tells the relay that Redis lost its data.
const MarkerKey = "xinqiao:outbox:marker"

// Redrive is how far back the relay re-sends unfinished jobs when Redis lost its data
// (asynq keeps finished tasks for a day).
const Redrive = 24 * time.Hour

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

// probe checks Redis: when the marker key is gone (Redis came back empty), it sets it
// and makes the unfinished jobs of the last day pending again; when Redis answers after
// enqueues failed, the rows waiting out their back-off become due at once.
func (r *Relay) probe(ctx context.Context) error {
	if r.Redis == nil {
		return nil
	}
	err := r.Redis.Get(ctx, MarkerKey).Err()
	switch {
	case errors.Is(err, redis.Nil):
		if err := r.Redis.Set(ctx, MarkerKey, time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
			return nil // unreachable again: the next pass retries
		}
		var n int64
		err := r.DB.InTx(ctx, relayActor, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `UPDATE outbox o SET dispatched_at = NULL, claimed_until = NULL, available_at = now(),
				last_error = 'queue lost its data'
				WHERE o.dispatched_at > now() - $1 * interval '1 second'
				  AND NOT EXISTS (SELECT 1 FROM job_runs j WHERE j.id = o.id::text AND j.status = 'done')`, int64(Redrive.Seconds()))
			n = tag.RowsAffected()
			return database.MapError(err)
		})
		if err != nil {
			_ = r.Redis.Del(context.WithoutCancel(ctx), MarkerKey).Err() // try again next pass
			return err
		}
		if n > 0 {
			r.Log.Warn("outbox: the queue came back without its data; unfinished jobs are sent again", "jobs", n)
		}
		r.waiting = true
	case err != nil:
		return nil // Redis is down: the enqueues will fail and rows wait
	}
	if r.waiting {
		err := r.DB.InTx(ctx, relayActor, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE outbox SET available_at = now()
				WHERE dispatched_at IS NULL AND available_at > now() AND last_error <> ''`)
			return database.MapError(err)
		})
		if err != nil {
			return err
		}
		r.waiting = false
	}
	return nil
}

// Pass relays one batch and reports how many rows went out.
func (r *Relay) Pass(ctx context.Context) (int, error) {
	if err := r.probe(ctx); err != nil {
		return 0, err
	}
	batch, lease := r.Batch, r.Lease
	if batch <= 0 {
		batch = 100
	}
	if lease <= 0 {
		lease = 10 * time.Second
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
		r.waiting = true
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
