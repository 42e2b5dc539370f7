// Command xinqiao-bench measures Xinqiao's hot paths against the bare engines under
// them (PostgreSQL through pgx, MinIO through minio-go) on a synthetic district, in the
// same run, and reports each ratio (scripts/bench.sh runs it; `make bench`).
//
//	xinqiao-bench load -url URL [-token T] [-rate 500] [-duration 20s]   open-loop load generator
//	xinqiao-bench run -summary FILE -api URL [...]                        every paired benchmark → JSON
//	xinqiao-bench doc -results FILE -doc docs/BENCHMARKS.md [...]         rewrite the marked section
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: xinqiao-bench load|run|doc [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "load":
		err = loadCmd(ctx, os.Args[2:])
	case "run":
		err = runCmd(ctx, os.Args[2:])
	case "doc":
		err = docCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xinqiao-bench:", err)
		os.Exit(1)
	}
}

// loadCmd is the standalone open-loop generator: GET url at a fixed rate.
func loadCmd(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fl.String("url", "", "URL to GET")
	token := fl.String("token", "", "Bearer token")
	rate := fl.Float64("rate", 500, "requests per second (arrival rate)")
	dur := fl.Duration("duration", 20*time.Second, "how long to send")
	inflight := fl.Int("max-inflight", 4096, "cap on requests in flight")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("-url is required")
	}
	c := newHTTPClient()
	st := OpenLoop(ctx, *rate, *dur, *inflight, func(ctx context.Context, _ int) error {
		return get(ctx, c, *url, *token, nil)
	})
	fmt.Println(st)
	return json.NewEncoder(os.Stdout).Encode(st)
}

// post sends a JSON body and expects 200 (a search).
func post(ctx context.Context, c *http.Client, url, token string, body []byte) error {
	return send(ctx, c, http.MethodPost, url, token, body, nil)
}

func get(ctx context.Context, c *http.Client, url, token string, into any) error {
	return send(ctx, c, http.MethodGet, url, token, nil, into)
}

// send makes one request (a JSON body when body is not nil), expects 200 and decodes the
// answer into into (or discards it).
func send(ctx context.Context, c *http.Client, method, url, token string, body []byte, into any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if into != nil {
		return json.NewDecoder(resp.Body).Decode(into)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
