package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/config"
	"github.com/xinqiao/xinqiao/internal/keyring"
	"github.com/xinqiao/xinqiao/internal/synthetic"
)

// seedSynthetic loads a synthetic district (internal/synthetic) through the owner role.
func seedSynthetic(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if cfg.Env == "production" {
		return errors.New("synthetic data is never seeded in production")
	}
	fl := flag.NewFlagSet("seed synthetic", flag.ContinueOnError)
	o := synthetic.Options{Progress: os.Stderr}
	fl.IntVar(&o.Schools, "schools", 200, "number of schools")
	fl.IntVar(&o.Students, "students", 300000, "number of students")
	fl.IntVar(&o.Sessions, "sessions", 2000000, "number of counseling sessions")
	fl.IntVar(&o.Assessments, "assessments", 500000, "number of screening assessments")
	fl.Uint64Var(&o.Seed, "seed", 1, "random seed: the same flags give the same district")
	fl.Float64Var(&o.CaseFileRate, "case-file-rate", 0.2, "share of students with a case file")
	fl.StringVar(&o.Code, "code", "synthetic", "district code")
	until := fl.String("until", synthetic.DefaultUntil.Format(time.DateOnly), "last day of data (YYYY-MM-DD); the data spans the year before")
	quiet := fl.Bool("quiet", false, "no progress bar")
	if err := fl.Parse(args); err != nil {
		return err
	}
	var err error
	if o.Until, err = time.Parse(time.DateOnly, *until); err != nil {
		return err
	}
	if *quiet {
		o.Progress = nil
	}
	ring, err := keyring.Parse(cfg.MasterKey, cfg.MasterKeyPrevious)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, cfg.MigrateDatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	sum, err := synthetic.Generate(ctx, conn, ring, o)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(sum)
}

// startPprof serves net/http/pprof on XINQIAO_PPROF_ADDR (loopback only; off when empty),
// for the benchmark harness (scripts/bench.sh) and operators chasing a hot path.
func startPprof(log *slog.Logger) {
	addr := os.Getenv("XINQIAO_PPROF_ADDR")
	if addr == "" {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !(host == "localhost" || net.ParseIP(host).IsLoopback()) {
		log.Error("XINQIAO_PPROF_ADDR must be a loopback host:port; pprof stays off", "addr", addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		log.Info("pprof listening", "addr", addr)
		if err := srv.ListenAndServe(); err != nil {
			log.Error("pprof", "err", err)
		}
	}()
}
