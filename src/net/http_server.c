/*
 * http_server.c — the listener, libmicrohttpd's daemon and its request handler, the
 * access log, and the graceful stop.
 *
 * ferry makes the listening socket itself (port 0, IPv6 only for [::1], a readable
 * "address already in use") and hands it to libmicrohttpd, which runs one internal
 * thread on epoll. The URL is given to ferry still percent-encoded (an unescape
 * callback that does nothing) so that http_route.c can split the path before decoding.
 *
 * A request goes through the access handler several times: once when its head is in
 * (route it; refuse it early: 404, 405, 413 by Content-Length, 503 while stopping),
 * once per piece of body (collect it under the route's cap), once at the end (call the
 * handler, queue its answer or suspend until a deferred answer comes), and once more
 * after such a resume (queue the answer).
 */
#include "net/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_LISTEN_BACKLOG 128
#define HTTP_ALLOW_MAX      128 /* the Allow header's value */
#define HTTP_LOG_LINE_MAX   512
#define HTTP_STOP_GRACE_MS  200 /* after the deadline, for the last answers to leave */

void server_log(struct http_server *srv, const char *fmt, ...)
{
	if (!srv->opts.log)
		return;
	char line[HTTP_LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	logsink_printf(srv->opts.log, "http: %s", line);
}

/* libmicrohttpd's own messages. They are not expected to quote request headers, but a
 * message that mentions credentials is replaced rather than trusted. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *srv = cls;
	char msg[HTTP_LOG_LINE_MAX];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (strcasestr(msg, "authorization") || strcasestr(msg, "bearer"))
		server_log(srv, "libmicrohttpd: (a message quoting credentials, not shown)");
	else
		server_log(srv, "libmicrohttpd: %s", msg);
}

static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* The path as the access log shows it: printable, quoted-safe, bounded. */
static void log_path(const char *path, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (o + 4 >= size || o >= HTTP_LOG_PATH_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static void log_access(struct http_server *srv, struct http_request *req,
                       enum MHD_RequestTerminationCode toe)
{
	if (!srv->opts.log)
		return;
	static const char *const why[] = {
	        [MHD_REQUEST_TERMINATED_COMPLETED_OK] = "",
	        [MHD_REQUEST_TERMINATED_WITH_ERROR] = " (cut: error)",
	        [MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = " (cut: timeout)",
	        [MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = " (cut: server stopping)",
	        [MHD_REQUEST_TERMINATED_READ_ERROR] = " (cut: read error)",
	        [MHD_REQUEST_TERMINATED_CLIENT_ABORT] = " (cut: client gone)",
	};
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ms = (double)(now.tv_sec - req->start.tv_sec) * 1e3 +
	            (double)(now.tv_nsec - req->start.tv_nsec) / 1e6;
	char path[HTTP_LOG_PATH_MAX + 8];
	log_path(req->path, path, sizeof path);
	char method[16];
	log_path(req->method, method, sizeof method);
	char status[8] = "-";
	if (req->state == REQ_QUEUED)
		snprintf(status, sizeof status, "%u", req->status);
	const char *reason = (unsigned)toe < sizeof why / sizeof why[0] && why[toe] ? why[toe] : "";
	server_log(srv, "%s \"%s %s\" %s %.1fms%s", req->remote, method, path, status, ms, reason);
}

/* ---- the access handler ---- */

static enum MHD_Result queue_answer(struct http_request *req)
{
	struct http_server *srv = req->srv;
	pthread_mutex_lock(&srv->mu);
	struct MHD_Response *r = req->response;
	unsigned status = req->status;
	req->response = NULL;
	req->state = REQ_QUEUED;
	pthread_mutex_unlock(&srv->mu);
	enum MHD_Result ok = MHD_queue_response(req->conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Answers with a JSON error from the server's thread (no handler involved). */
static void answer_error(struct http_request *req, unsigned status, const char *code,
                         const char *msg)
{
	request_answer(req, status, error_response(code, msg));
}

static bool has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding") ||
	       (cl && strcmp(cl, "0"));
}

/* The request's head is in: route it, or refuse it before its body is read. */
static void begin(struct http_server *srv, struct http_request *req, struct MHD_Connection *c)
{
	struct err err;
	char allow[HTTP_ALLOW_MAX];
	pthread_mutex_lock(&srv->mu);
	bool stopping = srv->stopping;
	pthread_mutex_unlock(&srv->mu);
	if (stopping) {
		http_response_header(req, "Connection", "close");
		answer_error(req, 503, HTTP_ERR_STOPPING, "the server is stopping");
		return;
	}
	if (request_decode(req, c, &err) < 0) {
		answer_error(req, 400, HTTP_ERR_BAD_REQUEST, err.msg);
		return;
	}
	req->route = router_find(srv, req, allow, sizeof allow);
	if (!req->route && srv->fallback.handler)
		req->route = &srv->fallback;
	if (!req->route) {
		char msg[ERR_MSG_MAX];
		if (!allow[0]) {
			snprintf(msg, sizeof msg, "no such endpoint: %s", req->path);
			answer_error(req, 404, HTTP_ERR_NOT_FOUND, msg);
			return;
		}
		snprintf(msg, sizeof msg, "%s is not allowed here (allowed: %s)", req->method,
		         allow);
		http_response_header(req, "Allow", allow);
		answer_error(req, 405, HTTP_ERR_METHOD, msg);
		return;
	}
	req->body.max = req->route->body_max;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno || end == cl || *end) {
			answer_error(req, 400, HTTP_ERR_BAD_REQUEST,
			             "Content-Length is not a number");
			return;
		}
		if (n > req->route->body_max) {
			char msg[ERR_MSG_MAX];
			snprintf(msg, sizeof msg,
			         "the body (%llu bytes) is over this endpoint's limit of %zu bytes",
			         n, req->route->body_max);
			answer_error(req, 413, HTTP_ERR_TOO_LARGE, msg);
		}
	}
}

/* The body is in: the handler answers, defers, or (a bug) does neither. */
static enum MHD_Result finish(struct http_server *srv, struct http_request *req,
                              struct MHD_Connection *c)
{
	if (!req->handled && req->state == REQ_OPEN) {
		req->handled = true;
		req->route->handler(req, req->route->ctx);
	}
	pthread_mutex_lock(&srv->mu);
	if (req->state == REQ_ANSWERED) {
		pthread_mutex_unlock(&srv->mu);
		return queue_answer(req);
	}
	if (req->state == REQ_QUEUED) { /* answered early; nothing more to do */
		pthread_mutex_unlock(&srv->mu);
		return MHD_YES;
	}
	if (req->deferred) {
		req->suspended = true;
		MHD_suspend_connection(c);
		pthread_mutex_unlock(&srv->mu);
		return MHD_YES;
	}
	pthread_mutex_unlock(&srv->mu);
	server_log(srv, "%s %s: the handler gave no answer", req->method, req->path);
	answer_error(req, 500, HTTP_ERR_INTERNAL, "the handler gave no answer");
	return queue_answer(req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	if (!req) {
		req = request_new(srv, c, method, url);
		*con_cls = req;
		pthread_mutex_lock(&srv->mu);
		srv->inflight++;
		pthread_mutex_unlock(&srv->mu);
		begin(srv, req, c);
		/* An early answer to a request with a body is queued now: libmicrohttpd then
		 * skips "100 Continue" and the body, and closes the connection after answering.
		 * Without a body it waits for the final call, which keeps the connection. */
		if (req->state == REQ_ANSWERED && has_body(c))
			return queue_answer(req);
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (req->state == REQ_OPEN && buf_append(&req->body, upload, n) == 0)
			return MHD_YES;
		/* over the cap, in a body of unannounced size: libmicrohttpd cannot answer in
		 * the middle of a body, so drop some more to answer 413 at its end, or cut */
		if (req->state == REQ_OPEN) {
			char msg[ERR_MSG_MAX];
			snprintf(msg, sizeof msg,
			         "the body is over this endpoint's limit of %zu bytes",
			         req->body.max);
			answer_error(req, 413, HTTP_ERR_TOO_LARGE, msg);
			buf_free(&req->body);
		}
		req->discarded += n;
		return req->discarded <= HTTP_BODY_DISCARD_MAX ? MHD_YES : MHD_NO;
	}
	return finish(srv, req, c);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)c;
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	pthread_mutex_lock(&srv->mu);
	/* under the lock: a late responder may be answering this very request */
	log_access(srv, req, toe);
	if (req->listed) {
		if (req->prev)
			req->prev->next = req->next;
		else
			srv->deferred = req->next;
		if (req->next)
			req->next->prev = req->prev;
		req->listed = false;
	}
	req->conn = NULL;
	struct MHD_Response *unsent = req->response;
	req->response = NULL;
	if (--srv->inflight == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->mu);
	if (unsent)
		MHD_destroy_response(unsent);
	request_unref(req);
}

/* ---- listening ---- */

/* "127.0.0.1:8080", "[::1]:0", "localhost:8080" → a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, struct err *err)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port;
	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
			return err_set(err, "listen %s: expected [IPv6]:PORT", s);
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host || memchr(s, ':', colon - s))
			return err_set(
			        err,
			        "listen %s: expected ADDRESS:PORT (IPv6 in brackets: [::1]:8080)",
			        s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535 || port[0] == '-' || port[0] == '+')
		return err_set(err, "listen %s: the port is a number from 0 to 65535", s);
	if (!strcmp(host, "localhost"))
		memcpy(host, "127.0.0.1", 10);
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof *v4;
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof *v6;
	} else {
		return err_set(err, "listen %s: \"%s\" is not an IP address", s, host);
	}
	return 0;
}

static int open_listener(struct http_server *srv, struct err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *at = srv->listen;
	if (parse_listen(at, &ss, &len, err) < 0)
		return -1;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_errno(err, "listen %s", at);
	int one = 1;
	/* a restart must not wait out TIME_WAIT; Linux still refuses a second listener */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE)
			return err_set(err,
			               "listen %s: address already in use (another ferry serve?)",
			               at);
		if (e == EADDRNOTAVAIL)
			return err_set(err, "listen %s: not an address of this machine", at);
		if (e == EACCES)
			return err_set(err,
			               "listen %s: permission denied (ports below 1024 need "
			               "privileges)",
			               at);
		errno = e;
		return err_errno(err, "listen %s", at);
	}
	if (listen(fd, HTTP_LISTEN_BACKLOG) < 0) {
		err_errno(err, "listen %s", at);
		close(fd);
		return -1;
	}
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		err_errno(err, "listen %s: getsockname", at);
		close(fd);
		return -1;
	}
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                           : ((struct sockaddr_in *)&ss)->sin_port);
	srv->listen_fd = fd;
	return ss.ss_family;
}

/* ---- the server ---- */

struct http_server *http_server_new(const struct http_server_opts *opts)
{
	struct http_server *srv = xcalloc(1, sizeof *srv);
	srv->opts = *opts;
	srv->listen = xstrdup(opts->listen ? opts->listen : "127.0.0.1:8080");
	srv->opts.listen = srv->listen;
	if (!srv->opts.connections_max)
		srv->opts.connections_max = HTTP_CONNECTIONS_DEFAULT;
	if (!srv->opts.timeout_s)
		srv->opts.timeout_s = HTTP_TIMEOUT_DEFAULT;
	if (!srv->opts.headers_max)
		srv->opts.headers_max = HTTP_HEADERS_MAX_DEFAULT;
	srv->listen_fd = srv->watch_fd = srv->watch_wake_fd = -1;
	pthread_mutex_init(&srv->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->idle, &ca);
	pthread_condattr_destroy(&ca);
	return srv;
}

int http_server_add_route(struct http_server *srv, const struct http_route *spec, struct err *err)
{
	if (srv->daemon || srv->stopped)
		return err_set(err, "route %s: add routes before starting the server",
		               spec->pattern ? spec->pattern : "?");
	if (srv->nroutes == HTTP_ROUTES_MAX)
		return err_set(err, "route %s: more than %d routes", spec->pattern,
		               HTTP_ROUTES_MAX);
	struct route r;
	if (route_compile(&r, spec, err) < 0)
		return -1;
	for (size_t i = 0; i < srv->nroutes; i++) {
		const struct route *o = &srv->routes[i];
		bool same = !strcmp(o->method, r.method) && o->nseg == r.nseg;
		for (size_t k = 0; same && k < r.nseg; k++)
			same = o->segs[k].kind == r.segs[k].kind &&
			       (r.segs[k].kind != SEG_LITERAL ||
			        !strcmp(o->segs[k].text, r.segs[k].text));
		if (same) {
			err_set(err, "route %s %s: already taken by %s", r.method, r.pattern,
			        o->pattern);
			route_free(&r);
			return -1;
		}
	}
	srv->routes[srv->nroutes++] = r;
	return 0;
}

int http_server_route(struct http_server *srv, const char *method, const char *pattern,
                      http_handler_fn *handler, void *ctx, struct err *err)
{
	struct http_route r = {method, pattern, handler, ctx, 0};
	return http_server_add_route(srv, &r, err);
}

int http_server_fallback(struct http_server *srv, http_handler_fn *handler, void *ctx,
                         size_t body_max, struct err *err)
{
	if (srv->daemon || srv->stopped)
		return err_set(err, "fallback route: add it before starting the server");
	if (srv->fallback.handler || !handler)
		return err_set(err, "fallback route: one per server, with a handler");
	srv->fallback.method = xstrdup("*");
	srv->fallback.pattern = xstrdup("*");
	srv->fallback.handler = handler;
	srv->fallback.ctx = ctx;
	srv->fallback.body_max = body_max ? body_max : HTTP_BODY_MAX_DEFAULT;
	return 0;
}

int http_server_start(struct http_server *srv, struct err *err)
{
	if (srv->daemon || srv->stopped)
		return err_set(err, "http: the server was started already");
	int family = open_listener(srv, err);
	if (family < 0)
		return -1;
	if (watcher_start(srv, err) < 0) {
		close(srv->listen_fd);
		srv->listen_fd = -1;
		return -1;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
	                 MHD_USE_ERROR_LOG;
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the memory pool of a connection holds the request head and the answer's head */
	size_t pool = srv->opts.headers_max + (16u << 10);
	/* libmicrohttpd's thread inherits this mask: signals are for the daemon's main thread
	 * (a signalfd or sigwait there needs them blocked in every thread) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	srv->daemon = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, srv,
	        /* first, so that libmicrohttpd's own messages go to our log too */
	        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, MHD_OPTION_LISTEN_SOCKET,
	        srv->listen_fd, MHD_OPTION_CONNECTION_LIMIT, srv->opts.connections_max,
	        MHD_OPTION_CONNECTION_TIMEOUT, srv->opts.timeout_s,
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	        srv, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!srv->daemon) {
		watcher_stop(srv);
		close(srv->listen_fd);
		srv->listen_fd = -1;
		return err_set(err, "listen %s: libmicrohttpd would not start (see the log)",
		               srv->listen);
	}
	return 0;
}

unsigned http_server_port(const struct http_server *srv)
{
	return srv->port;
}

static struct timespec deadline_after(unsigned ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

void http_server_stop(struct http_server *srv, unsigned deadline_ms)
{
	if (!srv->daemon)
		return;
	struct timespec deadline = deadline_after(deadline_ms);
	pthread_mutex_lock(&srv->mu);
	srv->stopping = true;
	streams_stop_locked(srv);
	pthread_mutex_unlock(&srv->mu);

	/* no new connections: shutting the listening socket refuses them at once rather than
	 * leaving them in the backlog until the socket is closed */
	int fd = MHD_quiesce_daemon(srv->daemon);
	if (fd >= 0) {
		srv->quiesced = true;
		shutdown(fd, SHUT_RDWR);
	}

	pthread_mutex_lock(&srv->mu);
	while (srv->inflight > 0)
		if (pthread_cond_timedwait(&srv->idle, &srv->mu, &deadline) == ETIMEDOUT)
			break;
	/* past the deadline: whoever still owes an answer gets 503 for the client (a listed
	 * request has its connection, so set_answer takes the response) */
	for (struct http_request *req = srv->deferred; req; req = req->next) {
		struct MHD_Response *r =
		        req->state == REQ_OPEN
		                ? error_response(HTTP_ERR_STOPPING, "the server is stopping")
		                : NULL;
		if (r) {
			req->stop_answered = true;
			request_set_answer_locked(req, 503, r);
		}
	}
	srv->swept = true;
	streams_stop_locked(srv);
	/* the 503s (and the ends of cut streams) are small: give them a moment to go out */
	struct timespec grace = deadline_after(HTTP_STOP_GRACE_MS);
	while (srv->inflight > 0)
		if (pthread_cond_timedwait(&srv->idle, &srv->mu, &grace) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&srv->mu);

	/* joins libmicrohttpd's thread and closes every connection (their end callbacks run) */
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
	if (srv->quiesced)
		close(srv->listen_fd);
	srv->listen_fd = -1;
	watcher_stop(srv);
	srv->stopped = true;
}

void http_server_free(struct http_server *srv)
{
	if (!srv)
		return;
	http_server_stop(srv, 0);
	for (size_t i = 0; i < srv->nroutes; i++)
		route_free(&srv->routes[i]);
	route_free(&srv->fallback);
	pthread_cond_destroy(&srv->idle);
	pthread_mutex_destroy(&srv->mu);
	free(srv->listen);
	free(srv);
}
