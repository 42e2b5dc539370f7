// Package testdb gives tests a fresh, migrated PostgreSQL database of their own on the
// real local server (see scripts/services.sh). Databases are cloned from a template
// migrated once per migration set, and dropped when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/migrations"
)

// DB is one test database.
type DB struct {
	Name     string
	AppURL   string // as xinqiao_app (RLS applies)
	OwnerURL string // as xinqiao_owner
	AdminURL string // as the superuser
	App      *database.DB
}

func mustEnv(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: start the local stack with `scripts/services.sh up` and `eval \"$(scripts/services.sh env)\"` (make test does this)", name)
	}
	return v
}

// WithDatabase returns raw with its database name replaced.
func WithDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func templateName() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := migrations.FS.ReadFile(p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return "xq_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
}

// New creates a fresh migrated database for t and drops it when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := mustEnv(t, "XINQIAO_TEST_ADMIN_DATABASE_URL")
	app := mustEnv(t, "XINQIAO_DATABASE_URL")
	owner := mustEnv(t, "XINQIAO_MIGRATE_DATABASE_URL")

	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect as admin: %v", err)
	}
	defer conn.Close(ctx)
	tmpl := templateName()
	if err := ensureTemplate(ctx, conn, admin, owner, tmpl); err != nil {
		t.Fatalf("template database: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "xq_t_" + hex.EncodeToString(b[:])
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s OWNER xinqiao_owner`, name, tmpl))
		if err == nil || attempt > 20 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	d := &DB{Name: name, AppURL: WithDatabase(app, name), OwnerURL: WithDatabase(owner, name), AdminURL: WithDatabase(admin, name)}
	d.App, err = database.Open(ctx, d.AppURL, 8)
	if err != nil {
		t.Fatalf("open app pool: %v", err)
	}
	t.Cleanup(func() {
		d.App.Close()
		drop(t, admin, name)
	})
	return d
}

// Empty creates a database bootstrapped like production (owner, grants) but without
// migrations: a target for restores. It is dropped when t ends.
func Empty(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := mustEnv(t, "XINQIAO_TEST_ADMIN_DATABASE_URL")
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect as admin: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "xq_r_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s OWNER xinqiao_owner`, name)); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { drop(t, admin, name) })
	d := &DB{Name: name, AppURL: WithDatabase(mustEnv(t, "XINQIAO_DATABASE_URL"), name),
		OwnerURL: WithDatabase(mustEnv(t, "XINQIAO_MIGRATE_DATABASE_URL"), name), AdminURL: WithDatabase(admin, name)}
	if err := Bootstrap(ctx, d.AdminURL); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return d
}

func drop(t testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Logf("drop test database: %v", err)
		return
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
		t.Logf("drop test database: %v", err)
	}
}

func ensureTemplate(ctx context.Context, conn *pgx.Conn, admin, owner, tmpl string) error {
	// One creator at a time across parallel test binaries.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(74201)`); err != nil {
		return err
	}
	defer func() { _, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock(74201)`) }()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datallowconn)`, tmpl).Scan(&exists); err != nil {
		return err
	}
	var complete bool
	if exists {
		_ = conn.QueryRow(ctx, `SELECT coalesce(shobj_description(oid, 'pg_database'), '') = 'complete' FROM pg_database WHERE datname = $1`, tmpl).Scan(&complete)
		if complete {
			return nil
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE %s WITH (FORCE)`, tmpl)); err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s OWNER xinqiao_owner`, tmpl)); err != nil {
		return err
	}
	if err := Bootstrap(ctx, WithDatabase(admin, tmpl)); err != nil {
		return err
	}
	if err := database.Migrate(ctx, WithDatabase(owner, tmpl), nil); err != nil {
		return err
	}
	_, err := conn.Exec(ctx, fmt.Sprintf(`COMMENT ON DATABASE %s IS 'complete'`, tmpl))
	return err
}

// Bootstrap applies the grants an administrator gives a new Xinqiao database
// (deploy/bootstrap.sql does the same in production).
func Bootstrap(ctx context.Context, adminURL string) error {
	c, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, `ALTER SCHEMA public OWNER TO xinqiao_owner;
		REVOKE ALL ON SCHEMA public FROM PUBLIC;
		GRANT USAGE ON SCHEMA public TO xinqiao_app;`)
	return err
}
