# Crucible: the two commands that do everything on a fresh machine are
#   make demo   # build, start an embedded chain (+ sidecar), walk the story, stop
#   make test   # the full test suite (what CI runs)
SHELL       := /usr/bin/env bash
GO          ?= go
BUILD_DIR   ?= build
TOOLS_BIN   ?= $(CURDIR)/.tools/bin
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
STATICCHECK_VERSION ?= v0.8.2
TEST_TIMEOUT ?= 25m

SDK_VERSION_PKG := github.com/cosmos/cosmos-sdk/version
LDFLAGS := -X $(SDK_VERSION_PKG).Name=crucible \
           -X $(SDK_VERSION_PKG).AppName=crucibled \
           -X $(SDK_VERSION_PKG).Version=$(VERSION) \
           -X $(SDK_VERSION_PKG).Commit=$(COMMIT)

.PHONY: all build install test test-short bench fuzz lint proto-gen proto-check ts-gen ts-deps localnet localnet-multi demo clean

all: build

## build: crucibled and crucible-sidecar into ./build
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/crucibled ./cmd/crucibled
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/crucible-sidecar ./cmd/crucible-sidecar

## install: crucibled and crucible-sidecar into $GOBIN
install:
	$(GO) install -ldflags '$(LDFLAGS)' ./cmd/crucibled ./cmd/crucible-sidecar

## test: every test, including in-process chains, the 4-validator localnet and the TypeScript client
test: ts-deps
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

## test-short: unit tests only (skips tests that start chains or processes)
test-short:
	$(GO) test -short ./...

## bench: every benchmark in one run, one table (also in bench/results.md); BENCH_QUICK=1 skips 100k leases
bench:
	GO=$(GO) bash scripts/bench.sh

## fuzz: every fuzz target for FUZZTIME each (default 60s; seeds already run in make test)
fuzz:
	GO=$(GO) bash scripts/fuzz.sh

## lint: go vet + staticcheck (installed through the Go proxy into .tools/bin)
lint: $(TOOLS_BIN)/staticcheck
	$(GO) vet ./...
	$(TOOLS_BIN)/staticcheck ./...

$(TOOLS_BIN)/staticcheck:
	GOBIN=$(TOOLS_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## proto-gen: regenerate Go code from proto/ (offline: imports from the Go module cache)
proto-gen:
	bash scripts/protocgen.sh

## proto-check: fail when the committed generated code is stale
proto-check:
	bash scripts/protocheck.sh

## ts-gen: regenerate the TypeScript client's types, registry and amino schema (clients/ts/src/generated)
ts-gen:
	bash scripts/tsgen.sh

## ts-deps: the TypeScript client's npm packages (npm ci, once) when npm is installed
ts-deps:
	@if command -v npm >/dev/null 2>&1; then \
	  [ -x clients/ts/node_modules/.bin/tsc ] || (cd clients/ts && npm ci --no-audit --no-fund); \
	else echo "ts-deps: npm not found: the TypeScript client's tests will be skipped"; fi

## localnet: one validator on 127.0.0.1 in a temporary home, until Ctrl-C
localnet: build
	bash scripts/localnet.sh single

## localnet-multi: four validators on loopback ports, until Ctrl-C
localnet-multi: build
	bash scripts/localnet.sh multi

## demo: the whole story on an embedded chain; stops everything it started
demo: build
	bash scripts/demo.sh

clean:
	rm -rf $(BUILD_DIR)
