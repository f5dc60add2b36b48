/*
 * sipkeepc.h — the server-neutral C core of sipkeep's native SIP server
 * modules (Kamailio's sipkeep.so, OpenSIPS's sipkeep.so).
 *
 * Model. A pre-forking SIP server runs ONE plugin service: an extra process
 * of its own that loads libsipkeep.so (the Go host, hostadapters/capi) after
 * the fork and serves every other process over a Unix SOCK_SEQPACKET socket.
 * Worker processes never load Go. They
 *
 *   1. decide in C whether a message can matter to the plugin at all
 *      (skc_fast_path): most messages never cross;
 *   2. for those that may, send one binary frame (skc_req) and get one back
 *      (skc_resp: byte splices to apply, nothing allocated) — skc_call;
 *   3. apply the splices to the raw buffer (skc_apply).
 *
 * The service process runs skc_service_open() after the fork, then loops on
 * skc_service_step() from its own C thread: Go hands the plugin's actions
 * (send STUN, send a CRLF ping, a flow failed...) to that thread, which
 * carries them out through the server's functions (skc_executor). Server
 * code is single-threaded; nothing here calls it from another thread.
 *
 * Failure: every call fails open. A worker that cannot reach the service
 * (not started yet, restarting, timed out) passes the message unchanged.
 *
 * Memory: nothing here allocates on the hot path; a skc_client owns two
 * fixed buffers (request and response frame).
 *
 * Threads: a skc_client is used by one thread (one per process).
 *
 * API stability: the functions and structs below are the contract between
 * hostadapters/sipkeepc, hostadapters/capi (service.go, which reads the same
 * frames) and the server modules. Fields are only ever added at the end of
 * the reserved space; SKC_PROTO_VERSION changes when a frame changes.
 */
#ifndef SIPKEEPC_H
#define SIPKEEPC_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKC_PROTO_VERSION 1
#define SKC_MAGIC 0x534b4331u /* "SKC1" */

/* Largest message a frame carries (the plugin ABI's bound). Larger messages
 * pass unchanged without crossing. */
#define SKC_MAX_MESSAGE 65535
/* Largest response: header, splices and their text (edits only touch Vias),
 * or a control reply's text. */
#define SKC_MAX_RESP (64 * 1024)

/* ---- values (the plugin ABI's, as in sipkeep.h) ---- */
enum skc_kind { SKC_KIND_REQUEST = 1, SKC_KIND_RESPONSE = 2, SKC_KIND_STUN = 3, SKC_KIND_PING = 4, SKC_KIND_PONG = 5 };
enum skc_dir { SKC_DIR_IN = 1, SKC_DIR_OUT = 2 };
enum skc_transport { SKC_UDP = 1, SKC_TCP = 2, SKC_TLS = 3, SKC_SCTP = 4, SKC_WS = 5, SKC_WSS = 6 };
enum skc_role { SKC_ROLE_UA = 1, SKC_ROLE_PROXY = 2 };

/* request ops */
enum skc_op {
	SKC_OP_CALL = 1,   /* one message (or STUN/pong) for the plugin; payload = message */
	SKC_OP_RELOAD = 2, /* hot swap; payload = module path ("" = reload the current file) */
	SKC_OP_STATS = 3,  /* reply text: "name value\n" lines */
	SKC_OP_FLOWS = 4,  /* reply text: one line per flow */
	SKC_OP_POLICY = 5, /* replace the policy; payload = policy text */
	SKC_OP_DEFERRED = 6 /* a response already sent with the standing grant
	                     * (sent_ms, granted): for the flow's record; never answered */
};

/* An address: IPv4 in addr[0..3] (af 4) or IPv6 (af 6). */
typedef struct skc_addr {
	uint8_t af;
	uint8_t reserved;
	uint16_t port; /* host byte order */
	uint8_t addr[16];
} skc_addr; /* 20 bytes */

/* One request frame's header; the payload (message or argument) follows. */
typedef struct skc_req {
	uint32_t magic;     /* SKC_MAGIC */
	uint32_t seq;       /* echoed in the response */
	uint8_t op;         /* skc_op */
	uint8_t kind;       /* skc_kind */
	uint8_t dir;        /* skc_dir */
	uint8_t transport;  /* skc_transport */
	uint8_t role;       /* skc_role */
	uint8_t reserved0;
	uint16_t flags;     /* SKC_F_* */
	int32_t conn_id;    /* the server's stream connection id (0 = none): actions carry it back */
	uint32_t len;       /* payload bytes */
	skc_addr local;
	skc_addr remote;
	int64_t sent_ms;    /* DEFERRED: when the worker sent it (Unix ms) */
	uint32_t granted;   /* DEFERRED: the keep value it applied */
	uint8_t reserved[4];
} skc_req; /* 80 bytes */

/* request flags */
#define SKC_F_IN_ROUTE_SET 0x0001 /* this server record-routes the dialog (the service also checks Record-Route) */
#define SKC_F_LOCAL_REPLY  0x0002 /* a response generated here */

/* response status */
#define SKC_OK 0
#define SKC_E_PROTO -1  /* bad frame */
#define SKC_E_FAILED -2 /* the operation failed: text says why */

/* response flags */
#define SKC_R_CHANGED     0x0001 /* splices follow: apply them */
#define SKC_R_FAILED_OPEN 0x0002 /* the plugin call failed; message unchanged */
#define SKC_R_ENTERED     0x0004 /* the plugin ran (not a service fast path) */

/* One response frame's header; then n_splices skc_splice, then text. */
typedef struct skc_resp {
	uint32_t magic;
	uint32_t seq;
	int32_t status;     /* SKC_OK or SKC_E_* */
	uint16_t flags;     /* SKC_R_* */
	uint16_t n_splices;
	uint32_t text_len;  /* splice text, or a control reply's text */
	uint32_t reserved;
} skc_resp; /* 24 bytes */

/* Replace message[off, off+del) by text[text_off, text_off+text_len).
 * Splices are sorted by off and do not overlap. */
typedef struct skc_splice {
	uint32_t off;
	uint32_t del;
	uint32_t text_off;
	uint32_t text_len;
} skc_splice;

/* ---- memory the server shares with the service (mapped before forking) ---- */

/* A slot of the deferred ring: one SKC_OP_DEFERRED frame (skc_req and the
 * message). Larger frames go over the socket. */
#define SKC_RING_SLOTS 1024
#define SKC_RING_SLOT 2048
typedef struct skc_ring_slot {
	uint64_t seq;       /* ticket + 1 once the frame is written */
	uint32_t len;       /* frame bytes */
	uint32_t reserved;
	uint8_t frame[SKC_RING_SLOT - 16];
} skc_ring_slot;

/* What the server shares between its workers and the plugin service.
 *
 * grant: the service publishes the module's standing grant here
 * (abi.FeatureStandingGrant): the keep value every REGISTER 2xx
 * skc_standing_site accepts gets; 0 for none (no service, no feature).
 *
 * The deferred ring: workers (many producers) put the responses they sent
 * with the standing grant; the service (one consumer) polls it — no
 * syscall and no wake-up per message, which is what a round trip cost.
 * A producer takes ticket head (compare-and-swap while head - tail is under
 * SKC_RING_SLOTS), writes slot ticket % SKC_RING_SLOTS, then publishes
 * seq = ticket + 1; the service reads slots in ticket order and advances
 * tail. hostadapters/capi/ring.go is the consumer; the offsets below are
 * its contract (TestSharedLayout). */
typedef struct skc_shared {
	uint32_t grant;         /* offset 0 */
	uint32_t reserved0[15];
	uint64_t head;          /* offset 64: the next ticket */
	uint8_t pad1[56];
	uint64_t tail;          /* offset 128: the service's next ticket */
	uint8_t pad2[56];
	skc_ring_slot slots[SKC_RING_SLOTS]; /* offset 192 */
} skc_shared;

/* skc_shared_create maps one skc_shared shared by every process forked
 * after it (call it in the server's module init, before the fork); NULL
 * when mmap fails (then nothing is applied without the service). */
skc_shared *skc_shared_create(void);

/* ---- worker side: the IPC client ---- */

typedef struct skc_client {
	skc_shared *shared;        /* NULL: no standing grant here */
	skc_splice standing_splice;
	char standing_text[16];
	uint32_t standing_g;   /* the grant standing_text holds ("=N"), 0: none yet */
	uint32_t standing_len; /* its length */
	int fd;                    /* -1 while not connected */
	uint32_t seq;
	int timeout_ms;            /* bound on one round trip (then fail open) */
	int64_t retry_at_ms;       /* next connect attempt after a failure */
	int logged_unready;        /* the "not ready" line was logged */
	char path[108];
	uint8_t req[sizeof(skc_req) + SKC_MAX_MESSAGE];
	uint8_t resp[SKC_MAX_RESP];
} skc_client;

/* skc_client_init sets up a client for the service at path (not connected
 * yet: the first call connects). timeout_ms bounds each round trip. */
void skc_client_init(skc_client *c, const char *path, int timeout_ms);
void skc_client_close(skc_client *c);
/* skc_client_share lets the client apply the standing grant published in sh. */
void skc_client_share(skc_client *c, skc_shared *sh);

/* The view of a reply, valid until the client's next call. */
typedef struct skc_reply {
	int32_t status;
	uint16_t flags;
	uint16_t n_splices;
	const skc_splice *splices;
	const uint8_t *text;
	uint32_t text_len;
} skc_reply;

/*
 * skc_call sends one message to the service and waits for its reply.
 * Returns 1 with *out filled, 0 when the service is not reachable (not ready:
 * pass the message unchanged), or -1 on an error: a timeout (the connection
 * stays; the late reply is skipped by its seq) or a broken connection or
 * bad frame (dropped and re-made on a later call).
 * hdr->op, kind, dir, transport, role, flags, conn_id, local, remote are the
 * caller's; magic, seq and len are set here.
 */
int skc_call(skc_client *c, const skc_req *hdr, const uint8_t *msg, uint32_t len, skc_reply *out);

/*
 * skc_standing answers, without waiting for the service, a response being
 * sent that the module's standing grant covers: a REGISTER 2xx whose only
 * keep is the client's bare ;keep on the top Via (skc_standing_site), while
 * the service publishes a grant. It hands the response to the service
 * without waiting (an SKC_OP_DEFERRED frame on the shared ring, or on the
 * socket when it does not fit a slot: the plugin sees it afterwards, at the
 * time it was sent, for the flow's record) and fills *out with the one
 * splice that sets keep=N. Returns 1 then; 0 when it does not apply or the
 * service is behind (ring and socket full: call skc_call as usual).
 */
int skc_standing(skc_client *c, const skc_req *hdr, const uint8_t *msg, uint32_t len, skc_reply *out);

/* skc_standing_site is abi.StandingGrantSite in C: the offset right after
 * the top Via's "keep" in a response the standing grant covers, else 0. */
uint32_t skc_standing_site(const char *msg, uint32_t len);

/* skc_control sends a control op (RELOAD, STATS, FLOWS, POLICY) with a text
 * argument and waits up to SKC_CONTROL_TIMEOUT_MS (a reload compiles a
 * module); same returns as skc_call (text in out->text). */
#define SKC_CONTROL_TIMEOUT_MS 60000
int skc_control(skc_client *c, uint8_t op, const char *arg, skc_reply *out);

/* skc_unready_once returns 1 the first time it is called after the client
 * found the service unreachable (log one line then), 0 otherwise. */
int skc_unready_once(skc_client *c);

/* ---- worker side: what crosses (the fast path) ---- */

typedef struct skc_fast_cfg {
	int sender;                 /* the sender role is on: outgoing requests of these methods cross */
	int n_methods;
	char methods[8][16];        /* upper case, e.g. "REGISTER" */
} skc_fast_cfg;

/* skc_fast_cfg_methods fills cfg->methods from "REGISTER|INVITE|..." (NULL
 * or "" = REGISTER, INVITE, SUBSCRIBE, REFER, UPDATE). */
void skc_fast_cfg_methods(skc_fast_cfg *cfg, const char *list);

/*
 * skc_fast_path classifies a raw SIP message and says whether it may matter
 * to the plugin. Returns the skc_kind (REQUEST/RESPONSE) when it must cross,
 * 0 when it passes without crossing:
 *   - an outgoing request of a covered method (sender role: ;keep is offered
 *     on our own Via) or that mentions "keep";
 *   - an incoming or outgoing response whose headers mention "keep";
 *   - an incoming REGISTER that may de-register (Expires 0, '*') — it ends
 *     a flow's bindings.
 * Everything else (most traffic) passes. Linear in the header bytes.
 */
int skc_fast_path(const skc_fast_cfg *cfg, int dir, const char *msg, uint32_t len);

/* skc_header_end returns the length of the header block (through the empty
 * line), or len when there is none. */
uint32_t skc_header_end(const char *msg, uint32_t len);

/* ---- applying a reply ---- */

/* skc_applied_len is the message length after the reply's splices. */
uint32_t skc_applied_len(const skc_reply *r, uint32_t len);

/* skc_apply_check returns 0 when every splice of r lies inside a message
 * of len bytes and its text inside r's text, in order; -1 otherwise. */
int skc_apply_check(const skc_reply *r, uint32_t len);

/* skc_apply writes msg with the reply's splices applied to out (cap bytes).
 * Returns the new length, or -1 when a splice is out of range or out is too
 * small (then send msg unchanged). */
int skc_apply(const skc_reply *r, const char *msg, uint32_t len, char *out, uint32_t cap);

/* ---- STUN (RFC 5389) ---- */

/* skc_stun_class returns 0 when buf is not STUN, else 1 request,
 * 2 indication, 3 success response, 4 error response. */
int skc_stun_class(const uint8_t *buf, uint32_t len);

/* skc_stun_request writes a 20-byte Binding request with txid to out. */
void skc_stun_request(const uint8_t txid[12], uint8_t out[20]);

/* skc_stun_answer writes to out (cap bytes) the Binding success response to
 * req, a Binding request received from src, and returns its length; 0 when
 * req is not a Binding request or out is too small (64 bytes always do).
 * It answers as internal/stunresp, the Go adapters' responder, does:
 * RFC 5389 requests (with the magic cookie) get XOR-MAPPED-ADDRESS,
 * SOFTWARE "sipkeep" and FINGERPRINT when the request carried one; RFC 3489
 * requests (no cookie: a 16-byte transaction id) get MAPPED-ADDRESS. */
int skc_stun_answer(const uint8_t *req, uint32_t len, const skc_addr *src, uint8_t *out, uint32_t cap);

/* ---- service side (the one process that loads libsipkeep.so) ---- */

/* An action from the plugin, as the service hands it to the C thread.
 * SKC_ACT_RECEIVE_STARTED is not handed over: the service keeps it (the
 * flow table, the counters) and the C thread has nothing to do for it. */
enum skc_act {
	SKC_ACT_SEND_STUN = 1, SKC_ACT_SEND_PING = 2, SKC_ACT_FLOW_FAILED = 3, SKC_ACT_FLOW_DEAD = 4,
	SKC_ACT_KEEPALIVE_STARTED = 5, SKC_ACT_KEEPALIVE_STOPPED = 6, SKC_ACT_KEEPALIVE_ANSWERED = 7,
	SKC_ACT_RECEIVE_STARTED = 8
};

typedef struct skc_action {
	uint8_t kind;       /* skc_act */
	uint8_t transport;
	uint16_t reason;    /* abi.Reason */
	uint16_t attempt;
	uint16_t reserved0;
	uint32_t value;     /* SEND_STUN: RTO ms; SEND_PING: pong deadline ms; *_STARTED: interval s */
	int32_t conn_id;    /* the last conn_id seen on the flow (streams) */
	uint8_t txid[12];
	skc_addr local;
	skc_addr remote;
	uint8_t reserved[12];
} skc_action; /* 80 bytes */

/* What the server does for the service thread. Every callback runs on the
 * thread that calls skc_service_step. */
typedef struct skc_executor {
	void *ctx;
	/* send pkt (a STUN Binding request) from the flow's local socket to its
	 * remote; 0 ok, -1 failed */
	int (*send_stun)(void *ctx, const skc_action *a, const uint8_t *pkt, int len);
	/* write CRLFCRLF on the flow's stream; 0 ok, -1 failed. *mark is a value
	 * the server can compare later to see whether the peer wrote since. */
	int (*send_ping)(void *ctx, const skc_action *a, uint64_t *mark);
	/* 1 when the peer wrote on the stream since the ping that gave mark
	 * (its CRLF pong: the server's reader swallows it), 0 not yet, -1 the
	 * connection is gone */
	int (*pong_seen)(void *ctx, const skc_action *ping, uint64_t mark);
	/* every action, after the above ran (count it, log it; FLOW_FAILED:
	 * close the connection, run the server's event route) */
	void (*on_action)(void *ctx, const skc_action *a);
	/* a log line of the Go host (level SKC_LOG_*), for the server's logger */
	void (*log)(void *ctx, int level, const char *line);
} skc_executor;

enum skc_log_level { SKC_LOG_DEBUG = 0, SKC_LOG_INFO = 1, SKC_LOG_WARN = 2, SKC_LOG_ERROR = 3 };

typedef struct skc_service skc_service;

/*
 * skc_service_open loads libsipkeep.so from lib (dlopen: only ever in the
 * service process, after the fork), loads the plugin module with policy and
 * host options (sipkeep.h's sipkeep_open syntax), and listens on sock (a
 * filesystem path; an existing socket file is replaced). locals is the
 * server's listening addresses ("ip:port ip:port ...": a Record-Route naming
 * one of them means this server record-routes, R12).
 * Returns the service, or NULL with the reason in err.
 */
skc_service *skc_service_open(const char *lib, const char *module, const char *policy,
		const char *options, const char *sock, const char *locals, char *err, int err_cap);

/* skc_service_step waits up to timeout_ms for actions and carries them out
 * through ex (and checks pending pings for pongs). Returns the number of
 * actions run, or -1 when the service has stopped. */
int skc_service_step(skc_service *s, const skc_executor *ex, int timeout_ms);

/* skc_service_control runs a control op in the service process itself
 * (same reply text as skc_control); returns the status. */
int skc_service_control(skc_service *s, uint8_t op, const char *arg, char *out, int cap);

/* skc_service_share has the service publish its standing grant in sh
 * (kept up to date each step; withdrawn when the service closes). */
int skc_service_share(skc_service *s, skc_shared *sh);

void skc_service_close(skc_service *s);

/* ---- helpers ---- */
int64_t skc_now_ms(void);
/* skc_addr_str writes "ip:port" ("[v6]:port") to out; returns out. */
char *skc_addr_str(const skc_addr *a, char *out, int cap);

#ifdef __cplusplus
}
#endif

#endif /* SIPKEEPC_H */
