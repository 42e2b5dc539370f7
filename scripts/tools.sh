#!/usr/bin/env bash
# Installs the pinned Go analysis tools into a cache outside the repository (idempotent)
# and builds the offline Go vulnerability database from golang.org/x/vulndb, which the
# Go module proxy serves like any module (vuln.go.dev itself is not reachable here).
# Prints the tool directory. Override the place with XINQIAO_TOOLS_DIR.
set -euo pipefail
GOLANGCI_LINT_VERSION=v2.15.0
GOVULNCHECK_VERSION=v1.9.0
# The vulnerability data: a pseudo-version of golang.org/x/vulndb. Bump it to refresh.
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018

DIR=${XINQIAO_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/xinqiao-tools}
BIN=$DIR/bin
mkdir -p "$BIN"
install() { # name module@version
  local stamp="$BIN/.$1.version"
  if [[ -x "$BIN/$1" && -f "$stamp" && "$(cat "$stamp")" == "$2" ]]; then return; fi
  echo "installing $2" >&2
  (cd "$DIR" && GOBIN="$BIN" go install "$2")
  echo "$2" >"$stamp"
}
install golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION
install govulncheck golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION
install indexdb golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION

DB=$DIR/vulndb-$VULNDB_VERSION
if [[ ! -f "$DB/index/db.json" ]]; then
  echo "building the vulnerability database $VULNDB_VERSION" >&2
  src=$(cd "$DIR" && go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  rm -rf "$DB.tmp"
  "$BIN/indexdb" -vulns "$src/data/osv" -out "$DB.tmp"
  mv "$DB.tmp" "$DB"
fi
echo "$DIR"
