package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/xinqiao/xinqiao/internal/jobs"
	"github.com/xinqiao/xinqiao/internal/outbox"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

type lag struct{ pending int }

func (l *lag) ObserveOutbox(pending int, _ time.Duration) { l.pending = pending }

// Work written to the outbox reaches asynq exactly once, with TaskID = outbox id, even
// when Redis is down for a while or the relay dies between enqueueing and marking.
func TestOutboxRelay(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	opt := redisOpt(t)
	opt.DB = 5
	queue := "default"
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	_ = insp.DeleteQueue(queue, true)

	// Producers: 20 rows in one school's transaction; a rolled-back one leaves nothing.
	a := scope.Actor{DistrictID: uuid.New(), SchoolID: uuid.New(), Kind: scope.School}
	var ids []uuid.UUID
	if err := db.App.InTx(ctx, a, func(tx pgx.Tx) error {
		for i := 0; i < 20; i++ {
			id, err := outbox.Add(ctx, tx, a, "rollup:mark_dirty", map[string]any{"n": i}, queue)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_ = db.App.InTx(ctx, a, func(tx pgx.Tx) error {
		outbox.Add(ctx, tx, a, "rollup:mark_dirty", nil, queue)
		return context.Canceled // roll back
	})
	admin, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	count := func(where string) int {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE `+where).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("true"); n != 20 {
		t.Fatalf("want 20 outbox rows, have %d", n)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Redis down: nothing leaves, nothing is lost.
	dead := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond})
	defer dead.Close()
	r := &jobs.Relay{DB: db.App, Queue: dead, Log: log}
	if sent, err := r.Pass(ctx); err != nil || sent != 0 {
		t.Fatalf("with Redis down: sent %d, %v", sent, err)
	}
	if n := count("dispatched_at IS NULL AND last_error <> ''"); n != 20 {
		t.Fatalf("rows must wait with their error: %d", n)
	}
	// Redis is back (and the back-off has passed): everything goes out once.
	if _, err := admin.Exec(ctx, `UPDATE outbox SET available_at = now()`); err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	obs := &lag{pending: -1}
	r = &jobs.Relay{DB: db.App, Queue: client, Log: log, Observer: obs}
	if sent, err := r.Pass(ctx); err != nil || sent != 20 {
		t.Fatalf("with Redis up: sent %d, %v", sent, err)
	}
	if obs.pending != 0 {
		t.Fatalf("observer saw %d pending", obs.pending)
	}
	for _, id := range ids {
		info, err := insp.GetTaskInfo(queue, id.String())
		if err != nil || info.Type != "rollup:mark_dirty" {
			t.Fatalf("task %s: %v", id, err)
		}
	}
	// The relay died after enqueueing but before marking: the rows go again, and asynq
	// refuses the duplicate ids, so the queue still holds each job once.
	if _, err := admin.Exec(ctx, `UPDATE outbox SET dispatched_at = NULL WHERE id = ANY($1)`, ids[:5]); err != nil {
		t.Fatal(err)
	}
	if sent, err := r.Pass(ctx); err != nil || sent != 5 {
		t.Fatalf("re-send: %d %v", sent, err)
	}
	qi, err := insp.GetQueueInfo(queue)
	if err != nil || qi.Size != 20 {
		t.Fatalf("queue holds %v jobs, want 20 (%v)", qi, err)
	}
	if n := count("dispatched_at IS NULL"); n != 0 {
		t.Fatalf("%d rows left", n)
	}
}

// A job written to the outbox during a request continues that request's trace.
func TestOutboxJobContinuesTheRequestTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	db := testdb.New(t)
	opt := redisOpt(t)
	opt.DB = 6
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, request := otel.Tracer("test").Start(context.Background(), "GET /api/v1/something")
	a := scope.Actor{DistrictID: uuid.New(), Kind: scope.District}
	if err := db.App.InTx(ctx, a, func(tx pgx.Tx) error {
		_, err := outbox.Add(ctx, tx, a, jobs.TypeHeartbeat, map[string]int{"n": 1}, "critical")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	request.End()
	client := asynq.NewClient(opt)
	defer client.Close()
	if sent, err := (&jobs.Relay{DB: db.App, Queue: client, Log: log}).Pass(context.Background()); err != nil || sent != 1 {
		t.Fatalf("relay: %d %v", sent, err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go (&jobs.Worker{Redis: opt, Log: log, Concurrency: 1}).Run(wctx)
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, s := range rec.Ended() {
			if s.Name() == "job "+jobs.TypeHeartbeat && s.Parent().SpanID() == request.SpanContext().SpanID() {
				if s.SpanContext().TraceID() != request.SpanContext().TraceID() {
					t.Fatal("job span in another trace")
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no job span continued the request's trace")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// When Redis comes back without its data (flushed, or restarted empty), the relay
// notices its marker key is gone and sends again the jobs that had not finished; a job
// recorded done is not sent again, and nothing is sent twice while the marker stays.
func TestRelaySendsLostJobsAgainWhenRedisComesBackEmpty(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	opt := redisOpt(t)
	opt.DB = 13
	queue := "default"
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	_ = insp.DeleteQueue(queue, true)
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	defer rdb.Close()
	rdb.Del(ctx, jobs.MarkerKey)
	a := scope.Actor{DistrictID: uuid.New(), SchoolID: uuid.New(), Kind: scope.School}
	var ids []uuid.UUID
	if err := db.App.InTx(ctx, a, func(tx pgx.Tx) error {
		for i := 0; i < 3; i++ {
			id, err := outbox.Add(ctx, tx, a, "rollup:refresh", map[string]any{"n": i}, queue)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	r := &jobs.Relay{DB: db.App, Queue: client, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Redis: rdb}
	if sent, err := r.Pass(ctx); err != nil || sent != 3 {
		t.Fatalf("first pass: sent %d, %v", sent, err)
	}
	if n, _ := rdb.Exists(ctx, jobs.MarkerKey).Result(); n != 1 {
		t.Fatal("the relay did not set its marker")
	}
	admin, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `INSERT INTO job_runs (id, task_type, status) VALUES ($1, 'rollup:refresh', 'done')`, ids[0].String()); err != nil {
		t.Fatal(err)
	}
	// Redis loses everything.
	if err := insp.DeleteQueue(queue, true); err != nil {
		t.Fatal(err)
	}
	rdb.Del(ctx, jobs.MarkerKey)
	// (A fresh client: asynq's client remembers which queues it registered, and the
	// inspector only lists registered queues.)
	fresh := asynq.NewClient(opt)
	defer fresh.Close()
	r.Queue = fresh
	if sent, err := r.Pass(ctx); err != nil || sent != 2 {
		t.Fatalf("after the loss: sent %d, %v (want the 2 unfinished jobs)", sent, err)
	}
	for i, id := range ids {
		_, err := insp.GetTaskInfo(queue, id.String())
		if (i == 0) != (err != nil) {
			t.Errorf("job %d in the queue after the loss: %v", i, err)
		}
	}
	if sent, err := r.Pass(ctx); err != nil || sent != 0 {
		t.Fatalf("a later pass sent %d, %v", sent, err)
	}
	qi, err := insp.GetQueueInfo(queue)
	if err != nil || qi.Size != 2 {
		t.Fatalf("queue: %v %v", qi, err)
	}
}
