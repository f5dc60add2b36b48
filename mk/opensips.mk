# OpenSIPS: the native module sipkeep.so (hostadapters/opensips/module).
#
# OpenSIPS is not packaged for Debian: OPENSIPS_SRC is an OpenSIPS source tree
# (a `git archive` of a release tag of github.com/OpenSIPS/opensips). Nothing
# of it is committed here.
#
#   make opensips-module OPENSIPS_SRC=<tree>  build/opensips/<version>/modules/sipkeep.so
#   make opensips        OPENSIPS_SRC=<tree>  OpenSIPS itself (core + the modules the tests load),
#                                             installed under build/opensips/<version>/
#   make opensips-test   OPENSIPS_SRC=<tree>  both, then the tests against that real OpenSIPS
#   make opensips-bench  OPENSIPS_SRC=<tree>  REGISTER rate with and without the module, memory
#
# The core build takes ~13 minutes on 2 cores the first time; the modules ~1.
# Without OPENSIPS_SRC the tests look for an install under build/opensips/
# and skip, saying why, when there is none.
.PHONY: opensips opensips-module opensips-test opensips-bench opensips-check-src

OPENSIPS_SRC ?=
OPENSIPS_JOBS ?= 2
# The modules the tests' opensips.cfg loads (proto_udp/proto_tcp are part of the core).
OPENSIPS_MODULES := sl tm rr maxfwd textops sipmsgops signaling registrar usrloc mi_fifo event_routing \
	proto_tls tls_mgm tls_openssl proto_ws proto_wss
OPENSIPS_VERSION = $(shell sed -n 's/^VERSION_\(MAJOR\|MINOR\|SUBMINOR\) *= *\([0-9]*\).*/\2/p' $(OPENSIPS_SRC)/Makefile.defs | paste -sd.)
OPENSIPS_PREFIX = $(abspath $(BUILD)/opensips/$(OPENSIPS_VERSION))

opensips-check-src:
	@[ -n "$(OPENSIPS_SRC)" ] && [ -f "$(OPENSIPS_SRC)/Makefile.defs" ] || \
		{ echo "set OPENSIPS_SRC to an OpenSIPS source tree (git archive of a release tag)"; exit 2; }

# The core and the needed modules, built in the tree, copied under build/.
opensips: opensips-check-src
	$(MAKE) -C $(OPENSIPS_SRC) -j$(OPENSIPS_JOBS) app
	$(MAKE) -C $(OPENSIPS_SRC) -j$(OPENSIPS_JOBS) modules="$(addprefix modules/,$(OPENSIPS_MODULES))" modules
	@mkdir -p $(OPENSIPS_PREFIX)/sbin $(OPENSIPS_PREFIX)/modules
	install -m 755 $(OPENSIPS_SRC)/opensips $(OPENSIPS_PREFIX)/sbin/opensips
	for m in $(OPENSIPS_MODULES); do install -m 644 $(OPENSIPS_SRC)/modules/$$m/$$m.so $(OPENSIPS_PREFIX)/modules/; done

# The module, compiled with the tree's own flags (a module whose flags differ
# from the core's is refused at load time), plus the plugin service library
# (libsipkeep.so, loaded only by the module's service process) and the plugin.
opensips-module: opensips-check-src plugin capi
	@mkdir -p $(OPENSIPS_PREFIX)/modules $(OPENSIPS_PREFIX)/lib
	$(MAKE) -C hostadapters/opensips/module OPENSIPS_SRC=$(abspath $(OPENSIPS_SRC)) \
		OUT=$(OPENSIPS_PREFIX)/modules/sipkeep.so
	install -m 644 $(WASM) $(OPENSIPS_PREFIX)/lib/sipkeep.wasm
	install -m 755 $(CAPI_LIB) $(OPENSIPS_PREFIX)/lib/libsipkeep.so

opensips-test: opensips opensips-module
	SIPKEEP_WASM=$(abspath $(WASM)) SIPKEEP_OPENSIPS=$(OPENSIPS_PREFIX) \
		$(GO) test -count=1 -v -timeout 20m ./hostadapters/opensips/

opensips-bench: opensips opensips-module
	SIPKEEP_WASM=$(abspath $(WASM)) SIPKEEP_OPENSIPS=$(OPENSIPS_PREFIX) \
		$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./hostadapters/opensips/
