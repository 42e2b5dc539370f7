package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/xinqiao/xinqiao/internal/jobs"
)

func redisOpt(t *testing.T) asynq.RedisClientOpt {
	addr := os.Getenv("XINQIAO_REDIS_ADDR")
	if addr == "" {
		t.Fatal("XINQIAO_REDIS_ADDR is not set: run `scripts/services.sh up` and `eval \"$(scripts/services.sh env)\"` (make test does this)")
	}
	return asynq.RedisClientOpt{Addr: addr, DB: 3}
}

// The worker starts, connects, runs a task and stops cleanly when its context ends.
func TestWorkerRunsTasksAndStopsCleanly(t *testing.T) {
	opt := redisOpt(t)
	w := &jobs.Worker{Redis: opt, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Concurrency: 2}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	client := asynq.NewClient(opt)
	defer client.Close()
	id := uuid.NewString()
	if _, err := client.Enqueue(asynq.NewTask(jobs.TypeHeartbeat, nil), asynq.TaskID(id), asynq.Retention(time.Hour)); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		info, err := insp.GetTaskInfo("default", id)
		if err == nil && info.State == asynq.TaskStateCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task not completed: %v %v", info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}
}
