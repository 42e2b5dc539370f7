// Command xinqiao is the whole of Xinqiao in one binary: the HTTP API with the web UI,
// the background worker, migrations, demo data and operator commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/xinqiao/xinqiao/frontend"
	"github.com/xinqiao/xinqiao/internal/access"
	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/barometer"
	"github.com/xinqiao/xinqiao/internal/blob"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/clientfile"
	"github.com/xinqiao/xinqiao/internal/concern"
	"github.com/xinqiao/xinqiao/internal/config"
	"github.com/xinqiao/xinqiao/internal/consent"
	"github.com/xinqiao/xinqiao/internal/crisis"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/disclosure"
	"github.com/xinqiao/xinqiao/internal/document"
	"github.com/xinqiao/xinqiao/internal/emergency"
	"github.com/xinqiao/xinqiao/internal/httpapi"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/jobrun"
	"github.com/xinqiao/xinqiao/internal/jobs"
	"github.com/xinqiao/xinqiao/internal/keyring"
	"github.com/xinqiao/xinqiao/internal/library"
	"github.com/xinqiao/xinqiao/internal/mailbox"
	"github.com/xinqiao/xinqiao/internal/metrics"
	"github.com/xinqiao/xinqiao/internal/notify"
	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/reconcile"
	"github.com/xinqiao/xinqiao/internal/referral"
	"github.com/xinqiao/xinqiao/internal/research"
	"github.com/xinqiao/xinqiao/internal/retention"
	"github.com/xinqiao/xinqiao/internal/rollup"
	"github.com/xinqiao/xinqiao/internal/roster"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/screening"
	"github.com/xinqiao/xinqiao/internal/supportplan"
	"github.com/xinqiao/xinqiao/internal/teachingcase"
	"github.com/xinqiao/xinqiao/internal/tenant"
	"github.com/xinqiao/xinqiao/internal/termsummary"
	"github.com/xinqiao/xinqiao/internal/tracing"
)

const usage = `xinqiao — student mental-health counseling platform

Usage:
  xinqiao serve                 HTTP API and web UI
  xinqiao worker                background job worker (asynq)
  xinqiao migrate               apply database migrations (owner role)
  xinqiao seed demo             create the demo district (not in production)
  xinqiao seed synthetic --schools 200 --students 300000 --sessions 2000000 --assessments 500000 --seed 1
                                load a synthetic district with COPY for load tests and
                                benchmarks (not in production; prints a JSON summary)
  xinqiao admin create-district --name NAME --code CODE --admin USERNAME --admin-name NAME
                                bootstrap a district and its first admin
                                (password from XINQIAO_ADMIN_PASSWORD)
  xinqiao audit verify          verify every audit hash chain (owner role)
  xinqiao keys rotate           re-wrap every school data key (and re-seal TOTP secrets and research keys) with XINQIAO_MASTER_KEY
  xinqiao docs permissions      print docs/permissions.md from the policy
  xinqiao healthcheck [--worker] exit 0 when /healthz of serve (or the worker) answers

Configuration comes from XINQIAO_* environment variables; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "xinqiao:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return errors.New("a command is required")
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	shutdownTracing, err := tracing.Setup(ctx, cfg.OTLPEndpoint, "xinqiao-"+args[0])
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() { _ = shutdownTracing(context.Background()) }()
	switch args[0] {
	case "serve":
		startPprof(log)
		return serve(ctx, cfg, log)
	case "worker":
		startPprof(log)
		return worker(ctx, cfg, log)
	case "migrate":
		return database.Migrate(ctx, cfg.MigrateDatabaseURL, log)
	case "seed":
		if len(args) >= 2 && args[1] == "synthetic" {
			return seedSynthetic(ctx, cfg, args[2:], stdout)
		}
		if len(args) < 2 || args[1] != "demo" {
			return errors.New("usage: xinqiao seed demo | xinqiao seed synthetic [flags]")
		}
		return seedDemo(ctx, cfg, log, stdout)
	case "admin":
		return adminCmd(ctx, cfg, log, args[1:], stdout)
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			return errors.New("usage: xinqiao audit verify")
		}
		return auditVerify(ctx, cfg, stdout)
	case "docs":
		if len(args) < 2 || args[1] != "permissions" {
			return errors.New("usage: xinqiao docs permissions")
		}
		return docsPermissions(ctx, cfg, log, stdout)
	case "keys":
		if len(args) < 2 || args[1] != "rotate" {
			return errors.New("usage: xinqiao keys rotate")
		}
		return keysRotate(ctx, cfg, stdout)
	case "healthcheck":
		addr := cfg.HTTPAddr
		if len(args) > 1 && args[1] == "--worker" {
			addr = cfg.WorkerAddr
		}
		return healthcheck(addr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// app is what serve and the operator commands share.
type app struct {
	db        *database.DB
	caseFiles *casefile.Service
	ring      *keyring.Keyring
	enforcer  *access.Enforcer
	identity  *identity.Service
	tenants   *tenant.Service
	roster    *roster.Service
	audit     *audit.Service
}

func openApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	db.AsyncAuditCommit = cfg.ReadAuditAsync
	en, err := access.NewEnforcer(db.Pool, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	ring, err := keyring.Parse(cfg.MasterKey, cfg.MasterKeyPrevious)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &app{
		db: db, enforcer: en, caseFiles: &casefile.Service{DB: db, Cipher: ring}, ring: ring,
		identity: &identity.Service{DB: db, Authorizer: en, SessionTTL: cfg.SessionTTL, IdleTimeout: cfg.SessionIdleTimeout,
			Throttle: identity.DefaultThrottle, Cipher: ring, OIDC: &identity.OIDC{Getenv: os.Getenv}},
		tenants: &tenant.Service{DB: db},
		roster:  &roster.Service{DB: db},
		audit:   &audit.Service{DB: db},
	}, nil
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	log.Info("starting xinqiao serve", "config", cfg)
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ready := make(chan struct{})
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go a.enforcer.Watch(watchCtx, cfg.DatabaseURL, ready)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		return errors.New("policy listener did not start")
	}
	store, err := blob.Open(cfg.S3Endpoint, cfg.S3AccessKey, cfg.S3SecretKey, cfg.S3Bucket, cfg.S3UseTLS)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, Password: cfg.RedisPassword})
	defer rdb.Close()
	ui, err := fs.Sub(frontend.Dist, "dist")
	if err != nil {
		return err
	}
	reg := metrics.New()
	reg.WatchPool("app", a.db.Pool)
	docs := &document.Service{DB: a.db, Cipher: a.caseFiles.Cipher, Store: store, MaxBytes: cfg.DocumentMaxBytes, Log: log}
	disclosures := &disclosure.Service{DB: a.db, Cipher: a.ring}
	crises := &crisis.Service{DB: a.db, Cipher: a.ring, CaseFiles: a.caseFiles, Disclosures: disclosures}
	srv := &httpapi.Server{
		Log: log, Identity: a.identity, Tenants: a.tenants, Roster: a.roster, Audit: a.audit, Access: a.enforcer, Metrics: reg,
		CaseFiles: a.caseFiles, Inbox: &inbox.Service{DB: a.db}, Notifications: &notify.Service{DB: a.db},
		Concerns: &concern.Service{DB: a.db, Cipher: a.ring, CaseFiles: a.caseFiles},
		Consents: &consent.Service{DB: a.db, Cipher: a.ring}, Disclosures: &disclosure.Service{DB: a.db, Cipher: a.ring},
		SupportPlans: &supportplan.Service{DB: a.db, Cipher: a.ring}, Documents: docs,
		Emergency: &emergency.Service{DB: a.db, Cipher: a.caseFiles.Cipher, Passwords: a.identity, CaseFiles: a.caseFiles,
			ClientFiles: &clientfile.Service{DB: a.db, Cipher: a.ring}},
		Retention: &retention.Service{DB: a.db, Objects: store, Log: log},
		Screening: &screening.Service{DB: a.db, Cipher: a.ring, CaseFiles: a.caseFiles},
		Jobs:      &jobrun.Store{DB: a.db},
		Research:  &research.Service{DB: a.db, Objects: store, Keys: a.ring},
		Rollups:   &rollup.Service{DB: a.db},
		Crises:    crises, Referrals: &referral.Service{DB: a.db, Cipher: a.ring, Disclosures: disclosures, Crises: crises, FontPath: cfg.PDFFont},
		Appointments:  &appointment.Service{DB: a.db, Cipher: a.ring, CaseFiles: a.caseFiles},
		Library:       &library.Service{DB: a.db, Files: &library.Files{Store: store, MaxBytes: cfg.DocumentMaxBytes, Log: log}},
		TeachingCases: &teachingcase.Service{DB: a.db, Cipher: a.ring},
		Programs:      &program.Service{DB: a.db, Store: store, MaxBytes: cfg.DocumentMaxBytes},
		Barometer:     &barometer.Service{DB: a.db, Cipher: a.ring},
		Mailbox:       &mailbox.Service{DB: a.db, Cipher: a.ring, CaseFiles: a.caseFiles},
		TermSummaries: &termsummary.Service{DB: a.db, FontPath: cfg.PDFFont},
		ClientFiles:   &clientfile.Service{DB: a.db, Cipher: a.ring},
		UI:            ui, SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.TrustedProxies, PublicURL: cfg.PublicURL,
		Limits: &httpapi.Limits{JSONBytes: cfg.MaxJSONBytes, UploadBytes: cfg.MaxUploadBytes,
			Login:  httpapi.Rate{Every: cfg.RateLogin.Every, Burst: cfg.RateLogin.Burst},
			Public: httpapi.Rate{Every: cfg.RatePublic.Every, Burst: cfg.RatePublic.Burst},
			Writes: httpapi.Rate{Every: cfg.RateWrites.Every, Burst: cfg.RateWrites.Burst}},
		Ready: map[string]func(context.Context) error{
			"postgres": func(ctx context.Context) error { return a.db.Pool.Ping(ctx) },
			"redis":    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
			"minio":    store.Ping,
		},
	}
	if cfg.RateStore == "redis" {
		srv.RateStore = httpapi.RedisRates{Client: rdb}
	}
	srv.CursorKey = a.ring.Derive("pagination-cursor")
	handler := srv.Handler()
	if d, err := time.ParseDuration(os.Getenv("XINQIAO_CHAOS_ANSWER_DELAY")); err == nil && d > 0 && cfg.Env != "production" {
		log.Warn("chaos answer delay is on: writes answer late, after their commit", "delay", d)
		handler = delayAnswers(handler, d)
	}
	hs := &http.Server{Addr: cfg.HTTPAddr, Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("listening", "addr", cfg.HTTPAddr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func worker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	log.Info("starting xinqiao worker", "config", cfg)
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr, Password: cfg.RedisPassword})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	redisOpt := asynq.RedisClientOpt{Addr: cfg.RedisAddr, Password: cfg.RedisPassword}
	// Periodic tasks fire from one worker at a time (a Redis lease), once per period.
	sched := &jobs.Scheduler{Redis: rdb, Opt: redisOpt, Log: log, Entries: []jobs.Periodic{
		{Spec: "@every 1m", Task: asynq.NewTask(jobs.TypeHeartbeat, nil), Opts: []asynq.Option{asynq.Queue("low"), asynq.Unique(50 * time.Second)}},
		{Spec: "@every 10m", Task: asynq.NewTask(casefile.TypeAutoSign, nil), Opts: []asynq.Option{asynq.Queue("default"), asynq.Unique(9 * time.Minute)}},
		{Spec: "@every 30m", Task: asynq.NewTask(supportplan.TypeReviewReminder, nil), Opts: []asynq.Option{asynq.Queue("default"), asynq.Unique(29 * time.Minute)}},
		{Spec: "@every 10m", Task: asynq.NewTask(appointment.TypeReminder, nil), Opts: []asynq.Option{asynq.Queue("default"), asynq.Unique(9 * time.Minute)}},
		{Spec: "30 19 * * *", Task: asynq.NewTask(retention.TypeDestroy, nil), Opts: []asynq.Option{asynq.Queue("low"), asynq.Unique(23 * time.Hour)}},
		{Spec: "0 * * * *", Task: asynq.NewTask(barometer.TypeReminder, nil), Opts: []asynq.Option{asynq.Queue("low"), asynq.Unique(50 * time.Minute)}},
		{Spec: "@every 30m", Task: asynq.NewTask(reconcile.TypeReconcile, nil), Opts: []asynq.Option{asynq.Queue("low"), asynq.Unique(25 * time.Minute)}},
		{Spec: "@every 1m", Task: asynq.NewTask(screening.TypeEscalate, nil), Opts: []asynq.Option{asynq.Queue("critical"), asynq.Unique(50 * time.Second)}},
		{Spec: "@every 1m", Task: asynq.NewTask(crisis.TypeEscalate, nil), Opts: []asynq.Option{asynq.Queue("critical"), asynq.Unique(50 * time.Second)}},
		{Spec: "@every 1h", Task: asynq.NewTask(referral.TypeFeedbackReminder, nil), Opts: []asynq.Option{asynq.Queue("default"), asynq.Unique(55 * time.Minute)}},
		// The outbox wakes the rollup refresh after each change; this sweep catches any left.
		{Spec: "@every 1m", Task: asynq.NewTask(rollup.TypeRefresh, nil), Opts: []asynq.Option{asynq.Queue("low"), asynq.Unique(50 * time.Second)}},
		{Spec: "0 18 * * *", Task: asynq.NewTask(rollup.TypeRebuild, nil), Opts: []asynq.Option{asynq.Queue("low"), asynq.Unique(23 * time.Hour)}},
	}}
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		if err := sched.Run(ctx); err != nil {
			log.Error("scheduler", "err", err)
		}
	}()
	defer func() { <-schedDone }()
	reg := metrics.New()
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	db.AsyncAuditCommit = cfg.ReadAuditAsync
	reg.WatchPool("worker", db.Pool)
	queue := asynq.NewClient(redisOpt)
	defer queue.Close()
	relay := &jobs.Relay{DB: db, Queue: queue, Log: log, Observer: reg, Redis: rdb}
	relayDone := make(chan struct{})
	go func() { defer close(relayDone); _ = relay.Run(ctx) }()
	defer func() { <-relayDone }()
	ring, err := keyring.Parse(cfg.MasterKey, cfg.MasterKeyPrevious)
	if err != nil {
		return err
	}
	cases := &casefile.Service{DB: db, Cipher: ring}
	plans := &supportplan.Service{DB: db, Cipher: ring}
	store, err := blob.Open(cfg.S3Endpoint, cfg.S3AccessKey, cfg.S3SecretKey, cfg.S3Bucket, cfg.S3UseTLS)
	if err != nil {
		return err
	}
	// One job removes orphan objects of every kind the object store holds.
	orphans := &reconcile.Job{DB: db, Store: store, Kinds: []reconcile.Kind{document.Orphans, program.EvidenceOrphans, library.Orphans}}
	mailer := &notify.Mailer{DB: db, PublicURL: cfg.PublicURL,
		SMTP: notify.SMTP{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword}}
	if cfg.SMTPAddr == "" {
		log.Info("e-mail notifications are off (XINQIAO_SMTP_ADDR is empty)")
	}
	w := &jobs.Worker{Redis: redisOpt, Log: log,
		Tasks: map[string]func(context.Context, []byte) error{
			// Idempotent: a second run finds nothing left to sign.
			casefile.TypeAutoSign: func(ctx context.Context, _ []byte) error {
				n, err := cases.SignAllOverdue(ctx, 24*time.Hour)
				if n > 0 {
					log.Info("notes signed automatically", "count", n)
				}
				return err
			},
			// Idempotent: a task is posted once per plan, review date and counselor.
			supportplan.TypeReviewReminder: func(ctx context.Context, _ []byte) error {
				n, err := plans.RemindOverdue(ctx)
				if n > 0 {
					log.Info("support plan review tasks posted", "count", n)
				}
				return err
			},
			// Idempotent: one reminder per appointment and start time.
			appointment.TypeReminder: func(ctx context.Context, _ []byte) error {
				n, err := (&appointment.Service{DB: db}).RemindUpcoming(ctx, appointment.ReminderAhead)
				if n > 0 {
					log.Info("appointment reminders posted", "count", n)
				}
				return err
			},
			// Idempotent: destroyed files are gone; their objects are removed until confirmed.
			retention.TypeDestroy: func(ctx context.Context, _ []byte) error {
				rep, err := (&retention.Service{DB: db, Objects: store, Log: log}).DestroyExpired(ctx, 500)
				if rep.Destroyed > 0 || rep.ObjectsRemoved > 0 {
					log.Info("case files destroyed after their retention period", "files", rep.Destroyed, "objects", rep.ObjectsRemoved)
				}
				return err
			},
			// Idempotent: each escalation step happens once per alert.
			screening.TypeEscalate: func(ctx context.Context, _ []byte) error {
				n, err := (&screening.Service{DB: db, Cipher: ring}).EscalateOverdue(ctx)
				if n > 0 {
					log.Info("screening alerts escalated", "steps", n)
				}
				return err
			},
			// Idempotent: each crisis escalation step happens once per crisis.
			crisis.TypeEscalate: func(ctx context.Context, _ []byte) error {
				n, err := (&crisis.Service{DB: db, Cipher: ring}).EscalateOverdue(ctx, crisis.NotifySupervisors)
				if n > 0 {
					log.Info("crises escalated", "steps", n)
				}
				return err
			},
			// Idempotent: recomputes the dirty cells; a failed batch leaves its marks for the next run.
			rollup.TypeRefresh: func(ctx context.Context, _ []byte) error {
				_, err := (&rollup.Service{DB: db}).Refresh(ctx)
				return err
			},
			// Idempotent: the nightly full rebuild yields the same tables as the refreshes.
			// A district id in the payload (a threshold change) rebuilds that district only.
			rollup.TypeRebuild: func(ctx context.Context, payload []byte) error {
				var p struct {
					District *uuid.UUID `json:"district_id"`
				}
				if len(payload) > 0 {
					if err := json.Unmarshal(payload, &p); err != nil {
						return fmt.Errorf("rollup rebuild payload: %w", asynq.SkipRetry)
					}
				}
				if p.District != nil {
					return (&rollup.Service{DB: db}).Rebuild(ctx, *p.District)
				}
				return (&rollup.Service{DB: db}).RebuildAll(ctx)
			},
			// Idempotent: a ready export is left alone; a retried run rewrites the same objects.
			research.TypeExport: func(ctx context.Context, payload []byte) error {
				var p struct {
					District uuid.UUID `json:"district_id"`
					Request  uuid.UUID `json:"request_id"`
				}
				if err := json.Unmarshal(payload, &p); err != nil {
					return fmt.Errorf("research export payload: %w", asynq.SkipRetry)
				}
				return (&research.Service{DB: db, Objects: store, Keys: ring}).Run(ctx, p.District, p.Request, func(pct int) { jobrun.Progress(ctx, pct) })
			},
			// Idempotent: one reminder per referral and feedback date.
			referral.TypeFeedbackReminder: func(ctx context.Context, _ []byte) error {
				n, err := (&referral.Service{DB: db, Cipher: ring}).RemindFeedbackOverdue(ctx)
				if n > 0 {
					log.Info("referral feedback reminders posted", "count", n)
				}
				return err
			},
			// Idempotent: one delivery row per inbox item; a sent or skipped item is left
			// alone, a failed send returns the error and asynq retries it.
			inbox.TypeEmail: mailer.Handle,
			// Idempotent: one reminder per homeroom and week (inbox dedupe key).
			barometer.TypeReminder: func(ctx context.Context, _ []byte) error {
				n, err := (&barometer.Service{DB: db}).RemindMissing(ctx)
				if n > 0 {
					log.Info("barometer reminders posted", "count", n)
				}
				return err
			},
			// Idempotent: removes objects older than an hour that have no row.
			reconcile.TypeReconcile: func(ctx context.Context, _ []byte) error {
				n, err := orphans.Run(ctx, time.Now().Add(-reconcile.OrphanAge))
				if n > 0 {
					log.Info("orphan objects removed", "count", n)
				}
				return err
			},
		},
		Concurrency: cfg.WorkerConcurrency, Observer: reg, Recorder: &jobrun.Store{DB: db}}
	if spec := os.Getenv("XINQIAO_CHAOS_HOLD"); spec != "" && cfg.Env != "production" {
		w.Hold = chaosHold(spec, log)
	}
	// The worker's own small HTTP server: liveness and metrics.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"status":"ok"}`))
	})
	mux.Handle("GET /metrics", reg.Handler())
	hs := &http.Server{Addr: cfg.WorkerAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("worker http server", "err", err)
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	return w.Run(ctx)
}

func seedDemo(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	if cfg.Env == "production" {
		return errors.New("demo data is never seeded in production")
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.db.Close()
	s := &demo.Seeder{DB: a.db, Identity: a.identity, Tenants: a.tenants, Roster: a.roster, ReloadPolicy: a.enforcer.Reload,
		Screening: &screening.Service{DB: a.db, Cipher: a.ring, CaseFiles: a.caseFiles}, Referrals: &referral.Service{DB: a.db, Cipher: a.ring}, Library: true,
		Programs: &program.Service{DB: a.db}, CaseFiles: a.caseFiles, Rollups: &rollup.Service{DB: a.db}}
	logins, created, err := s.Seed(ctx)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintln(stdout, "demo district 示范区 created")
	} else {
		fmt.Fprintln(stdout, "demo district 示范区 already exists")
	}
	fmt.Fprintf(stdout, "demo logins (password %s):\n", demo.Password)
	for _, l := range logins {
		fmt.Fprintf(stdout, "  %-20s %-20s %s\n", l.Username, l.Role, l.Scope)
	}
	return nil
}

func adminCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create-district" {
		return errors.New("usage: xinqiao admin create-district --name NAME --code CODE --admin USERNAME --admin-name NAME")
	}
	fl := flag.NewFlagSet("create-district", flag.ContinueOnError)
	name := fl.String("name", "", "district name")
	code := fl.String("code", "", "district code (a-z, 0-9, -)")
	user := fl.String("admin", "", "username of the first district admin")
	display := fl.String("admin-name", "", "display name of the first district admin")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	pw := os.Getenv("XINQIAO_ADMIN_PASSWORD")
	if pw == "" {
		return errors.New("set XINQIAO_ADMIN_PASSWORD to the first admin's password")
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.db.Close()
	sys := scope.Actor{DistrictID: uuid.Must(uuid.NewV7()), Kind: scope.District, Username: "system:admin-cli"}
	d, u, err := a.tenants.BootstrapDistrict(ctx, sys, *name, *code, a.identity,
		identity.NewUser{Username: *user, DisplayName: *display, Password: pw})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "district %s (%s) created with id %s; admin %s has id %s\n", d.Name, d.Code, d.ID, u.Username, u.ID)
	return nil
}

// describe renders a domain error with its field errors for the terminal.
func describe(err error) error {
	if fe, ok := faultFields(err); ok {
		return fmt.Errorf("%v %v", err, fe)
	}
	return err
}

func auditVerify(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	conn, err := pgx.Connect(ctx, cfg.MigrateDatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rep, err := audit.Verify(ctx, conn)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit: %d chains, %d rows verified\n", rep.Chains, rep.Rows)
	for _, b := range rep.Breaks {
		fmt.Fprintf(stdout, "BROKEN: chain %s at seq %d: %s\n", b.Chain, b.Seq, b.Reason)
	}
	if len(rep.Breaks) > 0 {
		return fmt.Errorf("%d broken chain(s)", len(rep.Breaks))
	}
	fmt.Fprintln(stdout, "audit: all chains intact")
	return nil
}

func keysRotate(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	ring, err := keyring.Parse(cfg.MasterKey, cfg.MasterKeyPrevious)
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	var moved int
	var secrets keyring.SecretsRotated
	err = db.InTx(ctx, scope.Actor{Kind: "keys", Username: "system:keys"}, func(tx pgx.Tx) error {
		if moved, err = ring.Rotate(ctx, tx); err != nil {
			return err
		}
		secrets, err = ring.RotateSecrets(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "keys: %d data key(s) re-wrapped with the current master key; no data was re-encrypted\n", moved)
	fmt.Fprintf(stdout, "keys: %d TOTP secret(s) and %d research key(s) sealed again with the current master key\n", secrets.TOTP, secrets.Research)
	return nil
}

func docsPermissions(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	db, err := database.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	en, err := access.NewEnforcer(db.Pool, log)
	if err != nil {
		return err
	}
	rules, err := en.Rules()
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, access.PermissionsMarkdown(rules))
	return nil
}

func healthcheck(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", resp.StatusCode)
	}
	return nil
}

// chaosHold parses XINQIAO_CHAOS_HOLD ("<task type>@<percent>", e.g. "research:export@90",
// never honoured in production): a run of that type that reports that progress stops
// there until its worker dies. The chaos tests (internal/chaos) use it to kill a worker
// mid-job.
func chaosHold(spec string, log *slog.Logger) func(context.Context, string, int) {
	typ, pct, ok := strings.Cut(spec, "@")
	at, err := strconv.Atoi(pct)
	if !ok || err != nil {
		log.Warn("XINQIAO_CHAOS_HOLD ignored: want <task type>@<percent>")
		return nil
	}
	log.Warn("chaos hold is on: jobs of this type stop mid-way", "type", typ, "percent", at)
	return func(ctx context.Context, taskType string, p int) {
		if taskType == typ && p == at {
			log.Warn("chaos hold: job parked", "type", taskType, "percent", p)
			<-ctx.Done()
		}
	}
}

// delayAnswers holds the answer of every write for d after the handler has produced it
// (after its commit). The chaos tests (XINQIAO_CHAOS_ANSWER_DELAY, never honoured in
// production) kill the API in that window: committed, never acknowledged.
func delayAnswers(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&lateWriter{ResponseWriter: w, delay: d}, r)
	})
}

type lateWriter struct {
	http.ResponseWriter
	delay time.Duration
	held  bool
}

func (l *lateWriter) hold() {
	if !l.held {
		l.held = true
		time.Sleep(l.delay)
	}
}

func (l *lateWriter) WriteHeader(code int) { l.hold(); l.ResponseWriter.WriteHeader(code) }

func (l *lateWriter) Write(b []byte) (int, error) { l.hold(); return l.ResponseWriter.Write(b) }
