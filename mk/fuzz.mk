# make fuzz: every Go fuzz target in the repository for FUZZTIME each
# (default 10s), with the executions per target (mk/fuzz.sh). Inputs that
# fail are left under the package's testdata/fuzz/: commit them.
#   make fuzz FUZZTIME=10m
#   make fuzz FUZZ_MATCH=Framer
FUZZTIME ?= 10s
.PHONY: fuzz
fuzz: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) FUZZ_MATCH='$(FUZZ_MATCH)' GO=$(GO) sh mk/fuzz.sh $(FUZZTIME)
