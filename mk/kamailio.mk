# Kamailio: the native sipkeep.so module and its plugin service (libsipkeep.so).
#   make capi             build/libsipkeep.so and build/sipkeep.h (the Go host as a C library and service)
#   make kamailio-module  build/kamailio/sipkeep.so, built against the installed Kamailio's own source
#   make kamailio-run     examples/kamailio/kamailio.cfg in the foreground on 127.0.0.1:5070 (UDP, TCP)
#   make kamailio-test    the real-Kamailio tests (kamailio, sip-tester)
#   make kamailio-bench   REGISTER rate plain vs module, memory, first-REGISTER latency, per-message cost
.PHONY: capi kamailio-module kamailio-run kamailio-test kamailio-bench
CAPI_LIB := $(BUILD)/libsipkeep.so
KAM_BUILD := $(BUILD)/kamailio
KAM_MODULE := $(KAM_BUILD)/sipkeep.so
KAM_MODSRC := hostadapters/kamailio/module

capi: $(CAPI_LIB)
$(CAPI_LIB): $(shell find hostadapters/capi host abi -name '*.go' 2>/dev/null) hostadapters/capi/sipkeep.h go.mod go.sum
	@mkdir -p $(BUILD)
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -o $@ ./hostadapters/capi
	rm -f $(BUILD)/libsipkeep.h   # cgo's generated header; sipkeep.h is the documented one
	cp hostadapters/capi/sipkeep.h hostadapters/sipkeepc/sipkeepc.h $(BUILD)/

# The installed Kamailio's exact source (apt-get source with a private
# deb-src list derived from the machine's own apt sources), `make cfg`, then
# this module built in its tree: same version and compile flags as the
# binary that loads it.
kamailio-module: $(KAM_MODULE)
$(KAM_MODULE): $(KAM_MODSRC)/sipkeep_mod.c $(KAM_MODSRC)/Makefile $(KAM_MODSRC)/fetch-source.sh hostadapters/sipkeepc/sipkeepc.c hostadapters/sipkeepc/sipkeepc.h hostadapters/sipkeepc/sipkeepc_ser.h
	@mkdir -p $(KAM_BUILD)
	src=$$(sh $(KAM_MODSRC)/fetch-source.sh $(abspath $(KAM_BUILD))/source) && \
	mkdir -p $$src/src/modules/sipkeep && \
	cp $(KAM_MODSRC)/sipkeep_mod.c $(KAM_MODSRC)/Makefile hostadapters/sipkeepc/sipkeepc.c hostadapters/sipkeepc/sipkeepc.h hostadapters/sipkeepc/sipkeepc_ser.h $$src/src/modules/sipkeep/ && \
	env -u MAKEFLAGS -u MAKELEVEL $(MAKE) -s -C $$src/src/modules/sipkeep >$(abspath $(KAM_BUILD))/module-build.log 2>&1 || { cat $(abspath $(KAM_BUILD))/module-build.log; exit 1; }; \
	cp $$src/src/modules/sipkeep/sipkeep.so $@

KAM_RUN := $(KAM_BUILD)/run
kamailio-run: plugin capi kamailio-module
	@mkdir -p $(KAM_RUN)
	sed -e 's|^#!define SIPKEEP_KAMAILIO_MODULE .*|#!define SIPKEEP_KAMAILIO_MODULE "$(abspath $(KAM_MODULE))"|' \
	    -e 's|^#!define SIPKEEP_LIB .*|#!define SIPKEEP_LIB "$(abspath $(CAPI_LIB))"|' \
	    -e 's|^#!define SIPKEEP_MODULE .*|#!define SIPKEEP_MODULE "$(abspath $(WASM))"|' \
	    -e 's|^#!define SIPKEEP_CACHE .*|#!define SIPKEEP_CACHE "$(abspath $(KAM_RUN))/cache"|' \
	    -e 's|^#!define SIPKEEP_KEEP .*|#!define SIPKEEP_KEEP 30|' \
	    -e 's|^#!define CTL_SOCKET .*|#!define CTL_SOCKET "unix:$(abspath $(KAM_RUN))/ctl"|' \
	    -e 's|127.0.0.1:5060|127.0.0.1:5070|g' -e 's|^log_stderror=no|log_stderror=yes|' \
	    examples/kamailio/kamailio.cfg >$(KAM_RUN)/kamailio.cfg
	kamailio -c -f $(KAM_RUN)/kamailio.cfg
	kamailio -f $(KAM_RUN)/kamailio.cfg -DD -E -w $(abspath $(KAM_RUN)) -Y $(abspath $(KAM_RUN))

kamailio-test: plugin capi kamailio-module
	SIPKEEP_WASM=$(abspath $(WASM)) SIPKEEP_LIB=$(abspath $(CAPI_LIB)) SIPKEEP_KAMAILIO_MODULE=$(abspath $(KAM_MODULE)) \
		$(GO) test -count=1 -v ./hostadapters/capi ./hostadapters/kamailio

kamailio-bench: plugin capi kamailio-module
	SIPKEEP_WASM=$(abspath $(WASM)) SIPKEEP_LIB=$(abspath $(CAPI_LIB)) SIPKEEP_KAMAILIO_MODULE=$(abspath $(KAM_MODULE)) \
		$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./hostadapters/capi ./hostadapters/kamailio
