package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

type instance struct {
	addr string
	cmd  *exec.Cmd
	done chan error
	logs *bytes.Buffer
}

// TestMain lets the test binary stand in for the xinqiao binary: started with
// XINQIAO_TEST_EXEC=<subcommand>, it runs that subcommand as its own OS process, with
// SIGTERM wired as in main.
func TestMain(m *testing.M) {
	if sub := os.Getenv("XINQIAO_TEST_EXEC"); sub != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, []string{sub}, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "xinqiao:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// start runs a subcommand as a separate OS process (its own pools, caches, listeners)
// and waits until its health endpoint answers. envName gets a free loopback address.
func start(t *testing.T, sub, envName string) *instance {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "XINQIAO_TEST_EXEC="+sub, envName+"="+addr, "XINQIAO_LOG_LEVEL=warn")
	in := &instance{addr: addr, cmd: cmd, done: make(chan error, 1), logs: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = in.logs, in.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%s did not start: %v\n%s", sub, err, in.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop sends SIGTERM, as an orchestrator does, and waits for a clean exit.
func (in *instance) stop(t *testing.T) {
	if in.cmd == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("instance exited with %v\n%s", err, in.logs)
		}
	case <-time.After(30 * time.Second):
		in.cmd.Process.Kill()
		t.Error("instance did not stop on SIGTERM")
	}
	in.cmd = nil
}

func call(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func loginAt(t *testing.T, base, user string) string {
	t.Helper()
	status, b := call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"username": user, "password": "xinqiao-demo"})
	if status != 200 {
		t.Fatalf("login %s: %d %s", user, status, b)
	}
	var l struct {
		Token string `json:"token"`
	}
	json.Unmarshal(b, &l)
	return l.Token
}

// Two API and two worker instances share PostgreSQL, Redis and MinIO and nothing else.
func TestScaleOutAcrossInstances(t *testing.T) {
	useDB(t)
	ctx := context.Background()
	if err := run(ctx, []string{"seed", "demo"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	// Separate OS processes: two APIs and (below) two workers.
	apiA := start(t, "serve", "XINQIAO_HTTP_ADDR")
	apiB := start(t, "serve", "XINQIAO_HTTP_ADDR")
	a, b := "http://"+apiA.addr, "http://"+apiB.addr

	t.Run("a token from one instance works on the other; logout on one ends it on both", func(t *testing.T) {
		tok := loginAt(t, a, "counselor.s1")
		if s, _ := call(t, "GET", b+"/api/v1/me", tok, nil); s != 200 {
			t.Fatalf("B refused A's token: %d", s)
		}
		if s, _ := call(t, "POST", b+"/api/v1/auth/logout", tok, nil); s != 204 {
			t.Fatalf("logout on B: %d", s)
		}
		for _, base := range []string{a, b} {
			if s, _ := call(t, "GET", base+"/api/v1/me", tok, nil); s != 401 {
				t.Fatalf("%s still accepts a revoked token: %d", base, s)
			}
		}
	})

	t.Run("a role granted through one instance works on the other within 1 s", func(t *testing.T) {
		admin := loginAt(t, a, "district.admin")
		var me struct {
			User struct {
				DistrictID string `json:"district_id"`
			} `json:"user"`
		}
		_, body := call(t, "GET", a+"/api/v1/me", admin, nil)
		json.Unmarshal(body, &me)
		district := me.User.DistrictID
		_, body = call(t, "GET", a+"/api/v1/districts/"+district+"/schools", admin, nil)
		var schools struct {
			Items []struct{ ID, Code string } `json:"items"`
		}
		json.Unmarshal(body, &schools)
		var s2 string
		for _, s := range schools.Items {
			if s.Code == "s2" {
				s2 = s.ID
			}
		}
		_, body = call(t, "POST", a+"/api/v1/districts/"+district+"/users/search", admin, map[string]any{"q": "counselor.s1"})
		var users struct {
			Items []struct{ ID string } `json:"items"`
		}
		json.Unmarshal(body, &users)
		user := loginAt(t, b, "counselor.s1")
		path := b + "/api/v1/schools/" + s2 + "/students?limit=1"
		if s, _ := call(t, "GET", path, user, nil); s != 404 {
			t.Fatalf("before the grant: %d", s)
		}
		s, body := call(t, "POST", a+"/api/v1/districts/"+district+"/memberships", admin,
			map[string]any{"user_id": users.Items[0].ID, "scope_type": "school", "school_id": s2, "role": "counselor"})
		if s != 201 {
			t.Fatalf("grant on A: %d %s", s, body)
		}
		granted := time.Now()
		for {
			if s, _ := call(t, "GET", path, user, nil); s == 200 {
				break
			}
			if time.Since(granted) > time.Second {
				t.Fatal("the grant made on A did not reach B within 1 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("every job runs exactly once across two workers", func(t *testing.T) {
		w1 := start(t, "worker", "XINQIAO_WORKER_ADDR")
		w2 := start(t, "worker", "XINQIAO_WORKER_ADDR")
		opt := asynq.RedisClientOpt{Addr: mustGetenv(t, "XINQIAO_REDIS_ADDR")}
		client := asynq.NewClient(opt)
		defer client.Close()
		insp := asynq.NewInspector(opt)
		defer insp.Close()
		const n = 60
		ids := map[string]bool{}
		for i := 0; i < n; i++ {
			id := "scale-" + uuid.NewString()
			ids[id] = true
			if _, err := client.Enqueue(asynq.NewTask("system:heartbeat", nil), asynq.TaskID(id), asynq.Retention(time.Hour)); err != nil {
				t.Fatal(err)
			}
			// Enqueueing the same id again is refused: a job is never queued twice.
			if _, err := client.Enqueue(asynq.NewTask("system:heartbeat", nil), asynq.TaskID(id)); !errors.Is(err, asynq.ErrTaskIDConflict) {
				t.Fatalf("duplicate enqueue: %v", err)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			done := 0
			for id := range ids {
				if info, err := insp.GetTaskInfo("default", id); err == nil && info.State == asynq.TaskStateCompleted {
					done++
				}
			}
			if done == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d jobs completed", done, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		runs := 0
		for _, w := range []*instance{w1, w2} {
			runs += heartbeatRuns(t, w.addr)
		}
		if runs != n {
			t.Fatalf("%d jobs ran %d times in all", n, runs)
		}
	})

	t.Run("a rolling restart under load loses no request", func(t *testing.T) {
		tok := loginAt(t, a, "leader.s1")
		var ok, lost, retried, servedByA atomic.Int64
		backends := []string{a, b}
		var down atomic.Bool
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				client := &http.Client{Timeout: 10 * time.Second}
				for i := 0; ctx.Err() == nil && i < 5000; i++ {
					first := (g + i) % 2
					// A client-side balancer: try one instance, then the other on a
					// connection-level failure (the request never reached a handler).
					var err error
					for attempt := 0; attempt < 2; attempt++ {
						base := backends[(first+attempt)%2]
						req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
						req.Header.Set("Authorization", "Bearer "+tok)
						var resp *http.Response
						resp, err = client.Do(req)
						if err != nil {
							retried.Add(1)
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == 200 {
							ok.Add(1)
							if base == a && !down.Load() {
								servedByA.Add(1)
							}
						} else {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
						break
					}
					if err != nil {
						lost.Add(1)
					}
				}
			}(g)
		}
		time.Sleep(1500 * time.Millisecond)
		apiA.stop(t) // SIGTERM to the process: stop accepting, finish in-flight requests
		down.Store(true)
		wg.Wait()
		t.Logf("requests ok=%d lost=%d retried-on-the-other-instance=%d served-by-A-before-restart=%d", ok.Load(), lost.Load(), retried.Load(), servedByA.Load())
		if lost.Load() != 0 || ok.Load() < 100 || servedByA.Load() == 0 {
			t.Fatalf("lost %d requests (ok %d)", lost.Load(), ok.Load())
		}
	})
}

func heartbeatRuns(t *testing.T, addr string) int {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, `xinqiao_jobs_total{outcome="done",type="system:heartbeat"}`) {
			fmt.Sscanf(strings.Fields(line)[1], "%d", &n)
		}
	}
	return n
}

func mustGetenv(t *testing.T, name string) string {
	v, err := lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
