#!/usr/bin/env bash
# Browser end-to-end tests: a fresh database with demo data, a real `xinqiao serve` and
# `xinqiao worker` on 127.0.0.1:18080, then frontend/e2e/run.mjs in Debian's Chromium.
# Expects the services of scripts/services.sh and bin/xinqiao (make test-e2e does both).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
eval "$(scripts/services.sh env)"
DB=${XINQIAO_E2E_DB:-xinqiao_e2e}
ADDR=${XINQIAO_E2E_ADDR:-127.0.0.1:18080}
LOGDIR=$(mktemp -d /tmp/xinqiao-e2e.XXXXXX)

PGPASSWORD=postgres_local psql -h 127.0.0.1 -p 55432 -U postgres -qtA -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
scripts/services.sh bootstrap-db "$DB"
export XINQIAO_DATABASE_URL=${XINQIAO_DATABASE_URL/\/xinqiao\?/\/$DB?}
export XINQIAO_MIGRATE_DATABASE_URL=${XINQIAO_MIGRATE_DATABASE_URL/\/xinqiao\?/\/$DB?}
export XINQIAO_HTTP_ADDR=$ADDR
export XINQIAO_WORKER_ADDR=${XINQIAO_E2E_WORKER_ADDR:-127.0.0.1:18081}
export XINQIAO_LOG_LEVEL=warn

bin/xinqiao migrate 2>"$LOGDIR/migrate.log"
bin/xinqiao seed demo >"$LOGDIR/seed.log"
bin/xinqiao serve 2>"$LOGDIR/serve.log" &
serve=$!
bin/xinqiao worker 2>"$LOGDIR/worker.log" &
worker=$!
status=1
cleanup() {
  kill "$serve" "$worker" 2>/dev/null || true
  wait "$serve" "$worker" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "--- serve log (tail) ---"; tail -n 40 "$LOGDIR/serve.log" || true
  fi
}
trap cleanup EXIT

for _ in $(seq 120); do
  curl -sf "http://$ADDR/readyz" >/dev/null && break
  sleep 0.5
done
curl -sf "http://$ADDR/readyz" >/dev/null || { echo "server did not become ready"; exit 1; }

set +e
XINQIAO_BASE_URL="http://$ADDR" CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium} node frontend/e2e/run.mjs
status=$?
set -e
exit $status
