# examples/e2e: the example UA (uaclient, in-process) against the edge proxy
# binary (built by the test) — keep negotiated, keep-alives at the granted
# rate and answered, stopped when the registration ends, failure detected
# when the proxy is frozen (SIGSTOP) and recovered after SIGCONT. About 25 s.
.PHONY: e2e-test
e2e-test: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -count=1 -timeout 5m -v ./examples/e2e/...
