/*
 * sipkeep for OpenSIPS: where messages are seen.
 *
 * Outgoing: the transports' send functions (protos[].tran.send) are wrapped.
 * Every SIP message OpenSIPS sends — forwarded requests and replies, tm's
 * local replies and retransmissions, sl replies, replies sent from the
 * timer process — ends in msg_send() and then in that function, which is
 * the one place that knows the socket, the destination and the connection
 * id. OpenSIPS's post-raw processing callback runs just before it, but is
 * given only the buffer and a sip_msg that is NULL for tm's sends (local
 * replies, relayed replies, retransmissions): no flow to key keep-alives on.
 * See README.md.
 *
 * Incoming: a pre-script callback for requests and replies (msg->rcv has the
 * flow; msg->buf is still the raw buffer), and a UDP receive callback for
 * STUN on the SIP port (Binding responses to our keep-alives; Binding
 * requests answered here when stun_answer is on).
 */
#include <string.h>
#include <sys/socket.h>

#include "sr_module.h"
#include "dprint.h"
#include "mem/mem.h"
#include "script_cb.h"
#include "parser/msg_parser.h"
#include "net/trans.h"
#include "net/proto_udp/proto_udp.h"

#include "sipkeep_osips.h"

proto_send_f sk_orig_send[PROTO_LAST + 1];

/* One edited copy of an outgoing message at a time per process. */
static char sk_out[SKC_MAX_MESSAGE + SKC_MAX_RESP];

/* sk_call shows one message to the plugin service. Returns skc_call's
 * value; failures are counted and the caller passes the message unchanged. */
int sk_call(uint8_t kind, uint8_t dir, int proto, const struct ip_addr *lip, unsigned short lport,
		const struct ip_addr *rip, unsigned short rport, int conn_id,
		const char *msg, unsigned int len, skc_reply *out)
{
	skc_req h;
	int rc;

	if (!sk_client)
		return 0;
	memset(&h, 0, sizeof h);
	h.op = SKC_OP_CALL;
	h.kind = kind;
	h.dir = dir;
	h.transport = skc_transport_of_proto(proto);
	h.role = SKC_ROLE_PROXY;
	h.conn_id = conn_id;
	skc_addr_from_ip(&h.local, lip, lport);
	skc_addr_from_ip(&h.remote, rip, rport);
	if (kind == SKC_KIND_RESPONSE && dir == SKC_DIR_OUT
			&& skc_standing(sk_client, &h, (const uint8_t *)msg, len, out) == 1) {
		/* the module's standing grant: keep=N at once, the record after */
		update_stat(sk_st_standing, 1);
		return 1;
	}
	update_stat(sk_st_crossed, 1);
	rc = skc_call(sk_client, &h, (const uint8_t *)msg, len, out);
	if (rc == 0) {
		update_stat(sk_st_failed_open, 1);
		if (skc_unready_once(sk_client))
			LM_WARN("plugin service not reachable at %s yet: messages pass unchanged\n", sk_socket);
	} else if (rc < 0) {
		update_stat(sk_st_failed_open, 1);
		LM_WARN("plugin service call failed: message passes unchanged\n");
	} else if (out->flags & SKC_R_FAILED_OPEN) {
		update_stat(sk_st_failed_open, 1);
		LM_WARN("plugin call failed open: %.*s\n", (int)out->text_len, out->text);
	}
	return rc;
}

/* sk_send is every wrapped transport's send: show the message to the
 * plugin when it may matter, send it with the plugin's edits. */
static int sk_send(int proto, const struct socket_info *si, char *buf, unsigned int len,
		const union sockaddr_union *to, unsigned int id SK_MSG_ARG)
{
	struct ip_addr rip;
	skc_reply r;
	int kind, n;

	kind = skc_fast_path(&sk_fast, SKC_DIR_OUT, buf, len);
	if (kind == 0 || si == NULL || to == NULL || len > SKC_MAX_MESSAGE)
		return sk_orig_send[proto](si, buf, len, to, id SK_MSG_PASS);
	/* OpenSIPS's WebSocket transports do not answer a CRLFCRLF keep-alive
	 * (proto_ws hands it to the SIP parser, which refuses it), so granting
	 * keep=N on a WebSocket flow would have the client's keep-alives fail:
	 * responses over WS and WSS go out as they are. */
	if (kind == SKC_KIND_RESPONSE && (proto == PROTO_WS || proto == PROTO_WSS))
		return sk_orig_send[proto](si, buf, len, to, id SK_MSG_PASS);
	su2ip_addr(&rip, to);
	if (sk_call(kind, SKC_DIR_OUT, proto, &si->address, si->port_no, &rip, su_getport(to),
			(int)id, buf, len, &r) != 1 || r.status != SKC_OK || !(r.flags & SKC_R_CHANGED))
		return sk_orig_send[proto](si, buf, len, to, id SK_MSG_PASS);
	n = skc_apply(&r, buf, len, sk_out, sizeof sk_out);
	if (n < 0) {
		LM_ERR("plugin edits do not fit the message: sent unchanged\n");
		update_stat(sk_st_failed_open, 1);
		return sk_orig_send[proto](si, buf, len, to, id SK_MSG_PASS);
	}
	update_stat(sk_st_edited, 1);
	return sk_orig_send[proto](si, sk_out, (unsigned int)n, to, id SK_MSG_PASS);
}

#define SK_WRAP(P) \
	static int sk_send_##P(const struct socket_info *si, char *buf, unsigned int len, \
			const union sockaddr_union *to, unsigned int id SK_MSG_ARG) \
	{ return sk_send(P, si, buf, len, to, id SK_MSG_PASS); }
SK_WRAP(PROTO_UDP)
SK_WRAP(PROTO_TCP)
SK_WRAP(PROTO_TLS)
SK_WRAP(PROTO_WS)
SK_WRAP(PROTO_WSS)

static void sk_wrap(int proto, proto_send_f f)
{
	if (protos[proto].id == PROTO_NONE || protos[proto].tran.send == NULL)
		return; /* transport not loaded */
	sk_orig_send[proto] = protos[proto].tran.send;
	protos[proto].tran.send = f;
	LM_DBG("wrapped the %s send function\n", proto2a(proto));
}

/* Incoming requests and replies: the flow they arrived on. */
static int sk_incoming(struct sip_msg *msg, void *param)
{
	skc_reply r;
	int kind;

	if (!is_sip_proto(msg->rcv.proto) || msg->len > SKC_MAX_MESSAGE)
		return SCB_RUN_ALL;
	kind = skc_fast_path(&sk_fast, SKC_DIR_IN, msg->buf, msg->len);
	if (kind == 0)
		return SCB_RUN_ALL;
	/* The local side is the listening socket, as on the way out (a stream
	 * OpenSIPS opened has an ephemeral local port). */
	if (msg->rcv.bind_address == NULL)
		return SCB_RUN_ALL;
	sk_call(kind, SKC_DIR_IN, msg->rcv.proto, &msg->rcv.bind_address->address,
		msg->rcv.bind_address->port_no, &msg->rcv.src_ip, msg->rcv.src_port,
		is_tcp_based_proto(msg->rcv.proto) ? msg->rcv.proto_reserved1 : 0,
		msg->buf, msg->len, &r);
	return SCB_RUN_ALL;
}

/* UDP datagrams that do not start with a letter and whose second byte is
 * 0x01: STUN Binding requests (0x0001, RFC 5389 or 3489) and success
 * responses (0x0101).
 * Returns 0 when the datagram was consumed. */
static int sk_udp_stun(int fd, struct receive_info *ri, str *msg, void *param)
{
	uint8_t resp[64];
	union sockaddr_union to;
	skc_reply r;
	int cls, n;

	cls = skc_stun_class((const uint8_t *)msg->s, (uint32_t)msg->len);
	if (cls == 3) { /* a response to one of our keep-alives */
		sk_call(SKC_KIND_STUN, SKC_DIR_IN, PROTO_UDP, &ri->dst_ip, ri->dst_port,
			&ri->src_ip, ri->src_port, 0, msg->s, msg->len, &r);
		return 0;
	}
	/* A Binding request, RFC 5389 or RFC 3489 (no cookie, so class 0):
	 * answered here with the core's responder, as the Go adapters answer. */
	if ((cls == 1 || cls == 0) && sk_stun_answer) {
		skc_addr src;
		skc_addr_from_ip(&src, &ri->src_ip, ri->src_port);
		n = skc_stun_answer((const uint8_t *)msg->s, (uint32_t)msg->len, &src, resp, sizeof resp);
		if (n > 0) {
			init_su(&to, &ri->src_ip, ri->src_port);
			if (sendto(fd, resp, n, 0, &to.s, sockaddru_len(to)) == n)
				update_stat(sk_st_stun_answered, 1);
			return 0;
		}
	}
	return 1; /* not ours: the next callback (e.g. the stun module) may take it */
}

int sk_hooks_init(void)
{
	sk_wrap(PROTO_UDP, sk_send_PROTO_UDP);
	sk_wrap(PROTO_TCP, sk_send_PROTO_TCP);
	sk_wrap(PROTO_TLS, sk_send_PROTO_TLS);
	sk_wrap(PROTO_WS, sk_send_PROTO_WS);
	sk_wrap(PROTO_WSS, sk_send_PROTO_WSS);
	if (register_script_cb(sk_incoming, PRE_SCRIPT_CB | REQ_TYPE_CB | RPL_TYPE_CB, 0) < 0) {
		LM_ERR("cannot register the incoming-message callback\n");
		return -1;
	}
	if (protos[PROTO_UDP].id != PROTO_NONE &&
			register_udprecv_cb(sk_udp_stun, 0, 0x00, 0x01) < 0) {
		LM_ERR("cannot register the UDP STUN callback\n");
		return -1;
	}
	return 0;
}
