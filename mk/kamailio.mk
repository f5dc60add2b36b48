# Kamailio / OpenSIPS adapters: the C library and its Python files.
#   make capi            build/libsipkeep.so, build/sipkeep.h, build/*.py (install these next to each other)
#   make kamailio-test   the real-Kamailio tests (needs kamailio, kamailio-python3-modules, sip-tester)
#   make kamailio-bench  REGISTER rate with and without the adapter, and the per-call cost
.PHONY: capi kamailio-test kamailio-bench
CAPI_LIB := $(BUILD)/libsipkeep.so

capi: $(CAPI_LIB)
$(CAPI_LIB): $(shell find hostadapters/capi host abi -name '*.go' 2>/dev/null) hostadapters/capi/sipkeep.h go.mod go.sum
	@mkdir -p $(BUILD)
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -o $@ ./hostadapters/capi
	rm -f $(BUILD)/libsipkeep.h   # cgo's generated header; sipkeep.h is the documented one
	cp hostadapters/capi/sipkeep.h hostadapters/capi/sipkeep_capi.py \
	   hostadapters/kamailio/sipkeep_kamailio.py hostadapters/opensips/sipkeep_opensips.py $(BUILD)/

kamailio-test: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -count=1 -v ./hostadapters/capi ./hostadapters/kamailio ./hostadapters/opensips

kamailio-bench: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./hostadapters/capi ./hostadapters/kamailio
