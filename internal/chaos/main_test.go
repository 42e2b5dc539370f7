package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xinqiao/xinqiao/internal/blob"
	"github.com/xinqiao/xinqiao/internal/database"
)

// The shared stack of every test in this package: one private cluster, started once.
var (
	cl  *Cluster
	env *world
)

// world is what the tests share: the demo district on the private stack.
type world struct {
	admin     *pgxpool.Pool // superuser: the checker reads the final state with it
	app       *database.DB  // the app role: in-test services (rebuild, reconciliation)
	store     *blob.Store
	district  uuid.UUID
	school    uuid.UUID
	counselor string // tokens
	teacher   string
	research  string
	dadmin    string
}

func TestMain(m *testing.M) { os.Exit(mainRun(m)) }

func mainRun(m *testing.M) int {
	logf := log.New(os.Stderr, "[chaos] ", log.Ltime|log.Lmicroseconds).Printf
	start := time.Now()
	bin, cleanup, err := binary()
	if err != nil {
		logf("build: %v", err)
		return 1
	}
	defer cleanup()
	cl, err = NewCluster(bin, logf)
	if err != nil {
		logf("cluster: %v", err)
		return 1
	}
	defer cl.Close()
	if err := setUp(); err != nil {
		logf("set up: %v", err)
		for _, n := range []string{"serve", "worker", "minio", "redis"} {
			logf("--- %s log ---\n%s", n, cl.Log(n, 3000))
		}
		return 1
	}
	logf("private stack up in %v (PostgreSQL %d, Redis %d, MinIO %d, API %d)", time.Since(start).Round(time.Millisecond),
		PGPort, RedisPort, MinioPort, APIPort)
	code := m.Run()
	if code != 0 {
		for _, n := range []string{"serve", "worker"} {
			logf("--- tail of the %s log ---\n%s", n, cl.Log(n, 6000))
		}
	}
	env.admin.Close()
	env.app.Close()
	return code
}

// binary builds cmd/xinqiao into a temporary directory (the same flags as `make build`,
// so the build cache is shared), or uses XINQIAO_CHAOS_BIN.
func binary() (string, func(), error) {
	if b := os.Getenv("XINQIAO_CHAOS_BIN"); b != "" {
		return b, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "xinqiao-chaos-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	goBin, err := exec.LookPath("go")
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("the go command is needed to build the binary under test: %w", err)
	}
	out := filepath.Join(dir, "xinqiao")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", out, "github.com/xinqiao/xinqiao/cmd/xinqiao")
	if b, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("go build: %v: %s", err, b)
	}
	return out, cleanup, nil
}

func setUp() error {
	ctx := context.Background()
	if err := cl.StartPostgres(); err != nil {
		return err
	}
	if err := cl.Bootstrap(ctx); err != nil {
		return err
	}
	if err := cl.StartRedis(false); err != nil {
		return err
	}
	if err := cl.StartMinio(); err != nil {
		return err
	}
	if _, err := cl.Run("migrate"); err != nil {
		return err
	}
	if _, err := cl.Run("seed", "demo"); err != nil {
		return err
	}
	if err := cl.StartServe(); err != nil {
		return err
	}
	if err := cl.StartWorker(); err != nil {
		return err
	}
	w := &world{}
	var err error
	if w.admin, err = pgxpool.New(ctx, cl.AdminURL("xinqiao")); err != nil {
		return err
	}
	if w.app, err = database.Open(ctx, cl.appURL(), 4); err != nil {
		return err
	}
	if w.store, err = blob.Open(cl.MinioEndpoint(), "xinqiao", "xinqiao-local-secret", "xinqiao", false); err != nil {
		return err
	}
	if err := w.admin.QueryRow(ctx, `SELECT d.id, s.id FROM districts d JOIN schools s ON s.district_id = d.id
		WHERE d.code = 'demo' AND s.code = 's1'`).Scan(&w.district, &w.school); err != nil {
		return fmt.Errorf("demo district: %w", err)
	}
	for user, tok := range map[string]*string{"counselor.s1": &w.counselor, "teacher.s1": &w.teacher,
		"researcher": &w.research, "district.admin": &w.dadmin} {
		if *tok, err = login(user); err != nil {
			return err
		}
	}
	env = w
	return nil
}

func login(user string) (string, error) {
	r := do("", "POST", "/api/v1/auth/login", map[string]any{"username": user, "password": "xinqiao-demo"})
	if r.status != 200 {
		return "", fmt.Errorf("login %s: %d %s %v", user, r.status, r.body, r.err)
	}
	var l struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil || l.Token == "" {
		return "", fmt.Errorf("login %s: %s", user, r.body)
	}
	return l.Token, nil
}

// reply is one HTTP exchange as the client saw it.
type reply struct {
	status     int
	body       []byte
	ctype      string
	retryAfter string
	err        error // transport error (refused, reset, timed out): no answer at all
}

// hc never waits for ever: a request that takes longer counts as hung.
var hc = &http.Client{Timeout: 45 * time.Second}

func do(token, method, path string, body any) reply {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, cl.APIURL()+path, rd)
	if err != nil {
		return reply{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(req, token)
}

func send(req *http.Request, token string) reply {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: b, ctype: resp.Header.Get("Content-Type"), retryAfter: resp.Header.Get("Retry-After"), err: err}
}

func upload(token, path string, content []byte, title string) reply {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("kind", "report")
	_ = mw.WriteField("title", title)
	fw, _ := mw.CreateFormFile("file", "chaos.pdf")
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, err := http.NewRequest("POST", cl.APIURL()+path, &buf)
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return send(req, token)
}

// isProblem503 tells a clean "dependency down" answer.
func (r reply) isProblem503() bool {
	return r.err == nil && r.status == http.StatusServiceUnavailable && strings.HasPrefix(r.ctype, "application/problem+json")
}

// ready reads /readyz: the state of each dependency.
func ready() (int, map[string]string) {
	r := do("", "GET", "/readyz", nil)
	var body struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	_ = json.Unmarshal(r.body, &body)
	return r.status, body.Dependencies
}

// waitReady waits until /readyz says dep is state ("up" or "down").
func waitReady(t *testing.T, dep, state string) {
	t.Helper()
	if err := Eventually(60*time.Second, func() error {
		_, deps := ready()
		if deps[dep] != state {
			return fmt.Errorf("/readyz: %s is %q", dep, deps[dep])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// ensureUp brings back whatever a failed earlier test left down.
func ensureUp(t *testing.T) {
	t.Helper()
	if err := cl.waitPort(PGPort, time.Second); err != nil {
		if err := cl.StartPostgres(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.waitPort(RedisPort, time.Second); err != nil {
		if err := cl.StartRedis(false); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.waitPort(MinioPort, time.Second); err != nil {
		if err := cl.StartMinio(); err != nil {
			t.Fatal(err)
		}
	}
	if !cl.Running("serve") {
		if err := cl.StartServe(); err != nil {
			t.Fatal(err)
		}
	}
	if !cl.Running("worker") {
		if err := cl.StartWorker(); err != nil {
			t.Fatal(err)
		}
	}
}

func bg() context.Context { return context.Background() }

func (w *world) scalar(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := w.admin.QueryRow(bg(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// openCaseFile opens a case file for a student who has none.
func (w *world) openCaseFile(t *testing.T) uuid.UUID {
	t.Helper()
	var student uuid.UUID
	if err := w.admin.QueryRow(bg(), `SELECT id FROM students s WHERE school_id = $1
		AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) ORDER BY id LIMIT 1`,
		w.school).Scan(&student); err != nil {
		t.Fatal(err)
	}
	r := do(w.counselor, "POST", "/api/v1/schools/"+w.school.String()+"/case-files", map[string]any{"student_id": student})
	if r.status != 201 {
		t.Fatalf("open a case file: %d %s %v", r.status, r.body, r.err)
	}
	var cf struct {
		ID uuid.UUID `json:"id"`
	}
	_ = json.Unmarshal(r.body, &cf)
	return cf.ID
}
