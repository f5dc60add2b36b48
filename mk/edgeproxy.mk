# examples/edgeproxy: the sipgo edge proxy + registrar with sipkeep.
# `make run` builds the plugin and serves 127.0.0.1:5060 over UDP and TCP;
# pass more flags with ARGS, e.g. make run ARGS='--metrics 127.0.0.1:9060 --user alice:secret'.
EDGEPROXY_ARGS ?= --listen 127.0.0.1:5060 --transports udp,tcp --wasm $(WASM)

run: plugin
	$(GO) run ./examples/edgeproxy $(EDGEPROXY_ARGS) $(ARGS)

.PHONY: edgeproxy-test edgeproxy-bench
edgeproxy-test: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -count=1 -timeout 5m ./examples/edgeproxy/... ./hostadapters/sipgokeep/...

edgeproxy-bench: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -run '^$$' -bench . -benchtime 3s -count 1 ./examples/edgeproxy/
