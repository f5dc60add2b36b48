# examples/edgeproxy: the sipgo edge proxy + registrar with sipkeep.
# `make run` builds the plugin and serves 127.0.0.1:5060 over UDP and TCP,
# TLS on 5061, WebSocket on 8080 and secure WebSocket on 8443 (path /, with
# a throwaway self-signed certificate from build/tls, and the webphone page
# at https://127.0.0.1:8443/: mk/webphone.mk);
# pass more flags with ARGS, e.g. make run ARGS='--metrics 127.0.0.1:9060 --user alice:secret'.
EDGEPROXY_ARGS ?= --listen 127.0.0.1:5060 --transports udp,tcp --wasm $(WASM) \
	--tls-listen 127.0.0.1:5061 --ws-listen 127.0.0.1:8080 --wss-listen 127.0.0.1:8443 \
	--tls-cert $(BUILD)/tls/cert.pem --tls-key $(BUILD)/tls/key.pem --webphone examples/webphone

run: plugin tls-cert webphone-deps
	$(GO) run ./examples/edgeproxy $(EDGEPROXY_ARGS) $(ARGS)

.PHONY: edgeproxy-test edgeproxy-bench
edgeproxy-test: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -count=1 -timeout 5m ./examples/edgeproxy/... ./hostadapters/sipgokeep/...

edgeproxy-bench: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -run '^$$' -bench . -benchtime 3s -count 1 ./examples/edgeproxy/
