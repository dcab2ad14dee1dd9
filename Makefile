# caddy-cpam: build, test, demo, lint.
#
#   make demo   CPA simulator + traffic + Caddy with the plugin, panel on https://localhost:8443
#   make test   every test: Go (race detector), panel unit tests, browser tests
#   make build  bin/caddy and bin/cpa-sim
#   make web    the panel (web/dist/management.html, embedded by the Go build)
#   make lint   gofmt and go vet
#   make bench  the benchmark harness (docs/benchmarks.md; BENCH_EVENTS=10000000 for 10M)
#   make bench-quick  the quick Go benchmarks (ingest path, commit, normalise)

GO       ?= go
BIN      ?= bin
GOFLAGS  ?=
# Keep Caddy's data (internal CA, certificates) and autosaved config of the
# tests out of the home directory; caddytest reads these when it starts.
TESTHOME ?= $(CURDIR)/.test-home

NPM      ?= npm

.PHONY: all build test test-go test-web test-browser web web-deps lint bench bench-quick demo clean

all: build

build:
	$(GO) build $(GOFLAGS) -o $(BIN)/caddy ./cmd/caddy
	$(GO) build $(GOFLAGS) -o $(BIN)/cpa-sim ./cmd/cpa-sim

test: test-go test-web test-browser

# One test binary at a time (-p 1): on 2 cores, the store's SQLite-heavy
# tests under the race detector starved the collector's timing-sensitive
# fault tests running beside them.
test-go:
	rm -rf $(TESTHOME) && mkdir -p $(TESTHOME)/data $(TESTHOME)/config
	XDG_DATA_HOME=$(TESTHOME)/data XDG_CONFIG_HOME=$(TESTHOME)/config \
		$(GO) test $(GOFLAGS) -race -count=1 -p 1 -timeout 30m ./...

# The panel's lint, type check and unit tests.
test-web: web-deps
	cd web && $(NPM) run check

# The panel in headless Chromium against the built Caddy and the CPA
# simulator (needs chromium: apt-get install -y chromium).
test-browser: build web
	cd web && $(NPM) run test:browser

web-deps:
	cd web && $(NPM) ci --no-audit --no-fund

web: web-deps
	cd web && $(NPM) run build

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The issue-7 harness: ingest, raw insert, size, HTTP through Caddy,
# export/import, memory and the live path on BENCH_EVENTS generated events;
# writes docs/benchmarks.md. BENCH_EVENTS=10000000 for the full run.
BENCH_EVENTS ?= 1000000
BENCH_FLAGS  ?=
bench: build
	$(GO) run $(GOFLAGS) ./cmd/cpam-bench -events $(BENCH_EVENTS) -out docs/benchmarks.md $(BENCH_FLAGS)

bench-quick:
	$(GO) test $(GOFLAGS) -run '^$$' -bench 'IngestPath' -benchtime 30000x ./module/
	$(GO) test $(GOFLAGS) -run '^$$' -bench 'Commit' ./store/
	$(GO) test $(GOFLAGS) -run '^$$' -bench 'Normalize' ./usage/

demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN) .demo $(TESTHOME)
