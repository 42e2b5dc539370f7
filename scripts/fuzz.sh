#!/usr/bin/env bash
# Runs every Go fuzz target briefly (FUZZTIME each, default 6s), on top of its committed
# seed corpus (testdata/fuzz/<FuzzName>/, replayed by plain `go test` too). A crasher is
# written to testdata/fuzz/<FuzzName>/ by go test: commit it with the fix.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FUZZTIME=${FUZZTIME:-6s}
targets=(
  ./internal/roster:FuzzParse
  ./internal/roster:FuzzParseXLSX
  ./internal/instrument:FuzzDefinition
  ./internal/instrument:FuzzScoreAnswers
  ./internal/suppress:FuzzSuppress
  ./internal/httpapi:FuzzDecodeRequestBodies
)
for t in "${targets[@]}"; do
  pkg=${t%%:*} name=${t##*:}
  echo "== $name ($pkg, $FUZZTIME)"
  go test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -parallel 2
done
