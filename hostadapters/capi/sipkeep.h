/*
 * sipkeep.h — the sipkeep host as a C library (libsipkeep.so).
 *
 * libsipkeep.so is the Go host (github.com/sipkeep/sipkeep/host) built with
 * -buildmode=c-shared. It loads the sipkeep WebAssembly plugin, configures it
 * with a policy, and runs one call per SIP message, STUN message, CRLF
 * keep-alive or timer. It keeps no flow state of its own: the caller passes the
 * flow's record in and stores the record that comes out. (A pre-forking
 * server is better served by the plugin service, sipkeep_svc_*: one process
 * loads the library and serves every worker; see
 * hostadapters/sipkeepc/sipkeepc.h.)
 *
 * Process rule. The library starts a Go runtime when it is loaded, and a Go
 * runtime does not survive fork(). A pre-forking server (Kamailio, OpenSIPS)
 * must load the library lazily, in each worker, after the fork — never in the
 * parent (mod_init, child_init). One runtime per
 * process; any number of handles in it.
 *
 * Threads. Every function may be called from any thread. Two calls on one
 * flow must not run at once (the caller serialises them, e.g. an htable lock).
 *
 * Failure. Nothing here ever aborts the process. A function that fails
 * returns a negative value (or 0 for sipkeep_open) and, where it takes an
 * error buffer, writes a NUL-terminated reason into it. The caller then fails
 * open: it sends the message unchanged.
 *
 * All multi-byte integers in output buffers are little-endian (the layouts
 * below are the in-memory structs on little-endian machines).
 */
#ifndef SIPKEEP_H
#define SIPKEEP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIPKEEP_CAPI_VERSION 1

/* ---- event fields (the plugin ABI's values, abi/ABI.md) ---- */

/* kind */
#define SIPKEEP_KIND_TIMER    0 /* on_timer: the flow's deadline has come; no message */
#define SIPKEEP_KIND_REQUEST  1 /* a SIP request */
#define SIPKEEP_KIND_RESPONSE 2 /* a SIP response */
#define SIPKEEP_KIND_STUN     3 /* a STUN message (Binding request or response) */
#define SIPKEEP_KIND_PING     4 /* CRLFCRLF received on a stream (already answered) */
#define SIPKEEP_KIND_PONG     5 /* CRLF received on a stream */

/* dir */
#define SIPKEEP_DIR_IN  1 /* received on the flow */
#define SIPKEEP_DIR_OUT 2 /* about to be sent or forwarded on the flow */

/* transport */
#define SIPKEEP_UDP  1
#define SIPKEEP_TCP  2
#define SIPKEEP_TLS  3
#define SIPKEEP_SCTP 4
#define SIPKEEP_WS   5
#define SIPKEEP_WSS  6

/* role */
#define SIPKEEP_ROLE_UA    1
#define SIPKEEP_ROLE_PROXY 2

/* call flags: the low byte goes to the plugin, the rest is for this library */
#define SIPKEEP_F_IN_ROUTE_SET 0x0001 /* a UA always; a proxy that record-routes the dialog */
#define SIPKEEP_F_LOCAL_REPLY  0x0002 /* a response generated here, not forwarded */
/* The message is a response as this proxy received it, its own Via still on
 * top. The library shows the plugin the response without that Via value (the
 * form it has when forwarded) and reports edit Via indices relative to the
 * message as passed, so Via index i is Kamailio's Via[i+1]. */
#define SIPKEEP_F_DROP_TOP_VIA 0x0100
/* Do not copy the edited message into the result (semantic hosts apply the
 * edits themselves). */
#define SIPKEEP_F_NO_MESSAGE   0x0200

/* ---- result layout (sipkeep_call's output buffer) ----
 *
 *   sipkeep_result                 (40 bytes)
 *   sipkeep_edit   [n_edits]       (8 bytes each)
 *   sipkeep_action [n_actions]     (24 bytes each)
 *   message        [msg_len]       the edited message (SIPKEEP_R_MESSAGE_CHANGED; with
 *                                  SIPKEEP_F_DROP_TOP_VIA, the message without that Via)
 *   record         [rec_len]       the flow's new record (SIPKEEP_R_RECORD_CHANGED)
 *   error text     [err_len]       why the call failed open (SIPKEEP_R_FAILED_OPEN)
 */
#define SIPKEEP_R_RECORD_CHANGED  0x0001 /* store the record that follows, and deadline_ms */
#define SIPKEEP_R_RECORD_DELETED  0x0002 /* drop the flow's record and timer */
#define SIPKEEP_R_MESSAGE_CHANGED 0x0004 /* the plugin edited the message */
#define SIPKEEP_R_FAILED_OPEN     0x0008 /* the call failed; send the message unchanged */
#define SIPKEEP_R_ENTERED         0x0010 /* the plugin was called (not a host fast path) */

typedef struct sipkeep_result {
	uint16_t flags;       /* SIPKEEP_R_* */
	uint16_t reason;      /* abi.Reason: informative (logs, metrics) */
	uint16_t n_edits;
	uint16_t n_actions;
	uint32_t msg_len;
	uint32_t rec_len;
	int64_t  deadline_ms; /* Unix ms at which to call again with SIPKEEP_KIND_TIMER; 0 = none */
	uint64_t generation;  /* plugin generation that served the call */
	uint32_t err_len;
	uint32_t reserved;
} sipkeep_result;

/* edit op */
#define SIPKEEP_EDIT_SET_KEEP    1 /* keep=value on Via #via   (Kamailio: assign_hf_value("Via[via+1].keep", "value")) */
#define SIPKEEP_EDIT_ADD_KEEP    2 /* bare ;keep on Via #via   (a proxy's own Via: xavp_via_params) */
#define SIPKEEP_EDIT_STRIP_VALUE 3 /* keep=N -> keep on Via #via (Kamailio: assign_hf_value("Via[via+1].keep", "")) */

typedef struct sipkeep_edit {
	uint8_t  op;
	uint8_t  via;      /* Via value index in the message as passed, 0 = topmost */
	uint16_t reserved;
	uint32_t value;    /* SET_KEEP: seconds */
} sipkeep_edit;

/* action kind (abi.ActionKind) */
#define SIPKEEP_ACT_SEND_STUN          1 /* send a Binding request (sipkeep_stun_request(txid)) from the flow's socket; value = RTO ms */
#define SIPKEEP_ACT_SEND_PING          2 /* write CRLFCRLF on the stream; value = pong deadline ms */
#define SIPKEEP_ACT_FLOW_FAILED        3 /* our keep-alives failed (reason); close / report the flow */
#define SIPKEEP_ACT_FLOW_DEAD          4 /* as receiver, nothing arrived for too long */
#define SIPKEEP_ACT_KEEPALIVE_STARTED  5 /* value = interval s */
#define SIPKEEP_ACT_KEEPALIVE_STOPPED  6 /* reason says why */
#define SIPKEEP_ACT_KEEPALIVE_ANSWERED 7
#define SIPKEEP_ACT_RECEIVE_STARTED    8 /* as receiver; value = interval s */

typedef struct sipkeep_action {
	uint8_t  kind;
	uint8_t  reserved0;
	uint16_t reason;
	uint16_t attempt;  /* SEND_STUN: 1..Rc */
	uint16_t reserved1;
	uint32_t value;
	uint8_t  txid[12]; /* SEND_STUN, KEEPALIVE_ANSWERED on UDP */
} sipkeep_action;

/* Largest result: header, 64 edits, 32 actions, a 64 KiB message, a 2 KiB
 * record and 256 bytes of error text. A buffer this size always suffices. */
#define SIPKEEP_RESULT_MAX (40 + 64 * 8 + 32 * 24 + 65536 + 2048 + 256)

/* negative returns */
#define SIPKEEP_E_HANDLE -1 /* unknown or closed handle */
#define SIPKEEP_E_ARG    -2 /* bad argument (address, kind, lengths) */
#define SIPKEEP_E_SPACE  -3 /* the output buffer is too small */
#define SIPKEEP_E_FAILED -4 /* the operation failed; see the error buffer */

/* ---- lifecycle ---- */

/*
 * sipkeep_open loads the plugin at module_path and configures it.
 *
 * policy is the plugin policy (abi/proto Policy): either JSON
 * ('{"receiverKeepSeconds":30}', protojson names) or "key=value" pairs
 * separated by ';', ',' or blanks, with the proto field names
 * ("receiver_keep_seconds=30; floor_seconds=1; receiver_methods=REGISTER|INVITE").
 * NULL or "" is the default policy.
 *
 * options are host settings as "key=value" pairs:
 *   cache_dir=PATH     compiled-module cache (default: none, compile in memory)
 *   pool=N             plugin instances that may run at once (default 1)
 *   timeout_ms=N       bound on one call (default 100)
 *   log=stderr|none    where the host logs (default stderr)
 *   log_level=debug|info|warn|error (default warn)
 *
 * Returns a handle > 0, or 0 with the reason in err (err_cap bytes, may be 0).
 */
int64_t sipkeep_open(const char *module_path, const char *policy, const char *options,
                     char *err, int32_t err_cap);

/*
 * sipkeep_swap replaces the plugin with the module at module_path (hot
 * swap; the policy is kept). Calls in flight finish on the old module. A
 * module that does not load, does not match the ABI or refuses the policy is
 * refused: the old module keeps serving and the reason is written to err.
 * Returns 0, or a negative SIPKEEP_E_*.
 */
int32_t sipkeep_swap(int64_t h, const char *module_path, char *err, int32_t err_cap);

/*
 * sipkeep_configure replaces the policy (same syntax as sipkeep_open). The
 * plugin validates it first; a refused policy leaves the old one in force
 * and the reason in err. Instances already running take it before their
 * next call; later generations (swaps) keep it. Returns 0, or a negative
 * SIPKEEP_E_*.
 */
int32_t sipkeep_configure(int64_t h, const char *policy, char *err, int32_t err_cap);

/* sipkeep_generation is the generation of the module serving calls (1 after
 * open, +1 per successful swap), or 0 for a bad handle. */
uint64_t sipkeep_generation(int64_t h);

/* sipkeep_close releases the handle. Calls racing with it fail open. */
void sipkeep_close(int64_t h);

/* ---- the hot path ---- */

/*
 * sipkeep_call runs the plugin for one event on one flow.
 *
 *   kind, dir, transport, role, flags   the SIPKEEP_* values above
 *   now_ms          Unix ms; 0 = the library's clock
 *   local, remote   the flow's addresses, "ip:port" ("[v6]:port" for IPv6)
 *   rec, rec_len    the flow's stored record (rec_len 0: none yet)
 *   msg, msg_len    the message (SIP: at least the headers), NULL/0 for a timer
 *   out, out_cap    the result buffer (SIPKEEP_RESULT_MAX always suffices)
 *
 * Returns the number of bytes written to out (a sipkeep_result and what
 * follows it), or a negative SIPKEEP_E_*. A call that failed inside the host
 * still returns a result, with SIPKEEP_R_FAILED_OPEN set.
 */
int32_t sipkeep_call(int64_t h, uint8_t kind, uint8_t dir, uint8_t transport, uint8_t role,
                     uint16_t flags, int64_t now_ms, const char *local, const char *remote,
                     const uint8_t *rec, uint32_t rec_len, const uint8_t *msg, uint32_t msg_len,
                     uint8_t *out, uint32_t out_cap);

/* ---- STUN helpers (RFC 5389 and classic RFC 3489) ---- */

/* sipkeep_stun_request writes a Binding request with the 12-byte transaction
 * id txid (from a SEND_STUN action) to out. Returns its length (20), or a
 * negative SIPKEEP_E_*. */
int32_t sipkeep_stun_request(const uint8_t *txid, uint8_t *out, uint32_t out_cap);

/*
 * sipkeep_stun_parse inspects buf. Returns 0 when it is not STUN (RFC 5389,
 * or RFC 3489 without the magic cookie), else the class: 1 request,
 * 2 indication, 3 success response, 4 error response. When it returns > 0
 * it writes the transaction id to txid (12 bytes, may be NULL; of an RFC 3489
 * message's 16-byte id, the last 12)
 * and, when the message carries an (XOR-)MAPPED-ADDRESS, "ip:port" to
 * mapped (NUL-terminated; mapped_cap may be 0).
 */
int32_t sipkeep_stun_parse(const uint8_t *buf, uint32_t len, uint8_t *txid,
                           char *mapped, int32_t mapped_cap);

/* sipkeep_stun_response writes the Binding success response to the Binding
 * request req, reporting mapped ("ip:port", the request's source), to out:
 * for hosts without a STUN server of their own. An RFC 5389 request gets
 * XOR-MAPPED-ADDRESS (and FINGERPRINT when it had one), an RFC 3489 request
 * MAPPED-ADDRESS and its whole 16-byte id back. Returns its length, or a
 * negative SIPKEEP_E_*. */
int32_t sipkeep_stun_response(const uint8_t *req, uint32_t req_len, const char *mapped,
                              uint8_t *out, uint32_t out_cap);

#ifdef __cplusplus
}
#endif

#endif /* SIPKEEP_H */
