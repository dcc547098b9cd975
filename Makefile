# Targets:
#   make test   install test dependencies, check formatting, vet, and run every
#               module's tests with the race detector against real PostgreSQL
#   make demo   install dependencies and run examples/quickstart
#   make bench  run the benchmarks in bench/ against real PostgreSQL and write
#               docs/BENCHMARKS.md and docs/profiles/ (about 20 minutes)
#
# The tests start their own PostgreSQL servers (internal/pgtest); set
# TENANTPATH_TEST_DSN to use an existing server instead.

GO        ?= go
TESTFLAGS ?= -race -count=1 -timeout 25m

# Go modules other than the root one (examples/..., tools/...). The go tool
# ignores testdata, and so do we: a go.mod there is a test fixture.
SUBMODULES := $(shell find . -name go.mod -not -path ./go.mod -not -path './.git/*' \
		-not -path '*/testdata/*' -exec dirname {} \; | sort)

.PHONY: all test deps fmt-check vet demo bench

all: test

test: deps fmt-check vet
	$(GO) test $(TESTFLAGS) ./...
	@set -e; for dir in $(SUBMODULES); do \
		echo "cd $$dir && $(GO) test $(TESTFLAGS) ./..."; \
		if [ -z "$$(find $$dir -name '*.go' | head -n 1)" ]; then echo "  (no .go files yet)"; continue; fi; \
		(cd $$dir && $(GO) test $(TESTFLAGS) ./...); \
	done

deps:
	bash scripts/install-deps.sh

fmt-check:
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then \
		echo "These files are not gofmt-formatted (run gofmt -w on them):"; \
		echo "$$files" | sed 's/^/  /'; \
		exit 1; \
	fi; \
	echo "gofmt: all files formatted"

vet:
	$(GO) vet ./...
	@set -e; for dir in $(SUBMODULES); do \
		echo "cd $$dir && $(GO) vet ./..."; \
		if [ -z "$$(find $$dir -name '*.go' | head -n 1)" ]; then echo "  (no .go files yet)"; continue; fi; \
		(cd $$dir && $(GO) vet ./...); \
	done

demo: deps
	$(GO) run ./examples/quickstart

bench: deps
	$(GO) run ./bench/cmd/report
