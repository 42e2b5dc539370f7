package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/testdb"
)

// The backup/restore drill of docs/scaling.md on the local stack: pg_dump the live
// database, restore it into a fresh one bootstrapped like production, and prove it
// whole: same rows, intact audit chains, and the app role logs in and reads through RLS.
func TestBackupRestoreDrill(t *testing.T) {
	db := useDB(t)
	ctx := context.Background()
	if err := run(ctx, []string{"seed", "demo"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "xinqiao.dump")
	pgbin := "/usr/lib/postgresql/15/bin/"
	// Backups run as a superuser (or a role with BYPASSRLS): the owner is bound by FORCE RLS.
	if out, err := exec.Command(pgbin+"pg_dump", "-Fc", "-f", dump, "--dbname", db.AdminURL).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	restored := testdb.Empty(t)
	if out, err := exec.Command(pgbin+"pg_restore", "--exit-on-error", "--dbname", restored.AdminURL, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	counts := func(url string) string {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var parts []string
		for _, table := range []string{"districts", "schools", "org_units", "users", "memberships", "students", "audit_log", "casbin_rule"} {
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			parts = append(parts, fmt.Sprintf("%s=%d", table, n))
		}
		return strings.Join(parts, " ")
	}
	before, after := counts(db.AdminURL), counts(restored.AdminURL)
	if before != after || !strings.Contains(after, "students=600") {
		t.Fatalf("restored database differs:\n before %s\n after  %s", before, after)
	}
	t.Setenv("XINQIAO_DATABASE_URL", restored.AppURL)
	t.Setenv("XINQIAO_MIGRATE_DATABASE_URL", restored.OwnerURL)
	var out bytes.Buffer
	if err := run(ctx, []string{"audit", "verify"}, &out); err != nil || !strings.Contains(out.String(), "all chains intact") {
		t.Fatalf("audit verify on the restored database: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"migrate"}, &out); err != nil {
		t.Fatalf("migrate on the restored database (a no-op): %v", err)
	}
	api := start(t, "serve", "XINQIAO_HTTP_ADDR")
	tok := loginAt(t, "http://"+api.addr, "counselor.s1")
	if s, body := call(t, "GET", "http://"+api.addr+"/api/v1/me", tok, nil); s != 200 || !strings.Contains(string(body), "示范区第一中学") {
		t.Fatalf("the restored system does not serve: %d %s", s, body)
	}
}
