/*
 * sipkeepc.c — see sipkeepc.h. Server-neutral: libc and dlopen only.
 */
#define _GNU_SOURCE
#include "sipkeepc.h"

#include <dlfcn.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

_Static_assert(sizeof(skc_addr) == 20, "skc_addr layout");
_Static_assert(sizeof(skc_req) == 80, "skc_req layout");
_Static_assert(sizeof(skc_resp) == 24, "skc_resp layout");
_Static_assert(sizeof(skc_splice) == 16, "skc_splice layout");
_Static_assert(sizeof(skc_action) == 80, "skc_action layout");
_Static_assert(offsetof(skc_shared, head) == 64 && offsetof(skc_shared, tail) == 128 &&
		offsetof(skc_shared, slots) == 192 && sizeof(skc_ring_slot) == SKC_RING_SLOT, "skc_shared layout");

int64_t skc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *skc_addr_str(const skc_addr *a, char *out, int cap)
{
	char ip[INET6_ADDRSTRLEN];
	if (cap <= 0)
		return out;
	if (a->af == 6) {
		inet_ntop(AF_INET6, a->addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip, a->port);
	} else {
		inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, a->port);
	}
	return out;
}

/* ---------------------------------------------------------------- client */

void skc_client_init(skc_client *c, const char *path, int timeout_ms)
{
	c->shared = NULL;
	c->fd = -1;
	c->seq = 0;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 100;
	c->retry_at_ms = 0;
	c->logged_unready = 0;
	c->standing_g = 0;
	snprintf(c->path, sizeof(c->path), "%s", path ? path : "");
}

void skc_client_close(skc_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

skc_shared *skc_shared_create(void)
{
	void *p = mmap(NULL, sizeof(skc_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, sizeof(skc_shared));
	return (skc_shared *)p;
}

void skc_client_share(skc_client *c, skc_shared *sh)
{
	c->shared = sh;
}

/* connect_service returns 1 when connected, 0 when the service is not there. */
static int connect_service(skc_client *c)
{
	struct sockaddr_un sa;
	struct timeval tv;
	int64_t now;
	int fd;

	if (c->fd >= 0)
		return 1;
	now = skc_now_ms();
	if (now < c->retry_at_ms)
		return 0;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		c->retry_at_ms = now + 10; /* a failed connect is cheap; still, not per message */
		return 0;
	}
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->logged_unready = 0;
	return 1;
}

int skc_unready_once(skc_client *c)
{
	if (c->logged_unready)
		return 0;
	c->logged_unready = 1;
	return 1;
}

static int parse_reply(skc_client *c, ssize_t n, skc_reply *out)
{
	const skc_resp *h = (const skc_resp *)c->resp;
	size_t need;

	if (n < (ssize_t)sizeof(skc_resp) || h->magic != SKC_MAGIC)
		return -1;
	need = sizeof(skc_resp) + (size_t)h->n_splices * sizeof(skc_splice) + h->text_len;
	if (need > (size_t)n)
		return -1;
	out->status = h->status;
	out->flags = h->flags;
	out->n_splices = h->n_splices;
	out->splices = (const skc_splice *)(c->resp + sizeof(skc_resp));
	out->text = c->resp + sizeof(skc_resp) + (size_t)h->n_splices * sizeof(skc_splice);
	out->text_len = h->text_len;
	return 1;
}

/* send_frame sends the frame header h and its payload as one datagram;
 * -1 (errno set) unless all of it went. */
static int send_frame(int fd, const skc_req *h, const uint8_t *payload, uint32_t len, int flags)
{
	struct iovec iov[2];
	struct msghdr mh;

	iov[0].iov_base = (void *)h;
	iov[0].iov_len = sizeof(*h);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len ? 2 : 1;
	if (sendmsg(fd, &mh, MSG_NOSIGNAL | flags) != (ssize_t)(sizeof(*h) + len))
		return -1;
	return 0;
}

static int roundtrip(skc_client *c, skc_req *hdr, const uint8_t *payload, uint32_t len, skc_reply *out)
{
	ssize_t n;
	int tries;

	if (!connect_service(c))
		return 0;
	hdr->magic = SKC_MAGIC;
	hdr->seq = ++c->seq;
	hdr->len = len;
	if (send_frame(c->fd, hdr, payload, len, 0) < 0)
		goto drop;
	/* A reply to an earlier call that timed out may still be queued: skip it. */
	for (tries = 0; tries < 8; tries++) {
		n = recv(c->fd, c->resp, sizeof(c->resp), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -1; /* late, not broken: keep the connection; its reply is skipped by seq */
		if (n <= 0)
			goto drop;
		if (n >= (ssize_t)sizeof(skc_resp) && ((skc_resp *)c->resp)->seq != hdr->seq)
			continue;
		if (parse_reply(c, n, out) < 0)
			goto drop;
		return 1;
	}
drop:
	skc_client_close(c);
	c->retry_at_ms = skc_now_ms() + 10;
	return -1;
}

int skc_call(skc_client *c, const skc_req *hdr, const uint8_t *msg, uint32_t len, skc_reply *out)
{
	skc_req h = *hdr;
	if (len > SKC_MAX_MESSAGE)
		return -1;
	h.op = SKC_OP_CALL;
	return roundtrip(c, &h, msg, len, out);
}

/* ring_put puts one frame (h, then msg) on the deferred ring; 0 when it
 * does not fit a slot or the ring is full. */
static int ring_put(skc_shared *sh, const skc_req *h, const uint8_t *msg, uint32_t len)
{
	uint64_t head, tail;
	skc_ring_slot *s;
	uint32_t n = (uint32_t)sizeof(*h) + len;

	if (n > sizeof(s->frame))
		return 0;
	head = __atomic_load_n(&sh->head, __ATOMIC_RELAXED);
	do {
		tail = __atomic_load_n(&sh->tail, __ATOMIC_ACQUIRE);
		if (head - tail >= SKC_RING_SLOTS)
			return 0;
	} while (!__atomic_compare_exchange_n(&sh->head, &head, head + 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	s = &sh->slots[head % SKC_RING_SLOTS];
	memcpy(s->frame, h, sizeof(*h));
	memcpy(s->frame + sizeof(*h), msg, len);
	s->len = n;
	__atomic_store_n(&s->seq, head + 1, __ATOMIC_RELEASE);
	return 1;
}

/* defer_socket sends the frame over the client's socket without waiting. */
static int defer_socket(skc_client *c, skc_req *h, const uint8_t *msg, uint32_t len)
{
	if (c->fd < 0)
		return 0; /* not connected yet: the call path connects */
	if (send_frame(c->fd, h, msg, len, MSG_DONTWAIT) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			skc_client_close(c);
			c->retry_at_ms = skc_now_ms() + 10;
		}
		return 0; /* the service is behind: wait for it like any call */
	}
	return 1;
}

int skc_standing(skc_client *c, const skc_req *hdr, const uint8_t *msg, uint32_t len, skc_reply *out)
{
	skc_req h;
	uint32_t g, at;
	int tl;

	if (c->shared == NULL || len > SKC_MAX_MESSAGE)
		return 0;
	g = __atomic_load_n(&c->shared->grant, __ATOMIC_ACQUIRE);
	if (g == 0)
		return 0;
	at = skc_standing_site((const char *)msg, len);
	if (at == 0)
		return 0;
	h = *hdr;
	h.magic = SKC_MAGIC;
	h.op = SKC_OP_DEFERRED;
	h.seq = ++c->seq;
	h.len = len;
	h.sent_ms = skc_now_ms();
	h.granted = g;
	if (!ring_put(c->shared, &h, msg, len) && !defer_socket(c, &h, msg, len))
		return 0;
	if (g != c->standing_g) { /* formatted once per grant, not per message */
		c->standing_len = (uint32_t)snprintf(c->standing_text, sizeof(c->standing_text), "=%u", g);
		c->standing_g = g;
	}
	tl = (int)c->standing_len;
	c->standing_splice.off = at;
	c->standing_splice.del = 0;
	c->standing_splice.text_off = 0;
	c->standing_splice.text_len = (uint32_t)tl;
	out->status = SKC_OK;
	out->flags = SKC_R_CHANGED;
	out->n_splices = 1;
	out->splices = &c->standing_splice;
	out->text = (const uint8_t *)c->standing_text;
	out->text_len = (uint32_t)tl;
	return 1;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int skc_control(skc_client *c, uint8_t op, const char *arg, skc_reply *out)
{
	skc_req h;
	int rc;
	uint32_t len = arg ? (uint32_t)strlen(arg) : 0;
	memset(&h, 0, sizeof(h));
	h.op = op;
	if (len > SKC_MAX_MESSAGE)
		return -1;
	c->retry_at_ms = 0; /* an operator's command tries at once */
	if (!connect_service(c))
		return 0;
	/* A reload compiles a module: far longer than a message's bound. */
	set_timeout(c->fd, SKC_CONTROL_TIMEOUT_MS);
	rc = roundtrip(c, &h, (const uint8_t *)arg, len, out);
	if (c->fd >= 0)
		set_timeout(c->fd, c->timeout_ms);
	return rc;
}

/* ---------------------------------------------------------------- fast path */

static const char *default_methods[] = {"REGISTER", "INVITE", "SUBSCRIBE", "REFER", "UPDATE"};

void skc_fast_cfg_methods(skc_fast_cfg *cfg, const char *list)
{
	int i;
	cfg->n_methods = 0;
	if (!list || !*list) {
		for (i = 0; i < 5; i++)
			snprintf(cfg->methods[cfg->n_methods++], 16, "%s", default_methods[i]);
		return;
	}
	while (*list && cfg->n_methods < 8) {
		int n = 0;
		while (*list == '|' || *list == ',' || *list == ' ')
			list++;
		while (*list && *list != '|' && *list != ',' && *list != ' ') {
			if (n < 15) {
				char ch = *list;
				cfg->methods[cfg->n_methods][n++] = (ch >= 'a' && ch <= 'z') ? ch - 32 : ch;
			}
			list++;
		}
		if (n > 0) {
			cfg->methods[cfg->n_methods][n] = 0;
			cfg->n_methods++;
		}
	}
}

uint32_t skc_header_end(const char *msg, uint32_t len)
{
	const char *p = memmem(msg, len, "\r\n\r\n", 4);
	return p ? (uint32_t)(p - msg) + 4 : len;
}

static inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

/* index_letters returns the offset of w (lower-case ASCII letters only) in
 * m[0,n), ignoring case, or -1. It finds w's letter at index a (its
 * anchor) in either case with memchr (vectorised in libc) and compares the
 * rest with c | 0x20, which is exact for letters: every message crossing a
 * worker is scanned this way, so the scans cost a fraction of a
 * microsecond. The anchor is the word's rarest letter in SIP text: a
 * REGISTER has an 'e' in most header lines (sipp's: 11) and an 'x'
 * hardly anywhere but in "expires" (sipp's: 2), so "expires" is looked
 * for by its 'x'.
 * Candidates are looked for a window of SCAN_WINDOW bytes at a time, so
 * that neither memchr runs more than a window past the match returned: a
 * caller that scans on after each match (may_deregister) stays linear in
 * the message, where searching to the end for the other case made a
 * header of 6,400 "expires" cost 3.2 ms. */
#define SCAN_WINDOW 128
static int64_t index_letters(const char *m, uint32_t n, const char *w, uint32_t wl, uint32_t a)
{
	const char *end, *base, *wend, *lo, *up, *q, *p;
	uint32_t j;

	if (n < wl)
		return -1;
	/* A match starting at p has its anchor at p + a; p is in
	 * [m, m + n - wl], so the anchor is in [m + a, end). */
	end = m + n - wl + 1 + a;
	for (base = m + a; base < end; base = wend) {
		wend = end - base > SCAN_WINDOW ? base + SCAN_WINDOW : end;
		lo = memchr(base, w[a], (size_t)(wend - base));
		up = memchr(base, w[a] - 32, (size_t)(wend - base));
		while (lo != NULL || up != NULL) {
			if (lo != NULL && (up == NULL || lo < up)) {
				q = lo;
				lo = memchr(lo + 1, w[a], (size_t)(wend - lo - 1));
			} else {
				q = up;
				up = memchr(up + 1, w[a] - 32, (size_t)(wend - up - 1));
			}
			p = q - a;
			for (j = 0; j < wl && (j == a || (p[j] | 0x20) == w[j]); j++)
				;
			if (j == wl)
				return p - m;
		}
	}
	return -1;
}

/* contains_fold reports whether the lower-case word w is in m[0,n), ignoring case. */
static int contains_fold(const char *m, uint32_t n, const char *w, uint32_t wl)
{
	return index_letters(m, n, w, wl, 0) >= 0;
}

/* may_deregister: a '*' Contact or an expires (header or parameter) of 0. */
static int may_deregister(const char *m, uint32_t n)
{
	uint32_t i, j;
	int64_t k;
	if (memchr(m, '*', n))
		return 1;
	for (i = 0; i + 7 <= n; i++) {
		if ((k = index_letters(m + i, n - i, "expires", 7, 1)) < 0)
			return 0;
		i += (uint32_t)k;
		j = i + 7;
		while (j < n && (m[j] == ' ' || m[j] == '\t'))
			j++;
		if (j >= n || (m[j] != ':' && m[j] != '='))
			continue;
		j++;
		while (j < n && (m[j] == ' ' || m[j] == '\t'))
			j++;
		while (j < n && m[j] == '0')
			j++;
		if (j > i + 8 && m[j - 1] == '0' && (j >= n || m[j] < '0' || m[j] > '9'))
			return 1;
	}
	return 0;
}

int skc_fast_path(const skc_fast_cfg *cfg, int dir, const char *msg, uint32_t len)
{
	uint32_t hl, sp, i;
	if (len < 8)
		return 0;
	hl = skc_header_end(msg, len);
	if (memcmp(msg, "SIP/2.0 ", 8) == 0)
		return contains_fold(msg, hl, "keep", 4) ? SKC_KIND_RESPONSE : 0;
	for (sp = 0; sp < hl && sp < 32 && msg[sp] != ' '; sp++)
		;
	if (sp == 0 || sp >= hl || sp >= 32)
		return 0;
	if (dir == SKC_DIR_OUT) {
		if (cfg->sender) {
			for (i = 0; i < (uint32_t)cfg->n_methods; i++) {
				if (strlen(cfg->methods[i]) == sp && memcmp(cfg->methods[i], msg, sp) == 0)
					return SKC_KIND_REQUEST;
			}
		}
		return contains_fold(msg, hl, "keep", 4) ? SKC_KIND_REQUEST : 0;
	}
	if (sp == 8 && memcmp(msg, "REGISTER", 8) == 0)
		return may_deregister(msg, hl) ? SKC_KIND_REQUEST : 0;
	if (sp == 3 && memcmp(msg, "BYE", 3) == 0)
		return SKC_KIND_REQUEST;
	return 0;
}

/* ---------------------------------------------------------------- standing grant */

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static int is_lws(char ch) { return ch == ' ' || ch == '\t'; }

static int name_is(const char *n, uint32_t nl, const char *w)
{
	uint32_t i;
	if (strlen(w) != nl)
		return 0;
	for (i = 0; i < nl; i++)
		if (lower(n[i]) != w[i])
			return 0;
	return 1;
}

/* cseq_is_register: "<digits> REGISTER", spaces and tabs around. */
static int cseq_is_register(const char *v, uint32_t n)
{
	uint32_t i = 0, d;
	while (n > 0 && is_lws(v[n - 1]))
		n--;
	while (i < n && is_lws(v[i]))
		i++;
	d = i;
	while (i < n && is_digit(v[i]))
		i++;
	if (i == d || i == n || !is_lws(v[i]))
		return 0;
	while (i < n && is_lws(v[i]))
		i++;
	return n - i == 8 && memcmp(v + i, "REGISTER", 8) == 0;
}

uint32_t skc_standing_site(const char *m, uint32_t len)
{
	int64_t k, e;
	uint32_t hl, off, eol, at = 0, colon, nl, j;
	int seen_via = 0, cseq = 0;

	if (len < 13 || memcmp(m, "SIP/2.0 2", 9) != 0 || !is_digit(m[9]) || !is_digit(m[10]) || m[11] != ' ')
		return 0;
	e = (int64_t)skc_header_end(m, len) - 4;
	if (e < 0 || (uint32_t)e + 4 > len || memcmp(m + e, "\r\n\r\n", 4) != 0)
		return 0;
	hl = (uint32_t)e + 2; /* through the last header's CRLF */
	k = index_letters(m, hl, "keep", 4, 0);
	if (k < 0 || index_letters(m + k + 4, hl - (uint32_t)k - 4, "keep", 4, 0) >= 0)
		return 0;
	off = (uint32_t)((const char *)memmem(m, hl, "\r\n", 2) - m) + 2;
	while (off < hl) {
		for (eol = off; eol < hl && m[eol] != '\r' && m[eol] != '\n'; eol++)
			;
		if (eol + 1 >= hl || m[eol] != '\r' || m[eol + 1] != '\n')
			return 0; /* a bare CR or LF */
		if (eol > off && !is_lws(m[off])) {
			const char *col = memchr(m + off, ':', eol - off);
			colon = col ? (uint32_t)(col - m) : 0;
			if (colon > off) {
				nl = colon - off;
				while (nl > 0 && is_lws(m[off + nl - 1]))
					nl--;
				if (name_is(m + off, nl, "via") || name_is(m + off, nl, "v")) {
					if (!seen_via) {
						seen_via = 1;
						if ((uint32_t)k > off && (uint32_t)k < eol) {
							if (m[k - 1] != ';' || memchr(m + colon + 1, ',', (uint32_t)k - colon - 1) ||
									memchr(m + colon + 1, '"', (uint32_t)k - colon - 1))
								return 0;
							for (j = (uint32_t)k + 4; j < eol && is_lws(m[j]); j++)
								;
							if (j != eol && m[j] != ';' && m[j] != ',')
								return 0;
							at = (uint32_t)k + 4;
						}
					}
				} else if (name_is(m + off, nl, "cseq")) {
					if (++cseq > 1 || !cseq_is_register(m + colon + 1, eol - colon - 1))
						return 0;
				} else if (name_is(m + off, nl, "flow-timer")) {
					return 0;
				}
			}
		}
		off = eol + 2;
	}
	return (at > 0 && cseq == 1) ? at : 0;
}

/* ---------------------------------------------------------------- edits */

uint32_t skc_applied_len(const skc_reply *r, uint32_t len)
{
	uint32_t i, n = len;
	for (i = 0; i < r->n_splices; i++)
		n = n - r->splices[i].del + r->splices[i].text_len;
	return n;
}

int skc_apply_check(const skc_reply *r, uint32_t len)
{
	uint32_t i, at = 0;
	for (i = 0; i < r->n_splices; i++) {
		const skc_splice *s = &r->splices[i];
		if (s->off < at || s->off > len || s->del > len - s->off ||
				s->text_off > r->text_len || s->text_len > r->text_len - s->text_off)
			return -1;
		at = s->off + s->del;
	}
	return 0;
}

int skc_apply(const skc_reply *r, const char *msg, uint32_t len, char *out, uint32_t cap)
{
	uint32_t i, at = 0, o = 0;
	if (skc_apply_check(r, len) < 0)
		return -1;
	for (i = 0; i < r->n_splices; i++) {
		const skc_splice *s = &r->splices[i];
		if (o + (s->off - at) + s->text_len > cap)
			return -1;
		memcpy(out + o, msg + at, s->off - at);
		o += s->off - at;
		memcpy(out + o, r->text + s->text_off, s->text_len);
		o += s->text_len;
		at = s->off + s->del;
	}
	if (o + (len - at) > cap)
		return -1;
	memcpy(out + o, msg + at, len - at);
	return (int)(o + (len - at));
}

/* ---------------------------------------------------------------- STUN */

int skc_stun_class(const uint8_t *b, uint32_t len)
{
	uint16_t type, mlen;
	if (len < 20 || (b[0] & 0xc0) != 0)
		return 0;
	if (b[4] != 0x21 || b[5] != 0x12 || b[6] != 0xa4 || b[7] != 0x42)
		return 0;
	type = (uint16_t)(b[0] << 8 | b[1]);
	mlen = (uint16_t)(b[2] << 8 | b[3]);
	if ((mlen & 3) != 0 || (uint32_t)mlen + 20 != len)
		return 0;
	switch (type & 0x0110) {
	case 0x0000: return 1;
	case 0x0010: return 2;
	case 0x0100: return 3;
	default: return 4;
	}
}

void skc_stun_request(const uint8_t txid[12], uint8_t out[20])
{
	out[0] = 0x00; out[1] = 0x01; out[2] = 0; out[3] = 0;
	out[4] = 0x21; out[5] = 0x12; out[6] = 0xa4; out[7] = 0x42;
	memcpy(out + 8, txid, 12);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* crc32 is the IEEE CRC-32 FINGERPRINT uses (RFC 5389 §15.5); bitwise, as
 * it runs once per answered request on a few dozen bytes. */
static uint32_t crc32(const uint8_t *b, uint32_t n)
{
	uint32_t c = 0xffffffffu;
	uint32_t i;
	int k;
	for (i = 0; i < n; i++) {
		c ^= b[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* has_fingerprint walks req's attributes (bounded by len) for FINGERPRINT. */
static int has_fingerprint(const uint8_t *req, uint32_t len)
{
	uint32_t off = 20;
	while (off + 4 <= len) {
		uint16_t t = (uint16_t)(req[off] << 8 | req[off + 1]);
		uint32_t l = (uint32_t)(req[off + 2] << 8 | req[off + 3]);
		if (t == 0x8028)
			return 1;
		off += 4 + ((l + 3) & ~3u);
	}
	return 0;
}

int skc_stun_answer(const uint8_t *req, uint32_t len, const skc_addr *src, uint8_t *out, uint32_t cap)
{
	static const char software[] = "sipkeep";
	int cookie, alen, i;
	uint32_t n;
	uint16_t mlen;
	uint8_t *a;

	if (len < 20 || req[0] != 0x00 || req[1] != 0x01 || cap < 64 || (src->af != 4 && src->af != 6))
		return 0;
	mlen = (uint16_t)(req[2] << 8 | req[3]);
	if ((mlen & 3) != 0 || (uint32_t)mlen + 20 != len)
		return 0;
	cookie = req[4] == 0x21 && req[5] == 0x12 && req[6] == 0xa4 && req[7] == 0x42;
	alen = src->af == 6 ? 16 : 4;

	out[0] = 0x01; out[1] = 0x01; /* Binding success response */
	memcpy(out + 4, req + 4, 16); /* cookie and transaction id, or the 3489 id */
	a = out + 20;
	put16(a, cookie ? 0x0020 : 0x0001); /* XOR-MAPPED-ADDRESS or MAPPED-ADDRESS */
	put16(a + 2, (uint16_t)(4 + alen));
	a[4] = 0;
	a[5] = alen == 4 ? 0x01 : 0x02;
	if (cookie) {
		put16(a + 6, (uint16_t)(src->port ^ 0x2112));
		for (i = 0; i < alen; i++)
			a[8 + i] = src->addr[i] ^ req[4 + i]; /* cookie, then the transaction id */
	} else {
		put16(a + 6, src->port);
		memcpy(a + 8, src->addr, (size_t)alen);
	}
	n = 20 + 8 + (uint32_t)alen;
	if (cookie) {
		a = out + n;
		put16(a, 0x8022); /* SOFTWARE */
		put16(a + 2, sizeof software - 1);
		memset(a + 4, 0, 8);
		memcpy(a + 4, software, sizeof software - 1);
		n += 4 + 8;
		if (has_fingerprint(req, len)) {
			uint32_t crc;
			put16(out + 2, (uint16_t)(n - 20 + 8)); /* the length covers FINGERPRINT */
			crc = crc32(out, n) ^ 0x5354554eu;
			a = out + n;
			put16(a, 0x8028);
			put16(a + 2, 4);
			a[4] = (uint8_t)(crc >> 24); a[5] = (uint8_t)(crc >> 16);
			a[6] = (uint8_t)(crc >> 8); a[7] = (uint8_t)crc;
			n += 8;
		}
	}
	put16(out + 2, (uint16_t)(n - 20));
	return (int)n;
}

/* ---------------------------------------------------------------- service */

typedef int64_t (*svc_start_fn)(const char *, const char *, const char *, const char *, const char *, char *, int32_t);
typedef int32_t (*svc_next_fn)(int64_t, uint8_t *, uint32_t, int32_t);
typedef int32_t (*svc_event_fn)(int64_t, const uint8_t *, uint32_t);
typedef int32_t (*svc_control_fn)(int64_t, uint8_t, const char *, char *, int32_t);
typedef void (*svc_stop_fn)(int64_t);
typedef int32_t (*svc_log_fn)(int64_t, char *, int32_t);
typedef int32_t (*svc_share_fn)(int64_t, uint8_t *, uint32_t);

#define SKC_MAX_PENDING 256
#define SKC_ACTION_BATCH 64

struct pending_ping {
	skc_action a;
	uint64_t mark;
	int64_t give_up_ms;
};

struct skc_service {
	void *dl;
	int64_t h;
	svc_next_fn next;
	svc_event_fn event;
	svc_control_fn control;
	svc_stop_fn stop;
	svc_log_fn next_log;
	svc_share_fn share;
	skc_shared *shared;
	int n_pending;
	struct pending_ping pending[SKC_MAX_PENDING];
	skc_action batch[SKC_ACTION_BATCH];
};

skc_service *skc_service_open(const char *lib, const char *module, const char *policy,
		const char *options, const char *sock, const char *locals, char *err, int err_cap)
{
	skc_service *s;
	svc_start_fn start;

	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_cap, "out of memory");
		return NULL;
	}
	s->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!s->dl) {
		snprintf(err, err_cap, "dlopen %s: %s", lib, dlerror());
		free(s);
		return NULL;
	}
	start = (svc_start_fn)dlsym(s->dl, "sipkeep_svc_start");
	s->next = (svc_next_fn)dlsym(s->dl, "sipkeep_svc_next_action");
	s->event = (svc_event_fn)dlsym(s->dl, "sipkeep_svc_event");
	s->control = (svc_control_fn)dlsym(s->dl, "sipkeep_svc_control");
	s->stop = (svc_stop_fn)dlsym(s->dl, "sipkeep_svc_stop");
	s->next_log = (svc_log_fn)dlsym(s->dl, "sipkeep_svc_next_log");
	s->share = (svc_share_fn)dlsym(s->dl, "sipkeep_svc_share");
	if (!start || !s->next || !s->event || !s->control || !s->stop || !s->next_log || !s->share) {
		snprintf(err, err_cap, "%s has no sipkeep service API (sipkeep_svc_*): rebuild it", lib);
		free(s); /* a Go runtime cannot be unloaded: leave the library mapped */
		return NULL;
	}
	s->h = start(module, policy ? policy : "", options ? options : "", sock, locals ? locals : "", err, err_cap);
	if (s->h <= 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void report_pong(skc_service *s, const skc_action *ping)
{
	uint8_t buf[sizeof(skc_req) + 2];
	skc_req *r = (skc_req *)buf;
	memset(r, 0, sizeof(*r));
	r->magic = SKC_MAGIC;
	r->op = SKC_OP_CALL;
	r->kind = SKC_KIND_PONG;
	r->dir = SKC_DIR_IN;
	r->transport = ping->transport;
	r->role = SKC_ROLE_PROXY;
	r->conn_id = ping->conn_id;
	r->local = ping->local;
	r->remote = ping->remote;
	r->len = 2;
	memcpy(buf + sizeof(skc_req), "\r\n", 2);
	s->event(s->h, buf, sizeof(buf));
}

static void check_pongs(skc_service *s, const skc_executor *ex)
{
	int i = 0;
	int64_t now = skc_now_ms();
	while (i < s->n_pending) {
		struct pending_ping *p = &s->pending[i];
		int r = ex->pong_seen ? ex->pong_seen(ex->ctx, &p->a, p->mark) : -1;
		if (r == 1)
			report_pong(s, &p->a);
		if (r != 0 || now > p->give_up_ms) {
			s->pending[i] = s->pending[--s->n_pending];
			continue;
		}
		i++;
	}
}

static void drain_logs(skc_service *s, const skc_executor *ex)
{
	char line[1024];
	int level, i;
	for (i = 0; i < 256; i++) {
		level = s->next_log(s->h, line, sizeof(line));
		if (level < 0)
			return;
		if (ex->log)
			ex->log(ex->ctx, level, line);
	}
}

int skc_service_step(skc_service *s, const skc_executor *ex, int timeout_ms)
{
	int n, i;
	if (!s)
		return -1;
	if (s->n_pending > 0 && timeout_ms > 20)
		timeout_ms = 20; /* look for pongs every 20 ms while pings are out */
	n = s->next(s->h, (uint8_t *)s->batch, sizeof(s->batch), timeout_ms);
	if (n < 0) {
		if (s->shared)
			__atomic_store_n(&s->shared->grant, 0, __ATOMIC_RELEASE);
		return -1;
	}
	for (i = 0; i < n; i++) {
		skc_action *a = &s->batch[i];
		if (a->kind == SKC_ACT_SEND_STUN && ex->send_stun) {
			uint8_t pkt[20];
			skc_stun_request(a->txid, pkt);
			ex->send_stun(ex->ctx, a, pkt, sizeof(pkt));
		} else if (a->kind == SKC_ACT_SEND_PING && ex->send_ping) {
			uint64_t mark = 0;
			if (ex->send_ping(ex->ctx, a, &mark) == 0 && s->n_pending < SKC_MAX_PENDING) {
				struct pending_ping *p = &s->pending[s->n_pending++];
				p->a = *a;
				p->mark = mark;
				p->give_up_ms = skc_now_ms() + a->value + 1000;
			}
		}
		if (ex->on_action)
			ex->on_action(ex->ctx, a);
	}
	if (s->n_pending > 0)
		check_pongs(s, ex);
	drain_logs(s, ex);
	return n;
}

int skc_service_share(skc_service *s, skc_shared *sh)
{
	if (!s || !sh || !s->share)
		return -1;
	s->shared = sh;
	return s->share(s->h, (uint8_t *)sh, (uint32_t)sizeof(*sh));
}

int skc_service_control(skc_service *s, uint8_t op, const char *arg, char *out, int cap)
{
	if (!s)
		return SKC_E_FAILED;
	return s->control(s->h, op, arg ? arg : "", out, cap);
}

void skc_service_close(skc_service *s)
{
	if (!s)
		return;
	if (s->shared)
		__atomic_store_n(&s->shared->grant, 0, __ATOMIC_RELEASE); /* workers call again */
	s->stop(s->h);
	free(s); /* the library stays loaded: a Go runtime cannot be unloaded */
}
