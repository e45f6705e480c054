/*
 * edge_proxy.c — the edge's reverse proxy: a request whose Host has a proxy route
 * (proxy.h) is forwarded to its upstream on the loopback and the answer streamed back.
 *
 * The edge's HTTP thread must never block, so the handler only copies what it needs
 * (method, path and query, the headers it forwards, the body), defers the request and
 * hands it to a worker thread of its own; the worker connects, sends, reads the answer's
 * head, and answers: small bodies (Content-Length up to PROXY_SMALL_BODY) at once, with
 * their length; others through a pull stream fed from a bounded buffer — the worker waits
 * while the buffer is full, so a slow client slows the upstream down instead of growing
 * memory. A worker exists only while its request does: an idle edge has no thread here.
 *
 * Every request header is forwarded as received except the hop-by-hop ones (and any the
 * Connection header names) and those the proxy writes itself (Host, Via, X-Forwarded-*,
 * Content-Length). Hop-by-hop headers are never forwarded, in either direction.
 *
 * Stopping (edge_proxy_stop()): every upstream connection is shut down, which ends the
 * workers' waits at once; the stop waits for them to answer and leave.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/http.h"
#include "sites/edge_int.h"
#include "sites/proxy.h"
#include "sites/upstream.h"
#include "util/buf.h"
#include "util/timeutil.h"

#define PROXY_SMALL_BODY  (64u << 10) /* answered at once, with Content-Length */
#define PROXY_STREAM_BUF  (256u << 10)
#define PROXY_WORKERS_MAX 256
#define PROXY_STACK       (256u << 10)
#define PROXY_TEXT        "text/plain; charset=utf-8"
#define PROXY_VIA         "1.1 ferry"

/* Request headers not forwarded: hop-by-hop ones (also any the Connection header
 * names), and those the proxy writes itself. */
static const char *const dropped_request_headers[] = {
        "Connection", "Keep-Alive",        "Proxy-Connection",  "Proxy-Authorization", "TE",
        "Trailer",    "Transfer-Encoding", "Upgrade",           "Content-Length",      "Host",
        "Via",        "X-Forwarded-For",   "X-Forwarded-Proto", "X-Forwarded-Host",    NULL};

struct forward_ctx {
	struct buf *b;
	const char *connection; /* the Connection header's value: more hop-by-hop names */
	int rc;
};

/* Whether `name` is one of the comma-separated tokens of `list`. */
static bool in_token_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, " \t,");
		if (len == n && !strncasecmp(p, name, n))
			return true;
		p += len;
	}
	return false;
}

static int forward_header(void *vctx, const char *name, const char *value)
{
	struct forward_ctx *c = vctx;
	for (size_t i = 0; dropped_request_headers[i]; i++)
		if (!strcasecmp(name, dropped_request_headers[i]))
			return 0;
	if (c->connection && in_token_list(c->connection, name))
		return 0;
	if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n"))
		return 0; /* never let a header split the request */
	if (buf_printf(c->b, "%s: %s\r\n", name, value) < 0) {
		c->rc = -1;
		return 1;
	}
	return 0;
}

/* Answer headers not passed back: hop-by-hop ones, and those the edge's server sets. */
static const char *const dropped_answer_headers[] = {"Connection",
                                                     "Keep-Alive",
                                                     "Proxy-Authenticate",
                                                     "Proxy-Connection",
                                                     "TE",
                                                     "Trailer",
                                                     "Transfer-Encoding",
                                                     "Upgrade",
                                                     "Content-Length",
                                                     "Content-Type",
                                                     "Date",
                                                     "Via",
                                                     NULL};

struct job;

struct edge_proxy {
	const struct logsink *log;
	int timeout_ms;
	pthread_mutex_t mu;
	pthread_cond_t idle;
	unsigned workers;
	bool stopping;
	struct job *jobs; /* running, for stop */
};

/* A streamed answer: the worker fills `data`, the server's thread drains it. */
struct pipe {
	atomic_int refs; /* the worker's and the stream's */
	pthread_mutex_t mu;
	pthread_cond_t room;
	char *data;
	size_t off, len;
	bool eof, failed, gone;
};

struct job {
	struct edge_proxy *p;
	struct job *prev, *next;
	struct http_request *req; /* deferred */
	char *upstream;
	unsigned port;
	bool head;
	char *request; /* head and body, ready to send */
	size_t request_len;
	char *what; /* "GET /path" for the log (never the query) */
	struct up_conn conn;
	int live_fd; /* conn.fd once connected, for stop; under p->mu */
};

static void pipe_unref(struct pipe *pp)
{
	if (atomic_fetch_sub(&pp->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&pp->mu);
	pthread_cond_destroy(&pp->room);
	free(pp->data);
	free(pp);
}

/* ---- the handler's part (server thread) ---- */

static bool is_query_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("-._~!$'()*,/:@", c);
}

static int put_query_part(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int rc = *p == ' '           ? buf_puts(b, "+")
		         : is_query_safe(*p) ? buf_append(b, p, 1)
		                             : buf_printf(b, "%%%02X", *p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* "METHOD /path?query HTTP/1.1" and the headers, then the body. The query, decoded by
 * the HTTP layer, is encoded again (form encoding: ' ' as '+'). */
static int build_request(struct http_request *req, struct buf *b)
{
	int rc = buf_printf(b, "%s %s", http_request_method(req), http_request_path(req));
	size_t nq = http_request_query_count(req);
	for (size_t i = 0; i < nq && rc == 0; i++) {
		const char *value = NULL;
		const char *name = http_request_query_at(req, i, &value);
		rc = buf_puts(b, i ? "&" : "?") < 0 || put_query_part(b, name) < 0 ? -1 : 0;
		if (rc == 0 && value && *value)
			rc = buf_puts(b, "=") < 0 || put_query_part(b, value) < 0 ? -1 : 0;
	}
	const char *host = http_request_header(req, "Host");
	const char *remote = http_request_remote(req);
	const char *xff = http_request_header(req, "X-Forwarded-For");
	const char *via = http_request_header(req, "Via");
	if (rc == 0)
		rc = buf_printf(b, " HTTP/1.1\r\nHost: %s\r\n", host ? host : "");
	if (rc == 0) {
		struct forward_ctx fc = {.b = b,
		                         .connection = http_request_header(req, "Connection")};
		http_request_header_each(req, forward_header, &fc);
		rc = fc.rc;
	}
	size_t len = 0;
	const char *body = http_request_body(req, &len);
	if (rc == 0)
		rc = buf_printf(b,
		                "X-Forwarded-For: %s%s%s\r\nX-Forwarded-Proto: http\r\n"
		                "X-Forwarded-Host: %s\r\nVia: %s%s" PROXY_VIA "\r\n"
		                "Connection: close\r\n",
		                xff ? xff : "", xff ? ", " : "", remote, host ? host : "",
		                via ? via : "", via ? ", " : "");
	const char *method = http_request_method(req);
	if (rc == 0 && (len || (strcmp(method, "GET") && strcmp(method, "HEAD") &&
	                        strcmp(method, "DELETE") && strcmp(method, "OPTIONS"))))
		rc = buf_printf(b, "Content-Length: %zu\r\n", len);
	if (rc == 0)
		rc = buf_puts(b, "\r\n");
	if (rc == 0 && len)
		rc = buf_append(b, body, len);
	return rc;
}

static void job_free(struct job *j)
{
	up_close(&j->conn);
	free(j->upstream);
	free(j->request);
	free(j->what);
	free(j);
}

/* The worker is over: unlisted, counted out, freed. */
static void job_done(struct job *j)
{
	struct edge_proxy *p = j->p;
	pthread_mutex_lock(&p->mu);
	if (j->prev)
		j->prev->next = j->next;
	else
		p->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->live_fd = -1;
	if (--p->workers == 0)
		pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
	job_free(j);
}

FERRY_PRINTF(3, 4)
static void answer_text(struct http_request *req, unsigned status, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : (size_t)n >= sizeof msg ? sizeof msg - 1 : (size_t)n;
	http_respond_bytes(req, status, PROXY_TEXT, msg, len);
}

/* ---- streaming (the read and end callbacks run on the server's thread) ---- */

static ssize_t pipe_read(void *ctx, char *buf, size_t max)
{
	struct pipe *pp = ctx;
	ssize_t r;
	pthread_mutex_lock(&pp->mu);
	if (pp->len) {
		size_t k = pp->len < max ? pp->len : max;
		memcpy(buf, pp->data + pp->off, k);
		pp->off += k;
		pp->len -= k;
		if (!pp->len)
			pp->off = 0;
		pthread_cond_signal(&pp->room);
		r = (ssize_t)k;
	} else {
		r = pp->eof ? HTTP_STREAM_DONE : pp->failed ? HTTP_STREAM_ABORT : HTTP_STREAM_AGAIN;
	}
	pthread_mutex_unlock(&pp->mu);
	return r;
}

static void pipe_end(void *ctx, enum http_stream_end how)
{
	(void)how;
	struct pipe *pp = ctx;
	pthread_mutex_lock(&pp->mu);
	pp->gone = true;
	pthread_cond_signal(&pp->room);
	pthread_mutex_unlock(&pp->mu);
	pipe_unref(pp);
}

/* Waits (mu held) until `need` bytes fit, the client is gone, or idle_ms passed. */
static bool pipe_wait_room(struct pipe *pp, size_t need, int idle_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += idle_ms / 1000;
	until.tv_nsec += (long)(idle_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!pp->gone && PROXY_STREAM_BUF - pp->len < need)
		if (pthread_cond_timedwait(&pp->room, &pp->mu, &until) == ETIMEDOUT)
			return false;
	if (!pp->gone && PROXY_STREAM_BUF - pp->off - pp->len < need) {
		memmove(pp->data, pp->data + pp->off, pp->len);
		pp->off = 0;
	}
	return !pp->gone;
}

static void stream_body(struct job *j, unsigned status, const char *ctype)
{
	struct edge_proxy *p = j->p;
	struct pipe *pp = xcalloc(1, sizeof *pp);
	atomic_init(&pp->refs, 2);
	pthread_mutex_init(&pp->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pp->room, &ca);
	pthread_condattr_destroy(&ca);
	pp->data = xmalloc(PROXY_STREAM_BUF);
	struct http_stream *s = http_respond_stream(j->req, status, ctype, pipe_read, pipe_end, pp);
	char chunk[UP_RBUF];
	for (;;) {
		pthread_mutex_lock(&pp->mu);
		bool go = pipe_wait_room(pp, sizeof chunk, p->timeout_ms);
		pthread_mutex_unlock(&pp->mu);
		if (!go)
			break;
		struct err err;
		ssize_t n = up_read_body(&j->conn, chunk, sizeof chunk, p->timeout_ms, j->upstream,
		                         &err);
		pthread_mutex_lock(&pp->mu);
		if (n > 0) {
			memcpy(pp->data + pp->off + pp->len, chunk, (size_t)n);
			pp->len += (size_t)n;
		} else if (n == 0) {
			pp->eof = true;
		} else {
			pp->failed = true;
		}
		pthread_mutex_unlock(&pp->mu);
		http_stream_wake(s);
		if (n <= 0) {
			if (n < 0)
				logsink_printf(p->log, "edge: proxy %s: %s", j->what, err.msg);
			break;
		}
	}
	pthread_mutex_lock(&pp->mu);
	if (!pp->eof)
		pp->failed = true; /* the client sees a cut answer, not a short one */
	pthread_mutex_unlock(&pp->mu);
	http_stream_wake(s);
	http_stream_release(s);
	pipe_unref(pp);
}

/* ---- the answer ---- */

static bool listed(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcasecmp(name, list[i]))
			return true;
	return false;
}

/* Whether `name` is one of the comma-separated tokens of a Connection header. */
static bool in_connection(const char *connection, const char *name)
{
	if (!connection)
		return false;
	size_t n = strlen(name);
	for (const char *p = connection; *p;) {
		p += strspn(p, " \t,");
		size_t k = strcspn(p, " \t,");
		if (k == n && !strncasecmp(p, name, n))
			return true;
		p += k;
	}
	return false;
}

static void answer(struct job *j, const struct up_head *h)
{
	struct edge_proxy *p = j->p;
	const char *connection = up_head_get(h, "Connection");
	for (size_t i = 0; i < h->n; i++) {
		const char *name = h->h[i].name;
		if (listed(name, dropped_answer_headers) || in_connection(connection, name))
			continue;
		if (http_response_header(j->req, name, h->h[i].value) < 0)
			logsink_printf(p->log, "edge: proxy %s: answer header %.60s dropped",
			               j->what, name);
	}
	const char *via = up_head_get(h, "Via");
	char *v = xasprintf("%s%s" PROXY_VIA, via ? via : "", via ? ", " : "");
	http_response_header(j->req, "Via", v);
	free(v);
	const char *ctype = up_head_get(h, "Content-Type");
	if (j->conn.body == UP_BODY_NONE) {
		http_respond_bytes(j->req, h->status, ctype, NULL, 0);
		return;
	}
	if (j->conn.body != UP_BODY_LENGTH || j->conn.left > PROXY_SMALL_BODY) {
		stream_body(j, h->status, ctype);
		return;
	}
	size_t size = (size_t)j->conn.left, got = 0;
	char *data = xmalloc(size ? size : 1);
	struct err err;
	while (got < size) {
		ssize_t n = up_read_body(&j->conn, data + got, size - got, p->timeout_ms,
		                         j->upstream, &err);
		if (n <= 0) {
			logsink_printf(p->log, "edge: proxy %s: %s", j->what, n ? err.msg : "cut");
			free(data);
			answer_text(j->req, n == UP_ETIMEOUT ? 504 : 502,
			            "%s: the upstream's answer was cut\n",
			            n == UP_ETIMEOUT ? "504 Gateway Timeout" : "502 Bad Gateway");
			return;
		}
		got += (size_t)n;
	}
	http_respond_bytes(j->req, h->status, ctype, data, size);
	free(data);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	struct edge_proxy *p = j->p;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)j->port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int64_t deadline = mono_ms() + p->timeout_ms;
	struct err err;
	int rc = up_connect(&j->conn, (const struct sockaddr *)&sa, sizeof sa, j->upstream,
	                    p->timeout_ms, &err);
	pthread_mutex_lock(&p->mu);
	j->live_fd = j->conn.fd;
	if (p->stopping && j->live_fd >= 0)
		shutdown(j->live_fd, SHUT_RDWR);
	pthread_mutex_unlock(&p->mu);
	if (rc == 0)
		rc = up_send(&j->conn, j->request, j->request_len, deadline, j->upstream, &err);
	struct up_head h;
	if (rc == 0)
		rc = up_read_head(&j->conn, j->head, &h, deadline, j->upstream, &err);
	if (rc < 0) {
		logsink_printf(p->log, "edge: proxy %s: %s", j->what, err.msg);
		if (rc == UP_ETIMEOUT)
			answer_text(j->req, 504,
			            "504 Gateway Timeout: upstream %s did not answer in %d s\n",
			            j->upstream, p->timeout_ms / 1000);
		else if (rc == UP_EREFUSED)
			answer_text(j->req, 502,
			            "502 Bad Gateway: nothing listens on upstream %s\n",
			            j->upstream);
		else
			answer_text(j->req, 502, "502 Bad Gateway: upstream %s failed\n",
			            j->upstream);
	} else {
		answer(j, &h);
		up_head_free(&h);
	}
	job_done(j);
	return NULL;
}

/* ---- the handler's part (server thread) ---- */

void edge_proxy_forward(struct edge_proxy *p, struct http_request *req, const char *upstream)
{
	char up[PROXY_UPSTREAM_MAX];
	unsigned port = 0;
	struct err err;
	if (proxy_upstream_parse(upstream, up, &port, &err) < 0) {
		answer_text(req, 502, "502 Bad Gateway: bad proxy route: %s\n", err.msg);
		return;
	}
	struct buf b;
	buf_init(&b, PROXY_BODY_MAX + UP_HEAD_MAX);
	if (build_request(req, &b) < 0) {
		buf_free(&b);
		answer_text(req, 431, "431 Request Header Fields Too Large\n");
		return;
	}
	struct job *j = xcalloc(1, sizeof *j);
	j->p = p;
	j->req = req;
	j->upstream = xstrdup(up);
	j->port = port;
	j->head = !strcmp(http_request_method(req), "HEAD");
	j->request_len = b.len;
	j->request = buf_detach(&b);
	j->what = xasprintf("%s %s", http_request_method(req), http_request_path(req));
	j->conn.fd = -1;
	j->live_fd = -1;

	pthread_mutex_lock(&p->mu);
	bool refuse = p->stopping || p->workers >= PROXY_WORKERS_MAX;
	if (!refuse) {
		p->workers++;
		j->next = p->jobs;
		if (p->jobs)
			p->jobs->prev = j;
		p->jobs = j;
	}
	pthread_mutex_unlock(&p->mu);
	if (refuse) {
		job_free(j);
		answer_text(req, 503, "503 Service Unavailable: too many proxied requests\n");
		return;
	}
	http_request_defer(req);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, PROXY_STACK);
	pthread_t t;
	int rc = pthread_create(&t, &attr, worker, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		answer_text(req, 503, "503 Service Unavailable: no thread for the proxy\n");
		job_done(j);
	}
}

/* ---- life ---- */

struct edge_proxy *edge_proxy_new(const struct logsink *log, int timeout_ms)
{
	struct edge_proxy *p = xcalloc(1, sizeof *p);
	p->log = log;
	p->timeout_ms = timeout_ms > 0 ? timeout_ms : PROXY_TIMEOUT_MS;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->idle, NULL);
	return p;
}

void edge_proxy_stop(struct edge_proxy *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	for (struct job *j = p->jobs; j; j = j->next)
		if (j->live_fd >= 0)
			shutdown(j->live_fd, SHUT_RDWR);
	while (p->workers)
		pthread_cond_wait(&p->idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void edge_proxy_free(struct edge_proxy *p)
{
	if (!p)
		return;
	edge_proxy_stop(p);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->idle);
	free(p);
}
