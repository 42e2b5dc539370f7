package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/access"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/roster"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

// Every table with a school_id column has RLS enabled and forced; the app role owns
// nothing and can't bypass RLS.
func TestRowLevelSecurityCatalog(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'school_id' AND NOT a.attisdropped)`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var name string
		var enabled, forced bool
		if err := rows.Scan(&name, &enabled, &forced); err != nil {
			t.Fatal(err)
		}
		n++
		if !enabled || !forced {
			t.Errorf("table %s has school_id but RLS enabled=%v forced=%v", name, enabled, forced)
		}
	}
	if n < 4 {
		t.Fatalf("found only %d tables with school_id", n)
	}
	var super, bypass bool
	var owned int
	if err := conn.QueryRow(ctx, `SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'xinqiao_app'`).Scan(&super, &bypass); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'xinqiao_app'`).Scan(&owned); err != nil {
		t.Fatal(err)
	}
	if super || bypass || owned != 0 {
		t.Fatalf("xinqiao_app: superuser=%v bypassrls=%v owns %d relations", super, bypass, owned)
	}
	// With no settings, policies match nothing, even where grants allow reading.
	app, err := pgx.Connect(ctx, db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if _, err := app.Exec(ctx, `INSERT INTO districts (id, name, code) VALUES (gen_random_uuid(), 'x', 'xx')`); err == nil {
		t.Fatal("an insert without a scope must be refused by RLS")
	}
}

// Thousands of interleaved requests for two schools through a small pool, with errors
// and panics injected mid-transaction, never see a row of the other school.
func TestPooledConnectionsNeverLeakScope(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	pool, err := database.Open(ctx, w.db.AppURL, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	actors := map[uuid.UUID]scope.Actor{}
	for _, code := range []string{"s1", "s2"} {
		var user uuid.UUID
		w.ownerQuery(func(tx pgx.Tx) {
			tx.QueryRow(ctx, `SELECT user_id FROM memberships WHERE school_id = $1 AND role = 'counselor'`, w.schools[code]).Scan(&user)
		})
		actors[w.schools[code]] = scope.Actor{UserID: user, DistrictID: w.district, SchoolID: w.schools[code], Kind: scope.School, Roles: []string{scope.Counselor}}
	}
	schools := []uuid.UUID{w.schools["s1"], w.schools["s2"]}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var leaks, seen int
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 300; i++ {
				school := schools[rng.IntN(2)]
				a := actors[school]
				mode := rng.IntN(4)
				func() {
					defer func() { recover() }()
					_ = pool.InTx(ctx, a, func(tx pgx.Tx) error {
						rows, err := tx.Query(ctx, `SELECT school_id FROM students`)
						if err != nil {
							return err
						}
						ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
						if err != nil {
							return err
						}
						mu.Lock()
						for _, id := range ids {
							seen++
							if id != school {
								leaks++
							}
						}
						mu.Unlock()
						switch mode {
						case 1:
							return fmt.Errorf("injected error")
						case 2:
							panic("injected panic")
						case 3:
							_, _ = tx.Exec(ctx, `SELECT 1/0`) // a failed statement mid-transaction
						}
						return nil
					})
				}()
				// A request with no scope on the same pool sees nothing at all.
				if i%50 == 0 {
					_ = pool.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
						var n int
						tx.QueryRow(ctx, `SELECT count(*) FROM students`).Scan(&n)
						mu.Lock()
						leaks += n
						mu.Unlock()
						return nil
					})
				}
			}
		}(g)
	}
	wg.Wait()
	if leaks != 0 || seen == 0 {
		t.Fatalf("leaked %d rows (saw %d)", leaks, seen)
	}
	// And session-level settings never survive on a connection.
	var setting string
	if err := pool.Pool.QueryRow(ctx, `SELECT coalesce(current_setting('app.school_id', true), '')`).Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "" {
		t.Fatalf("app.school_id survived on a pooled connection: %q", setting)
	}
}

// A membership granted through one API instance takes effect on another within 1 s.
func TestPolicyChangeReachesOtherInstancesWithinASecond(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	other, err := access.NewEnforcer(w.db.App.Pool, w.enforcer2Log())
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go other.Watch(ctx, w.db.AppURL, ready)
	<-ready
	userID := w.id(`SELECT id FROM users WHERE username = 'researcher'`)
	a := scope.Actor{UserID: userID, Kind: scope.School, SchoolID: w.schools["s2"], DistrictID: w.district}
	if other.Allowed(a, "students", "read") {
		t.Fatal("not yet a counselor")
	}
	r := w.do(w.token("district.admin"), "POST", "/api/v1/districts/"+w.district.String()+"/memberships",
		map[string]any{"user_id": userID, "scope_type": "school", "school_id": w.schools["s2"], "role": "counselor"})
	if r.status != 201 {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	start := time.Now()
	for !other.Allowed(a, "students", "read") {
		if time.Since(start) > time.Second {
			t.Fatal("the grant did not reach the other instance within 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var m struct {
		ID string `json:"id"`
	}
	r.decode(t, &m)
	if r := w.do(w.token("district.admin"), "DELETE", "/api/v1/districts/"+w.district.String()+"/memberships/"+m.ID, nil); r.status != 204 {
		t.Fatalf("revoke: %d", r.status)
	}
	start = time.Now()
	for other.Allowed(a, "students", "read") {
		if time.Since(start) > time.Second {
			t.Fatal("the revocation did not reach the other instance within 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// docs/permissions.md is generated from the policy and cannot drift.
func TestPermissionsDocMatchesPolicy(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	en, err := access.NewEnforcer(db.App.Pool, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	rules, err := en.Rules()
	if err != nil {
		t.Fatal(err)
	}
	want := access.PermissionsMarkdown(rules)
	got, err := os.ReadFile("../../docs/permissions.md")
	if err != nil || string(got) != want {
		t.Fatalf("docs/permissions.md is stale: run `make docs` (bin/xinqiao docs permissions > docs/permissions.md)")
	}
}

// The OpenAPI document names exactly the registered routes.
func TestOpenAPIDocumentMatchesRouter(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := w.do("", "GET", "/api/v1/openapi.json", nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi document: %v %q", err, doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := map[string]bool{}
	for _, rt := range w.routes() {
		registered[rt] = true
	}
	var missing, extra []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes missing from openapi.json: %v\ndocumented routes that do not exist: %v", missing, extra)
	}
}

var _ = http.MethodGet
var _ = roster.Row{}
