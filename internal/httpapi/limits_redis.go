package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RateStore counts the rate limits of the route classes for every API instance at once.
type RateStore interface {
	// Take spends one request of key under r: allowed, or refused with the wait.
	Take(ctx context.Context, key string, r Rate) (ok bool, retryAfter time.Duration, err error)
}

// RedisRates is a RateStore in Redis: one key per (class, client) holding the GCRA
// "theoretical arrival time" in milliseconds, expiring when the bucket is full again.
// The script runs atomically in Redis, so every instance spends from one budget.
type RedisRates struct {
	Client redis.Scripter
	Prefix string // key prefix; "" means "xinqiao:rate:"
}

// gcra: KEYS[1] the bucket; ARGV[1] burst; ARGV[2] the emission interval in ms.
// Returns {1, 0} when allowed, {0, wait ms} when refused (nothing spent).
var gcra = redis.NewScript(`
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now}
end
redis.call("SET", KEYS[1], new_tat, "PX", math.max(1, new_tat - now))
return {1, 0}
`)

// Take implements RateStore.
func (r RedisRates) Take(ctx context.Context, key string, rt Rate) (bool, time.Duration, error) {
	prefix := r.Prefix
	if prefix == "" {
		prefix = "xinqiao:rate:"
	}
	interval := rt.Every.Milliseconds()
	if interval < 1 {
		interval = 1
	}
	res, err := gcra.Run(ctx, r.Client, []string{prefix + key}, rt.Burst, interval).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("rate limit script: unexpected answer %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}
