# host/: the wazero runtime for the plugin (pool, store, timers, hot swap).
.PHONY: host-test host-bench host-bench-scaling

host-test: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -count=1 -timeout 5m ./host/...

# The host's benchmarks alone (make bench runs them with everything else).
host-bench: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -run '^$$' -bench . -benchmem -count 1 ./host/

# Parallel scaling of Handle and the scheduler at 1 and 2 Ps (BENCHMARKS.md, "Host").
host-bench-scaling: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -run '^$$' -bench 'HandleParallel|Timers1M|IdleFlowMemory' -benchmem -count 1 -cpu 1,2 ./host/
