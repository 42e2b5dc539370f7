package notify_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/jobs"
)

// The whole path as in `xinqiao worker`: the outbox row of a committed item goes through
// the relay to asynq and the worker's handler sends one message; a second copy of the
// job (a relay that died before marking its rows, a duplicate enqueue) sends nothing more.
func TestTheWorkerAnnouncesACommittedItemOnceThroughTheRelayAndAsynq(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := asynq.RedisClientOpt{Addr: os.Getenv("XINQIAO_REDIS_ADDR"), DB: 11}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	for q := range jobs.Queues {
		_ = insp.DeleteQueue(q, true)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &jobs.Worker{Redis: opt, Log: log, Concurrency: 2, Tasks: map[string]func(context.Context, []byte) error{inbox.TypeEmail: f.mailer.Handle}}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	client := asynq.NewClient(opt)
	defer client.Close()
	relay := &jobs.Relay{DB: f.db.App, Queue: client, Log: log}

	to := recipient()
	u := f.user(to, true)
	f.post(u.UserID, false)
	if sent, err := relay.Pass(ctx); err != nil || sent != 1 {
		t.Fatalf("relay: sent %d, %v", sent, err)
	}
	waitFor(t, func() bool { return len(received(t, to)) >= 1 })

	// A copy of the same job under another task id runs to completion and sends nothing.
	job := f.jobs(u.UserID)[0]
	id := uuid.NewString()
	if _, err := client.Enqueue(asynq.NewTask(inbox.TypeEmail, job), asynq.TaskID(id), asynq.Retention(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		info, err := insp.GetTaskInfo("default", id)
		return err == nil && info.State == asynq.TaskStateCompleted
	})
	if n := len(received(t, to)); n != 1 {
		t.Fatalf("messages = %d, want exactly 1", n)
	}
}

// waitFor polls cond until it holds or 20 seconds pass (a message crosses the worker
// and the SMTP server asynchronously).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
