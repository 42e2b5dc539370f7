package chaos

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/rollup"
)

// kill -9 of the API during a stream of session writes: every write that got a 2xx is
// there after the restart, exactly once, with its audit row (nothing half-applied).
func TestAPIKilledDuringWritesLosesNoAcknowledgedWrite(t *testing.T) {
	ensureUp(t)
	// Writes answer 300 ms after their commit, so the kill lands between commit and
	// answer for those in flight.
	if err := cl.Kill("serve", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cl.StartServe("XINQIAO_CHAOS_ANSWER_DELAY=300ms"); err != nil {
		t.Fatal(err)
	}
	cf := env.openCaseFile(t)
	h, stop := writers(4, env.sessionWriter(cf))
	defer stop()
	acked := func() int { return h.count(op.acked) }
	waitFor(t, "writes before the kill", 60*time.Second, func() bool { return acked() >= 30 })
	if err := cl.Kill("serve", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	before := acked()
	waitFor(t, "writes failing while the API is dead", 30*time.Second, func() bool { return h.count(func(o op) bool { return o.reply.err != nil }) >= 8 })
	if err := cl.StartServe(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes after the restart", 60*time.Second, func() bool { return acked() >= before+30 })
	stop()
	ops := h.snapshot()
	for _, o := range ops {
		if o.reply.err == nil && o.reply.status >= 500 {
			t.Errorf("op %d: %d %s (an answered request is a 2xx or a clean 503)", o.n, o.reply.status, o.reply.body)
		}
	}
	env.checkSessions(t, []uuid.UUID{cf}, ops).report(t, "api-kill-9")
}

// PostgreSQL restarted under load: while it is down requests fail fast with a 503
// problem+json (never a 500, never a hang), /readyz says so, and afterwards the same
// processes serve again; no request is half-applied.
func TestPostgresRestartedUnderLoadAnswers503ThenRecovers(t *testing.T) {
	ensureUp(t)
	cf := env.openCaseFile(t)
	h, stop := writers(3, env.sessionWriter(cf))
	defer stop()
	timeline := "/api/v1/schools/" + env.school.String() + "/case-files/" + cf.String() + "/timeline"
	reads, stopReads := writers(1, func(int) op { return op{reply: do(env.counselor, "GET", timeline, nil)} })
	defer stopReads()
	acked := func() int { return h.count(op.acked) }
	waitFor(t, "writes before the restart", 60*time.Second, func() bool { return acked() >= 20 })
	if err := cl.StopPostgres(); err != nil {
		t.Fatal(err)
	}
	mark := len(h.snapshot())
	readMark := len(reads.snapshot())
	waitReady(t, "postgres", "down")
	// Bounded: enough requests answered while the database is away.
	waitFor(t, "answers while PostgreSQL is down", 60*time.Second, func() bool { return len(h.snapshot()) >= mark+30 })
	down := h.snapshot()[mark:]
	downReads := reads.snapshot()[readMark:]
	if err := cl.StartPostgres(); err != nil {
		t.Fatal(err)
	}
	after := acked()
	waitFor(t, "writes after PostgreSQL is back", 90*time.Second, func() bool { return acked() >= after+20 })
	waitFor(t, "reads after PostgreSQL is back", 30*time.Second, func() bool {
		ops := reads.snapshot()
		return len(ops) > 0 && ops[len(ops)-1].reply.status == 200
	})
	stop()
	stopReads()
	waitReady(t, "postgres", "up")

	clean, other := 0, 0
	for _, o := range append(down, downReads...) {
		switch {
		case o.isCleanDown():
			clean++
		case o.acked():
			// a request that finished just before the shutdown
		default:
			other++
			t.Errorf("op %d while PostgreSQL was down: status %d %q err %v after %v", o.n, o.reply.status, o.reply.body, o.reply.err, o.took)
		}
	}
	fmt.Printf("CHAOS postgres-restart: answered while down: 503 problem+json=%d other=%d\n", clean, other)
	if clean == 0 {
		t.Error("no 503 was seen while PostgreSQL was down")
	}
	for _, o := range h.snapshot() {
		if o.reply.err != nil || (o.reply.status >= 500 && !o.isCleanDown()) {
			t.Errorf("op %d: status %d err %v %s", o.n, o.reply.status, o.reply.err, o.reply.body)
		}
	}
	env.checkSessions(t, []uuid.UUID{cf}, h.snapshot()).report(t, "postgres-restart")
	// The worker lived through it too: the relay and the jobs resume without a restart.
	waitOutboxDrained(t)
	waitFor(t, "rollup marks consumed", 120*time.Second, func() bool {
		return env.scalar(t, `SELECT count(*) FROM rollup_dirty`) == 0
	})
}

func (o op) isCleanDown() bool { return o.reply.isProblem503() }

// MinIO down during uploads: a clean 503, no row without its object; after MinIO is
// back and reconciliation has run, no object without its row either.
func TestMinioDownDuringUploadLeavesNoRowWithoutObject(t *testing.T) {
	ensureUp(t)
	cf := env.openCaseFile(t)
	h, stop := writers(2, uploadWriter(cf))
	defer stop()
	acked := func() int { return h.count(op.acked) }
	waitFor(t, "uploads before MinIO stops", 60*time.Second, func() bool { return acked() >= 10 })
	if err := cl.StopMinio(); err != nil {
		t.Fatal(err)
	}
	mark := len(h.snapshot())
	waitReady(t, "minio", "down")
	waitFor(t, "uploads answered while MinIO is down", 120*time.Second, func() bool { return len(h.snapshot()) >= mark+6 })
	down := h.snapshot()[mark:]
	if err := cl.StartMinio(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, "minio", "up")
	after := acked()
	waitFor(t, "uploads after MinIO is back", 60*time.Second, func() bool { return acked() >= after+5 })
	// And the API killed mid-upload, perhaps between the object and its row.
	if err := cl.Kill("serve", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cl.StartServe(); err != nil {
		t.Fatal(err)
	}
	after = acked()
	waitFor(t, "uploads after the API restart", 60*time.Second, func() bool { return acked() >= after+5 })
	stop()
	clean := 0
	for _, o := range down {
		if o.isCleanDown() {
			clean++
		} else if !o.acked() {
			t.Errorf("upload %d while MinIO was down: %d %s %v", o.n, o.reply.status, o.reply.body, o.reply.err)
		}
	}
	if clean == 0 {
		t.Error("no 503 was seen while MinIO was down")
	}
	v, u := checkUploads(t, cf, h.snapshot())
	fmt.Printf("CHAOS minio-down: answered while down: 503 problem+json=%d; %s\n", clean, u)
	v.report(t, "minio-down")
}

// Redis stopped while changes happen: the API keeps serving reads and writes, /readyz
// reports Redis down, the outbox holds the work, and once Redis is back every piece of
// work is done once: the rollup cells equal a full rebuild, each export is produced and
// audited once. The second case brings Redis back empty (its data lost) while an export
// was running: the relay notices and sends the unfinished job again.
func TestRedisDownOutboxHoldsTheWork(t *testing.T) {
	for _, flushed := range []bool{false, true} {
		name := "stopped-and-restarted"
		if flushed {
			name = "restarted-empty"
		}
		t.Run(name, func(t *testing.T) {
			ensureUp(t)
			var inFlight uuid.UUID
			if flushed {
				// An export parked mid-way by its worker when Redis loses everything.
				restartWorker(t, "XINQIAO_CHAOS_HOLD=research:export@90")
				inFlight = fileAndApproveExport(t)
				waitParked(t, inFlight)
			}
			var err error
			if flushed {
				err = cl.KillRedis()
			} else {
				err = cl.StopRedis()
			}
			if err != nil {
				t.Fatal(err)
			}
			waitReady(t, "redis", "down")
			if status, _ := ready(); status != http.StatusServiceUnavailable {
				t.Errorf("/readyz with Redis down: %d", status)
			}
			cf := env.openCaseFile(t)
			h := &history{}
			write := env.sessionWriter(cf)
			timeline := "/api/v1/schools/" + env.school.String() + "/case-files/" + cf.String() + "/timeline"
			for n := 1; n <= 15; n++ {
				o := write(n)
				o.n = n
				h.add(o)
				if !o.acked() {
					t.Errorf("write %d with Redis down: %d %s %v", n, o.reply.status, o.reply.body, o.reply.err)
				}
				if r := do(env.counselor, "GET", timeline, nil); r.status != 200 {
					t.Errorf("read with Redis down: %d %s %v", r.status, r.body, r.err)
				}
			}
			// Work waits in the outbox: an export approved now, and the rollup wake-ups.
			waiting := fileAndApproveExport(t)
			if n := env.scalar(t, `SELECT count(*) FROM outbox WHERE dispatched_at IS NULL`); n == 0 {
				t.Error("no work waits in the outbox while Redis is down")
			}
			if flushed {
				// The machine running the parked export dies too; Redis comes back empty.
				if err := cl.Kill("worker", syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
			if err := cl.StartRedis(flushed); err != nil {
				t.Fatal(err)
			}
			if flushed {
				if err := cl.StartWorker(); err != nil {
					t.Fatal(err)
				}
			}
			waitReady(t, "redis", "up")
			exports := []uuid.UUID{waiting}
			if flushed {
				exports = append(exports, inFlight)
			}
			for _, id := range exports {
				waitExportReady(t, id, 150*time.Second)
			}
			waitOutboxDrained(t)
			waitFor(t, "rollup marks consumed", 120*time.Second, func() bool {
				return env.scalar(t, `SELECT count(*) FROM rollup_dirty`) == 0
			})
			before := rollupCells(t)
			if err := (&rollup.Service{DB: env.app}).Rebuild(bg(), env.district); err != nil {
				t.Fatal(err)
			}
			after := rollupCells(t)
			if diff := diffCells(before, after); diff != "" {
				t.Errorf("the incremental rollup differs from a full rebuild:\n%s", diff)
			}
			// Every session written during the outage is counted in the rollup.
			v := env.checkSessions(t, []uuid.UUID{cf}, h.snapshot())
			v.report(t, "redis-"+name)
			dup := 0
			for _, id := range exports {
				dup += checkExportOnce(t, id)
			}
			fmt.Printf("CHAOS redis-%s: jobs acknowledged=%d done=%d duplicated=%d; rollup cells=%d equal to a full rebuild=%v\n",
				name, len(exports), len(exports), dup, len(before), diffCells(before, after) == "")
			if flushed {
				restartWorker(t)
			}
		})
	}
}

// A worker killed with SIGKILL mid-job (a research export parked after writing its
// files): after the restart the job completes, exactly once in effect — one set of
// files, one audit row, the run recorded done.
func TestWorkerKilledMidJobCompletesOnce(t *testing.T) {
	ensureUp(t)
	restartWorker(t, "XINQIAO_CHAOS_HOLD=research:export@90")
	req := fileAndApproveExport(t)
	waitParked(t, req)
	if err := cl.Kill("worker", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cl.StartWorker(); err != nil {
		t.Fatal(err)
	}
	// asynq gives a dead worker's task back once its lease has lapsed (about a minute).
	waitExportReady(t, req, 200*time.Second)
	dup := checkExportOnce(t, req)
	var attempts int
	var status string
	if err := env.admin.QueryRow(bg(), `SELECT j.status, j.attempts FROM job_runs j JOIN outbox o ON j.id = o.id::text
		WHERE o.task_type = 'research:export' AND o.payload->>'request_id' = $1`, req.String()).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != "done" || attempts < 2 {
		t.Errorf("job run: %s after %d attempts (want done after the killed one and a second)", status, attempts)
	}
	v := verdict{Acknowledged: 1, Found: 1, Duplicated: dup}
	v.report(t, "worker-kill-9")
	fmt.Printf("CHAOS worker-kill-9: job run %s after %d attempts\n", status, attempts)
}

func restartWorker(t *testing.T, extraEnv ...string) {
	t.Helper()
	if err := cl.Kill("worker", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cl.StartWorker(extraEnv...); err != nil {
		t.Fatal(err)
	}
}

// fileAndApproveExport files a research request as the researcher and approves it as
// the district admin (which queues the export through the outbox).
func fileAndApproveExport(t *testing.T) uuid.UUID {
	t.Helper()
	base := "/api/v1/districts/" + env.district.String() + "/research/requests"
	r := do(env.research, "POST", base, map[string]any{"purpose": "故障演练：年度研究导出", "years": []int{time.Now().Year()},
		"fields": []string{"school", "grade", "gender", "age_band", "has_case_file", "sessions"}, "ethics_ref": "IRB-CHAOS", "k": 5})
	if r.status != 201 {
		t.Fatalf("file a research request: %d %s %v", r.status, r.body, r.err)
	}
	var req struct {
		ID uuid.UUID `json:"id"`
	}
	_ = json.Unmarshal(r.body, &req)
	if r := do(env.dadmin, "POST", base+"/"+req.ID.String()+"/decision", map[string]any{"approve": true}); r.status != 200 {
		t.Fatalf("approve: %d %s %v", r.status, r.body, r.err)
	}
	return req.ID
}

// waitParked waits until the export's run reports 90 % (its files are written) and the
// worker holds it there.
func waitParked(t *testing.T, req uuid.UUID) {
	t.Helper()
	waitFor(t, "the export parked at 90 %", 90*time.Second, func() bool {
		return env.scalar(t, `SELECT count(*) FROM job_runs j JOIN outbox o ON j.id = o.id::text
			WHERE o.task_type = 'research:export' AND o.payload->>'request_id' = $1 AND j.status = 'running' AND j.progress = 90`, req.String()) == 1
	})
}

func waitExportReady(t *testing.T, req uuid.UUID, d time.Duration) {
	t.Helper()
	waitFor(t, "export "+req.String()+" ready", d, func() bool {
		return env.scalar(t, `SELECT count(*) FROM research_requests WHERE id = $1 AND status = 'ready'`, req) == 1
	})
}

func waitOutboxDrained(t *testing.T) {
	t.Helper()
	waitFor(t, "the outbox drained", 120*time.Second, func() bool {
		return env.scalar(t, `SELECT count(*) FROM outbox WHERE dispatched_at IS NULL`) == 0
	})
}

// checkExportOnce checks that an export's effect exists once: its listed files are
// exactly the objects under its prefix, with the listed checksums, and one audit row.
// It returns how many duplicates it found.
func checkExportOnce(t *testing.T, req uuid.UUID) int {
	t.Helper()
	var filesJSON []byte
	if err := env.admin.QueryRow(bg(), `SELECT files FROM research_requests WHERE id = $1`, req).Scan(&filesJSON); err != nil {
		t.Fatal(err)
	}
	var files []struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(filesJSON, &files); err != nil || len(files) == 0 {
		t.Fatalf("export files: %v %s", err, filesJSON)
	}
	prefix := "research/" + req.String() + "/"
	var objects []string
	if err := env.store.List(bg(), env.district, prefix, func(key string, _ time.Time) error {
		objects = append(objects, strings.TrimPrefix(key, prefix))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dup := 0
	for _, f := range files {
		if !slices.Contains(objects, f.Name) {
			t.Errorf("export %s: listed file %s has no object", req, f.Name)
			continue
		}
		rc, err := env.store.Get(bg(), env.district, prefix+f.Name)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
			t.Errorf("export %s: %s differs from its listed checksum (two runs mixed)", req, f.Name)
		}
	}
	if extra := len(objects) - len(files); extra != 0 {
		t.Errorf("export %s: %d objects for %d listed files", req, len(objects), len(files))
		dup += max(extra, 0)
	}
	if n := env.scalar(t, `SELECT count(*) FROM audit_log WHERE action = 'research.export' AND object_id = $1`, req.String()); n != 1 {
		t.Errorf("export %s: %d audit rows (want 1)", req, n)
		dup += max(n-1, 0)
	}
	return dup
}

// rollupCells is every rollup cell of the district, one line each, sorted.
func rollupCells(t *testing.T) []string {
	t.Helper()
	rows, err := env.admin.Query(bg(), `SELECT concat_ws('|', school_id, period_kind, period_start, measure, grade, gender, category,
		students, value, schools) FROM rollup_cells WHERE district_id = $1 ORDER BY 1`, env.district)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func diffCells(a, b []string) string {
	var d []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			d = append(d, "- "+x)
		}
	}
	for _, x := range b {
		if _, ok := slices.BinarySearch(a, x); !ok {
			d = append(d, "+ "+x)
		}
	}
	if len(d) > 20 {
		d = append(d[:20], fmt.Sprintf("... %d more", len(d)-20))
	}
	return strings.Join(d, "\n")
}
