package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats summarizes one measured run.
type Stats struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput"` // completed requests per second
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	FirstErr   string  `json:"first_error,omitempty"`
}

func summarize(lat []time.Duration, errs int, firstErr string, elapsed time.Duration) Stats {
	ok := make([]time.Duration, 0, len(lat))
	for _, d := range lat {
		if d > 0 {
			ok = append(ok, d)
		}
	}
	slices.Sort(ok)
	q := func(p float64) float64 {
		if len(ok) == 0 {
			return math.NaN()
		}
		i := min(len(ok)-1, int(math.Ceil(p*float64(len(ok))))-1)
		return float64(ok[max(0, i)].Microseconds()) / 1000
	}
	return Stats{Requests: len(lat), Errors: errs, Seconds: elapsed.Seconds(), Throughput: float64(len(lat)-errs) / elapsed.Seconds(),
		P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: q(1), FirstErr: firstErr}
}

// OpenLoop sends at a fixed arrival rate for dur, whatever the answers take: request i
// is due at start + i/rate, and its latency counts from that intended time, not from
// when it could be sent (no coordinated omission: a stall shows up in every request
// that should have gone out during it). In-flight requests are capped at maxInFlight;
// waiting for a slot still counts against the late request.
func OpenLoop(ctx context.Context, rate float64, dur time.Duration, maxInFlight int, do func(ctx context.Context, i int) error) Stats {
	n := int(rate * dur.Seconds())
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now().Add(20 * time.Millisecond)
	for i := 0; i < n; i++ {
		intended := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(intended); d > 0 {
			time.Sleep(d)
		}
		if ctx.Err() != nil {
			lat = lat[:i]
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, intended time.Time) {
			defer wg.Done()
			err := do(ctx, i)
			d := time.Since(intended)
			<-sem
			if err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			lat[i] = d
		}(i, intended)
	}
	wg.Wait()
	fe, _ := firstErr.Load().(string)
	return summarize(lat, int(errs.Load()), fe, time.Since(start))
}

// ClosedLoop runs workers that each send the next request when the last one answered,
// for dur or until n requests (n ≤ 0: no limit): the capacity of a path.
func ClosedLoop(ctx context.Context, workers int, dur time.Duration, n int, do func(ctx context.Context, i int) error) Stats {
	var next atomic.Int64
	var errs atomic.Int64
	var firstErr atomic.Value
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if n > 0 && i >= n {
					break
				}
				t := time.Now()
				if err := do(ctx, i); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					mine = append(mine, 0)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	fe, _ := firstErr.Load().(string)
	return summarize(lat, int(errs.Load()), fe, time.Since(start))
}

func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: 90 * time.Second, DisableCompression: true}}
}

func (s Stats) String() string {
	return fmt.Sprintf("%d req (%d err) in %.1fs = %.0f/s, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms",
		s.Requests, s.Errors, s.Seconds, s.Throughput, s.P50, s.P95, s.P99, s.Max)
}
