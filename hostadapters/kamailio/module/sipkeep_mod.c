/*
 * sipkeep module for Kamailio: RFC 6223 keep-alive negotiation on raw
 * messages, with no routing-script lines.
 *
 * Workers hook every message received (SREV_NET_DATA_IN, and UDP datagrams
 * through SREV_NET_DGRAM_IN for STUN responses) and sent (SREV_NET_DATA_OUT,
 * local replies included). The C fast path (sipkeepc) lets most messages pass
 * without leaving the process; the rest cross to one plugin service process
 * this module forks, which runs the Go host (libsipkeep.so, loaded only
 * there, after the fork) and carries out the plugin's actions from its own C
 * thread: STUN from the flow's own UDP socket, CRLF pings through tcp_main,
 * failed connections closed, event_route[sipkeep:flow-failed].
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include "../../core/sr_module.h"
#include "../../core/dprint.h"
#include "../../core/events.h"
#include "../../core/forward.h"
#include "../../core/ip_addr.h"
#include "../../core/socket_info.h"
#include "../../core/mem/mem.h"
#include "../../core/pt.h"
#include "../../core/cfg/cfg_struct.h"
#include "../../core/rpc.h"
#include "../../core/rpc_lookup.h"
#include "../../core/counters.h"
#include "../../core/tcp_conn.h"
#include "../../core/pass_fd.h"
#include "../../core/globals.h"
#include "../../core/route.h"
#include "../../core/fmsg.h"
#include "../../core/pvar.h"
#include "../../core/timer.h"
#include "../../core/ut.h"

#include "sipkeepc.h"
#include "sipkeepc_ser.h"

MODULE_VERSION

/* ---- parameters ---- */
static char *p_library = NULL;
static char *p_module = NULL;
static char *p_policy = "";
static int p_keep = 0;
static int p_flow_timer = 0;
static char *p_cache_dir = "";
static char *p_roles = "receiver,sender";
static char *p_socket = NULL;
static char *p_options = "";
static int p_ipc_timeout = 250;
static char *p_sender_methods = "";

/* ---- per process ---- */
static skc_client *client = NULL;
static skc_shared *shared = NULL; /* mapped in mod_init, before the fork */
static skc_fast_cfg fast;
static int role_receiver = 1, role_sender = 1;
static char sock_path[108];
static char full_policy[1024];
static char full_options[1024];
static int flow_failed_rt = -1;

/* ---- statistics ---- */
static stat_var *st_ipc_calls, *st_ipc_unready, *st_ipc_errors, *st_edited, *st_failed_open,
		*st_stun_in, *st_stun_sent, *st_pings_sent, *st_pongs, *st_answered, *st_flow_failed,
		*st_flow_dead, *st_started, *st_too_large, *st_standing;

static stat_export_t mod_stats[] = {
	{"ipc_calls", 0, &st_ipc_calls},
	{"ipc_unready", 0, &st_ipc_unready},
	{"ipc_errors", 0, &st_ipc_errors},
	{"standing_grants", 0, &st_standing},
	{"edited", 0, &st_edited},
	{"failed_open", 0, &st_failed_open},
	{"too_large", 0, &st_too_large},
	{"stun_responses_in", 0, &st_stun_in},
	{"stun_sent", 0, &st_stun_sent},
	{"pings_sent", 0, &st_pings_sent},
	{"pongs", 0, &st_pongs},
	{"keepalive_answered", 0, &st_answered},
	{"keepalive_started", 0, &st_started},
	{"flow_failed", 0, &st_flow_failed},
	{"flow_dead", 0, &st_flow_dead},
	{0, 0, 0}
};

static int mod_init(void);
static int child_init(int rank);
static void mod_destroy(void);
static int pv_get_sipkeep(sip_msg_t *msg, pv_param_t *param, pv_value_t *res);
static int pv_parse_sipkeep_name(pv_spec_t *sp, str *in);

static param_export_t params[] = {
	{"library", PARAM_STRING, &p_library},
	{"module", PARAM_STRING, &p_module},
	{"policy", PARAM_STRING, &p_policy},
	{"keep", INT_PARAM, &p_keep},
	{"flow_timer", INT_PARAM, &p_flow_timer},
	{"cache_dir", PARAM_STRING, &p_cache_dir},
	{"roles", PARAM_STRING, &p_roles},
	{"sender_methods", PARAM_STRING, &p_sender_methods},
	{"socket", PARAM_STRING, &p_socket},
	{"options", PARAM_STRING, &p_options},
	{"ipc_timeout", INT_PARAM, &p_ipc_timeout},
	{0, 0, 0}
};

static pv_export_t mod_pvs[] = {
	{{"sipkeep", (sizeof("sipkeep") - 1)}, PVT_OTHER, pv_get_sipkeep, 0,
		pv_parse_sipkeep_name, 0, 0, 0},
	{{0, 0}, 0, 0, 0, 0, 0, 0, 0}
};

static void rpc_reload(rpc_t *rpc, void *ctx);
static void rpc_stats(rpc_t *rpc, void *ctx);
static void rpc_flows(rpc_t *rpc, void *ctx);

static const char *rpc_reload_doc[2] = {"Hot-swap the plugin for the whole server: [module path]; a broken module is refused", 0};
static const char *rpc_stats_doc[2] = {"sipkeep service and module counters", 0};
static const char *rpc_flows_doc[2] = {"Flows with keep-alives: interval, next deadline, last answer", 0};

static rpc_export_t rpc_cmds[] = {
	{"sipkeep.reload", rpc_reload, rpc_reload_doc, 0},
	{"sipkeep.stats", rpc_stats, rpc_stats_doc, 0},
	{"sipkeep.flows", rpc_flows, rpc_flows_doc, RET_ARRAY},
	{0, 0, 0, 0}
};

struct module_exports exports = {
	"sipkeep",       /* module name */
	DEFAULT_DLFLAGS, /* dlopen flags */
	0,               /* exported functions */
	params,          /* exported parameters */
	0,               /* RPC method exports (registered in mod_init) */
	mod_pvs,         /* exported pseudo-variables */
	0,               /* response handling function */
	mod_init,        /* module initialization function */
	child_init,      /* per-child init function */
	mod_destroy      /* destroy function */
};

/* ---- helpers ---- */

static int has_word(const char *list, const char *w)
{
	const char *p = list;
	size_t n = strlen(w);
	while ((p = strstr(p, w)) != NULL) {
		if ((p == list || p[-1] == ',' || p[-1] == ' ' || p[-1] == '|')
				&& (p[n] == 0 || p[n] == ',' || p[n] == ' ' || p[n] == '|'))
			return 1;
		p += n;
	}
	return 0;
}

static skc_client *get_client(void)
{
	if (client == NULL) {
		client = malloc(sizeof(*client)); /* 128 KiB of buffers: system heap, not pkg */
		if (client == NULL)
			return NULL;
		skc_client_init(client, sock_path, p_ipc_timeout);
		skc_client_share(client, shared);
	}
	return client;
}

/* cross sends one message to the service; returns 1 with *r filled. */
static int cross(skc_req *hdr, const char *msg, unsigned int len, skc_reply *r)
{
	skc_client *c = get_client();
	int rc;
	if (c == NULL)
		return 0;
	if (len > SKC_MAX_MESSAGE) {
		update_stat(st_too_large, 1);
		return 0;
	}
	rc = skc_call(c, hdr, (const uint8_t *)msg, len, r);
	if (rc == 0) {
		update_stat(st_ipc_unready, 1);
		if (skc_unready_once(c))
			LM_NOTICE("sipkeep: plugin service not ready yet: messages pass unchanged until it is\n");
		return 0;
	}
	if (rc < 0) {
		update_stat(st_ipc_errors, 1);
		LM_WARN("sipkeep: plugin service did not answer within %d ms: message passes unchanged\n",
				p_ipc_timeout);
		return 0;
	}
	update_stat(st_ipc_calls, 1);
	if (r->flags & SKC_R_FAILED_OPEN)
		update_stat(st_failed_open, 1);
	return 1;
}

/* standing answers a REGISTER 2xx the module's standing grant covers
 * without waiting for the service (sipkeepc.h, skc_standing): the service
 * sees it afterwards for the flow's record. Returns 1 with *r filled. */
static int standing(skc_req *hdr, const char *msg, unsigned int len, skc_reply *r)
{
	skc_client *c = get_client();
	if (c == NULL || skc_standing(c, hdr, (const uint8_t *)msg, len, r) != 1)
		return 0;
	update_stat(st_standing, 1);
	return 1;
}

/* ---- hooks ---- */

/* Every message received, before parsing. The plugin edits nothing on the
 * way in: it learns (a response granting keep=N starts keep-alives). */
static int sipkeep_data_in(sr_event_param_t *evp)
{
	str *b = (str *)evp->data;
	receive_info_t *rcv = evp->rcv;
	skc_req h;
	skc_reply r;
	int kind;

	if (b == NULL || b->s == NULL || rcv == NULL || rcv->bind_address == NULL)
		return 0;
	kind = skc_fast_path(&fast, SKC_DIR_IN, b->s, (uint32_t)b->len);
	if (kind == 0)
		return 0;
	memset(&h, 0, sizeof(h));
	h.kind = (uint8_t)kind;
	h.dir = SKC_DIR_IN;
	h.transport = (uint8_t)skc_transport_of_proto(rcv->proto);
	h.role = SKC_ROLE_PROXY;
	h.conn_id = (rcv->proto == PROTO_UDP) ? 0 : rcv->proto_reserved1;
	skc_addr_from_ip(&h.local, &rcv->bind_address->address, rcv->bind_address->port_no);
	skc_addr_from_ip(&h.remote, &rcv->src_ip, rcv->src_port);
	cross(&h, b->s, (unsigned int)b->len, &r);
	return 0;
}

/* Every UDP datagram, before anything else: STUN responses to our own
 * keep-alives go to the plugin and no further (Kamailio would drop them as
 * probing packets, or hand them to the stun module as requests). */
static int sipkeep_dgram_in(sr_event_param_t *evp)
{
	void **d = (void **)evp->data;
	char *buf = (char *)d[0];
	int len = *(int *)d[1];
	receive_info_t *rcv = (receive_info_t *)d[2];
	skc_req h;
	skc_reply r;
	int cls;

	if (len < 20 || ((unsigned char)buf[0] & 0xc0) != 0)
		return 0;
	cls = skc_stun_class((const uint8_t *)buf, (uint32_t)len);
	if (cls != 3 && cls != 4)
		return 0; /* not STUN, or a request: the stun module answers requests */
	update_stat(st_stun_in, 1);
	memset(&h, 0, sizeof(h));
	h.kind = SKC_KIND_STUN;
	h.dir = SKC_DIR_IN;
	h.transport = SKC_UDP;
	h.role = SKC_ROLE_PROXY;
	skc_addr_from_ip(&h.local, &rcv->bind_address->address, rcv->bind_address->port_no);
	skc_addr_from_ip(&h.remote, &rcv->src_ip, rcv->src_port);
	cross(&h, buf, (unsigned int)len, &r);
	return -1; /* consumed */
}

/* Every message sent through msg_send: outgoing responses get keep=N on the
 * right Via and lower values stripped (R10/R11/R17), outgoing requests get
 * ;keep on Kamailio's own Via (R4). b->s is a pkg copy Kamailio frees. */
static int sipkeep_data_out(sr_event_param_t *evp)
{
	str *b = (str *)evp->data;
	struct dest_info *dst = evp->dst;
	struct socket_info *si;
	struct ip_addr ip;
	skc_req h;
	skc_reply r;
	char *nb;
	uint32_t nlen;
	int kind, n;

	if (b == NULL || b->s == NULL || dst == NULL)
		return 0;
	kind = skc_fast_path(&fast, SKC_DIR_OUT, b->s, (uint32_t)b->len);
	if (kind == 0)
		return 0;
	si = dst->send_sock;
	if (si == NULL)
		si = get_send_socket(0, &dst->to, dst->proto);
	if (si == NULL)
		return 0;
	memset(&h, 0, sizeof(h));
	h.kind = (uint8_t)kind;
	h.dir = SKC_DIR_OUT;
	h.transport = (uint8_t)skc_transport_of_proto(dst->proto);
	h.role = SKC_ROLE_PROXY;
	h.conn_id = dst->id;
	skc_addr_from_ip(&h.local, &si->address, si->port_no);
	su2ip_addr(&ip, &dst->to);
	skc_addr_from_ip(&h.remote, &ip, su_getport(&dst->to));
	if (!(kind == SKC_KIND_RESPONSE && standing(&h, b->s, (unsigned int)b->len, &r))
			&& (!cross(&h, b->s, (unsigned int)b->len, &r) || !(r.flags & SKC_R_CHANGED)))
		return 0;
	nlen = skc_applied_len(&r, (uint32_t)b->len);
	if (nlen > BUF_SIZE)
		return 0;
	if (r.n_splices == 1 && skc_apply_check(&r, (uint32_t)b->len) == 0) {
		/* One splice (the usual keep=N): grow Kamailio's own copy in place.
		 * pkg_realloc usually extends into the free space after it, where a
		 * fresh pkg_malloc walks q_malloc's free lists. */
		const skc_splice *sp = &r.splices[0];
		nb = (char *)pkg_realloc(b->s, nlen + 1);
		if (nb == NULL) {
			PKG_MEM_ERROR;
			return 0;
		}
		memmove(nb + sp->off + sp->text_len, nb + sp->off + sp->del, (size_t)b->len - sp->off - sp->del);
		memcpy(nb + sp->off, r.text + sp->text_off, sp->text_len);
		nb[nlen] = 0;
		b->s = nb;
		b->len = (int)nlen;
		update_stat(st_edited, 1);
		return 0;
	}
	nb = (char *)pkg_malloc(nlen + 1);
	if (nb == NULL) {
		PKG_MEM_ERROR;
		return 0;
	}
	n = skc_apply(&r, b->s, (uint32_t)b->len, nb, nlen);
	if (n < 0) {
		pkg_free(nb);
		LM_WARN("sipkeep: service sent edits that do not fit the message: sent unchanged\n");
		return 0;
	}
	nb[n] = 0;
	pkg_free(b->s);
	b->s = nb;
	b->len = n;
	update_stat(st_edited, 1);
	return 0;
}

/* ---- the service process ---- */

static skc_service *svc = NULL;

/* The flow of the last action, for $sipkeep(...) in the event route. */
static char ev_transport[8], ev_local[64], ev_remote[64], ev_event[24];
static int ev_reason = 0;

static const char *transport_name(int t)
{
	switch (t) {
	case SKC_UDP: return "udp";
	case SKC_TCP: return "tcp";
	case SKC_TLS: return "tls";
	case SKC_SCTP: return "sctp";
	case SKC_WS: return "ws";
	case SKC_WSS: return "wss";
	}
	return "none";
}

static void init_dst(struct dest_info *dst, const skc_action *a)
{
	struct ip_addr ip;
	init_dest_info(dst);
	dst->proto = skc_proto_of_transport(a->transport);
	skc_ip_from_addr(&ip, &a->remote);
	init_su(&dst->to, &ip, a->remote.port);
	skc_ip_from_addr(&ip, &a->local);
	dst->send_sock = find_si(&ip, a->local.port, dst->proto);
}

static int ex_send_stun(void *ctx, const skc_action *a, const uint8_t *pkt, int len)
{
	struct dest_info dst;
	char rs[64];
	init_dst(&dst, a);
	if (dst.send_sock == NULL) {
		LM_WARN("sipkeep: no local UDP socket for flow to %s: STUN keep-alive not sent\n",
				skc_addr_str(&a->remote, rs, sizeof(rs)));
		return -1;
	}
	if (msg_send_buffer(&dst, (char *)pkt, len, 1) < 0) {
		LM_WARN("sipkeep: STUN keep-alive to %s not sent\n", skc_addr_str(&a->remote, rs, sizeof(rs)));
		return -1;
	}
	update_stat(st_stun_sent, 1);
	return 0;
}

/* con_mark is what changes only when a reader reads from the connection:
 * the read position in its buffer (the reader swallows a CRLF pong without
 * an event). Not its timeout: sends renew that too. */
static int con_mark(const skc_action *a, uint64_t *mark)
{
	struct tcp_connection *con;
	struct ip_addr ip;
	skc_ip_from_addr(&ip, &a->remote);
	con = tcpconn_get(a->conn_id, &ip, a->remote.port, NULL, 0);
	if (con == NULL)
		return -1;
	if (con->state < 0) {
		tcpconn_put(con);
		return -1;
	}
	*mark = (uint64_t)(uintptr_t)con->req.pos;
	tcpconn_put(con);
	return 0;
}

static int ex_send_ping(void *ctx, const skc_action *a, uint64_t *mark)
{
	struct dest_info dst;
	char rs[64];
	/* Mark before sending: a peer on the same host can answer, and the
	 * reader take its pong, before this thread runs again, and a mark taken
	 * after that would never see the pong (seen under load: the flow failed
	 * with pong-timeout while the peer answered every ping). */
	if (con_mark(a, mark) < 0)
		return -1;
	init_dst(&dst, a);
	dst.id = a->conn_id;
	dst.send_flags.f |= SND_F_FORCE_CON_REUSE; /* never open a connection to ping */
	if (msg_send_buffer(&dst, "\r\n\r\n", 4, 1) < 0) {
		LM_WARN("sipkeep: CRLF ping to %s not sent\n", skc_addr_str(&a->remote, rs, sizeof(rs)));
		return -1;
	}
	update_stat(st_pings_sent, 1);
	return 0;
}

static int ex_pong_seen(void *ctx, const skc_action *ping, uint64_t mark)
{
	uint64_t now;
	if (con_mark(ping, &now) < 0)
		return -1;
	if (now == mark)
		return 0;
	update_stat(st_pongs, 1);
	return 1;
}

static void close_con(const skc_action *a)
{
	struct tcp_connection *con;
	struct ip_addr ip;
	long mcmd[2];
	skc_ip_from_addr(&ip, &a->remote);
	con = tcpconn_get(a->conn_id, &ip, a->remote.port, NULL, 0);
	if (con == NULL)
		return;
	mcmd[0] = (long)con;
	mcmd[1] = CONN_EOF;
	con->send_flags.f |= SND_F_CON_CLOSE;
	con->flags |= F_CONN_FORCE_EOF;
	/* tcp_main drops the reference tcpconn_get took */
	if (send_all(unix_tcp_sock, mcmd, sizeof(mcmd)) <= 0) {
		LM_ERR("sipkeep: failed to ask tcp_main to close connection %d: %s\n", con->id, strerror(errno));
		tcpconn_put(con);
	}
}

static void run_flow_failed_route(const skc_action *a)
{
	sip_msg_t *fmsg;
	int backup;
	if (flow_failed_rt < 0 || event_rt.rlist[flow_failed_rt] == NULL)
		return;
	if (faked_msg_init() < 0)
		return;
	fmsg = faked_msg_next();
	backup = get_route_type();
	set_route_type(EVENT_ROUTE);
	run_top_route(event_rt.rlist[flow_failed_rt], fmsg, 0);
	set_route_type(backup);
}

static void ex_on_action(void *ctx, const skc_action *a)
{
	snprintf(ev_transport, sizeof(ev_transport), "%s", transport_name(a->transport));
	skc_addr_str(&a->local, ev_local, sizeof(ev_local));
	skc_addr_str(&a->remote, ev_remote, sizeof(ev_remote));
	ev_reason = a->reason;
	switch (a->kind) {
	case SKC_ACT_FLOW_FAILED:
		update_stat(st_flow_failed, 1);
		snprintf(ev_event, sizeof(ev_event), "flow-failed");
		LM_WARN("sipkeep: flow failed: %s %s -> %s (reason %d)\n", ev_transport, ev_local, ev_remote,
				a->reason);
		if (a->transport != SKC_UDP)
			close_con(a);
		run_flow_failed_route(a);
		break;
	case SKC_ACT_FLOW_DEAD:
		update_stat(st_flow_dead, 1);
		LM_INFO("sipkeep: no keep-alives on %s %s <- %s (reason %d)\n", ev_transport, ev_local, ev_remote,
				a->reason);
		break;
	case SKC_ACT_KEEPALIVE_ANSWERED:
		update_stat(st_answered, 1);
		break;
	case SKC_ACT_KEEPALIVE_STARTED:
		update_stat(st_started, 1);
		LM_INFO("sipkeep: keep-alives every %us on %s %s -> %s\n", a->value, ev_transport, ev_local,
				ev_remote);
		break;
	}
}

static void ex_log(void *ctx, int level, const char *line)
{
	switch (level) {
	case SKC_LOG_ERROR: LM_ERR("%s\n", line); break;
	case SKC_LOG_WARN: LM_WARN("%s\n", line); break;
	case SKC_LOG_INFO: LM_INFO("%s\n", line); break;
	default: LM_DBG("%s\n", line); break;
	}
}

static skc_executor executor = {
	NULL, ex_send_stun, ex_send_ping, ex_pong_seen, ex_on_action, ex_log
};

/* locals lists the listening sockets ("ip:port ..."): a Record-Route naming
 * one of them means this Kamailio record-routes (R12). */
static void list_locals(char *out, int cap)
{
	unsigned short protos[] = {PROTO_UDP, PROTO_TCP, PROTO_TLS, PROTO_SCTP};
	struct socket_info **list, *si;
	int i, n = 0;
	out[0] = 0;
	for (i = 0; i < 4; i++) {
		list = get_sock_info_list(protos[i]);
		for (si = list ? *list : NULL; si; si = si->next) {
			skc_addr a;
			char s[64];
			skc_addr_from_ip(&a, &si->address, si->port_no);
			skc_addr_str(&a, s, sizeof(s));
			if (n + (int)strlen(s) + 2 < cap)
				n += snprintf(out + n, cap - n, "%s ", s);
		}
	}
}

static void service_main(void)
{
	char err[512], locals[2048];
	int64_t retry_at = 0;

	list_locals(locals, sizeof(locals));
	for (;;) {
		cfg_update();
		if (svc == NULL) {
			if (skc_now_ms() < retry_at) {
				sleep_us(100000);
				continue;
			}
			err[0] = 0;
			svc = skc_service_open(p_library, p_module, full_policy, full_options, sock_path, locals,
					err, sizeof(err));
			if (svc == NULL) {
				LM_ERR("sipkeep: plugin service not started (messages pass unchanged; retrying in 10 s): %s\n",
						err);
				retry_at = skc_now_ms() + 10000;
				continue;
			}
			if (shared != NULL && skc_service_share(svc, shared) != 0)
				LM_WARN("sipkeep: the standing grant is not shared: every REGISTER 2xx waits for the service\n");
			LM_NOTICE("sipkeep: plugin service ready on %s (module %s)\n", sock_path, p_module);
		}
		if (skc_service_step(svc, &executor, 100) < 0) {
			LM_ERR("sipkeep: plugin service stopped\n");
			svc = NULL;
			retry_at = skc_now_ms() + 1000;
		}
	}
}

/* ---- module life ---- */

static int mod_init(void)
{
	int keep = p_keep > 0 ? p_keep : p_flow_timer;
	int n;

	if (p_library == NULL || *p_library == 0 || p_module == NULL || *p_module == 0) {
		LM_ERR("sipkeep: modparam library (libsipkeep.so) and module (sipkeep.wasm) are required\n");
		return -1;
	}
	role_receiver = has_word(p_roles, "receiver");
	role_sender = has_word(p_roles, "sender");
	n = snprintf(full_policy, sizeof(full_policy), "%s", p_policy ? p_policy : "");
	if (keep > 0)
		n += snprintf(full_policy + n, sizeof(full_policy) - n, "; receiver_keep_seconds=%d", keep);
	if (!role_receiver)
		n += snprintf(full_policy + n, sizeof(full_policy) - n, "; receiver_disabled");
	if (!role_sender)
		n += snprintf(full_policy + n, sizeof(full_policy) - n, "; sender_disabled");
	if (p_sender_methods && *p_sender_methods)
		n += snprintf(full_policy + n, sizeof(full_policy) - n, "; sender_methods=%s", p_sender_methods);
	if (n >= (int)sizeof(full_policy)) {
		LM_ERR("sipkeep: policy too long\n");
		return -1;
	}
	n = snprintf(full_options, sizeof(full_options), "%s", p_options ? p_options : "");
	if (p_cache_dir && *p_cache_dir)
		snprintf(full_options + n, sizeof(full_options) - n, "%scache_dir=%s", n ? ";" : "", p_cache_dir);
	fast.sender = role_sender;
	skc_fast_cfg_methods(&fast, p_sender_methods);
	shared = skc_shared_create();
	if (shared == NULL)
		LM_WARN("sipkeep: no shared memory for the standing grant: every REGISTER 2xx waits for the service\n");

	if (register_module_stats(exports.name, mod_stats) != 0) {
		LM_ERR("sipkeep: failed to register statistics\n");
		return -1;
	}
	if (rpc_register_array(rpc_cmds) != 0) {
		LM_ERR("sipkeep: failed to register RPC commands\n");
		return -1;
	}
	flow_failed_rt = route_lookup(&event_rt, "sipkeep:flow-failed");
	if (flow_failed_rt >= 0 && event_rt.rlist[flow_failed_rt] == NULL)
		flow_failed_rt = -1;
	if (sr_event_register_cb(SREV_NET_DATA_IN, sipkeep_data_in) < 0
			|| sr_event_register_cb(SREV_NET_DATA_OUT, sipkeep_data_out) < 0) {
		LM_ERR("sipkeep: failed to register the network hooks\n");
		return -1;
	}
	if (sr_event_register_cb(SREV_NET_DGRAM_IN, sipkeep_dgram_in) < 0)
		LM_WARN("sipkeep: another module owns SREV_NET_DGRAM_IN: STUN responses to our keep-alives"
				" will not reach the plugin\n");
	register_procs(1);
	cfg_register_child(1);
	return 0;
}

/* leave_free_fragment gives this process's q_malloc (Kamailio's default pkg
 * allocator) a free 8 KiB fragment held between two small used ones, so it
 * cannot merge away. q_malloc serves a request from the first non-empty
 * free list at or above its size, scanning ~2,100 lists: with no free
 * fragment below the big free remainder, each of the ~25 allocations a
 * REGISTER makes walks them all. Loading this module (even with its hooks
 * and service process disabled) moved the layout into that case: the TCP
 * reader went from ~115 to ~180 us of CPU per REGISTER, all in qm_malloc's
 * scan; with this fragment it is back at ~100. With -X tlsf, which does
 * not scan, there was no such effect. The cost is 8 KiB per process. */
static void leave_free_fragment(void)
{
	void *before = pkg_malloc(16);
	void *frag = pkg_malloc(8192);
	void *after = pkg_malloc(16);
	if (frag != NULL)
		pkg_free(frag);
	(void)before; /* both stay allocated: the fragment's fences */
	(void)after;
}

static int child_init(int rank)
{
	int pid;
	leave_free_fragment();
	if (rank == PROC_INIT) {
		/* In the main process, after daemonizing: one socket per Kamailio. */
		if (p_socket && *p_socket)
			snprintf(sock_path, sizeof(sock_path), "%s", p_socket);
		else
		{
			int n = (int)strlen(runtime_dir);
			while (n > 1 && runtime_dir[n - 1] == '/')
				n--;
			snprintf(sock_path, sizeof(sock_path), "%.*s/sipkeep-%d.sock", n, runtime_dir, (int)getpid());
		}
		return 0;
	}
	if (rank != PROC_MAIN)
		return 0;
	pid = fork_process(PROC_NOCHLDINIT, "sipkeep plugin service", 1);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (cfg_child_init())
			return -1;
		service_main(); /* never returns */
		exit(0);
	}
	return 0;
}

static void mod_destroy(void)
{
	if (svc != NULL) {
		skc_service_close(svc);
		svc = NULL;
	}
}

/* ---- RPC: through the same socket, from whichever process runs it ---- */

static int control(rpc_t *rpc, void *ctx, uint8_t op, const char *arg, skc_reply *r)
{
	skc_client *c = get_client();
	int rc;
	if (c == NULL) {
		rpc->fault(ctx, 500, "out of memory");
		return -1;
	}
	rc = skc_control(c, op, arg, r);
	if (rc <= 0) {
		rpc->fault(ctx, 503, "sipkeep plugin service not reachable");
		return -1;
	}
	if (r->status != SKC_OK) {
		rpc->fault(ctx, 500, "%.*s", (int)r->text_len, (const char *)r->text);
		return -1;
	}
	return 0;
}

static void rpc_lines(rpc_t *rpc, void *ctx, const skc_reply *r)
{
	const char *p = (const char *)r->text, *end = p + r->text_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		int n = nl ? (int)(nl - p) : (int)(end - p);
		if (n > 0)
			rpc->rpl_printf(ctx, "%.*s", n, p);
		p += n + 1;
	}
}

static void rpc_reload(rpc_t *rpc, void *ctx)
{
	char *path = NULL;
	skc_reply r;
	char arg[1024];
	if (rpc->scan(ctx, "*s", &path) < 1)
		path = NULL;
	snprintf(arg, sizeof(arg), "%s", path ? path : "");
	if (control(rpc, ctx, SKC_OP_RELOAD, arg, &r) < 0)
		return;
	rpc_lines(rpc, ctx, &r);
}

static void rpc_stats(rpc_t *rpc, void *ctx)
{
	skc_reply r;
	if (control(rpc, ctx, SKC_OP_STATS, "", &r) < 0)
		return;
	rpc_lines(rpc, ctx, &r);
}

static void rpc_flows(rpc_t *rpc, void *ctx)
{
	skc_reply r;
	if (control(rpc, ctx, SKC_OP_FLOWS, "", &r) < 0)
		return;
	rpc_lines(rpc, ctx, &r);
}

/* ---- $sipkeep(transport|local|remote|reason|event) ---- */

static int pv_parse_sipkeep_name(pv_spec_t *sp, str *in)
{
	static const char *names[] = {"transport", "local", "remote", "reason", "event"};
	int i;
	if (sp == NULL || in == NULL || in->len <= 0)
		return -1;
	for (i = 0; i < 5; i++) {
		if ((int)strlen(names[i]) == in->len && strncmp(names[i], in->s, in->len) == 0) {
			sp->pvp.pvn.type = PV_NAME_INTSTR;
			sp->pvp.pvn.u.isname.type = 0;
			sp->pvp.pvn.u.isname.name.n = i;
			return 0;
		}
	}
	LM_ERR("sipkeep: unknown $sipkeep(%.*s): want transport, local, remote, reason or event\n", in->len, in->s);
	return -1;
}

static int pv_get_sipkeep(sip_msg_t *msg, pv_param_t *param, pv_value_t *res)
{
	switch (param->pvn.u.isname.name.n) {
	case 0: return pv_get_strzval(msg, param, res, ev_transport);
	case 1: return pv_get_strzval(msg, param, res, ev_local);
	case 2: return pv_get_strzval(msg, param, res, ev_remote);
	case 3: return pv_get_sintval(msg, param, res, ev_reason);
	case 4: return pv_get_strzval(msg, param, res, ev_event);
	}
	return pv_get_null(msg, param, res);
}
