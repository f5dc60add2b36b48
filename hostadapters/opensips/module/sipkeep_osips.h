/*
 * sipkeep for OpenSIPS: what the module's files share.
 *
 * The server-neutral work (IPC to the plugin service, the fast path,
 * applying splices, the service loop) is hostadapters/sipkeepc; this module
 * is only OpenSIPS's glue to it.
 */
#ifndef SIPKEEP_OSIPS_H
#define SIPKEEP_OSIPS_H

#include "sr_module.h"
#include "ip_addr.h"
#include "socket_info.h"
#include "statistics.h"
#include "net/api_proto.h"

#include "sipkeepc.h"
#include "sipkeepc_ser.h"

/* module parameters */
extern char *sk_library;
extern char *sk_module;
extern char *sk_policy;
extern char *sk_options;
extern char *sk_socket;
extern char *sk_methods;
extern int sk_sender;
extern int sk_stun_answer;
extern int sk_timeout_ms;

/* statistics (shm; any process updates them) */
extern stat_var *sk_st_crossed;    /* messages shown to the plugin */
extern stat_var *sk_st_edited;     /* messages sent with the plugin's edits */
extern stat_var *sk_st_failed_open;/* calls that failed open (service unreachable, errors) */
extern stat_var *sk_st_stun_sent;  /* STUN keep-alives sent */
extern stat_var *sk_st_pings_sent; /* CRLF keep-alives sent */
extern stat_var *sk_st_flows_failed;
extern stat_var *sk_st_stun_answered;
extern stat_var *sk_st_standing;   /* REGISTER 2xx answered with the standing grant, not waited for */

/* this process's client of the plugin service (set in child_init) */
extern skc_client *sk_client;
extern skc_shared *sk_shared;      /* mapped in mod_init, before the fork */
extern skc_fast_cfg sk_fast;

/* the original transport send functions, before sipkeep wrapped them */
extern proto_send_f sk_orig_send[];

/* OpenSIPS 4 passes the sip_msg (may be NULL) to the transports' send
 * functions too; the Makefile sets SK_OPENSIPS_MAJOR from the tree. */
#if SK_OPENSIPS_MAJOR >= 4
#define SK_MSG_ARG , struct sip_msg *sk_msg
#define SK_MSG_PASS , sk_msg
#define SK_MSG_NONE , NULL
#else
#define SK_MSG_ARG
#define SK_MSG_PASS
#define SK_MSG_NONE
#endif

/* sipkeep_hooks.c */
int sk_hooks_init(void);
int sk_call(uint8_t kind, uint8_t dir, int proto, const struct ip_addr *lip, unsigned short lport,
		const struct ip_addr *rip, unsigned short rport, int conn_id,
		const char *msg, unsigned int len, skc_reply *out);

/* sipkeep_service.c: the plugin service process */
void sk_service_proc(int rank);
extern event_id_t sk_evi_flow_failed;

#endif
