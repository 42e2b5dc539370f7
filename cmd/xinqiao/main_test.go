package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/testdb"
)

// useDB points the process configuration at a fresh test database.
func useDB(t *testing.T) *testdb.DB {
	db := testdb.New(t)
	t.Setenv("XINQIAO_DATABASE_URL", db.AppURL)
	t.Setenv("XINQIAO_MIGRATE_DATABASE_URL", db.OwnerURL)
	return db
}

func TestMigrateSeedAndVerify(t *testing.T) {
	db := useDB(t)
	ctx := context.Background()
	var out bytes.Buffer
	for _, args := range [][]string{{"migrate"}, {"migrate"}} {
		if err := run(ctx, args, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if err := run(ctx, []string{"seed", "demo"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "demo district 示范区 created") || !strings.Contains(out.String(), "liaison.s3") {
		t.Fatalf("seed output: %s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"seed", "demo"}, &out); err != nil || !strings.Contains(out.String(), "already exists") {
		t.Fatalf("second seed must be a no-op: %v %s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"audit", "verify"}, &out); err != nil || !strings.Contains(out.String(), "all chains intact") {
		t.Fatalf("verify: %v %s", err, out.String())
	}
	// Tamper with one row as the owner role: verify names the chain and row.
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		`ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY`,
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`,
		`UPDATE audit_log SET reason = 'rewritten' WHERE seq = 3 AND chain LIKE 'district:%'`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	err = run(ctx, []string{"audit", "verify"}, &out)
	if err == nil || !strings.Contains(out.String(), "BROKEN: chain district:") || !strings.Contains(out.String(), "at seq 3") {
		t.Fatalf("verify must report the tampered row: %v %s", err, out.String())
	}
}

func TestProductionRefusesDemoAndLocalSecrets(t *testing.T) {
	t.Setenv("XINQIAO_ENV", "production")
	for _, cmd := range []string{"serve", "worker", "seed"} {
		err := run(context.Background(), []string{cmd, "demo"}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "XINQIAO_DATABASE_URL must be set in production") ||
			!strings.Contains(err.Error(), "XINQIAO_S3_SECRET_KEY must be set in production") {
			t.Fatalf("%s: production must refuse local secrets with a clear message, got %v", cmd, err)
		}
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	useDB(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("XINQIAO_HTTP_ADDR", addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, &bytes.Buffer{}) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("readyz: %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := run(ctx, []string{"healthcheck"}, &bytes.Buffer{}); err != nil {
		t.Fatalf("healthcheck: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`xinqiao_http_request_duration_seconds_count{method="GET",route="/readyz",status="200"}`, "xinqiao_db_pool_max_connections"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	cancel() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestAdminBootstrapsADistrict(t *testing.T) {
	db := useDB(t)
	ctx := context.Background()
	var out bytes.Buffer
	args := []string{"admin", "create-district", "--name", "东城区", "--code", "dongcheng", "--admin", "dc.admin", "--admin-name", "东城管理员"}
	if err := run(ctx, args, &out); err == nil {
		t.Fatal("without XINQIAO_ADMIN_PASSWORD the command must refuse")
	}
	t.Setenv("XINQIAO_ADMIN_PASSWORD", "short")
	if err := run(ctx, args, &out); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("a short password must be refused with a field error: %v", err)
	}
	t.Setenv("XINQIAO_ADMIN_PASSWORD", "a-long-admin-password")
	if err := run(ctx, args, &out); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM districts d JOIN memberships m ON m.district_id = d.id AND m.role = 'district_admin'
		JOIN users u ON u.id = m.user_id WHERE d.code = 'dongcheng' AND u.username = 'dc.admin'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("district and admin: %d %v", n, err)
	}
	if err := run(ctx, args, &out); err == nil {
		t.Fatal("a second district with the same code must be refused")
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestWorkerServesHealthAndMetricsAndStops(t *testing.T) {
	useDB(t)
	addr := freeAddr(t)
	t.Setenv("XINQIAO_WORKER_ADDR", addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"worker"}, &bytes.Buffer{}) }()
	deadline := time.Now().Add(20 * time.Second)
	for run(context.Background(), []string{"healthcheck", "--worker"}, &bytes.Buffer{}) != nil {
		if time.Now().After(deadline) {
			t.Fatal("worker health endpoint did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "xinqiao_outbox_lag_seconds") {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}
}

func lookup(name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("%s is not set", name)
}

func TestKeysRotateCommand(t *testing.T) {
	useDB(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keys", "rotate"}, &out); err != nil || !strings.Contains(out.String(), "0 data key(s) re-wrapped") {
		t.Fatalf("%v %s", err, out.String())
	}
	t.Setenv("XINQIAO_MASTER_KEY", "broken")
	if err := run(context.Background(), []string{"keys", "rotate"}, &out); err == nil {
		t.Fatal("a malformed master key must be refused")
	}
}
