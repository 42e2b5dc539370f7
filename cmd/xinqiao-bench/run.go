package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/xinqiao/xinqiao/internal/blob"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/config"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/keyring"
	"github.com/xinqiao/xinqiao/internal/research"
	"github.com/xinqiao/xinqiao/internal/rollup"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/synthetic"
)

// Result is one benchmark: our path, the raw engine doing the same work, the ratio.
type Result struct {
	ID      string            `json:"id"`
	Title   string            `json:"title"`
	Ours    *Stats            `json:"ours,omitempty"`
	Raw     *Stats            `json:"raw,omitempty"`
	Values  map[string]string `json:"values"` // label → figure, in display order of Order
	Order   []string          `json:"order"`
	Ratio   float64           `json:"ratio"`
	RatioOf string            `json:"ratio_of"`
	Target  string            `json:"target"`
	Met     bool              `json:"met"`
	Notes   []string          `json:"notes,omitempty"`
}

func (r *Result) set(label, format string, args ...any) {
	if r.Values == nil {
		r.Values = map[string]string{}
	}
	if _, ok := r.Values[label]; !ok {
		r.Order = append(r.Order, label)
	}
	r.Values[label] = fmt.Sprintf(format, args...)
}

// Report is what a run writes (and the doc generator reads).
type Report struct {
	Date     string            `json:"date"`
	Commit   string            `json:"commit"`
	Machine  string            `json:"machine"`
	Load     []string          `json:"load"` // load averages seen during the run
	Postgres string            `json:"postgres"`
	Go       string            `json:"go"`
	District synthetic.Summary `json:"district"`
	Results  []Result          `json:"results"`
	Profiles []string          `json:"profiles"`
}

// reader is a logged-in counselor and case files of their school.
type reader struct {
	token  string
	school uuid.UUID
	files  []uuid.UUID
}

type bench struct {
	cfg       config.Config
	sum       synthetic.Summary
	api       string
	http      *http.Client
	app       *database.DB  // as xinqiao_app: RLS applies
	raw       *pgxpool.Pool // as the superuser: the bare engine, no RLS
	ring      *keyring.Keyring
	token     string
	counselor uuid.UUID
	files     []uuid.UUID
	readers   []reader // counselors of many schools, for the district-wide read
	rate      float64
	dur       time.Duration
	pprofAddr string
	profDir   string
	rep       *Report

	nReaders      int
	rollupTimeout time.Duration
}

func runCmd(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("run", flag.ContinueOnError)
	summary := fl.String("summary", "", "JSON summary printed by `xinqiao seed synthetic`")
	api := fl.String("api", "http://127.0.0.1:18170", "base URL of `xinqiao serve`")
	rate := fl.Float64("rate", 500, "arrival rate of the open-loop read (req/s)")
	dur := fl.Duration("duration", 20*time.Second, "length of each open-loop run")
	only := fl.String("only", "read,rls,write,catalogue,upload,rss,rollup,export", "benchmarks to run")
	nReaders := fl.Int("readers", 50, "counselors (of as many schools) sending the district-wide read")
	rollupTimeout := fl.Duration("rollup-timeout", 15*time.Minute, "give up the full rollup rebuild after this long")
	servePID := fl.Int("serve-pid", 0, "pid of `xinqiao serve` (peak RSS)")
	workerPID := fl.Int("worker-pid", 0, "pid of `xinqiao worker` (peak RSS)")
	pprofAddr := fl.String("serve-pprof", "", "pprof address of serve (XINQIAO_PPROF_ADDR)")
	profDir := fl.String("profiles", "docs/profiles", "where profiles go")
	out := fl.String("out", "bench-results.json", "results file (merged with an existing one)")
	commit := fl.String("commit", "", "commit measured")
	if err := fl.Parse(args); err != nil {
		return err
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, api: strings.TrimRight(*api, "/"), http: newHTTPClient(), rate: *rate, dur: *dur, pprofAddr: *pprofAddr, profDir: *profDir,
		nReaders: *nReaders, rollupTimeout: *rollupTimeout}
	raw, err := os.ReadFile(*summary)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &b.sum); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	b.rep = &Report{}
	if old, err := os.ReadFile(*out); err == nil {
		_ = json.Unmarshal(old, b.rep)
	}
	b.rep.Date = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	b.rep.Commit = *commit
	b.rep.Machine = machine()
	b.rep.Go = runtime.Version()
	b.rep.District = b.sum
	b.rep.Load = append(b.rep.Load, loadavg("start"))
	if b.app, err = database.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns); err != nil {
		return err
	}
	defer b.app.Close()
	adminURL := os.Getenv("BENCH_ADMIN_URL")
	if adminURL == "" {
		return fmt.Errorf("BENCH_ADMIN_URL (the superuser on the benchmark database) is required for the raw paths")
	}
	pc, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		return err
	}
	pc.MaxConns = cfg.DBMaxConns // the same pool size as serve's
	if b.raw, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return err
	}
	defer b.raw.Close()
	_ = b.raw.QueryRow(ctx, `SHOW server_version`).Scan(&b.rep.Postgres)
	if b.ring, err = keyring.Parse(cfg.MasterKey, cfg.MasterKeyPrevious); err != nil {
		return err
	}
	if err := os.MkdirAll(b.profDir, 0o755); err != nil {
		return err
	}
	if err := b.raw.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, b.sum.FirstCounselor).Scan(&b.counselor); err != nil {
		return fmt.Errorf("counselor %s: %w", b.sum.FirstCounselor, err)
	}
	rows, err := b.raw.Query(ctx, `SELECT c.id FROM case_files c JOIN case_file_counselors k ON k.school_id = c.school_id AND k.case_file_id = c.id
		WHERE c.school_id = $1 AND k.user_id = $2 ORDER BY c.id LIMIT 5000`, b.sum.FirstSchool, b.counselor)
	if err != nil {
		return err
	}
	if b.files, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil || len(b.files) == 0 {
		return fmt.Errorf("case files of the first counselor: %v (%d)", err, len(b.files))
	}
	steps := map[string]func(context.Context) (Result, error){
		"read": b.read, "rls": b.rls, "write": b.write, "catalogue": b.catalogue, "upload": b.upload,
		"rss": b.rss(*servePID, *workerPID), "rollup": b.rollup, "export": b.export,
	}
	needsAPI := map[string]bool{"read": true, "write": true, "catalogue": true, "upload": true}
	for _, id := range strings.Split(*only, ",") {
		id = strings.TrimSpace(id)
		fn, ok := steps[id]
		if !ok {
			return fmt.Errorf("unknown benchmark %q", id)
		}
		if needsAPI[id] && b.token == "" {
			if b.token, err = b.login(ctx, b.sum.FirstCounselor); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "== %s\n", id)
		res, err := fn(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		res.ID = id
		for _, k := range res.Order {
			fmt.Fprintf(os.Stderr, "   %-40s %s\n", k, res.Values[k])
		}
		fmt.Fprintf(os.Stderr, "   ratio %.3f (%s), target %s, met %v\n", res.Ratio, res.RatioOf, res.Target, res.Met)
		b.rep.put(res)
		b.rep.Load = append(b.rep.Load, loadavg("after "+id))
		if err := b.save(*out); err != nil {
			return err
		}
	}
	return nil
}

func (r *Report) put(res Result) {
	for i := range r.Results {
		if r.Results[i].ID == res.ID {
			r.Results[i] = res
			return
		}
	}
	r.Results = append(r.Results, res)
}

func (b *bench) save(out string) error {
	data, err := json.MarshalIndent(b.rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, data, 0o644)
}

func (b *bench) addProfile(name string) {
	for _, p := range b.rep.Profiles {
		if p == name {
			return
		}
	}
	b.rep.Profiles = append(b.rep.Profiles, name)
}

func (b *bench) login(ctx context.Context, user string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": b.sum.Password})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.api+"/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("login %s: %d %s", user, resp.StatusCode, msg)
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out.Token, err
}

// profileServe fetches a CPU profile of serve for secs while fn runs.
func (b *bench) profileServe(ctx context.Context, name string, secs int, fn func()) {
	if b.pprofAddr == "" {
		fn()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		u := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.pprofAddr, secs)
		if err := fetch(ctx, u, filepath.Join(b.profDir, name)); err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			return
		}
		b.addProfile(name)
	}()
	fn()
	<-done
}

func fetch(ctx context.Context, u, path string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d", u, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// The point query of casefile.Service.get, for the raw side.
const caseFileQuery = `SELECT c.id, c.school_id, c.student_id, st.student_number, st.name, h.name, c.status, c.risk_tier, c.last_contact_at,
	c.opened_at, c.updated_at, c.archived_at, c.archive_reason,
	coalesce((SELECT array_agg(user_id ORDER BY assigned_at) FROM case_file_counselors k WHERE k.school_id = c.school_id AND k.case_file_id = c.id), '{}')
	FROM case_files c
	JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
	JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id
	WHERE c.school_id = $1 AND c.id = $2`

func scanCaseFile(row pgx.Row) error {
	var c casefile.CaseFile
	return row.Scan(&c.ID, &c.SchoolID, &c.StudentID, &c.StudentNumber, &c.StudentName, &c.HomeroomName, &c.Status, &c.RiskTier, &c.LastContactAt,
		&c.OpenedAt, &c.UpdatedAt, &c.ArchivedAt, &c.ArchiveReason, &c.Counselors)
}

func (b *bench) file(i int) uuid.UUID { return b.files[(i*7919)%len(b.files)] }

// loginReaders logs in the first counselor of up to n schools and picks their files.
func (b *bench) loginReaders(ctx context.Context, n int) error {
	rows, err := b.raw.Query(ctx, `SELECT DISTINCT ON (m.school_id) u.username, m.school_id, u.id FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.role = 'counselor' AND u.district_id = $1 ORDER BY m.school_id, u.username`, b.sum.DistrictID)
	if err != nil {
		return err
	}
	type who struct {
		user       string
		school, id uuid.UUID
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (who, error) {
		var w who
		return w, r.Scan(&w.user, &w.school, &w.id)
	})
	if err != nil {
		return err
	}
	for _, w := range list[:min(n, len(list))] {
		fr, err := b.raw.Query(ctx, `SELECT case_file_id FROM case_file_counselors WHERE school_id = $1 AND user_id = $2 ORDER BY case_file_id LIMIT 200`, w.school, w.id)
		if err != nil {
			return err
		}
		files, err := pgx.CollectRows(fr, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
		if len(files) == 0 {
			continue
		}
		tok, err := b.login(ctx, w.user)
		if err != nil {
			return err
		}
		b.readers = append(b.readers, reader{token: tok, school: w.school, files: files})
	}
	if len(b.readers) == 0 {
		return fmt.Errorf("no counselor with case files")
	}
	return nil
}

// (1) An authorized case-record read through the API vs a raw pgx point query: reads of
// the counselors of many schools (a district's load), and of one counselor alone.
func (b *bench) read(ctx context.Context) (Result, error) {
	res := Result{Title: "Case-record read: API (auth + Casbin + RLS + audit) vs raw pgx point query"}
	if err := b.loginReaders(ctx, b.nReaders); err != nil {
		return res, err
	}
	pickReader := func(i int) (reader, uuid.UUID) {
		r := b.readers[i%len(b.readers)]
		return r, r.files[(i/len(b.readers)*7919)%len(r.files)]
	}
	apiGet := func(ctx context.Context, i int) error {
		r, f := pickReader(i)
		return get(ctx, b.http, fmt.Sprintf("%s/api/v1/schools/%s/case-files/%s", b.api, r.school, f), r.token, nil)
	}
	rawGet := func(ctx context.Context, i int) error {
		r, f := pickReader(i)
		return scanCaseFile(b.raw.QueryRow(ctx, caseFileQuery, r.school, f))
	}
	oneGet := func(ctx context.Context, i int) error {
		return get(ctx, b.http, fmt.Sprintf("%s/api/v1/schools/%s/case-files/%s", b.api, b.sum.FirstSchool, b.file(i)), b.token, nil)
	}
	ClosedLoop(ctx, 8, 3*time.Second, 0, apiGet) // warm-up: connections, caches
	ClosedLoop(ctx, 8, 2*time.Second, 0, rawGet)
	capAPI := ClosedLoop(ctx, 16, 10*time.Second, 0, apiGet)
	capRaw := ClosedLoop(ctx, 16, 10*time.Second, 0, rawGet)
	var ours Stats
	b.profileServe(ctx, "read.serve.cpu.pprof", min(15, int(b.dur.Seconds())), func() {
		ours = OpenLoop(ctx, b.rate, b.dur, 4096, apiGet)
	})
	raw := OpenLoop(ctx, b.rate, b.dur, 4096, rawGet)
	one := OpenLoop(ctx, b.rate, b.dur/2, 4096, oneGet)
	capOne := ClosedLoop(ctx, 16, 5*time.Second, 0, oneGet)
	res.Ours, res.Raw = &ours, &raw
	res.set("readers", "%d counselors of %d schools, each reading their own case files", len(b.readers), len(b.readers))
	res.set("capacity, API (16 clients)", "%.0f req/s", capAPI.Throughput)
	res.set("capacity, raw pgx (16 clients)", "%.0f req/s", capRaw.Throughput)
	res.set(fmt.Sprintf("API at %.0f req/s open loop", b.rate), "%s", ours)
	res.set(fmt.Sprintf("raw at %.0f req/s open loop", b.rate), "%s", raw)
	res.set("worst case: one counselor of one school, capacity", "%.0f req/s", capOne.Throughput)
	res.set(fmt.Sprintf("worst case: one counselor of one school at %.0f req/s", b.rate), "%s", one)
	res.Ratio = capAPI.Throughput / capRaw.Throughput
	res.RatioOf = "API capacity / raw capacity"
	res.Target = "≥ 0.5× raw, p99 < 25 ms at 500 req/s"
	res.Met = res.Ratio >= 0.5 && ours.P99 < 25 && ours.Errors == 0
	if capAPI.Errors+ours.Errors > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("errors: %d / %d (%s%s)", capAPI.Errors, ours.Errors, capAPI.FirstErr, ours.FirstErr))
	}
	return res, nil
}

// (7b) The same read with row-level security on (the app role, scope set) and off
// (the superuser, which bypasses RLS): same transaction shape, same statements.
func (b *bench) rls(ctx context.Context) (Result, error) {
	res := Result{Title: "Row-level security on vs off for the same read (p99)"}
	a := scope.Actor{UserID: b.counselor, DistrictID: b.sum.DistrictID, SchoolID: b.sum.FirstSchool, Kind: scope.School, Roles: []string{scope.Counselor}}
	on := func(ctx context.Context, i int) error {
		return b.app.InTx(ctx, a, func(tx pgx.Tx) error {
			return scanCaseFile(tx.QueryRow(ctx, caseFileQuery, b.sum.FirstSchool, b.file(i)))
		})
	}
	off := func(ctx context.Context, i int) error {
		tx, err := b.raw.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if err := database.SetScope(ctx, tx, a); err != nil {
			return err
		}
		if err := scanCaseFile(tx.QueryRow(ctx, caseFileQuery, b.sum.FirstSchool, b.file(i))); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	ClosedLoop(ctx, 1, time.Second, 0, on)
	ClosedLoop(ctx, 1, time.Second, 0, off)
	// Alternate short blocks so that the machine's load hits both sides alike.
	var latOn, latOff []Stats
	for round := 0; round < 6; round++ {
		latOn = append(latOn, ClosedLoop(ctx, 1, 2*time.Second, 0, on))
		latOff = append(latOff, ClosedLoop(ctx, 1, 2*time.Second, 0, off))
	}
	med := func(xs []Stats, f func(Stats) float64) float64 {
		v := make([]float64, len(xs))
		for i, x := range xs {
			v[i] = f(x)
		}
		return median(v)
	}
	p99 := func(s Stats) float64 { return s.P99 }
	p50 := func(s Stats) float64 { return s.P50 }
	onP99, offP99 := med(latOn, p99), med(latOff, p99)
	res.set("RLS on: p50 / p99 (median of 6 rounds)", "%.3f ms / %.3f ms", med(latOn, p50), onP99)
	res.set("RLS off: p50 / p99 (median of 6 rounds)", "%.3f ms / %.3f ms", med(latOff, p50), offP99)
	res.Ratio = onP99 / offP99
	res.RatioOf = "p99 with RLS / p99 without"
	res.Target = "RLS adds ≤ 10 % to p99"
	res.Met = res.Ratio <= 1.10
	return res, nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// (2) Session write through the API vs a raw INSERT of the same row.
func (b *bench) write(ctx context.Context) (Result, error) {
	res := Result{Title: "Session write: API (validate, seal 3 fields, insert, audit, rollup mark + outbox) vs raw INSERT"}
	body := func() []byte {
		j, _ := json.Marshal(map[string]any{"occurred_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "channel": "scheduled",
			"participants": []string{"student"}, "initiated_by": "self", "categories": []string{"learning", "emotion"}, "duration_minutes": 45,
			"summary": "学生谈到近期考试压力大，晚上难以入睡，咨询中进行了情绪疏导和放松训练。", "next_steps": "下周同一时间继续咨询",
			"note": "来访者情绪较上次平稳，能主动表达感受。注意到来访者回避谈及家庭话题，下次可温和探索。"})
		return j
	}()
	if len(b.readers) == 0 {
		if err := b.loginReaders(ctx, b.nReaders); err != nil {
			return res, err
		}
	}
	// Counselors of many schools write into their own case files, as in a district.
	pick := func(i int) (reader, uuid.UUID) {
		r := b.readers[i%len(b.readers)]
		return r, r.files[(i/len(b.readers)*7919)%len(r.files)]
	}
	apiPost := func(ctx context.Context, i int) error {
		r, f := pick(i)
		u := fmt.Sprintf("%s/api/v1/schools/%s/case-files/%s/sessions", b.api, r.school, f)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+r.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := b.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST session: %d", resp.StatusCode)
		}
		return nil
	}
	// The raw side stores sealed blobs of the same sizes, sealed beforehand.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	blobOf := func(n int) []byte { p := make([]byte, n); _, _ = rand.Read(p); return p }
	summary, next, note := blobOf(17+12+16+105), blobOf(17+12+16+30), blobOf(17+12+16+130)
	rawInsert := func(ctx context.Context, i int) error {
		r, f := pick(i)
		_, err := b.raw.Exec(ctx, `INSERT INTO counseling_sessions (school_id, id, case_file_id, occurred_at, channel, participants, initiated_by,
			categories, duration_minutes, summary, next_steps, note, created_by) VALUES ($1, $2, $3, $4, 'scheduled', '{student}', 'self', '{learning,emotion}', 45, $5, $6, $7, $8)`,
			r.school, uuid.Must(uuid.NewV7()), f, time.Now().Add(-time.Hour), summary, next, note, b.counselor)
		return err
	}
	n := 3000
	var ours Stats
	b.profileServe(ctx, "write.serve.cpu.pprof", 10, func() { ours = ClosedLoop(ctx, 8, 12*time.Second, n, apiPost) })
	raw := ClosedLoop(ctx, 8, 12*time.Second, n, rawInsert)
	res.Ours, res.Raw = &ours, &raw
	res.set("writers", "counselors of %d schools, each into their own case files", len(b.readers))
	res.set("API (8 clients)", "%s", ours)
	res.set("raw INSERT (8 clients)", "%s", raw)
	res.Ratio = ours.Throughput / raw.Throughput
	res.RatioOf = "API writes/s / raw INSERTs/s"
	res.Target = "(no target in the issue; reported)"
	res.Met = ours.Errors == 0
	if ours.Errors > 0 {
		res.Notes = append(res.Notes, "errors: "+ours.FirstErr)
	}
	return res, nil
}

// (3) Archive catalogue searches through the API at district scale.
func (b *bench) catalogue(ctx context.Context) (Result, error) {
	res := Result{Title: fmt.Sprintf("Archive catalogue search through the API (%d students in the district)", b.sum.Students)}
	var number, name string
	if err := b.raw.QueryRow(ctx, `SELECT st.student_number, left(st.name, 1) FROM case_files c JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
		WHERE c.school_id = $1 LIMIT 1`, b.sum.FirstSchool).Scan(&number, &name); err != nil {
		return res, err
	}
	month := time.Now().AddDate(0, -1, 0).UTC().Format(time.RFC3339)
	// Searches are POSTed (search terms never travel in the address), as the UI sends them.
	filters := []struct {
		name string
		body map[string]any
	}{
		{"all", map[string]any{}}, {"name", map[string]any{"q": name}}, {"number prefix", map[string]any{"q": number[:5]}},
		{"risk tier high", map[string]any{"risk_tier": "high"}}, {"my caseload", map[string]any{"mine": true}},
		{"no contact 30 days", map[string]any{"contact_before": month}},
	}
	worst := 0.0
	u := fmt.Sprintf("%s/api/v1/schools/%s/case-files/search", b.api, b.sum.FirstSchool)
	for _, f := range filters {
		f.body["limit"] = 50
		body, _ := json.Marshal(f.body)
		do := func(ctx context.Context, _ int) error { return post(ctx, b.http, u, b.token, body) }
		ClosedLoop(ctx, 1, 0, 3, do)
		s := ClosedLoop(ctx, 1, 20*time.Second, 60, do)
		if s.Errors > 0 {
			return res, fmt.Errorf("catalogue %s: %s", f.name, s.FirstErr)
		}
		res.set(f.name, "p50 %.1f ms, p95 %.1f ms", s.P50, s.P95)
		worst = max(worst, s.P95)
	}
	res.Ratio = worst
	res.RatioOf = "worst p95 of the six searches (ms)"
	res.Target = "p95 < 50 ms"
	res.Met = worst < 50
	return res, nil
}

// (6) A 1 MiB document upload through the API vs a direct minio-go PUT.
func (b *bench) upload(ctx context.Context) (Result, error) {
	res := Result{Title: "1 MiB document upload: API (multipart, sniff, seal, SSE-S3 PUT, row, audit) vs direct minio-go PUT"}
	content := make([]byte, 1<<20)
	_, _ = rand.Read(content)
	copy(content, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("kind", "report")
	_ = mw.WriteField("title", "基准文档")
	fw, _ := mw.CreateFormFile("file", "bench.pdf")
	_, _ = fw.Write(content)
	_ = mw.Close()
	ctype := mw.FormDataContentType()
	apiPut := func(ctx context.Context, i int) error {
		u := fmt.Sprintf("%s/api/v1/schools/%s/case-files/%s/documents", b.api, b.sum.FirstSchool, b.file(i))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(form.Bytes()))
		req.Header.Set("Authorization", "Bearer "+b.token)
		req.Header.Set("Content-Type", ctype)
		resp, err := b.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("upload: %d %s", resp.StatusCode, msg)
		}
		return nil
	}
	store, err := blob.Open(b.cfg.S3Endpoint, b.cfg.S3AccessKey, b.cfg.S3SecretKey, b.cfg.S3Bucket, b.cfg.S3UseTLS)
	if err != nil {
		return res, err
	}
	bucket := store.DistrictBucket(b.sum.DistrictID)
	rawPut := func(ctx context.Context, i int) error {
		_, err := store.Client.PutObject(ctx, bucket, fmt.Sprintf("bench/raw-%d-%d", time.Now().UnixNano(), i), bytes.NewReader(content), int64(len(content)),
			minio.PutObjectOptions{ContentType: "application/pdf"})
		return err
	}
	if err := apiPut(ctx, 0); err != nil { // creates the district bucket too
		return res, err
	}
	rawSSE := func(ctx context.Context, i int) error {
		_, err := store.Client.PutObject(ctx, bucket, fmt.Sprintf("bench/sse-%d-%d", time.Now().UnixNano(), i), bytes.NewReader(content), int64(len(content)),
			minio.PutObjectOptions{ContentType: "application/pdf", ServerSideEncryption: encrypt.NewSSE()})
		return err
	}
	// The profile covers the first block; then the three sides alternate in short blocks so
	// that the machine's load hits all of them alike, and the medians are compared.
	var first Stats
	b.profileServe(ctx, "upload.serve.cpu.pprof", 8, func() { first = ClosedLoop(ctx, 2, 15*time.Second, 80, apiPut) })
	oursRounds, rawRounds, sseRounds := []Stats{first}, []Stats{}, []Stats{}
	for round := 0; round < 5; round++ {
		rawRounds = append(rawRounds, ClosedLoop(ctx, 2, 15*time.Second, 60, rawPut))
		sseRounds = append(sseRounds, ClosedLoop(ctx, 2, 15*time.Second, 60, rawSSE))
		if round < 4 {
			oursRounds = append(oursRounds, ClosedLoop(ctx, 2, 15*time.Second, 60, apiPut))
		}
	}
	pick := func(xs []Stats) Stats { // the round of median throughput
		s := append([]Stats(nil), xs...)
		sort.Slice(s, func(i, j int) bool { return s[i].Throughput < s[j].Throughput })
		return s[len(s)/2]
	}
	ours, raw, sse := pick(oursRounds), pick(rawRounds), pick(sseRounds)
	for _, r := range oursRounds {
		if r.Errors > 0 {
			ours.Errors, ours.FirstErr = ours.Errors+r.Errors, r.FirstErr
		}
	}
	res.Ours, res.Raw = &ours, &sse
	res.set("API (2 clients, median of 5 rounds)", "%s = %.1f MiB/s", ours, ours.Throughput)
	res.set("direct PUT with SSE-S3, the storage work the API asks of MinIO (2 clients, median of 5 rounds)", "%s = %.1f MiB/s", sse, sse.Throughput)
	res.set("direct PUT without encryption (2 clients, median of 5 rounds)", "%s = %.1f MiB/s (API / this: %.2f)", raw, raw.Throughput, ours.Throughput/raw.Throughput)
	res.Ratio = ours.Throughput / sse.Throughput
	res.RatioOf = "API MiB/s / direct SSE-S3 PUT MiB/s (same object, same encryption)"
	res.Target = "≥ 0.8× direct PUT"
	res.Met = res.Ratio >= 0.8 && ours.Errors == 0
	res.Notes = append(res.Notes, fmt.Sprintf("against a PUT without server-side encryption (less work than the API's PUT) the ratio is %.2f", ours.Throughput/raw.Throughput))
	if ours.Errors > 0 {
		res.Notes = append(res.Notes, "errors: "+ours.FirstErr)
	}
	// Clean up the raw objects (the API's documents stay with their rows).
	for o := range store.Client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: "bench/", Recursive: true}) {
		_ = store.Client.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{})
	}
	return res, nil
}

// (8) Peak resident memory of serve and worker (VmHWM) after the load above.
func (b *bench) rss(servePID, workerPID int) func(context.Context) (Result, error) {
	return func(ctx context.Context) (Result, error) {
		res := Result{Title: "Peak RSS (VmHWM) of serve and worker after the load"}
		var serveMiB float64
		for _, p := range []struct {
			name string
			pid  int
		}{{"serve", servePID}, {"worker", workerPID}} {
			if p.pid == 0 {
				continue
			}
			hwm, rss := vm(p.pid)
			res.set(p.name, "peak %.0f MiB (now %.0f MiB)", hwm, rss)
			if p.name == "serve" {
				serveMiB = hwm
			}
		}
		if b.pprofAddr != "" {
			if err := fetch(ctx, "http://"+b.pprofAddr+"/debug/pprof/heap", filepath.Join(b.profDir, "serve.heap.pprof")); err == nil {
				b.addProfile("serve.heap.pprof")
			}
		}
		res.Ratio = serveMiB
		res.RatioOf = "serve peak RSS (MiB)"
		res.Target = "serve < 200 MiB"
		res.Met = serveMiB > 0 && serveMiB < 200
		return res, nil
	}
}

func vm(pid int) (hwm, rss float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		var kb float64
		if n, _ := fmt.Sscanf(line, "VmHWM: %f kB", &kb); n == 1 {
			hwm = kb / 1024
		}
		if n, _ := fmt.Sscanf(line, "VmRSS: %f kB", &kb); n == 1 {
			rss = kb / 1024
		}
	}
	return hwm, rss
}

// rollupBaseline is one plain GROUP BY over the same rows the rollup reads: the session
// and screening facts by school, period (week, month, term), grade, gender and category,
// with distinct students, and the case files by tier. It skips what the rollup adds
// on top (a tier as of each period's end, suppression-ready grouping sets per school
// and the district sums).
const rollupBaseline = `
WITH pupil AS (
  SELECT st.school_id, st.id, g.name AS grade, st.gender FROM students st JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
  JOIN schools sc ON sc.id = st.school_id WHERE sc.district_id = $1
), facts AS (
  SELECT s.school_id, 'sessions_channel' AS measure, c.student_id, s.channel AS category, rollup_day(s.occurred_at) AS day
  FROM counseling_sessions s JOIN case_files c ON c.school_id = s.school_id AND c.id = s.case_file_id
  UNION ALL
  SELECT s.school_id, 'sessions_category', c.student_id, cat, rollup_day(s.occurred_at)
  FROM counseling_sessions s JOIN case_files c ON c.school_id = s.school_id AND c.id = s.case_file_id, unnest(s.categories) cat
  UNION ALL
  SELECT a.school_id, 'screening_band', a.student_id, a.instrument_code || ':' || a.band, rollup_day(a.taken_at) FROM assessments a WHERE a.valid
  UNION ALL
  SELECT c.school_id, 'case_files_tier', c.student_id, c.risk_tier, rollup_day(c.opened_at) FROM case_files c
)
SELECT f.school_id, k, rollup_period_start(k, f.day), f.measure, p.grade, p.gender, f.category, count(DISTINCT f.student_id), count(*)
FROM facts f JOIN pupil p ON p.school_id = f.school_id AND p.id = f.student_id, unnest(ARRAY['week', 'month', 'term']) k
GROUP BY GROUPING SETS ((f.school_id, k, 3, f.measure, f.category, p.grade, p.gender), (f.school_id, k, 3, f.measure, f.category))`

// (4) Full district rollup vs one plain GROUP BY; incremental refresh after one change.
func (b *bench) rollup(ctx context.Context) (Result, error) {
	res := Result{Title: "District rollup: full rebuild vs one plain GROUP BY over the same rows; incremental refresh after one change"}
	svc := &rollup.Service{DB: b.app}
	if _, err := svc.Refresh(ctx); err != nil { // drain marks left by earlier writes
		return res, err
	}
	t := time.Now()
	rctx, cancel := context.WithTimeout(ctx, b.rollupTimeout)
	err := svc.Rebuild(rctx, b.sum.DistrictID)
	cancel()
	full := time.Since(t)
	timedOut := err != nil && rctx.Err() != nil
	if err != nil && !timedOut {
		return res, err
	}
	if timedOut {
		res.Notes = append(res.Notes, fmt.Sprintf("the full rebuild did not finish within %s and was rolled back: the time shown is a lower bound", b.rollupTimeout))
	}
	var cells int
	_ = b.raw.QueryRow(ctx, `SELECT count(*) FROM rollup_cells WHERE district_id = $1`, b.sum.DistrictID).Scan(&cells)
	t = time.Now()
	pctx, cancel := context.WithTimeout(ctx, b.rollupTimeout)
	defer cancel()
	rows, err := b.raw.Query(pctx, rollupBaseline, b.sum.DistrictID)
	if err != nil {
		return res, err
	}
	groups := 0
	for rows.Next() {
		groups++
	}
	rows.Close()
	if err := rows.Err(); err != nil && pctx.Err() == nil {
		return res, err
	}
	plain := time.Since(t)
	if pctx.Err() != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("the plain GROUP BY did not finish within %s: its time is a lower bound", b.rollupTimeout))
	}
	// One change: a session recorded through the service, then the refresh.
	a := scope.Actor{UserID: b.counselor, DistrictID: b.sum.DistrictID, SchoolID: b.sum.FirstSchool, Kind: scope.School, Roles: []string{scope.Counselor}, Username: b.sum.FirstCounselor}
	cases := &casefile.Service{DB: b.app, Cipher: b.ring}
	var incr []float64
	for i := 0; i < 5; i++ {
		if _, err := cases.RecordSession(ctx, a, b.sum.FirstSchool, b.file(mrand.IntN(len(b.files))), casefile.SessionInput{
			OccurredAt: time.Now().Add(-time.Hour), Channel: "walk_in", Participants: []string{"student"}, InitiatedBy: "self",
			Categories: []string{"emotion"}, DurationMinutes: 30, Summary: "基准：一次会谈"}); err != nil {
			return res, err
		}
		t = time.Now()
		n, err := svc.Refresh(ctx)
		if err != nil {
			return res, err
		}
		if n == 0 {
			res.Notes = append(res.Notes, "a refresh found no dirty mark (a worker took it)")
		}
		incr = append(incr, float64(time.Since(t).Microseconds())/1000)
	}
	inc := median(incr)
	res.set("full rebuild (rollup.Service.Rebuild)", "%.1f s, %d cells", full.Seconds(), cells)
	res.set("plain GROUP BY over the same rows", "%.1f s, %d groups", plain.Seconds(), groups)
	res.set("incremental refresh after one session (median of 5)", "%.0f ms", inc)
	res.Ratio = full.Seconds() / plain.Seconds()
	res.RatioOf = "full rebuild time / plain GROUP BY time"
	res.Target = "≤ 1.5× the plain GROUP BY; incremental < 100 ms"
	res.Met = res.Ratio <= 1.5 && inc < 100
	res.Notes = append(res.Notes, fmt.Sprintf("incremental refresh: %.0f ms (target < 100 ms: %v)", inc, inc < 100))
	return res, nil
}

// researchBaseline is research_rows' query for the same district and years.
const researchBaseline = `COPY (
  SELECT st.id, sc.code, g.name, st.gender, extract(year FROM st.birth_date)::int, y.year,
    EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = st.school_id AND c.student_id = st.id
      AND extract(year FROM c.opened_at AT TIME ZONE 'Asia/Shanghai') <= y.year),
    coalesce((SELECT t.to_tier FROM risk_tier_changes t JOIN case_files c ON c.school_id = t.school_id AND c.id = t.case_file_id
      WHERE c.school_id = st.school_id AND c.student_id = st.id AND extract(year FROM t.changed_at AT TIME ZONE 'Asia/Shanghai') = y.year
      ORDER BY array_position(ARRAY['none', 'watch', 'elevated', 'high', 'crisis'], t.to_tier) DESC LIMIT 1), 'none'),
    (SELECT count(*) FROM counseling_sessions s JOIN case_files c ON c.school_id = s.school_id AND c.id = s.case_file_id
      WHERE c.school_id = st.school_id AND c.student_id = st.id AND extract(year FROM s.occurred_at AT TIME ZONE 'Asia/Shanghai') = y.year),
    (SELECT count(*) FROM crises k WHERE k.school_id = st.school_id AND k.student_id = st.id AND extract(year FROM k.opened_at AT TIME ZONE 'Asia/Shanghai') = y.year),
    (SELECT count(*) FROM referrals f WHERE f.school_id = st.school_id AND f.student_id = st.id AND extract(year FROM f.sent_at AT TIME ZONE 'Asia/Shanghai') = y.year),
    (SELECT a.band FROM assessments a WHERE a.school_id = st.school_id AND a.student_id = st.id AND a.instrument_code = 'phq9' AND a.valid
      AND extract(year FROM a.taken_at AT TIME ZONE 'Asia/Shanghai') = y.year ORDER BY a.taken_at DESC LIMIT 1),
    (SELECT a.band FROM assessments a WHERE a.school_id = st.school_id AND a.student_id = st.id AND a.instrument_code = 'gad7' AND a.valid
      AND extract(year FROM a.taken_at AT TIME ZONE 'Asia/Shanghai') = y.year ORDER BY a.taken_at DESC LIMIT 1)
  FROM schools sc JOIN students st ON st.school_id = sc.id
  JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
  CROSS JOIN unnest(ARRAY[%d]) AS y(year)
  WHERE sc.district_id = '%s'
  ORDER BY st.id, y.year
) TO STDOUT`

// (5) The research export job vs COPY of the same columns.
func (b *bench) export(ctx context.Context) (Result, error) {
	res := Result{Title: "Research export: the job (query, pseudonyms, k-anonymity, CSV + Parquet, upload) vs COPY (SELECT ...) TO STDOUT"}
	store, err := blob.Open(b.cfg.S3Endpoint, b.cfg.S3AccessKey, b.cfg.S3SecretKey, b.cfg.S3Bucket, b.cfg.S3UseTLS)
	if err != nil {
		return res, err
	}
	var researcher uuid.UUID
	if err := b.raw.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, b.sum.Researcher).Scan(&researcher); err != nil {
		return res, err
	}
	var fields []string
	for _, f := range research.Codebook {
		if f.Name != "pid" && f.Name != "year" {
			fields = append(fields, f.Name)
		}
	}
	// One calendar year (the district's data spans the year before --until).
	y := synthetic.DefaultUntil.Year()
	years := []int{y}
	id := uuid.Must(uuid.NewV7())
	if _, err := b.raw.Exec(ctx, `INSERT INTO research_requests (district_id, id, researcher_id, purpose, years, fields, ethics_ref, k, status, decided_by, decided_at)
		VALUES ($1, $2, $3, '基准：年度研究数据导出', $4, $5, 'BENCH-ETHICS-1', 5, 'approved', $3, now())`, b.sum.DistrictID, id, researcher, years, fields); err != nil {
		return res, err
	}
	svc := &research.Service{DB: b.app, Objects: store}
	conn, err := b.raw.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Release()
	copyOnce := func() (int64, time.Duration, error) {
		t := time.Now()
		tag, err := conn.Conn().PgConn().CopyTo(ctx, io.Discard, fmt.Sprintf(researchBaseline, years[0], b.sum.DistrictID))
		return tag.RowsAffected(), time.Since(t), err
	}
	// COPY first, job, COPY again: neither side gets the cold cache alone.
	_, cp1, err := copyOnce()
	if err != nil {
		return res, err
	}
	f, err := os.Create(filepath.Join(b.profDir, "export.cpu.pprof"))
	if err != nil {
		return res, err
	}
	_ = pprof.StartCPUProfile(f)
	t := time.Now()
	err = svc.Run(ctx, b.sum.DistrictID, id, nil)
	job := time.Since(t)
	pprof.StopCPUProfile()
	f.Close()
	if err != nil {
		return res, err
	}
	b.addProfile("export.cpu.pprof")
	var rowsOut int
	var status string
	if err := b.raw.QueryRow(ctx, `SELECT status, coalesce(rows_exported, 0) FROM research_requests WHERE district_id = $1 AND id = $2`, b.sum.DistrictID, id).Scan(&status, &rowsOut); err != nil {
		return res, err
	}
	if status != "ready" {
		return res, fmt.Errorf("export ended %s", status)
	}
	copied, cp2, err := copyOnce()
	if err != nil {
		return res, err
	}
	cp := (cp1 + cp2) / 2
	ours, raw := float64(rowsOut)/job.Seconds(), float64(copied)/cp.Seconds()
	res.set("export job", "%d rows in %.1f s = %.0f rows/s", rowsOut, job.Seconds(), ours)
	res.set("COPY (SELECT same columns) TO STDOUT, before and after the job", "%d rows in %.1f s and %.1f s = %.0f rows/s (mean)", copied, cp1.Seconds(), cp2.Seconds(), raw)
	res.Ratio = ours / raw
	res.RatioOf = "job rows/s / COPY rows/s"
	res.Target = "≥ 0.5× COPY"
	res.Met = res.Ratio >= 0.5
	return res, nil
}

func machine() string {
	model := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		for _, l := range strings.Split(string(data), "\n") {
			if n, _ := fmt.Sscanf(l, "MemTotal: %f kB", &kb); n == 1 {
				mem = fmt.Sprintf("%.0f GiB", kb/1024/1024)
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s RAM, %s/%s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH)
}

func loadavg(when string) string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return when + ": ?"
	}
	return fmt.Sprintf("%s: %s %s %s", when, f[0], f[1], f[2])
}
