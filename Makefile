# sipkeep — see README.md. `make run` and `make test` are the two commands a newcomer needs.
GO ?= go
export GOFLAGS ?= -buildvcs=false
BUILD := build
WASM := $(BUILD)/sipkeep.wasm
# Debian packages the tests drive as real peers, dpkg-dev for `make
# kamailio-module` (apt-get source), and bison, flex and libssl-dev (for its
# tls_openssl) for an OpenSIPS built from source; installed idempotently by
# `make deps`.
DEB_PACKAGES := kamailio kamailio-outbound-modules kamailio-tls-modules kamailio-websocket-modules dpkg-dev sip-tester baresip-core coturn stun-client chromium nodejs bison flex libssl-dev

.PHONY: all plugin test test-wasm soak-wasm deps conformance bench icount run generate pgo clean
all: plugin

# The plugin: standard Go, a wasip1 reactor module. The scanner is compiled
# without bounds checks, like its wasm assembly: fuzzed natively with them
# against a reference scanner, and every edit it leads to is checked by the
# host (RATIONALE.md, "The scanner is compiled without bounds checks in the
# guest"). internal/testwasm builds with the same flags.
PLUGIN_GCFLAGS := github.com/sipkeep/sipkeep/plugin/internal/sipscan=-B
plugin: $(WASM)
$(WASM): $(shell find plugin abi -name '*.go' -o -name '*.s' -o -name '*.h' 2>/dev/null) plugin/default.pgo go.mod go.sum Makefile
	@mkdir -p $(BUILD)
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -ldflags="-s -w" -gcflags="$(PLUGIN_GCFLAGS)" -trimpath -o $@ ./plugin

# deps installs what the tests need: Debian packages (only the missing ones) and Go modules.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(GO) mod download

test: deps check plugin test-wasm webphone-deps test-purego kamailio-module
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -count=1 -timeout 30m ./...

# The scanner's own tests inside wasm, on wazero: its hot loop has a wasm
# assembly version (plugin/internal/sipscan/line_wasm.s) that native tests
# cannot reach. Go runs wasip1 test binaries through the wazero CLI.
WAZERO := $(BUILD)/bin/wazero
$(WAZERO): go.mod go.sum
	@mkdir -p $(dir $@)
	$(GO) build -o $@ github.com/tetratelabs/wazero/cmd/wazero
test-wasm: $(WAZERO)
	PATH=$(abspath $(dir $(WAZERO))):$$PATH GOWASIRUNTIME=wazero GOOS=wasip1 GOARCH=wasm \
		$(GO) test -count=1 -timeout 30m -gcflags="$(PLUGIN_GCFLAGS)" -exec $$($(GO) env GOROOT)/lib/wasm/go_wasip1_wasm_exec ./plugin/internal/sipscan/

# The same tests as a soak: the random equivalence tests (hand-written
# wasm assembly against the Go reference) draw a fresh seed and run SOAK×
# their rounds; a failure logs the seed to replay (SIPSCAN_SEED=S1,S2).
# go test cannot fuzz inside wasm; this is the nearest thing. Not in `make test`.
SOAK ?= 20
soak-wasm: $(WAZERO)
	SIPSCAN_SOAK=$(SOAK) PATH=$(abspath $(dir $(WAZERO))):$$PATH GOWASIRUNTIME=wazero GOOS=wasip1 GOARCH=wasm \
		$(GO) test -count=1 -timeout 0 -run 'Equivalence|MatchesReference' -gcflags="$(PLUGIN_GCFLAGS)" \
		-exec $$($(GO) env GOROOT)/lib/wasm/go_wasip1_wasm_exec ./plugin/internal/sipscan/

conformance: plugin
	$(GO) run ./plugin/keeptest/cmd/conformance -wasm $(WASM)

# Benchmarks, side by side in one run (wasm vs native vs go-plugin, with vs
# without the plugin); results and the commands behind them: BENCHMARKS.md.
# The edge proxy's closed-loop load runs for a few seconds per case; the
# Kamailio benchmarks drive a fixed sipp load per run, so they run once.
bench: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -run '^$$' -bench . -benchmem -count 1 ./plugin/... ./host/... ./internal/...
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -run '^$$' -bench . -benchtime 3s -count 1 ./examples/edgeproxy/
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./hostadapters/capi/ ./hostadapters/kamailio/

# Instructions per hot-path call, native and in wasm, counted under
# valgrind: exact and repeatable where times on a shared VM are not (needs
# Debian's valgrind; ~2 min). BENCHMARKS.md has the latest.
icount: plugin
	$(GO) build -o $(BUILD)/bin/icount ./plugin/keeptest/cmd/icount
	$(BUILD)/bin/icount -wasm $(WASM)

generate:
	sh abi/proto/generate.sh

# The plugin is built with profile-guided optimisation: plugin/default.pgo
# (which `go build` picks up for ./plugin by itself) is a CPU profile of the
# plugin's logic running natively on the hot-path benchmarks. PGO inlines
# the hot calls, and in wasm every Go call costs a dispatch (RATIONALE.md).
# Regenerate it after large changes to plugin/keep or sipscan.
pgo:
	$(GO) test -run '^$$' -bench 'BenchmarkCall/.*/.*/native|BenchmarkFixed/.*/.*/native|BenchmarkRegistrar.*/native' -benchtime 5s \
		-cpuprofile $(BUILD)/pgo.pprof -o $(BUILD)/keeptest.test ./plugin/keeptest/
	cp $(BUILD)/pgo.pprof plugin/default.pgo

clean:
	rm -rf $(BUILD)

# Each adapter and example adds its own targets here (run, kamailio, ...).
-include mk/*.mk
