/*
 * sipkeep for OpenSIPS: the plugin service process.
 *
 * One extra OpenSIPS process (the module's proc_export) loads
 * libsipkeep.so — the Go host and the wasm plugin — after the fork, keeps
 * every flow's record, and serves the workers over a Unix socket
 * (hostadapters/sipkeepc). Its own C thread carries out the plugin's
 * actions with OpenSIPS's sockets: STUN from the SIP UDP port, CRLF pings on
 * the flow's TCP connection, the E_SIPKEEP_FLOW_FAILED event.
 */
#include <string.h>
#include <unistd.h>

#include "sr_module.h"
#include "dprint.h"
#include "globals.h"
#include "pt.h"
#include "evi/evi_modules.h"
#include "evi/evi_params.h"
#include "net/trans.h"

#include "sipkeep_osips.h"

event_id_t sk_evi_flow_failed = EVI_ERROR;

/* sk_socket_for finds the listening socket a flow uses (its local side), or
 * any socket of the protocol for streams (the connection id picks the
 * connection). */
static const struct socket_info *sk_socket_for(int proto, const skc_addr *local)
{
	struct ip_addr ip;
	const struct socket_info *si;

	if (proto == PROTO_NONE || protos[proto].id == PROTO_NONE)
		return NULL;
	skc_ip_from_addr(&ip, local);
	si = find_si(&ip, local->port, proto);
	if (si == NULL && protos[proto].listeners)
		si = &protos[proto].listeners->socket_info;
	return si;
}

static int sk_send_stun(void *ctx, const skc_action *a, const uint8_t *pkt, int len)
{
	const struct socket_info *si = sk_socket_for(PROTO_UDP, &a->local);
	union sockaddr_union to;
	struct ip_addr rip;

	if (si == NULL || sk_orig_send[PROTO_UDP] == NULL) {
		LM_ERR("no UDP socket for a STUN keep-alive\n");
		return -1;
	}
	skc_ip_from_addr(&rip, &a->remote);
	init_su(&to, &rip, a->remote.port);
	/* straight to the transport: a keep-alive is not SIP */
	if (sk_orig_send[PROTO_UDP](si, (char *)pkt, (unsigned int)len, &to, 0 SK_MSG_NONE) < 0)
		return -1;
	update_stat(sk_st_stun_sent, 1);
	return 0;
}

static int sk_send_ping(void *ctx, const skc_action *a, uint64_t *mark)
{
	int proto = skc_proto_of_transport(a->transport);
	const struct socket_info *si = sk_socket_for(proto, &a->local);
	union sockaddr_union to;
	struct ip_addr rip;
	int prev, rc;

	if (si == NULL || sk_orig_send[proto] == NULL) {
		LM_ERR("no %s socket for a CRLF keep-alive\n", proto2a(proto));
		return -1;
	}
	skc_ip_from_addr(&rip, &a->remote);
	init_su(&to, &rip, a->remote.port);
	/* Only on the flow's own connection: with none, the transport would
	 * open a new one and keep that alive instead, and the flow would never
	 * be seen to fail (nathelper pings the same way). */
	prev = tcp_no_new_conn;
	tcp_no_new_conn = 1;
	rc = sk_orig_send[proto](si, "\r\n\r\n", 4, &to, (unsigned int)a->conn_id SK_MSG_NONE);
	tcp_no_new_conn = prev;
	if (rc < 0)
		return -1;
	update_stat(sk_st_pings_sent, 1);
	*mark = 0;
	return 0;
}

/* OpenSIPS's TCP reader consumes a CRLF pong without telling anyone (no
 * callback, no event). A ping the kernel accepted on the flow's live
 * connection counts as answered; a connection that is gone fails the next
 * ping's write, and that fails the flow. */
static int sk_pong_seen(void *ctx, const skc_action *ping, uint64_t mark)
{
	return 1;
}

static const char *sk_transport_name(uint8_t t)
{
	switch (t) {
	case SKC_UDP: return "udp";
	case SKC_TCP: return "tcp";
	case SKC_TLS: return "tls";
	case SKC_SCTP: return "sctp";
	case SKC_WS: return "ws";
	case SKC_WSS: return "wss";
	}
	return "?";
}

static void sk_raise_failed(const skc_action *a, const char *local, const char *remote)
{
	static str p_transport = str_init("transport"), p_local = str_init("local"),
		p_remote = str_init("remote"), p_reason = str_init("reason"), p_kind = str_init("kind");
	str v_transport, v_local, v_remote, v_kind;
	int reason = a->reason;
	evi_params_p list;

	if (sk_evi_flow_failed == EVI_ERROR || !evi_probe_event(sk_evi_flow_failed))
		return;
	if (!(list = evi_get_params()))
		return;
	v_transport.s = (char *)sk_transport_name(a->transport);
	v_transport.len = strlen(v_transport.s);
	v_local.s = (char *)local; v_local.len = strlen(local);
	v_remote.s = (char *)remote; v_remote.len = strlen(remote);
	v_kind.s = a->kind == SKC_ACT_FLOW_DEAD ? "dead" : "failed";
	v_kind.len = strlen(v_kind.s);
	if (evi_param_add_str(list, &p_transport, &v_transport) ||
			evi_param_add_str(list, &p_local, &v_local) ||
			evi_param_add_str(list, &p_remote, &v_remote) ||
			evi_param_add_int(list, &p_reason, &reason) ||
			evi_param_add_str(list, &p_kind, &v_kind)) {
		evi_free_params(list);
		return;
	}
	if (evi_raise_event(sk_evi_flow_failed, list))
		LM_ERR("cannot raise E_SIPKEEP_FLOW_FAILED\n");
}

static void sk_on_action(void *ctx, const skc_action *a)
{
	char local[64], remote[64];

	skc_addr_str(&a->local, local, sizeof local);
	skc_addr_str(&a->remote, remote, sizeof remote);
	switch (a->kind) {
	case SKC_ACT_FLOW_FAILED:
	case SKC_ACT_FLOW_DEAD:
		update_stat(sk_st_flows_failed, 1);
		LM_WARN("flow %s %s -> %s %s (reason %d)\n", sk_transport_name(a->transport), local, remote,
			a->kind == SKC_ACT_FLOW_DEAD ? "is dead: nothing arrived" : "failed: keep-alives unanswered",
			a->reason);
		sk_raise_failed(a, local, remote);
		break;
	case SKC_ACT_KEEPALIVE_STARTED:
		LM_INFO("keep-alives every %us started on %s %s -> %s\n", a->value,
			sk_transport_name(a->transport), local, remote);
		break;
	case SKC_ACT_KEEPALIVE_STOPPED:
		LM_INFO("keep-alives stopped on %s %s -> %s (reason %d)\n",
			sk_transport_name(a->transport), local, remote, a->reason);
		break;
	default:
		LM_DBG("action %d on %s %s -> %s\n", a->kind, sk_transport_name(a->transport), local, remote);
	}
}

/* sk_locals lists OpenSIPS's listening addresses, "ip:port ip:port ...":
 * a Record-Route naming one of them means this OpenSIPS record-routes. */
static void sk_locals(char *out, int cap)
{
	struct socket_info_full *sif;
	const struct socket_info *si;
	skc_addr a;
	char one[64];
	int p, n = 0;

	out[0] = 0;
	for (p = PROTO_FIRST; p <= PROTO_WSS; p++) {
		if (protos[p].id == PROTO_NONE)
			continue;
		for (sif = protos[p].listeners; sif; sif = sif->next) {
			si = &sif->socket_info;
			/* From the binary address: OpenSIPS's address_str already
			 * brackets an IPv6 address, and bracketing it again made
			 * the service refuse the list and not start. */
			skc_addr_from_ip(&a, &si->address, si->port_no);
			n += snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? " " : "", skc_addr_str(&a, one, sizeof one));
			if (n >= cap) {
				out[cap - 1] = 0;
				return;
			}
		}
	}
}

/* The Go host's log lines, through OpenSIPS's log. */
static void sk_log(void *ctx, int level, const char *line)
{
	switch (level) {
	case SKC_LOG_ERROR: LM_ERR("%s\n", line); break;
	case SKC_LOG_WARN: LM_WARN("%s\n", line); break;
	case SKC_LOG_INFO: LM_INFO("%s\n", line); break;
	default: LM_DBG("%s\n", line);
	}
}

void sk_service_proc(int rank)
{
	static const skc_executor ex = {
		.ctx = NULL,
		.send_stun = sk_send_stun,
		.send_ping = sk_send_ping,
		.pong_seen = sk_pong_seen,
		.on_action = sk_on_action,
		.log = sk_log,
	};
	char locals[2048], err[512];
	skc_service *s;

	sk_locals(locals, sizeof locals);
	s = skc_service_open(sk_library, sk_module, sk_policy, sk_options, sk_socket, locals, err, sizeof err);
	if (s == NULL) {
		LM_ERR("plugin service did not start (%s): every message passes unchanged\n", err);
		for (;;)
			sleep(3600); /* a module process that returns takes OpenSIPS down */
	}
	if (sk_shared != NULL && skc_service_share(s, sk_shared) != 0)
		LM_WARN("the standing grant is not shared: every REGISTER 2xx waits for the service\n");
	LM_INFO("plugin service ready on %s (module %s, listening on %s)\n", sk_socket, sk_module, locals);
	for (;;) {
		if (skc_service_step(s, &ex, 200) < 0) {
			LM_ERR("plugin service stopped\n");
			skc_service_close(s);
			for (;;)
				sleep(3600);
		}
	}
}
