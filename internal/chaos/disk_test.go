package chaos

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/rollup"
)

// A full disk under MinIO: uploads are refused with a clear 503 problem+json (with
// Retry-After, saying the store is full) and leave no row without its object; reads,
// downloads and writes that need no new object go on; once space is freed uploads
// succeed again on the same processes. Every acknowledged upload is there once, and
// after reconciliation rows and objects match one to one.
func TestDiskFullUnderMinioRefusesUploadsThenRecovers(t *testing.T) {
	ensureUp(t)
	mnt := minioOnTmpfs(t)
	waitReady(t, "minio", "up")
	cf := env.openCaseFile(t)
	h, stop := writers(2, uploadWriter(cf))
	defer stop()
	acked := func() int { return h.count(op.acked) }
	waitFor(t, "uploads before the disk fills", 60*time.Second, func() bool { return acked() >= 5 })
	first := h.snapshot()
	var doc op
	for _, o := range first {
		if o.acked() {
			doc = o
			break
		}
	}

	filler := fill(t, mnt)
	mark := len(h.snapshot())
	waitFor(t, "uploads refused while the disk is full", 90*time.Second, func() bool {
		return countFull(h.snapshot()[mark:]) >= 6
	})
	// Meanwhile everything that needs no new object works: session writes, the
	// timeline, a download of an earlier upload.
	sessions := env.sessionWriter(cf)
	sh := &history{}
	timeline := "/api/v1/schools/" + env.school.String() + "/case-files/" + cf.String() + "/timeline"
	download := "/api/v1/schools/" + env.school.String() + "/documents/" + doc.id.String() + "/content"
	for n := 1; n <= 5; n++ {
		o := sessions(n)
		o.n = n
		sh.add(o)
		if !o.acked() {
			t.Errorf("session write %d with MinIO's disk full: %d %s %v", n, o.reply.status, o.reply.body, o.reply.err)
		}
		if r := do(env.counselor, "GET", timeline, nil); r.status != 200 {
			t.Errorf("timeline with MinIO's disk full: %d %s %v", r.status, r.body, r.err)
		}
		r := do(env.counselor, "GET", download, nil)
		sum := sha256.Sum256(r.body)
		if r.status != 200 || hex.EncodeToString(sum[:]) != doc.sum {
			t.Errorf("download with MinIO's disk full: %d %v (sha256 %x, want %s)", r.status, r.err, sum, doc.sum)
		}
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := len(h.snapshot())
	after := acked()
	waitFor(t, "uploads after the space is freed", 90*time.Second, func() bool { return acked() >= after+5 })
	stop()

	ops := h.snapshot()
	full, other := tally(t, ops, "the document store is full")
	v, u := checkUploads(t, cf, ops)
	fmt.Printf("CHAOS disk-full-minio: uploads answered between fill and free=%d; refused with 503 'store is full'=%d other=%d; %s\n",
		freed-mark, full, other, u)
	if full == 0 {
		t.Error("no upload was refused with 503 'the document store is full' while the disk was full")
	}
	v.report(t, "disk-full-minio")
	env.checkSessions(t, []uuid.UUID{cf}, sh.snapshot()).report(t, "disk-full-minio-sessions")
}

// A full disk under PostgreSQL's tables: the writes that need a new page fail with
// SQLSTATE 53100 and answer a clear 503 problem+json (with Retry-After, saying the
// database is out of disk space), never a 500; nothing is half-applied (the session,
// its audit row and its outbox row are in one transaction and the tables all sit on the
// full disk); once space is freed writes succeed again on the same processes. Every
// acknowledged write is there once, and the work queued in the outbox before the disk
// filled (an export, the rollup wake-ups) is done once.
func TestDiskFullUnderPostgresRefusesWritesThenRecovers(t *testing.T) {
	ensureUp(t)
	// The worker is away while the disk is full: the export approved now waits in the
	// outbox (the relay runs in the worker) through the fault.
	if err := cl.Kill("worker", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !cl.Running("worker") {
			_ = cl.StartWorker()
		}
	})
	export := fileAndApproveExport(t)
	cf := env.openCaseFile(t)
	mnt := tablesOnTmpfs(t, "counseling_sessions", "audit_log", "outbox", "rollup_dirty")

	h, stop := writers(3, env.sessionWriter(cf))
	defer stop()
	timeline := "/api/v1/schools/" + env.school.String() + "/case-files/" + cf.String() + "/timeline"
	reads, stopReads := writers(1, func(int) op { return op{reply: do(env.counselor, "GET", timeline, nil)} })
	defer stopReads()
	acked := func() int { return h.count(op.acked) }
	waitFor(t, "writes before the disk fills", 60*time.Second, func() bool { return acked() >= 10 })

	filler := fill(t, mnt)
	mark := len(h.snapshot())
	waitFor(t, "writes refused while the disk is full", 90*time.Second, func() bool {
		return countFull(h.snapshot()[mark:]) >= 10
	})
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := len(h.snapshot())
	after := acked()
	waitFor(t, "writes after the space is freed", 90*time.Second, func() bool { return acked() >= after+10 })
	waitFor(t, "reads after the space is freed", 30*time.Second, func() bool {
		ops := reads.snapshot()
		return len(ops) > 0 && ops[len(ops)-1].reply.status == 200
	})
	stop()
	stopReads()

	ops := h.snapshot()
	full, other := tally(t, ops, "the database is out of disk space")
	readFull, readOther := tally(t, reads.snapshot(), "the database is out of disk space")
	fmt.Printf("CHAOS disk-full-postgres: writes answered between fill and free=%d; refused with 503 'out of disk space'=%d other=%d; audited reads refused=%d other=%d\n",
		freed-mark, full, other, readFull, readOther)
	if full == 0 {
		t.Error("no write was refused with 503 'the database is out of disk space' while the disk was full")
	}
	v := env.checkSessions(t, []uuid.UUID{cf}, ops)
	// Every committed session woke the rollup (rollup_dirty + outbox, same transaction).
	if n := env.scalar(t, `SELECT count(*) FROM counseling_sessions s WHERE s.school_id = $1 AND s.case_file_id = $2
		AND s.created_at > now() - interval '1 hour'
		AND NOT EXISTS (SELECT 1 FROM rollup_dirty d WHERE d.school_id = s.school_id AND d.day = rollup_day(s.occurred_at))
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.task_type = 'rollup:refresh' AND o.created_at >= s.created_at)`, env.school, cf); n != 0 {
		t.Errorf("%d sessions without their rollup mark or wake-up", n)
		v.HalfApplied += n
	}
	v.report(t, "disk-full-postgres")

	// The work queued before the fault runs once.
	if err := cl.StartWorker(); err != nil {
		t.Fatal(err)
	}
	waitExportReady(t, export, 150*time.Second)
	waitOutboxDrained(t)
	waitFor(t, "rollup marks consumed", 120*time.Second, func() bool {
		return env.scalar(t, `SELECT count(*) FROM rollup_dirty`) == 0
	})
	dup := checkExportOnce(t, export)
	before := rollupCells(t)
	if err := (&rollup.Service{DB: env.app}).Rebuild(bg(), env.district); err != nil {
		t.Fatal(err)
	}
	afterCells := rollupCells(t)
	if diff := diffCells(before, afterCells); diff != "" {
		t.Errorf("the incremental rollup differs from a full rebuild:\n%s", diff)
	}
	fmt.Printf("CHAOS disk-full-postgres: jobs queued before the fault=1 done=1 duplicated=%d; rollup cells=%d equal to a full rebuild=%v\n",
		dup, len(before), diffCells(before, afterCells) == "")
}

// countFull counts the answers that refused a write because a disk is full.
func countFull(ops []op) int {
	n := 0
	for _, o := range ops {
		if o.reply.isProblem503() && (strings.Contains(string(o.reply.body), "is full") || strings.Contains(string(o.reply.body), "out of disk space")) {
			n++
		}
	}
	return n
}

// tally checks every answer of a history: a 2xx, or a 503 problem+json with
// Retry-After (never a 500, never a hang or a dropped connection), and counts the 503s
// that say detail and the other ones.
func tally(t *testing.T, ops []op, detail string) (full, other int) {
	t.Helper()
	for _, o := range ops {
		switch {
		case o.acked():
		case o.reply.isProblem503() && o.reply.retryAfter != "":
			var p struct {
				Detail string `json:"detail"`
			}
			_ = json.Unmarshal(o.reply.body, &p)
			if strings.HasPrefix(p.Detail, detail) {
				full++
			} else {
				other++
			}
		default:
			other++
			t.Errorf("op %d: status %d (%s) Retry-After %q %s err %v", o.n, o.reply.status, o.reply.ctype, o.reply.retryAfter, o.reply.body, o.reply.err)
		}
	}
	return full, other
}

// fill fills the tmpfs at dir and removes the filler when the test ends (whatever
// happens: the next test must not find a full disk).
func fill(t *testing.T, dir string) string {
	t.Helper()
	filler, err := Fill(dir)
	t.Cleanup(func() { _ = os.Remove(filler) })
	if err != nil {
		t.Fatal(err)
	}
	return filler
}

// du is the size in MiB of what lies under dir.
func du(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	if err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n >> 20
}

// minioOnTmpfs moves MinIO's data onto a small tmpfs of its own (its current data plus
// 24 MiB) and back to the disk when the test ends, and returns the mount point; the
// data directory is <mount>/data, so a filler next to it is outside MinIO's buckets.
func minioOnTmpfs(t *testing.T) string {
	t.Helper()
	orig := filepath.Join(cl.Dir, "minio", "data")
	if err := cl.stopService(&cl.minio, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	mnt, err := cl.MountTmpfs("minio-disk", fmt.Sprintf("%dm", du(t, orig)+24))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(mnt, "data")
	copied := false
	back := func() {
		_ = cl.stopService(&cl.minio, syscall.SIGTERM)
		cl.SetMinioData("")
		if copied {
			// What was written on the tmpfs goes back to the disk.
			if err := os.RemoveAll(orig); err != nil {
				t.Error(err)
			} else if out, err := exec.Command("cp", "-a", data, orig).CombinedOutput(); err != nil {
				t.Errorf("copy MinIO's data back: %v %s", err, out)
			}
		}
		if err := cl.Unmount(mnt); err != nil {
			t.Error(err)
		}
		if err := cl.StartMinio(); err != nil {
			t.Error(err)
		}
	}
	if out, err := exec.Command("cp", "-a", orig, data).CombinedOutput(); err != nil {
		back()
		t.Fatalf("copy MinIO's data onto the tmpfs: %v %s", err, out)
	}
	copied = true
	t.Cleanup(back)
	cl.SetMinioData(data)
	if err := cl.StartMinio(); err != nil {
		t.Fatal(err)
	}
	return mnt
}

// tablesOnTmpfs moves tables (with their indexes and TOAST) into a tablespace on a
// small tmpfs of their own (their current size plus 16 MiB) and back when the test ends,
// and returns the mount point; the tablespace is <mount>/ts.
func tablesOnTmpfs(t *testing.T, tables ...string) string {
	t.Helper()
	var size int64
	if err := env.admin.QueryRow(bg(), `SELECT coalesce(sum(pg_total_relation_size(t::regclass)), 0) FROM unnest($1::text[]) t`,
		tables).Scan(&size); err != nil {
		t.Fatal(err)
	}
	mnt, err := cl.MountTmpfs("pg-disk", fmt.Sprintf("%dm", size>>20+16))
	if err != nil {
		t.Fatal(err)
	}
	ts := filepath.Join(mnt, "ts")
	if err := os.Mkdir(ts, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := cl.chownPostgres(ts); err != nil {
		t.Fatal(err)
	}
	created := false
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(mnt, "filler"))
		if created {
			if err := moveTables(tables, "pg_default"); err != nil {
				t.Error(err)
			}
			if _, err := env.admin.Exec(bg(), `DROP TABLESPACE chaos_disk`); err != nil {
				t.Error(err)
			}
		}
		if err := cl.Unmount(mnt); err != nil {
			t.Error(err)
		}
	})
	if _, err := env.admin.Exec(bg(), `CREATE TABLESPACE chaos_disk LOCATION '`+ts+`'`); err != nil {
		t.Fatal(err)
	}
	created = true
	if err := moveTables(tables, "chaos_disk"); err != nil {
		t.Fatal(err)
	}
	return mnt
}

// moveTables moves tables and their indexes to tablespace (the owner's objects: as the
// superuser).
func moveTables(tables []string, tablespace string) error {
	for _, table := range tables {
		if _, err := env.admin.Exec(bg(), `ALTER TABLE `+pgx.Identifier{table}.Sanitize()+` SET TABLESPACE `+tablespace); err != nil {
			return fmt.Errorf("move %s to %s: %w", table, tablespace, err)
		}
		rows, err := env.admin.Query(bg(), `SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = $1::regclass`, table)
		if err != nil {
			return err
		}
		indexes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, ix := range indexes {
			if _, err := env.admin.Exec(bg(), `ALTER INDEX `+ix+` SET TABLESPACE `+tablespace); err != nil {
				return fmt.Errorf("move %s to %s: %w", ix, tablespace, err)
			}
		}
	}
	return nil
}

// A full disk under PostgreSQL's WAL (pg_wal on a small tmpfs): when the next segment
// cannot be created PostgreSQL PANICs (ENOSPC in a critical section) and restarts, or
// gives up and stops; meanwhile every answer is a 503 problem+json, never a 500. Once
// space is freed (and PostgreSQL started again if it gave up) the same serve and worker
// processes write again. Every acknowledged write is there once, with its audit row.
func TestDiskFullUnderPostgresWALPanicsThenRecovers(t *testing.T) {
	ensureUp(t)
	cf := env.openCaseFile(t)
	mnt := walOnTmpfs(t)
	h, stop := writers(3, env.sessionWriter(cf))
	defer stop()
	acked := func() int { return h.count(op.acked) }
	waitFor(t, "writes before the disk fills", 60*time.Second, func() bool { return acked() >= 10 })

	pgLog := filepath.Join(cl.Dir, "pg", "postgres.log")
	logStart := fileSize(pgLog)
	filler := fill(t, mnt)
	mark := len(h.snapshot())
	// The writers alone would take long to use up a 16 MiB segment: switch segments
	// until PostgreSQL fails to create the next one (its log says so).
	crashed := false
	waitFor(t, "PostgreSQL failing on a full pg_wal", 90*time.Second, func() bool {
		if !crashed {
			ctx, cancel := context.WithTimeout(bg(), 5*time.Second)
			_, err := env.admin.Exec(ctx, `SELECT pg_current_xact_id(), pg_switch_wal()`)
			cancel()
			b, _ := os.ReadFile(pgLog)
			if int64(len(b)) > logStart && strings.Contains(string(b[logStart:]), "No space left on device") {
				t.Logf("PostgreSQL failed on a full pg_wal (the switch answered %v)", err)
				crashed = true
			}
		}
		return crashed && countDown(h.snapshot()[mark:]) >= 10
	})
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := len(h.snapshot())
	restarted := 0
	after := acked()
	waitFor(t, "writes after the space is freed", 120*time.Second, func() bool {
		if !cl.pgRunning() {
			// PostgreSQL gave up (its start-up recovery could not write either), perhaps
			// only now: start it, as its service manager would.
			if err := cl.StartPostgres(); err != nil {
				t.Log(err)
			} else {
				restarted++
			}
		}
		return acked() >= after+10
	})
	stop()
	waitReady(t, "postgres", "up")

	ops := h.snapshot()
	full, down := tally(t, ops, "the database is out of disk space")
	fmt.Printf("CHAOS disk-full-wal: writes answered between fill and free=%d; 503 problem+json 'out of disk space'=%d 'not available'=%d; postgres started again by the test=%d time(s)\n",
		freed-mark, full, down, restarted)
	env.checkSessions(t, []uuid.UUID{cf}, ops).report(t, "disk-full-wal")
	waitOutboxDrained(t)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// countDown counts clean 503 answers.
func countDown(ops []op) int {
	n := 0
	for _, o := range ops {
		if o.reply.isProblem503() {
			n++
		}
	}
	return n
}

// walOnTmpfs moves PostgreSQL's pg_wal onto a small tmpfs (its size after a checkpoint
// plus 48 MiB) — a symlink, as initdb --waldir makes — and back when the test ends;
// it returns the mount point.
func walOnTmpfs(t *testing.T) string {
	t.Helper()
	for _, q := range []string{`ALTER SYSTEM SET max_wal_size = '64MB'`, `ALTER SYSTEM SET min_wal_size = '32MB'`,
		`SELECT pg_reload_conf()`, `CHECKPOINT`} {
		if _, err := env.admin.Exec(bg(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	wal := filepath.Join(cl.pgData(), "pg_wal")
	if err := cl.pgCtl("stop", "-m", "fast", "-w", "-t", "60"); err != nil {
		t.Fatal(err)
	}
	mnt, err := cl.MountTmpfs("pg-wal", fmt.Sprintf("%dm", du(t, wal)+48))
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(mnt, "pg_wal")
	copied := false
	back := func() {
		_ = os.Remove(filepath.Join(mnt, "filler"))
		if cl.pgRunning() {
			if err := cl.pgCtl("stop", "-m", "fast", "-w", "-t", "60"); err != nil {
				_ = cl.StopPostgres()
			}
		}
		if fi, err := os.Lstat(wal); copied && (err != nil || fi.Mode()&os.ModeSymlink != 0) {
			// pg_wal is the symlink (or was removed before it was made): the WAL on the
			// tmpfs goes back.
			if err := os.Remove(wal); err != nil && !os.IsNotExist(err) {
				t.Error(err)
			} else if out, err := exec.Command("cp", "-a", moved, wal).CombinedOutput(); err != nil {
				t.Errorf("copy pg_wal back: %v %s", err, out)
			}
		}
		if err := cl.Unmount(mnt); err != nil {
			t.Error(err)
		}
		if err := cl.StartPostgres(); err != nil {
			t.Error(err)
			return
		}
		for _, q := range []string{`ALTER SYSTEM RESET max_wal_size`, `ALTER SYSTEM RESET min_wal_size`, `SELECT pg_reload_conf()`} {
			if err := Eventually(30*time.Second, func() error { _, err := env.admin.Exec(bg(), q); return err }); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(back)
	if out, err := exec.Command("cp", "-a", wal, moved).CombinedOutput(); err != nil {
		t.Fatalf("copy pg_wal onto the tmpfs: %v %s", err, out)
	}
	copied = true
	if err := os.RemoveAll(wal); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(moved, wal); err != nil {
		t.Fatal(err)
	}
	if err := cl.StartPostgres(); err != nil {
		t.Fatal(err)
	}
	env.admin.Reset() // no connection from before the stop
	waitReady(t, "postgres", "up")
	return mnt
}
