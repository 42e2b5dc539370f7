# Xinqiao — see README.md. Every target works on a fresh Debian machine as root.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export PATH := /usr/local/go/bin:$(PATH)
# The Go toolchain every target builds and tests with: the installed go fetches this patch
# release through the module proxy once (it carries the standard-library security fixes
# govulncheck checks for), whatever GOTOOLCHAIN the machine's go env sets.
export GOTOOLCHAIN := go1.26.10
ENV := eval "$$(scripts/services.sh env)"
BIN := bin/xinqiao
HTTP_ADDR ?= 127.0.0.1:8080

.PHONY: help run test build frontend frontend-deps services-up services-down migrate seed docs bench bench-go clean test-go test-frontend test-e2e test-chaos lint fuzz

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: services-up build ## services, migrations, demo data, API + worker + web UI (Ctrl-C stops)
	@$(ENV); $(BIN) migrate; $(BIN) seed demo
	@$(ENV); export XINQIAO_HTTP_ADDR=$${XINQIAO_HTTP_ADDR:-$(HTTP_ADDR)}; \
	  $(BIN) worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  echo; echo "  Xinqiao is running at http://$$XINQIAO_HTTP_ADDR  (Ctrl-C stops)"; \
	  echo "  demo logins above, all with the password xinqiao-demo"; echo; \
	  $(BIN) serve

test: services-up build ## every test: Go (with real services), lint, vulnerabilities, fuzzing, frontend unit, browser end-to-end
	@$(ENV); go vet ./...
	scripts/lint.sh
	@$(ENV); go test -count=1 -timeout 20m ./...
	scripts/fuzz.sh
	cd frontend && npx vitest run
	scripts/e2e.sh

test-go: services-up ## Go tests only
	@$(ENV); go test -count=1 -timeout 20m ./...

test-chaos: services-up ## fault-tolerance tests on a private stack (docs/fault-tolerance.md)
	go test -count=1 -v -timeout 10m ./internal/chaos/

lint: ## golangci-lint (.golangci.yml) and govulncheck (offline database), pinned tools in ~/.cache/xinqiao-tools
	scripts/lint.sh

fuzz: ## every Go fuzz target for FUZZTIME each (default 6s) on top of its committed corpus
	scripts/fuzz.sh

test-frontend: frontend-deps ## frontend unit tests (vitest)
	cd frontend && npx vitest run

test-e2e: build ## browser end-to-end tests (Chromium + playwright-core) against a real server
	@$(ENV); scripts/e2e.sh

build: frontend ## build bin/xinqiao with the web UI embedded
	go build -trimpath -o $(BIN) ./cmd/xinqiao

frontend-deps:
	@if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then \
	  cd frontend && npm install --no-audit --no-fund --loglevel=error; fi

frontend: frontend-deps ## build the web UI into frontend/dist
	cd frontend && npm run build --silent
	@touch frontend/dist/.gitkeep

services-up: ## start PostgreSQL, Redis and MinIO on loopback (installs what is missing)
	@scripts/services.sh up

services-down: ## stop the services this checkout started
	@scripts/services.sh down

migrate: services-up build ## apply migrations
	@$(ENV); $(BIN) migrate

seed: migrate ## create the demo district
	@$(ENV); $(BIN) seed demo

docs: services-up build ## regenerate docs/permissions.md from the policy
	@$(ENV); $(BIN) migrate; $(BIN) docs permissions > docs/permissions.md

bench: services-up ## paired benchmarks on a synthetic district (sizes: BENCH_* in scripts/bench.sh; results: docs/BENCHMARKS.md)
	scripts/bench.sh

bench-go: services-up ## every Go benchmark (results: docs/bench-latest.txt)
	@$(ENV); go test -run '^$$' -bench . -benchmem -benchtime 3x ./... | tee docs/bench-latest.txt

clean: ## remove build outputs (not the data)
	rm -rf bin frontend/dist/assets frontend/dist/index.html
