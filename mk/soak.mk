# make soak: the edgeproxy binary under soak (examples/edgeproxy/soak):
# SOAK_FLOWS flows kept alive (a tenth over TCP), closed-loop REGISTER load,
# a hot swap every 30 s cycling good / slow-_initialize / corrupt / truncated modules
# (SOAK_SLOWINIT=0 leaves the slow one out), RSS and goroutines every 30 s,
# for SOAK_DURATION; fails on any failed transaction, wrong keep value,
# unanswered keep-alive, lost flow or unexpected swap outcome.
# Its short variant, TestSoakShort (~35 s, in-process), runs in `make test`.
#   make soak SOAK_DURATION=30m SOAK_FLOWS=20000 SOAK_SLOWINIT=0
SOAK_DURATION ?= 10m
SOAK_FLOWS ?= 10000
SOAK_WORKERS ?= 2
SOAK_SLOWINIT ?= 1
.PHONY: soak
soak: plugin
	SIPKEEP_WASM=$(abspath $(WASM)) SIPKEEP_SOAK_DURATION=$(SOAK_DURATION) SIPKEEP_SOAK_FLOWS=$(SOAK_FLOWS) \
	SIPKEEP_SOAK_WORKERS=$(SOAK_WORKERS) SIPKEEP_SOAK_SLOWINIT=$(SOAK_SLOWINIT) \
		$(GO) test -count=1 -timeout 0 -v -run '^TestSoak$$' ./examples/edgeproxy/soak
