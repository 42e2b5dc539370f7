// Package metrics owns the Prometheus metrics of Xinqiao processes. Labels carry route
// patterns, status codes, job types and outcomes only — never ids, names or any value
// from a request.
package metrics

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds one process's metrics.
type Registry struct {
	reg          *prometheus.Registry
	httpDuration *prometheus.HistogramVec
	denials      *prometheus.CounterVec
	jobs         *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	outboxSize   prometheus.Gauge
	outboxLag    prometheus.Gauge
}

// New creates a registry with the Go and process collectors.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "xinqiao_http_request_duration_seconds", Help: "HTTP request duration by route pattern, method and status.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "status"})
	r.denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xinqiao_authorization_denials_total", Help: "Refused requests by reason (unauthenticated, forbidden, outside scope).",
	}, []string{"reason"})
	r.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xinqiao_jobs_total", Help: "Background jobs handled, by type and outcome.",
	}, []string{"type", "outcome"})
	r.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "xinqiao_job_duration_seconds", Help: "Background job duration by type.",
	}, []string{"type"})
	r.outboxSize = prometheus.NewGauge(prometheus.GaugeOpts{Name: "xinqiao_outbox_pending", Help: "Outbox rows not yet handed to the queue."})
	r.outboxLag = prometheus.NewGauge(prometheus.GaugeOpts{Name: "xinqiao_outbox_lag_seconds", Help: "Age of the oldest outbox row not yet handed to the queue."})
	r.reg.MustRegister(r.httpDuration, r.denials, r.jobs, r.jobDuration, r.outboxSize, r.outboxLag)
	return r
}

// ObserveHTTP records one request.
func (r *Registry) ObserveHTTP(route, method, status string, d time.Duration) {
	r.httpDuration.WithLabelValues(route, method, status).Observe(d.Seconds())
}

// Denied counts one refused request.
func (r *Registry) Denied(reason string) { r.denials.WithLabelValues(reason).Inc() }

// ObserveJob records one job run.
func (r *Registry) ObserveJob(taskType, outcome string, d time.Duration) {
	r.jobs.WithLabelValues(taskType, outcome).Inc()
	r.jobDuration.WithLabelValues(taskType).Observe(d.Seconds())
}

// ObserveOutbox records the outbox backlog.
func (r *Registry) ObserveOutbox(pending int, oldest time.Duration) {
	r.outboxSize.Set(float64(pending))
	r.outboxLag.Set(oldest.Seconds())
}

// WatchPool exports the pool's statistics.
func (r *Registry) WatchPool(name string, pool *pgxpool.Pool) {
	r.reg.MustRegister(poolCollector{name: name, pool: pool})
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

var (
	poolAcquired = prometheus.NewDesc("xinqiao_db_pool_acquired_connections", "Connections in use.", []string{"pool"}, nil)
	poolIdle     = prometheus.NewDesc("xinqiao_db_pool_idle_connections", "Idle connections.", []string{"pool"}, nil)
	poolTotal    = prometheus.NewDesc("xinqiao_db_pool_total_connections", "All connections.", []string{"pool"}, nil)
	poolMax      = prometheus.NewDesc("xinqiao_db_pool_max_connections", "Pool size.", []string{"pool"}, nil)
	poolWaits    = prometheus.NewDesc("xinqiao_db_pool_acquire_waits_total", "Acquires that had to wait.", []string{"pool"}, nil)
	poolWaitSecs = prometheus.NewDesc("xinqiao_db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection.", []string{"pool"}, nil)
)

type poolCollector struct {
	name string
	pool *pgxpool.Pool
}

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolWaits, poolWaitSecs} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()), c.name)
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.IdleConns()), c.name)
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.TotalConns()), c.name)
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()), c.name)
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), c.name)
	ch <- prometheus.MustNewConstMetric(poolWaitSecs, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds(), c.name)
}
