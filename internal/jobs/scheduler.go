package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Periodic is a task enqueued on a cron spec (e.g. "@every 1m", "0 2 * * *").
type Periodic struct {
	Spec string
	Task *asynq.Task
	Opts []asynq.Option
}

// LeaderKey is the Redis key whose holder runs the scheduler.
const LeaderKey = "xinqiao:scheduler:leader"

// Scheduler enqueues periodic tasks from exactly one worker process at a time: the one
// holding a Redis lease. Other workers wait and take over when the lease lapses, so a
// period fires once however many workers run.
type Scheduler struct {
	Redis   redis.UniversalClient
	Opt     asynq.RedisConnOpt
	Log     *slog.Logger
	Entries []Periodic
	Lease   time.Duration // default 15 s
	ID      string        // instance id; random when empty
	// OnLeader, if set, is told when this instance gains (true) or loses (false) the lead.
	OnLeader func(bool)
}

var renewScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`)

var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1]) else return 0 end`)

// Run competes for the lead until ctx ends; while leading it runs an asynq scheduler.
func (s *Scheduler) Run(ctx context.Context) error {
	lease := s.Lease
	if lease <= 0 {
		lease = 15 * time.Second
	}
	if s.ID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		s.ID = hex.EncodeToString(b)
	}
	tick := time.NewTicker(lease / 3)
	defer tick.Stop()
	var running *asynq.Scheduler
	stop := func() {
		if running != nil {
			running.Shutdown()
			running = nil
			s.notify(false)
		}
	}
	defer func() {
		stop()
		_, _ = releaseScript.Run(context.Background(), s.Redis, []string{LeaderKey}, s.ID).Result()
	}()
	for {
		if running == nil {
			ok, err := s.Redis.SetNX(ctx, LeaderKey, s.ID, lease).Result()
			if err != nil && !errors.Is(err, context.Canceled) {
				s.Log.Warn("scheduler: cannot reach redis", "err", err)
			}
			if ok {
				sch, err := s.start()
				if err != nil {
					return err
				}
				running = sch
				s.notify(true)
				s.Log.Info("scheduler: leading", "instance", s.ID)
			}
		} else {
			n, err := renewScript.Run(ctx, s.Redis, []string{LeaderKey}, s.ID, lease.Milliseconds()).Int()
			if err != nil || n == 0 {
				s.Log.Warn("scheduler: lost the lead", "instance", s.ID, "err", err)
				stop()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (s *Scheduler) start() (*asynq.Scheduler, error) {
	sch := asynq.NewScheduler(s.Opt, &asynq.SchedulerOpts{Logger: slogAdapter{s.Log}, LogLevel: asynq.WarnLevel})
	for _, e := range s.Entries {
		if _, err := sch.Register(e.Spec, e.Task, e.Opts...); err != nil {
			return nil, err
		}
	}
	if err := sch.Start(); err != nil {
		return nil, err
	}
	return sch, nil
}

func (s *Scheduler) notify(leading bool) {
	if s.OnLeader != nil {
		s.OnLeader(leading)
	}
}
