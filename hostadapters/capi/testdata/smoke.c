/* Smoke test of libsipkeep.so through the documented header: open, one
 * call that grants keep=N, a refused swap, STUN helpers. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "sipkeep.h"

static uint8_t out[SIPKEEP_RESULT_MAX];

int main(int argc, char **argv) {
	char err[256] = "";
	if (argc < 2) return 2;
	int64_t h = sipkeep_open(argv[1], "receiver_keep_seconds=45", "log=none", err, sizeof err);
	if (h <= 0) { fprintf(stderr, "open: %s\n", err); return 1; }
	const char *reply =
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;keep\r\n"
		"From: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\nCall-ID: 1\r\nCSeq: 1 REGISTER\r\n"
		"Contact: <sip:a@192.0.2.1>;expires=300\r\nContent-Length: 0\r\n\r\n";
	int32_t n = sipkeep_call(h, SIPKEEP_KIND_RESPONSE, SIPKEEP_DIR_OUT, SIPKEEP_UDP, SIPKEEP_ROLE_PROXY,
		SIPKEEP_F_LOCAL_REPLY, 0, "127.0.0.1:5060", "192.0.2.1:5060", NULL, 0,
		(const uint8_t *)reply, (uint32_t)strlen(reply), out, sizeof out);
	if (n < (int32_t)sizeof(sipkeep_result)) { fprintf(stderr, "call: %d\n", n); return 1; }
	sipkeep_result r;
	memcpy(&r, out, sizeof r);
	sipkeep_edit e;
	if (r.n_edits < 1) { fprintf(stderr, "no edit (flags %x reason %u)\n", r.flags, r.reason); return 1; }
	memcpy(&e, out + sizeof r, sizeof e);
	const char *msg = (const char *)out + sizeof r + r.n_edits * sizeof(sipkeep_edit) + r.n_actions * sizeof(sipkeep_action);
	printf("edit op=%u via=%u value=%u; message changed=%d: %.60s\n", e.op, e.via, e.value,
		(r.flags & SIPKEEP_R_MESSAGE_CHANGED) != 0, msg);
	if (e.op != SIPKEEP_EDIT_SET_KEEP || e.via != 0 || e.value != 45 || !strstr(msg, "keep=45")) return 1;
	if (sipkeep_configure(h, "floor_seconds=x", err, sizeof err) == 0) { fprintf(stderr, "bad policy accepted\n"); return 1; }
	if (sipkeep_configure(h, "receiver_keep_seconds=50", err, sizeof err) != 0) { fprintf(stderr, "configure: %s\n", err); return 1; }
	n = sipkeep_call(h, SIPKEEP_KIND_RESPONSE, SIPKEEP_DIR_OUT, SIPKEEP_UDP, SIPKEEP_ROLE_PROXY,
		SIPKEEP_F_LOCAL_REPLY | SIPKEEP_F_NO_MESSAGE, 0, "127.0.0.1:5060", "192.0.2.2:5060", NULL, 0,
		(const uint8_t *)reply, (uint32_t)strlen(reply), out, sizeof out);
	memcpy(&r, out, sizeof r);
	memcpy(&e, out + sizeof r, sizeof e);
	if (n < 0 || r.n_edits < 1 || e.value != 50 || r.msg_len != 0) { fprintf(stderr, "after configure: n=%d value=%u msg_len=%u\n", n, e.value, r.msg_len); return 1; }
	printf("reconfigured: keep=%u\n", e.value);
	if (sipkeep_swap(h, "/nonexistent.wasm", err, sizeof err) == 0) { fprintf(stderr, "bad swap accepted\n"); return 1; }
	printf("swap refused: %.60s; generation %llu\n", err, (unsigned long long)sipkeep_generation(h));
	uint8_t txid[12] = "abcdefghijkl", stun[64], got[12];
	char mapped[64];
	int32_t sn = sipkeep_stun_request(txid, stun, sizeof stun);
	if (sn != 20 || sipkeep_stun_parse(stun, (uint32_t)sn, got, mapped, sizeof mapped) != 1 || memcmp(got, txid, 12)) return 1;
	uint8_t resp[128];
	int32_t rn = sipkeep_stun_response(stun, (uint32_t)sn, "192.0.2.9:7000", resp, sizeof resp);
	if (rn <= 0 || sipkeep_stun_parse(resp, (uint32_t)rn, got, mapped, sizeof mapped) != 3 || strcmp(mapped, "192.0.2.9:7000")) return 1;
	if (sipkeep_call(999, 1, 1, 1, 1, 0, 0, "127.0.0.1:1", "127.0.0.1:2", NULL, 0, NULL, 0, out, sizeof out) != SIPKEEP_E_HANDLE) return 1;
	sipkeep_close(h);
	printf("ok\n");
	return 0;
}
