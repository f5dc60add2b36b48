# The worker -> plugin-service round trip of hostadapters/sipkeepc, without a SIP server.
#   make ipc-bench   IPC_WORKERS worker processes x IPC_CALLS calls each; prints CPU per call
.PHONY: ipc-bench
IPC_WORKERS ?= 4
IPC_CALLS ?= 20000
IPC_BENCH := $(BUILD)/ipcbench

$(IPC_BENCH): hostadapters/sipkeepc/bench/ipcbench.c hostadapters/sipkeepc/sipkeepc.c hostadapters/sipkeepc/sipkeepc.h
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Ihostadapters/sipkeepc -o $@ hostadapters/sipkeepc/bench/ipcbench.c hostadapters/sipkeepc/sipkeepc.c -ldl -lpthread

ipc-bench: plugin capi $(IPC_BENCH)
	$(IPC_BENCH) $(abspath $(CAPI_LIB)) $(abspath $(WASM)) $(IPC_WORKERS) $(IPC_CALLS)
