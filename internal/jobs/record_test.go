package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/jobrun"
	"github.com/xinqiao/xinqiao/internal/jobs"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

// Every run is on record for admins: running, then done (100 %) or failed with the
// public reason of the error — never its internals.
func TestWorkerRecordsEachRunWithProgressAndReason(t *testing.T) {
	db := testdb.New(t)
	opt := redisOpt(t)
	store := &jobrun.Store{DB: db.App}
	w := &jobs.Worker{Redis: opt, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Concurrency: 2, Recorder: store,
		Tasks: map[string]func(context.Context, []byte) error{
			"test:ok": func(ctx context.Context, _ []byte) error {
				jobrun.Progress(ctx, 50)
				return nil
			},
			"test:conflict": func(context.Context, []byte) error { return fault.New(fault.Conflict, "nothing left to do") },
			"test:internal": func(context.Context, []byte) error {
				return fault.Wrap(errors.New("pq: secret value 张三 in a constraint"), "write")
			},
		}}
	admin, err := pgx.Connect(context.Background(), db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	client := asynq.NewClient(opt)
	defer client.Close()
	ids := map[string]string{}
	for _, typ := range []string{"test:ok", "test:conflict", "test:internal"} {
		id := uuid.NewString()
		ids[typ] = id
		if _, err := client.Enqueue(asynq.NewTask(typ, nil), asynq.TaskID(id), asynq.MaxRetry(0)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"test:ok": "done|100|", "test:conflict": "failed|0|conflict: nothing left to do", "test:internal": "failed|0|internal error (see the worker log)"}
	deadline := time.Now().Add(20 * time.Second)
	for typ, id := range ids {
		for {
			var status, reason string
			var progress int
			err := admin.QueryRow(context.Background(), `SELECT status, progress, error FROM job_runs WHERE id = $1 AND finished_at IS NOT NULL`, id).
				Scan(&status, &progress, &reason)
			if err == nil {
				if got := status + "|" + strconv.Itoa(progress) + "|" + reason; got != want[typ] {
					t.Errorf("%s: %s, want %s", typ, got, want[typ])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no finished run: %v", typ, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
