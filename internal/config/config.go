// Package config reads Xinqiao's configuration from XINQIAO_* environment variables.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of a process.
type Config struct {
	Env                string        // development | production
	HTTPAddr           string        // listen address of serve
	WorkerAddr         string        // listen address of the worker's health and metrics
	WorkerConcurrency  int           // jobs a worker runs at once
	DatabaseURL        string        // app role: owns nothing, cannot bypass RLS
	MigrateDatabaseURL string        // owner role: migrations only
	DBMaxConns         int32         // pool size
	ReadAuditAsync     bool          // XINQIAO_READ_AUDIT_COMMIT=async: audit-only transactions commit without waiting for the WAL flush
	RedisAddr          string        //
	RedisPassword      string        // secret
	S3Endpoint         string        //
	S3AccessKey        string        // secret
	S3SecretKey        string        // secret
	S3Bucket           string        //
	S3UseTLS           bool          //
	DocumentMaxBytes   int64         // size cap of an uploaded document
	PDFFont            string        // a TrueType font with CJK glyphs embedded in generated PDFs
	OTLPEndpoint       string        // traces go here when set
	MasterKey          string        // secret: current master key, id:base64
	MasterKeyPrevious  string        // secret: retired master keys
	LogLevel           slog.Level    //
	SessionTTL         time.Duration // lifetime of a login token
	SessionIdleTimeout time.Duration // a session unused this long ends
	ShutdownTimeout    time.Duration // grace period for in-flight requests
	TrustedProxies     []string      // proxies whose X-Forwarded-For is honoured
	SecureCookies      bool          // set the Secure flag on cookies (behind TLS)
	SMTPAddr           string        // host:port of the SMTP server; empty: no e-mail
	SMTPFrom           string        // sender address of notification e-mails
	SMTPUsername       string        // optional SMTP AUTH user
	SMTPPassword       string        // secret: optional SMTP AUTH password
	PublicURL          string        // the web UI's address, linked from e-mails
	MaxJSONBytes       int64         // body cap of JSON requests
	MaxUploadBytes     int64         // body cap of multipart uploads
	RateLogin          Rate          // logins per client address
	RatePublic         Rate          // requests to public pages per client address
	RateWrites         Rate          // authenticated writes per user
	RateStore          string        // "redis" (shared by every instance) or "local"
}

// Rate is a token bucket read from "BURST/EVERY" (e.g. 30/1s); "off" is the zero Rate.
type Rate struct {
	Burst int
	Every time.Duration
}

func parseRate(v string) (Rate, error) {
	if v == "off" {
		return Rate{}, nil
	}
	b, e, ok := strings.Cut(v, "/")
	n, err := strconv.Atoi(b)
	if !ok || err != nil || n < 1 {
		return Rate{}, fmt.Errorf("want BURST/EVERY, e.g. 30/1s, or off")
	}
	d, err := time.ParseDuration(e)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("want BURST/EVERY, e.g. 30/1s, or off")
	}
	return Rate{Burst: n, Every: d}, nil
}

// Var documents one environment variable.
type Var struct {
	Name, Default, Description string
	Secret                     bool
}

// Vars lists every variable Xinqiao reads, with the defaults that work for the local stack.
var Vars = []Var{
	{"XINQIAO_ENV", "development", "development or production; production refuses local defaults for secrets", false},
	{"XINQIAO_HTTP_ADDR", "127.0.0.1:8080", "listen address of `xinqiao serve`", false},
	{"XINQIAO_DATABASE_URL", "postgres://xinqiao_app:xinqiao_app_local@127.0.0.1:55432/xinqiao?sslmode=disable", "PostgreSQL URL of the application role (owns nothing, no BYPASSRLS)", true},
	{"XINQIAO_MIGRATE_DATABASE_URL", "postgres://xinqiao_owner:xinqiao_owner_local@127.0.0.1:55432/xinqiao?sslmode=disable", "PostgreSQL URL of the owner role, used by `xinqiao migrate` only", true},
	{"XINQIAO_DB_MAX_CONNS", "10", "size of the PostgreSQL pool", false},
	{"XINQIAO_READ_AUDIT_COMMIT", "sync", "sync, or async: a transaction whose only writes are its audit rows (a read) commits without waiting for the WAL flush (docs/security.md)", false},
	{"XINQIAO_WORKER_ADDR", "127.0.0.1:8081", "listen address of the worker's /healthz and /metrics", false},
	{"XINQIAO_WORKER_CONCURRENCY", "10", "jobs a worker runs at once", false},
	{"XINQIAO_REDIS_ADDR", "127.0.0.1:56379", "Redis address (asynq)", false},
	{"XINQIAO_REDIS_PASSWORD", "", "Redis password", true},
	{"XINQIAO_S3_ENDPOINT", "127.0.0.1:59000", "MinIO / S3 endpoint host:port", false},
	{"XINQIAO_S3_ACCESS_KEY", "xinqiao", "S3 access key", true},
	{"XINQIAO_S3_SECRET_KEY", "xinqiao-local-secret", "S3 secret key", true},
	{"XINQIAO_S3_BUCKET", "xinqiao", "bucket for documents (created if missing)", false},
	{"XINQIAO_S3_USE_TLS", "false", "use HTTPS to reach S3", false},
	{"XINQIAO_DOCUMENT_MAX_BYTES", "20971520", "size cap of an uploaded case-file document in bytes (20 MiB)", false},
	{"XINQIAO_PDF_FONT", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", "TrueType font with Chinese glyphs embedded in generated PDFs (Debian: fonts-droid-fallback)", false},
	{"XINQIAO_OTLP_ENDPOINT", "", "OTLP/HTTP trace collector host:port; tracing is off when empty", false},
	{"XINQIAO_MASTER_KEY", "local:eGlucWlhby1sb2NhbC1kZXZlbG9wbWVudC1rZXkhISE=", "master key id:base64(32 bytes) wrapping each school's data keys (encryption at rest)", true},
	{"XINQIAO_MASTER_KEY_PREVIOUS", "", "retired master keys (id:base64, comma-separated) kept until `xinqiao keys rotate` has run", true},
	{"XINQIAO_LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"XINQIAO_SESSION_TTL", "12h", "absolute lifetime of a login session", false},
	{"XINQIAO_SESSION_IDLE_TIMEOUT", "30m", "a login session unused for this long ends", false},
	{"XINQIAO_SHUTDOWN_TIMEOUT", "20s", "grace period for in-flight requests on SIGTERM", false},
	{"XINQIAO_TRUSTED_PROXIES", "", "comma-separated proxy addresses whose X-Forwarded-For is trusted", false},
	{"XINQIAO_SECURE_COOKIES", "false", "mark session cookies Secure (set true behind TLS)", false},
	{"XINQIAO_SMTP_ADDR", "", "SMTP server host:port for notification e-mails; e-mail is off when empty", false},
	{"XINQIAO_SMTP_FROM", "xinqiao@localhost", "sender address of notification e-mails", false},
	{"XINQIAO_SMTP_USERNAME", "", "SMTP AUTH user (optional; PLAIN, only over TLS or to localhost)", false},
	{"XINQIAO_SMTP_PASSWORD", "", "SMTP AUTH password", true},
	{"XINQIAO_PUBLIC_URL", "http://127.0.0.1:8080", "address of the web UI as users reach it; e-mails link to it", false},
	{"XINQIAO_MAX_JSON_BYTES", "1048576", "body cap of JSON requests in bytes; larger bodies answer 413", false},
	{"XINQIAO_MAX_UPLOAD_BYTES", "0", "body cap of multipart uploads in bytes; 0: the document cap plus 1 MiB (at least 21 MiB)", false},
	{"XINQIAO_RATE_LOGIN", "30/1s", "login attempts per client address: BURST/EVERY (a burst, then one per interval), or off; over it 429", false},
	{"XINQIAO_RATE_PUBLIC", "300/200ms", "requests to the public pages (no account) per client address: BURST/EVERY, or off", false},
	{"XINQIAO_RATE_WRITES", "300/100ms", "authenticated requests that change state, per user: BURST/EVERY, or off", false},
	{"XINQIAO_RATE_STORE", "redis", "where the rate limits are counted: redis (one budget for every API instance; counted locally while Redis does not answer) or local (each instance on its own)", false},
}

// Load reads the environment. lookup is os.LookupEnv in production code.
func Load(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		if v, ok := lookup(name); ok && v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var errs []error
	c := Config{
		Env:                get("XINQIAO_ENV"),
		HTTPAddr:           get("XINQIAO_HTTP_ADDR"),
		WorkerAddr:         get("XINQIAO_WORKER_ADDR"),
		DatabaseURL:        get("XINQIAO_DATABASE_URL"),
		MigrateDatabaseURL: get("XINQIAO_MIGRATE_DATABASE_URL"),
		RedisAddr:          get("XINQIAO_REDIS_ADDR"),
		RedisPassword:      get("XINQIAO_REDIS_PASSWORD"),
		S3Endpoint:         get("XINQIAO_S3_ENDPOINT"),
		S3AccessKey:        get("XINQIAO_S3_ACCESS_KEY"),
		S3SecretKey:        get("XINQIAO_S3_SECRET_KEY"),
		S3Bucket:           get("XINQIAO_S3_BUCKET"),
		OTLPEndpoint:       get("XINQIAO_OTLP_ENDPOINT"),
		MasterKey:          get("XINQIAO_MASTER_KEY"),
		MasterKeyPrevious:  get("XINQIAO_MASTER_KEY_PREVIOUS"),
		SMTPAddr:           get("XINQIAO_SMTP_ADDR"),
		SMTPFrom:           get("XINQIAO_SMTP_FROM"),
		SMTPUsername:       get("XINQIAO_SMTP_USERNAME"),
		SMTPPassword:       get("XINQIAO_SMTP_PASSWORD"),
		PublicURL:          strings.TrimRight(get("XINQIAO_PUBLIC_URL"), "/"),
		PDFFont:            get("XINQIAO_PDF_FONT"),
	}
	if c.Env != "development" && c.Env != "production" {
		errs = append(errs, fmt.Errorf("XINQIAO_ENV must be development or production"))
	}
	n, err := strconv.ParseInt(get("XINQIAO_DB_MAX_CONNS"), 10, 32)
	if err != nil || n < 1 || n > 1000 {
		errs = append(errs, fmt.Errorf("XINQIAO_DB_MAX_CONNS must be an integer in 1..1000"))
	}
	c.DBMaxConns = int32(n)
	switch get("XINQIAO_READ_AUDIT_COMMIT") {
	case "sync":
	case "async":
		c.ReadAuditAsync = true
	default:
		errs = append(errs, fmt.Errorf("XINQIAO_READ_AUDIT_COMMIT must be sync or async"))
	}
	if c.WorkerConcurrency, err = strconv.Atoi(get("XINQIAO_WORKER_CONCURRENCY")); err != nil || c.WorkerConcurrency < 1 || c.WorkerConcurrency > 500 {
		errs = append(errs, fmt.Errorf("XINQIAO_WORKER_CONCURRENCY must be an integer in 1..500"))
	}
	if c.S3UseTLS, err = strconv.ParseBool(get("XINQIAO_S3_USE_TLS")); err != nil {
		errs = append(errs, fmt.Errorf("XINQIAO_S3_USE_TLS must be true or false"))
	}
	c.PDFFont = get("XINQIAO_PDF_FONT")
	if c.DocumentMaxBytes, err = strconv.ParseInt(get("XINQIAO_DOCUMENT_MAX_BYTES"), 10, 64); err != nil || c.DocumentMaxBytes < 1 || c.DocumentMaxBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("XINQIAO_DOCUMENT_MAX_BYTES must be an integer in 1..1073741824"))
	}
	if c.SecureCookies, err = strconv.ParseBool(get("XINQIAO_SECURE_COOKIES")); err != nil {
		errs = append(errs, fmt.Errorf("XINQIAO_SECURE_COOKIES must be true or false"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("XINQIAO_LOG_LEVEL"))); err != nil {
		errs = append(errs, fmt.Errorf("XINQIAO_LOG_LEVEL must be debug, info, warn or error"))
	}
	if c.SessionTTL, err = time.ParseDuration(get("XINQIAO_SESSION_TTL")); err != nil || c.SessionTTL < time.Minute {
		errs = append(errs, fmt.Errorf("XINQIAO_SESSION_TTL must be a duration of at least 1m"))
	}
	if c.SessionIdleTimeout, err = time.ParseDuration(get("XINQIAO_SESSION_IDLE_TIMEOUT")); err != nil || c.SessionIdleTimeout < time.Minute {
		errs = append(errs, fmt.Errorf("XINQIAO_SESSION_IDLE_TIMEOUT must be a duration of at least 1m"))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(get("XINQIAO_SHUTDOWN_TIMEOUT")); err != nil {
		errs = append(errs, fmt.Errorf("XINQIAO_SHUTDOWN_TIMEOUT must be a duration"))
	}
	if p := get("XINQIAO_TRUSTED_PROXIES"); p != "" {
		for _, s := range strings.Split(p, ",") {
			c.TrustedProxies = append(c.TrustedProxies, strings.TrimSpace(s))
		}
	}
	if c.SMTPAddr != "" {
		if _, port, err := net.SplitHostPort(c.SMTPAddr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("XINQIAO_SMTP_ADDR must be host:port"))
		}
	}
	if a, err := mail.ParseAddress(c.SMTPFrom); err != nil || a.Address != c.SMTPFrom {
		errs = append(errs, fmt.Errorf("XINQIAO_SMTP_FROM must be a plain e-mail address"))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("XINQIAO_PUBLIC_URL must be an http(s) URL"))
	}
	if c.MaxJSONBytes, err = strconv.ParseInt(get("XINQIAO_MAX_JSON_BYTES"), 10, 64); err != nil || c.MaxJSONBytes < 1024 || c.MaxJSONBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("XINQIAO_MAX_JSON_BYTES must be an integer in 1024..1073741824"))
	}
	if c.MaxUploadBytes, err = strconv.ParseInt(get("XINQIAO_MAX_UPLOAD_BYTES"), 10, 64); err != nil || c.MaxUploadBytes < 0 || c.MaxUploadBytes > 1<<31 {
		errs = append(errs, fmt.Errorf("XINQIAO_MAX_UPLOAD_BYTES must be an integer in 0..2147483648"))
	}
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = max(c.DocumentMaxBytes+1<<20, 21<<20)
	}
	for _, r := range []struct {
		name string
		dst  *Rate
	}{{"XINQIAO_RATE_LOGIN", &c.RateLogin}, {"XINQIAO_RATE_PUBLIC", &c.RatePublic}, {"XINQIAO_RATE_WRITES", &c.RateWrites}} {
		if *r.dst, err = parseRate(get(r.name)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", r.name, err))
		}
	}
	switch c.RateStore = get("XINQIAO_RATE_STORE"); c.RateStore {
	case "redis", "local":
	default:
		errs = append(errs, fmt.Errorf("XINQIAO_RATE_STORE must be redis or local"))
	}
	if c.Env == "production" {
		for _, v := range Vars {
			if !v.Secret || v.Default == "" {
				continue
			}
			if val, ok := lookup(v.Name); !ok || val == "" || val == v.Default {
				errs = append(errs, fmt.Errorf("%s must be set in production", v.Name))
			}
		}
	}
	return c, errors.Join(errs...)
}

// FromEnv loads the configuration from the process environment.
func FromEnv() (Config, error) { return Load(os.LookupEnv) }

// LogValue renders the effective configuration with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("database_url", MaskURL(c.DatabaseURL)),
		slog.String("migrate_database_url", MaskURL(c.MigrateDatabaseURL)),
		slog.Int("db_max_conns", int(c.DBMaxConns)),
		slog.Bool("read_audit_async", c.ReadAuditAsync),
		slog.String("redis_addr", c.RedisAddr),
		slog.String("redis_password", mask(c.RedisPassword)),
		slog.String("s3_endpoint", c.S3Endpoint),
		slog.String("s3_access_key", mask(c.S3AccessKey)),
		slog.String("s3_secret_key", mask(c.S3SecretKey)),
		slog.String("s3_bucket", c.S3Bucket),
		slog.String("master_key", mask(c.MasterKey)),
		slog.Bool("s3_use_tls", c.S3UseTLS),
		slog.Int64("document_max_bytes", c.DocumentMaxBytes),
		slog.String("pdf_font", c.PDFFont),
		slog.String("log_level", c.LogLevel.String()),
		slog.Duration("session_ttl", c.SessionTTL),
		slog.Duration("session_idle_timeout", c.SessionIdleTimeout),
		slog.String("smtp_addr", c.SMTPAddr),
		slog.String("smtp_from", c.SMTPFrom),
		slog.String("smtp_username", c.SMTPUsername),
		slog.String("smtp_password", mask(c.SMTPPassword)),
		slog.String("public_url", c.PublicURL),
	)
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// MaskURL hides the password of a connection URL.
func MaskURL(raw string) string {
	at := strings.LastIndex(raw, "@")
	scheme := strings.Index(raw, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return raw
	}
	userinfo := raw[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		userinfo = userinfo[:i] + ":***"
	}
	return raw[:scheme+3] + userinfo + raw[at:]
}
