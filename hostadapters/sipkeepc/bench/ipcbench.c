/*
 * ipcbench — the worker -> plugin-service round trip of sipkeepc, without a
 * SIP server: one service process (skc_service_open + skc_service_step, as
 * a module's service process runs them) and W worker processes calling
 * skc_call in a loop with a REGISTER 200 that gets keep=N (the plugin runs
 * and edits, as for every REGISTER a module sends on).
 *
 *   ipcbench <libsipkeep.so> <sipkeep.wasm> <workers> <calls per worker>
 *   ipcbench <libsipkeep.so> <sipkeep.wasm> failopen
 *
 * Prints wall time per call and CPU per call, split into workers and service
 * (the figure that matters on a loaded machine). Exits 1 when a call was not
 * answered with an edit.
 *
 * failopen: a worker calls while the service is stopped (SIGSTOP: the call
 * must come back, failed open, not hang), then again once it runs (the
 * worker reconnects), then after it was killed.
 */
#define _GNU_SOURCE
#include "sipkeepc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char msg[] =
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bK1;keep\r\n"
	"From: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n"
	"Contact: <sip:a@127.0.0.1:6000>;expires=60\r\nContent-Length: 0\r\n\r\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* proc_cpu is a process's user+system CPU seconds from /proc. */
static double proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static void service(const char *lib, const char *wasm, const char *sock)
{
	char err[512];
	skc_executor ex;
	skc_service *s = skc_service_open(lib, wasm, "receiver_keep_seconds=30", "", sock, "127.0.0.1:5070", err, sizeof(err));
	if (!s) {
		fprintf(stderr, "service: %s\n", err);
		_exit(1);
	}
	memset(&ex, 0, sizeof(ex));
	for (;;)
		if (skc_service_step(s, &ex, 100) < 0)
			_exit(0);
}

static skc_client c;

static void fill_hdr(skc_req *hp)
{
	skc_req h;
	memset(&h, 0, sizeof(h));
	h.kind = SKC_KIND_RESPONSE;
	h.dir = SKC_DIR_OUT;
	h.transport = SKC_UDP;
	h.role = SKC_ROLE_PROXY;
	h.local.af = 4; h.local.port = 5070; memcpy(h.local.addr, "\x7f\0\0\1", 4);
	h.remote.af = 4; h.remote.port = 6000; memcpy(h.remote.addr, "\x7f\0\0\1", 4);
	*hp = h;
}

/* call_once: 1 when the call came back with an edit. */
static int call_once(const skc_req *h)
{
	skc_reply r;
	return skc_call(&c, h, (const uint8_t *)msg, sizeof(msg) - 1, &r) == 1 && (r.flags & SKC_R_CHANGED);
}

static int worker(const char *sock, long calls)
{
	skc_req h;
	skc_reply r;
	long i, ok = 0;
	fill_hdr(&h);
	skc_client_init(&c, sock, getenv("IPCBENCH_TIMEOUT_MS") ? atoi(getenv("IPCBENCH_TIMEOUT_MS")) : 1000);
	for (i = 0; i < calls; i++) {
		if (skc_call(&c, &h, (const uint8_t *)msg, sizeof(msg) - 1, &r) == 1 && (r.flags & SKC_R_CHANGED))
			ok++;
	}
	return ok != calls ? 1 : 0;
}

static void remove_sockets(const char *sock)
{
	unlink(sock);
}

static void alarm_exit(int sig)
{
	(void)sig;
	static const char m[] = "FAIL: a call blocked (no fail open)\n";
	if (write(2, m, sizeof(m) - 1) < 0)
		_exit(4);
	_exit(4);
}

static int failopen(pid_t svc, const char *sock)
{
	skc_req h;
	int i, rc, bad = 0;
	fill_hdr(&h);
	skc_client_init(&c, sock, 200);
	if (!call_once(&h)) {
		fprintf(stderr, "FAIL: first call not answered\n");
		return 1;
	}
	signal(SIGALRM, alarm_exit);
	alarm(10); /* the bound is the call timeout (200 ms); anything near 10 s is a hang */
	kill(svc, SIGSTOP);
	rc = call_once(&h);
	printf("service stopped: call answered=%d\n", rc);
	if (rc)
		bad++;
	kill(svc, SIGCONT);
	for (i = 0; i < 500 && !call_once(&h); i++)
		usleep(10000);
	printf("service resumed: answered after %d retries\n", i);
	if (i == 500)
		bad++;
	kill(svc, SIGKILL);
	waitpid(svc, NULL, 0);
	rc = call_once(&h);
	printf("service killed: call answered=%d\n", rc);
	if (rc)
		bad++;
	rc = call_once(&h);
	printf("service gone: call answered=%d\n", rc);
	if (rc)
		bad++;
	alarm(0);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	char sock[108];
	pid_t svc, *ws;
	int nw, i, failed = 0;
	long calls;
	double t0, t1, s0, s1;
	struct rusage ru;

	if (argc != 5 && !(argc == 4 && strcmp(argv[3], "failopen") == 0)) {
		fprintf(stderr, "usage: %s libsipkeep.so sipkeep.wasm (workers calls | failopen)\n", argv[0]);
		return 2;
	}
	nw = argc == 5 ? atoi(argv[3]) : 0;
	calls = argc == 5 ? atol(argv[4]) : 0;
	snprintf(sock, sizeof(sock), "/tmp/ipcbench.%d.sock", (int)getpid());
	svc = fork();
	if (svc == 0)
		service(argv[1], argv[2], sock);
	/* warm up: one worker until the service answers with an edit */
	for (i = 0; i < 600; i++) {
		pid_t w = fork();
		int st;
		if (w == 0)
			_exit(worker(sock, 1));
		waitpid(w, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			break;
		usleep(100000);
	}
	if (i == 600) {
		fprintf(stderr, "service never answered\n");
		kill(svc, SIGTERM);
		return 1;
	}
	if (argc == 4) {
		int rc = failopen(svc, sock);
		remove_sockets(sock);
		return rc;
	}
	ws = calloc(nw, sizeof(*ws));
	s0 = proc_cpu(svc);
	t0 = now_s();
	for (i = 0; i < nw; i++) {
		ws[i] = fork();
		if (ws[i] == 0)
			_exit(worker(sock, calls));
	}
	for (i = 0; i < nw; i++) {
		int st;
		waitpid(ws[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	t1 = now_s();
	s1 = proc_cpu(svc);
	getrusage(RUSAGE_CHILDREN, &ru); /* the warm-up workers' CPU is negligible */
	{
		double wc = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
		double n = (double)nw * calls;
		printf("workers=%d calls=%.0f failed_workers=%d wall/call=%.2fus worker_cpu/call=%.2fus service_cpu/call=%.2fus total_cpu/call=%.2fus\n",
			nw, n, failed, (t1 - t0) / n * 1e6, wc / n * 1e6, (s1 - s0) / n * 1e6, (wc + s1 - s0) / n * 1e6);
	}
	kill(svc, SIGTERM);
	waitpid(svc, NULL, 0);
	remove_sockets(sock);
	return failed ? 1 : 0;
}
