// Package jobs owns background work: the asynq worker server, its task handlers and
// the scheduler of periodic tasks.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/xinqiao/xinqiao/internal/jobrun"
	"github.com/xinqiao/xinqiao/internal/tracing"
)

// Queues and their priorities.
var Queues = map[string]int{"critical": 6, "default": 3, "low": 1}

// TypeHeartbeat is a periodic no-op task proving the worker and scheduler run.
const TypeHeartbeat = "system:heartbeat"

// Observer records job runs (metrics.Registry implements it).
type Observer interface {
	ObserveJob(taskType, outcome string, d time.Duration)
}

// Recorder keeps a record of runs for admins (jobrun.Store implements it).
type Recorder interface {
	Started(ctx context.Context, id, taskType string, payload []byte) error
	Finished(ctx context.Context, id string, failure error) error
	SetProgress(ctx context.Context, id string, pct int) error
}

// Worker runs asynq task handlers until its context ends.
type Worker struct {
	Recorder    Recorder // optional
	Redis       asynq.RedisConnOpt
	Log         *slog.Logger
	Concurrency int
	Observer    Observer // optional
	// Tasks are the domain's task handlers by type; each must be idempotent.
	Tasks map[string]func(ctx context.Context, payload []byte) error
	// Hold, if set, is called after each progress report of a recorded run. The chaos
	// tests use it (XINQIAO_CHAOS_HOLD) to park a job mid-way and kill its worker.
	Hold func(ctx context.Context, taskType string, pct int)
}

// Mux returns the task handlers.
func (w *Worker) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Use(traceJob)
	if w.Observer != nil {
		mux.Use(w.observe)
	}
	if w.Recorder != nil {
		mux.Use(w.record)
	}
	for typ, fn := range w.Tasks {
		mux.HandleFunc(typ, func(ctx context.Context, t *asynq.Task) error { return fn(ctx, t.Payload()) })
	}
	mux.HandleFunc(TypeHeartbeat, func(ctx context.Context, t *asynq.Task) error {
		w.Log.Debug("heartbeat")
		return nil
	})
	return mux
}

// record keeps each run's status for admins. A failure to record never fails the task.
func (w *Worker) record(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		if id == "" || t.Type() == TypeHeartbeat {
			return next.ProcessTask(ctx, t)
		}
		if err := w.Recorder.Started(ctx, id, t.Type(), t.Payload()); err != nil {
			w.Log.Warn("job run not recorded", "type", t.Type(), "err", err)
		}
		ctx = jobrun.WithProgress(ctx, func(pct int) {
			if err := w.Recorder.SetProgress(context.WithoutCancel(ctx), id, pct); err != nil {
				w.Log.Warn("job progress not recorded", "type", t.Type(), "err", err)
			}
			if w.Hold != nil {
				w.Hold(ctx, t.Type(), pct)
			}
		})
		err := next.ProcessTask(ctx, t)
		if rerr := w.Recorder.Finished(context.WithoutCancel(ctx), id, err); rerr != nil {
			w.Log.Warn("job end not recorded", "type", t.Type(), "err", rerr)
		}
		return err
	})
}

// observe records each task's type, outcome and duration — never its payload.
func (w *Worker) observe(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		err := next.ProcessTask(ctx, t)
		outcome := "done"
		if err != nil {
			outcome = "failed"
		}
		w.Observer.ObserveJob(t.Type(), outcome, time.Since(start))
		return err
	})
}

// traceJob opens a span per job, named by its type only, as a child of the producing
// request's span when the task carries its trace context.
func traceJob(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		// Continue the trace of the request that wrote the outbox row, if any.
		ctx = tracing.Resume(ctx, t.Headers())
		ctx, span := tracing.Tracer().Start(ctx, "job "+t.Type(), trace.WithSpanKind(trace.SpanKindConsumer))
		defer span.End()
		err := next.ProcessTask(ctx, t)
		if err != nil {
			span.SetStatus(codes.Error, "job failed")
		}
		return err
	})
}

// Run starts the server and blocks until ctx is cancelled, then shuts down gracefully
// (in-flight tasks finish or go back to the queue).
func (w *Worker) Run(ctx context.Context) error {
	conc := w.Concurrency
	if conc <= 0 {
		conc = 10
	}
	srv := asynq.NewServer(w.Redis, asynq.Config{
		Concurrency:     conc,
		Queues:          Queues,
		ShutdownTimeout: 20 * time.Second,
		Logger:          slogAdapter{w.Log},
		LogLevel:        asynq.WarnLevel,
		RetryDelayFunc:  RetryDelay,
	})
	if err := srv.Start(w.Mux()); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	w.Log.Info("worker started", "concurrency", conc)
	<-ctx.Done()
	w.Log.Info("worker stopping")
	srv.Shutdown()
	return nil
}

// RetryDelay is asynq's exponential back-off, except for a task whose worker died
// mid-run (its lease expired, found by another worker's recoverer): that one runs again
// at once, since nothing is wrong with the task itself.
func RetryDelay(n int, err error, t *asynq.Task) time.Duration {
	if errors.Is(err, asynq.ErrLeaseExpired) {
		return time.Second
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
