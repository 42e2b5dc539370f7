package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"defaults work for the local stack", nil, ""},
		{"bad env", map[string]string{"XINQIAO_ENV": "staging"}, "XINQIAO_ENV"},
		{"bad pool size", map[string]string{"XINQIAO_DB_MAX_CONNS": "zero"}, "XINQIAO_DB_MAX_CONNS"},
		{"bad read audit commit", map[string]string{"XINQIAO_READ_AUDIT_COMMIT": "later"}, "XINQIAO_READ_AUDIT_COMMIT"},
		{"async read audit commit", map[string]string{"XINQIAO_READ_AUDIT_COMMIT": "async"}, ""},
		{"bad document cap", map[string]string{"XINQIAO_DOCUMENT_MAX_BYTES": "0"}, "XINQIAO_DOCUMENT_MAX_BYTES"},
		{"bad ttl", map[string]string{"XINQIAO_SESSION_TTL": "5s"}, "XINQIAO_SESSION_TTL"},
		{"production refuses local secrets", map[string]string{"XINQIAO_ENV": "production"}, "XINQIAO_DATABASE_URL must be set in production"},
		{"production with secrets", map[string]string{
			"XINQIAO_ENV": "production", "XINQIAO_DATABASE_URL": "postgres://a:b@db/x", "XINQIAO_MIGRATE_DATABASE_URL": "postgres://o:p@db/x",
			"XINQIAO_S3_ACCESS_KEY": "ak", "XINQIAO_S3_SECRET_KEY": "sk", "XINQIAO_MASTER_KEY": "prod:AAAA",
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(tt.env))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestLogValueMasksSecrets(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"XINQIAO_REDIS_PASSWORD": "hunter2hunter2"}))
	if err != nil {
		t.Fatal(err)
	}
	out := c.LogValue().String()
	for _, secret := range []string{"xinqiao_app_local", "xinqiao_owner_local", "xinqiao-local-secret", "hunter2hunter2"} {
		if strings.Contains(out, secret) {
			t.Errorf("log value leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "xinqiao_app:***@127.0.0.1:55432") {
		t.Errorf("masked URL missing: %s", out)
	}
}
