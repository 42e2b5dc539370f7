// Package chaos runs Xinqiao's fault-tolerance tests (docs/fault-tolerance.md): a
// private PostgreSQL, Redis and MinIO on their own loopback ports (never the shared
// services of scripts/services.sh), the real xinqiao binary as `serve` and `worker`
// subprocesses, and faults injected from outside — SIGKILL of the API or the worker,
// Redis stopped (and flushed), PostgreSQL restarted, MinIO down, and a full disk under
// MinIO, PostgreSQL's tables or its WAL (small tmpfs mounts: root). A checker compares
// every acknowledged operation with the final database state.
//
// Cluster is the harness; the tests live in chaos_test.go.
package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Ports of the private services and processes (chosen not to collide with the shared
// services on 55432/56379/59000 nor with `make run` on 8080/8081).
const (
	PGPort           = 55532
	RedisPort        = 56479
	MinioPort        = 59100
	MinioConsolePort = 18169
	APIPort          = 18160
	WorkerPort       = 18161
)

// PGBin is where Debian's postgresql-15 package puts its binaries (scripts/services.sh
// installs it).
const PGBin = "/usr/lib/postgresql/15/bin"

// MinioBinary is the MinIO server that scripts/services.sh builds once.
func MinioBinary() string {
	cache := os.Getenv("XINQIAO_CACHE_DIR")
	if cache == "" {
		cache = "/var/tmp/xinqiao-cache"
	}
	return filepath.Join(cache, "bin", "minio")
}

// Cluster is one private stack: services, the binary and its processes.
type Cluster struct {
	Dir  string // everything lives here (under /var/tmp: the postgres user must reach it)
	Bin  string // the xinqiao binary
	Logf func(format string, args ...any)

	mu        sync.Mutex
	redis     *proc
	minio     *proc
	minioData string           // MinIO's data directory when not the default (on a tmpfs: disk_test.go)
	procs     map[string]*proc // "serve", "worker"
	asRoot    bool
	lock      *os.File
}

// RootDir is the fixed home of the private stack: a second run finds and stops what a
// crashed first run left (by the pid files it wrote), never anything else.
const RootDir = "/var/tmp/xinqiao-chaos"

// NewCluster prepares dir (wiping what a previous run left) and takes a lock so two runs
// on one machine wait for each other instead of fighting over the ports.
func NewCluster(bin string, logf func(string, ...any)) (*Cluster, error) {
	c := &Cluster{Dir: RootDir, Bin: bin, Logf: logf, procs: map[string]*proc{}, asRoot: os.Geteuid() == 0}
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(c.Dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		return nil, err
	}
	c.lock = lock
	c.cleanupStale()
	if err := os.RemoveAll(c.Dir); err != nil {
		return nil, err
	}
	for _, d := range []string{"pg", "redis", "minio/data", "logs"} {
		if err := os.MkdirAll(filepath.Join(c.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(c.Dir, 0o755); err != nil {
		return nil, err
	}
	if c.asRoot {
		if err := c.chownPostgres(filepath.Join(c.Dir, "pg")); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// cleanupStale stops the processes a crashed previous run left, known by the pid files
// it wrote in RootDir.
func (c *Cluster) cleanupStale() {
	if _, err := os.Stat(filepath.Join(c.Dir, "pg", "data", "postmaster.pid")); err == nil {
		_ = c.pgCtl("stop", "-m", "immediate", "-w")
	}
	for _, f := range []string{"redis.pid", "minio.pid", "serve.pid", "worker.pid"} {
		b, err := os.ReadFile(filepath.Join(c.Dir, f))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			// Wait (bounded) until it is gone, so its files no longer hold a mount busy.
			_ = Eventually(10*time.Second, func() error {
				if syscall.Kill(pid, 0) == nil {
					return errors.New("still running")
				}
				return nil
			})
		}
	}
	c.unmountAll()
}

func (c *Cluster) chownPostgres(path string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("the postgres user is missing (run scripts/services.sh up): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// asPostgres runs a PostgreSQL tool as the postgres user when we are root (initdb
// refuses root).
func (c *Cluster) asPostgres(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(PGBin, name)
	if c.asRoot {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func (c *Cluster) pgData() string { return filepath.Join(c.Dir, "pg", "data") }

func (c *Cluster) pgCtl(args ...string) error {
	full := append([]string{"-D", c.pgData(), "-l", filepath.Join(c.Dir, "pg", "postgres.log")}, args...)
	out, err := c.asPostgres("pg_ctl", full...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// URLs of the private services.
func (c *Cluster) AdminURL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", PGPort, db)
}
func (c *Cluster) appURL() string {
	return fmt.Sprintf("postgres://xinqiao_app:xinqiao_app_local@127.0.0.1:%d/xinqiao?sslmode=disable", PGPort)
}
func (c *Cluster) ownerURL() string {
	return fmt.Sprintf("postgres://xinqiao_owner:xinqiao_owner_local@127.0.0.1:%d/xinqiao?sslmode=disable", PGPort)
}

// RedisAddr is the private Redis.
func (c *Cluster) RedisAddr() string { return fmt.Sprintf("127.0.0.1:%d", RedisPort) }

// MinioEndpoint is the private MinIO.
func (c *Cluster) MinioEndpoint() string { return fmt.Sprintf("127.0.0.1:%d", MinioPort) }

// APIURL is the base URL of `xinqiao serve`.
func (c *Cluster) APIURL() string { return fmt.Sprintf("http://127.0.0.1:%d", APIPort) }

// Env is the environment of the xinqiao processes: the private services only.
func (c *Cluster) Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "XINQIAO_") {
			env = append(env, kv)
		}
	}
	return append(append(env,
		"XINQIAO_ENV=development",
		"XINQIAO_HTTP_ADDR="+fmt.Sprintf("127.0.0.1:%d", APIPort),
		"XINQIAO_WORKER_ADDR="+fmt.Sprintf("127.0.0.1:%d", WorkerPort),
		"XINQIAO_PUBLIC_URL="+c.APIURL(),
		"XINQIAO_DATABASE_URL="+c.appURL(),
		"XINQIAO_MIGRATE_DATABASE_URL="+c.ownerURL(),
		"XINQIAO_REDIS_ADDR="+c.RedisAddr(),
		"XINQIAO_S3_ENDPOINT="+c.MinioEndpoint(),
		"XINQIAO_S3_ACCESS_KEY=xinqiao",
		"XINQIAO_S3_SECRET_KEY=xinqiao-local-secret",
		"XINQIAO_S3_BUCKET=xinqiao",
		"XINQIAO_S3_USE_TLS=false",
		"XINQIAO_SMTP_ADDR=",
		"XINQIAO_LOG_LEVEL=info",
		"XINQIAO_SHUTDOWN_TIMEOUT=5s",
		// The test clients go on writing while a dependency is down (a failed write is
		// followed by the next after 20 ms): the per-user write budget would answer them
		// 429 during a long outage, which is not the fault under test.
		"XINQIAO_RATE_WRITES=off",
	), extra...)
}

// StartPostgres creates the cluster on first use and starts it.
func (c *Cluster) StartPostgres() error {
	if _, err := os.Stat(filepath.Join(c.pgData(), "PG_VERSION")); err != nil {
		out, err := c.asPostgres("initdb", "-D", c.pgData(), "-U", "postgres", "--auth=trust",
			"--encoding=UTF8", "--locale=C.UTF-8").CombinedOutput()
		if err != nil {
			return fmt.Errorf("initdb: %v: %s", err, out)
		}
		conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
			"max_connections = 100\nshared_buffers = 64MB\nfsync = off\nfull_page_writes = off\n",
			PGPort, filepath.Join(c.Dir, "pg"))
		f, err := os.OpenFile(filepath.Join(c.pgData(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString(conf)
		f.Close()
		if err != nil {
			return err
		}
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		// A failed start is tried again: see launch.
		if err = c.pgCtl("start", "-w", "-t", "60"); err == nil {
			return c.waitPort(PGPort, 30*time.Second)
		}
		c.Logf("postgres did not start (attempt %d): %v", attempt+1, err)
		time.Sleep(2 * time.Second)
	}
	return err
}

// pgRunning reports whether the postmaster runs (it may be restarting after a crash).
func (c *Cluster) pgRunning() bool {
	return c.asPostgres("pg_ctl", "-D", c.pgData(), "status").Run() == nil
}

// StopPostgres stops PostgreSQL like a crash: immediate mode drops every connection
// without a goodbye (clients see the socket close mid-conversation) and the next start
// runs crash recovery.
func (c *Cluster) StopPostgres() error { return c.pgCtl("stop", "-m", "immediate", "-w", "-t", "60") }

// Bootstrap creates the roles and the database like scripts/services.sh does.
func (c *Cluster) Bootstrap(ctx context.Context) error {
	stmts := []string{
		`CREATE ROLE xinqiao_owner LOGIN PASSWORD 'xinqiao_owner_local' NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS`,
		`CREATE ROLE xinqiao_app LOGIN PASSWORD 'xinqiao_app_local' NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS`,
		`CREATE DATABASE xinqiao OWNER xinqiao_owner`,
	}
	if err := c.psql("postgres", stmts...); err != nil {
		return err
	}
	return c.psql("xinqiao", `ALTER SCHEMA public OWNER TO xinqiao_owner`, `REVOKE ALL ON SCHEMA public FROM PUBLIC`,
		`GRANT USAGE ON SCHEMA public TO xinqiao_app`)
}

func (c *Cluster) psql(db string, stmts ...string) error {
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(PGPort), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-qtA"}
	for _, s := range stmts {
		args = append(args, "-c", s)
	}
	out, err := exec.Command(filepath.Join(PGBin, "psql"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql: %v: %s", err, out)
	}
	return nil
}

// proc is a process this cluster started.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
}

func (p *proc) exited() bool {
	if p == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// launch starts a long-running process and waits until ready answers. A process that
// exits before it is ready (e.g. its port is briefly held by another program's outgoing
// connection: the private ports lie in Linux's ephemeral range) is started again, a
// few times.
func (c *Cluster) launch(name string, mk func() *exec.Cmd, ready func() error, d time.Duration) (*proc, error) {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		p, err := c.start(name, mk())
		if err != nil {
			return nil, err
		}
		last = Eventually(d, func() error {
			if p.exited() {
				return errExited
			}
			return ready()
		})
		if last == nil {
			return p, nil
		}
		if !p.exited() {
			_ = stop(p, syscall.SIGKILL)
			return nil, fmt.Errorf("%s: %w", name, last)
		}
		c.Logf("%s exited before it was ready (attempt %d); starting it again", name, attempt+1)
		time.Sleep(2 * time.Second)
	}
	return nil, fmt.Errorf("%s: %w\n%s", name, last, c.Log(name, 2000))
}

var errExited = errors.New("the process exited")

// StartRedis starts Redis with an append-only file fsynced on every write, so a stop and
// start keeps the queue; flush wipes it first (Redis "restarted empty").
func (c *Cluster) StartRedis(flush bool) error {
	dir := filepath.Join(c.Dir, "redis")
	if flush {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	p, err := c.launch("redis", func() *exec.Cmd {
		return exec.Command("redis-server", "--port", strconv.Itoa(RedisPort), "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--logfile", filepath.Join(c.Dir, "logs", "redis.log"))
	}, func() error { return c.waitPort(RedisPort, time.Second) }, 30*time.Second)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.redis = p
	c.mu.Unlock()
	return nil
}

// StopRedis stops Redis (SIGTERM: it writes its append-only file and exits).
func (c *Cluster) StopRedis() error { return c.stopService(&c.redis, syscall.SIGTERM) }

// KillRedis kills Redis (SIGKILL: a crash).
func (c *Cluster) KillRedis() error { return c.stopService(&c.redis, syscall.SIGKILL) }

func (c *Cluster) stopService(slot **proc, sig syscall.Signal) error {
	c.mu.Lock()
	p := *slot
	*slot = nil
	c.mu.Unlock()
	return stop(p, sig)
}

// StartMinio starts MinIO on its data directory (kept across restarts).
func (c *Cluster) StartMinio() error {
	if _, err := os.Stat(MinioBinary()); err != nil {
		return fmt.Errorf("the MinIO server is missing (scripts/services.sh up builds it): %w", err)
	}
	dir := filepath.Join(c.Dir, "minio")
	data := filepath.Join(dir, "data")
	c.mu.Lock()
	if c.minioData != "" {
		data = c.minioData
	}
	c.mu.Unlock()
	keyFile := filepath.Join(dir, "kms.key")
	if _, err := os.Stat(keyFile); err != nil {
		if err := os.WriteFile(keyFile, []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="), 0o600); err != nil {
			return err
		}
	}
	key, _ := os.ReadFile(keyFile)
	p, err := c.launch("minio", func() *exec.Cmd {
		cmd := exec.Command(MinioBinary(), "server", "--quiet", "--address", c.MinioEndpoint(),
			"--console-address", fmt.Sprintf("127.0.0.1:%d", MinioConsolePort), data)
		cmd.Env = append(os.Environ(), "MINIO_ROOT_USER=xinqiao", "MINIO_ROOT_PASSWORD=xinqiao-local-secret",
			"MINIO_KMS_SECRET_KEY=xinqiao-key:"+strings.TrimSpace(string(key)), "MINIO_BROWSER=off")
		return cmd
	}, func() error { return getOK(fmt.Sprintf("http://%s/minio/health/ready", c.MinioEndpoint())) }, 60*time.Second)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.minio = p
	c.mu.Unlock()
	return nil
}

// StopMinio kills MinIO (SIGKILL: the store vanishes mid-request).
func (c *Cluster) StopMinio() error { return c.stopService(&c.minio, syscall.SIGKILL) }

// Run runs a one-shot xinqiao command (migrate, seed demo) and returns its output.
func (c *Cluster) Run(args ...string) ([]byte, error) {
	cmd := exec.Command(c.Bin, args...)
	cmd.Env = c.Env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.Bytes(), fmt.Errorf("xinqiao %s: %v\n%s", strings.Join(args, " "), err, tail(out.Bytes(), 4000))
	}
	return out.Bytes(), nil
}

// StartServe starts `xinqiao serve` and waits until /healthz answers.
func (c *Cluster) StartServe(extraEnv ...string) error {
	return c.startApp("serve", c.APIURL()+"/healthz", extraEnv)
}

// StartWorker starts `xinqiao worker` and waits until its /healthz answers.
func (c *Cluster) StartWorker(extraEnv ...string) error {
	return c.startApp("worker", fmt.Sprintf("http://127.0.0.1:%d/healthz", WorkerPort), extraEnv)
}

func (c *Cluster) startApp(name, health string, extraEnv []string) error {
	p, err := c.launch(name, func() *exec.Cmd {
		cmd := exec.Command(c.Bin, name)
		cmd.Env = c.Env(extraEnv...)
		return cmd
	}, func() error { return getOK(health) }, 60*time.Second)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.procs[name] = p
	c.mu.Unlock()
	return nil
}

// Kill sends sig to "serve" or "worker" and waits for it to exit.
func (c *Cluster) Kill(name string, sig syscall.Signal) error {
	c.mu.Lock()
	p := c.procs[name]
	delete(c.procs, name)
	c.mu.Unlock()
	return stop(p, sig)
}

// Running reports whether the named process ("serve", "worker") is running.
func (c *Cluster) Running(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.procs[name].exited()
}

// Close stops everything this cluster started and removes its data.
func (c *Cluster) Close() {
	_ = c.Kill("serve", syscall.SIGKILL)
	_ = c.Kill("worker", syscall.SIGKILL)
	_ = c.StopMinio()
	_ = c.KillRedis()
	if _, err := os.Stat(filepath.Join(c.pgData(), "postmaster.pid")); err == nil {
		_ = c.pgCtl("stop", "-m", "immediate", "-w")
	}
	c.unmountAll()
	if os.Getenv("XINQIAO_CHAOS_KEEP") == "" {
		_ = os.RemoveAll(c.Dir)
	}
	if c.lock != nil {
		_ = syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
		c.lock.Close()
	}
}

// MountTmpfs mounts a fresh tmpfs of size bytes (e.g. "64m") at Dir/<name> and returns
// its path: a small disk the test can fill. It needs root (the tests and CI run as
// root); Close and the next run's clean-up unmount whatever is left under Dir.
func (c *Cluster) MountTmpfs(name, size string) (string, error) {
	if !c.asRoot {
		return "", errors.New("mounting a tmpfs needs root")
	}
	dir := filepath.Join(c.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mount tmpfs at %s: %v: %s", dir, err, out)
	}
	return dir, nil
}

// Unmount unmounts a tmpfs mounted by MountTmpfs (lazily when a process still holds a
// file there: the mount vanishes once it lets go).
func (c *Cluster) Unmount(dir string) error {
	if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
		if out2, err2 := exec.Command("umount", "-l", dir).CombinedOutput(); err2 != nil {
			return fmt.Errorf("umount %s: %v: %s %s", dir, err2, out, out2)
		}
	}
	return nil
}

// unmountAll unmounts every mount under RootDir (deepest first): what this run or a
// crashed earlier one mounted there. Nothing else is touched.
func (c *Cluster) unmountAll() {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var mounts []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasPrefix(f[1], RootDir+"/") {
			mounts = append(mounts, f[1])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := c.Unmount(mounts[i]); err != nil {
			c.Logf("%v", err)
		}
	}
}

// Fill writes dir/filler until the file system is full (ENOSPC) and returns the filler's
// path; removing it frees the space again.
func Fill(dir string) (string, error) {
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4 << 10, 1} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					return path, err
				}
				break
			}
		}
	}
	return path, nil
}

// SetMinioData makes the next StartMinio use dir as MinIO's data directory ("" is the
// default under Dir).
func (c *Cluster) SetMinioData(dir string) {
	c.mu.Lock()
	c.minioData = dir
	c.mu.Unlock()
}

// Log returns the last bytes of a process's log ("serve", "worker", "minio", "redis").
func (c *Cluster) Log(name string, n int) string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "logs", name+".log"))
	return string(tail(b, n))
}

// start launches cmd with its output appended to logs/<name>.log and records its pid.
func (c *Cluster) start(name string, cmd *exec.Cmd) (*proc, error) {
	f, err := os.OpenFile(filepath.Join(c.Dir, "logs", name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "\n===== start %s at %s =====\n", name, time.Now().Format(time.RFC3339Nano))
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	_ = os.WriteFile(filepath.Join(c.Dir, name+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// stop signals a process we started and waits (bounded) for it to exit.
func stop(p *proc, sig syscall.Signal) error {
	if p == nil || p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("pid %d did not exit after %v", p.cmd.Process.Pid, sig)
}

func getOK(url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	return nil
}

func (c *Cluster) waitPort(port int, d time.Duration) error {
	return Eventually(d, func() error {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// Eventually polls fn until it returns nil or the deadline passes (bounded waits only:
// the tests never assert how long anything takes).
func Eventually(d time.Duration, fn func() error) error {
	deadline := time.Now().Add(d)
	var err error
	for {
		if err = fn(); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %v: %w", d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
