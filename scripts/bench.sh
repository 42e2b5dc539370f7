#!/usr/bin/env bash
# make bench: load a synthetic district into a database of its own, start serve and worker
# (with their own Redis, so no other checkout's jobs are touched), run the paired
# benchmarks (cmd/xinqiao-bench) and the Go benchmarks, save profiles under docs/profiles/
# and rewrite the generated section of docs/BENCHMARKS.md.
#
# Sizes and ports come from the environment (defaults: the issue's full size):
#   BENCH_SCHOOLS=200 BENCH_STUDENTS=300000 BENCH_SESSIONS=2000000 BENCH_ASSESSMENTS=500000
#   BENCH_SEED=1 BENCH_DB=xinqiao_bench BENCH_PORT=18170 (serve; +1 worker, +2 Redis, +3/+4 pprof)
#   BENCH_RATE=500 BENCH_DURATION=20s BENCH_KEEP_DB=0 BENCH_NOTE="..." BENCH_DOC=docs/BENCHMARKS.md
#   BENCH_SEED_ONLY=1 (seed and stop) / BENCH_REUSE_DB=1 (skip seeding: reuse BENCH_DB and its
#   summary BENCH_SUMMARY=/tmp/$BENCH_DB.summary.json; the run writes into it, so reuse it once)
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh env)"
export PATH=/usr/local/go/bin:$PATH

SCHOOLS=${BENCH_SCHOOLS:-200}
STUDENTS=${BENCH_STUDENTS:-300000}
SESSIONS=${BENCH_SESSIONS:-2000000}
ASSESSMENTS=${BENCH_ASSESSMENTS:-500000}
SEED=${BENCH_SEED:-1}
DB=${BENCH_DB:-xinqiao_bench}
PORT=${BENCH_PORT:-18170}
RATE=${BENCH_RATE:-500}
DURATION=${BENCH_DURATION:-20s}
DOC=${BENCH_DOC:-docs/BENCHMARKS.md}
OUT=$(mktemp -d /tmp/xinqiao-bench.XXXXXX)
PROFILES=docs/profiles
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap cleanup EXIT INT TERM

log() { echo "bench: $*" >&2; }

with_db() { local u=$1; echo "${u%/*}/$DB?${u#*\?}"; }
export XINQIAO_DATABASE_URL=$(with_db "$XINQIAO_DATABASE_URL")
export XINQIAO_MIGRATE_DATABASE_URL=$(with_db "$XINQIAO_MIGRATE_DATABASE_URL")
export BENCH_ADMIN_URL=$(with_db "$XINQIAO_TEST_ADMIN_DATABASE_URL")
ADMIN_PG=$XINQIAO_TEST_ADMIN_DATABASE_URL

log "building"
go build -trimpath -o bin/xinqiao ./cmd/xinqiao
go build -trimpath -o bin/xinqiao-bench ./cmd/xinqiao-bench

SUMMARY=${BENCH_SUMMARY:-/tmp/$DB.summary.json}
if [ "${BENCH_REUSE_DB:-0}" = "1" ] && [ -s "$SUMMARY" ]; then
  log "reusing the district in $DB ($SUMMARY)"
  bin/xinqiao migrate 2>"$OUT/migrate.log"
else
  log "fresh database $DB"
  psql "$ADMIN_PG" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
  scripts/services.sh bootstrap-db "$DB" >/dev/null
  bin/xinqiao migrate 2>"$OUT/migrate.log"
  log "seeding $SCHOOLS schools, $STUDENTS students, $SESSIONS sessions, $ASSESSMENTS assessments"
  bin/xinqiao seed synthetic --schools "$SCHOOLS" --students "$STUDENTS" --sessions "$SESSIONS" \
    --assessments "$ASSESSMENTS" --seed "$SEED" >"$SUMMARY"
fi
cp "$SUMMARY" "$OUT/summary.json"
cat "$OUT/summary.json" >&2
if [ "${BENCH_SEED_ONLY:-0}" = "1" ]; then
  trap - EXIT
  log "seeded only (BENCH_SEED_ONLY=1); run again with BENCH_REUSE_DB=1"
  exit 0
fi

log "starting redis, serve and worker"
redis-server --port $((PORT + 2)) --bind 127.0.0.1 --save '' --appendonly no >"$OUT/redis.log" 2>&1 &
pids+=($!)
export XINQIAO_REDIS_ADDR=127.0.0.1:$((PORT + 2))
export XINQIAO_HTTP_ADDR=127.0.0.1:$PORT XINQIAO_WORKER_ADDR=127.0.0.1:$((PORT + 1))
# The benchmarks log in dozens of users from one address and write as fast as they can: the
# login and write rate limits (a defence, not a cost of the path measured) are off here.
export XINQIAO_RATE_LOGIN=off XINQIAO_RATE_WRITES=off
XINQIAO_PPROF_ADDR=127.0.0.1:$((PORT + 3)) bin/xinqiao serve 2>"$OUT/serve.log" &
serve=$!
pids+=($serve)
XINQIAO_PPROF_ADDR=127.0.0.1:$((PORT + 4)) bin/xinqiao worker 2>"$OUT/worker.log" &
worker=$!
pids+=($worker)
for _ in $(seq 1 100); do
  if bin/xinqiao healthcheck >/dev/null 2>&1 && bin/xinqiao healthcheck --worker >/dev/null 2>&1; then break; fi
  sleep 0.2
done
bin/xinqiao healthcheck && bin/xinqiao healthcheck --worker

mkdir -p "$PROFILES"
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo "+dirty")
common=(-summary "$OUT/summary.json" -api "http://127.0.0.1:$PORT" -profiles "$PROFILES" -out "$OUT/results.json" -commit "$commit")
log "benchmarks through the API (serve pid $serve, worker pid $worker)"
bin/xinqiao-bench run "${common[@]}" -rate "$RATE" -duration "$DURATION" -only read,rls,write,catalogue,upload,rss \
  -serve-pid "$serve" -worker-pid "$worker" -serve-pprof "127.0.0.1:$((PORT + 3))"
cleanup

log "rollup and export (worker stopped, so the refresh measured is the only one)"
bin/xinqiao-bench run "${common[@]}" -only rollup,export -rollup-timeout "${BENCH_ROLLUP_TIMEOUT:-7m}"

log "Go benchmarks: Casbin decisions with a 200-school policy"
go test -run '^$' -bench 'CasbinAllowed200Schools' -benchtime 20000x ./internal/access/ | tee "$OUT/gobench.txt"

log "profiles → text"
for p in "$PROFILES"/*.pprof; do
  go tool pprof -top -nodecount=30 "$p" >"${p%.pprof}.top.txt" 2>/dev/null || true
done
cp "$OUT/results.json" docs/bench-results.json
bin/xinqiao-bench doc -results "$OUT/results.json" -doc "$DOC" -gobench "$OUT/gobench.txt" -note "${BENCH_NOTE:-}"
log "wrote $DOC (raw results: docs/bench-results.json, logs: $OUT)"

if [ "${BENCH_KEEP_DB:-0}" != "1" ]; then
  psql "$ADMIN_PG" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
  log "dropped $DB"
fi
