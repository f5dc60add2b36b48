# examples/ua: a registering UA with RFC 6223 keep-alives.
#   make ua                 build build/ua
#   make ua-run UA_ARGS='--transport tcp --duration 60s'
.PHONY: ua ua-run
ua:
	$(GO) build -o $(BUILD)/ua ./examples/ua

ua-run: plugin ua
	$(BUILD)/ua --wasm $(WASM) $(UA_ARGS)
