#!/usr/bin/env bash
# Local services for Xinqiao, as plain processes on loopback (no Docker):
# PostgreSQL 15 on 55432, Redis on 56379, MinIO on 59000 (console 59001), and Mailpit
# (a local SMTP server that keeps every message: SMTP on 51025, HTTP API and UI on 58025).
#
#   scripts/services.sh up       install what is missing, start what is not running
#   scripts/services.sh down     stop what this script started (by pid)
#   scripts/services.sh status   print each service's state
#   scripts/services.sh env      print the export lines for the XINQIAO_* variables
#
# Data lives under .data/ in the checkout, or under /var/tmp/xinqiao-data-<hash> when the
# postgres user cannot reach the checkout (e.g. a clone under a 700 home folder).
# Idempotent: a second `up` reuses running services.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${XINQIAO_CACHE_DIR:-/var/tmp/xinqiao-cache}
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=55432
REDIS_PORT=56379
MINIO_PORT=59000
MINIO_CONSOLE_PORT=59001
MAILPIT_VERSION=v1.33.1
MAILPIT_SMTP_PORT=51025
MAILPIT_HTTP_PORT=58025

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

data_dir() {
  local d="$ROOT/.data"
  mkdir -p "$d" 2>/dev/null || true
  if id postgres >/dev/null 2>&1 && runuser -u postgres -- test -x "$d" 2>/dev/null; then
    echo "$d"
    return
  fi
  local hash
  hash=$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
  echo "/var/tmp/xinqiao-data-$hash"
}

install_packages() {
  local missing=()
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15 postgresql-client-15)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v psql >/dev/null || missing+=(postgresql-client-15)
  command -v curl >/dev/null || missing+=(curl)
  # A CJK TrueType font embedded in generated PDFs, and pdftotext to check them in tests.
  [ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || missing+=(fonts-droid-fallback)
  command -v pdftotext >/dev/null || missing+=(poppler-utils)
  if [ "${XINQIAO_SKIP_CHROMIUM:-}" != "1" ]; then
    command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian's package starts a cluster on 5432; we do not need it.
  if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
    pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
  fi
  if [ ! -x "$CACHE/bin/minio" ]; then
    log "building the MinIO server once into $CACHE/bin (a few minutes)"
    mkdir -p "$CACHE/bin"
    GOBIN="$CACHE/bin" GOFLAGS=-mod=mod go install "github.com/minio/minio@$MINIO_VERSION"
  fi
  if [ ! -x "$CACHE/bin/mailpit" ] || [ "$(cat "$CACHE/bin/mailpit.version" 2>/dev/null)" != "$MAILPIT_VERSION" ]; then
    log "building Mailpit $MAILPIT_VERSION once into $CACHE/bin"
    mkdir -p "$CACHE/bin"
    GOBIN="$CACHE/bin" GOFLAGS=-mod=mod go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
    echo "$MAILPIT_VERSION" >"$CACHE/bin/mailpit.version"
  fi
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }
redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
minio_ready() { curl -sf "http://127.0.0.1:$MINIO_PORT/minio/health/ready" >/dev/null 2>&1; }
mailpit_ready() { curl -sf "http://127.0.0.1:$MAILPIT_HTTP_PORT/readyz" >/dev/null 2>&1; }

wait_for() {
  local what=$1 check=$2 tries=${3:-120}
  for _ in $(seq "$tries"); do
    if $check; then return 0; fi
    sleep 0.5
  done
  die "$what did not become ready"
}

psql_admin() {
  PGPASSWORD=postgres_local psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

# bootstrap_db NAME: create a database owned by xinqiao_owner with the app grants.
bootstrap_db() {
  local db=$1
  if [ "$(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
    psql_admin -d postgres -c "CREATE DATABASE $db OWNER xinqiao_owner"
  fi
  psql_admin -d "$db" -c "ALTER SCHEMA public OWNER TO xinqiao_owner" \
    -c "REVOKE ALL ON SCHEMA public FROM PUBLIC" -c "GRANT USAGE ON SCHEMA public TO xinqiao_app"
}

start_postgres() {
  local dir=$1/postgres
  if pg_ready; then log "postgres: already running on $PG_PORT"; return; fi
  mkdir -p "$dir"
  chown postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "postgres: initdb in $dir/data"
    local pwfile
    pwfile=$(mktemp)
    echo postgres_local >"$pwfile"
    chown postgres "$pwfile"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 256MB
fsync = on
CONF
  fi
  log "postgres: starting on 127.0.0.1:$PG_PORT"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
  wait_for postgres pg_ready
  psql_admin -d postgres -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'xinqiao_owner') THEN
        CREATE ROLE xinqiao_owner LOGIN PASSWORD 'xinqiao_owner_local' NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
      END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'xinqiao_app') THEN
        CREATE ROLE xinqiao_app LOGIN PASSWORD 'xinqiao_app_local' NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS;
      END IF;
    END \$\$;"
  bootstrap_db xinqiao
}

start_redis() {
  local dir=$1/redis
  if redis_ready; then log "redis: already running on $REDIS_PORT"; return; fi
  mkdir -p "$dir"
  log "redis: starting on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly yes >/dev/null
  wait_for redis redis_ready
}

start_minio() {
  local dir=$1/minio
  if minio_ready; then log "minio: already running on $MINIO_PORT"; return; fi
  mkdir -p "$dir/data"
  if [ ! -f "$dir/kms.key" ]; then
    head -c 32 /dev/urandom | base64 >"$dir/kms.key"
    chmod 600 "$dir/kms.key"
  fi
  log "minio: starting on 127.0.0.1:$MINIO_PORT"
  MINIO_ROOT_USER=xinqiao MINIO_ROOT_PASSWORD=xinqiao-local-secret \
    MINIO_KMS_SECRET_KEY="xinqiao-key:$(cat "$dir/kms.key")" MINIO_BROWSER=off \
    nohup "$CACHE/bin/minio" server --quiet --address "127.0.0.1:$MINIO_PORT" \
    --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" "$dir/data" >"$dir/minio.log" 2>&1 </dev/null &
  echo $! >"$dir/minio.pid"
  wait_for minio minio_ready
}

start_mailpit() {
  local dir=$1/mailpit
  if mailpit_ready; then log "mailpit: already running on $MAILPIT_SMTP_PORT"; return; fi
  mkdir -p "$dir"
  log "mailpit: starting SMTP on 127.0.0.1:$MAILPIT_SMTP_PORT, API and UI on 127.0.0.1:$MAILPIT_HTTP_PORT"
  nohup "$CACHE/bin/mailpit" --quiet --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
    --database "$dir/mailpit.db" --max 20000 --smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns \
    >"$dir/mailpit.log" 2>&1 </dev/null &
  echo $! >"$dir/mailpit.pid"
  wait_for mailpit mailpit_ready
}

up() {
  install_packages
  local d
  d=$(data_dir)
  mkdir -p "$d"
  start_postgres "$d"
  start_redis "$d"
  start_minio "$d"
  start_mailpit "$d"
  log "all services up (data in $d)"
}

stop_pid() {
  local name=$1 pidfile=$2 pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: stopping pid $pid"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$pidfile"
}

down() {
  local d
  d=$(data_dir)
  stop_pid mailpit "$d/mailpit/mailpit.pid"
  stop_pid minio "$d/minio/minio.pid"
  stop_pid redis "$d/redis/redis.pid"
  if [ -f "$d/postgres/data/postmaster.pid" ]; then
    log "postgres: stopping"
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$d/postgres/data" -m fast -w stop >/dev/null || true
  fi
}

status() {
  local s
  for s in postgres redis minio mailpit; do
    if "${s/postgres/pg}_ready" 2>/dev/null; then echo "$s: up"; else echo "$s: down"; fi
  done
}

env_lines() {
  cat <<ENV
export XINQIAO_DATABASE_URL='postgres://xinqiao_app:xinqiao_app_local@127.0.0.1:$PG_PORT/xinqiao?sslmode=disable'
export XINQIAO_MIGRATE_DATABASE_URL='postgres://xinqiao_owner:xinqiao_owner_local@127.0.0.1:$PG_PORT/xinqiao?sslmode=disable'
export XINQIAO_TEST_ADMIN_DATABASE_URL='postgres://postgres:postgres_local@127.0.0.1:$PG_PORT/postgres?sslmode=disable'
export XINQIAO_REDIS_ADDR='127.0.0.1:$REDIS_PORT'
export XINQIAO_S3_ENDPOINT='127.0.0.1:$MINIO_PORT'
export XINQIAO_S3_ACCESS_KEY='xinqiao'
export XINQIAO_S3_SECRET_KEY='xinqiao-local-secret'
export XINQIAO_S3_BUCKET='xinqiao'
export XINQIAO_S3_USE_TLS='false'
export XINQIAO_SMTP_ADDR='127.0.0.1:$MAILPIT_SMTP_PORT'
export XINQIAO_SMTP_FROM='xinqiao@localhost'
export XINQIAO_TEST_MAILPIT_URL='http://127.0.0.1:$MAILPIT_HTTP_PORT'
ENV
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) env_lines ;;
  bootstrap-db) bootstrap_db "${2:?database name}" ;;
  *) echo "usage: $0 up|down|status|env|bootstrap-db NAME" >&2; exit 2 ;;
esac
