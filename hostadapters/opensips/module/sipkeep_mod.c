/*
 * sipkeep.so for OpenSIPS: RFC 6223 keep-alive negotiation and RFC 5626
 * keep-alives, done by the sipkeep WebAssembly plugin, with nothing in the
 * routing script.
 *
 *   loadmodule "sipkeep.so"
 *   modparam("sipkeep", "library", "/usr/local/lib/sipkeep/libsipkeep.so")
 *   modparam("sipkeep", "module", "/usr/local/lib/sipkeep/sipkeep.wasm")
 *   modparam("sipkeep", "policy", "receiver_keep_seconds=30")
 *
 * MI: sipkeep_reload [module], sipkeep_stats, sipkeep_flows.
 * Statistics: sipkeep:crossed, edited, failed_open, stun_sent, pings_sent,
 * flows_failed, stun_answered. Event: E_SIPKEEP_FLOW_FAILED.
 * See hostadapters/opensips/README.md.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sr_module.h"
#include "dprint.h"
#include "mi/mi.h"
#include "evi/evi_modules.h"

#include "sipkeep_osips.h"

char *sk_library = "libsipkeep.so";
char *sk_module = NULL;
char *sk_policy = "";
char *sk_options = "";
char *sk_socket = NULL;
char *sk_methods = "";
int sk_sender = 1;
int sk_stun_answer = 1;
int sk_timeout_ms = 100;

stat_var *sk_st_crossed, *sk_st_edited, *sk_st_failed_open, *sk_st_stun_sent,
	*sk_st_pings_sent, *sk_st_flows_failed, *sk_st_stun_answered, *sk_st_standing;

skc_client *sk_client;
skc_shared *sk_shared;
static pid_t sk_client_pid;
skc_fast_cfg sk_fast;

static int mod_init(void);
static int child_init(int rank);
static void mod_destroy(void);
static mi_response_t *mi_reload(const mi_params_t *params, struct mi_handler *h);
static mi_response_t *mi_reload_path(const mi_params_t *params, struct mi_handler *h);
static mi_response_t *mi_stats(const mi_params_t *params, struct mi_handler *h);
static mi_response_t *mi_flows(const mi_params_t *params, struct mi_handler *h);

static const param_export_t params[] = {
	{"library", STR_PARAM, &sk_library},
	{"module", STR_PARAM, &sk_module},
	{"policy", STR_PARAM, &sk_policy},
	{"options", STR_PARAM, &sk_options},
	{"socket", STR_PARAM, &sk_socket},
	{"sender_methods", STR_PARAM, &sk_methods},
	{"sender", INT_PARAM, &sk_sender},
	{"stun_answer", INT_PARAM, &sk_stun_answer},
	{"timeout_ms", INT_PARAM, &sk_timeout_ms},
	{0, 0, 0}
};

static const stat_export_t stats[] = {
	{"crossed", 0, &sk_st_crossed},
	{"edited", 0, &sk_st_edited},
	{"failed_open", 0, &sk_st_failed_open},
	{"stun_sent", 0, &sk_st_stun_sent},
	{"pings_sent", 0, &sk_st_pings_sent},
	{"flows_failed", 0, &sk_st_flows_failed},
	{"stun_answered", 0, &sk_st_stun_answered},
	{"standing_grants", 0, &sk_st_standing},
	{0, 0, 0}
};

/* Designated initializers: OpenSIPS 4 added fields (aliases) to mi_export_t. */
static const mi_export_t mi_cmds[] = {
	{.name = "sipkeep_reload", .help = "hot-swaps the plugin (optionally from another file); "
		"a module that does not load is refused and the old one keeps serving", .recipes = {
		{mi_reload, {0}},
		{mi_reload_path, {"module", 0}},
		{EMPTY_MI_RECIPE}}
	},
	{.name = "sipkeep_stats", .help = "sipkeep counters and the plugin generation", .recipes = {
		{mi_stats, {0}},
		{EMPTY_MI_RECIPE}}
	},
	{.name = "sipkeep_flows", .help = "the flows the plugin keeps a record for", .recipes = {
		{mi_flows, {0}},
		{EMPTY_MI_RECIPE}}
	},
	{EMPTY_MI_EXPORT}
};

static const proc_export_t procs[] = {
	{"sipkeep plugin service", 0, 0, sk_service_proc, 1, 0},
	{0, 0, 0, 0, 0, 0}
};

struct module_exports exports = {
	"sipkeep",
	MOD_TYPE_DEFAULT,
	MODULE_VERSION,
	DEFAULT_DLFLAGS,
	0,          /* load function */
	NULL,       /* dependencies */
	NULL,       /* script functions: none, by design */
	NULL,       /* async functions */
	params,
	stats,
	mi_cmds,
	NULL,       /* pseudo-variables */
	NULL,       /* transformations */
	procs,
	0,          /* pre-init */
	mod_init,
	0,          /* response function */
	mod_destroy,
	child_init,
	0           /* reload confirm */
};

static str sk_evi_name = str_init("E_SIPKEEP_FLOW_FAILED");

/* sk_drop_crlf_pongs makes the stream transports drop a lone CRLF. That is
 * the pong (RFC 5626 §4.4.1) a peer sends to the CRLF pings this module
 * sends; with proto_tcp's default tcp_crlf_drop=0 the reader takes it for
 * the start of a message, and tcp_max_msg_time later TCP main receives the
 * connection "as faulty" and closes it: the very connection the
 * keep-alives were for. */
static void sk_drop_crlf_pongs(void)
{
	static const char *params[][2] = {{"proto_tcp", "tcp_crlf_drop"}, {"proto_tls", "tls_crlf_drop"}};
	unsigned int i;
	int *v;

	for (i = 0; i < sizeof params / sizeof params[0]; i++) {
		v = find_param_export(params[i][0], params[i][1], INT_PARAM);
		if (v != NULL && *v == 0) {
			*v = 1;
			LM_NOTICE("set %s's %s to 1: a CRLF pong to sipkeep's keep-alives "
				"would otherwise get its connection closed\n", params[i][0], params[i][1]);
		}
	}
}

static int mod_init(void)
{
	static char sock[108];
	struct stat st;

	LM_INFO("initializing\n");
	if (sk_module == NULL || sk_module[0] == 0) {
		LM_ERR("modparam(\"sipkeep\", \"module\", ...) is required: the plugin's .wasm file\n");
		return -1;
	}
	if (stat(sk_module, &st) != 0) {
		LM_ERR("plugin module %s: cannot read it\n", sk_module);
		return -1;
	}
	if (sk_socket == NULL || sk_socket[0] == 0) {
		snprintf(sock, sizeof sock, "/tmp/opensips-sipkeep-%d.sock", (int)getpid());
		sk_socket = sock;
	}
	if (strlen(sk_socket) >= sizeof sock) {
		LM_ERR("socket path %s is too long for a Unix socket\n", sk_socket);
		return -1;
	}
	if (strstr(sk_policy, "dead_flow") == NULL) {
		/* OpenSIPS answers the peers' keep-alives before any module sees
		 * them (the TCP reader's CRLF pong, the stun module), so the plugin
		 * cannot watch them arrive: no dead-flow reports unless asked. */
		static char pol[4096];
		if (snprintf(pol, sizeof pol, "dead_flow_disabled=true;%s", sk_policy) >= (int)sizeof pol) {
			LM_ERR("policy too long\n");
			return -1;
		}
		sk_policy = pol;
	}
	if (sk_timeout_ms <= 0)
		sk_timeout_ms = 100;
	sk_drop_crlf_pongs();
	memset(&sk_fast, 0, sizeof sk_fast);
	sk_fast.sender = sk_sender;
	skc_fast_cfg_methods(&sk_fast, sk_methods);
	sk_shared = skc_shared_create();
	if (sk_shared == NULL)
		LM_WARN("no shared memory for the standing grant: every REGISTER 2xx waits for the service\n");
	/* an event_route for it has published it already */
	sk_evi_flow_failed = evi_get_id(&sk_evi_name);
	if (sk_evi_flow_failed == EVI_ERROR)
		sk_evi_flow_failed = evi_publish_event(sk_evi_name);
	if (sk_evi_flow_failed == EVI_ERROR) {
		LM_ERR("cannot publish E_SIPKEEP_FLOW_FAILED\n");
		return -1;
	}
	return sk_hooks_init();
}

/* sk_get_client is this process's client of the plugin service, made on
 * first use (and again in a child that inherited its parent's). */
static skc_client *sk_get_client(void)
{
	pid_t pid = getpid();

	if (sk_client && sk_client_pid == pid)
		return sk_client;
	if (sk_client == NULL && (sk_client = malloc(sizeof *sk_client)) == NULL) {
		LM_ERR("no memory for the plugin service client\n");
		return NULL;
	}
	skc_client_init(sk_client, sk_socket, sk_timeout_ms);
	skc_client_share(sk_client, sk_shared);
	sk_client_pid = pid;
	return sk_client;
}

static int child_init(int rank)
{
	return sk_get_client() ? 0 : -1;
}

static void mod_destroy(void)
{
	if (sk_client && sk_client_pid == getpid())
		skc_client_close(sk_client);
}

/* sk_control runs a control op on the service and returns its text (the
 * core waits longer for these: a hot swap compiles before it answers). */
static int sk_control(uint8_t op, const char *arg, skc_reply *r)
{
	skc_client *c = sk_get_client();

	if (c == NULL)
		return -1;
	return skc_control(c, op, arg, r);
}

static mi_response_t *sk_reload(const char *path)
{
	skc_reply r;
	int rc = sk_control(SKC_OP_RELOAD, path, &r);

	if (rc != 1)
		return init_mi_error(503, MI_SSTR("plugin service not reachable"));
	if (r.status != SKC_OK) {
		LM_ERR("hot swap to %s refused; the old module keeps serving: %.*s\n",
			path[0] ? path : sk_module, (int)r.text_len, r.text);
		return init_mi_error_extra(400, MI_SSTR("module refused"), (const char *)r.text, r.text_len);
	}
	LM_INFO("hot swap to %s done: %.*s\n", path[0] ? path : sk_module, (int)r.text_len, r.text);
	return init_mi_result_string((const char *)r.text, r.text_len);
}

static mi_response_t *mi_reload(const mi_params_t *params, struct mi_handler *h)
{
	return sk_reload("");
}

static mi_response_t *mi_reload_path(const mi_params_t *params, struct mi_handler *h)
{
	static char path[1024];
	char *p;
	int len;

	if (get_mi_string_param(params, "module", &p, &len) < 0)
		return init_mi_param_error();
	if (len <= 0 || len >= (int)sizeof path)
		return init_mi_error(400, MI_SSTR("bad module path"));
	memcpy(path, p, len);
	path[len] = 0;
	return sk_reload(path);
}

/* sk_lines calls fn for each line of text. */
static void sk_lines(const uint8_t *text, uint32_t n, void (*fn)(mi_item_t *, const char *, int), mi_item_t *to)
{
	const char *s = (const char *)text, *end = s + n, *nl;

	while (s < end) {
		nl = memchr(s, '\n', end - s);
		if (nl == NULL)
			nl = end;
		if (nl > s)
			fn(to, s, (int)(nl - s));
		s = nl + 1;
	}
}

/* "name value": a number when the value is one. */
static void sk_stat_line(mi_item_t *obj, const char *s, int n)
{
	const char *sp = memchr(s, ' ', n);
	char num[32];
	char *end;
	double v;
	int vl;

	if (sp == NULL)
		return;
	vl = (int)(s + n - (sp + 1));
	if (vl > 0 && vl < (int)sizeof num) {
		memcpy(num, sp + 1, vl);
		num[vl] = 0;
		v = strtod(num, &end);
		if (*end == 0) {
			add_mi_number(obj, (char *)s, (int)(sp - s), v);
			return;
		}
	}
	add_mi_string(obj, (char *)s, (int)(sp - s), sp + 1, vl);
}

static void sk_flow_line(mi_item_t *arr, const char *s, int n)
{
	add_mi_string(arr, 0, 0, s, n);
}

static mi_response_t *mi_stats(const mi_params_t *params, struct mi_handler *h)
{
	mi_response_t *resp;
	mi_item_t *obj, *svc;
	skc_reply r;

	resp = init_mi_result_object(&obj);
	if (!resp)
		return 0;
	add_mi_number(obj, MI_SSTR("crossed"), get_stat_val(sk_st_crossed));
	add_mi_number(obj, MI_SSTR("edited"), get_stat_val(sk_st_edited));
	add_mi_number(obj, MI_SSTR("standing_grants"), get_stat_val(sk_st_standing));
	add_mi_number(obj, MI_SSTR("failed_open"), get_stat_val(sk_st_failed_open));
	add_mi_number(obj, MI_SSTR("stun_sent"), get_stat_val(sk_st_stun_sent));
	add_mi_number(obj, MI_SSTR("pings_sent"), get_stat_val(sk_st_pings_sent));
	add_mi_number(obj, MI_SSTR("flows_failed"), get_stat_val(sk_st_flows_failed));
	add_mi_number(obj, MI_SSTR("stun_answered"), get_stat_val(sk_st_stun_answered));
	svc = add_mi_object(obj, MI_SSTR("service"));
	if (svc == NULL)
		return resp;
	if (sk_control(SKC_OP_STATS, "", &r) != 1 || r.status != SKC_OK)
		add_mi_string(svc, MI_SSTR("error"), MI_SSTR("plugin service not reachable"));
	else
		sk_lines(r.text, r.text_len, sk_stat_line, svc);
	return resp;
}

static mi_response_t *mi_flows(const mi_params_t *params, struct mi_handler *h)
{
	mi_response_t *resp;
	mi_item_t *obj, *arr;
	skc_reply r;

	if (sk_control(SKC_OP_FLOWS, "", &r) != 1 || r.status != SKC_OK)
		return init_mi_error(503, MI_SSTR("plugin service not reachable"));
	resp = init_mi_result_object(&obj);
	if (!resp)
		return 0;
	arr = add_mi_array(obj, MI_SSTR("flows"));
	if (arr)
		sk_lines(r.text, r.text_len, sk_flow_line, arr);
	return resp;
}
