/*
 * sipkeepc_ser.h — glue for the SIP servers descended from SER, Kamailio
 * and OpenSIPS: both describe an address with struct ip_addr (af, len,
 * u.addr) and a transport with the same PROTO_* names. Include it after
 * the server's own ip_addr.h. Header-only, so each module compiles it
 * against its own server's definitions.
 */
#ifndef SIPKEEPC_SER_H
#define SIPKEEPC_SER_H

#include <string.h>
#include <sys/socket.h>

#include "sipkeepc.h"

/* skc_addr_from_ip fills a from the server's address and port. */
static inline void skc_addr_from_ip(skc_addr *a, const struct ip_addr *ip, unsigned short port)
{
	memset(a, 0, sizeof(*a));
	a->port = port;
	if (ip->af == AF_INET6) {
		a->af = 6;
		memcpy(a->addr, ip->u.addr, 16);
	} else {
		a->af = 4;
		memcpy(a->addr, ip->u.addr, 4);
	}
}

/* skc_ip_from_addr fills the server's address from a. */
static inline void skc_ip_from_addr(struct ip_addr *ip, const skc_addr *a)
{
	memset(ip, 0, sizeof(*ip));
	if (a->af == 6) {
		ip->af = AF_INET6;
		ip->len = 16;
		memcpy(ip->u.addr, a->addr, 16);
	} else {
		ip->af = AF_INET;
		ip->len = 4;
		memcpy(ip->u.addr, a->addr, 4);
	}
}

/* skc_transport_of_proto maps the server's PROTO_* to SKC_*; 0 for others. */
static inline int skc_transport_of_proto(int proto)
{
	switch (proto) {
	case PROTO_UDP: return SKC_UDP;
	case PROTO_TCP: return SKC_TCP;
	case PROTO_TLS: return SKC_TLS;
	case PROTO_SCTP: return SKC_SCTP;
	case PROTO_WS: return SKC_WS;
	case PROTO_WSS: return SKC_WSS;
	}
	return 0;
}

/* skc_proto_of_transport maps SKC_* back to the server's PROTO_*. */
static inline int skc_proto_of_transport(int transport)
{
	switch (transport) {
	case SKC_UDP: return PROTO_UDP;
	case SKC_TCP: return PROTO_TCP;
	case SKC_TLS: return PROTO_TLS;
	case SKC_SCTP: return PROTO_SCTP;
	case SKC_WS: return PROTO_WS;
	case SKC_WSS: return PROTO_WSS;
	}
	return PROTO_NONE;
}

#endif /* SIPKEEPC_SER_H */
