package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
	"github.com/xinqiao/xinqiao/internal/demo"
	"github.com/xinqiao/xinqiao/internal/disclosure"
	"github.com/xinqiao/xinqiao/internal/document"
	"github.com/xinqiao/xinqiao/internal/emergency"
	"github.com/xinqiao/xinqiao/internal/httpapi"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/jobrun"
	"github.com/xinqiao/xinqiao/internal/keyring"
	"github.com/xinqiao/xinqiao/internal/library"
	"github.com/xinqiao/xinqiao/internal/mailbox"
	"github.com/xinqiao/xinqiao/internal/metrics"
	"github.com/xinqiao/xinqiao/internal/notify"
	"github.com/xinqiao/xinqiao/internal/program"
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
	"github.com/xinqiao/xinqiao/internal/testdb"
)

// world is a running API over a fresh database holding two seeded districts: the demo
// district (schools s1, s2, s3) and a foreign one ("d2").
type world struct {
	t         testing.TB
	db        *testdb.DB
	srv       *httptest.Server
	enforcer  *access.Enforcer
	identity  *identity.Service
	logs      *bytes.Buffer
	engine    *gin.Engine
	cases     *casefile.Service
	plans     *supportplan.Service
	docs      *document.Service
	store     *blob.Store
	emergency *emergency.Service
	screening *screening.Service
	crises    *crisis.Service
	referrals *referral.Service
	research  *research.Service
	clock     *testClock
	// codeLimits throttles the student page (nil: the default).
	codeLimits *httpapi.CodeLimiter
	// limits are the body and rate limits of the API (nil: the defaults).
	limits *httpapi.Limits
	// log is the API's logger (JSON lines into logs, written under logBuf's lock).
	logBuf    *syncBuffer
	log       *slog.Logger
	room      *appointment.Service
	tcases    *teachingcase.Service
	lib       *library.Service
	programs  *program.Service
	barometer *barometer.Service
	ring      *keyring.Keyring

	termSummaries *termsummary.Service
	clients       *clientfile.Service

	district, foreignDistrict uuid.UUID
	schools                   map[string]uuid.UUID // "s1", "s2", "s3", "d2.s1" ...
	mu                        sync.Mutex
	tokens                    map[string]string
	cached                    map[string]uuid.UUID // fixtures the matrix reuses
}

type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// testClock is the screening clock of a world; tests move it forward.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func newWorld(t testing.TB, opts ...func(*world)) *world {
	t.Helper()
	ctx := context.Background()
	db := testdb.New(t)
	logs := &bytes.Buffer{}
	logBuf := &syncBuffer{b: logs}
	log := slog.New(slog.NewJSONHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	en, err := access.NewEnforcer(db.App.Pool, log)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ready := make(chan struct{})
	go en.Watch(wctx, db.AppURL, ready)
	<-ready
	id := &identity.Service{DB: db.App, Authorizer: en, SessionTTL: time.Hour, Throttle: identity.DefaultThrottle}
	tn := &tenant.Service{DB: db.App}
	ro := &roster.Service{DB: db.App}
	au := &audit.Service{DB: db.App}
	w := &world{t: t, db: db, enforcer: en, identity: id, logs: logs, logBuf: logBuf, log: log, schools: map[string]uuid.UUID{}, tokens: map[string]string{}, cached: map[string]uuid.UUID{}}
	for _, o := range opts {
		o(w)
	}
	for _, prefix := range []string{"", "d2"} {
		s := &demo.Seeder{DB: db.App, Identity: id, Tenants: tn, Roster: ro, ReloadPolicy: en.Reload, StudentsPerSchool: 12, Prefix: prefix}
		if _, _, err := s.Seed(ctx); err != nil {
			t.Fatalf("seed %q: %v", prefix, err)
		}
		d, err := s.DistrictID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if prefix == "" {
			w.district = d
		} else {
			w.foreignDistrict = d
		}
	}
	if err := en.Reload(); err != nil {
		t.Fatal(err)
	}
	// School ids by code, read as the owner (a test-only view of everything).
	w.ownerQuery(func(tx pgx.Tx) {
		rows, err := tx.Query(ctx, `SELECT code, id FROM schools`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var code string
			var id uuid.UUID
			if err := rows.Scan(&code, &id); err != nil {
				t.Fatal(err)
			}
			w.schools[strings.Replace(code, "-", ".", 1)] = id
		}
	})
	key := make([]byte, 32)
	rand.Read(key)
	ring, err := keyring.Parse("test:"+base64.StdEncoding.EncodeToString(key), "")
	if err != nil {
		t.Fatal(err)
	}
	w.ring = ring
	id.Cipher = ring
	id.OIDC = &identity.OIDC{Getenv: func(name string) string { return testOIDCSecrets[name] }}
	w.cases = &casefile.Service{DB: db.App, Cipher: ring}
	w.plans = &supportplan.Service{DB: db.App, Cipher: ring}
	w.store = testStore(t)
	t.Cleanup(func() {
		for _, d := range []uuid.UUID{w.district, w.foreignDistrict} {
			if err := w.store.RemoveDistrict(context.Background(), d); err != nil {
				t.Errorf("remove test bucket: %v", err)
			}
		}
	})
	w.docs = &document.Service{DB: db.App, Cipher: ring, Store: w.store, MaxBytes: testDocumentCap, Log: log}
	w.clock = &testClock{}
	w.screening = &screening.Service{DB: db.App, Cipher: ring, CaseFiles: w.cases, Now: w.clock.Now}
	disclosures := &disclosure.Service{DB: db.App, Cipher: ring}
	w.research = &research.Service{DB: db.App, Objects: w.store, Now: w.clock.Now, Keys: w.ring}
	w.crises = &crisis.Service{DB: db.App, Cipher: ring, CaseFiles: w.cases, Disclosures: disclosures, Now: w.clock.Now}
	w.referrals = &referral.Service{DB: db.App, Cipher: ring, Disclosures: disclosures, Crises: w.crises, Now: w.clock.Now,
		FontPath: "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"}
	w.room = &appointment.Service{DB: db.App, Cipher: ring, CaseFiles: w.cases}
	w.tcases = &teachingcase.Service{DB: db.App, Cipher: ring}
	w.clients = &clientfile.Service{DB: db.App, Cipher: ring}
	w.emergency = &emergency.Service{DB: db.App, Cipher: ring, Passwords: id, CaseFiles: w.cases, ClientFiles: w.clients}
	w.lib = &library.Service{DB: db.App, Files: &library.Files{Store: w.store, MaxBytes: testDocumentCap, Log: log}}
	w.programs = &program.Service{DB: db.App, Store: w.store, MaxBytes: testDocumentCap}
	w.termSummaries = &termsummary.Service{DB: db.App}
	w.barometer = &barometer.Service{DB: db.App, Cipher: ring}
	srv := &httpapi.Server{Log: log, Identity: id, Tenants: tn, Roster: ro, Audit: au, Access: en, Metrics: metrics.New(), CaseFiles: w.cases, Inbox: &inbox.Service{DB: db.App}, Notifications: &notify.Service{DB: db.App},
		Concerns: &concern.Service{DB: db.App, Cipher: ring, CaseFiles: w.cases},
		Consents: &consent.Service{DB: db.App, Cipher: ring}, Disclosures: &disclosure.Service{DB: db.App, Cipher: ring},
		SupportPlans: w.plans, Documents: w.docs, Emergency: w.emergency, Retention: &retention.Service{DB: db.App, Objects: w.store, Log: log},
		Screening: w.screening, CodeLimits: w.codeLimits, Crises: w.crises, Referrals: w.referrals, Jobs: &jobrun.Store{DB: db.App}, Research: w.research, Rollups: &rollup.Service{DB: db.App},
		Appointments: w.room, Library: w.lib, TeachingCases: w.tcases,
		Programs: w.programs, Barometer: w.barometer,
		Mailbox: &mailbox.Service{DB: db.App, Cipher: ring, CaseFiles: w.cases}, MailboxSenders: httpapi.NewSenderLimiter(1000, time.Minute),
		TermSummaries: w.termSummaries, ClientFiles: w.clients, Limits: w.limits,
		Ready: map[string]func(context.Context) error{"postgres": func(ctx context.Context) error { return db.App.Pool.Ping(ctx) }}}
	w.engine = srv.Engine()
	w.srv = httptest.NewServer(w.engine)
	srv.PublicURL = w.srv.URL
	t.Cleanup(w.srv.Close)
	return w
}

// testDocumentCap is the document size cap of the test API (XINQIAO_DOCUMENT_MAX_BYTES).
const testDocumentCap = 1 << 20

// testStore connects to the local MinIO with the XINQIAO_S3_* settings; test buckets
// are named xqtest-<district id> and removed when the test ends.
func testStore(t testing.TB) *blob.Store {
	t.Helper()
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	st, err := blob.Open(cfg.S3Endpoint, cfg.S3AccessKey, cfg.S3SecretKey, "xqtest", cfg.S3UseTLS)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// ownerQuery runs fn as the superuser, who bypasses row-level security: tests use it to
// look behind the API.
func (w *world) ownerQuery(fn func(tx pgx.Tx)) {
	w.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.db.AdminURL)
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	fn(tx)
}

func (w *world) scalar(sql string, args ...any) int {
	w.t.Helper()
	var n int
	w.ownerQuery(func(tx pgx.Tx) {
		if err := tx.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
			w.t.Fatalf("%s: %v", sql, err)
		}
	})
	return n
}

func (w *world) id(sql string, args ...any) uuid.UUID {
	w.t.Helper()
	var id uuid.UUID
	w.ownerQuery(func(tx pgx.Tx) {
		if err := tx.QueryRow(context.Background(), sql, args...).Scan(&id); err != nil {
			w.t.Fatalf("%s: %v", sql, err)
		}
	})
	return id
}

// token logs username in once and caches the bearer token.
func (w *world) token(username string) string {
	w.t.Helper()
	w.mu.Lock()
	tok, ok := w.tokens[username]
	w.mu.Unlock()
	if ok {
		return tok
	}
	tok = w.login(username)
	w.mu.Lock()
	w.tokens[username] = tok
	w.mu.Unlock()
	return tok
}

func (w *world) login(username string) string {
	w.t.Helper()
	res := w.do("", "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": demo.Password})
	if res.status != 200 {
		w.t.Fatalf("login %s: %d %s", username, res.status, res.body)
	}
	var l identity.Login
	res.decode(w.t, &l)
	return l.Token
}

type response struct {
	status  int
	body    []byte
	header  http.Header
	cookies []*http.Cookie
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a JSON request (body nil: none; []byte: raw) with a bearer token.
func (w *world) do(token, method, path string, body any, headers ...string) response {
	w.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return w.send(req)
}

func (w *world) send(req *http.Request) response {
	w.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return response{status: resp.StatusCode, body: b, header: resp.Header, cookies: resp.Cookies()}
}

// upload posts a file as multipart/form-data field "file".
func (w *world) upload(token, path, filename string, content []byte, fields ...string) response {
	w.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		w.t.Fatal(err)
	}
	fw.Write(content)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	req, _ := http.NewRequest("POST", w.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	return w.send(req)
}

// auditCount counts audit rows matching action and outcome since a sequence mark.
func (w *world) auditCount(action, outcome string) int {
	return w.scalar(`SELECT count(*) FROM audit_log WHERE action = $1 AND outcome = $2`, action, outcome)
}

func (w *world) problem(t testing.TB, r response) httpapi.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("want problem+json, got %q (%d %s)", ct, r.status, r.body)
	}
	var p httpapi.Problem
	r.decode(t, &p)
	if p.Status != r.status || p.Type == "" || p.Title == "" {
		t.Fatalf("incomplete problem: %s", r.body)
	}
	return p
}

var _ = scope.Counselor

// routes lists the registered routes as "METHOD /path/{param}".
func (w *world) routes() []string {
	var out []string
	for _, r := range w.engine.Routes() {
		out = append(out, r.Method+" "+openAPIPath(r.Path))
	}
	return out
}

func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func (w *world) enforcer2Log() *slog.Logger { return discardLog() }

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// leaderActor is the school leader of a school, as the domain services see it.
func (w *world) leaderActor(t testing.TB, code string) scope.Actor {
	user := w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'school_leader'`, w.schools[code])
	return scope.Actor{UserID: user, Username: "leader", DistrictID: w.district, SchoolID: w.schools[code], Kind: scope.School, Roles: []string{scope.SchoolLeader}}
}

type pgxTx = pgx.Tx

func bg() context.Context { return context.Background() }

// counselorActor is the counselor of a school, as the domain services see it.
func (w *world) counselorActor(t testing.TB, code string) scope.Actor {
	user := w.id(`SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'counselor'`, w.schools[code])
	district := w.id(`SELECT district_id FROM schools WHERE id = $1`, w.schools[code])
	return scope.Actor{UserID: user, Username: "counselor", DistrictID: district, SchoolID: w.schools[code], Kind: scope.School, Roles: []string{scope.Counselor}}
}

// canary is the summary text of the session seeded in a school's case file.
func canary(code string) string { return "CANARY-" + code + "-睡眠问题" }

// newSession records a session in a case file as the school's counselor, signed or not.
func (w *world) newSession(code string, caseFile uuid.UUID, signed bool) uuid.UUID {
	w.t.Helper()
	a := w.counselorActor(w.t, code)
	s, err := w.cases.RecordSession(context.Background(), a, w.schools[code], caseFile, casefile.SessionInput{
		OccurredAt: time.Now().Add(-time.Hour), Channel: "walk_in", Participants: []string{"student"}, InitiatedBy: "self",
		Categories: []string{"emotion"}, DurationMinutes: 40, Summary: canary(code), Note: "note " + canary(code)})
	if err != nil {
		w.t.Fatal(err)
	}
	if signed {
		if _, err := w.cases.Sign(context.Background(), a, w.schools[code], s.ID); err != nil {
			w.t.Fatal(err)
		}
	}
	return s.ID
}

// newPlan adds a support plan to a case file as the school's counselor; its goal holds
// the school's canary.
func (w *world) newPlan(code string, caseFile uuid.UUID) uuid.UUID {
	w.t.Helper()
	goals, actions, role, date := []string{"目标 " + canary(code)}, []string{"每周面谈一次"}, "班主任", time.Now().AddDate(0, 0, 7).Format("2006-01-02")
	p, err := w.plans.Create(context.Background(), w.counselorActor(w.t, code), w.schools[code], caseFile,
		supportplan.Input{Goals: &goals, Actions: &actions, ResponsibleRole: &role, ReviewDate: &date})
	if err != nil {
		w.t.Fatal(err)
	}
	return p.ID
}

// closedCaseFile returns the school's closed case file, or opens, as the school's counselor, a case file for a student without one,
// records a session about a named student, a guardian's phone and a date, and closes it.
func (w *world) closedCaseFile(code string) uuid.UUID {
	w.t.Helper()
	ctx := context.Background()
	a := w.counselorActor(w.t, code)
	var closed uuid.UUID
	w.ownerQuery(func(tx pgx.Tx) {
		tx.QueryRow(ctx, `SELECT id FROM case_files WHERE school_id = $1 AND status = 'closed' LIMIT 1`, w.schools[code]).Scan(&closed)
	})
	if closed != uuid.Nil {
		return closed
	}
	student := w.id(`SELECT id FROM students s WHERE school_id = $1
		AND NOT EXISTS (SELECT 1 FROM case_files c WHERE c.school_id = s.school_id AND c.student_id = s.id) ORDER BY student_number LIMIT 1`, w.schools[code])
	c, err := w.cases.Open(ctx, a, w.schools[code], student)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.cases.RecordSession(ctx, a, w.schools[code], c.ID, casefile.SessionInput{
		OccurredAt: time.Now().Add(-48 * time.Hour), Channel: "walk_in", Participants: []string{"student"}, InitiatedBy: "self",
		Categories: []string{"emotion"}, DurationMinutes: 40, Summary: "学业压力大，睡眠不好，愿意每周来谈"}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.cases.SetStatus(ctx, a, w.schools[code], c.ID, "closed", "目标达成"); err != nil {
		w.t.Fatal(err)
	}
	return c.ID
}

// teachingDraft drafts, as counselor.s1, a teaching case from a new closed case file,
// every field reviewed when reviewed is set; in other schools an id nobody can reach.
func (w *world) teachingDraft(t target, reviewed bool) uuid.UUID {
	w.t.Helper()
	if t.code != "s1" {
		return uuid.New()
	}
	ctx := context.Background()
	a := w.counselorActor(w.t, t.code)
	d, err := w.tcases.Draft(ctx, a, t.school, w.closedCaseFile(t.code))
	if err != nil {
		w.t.Fatal(err)
	}
	if reviewed {
		marks := map[string]bool{}
		for _, f := range teachingcase.Fields {
			marks[f] = true
		}
		if _, err := w.tcases.Review(ctx, a, t.school, d.ID, teachingcase.ReviewInput{Reviewed: marks}); err != nil {
			w.t.Fatal(err)
		}
	}
	return d.ID
}

// clientFile opens, as the school's counselor, a guardian client's file whose name is the
// school's canary (only that school's counselors may ever see it).
func (w *world) clientFile(t target) uuid.UUID {
	w.t.Helper()
	f, err := w.clients.Open(context.Background(), w.counselorActor(w.t, t.code), t.school, clientfile.OpenInput{ClientKind: "guardian", Name: canary(t.code)})
	if err != nil {
		w.t.Fatal(err)
	}
	return f.ID
}
