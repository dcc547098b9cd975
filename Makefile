# Targets:
#   make test   install test dependencies, check formatting, vet, go mod tidy
#               and staticcheck, then run every module's tests with the race
#               detector against real PostgreSQL: the root module on the
#               default server (Debian's PostgreSQL 15) and again on each of
#               PG_VERSIONS (18), the other modules on the default server
#   make lint   only the checks (gofmt, vet, go mod tidy, staticcheck)
#   make demo   install dependencies and run examples/quickstart
#   make bench  run the benchmarks in bench/ against real PostgreSQL and write
#               docs/BENCHMARKS.md and docs/profiles/ (about 25 minutes)
#
# The tests start their own PostgreSQL servers (internal/pgtest), only in
# test binaries that need one. Environment variables that choose the server:
#   TENANTPATH_PG_VERSION=18   run the servers of that major version
#   TENANTPATH_PG_BIN=/dir     run the initdb, pg_ctl and postgres in /dir
#   TENANTPATH_TEST_DSN=url    use an existing server instead (the extra
#                              PG_VERSIONS passes are then left out: they
#                              would run on the same server again)
# `make test PG_VERSIONS=` runs the default server only and does not
# install PostgreSQL 18.

GO        ?= go
TESTFLAGS ?= -race -count=1 -timeout 25m

# Major versions the root module's tests run on besides the default server.
# scripts/install-pg18.sh installs PostgreSQL 18 beside Debian's.
PG_VERSIONS ?= 18

# staticcheck, pinned; `go run pkg@version` fetches and builds it on first
# use (the build is cached), so nothing needs to be installed beforehand.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# Go modules other than the root one (examples/..., tools/...). The go tool
# ignores testdata, and so do we: a go.mod there is a test fixture.
SUBMODULES := $(shell find . -name go.mod -not -path ./go.mod -not -path './.git/*' \
		-not -path '*/testdata/*' -exec dirname {} \; | sort)

# in_modules runs the shell command $(1) in the root module and then in
# every submodule that has Go files, and fails if it failed in any of them
# (after all have had their say).
define in_modules
	@failed=; for dir in . $(SUBMODULES); do \
		if [ -z "$$(find $$dir -name '*.go' | head -n 1)" ]; then echo "cd $$dir: (no .go files yet)"; continue; fi; \
		echo "cd $$dir && $(1)"; \
		(cd $$dir && $(1)) || failed="$$failed $$dir"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed in:$$failed"; exit 1; fi
endef

.PHONY: all test lint deps fmt-check vet tidy-check staticcheck \
	test-root test-pg-versions test-submodules demo bench

# One step at a time, in the order listed, even under make -j: the test
# passes share two cores and would only slow each other down. Under make -k
# the test passes still run when a check fails.
.NOTPARALLEL:

all: test

test: deps lint test-root test-pg-versions test-submodules

lint: fmt-check vet tidy-check staticcheck

deps:
	TENANTPATH_SKIP_PG18=$(if $(filter 18,$(PG_VERSIONS)),0,1) bash scripts/install-deps.sh

fmt-check:
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then \
		echo "These files are not gofmt-formatted (run gofmt -w on them):"; \
		echo "$$files" | sed 's/^/  /'; \
		exit 1; \
	fi; \
	echo "gofmt: all files formatted"

vet:
	$(call in_modules,$(GO) vet ./...)

# go.mod and go.sum must be what `go mod tidy` makes of them; the diff says
# what to change.
tidy-check:
	$(call in_modules,$(GO) mod tidy -diff)

staticcheck:
	$(call in_modules,$(STATICCHECK) ./...)

test-root:
	$(GO) test $(TESTFLAGS) ./...

test-pg-versions:
	@set -e; for v in $(PG_VERSIONS); do \
		if [ -n "$$TENANTPATH_TEST_DSN" ]; then \
			echo "TENANTPATH_TEST_DSN is set: no PostgreSQL $$v pass (it would use the same server)"; \
			continue; \
		fi; \
		echo "TENANTPATH_PG_VERSION=$$v $(GO) test $(TESTFLAGS) ./..."; \
		env -u TENANTPATH_PG_BIN TENANTPATH_PG_VERSION=$$v $(GO) test $(TESTFLAGS) ./...; \
	done

test-submodules:
	@set -e; for dir in $(SUBMODULES); do \
		if [ -z "$$(find $$dir -name '*.go' | head -n 1)" ]; then echo "cd $$dir: (no .go files yet)"; continue; fi; \
		echo "cd $$dir && $(GO) test $(TESTFLAGS) ./..."; \
		(cd $$dir && $(GO) test $(TESTFLAGS) ./...); \
	done

# The demo and the benchmarks run on the default server only.
demo:
	TENANTPATH_SKIP_PG18=1 bash scripts/install-deps.sh
	$(GO) run ./examples/quickstart

bench:
	TENANTPATH_SKIP_PG18=1 bash scripts/install-deps.sh
	$(GO) run ./bench/cmd/report
