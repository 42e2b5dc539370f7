package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/xinqiao/xinqiao/internal/jobs"
)

// Two workers run schedulers; only the leader enqueues, so each period fires once. When
// the leader stops, the other takes over.
func TestSchedulerFiresOncePerPeriodAcrossWorkers(t *testing.T) {
	opt := redisOpt(t)
	opt.DB = 4
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	queue := "sched-" + uuid.NewString()[:8]
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var leaders atomic.Int32
	var maxLeaders atomic.Int32
	newScheduler := func(id string) *jobs.Scheduler {
		return &jobs.Scheduler{Redis: rdb, Opt: opt, Log: log, ID: id, Lease: 3 * time.Second,
			Entries: []jobs.Periodic{{Spec: "@every 1s", Task: asynq.NewTask(jobs.TypeHeartbeat, nil), Opts: []asynq.Option{asynq.Queue(queue)}}},
			OnLeader: func(l bool) {
				if l {
					n := leaders.Add(1)
					for m := maxLeaders.Load(); n > m && !maxLeaders.CompareAndSwap(m, n); m = maxLeaders.Load() {
					}
				} else {
					leaders.Add(-1)
				}
			}}
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	var wg sync.WaitGroup
	for _, r := range []struct {
		ctx context.Context
		s   *jobs.Scheduler
	}{{ctxA, newScheduler("a")}, {ctxB, newScheduler("b")}} {
		wg.Add(1)
		go func() { defer wg.Done(); r.s.Run(r.ctx) }()
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	count := func() int {
		info, err := insp.GetQueueInfo(queue)
		if err != nil {
			return 0
		}
		return info.Size
	}
	time.Sleep(5500 * time.Millisecond)
	first := count()
	if first < 3 || first > 7 {
		t.Fatalf("two schedulers over ~5 s enqueued %d tasks; once per second from one leader is 4-6", first)
	}
	// Stop whichever leads; the other must take over and keep firing.
	leader, _ := rdb.Get(context.Background(), jobs.LeaderKey).Result()
	if leader == "a" {
		stopA()
	} else {
		stopB()
	}
	time.Sleep(4 * time.Second)
	second := count() - first
	if second < 2 || second > 5 {
		t.Fatalf("after failover %d tasks in ~4 s", second)
	}
	stopA()
	stopB()
	wg.Wait()
	if maxLeaders.Load() != 1 {
		t.Fatalf("at most one leader at a time, saw %d", maxLeaders.Load())
	}
}
