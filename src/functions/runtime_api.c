/*
 * runtime_api.c — the Lambda Runtime API (spec §8) for one invocation, served on
 * 127.0.0.1 to the one runtime process fn_invoke() started: a small HTTP/1.1 server
 * driven by the caller's poll() loop.
 *
 * Why not libmicrohttpd: its thread and its loading cost more than this whole file,
 * and the only client is the runtime ferry itself started; the requests it makes are
 * four, each with a Content-Length (or "Expect: 100-continue" first, as curl sends).
 * Heads are capped at FN_API_HEAD_MAX, bodies at FN_API_BODY_MAX (413, and the
 * invocation becomes a function error, as Lambda does).
 *
 * A second GET /next (after the result was posted) is held without an answer: the
 * invocation is over and the runtime is killed right after.
 */
#include "functions/fn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "util/fs.h"

int fn_api_open(struct fn_api *a, struct err *err)
{
	for (size_t i = 0; i < FN_API_CONNS_MAX; i++)
		a->conns[i].fd = -1;
	a->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->listen_fd < 0)
		return err_errno(err, "runtime API: socket");
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sin;
	if (bind(a->listen_fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    listen(a->listen_fd, 8) < 0 ||
	    getsockname(a->listen_fd, (struct sockaddr *)&sin, &len) < 0) {
		err_errno(err, "runtime API: listening on 127.0.0.1");
		close(a->listen_fd);
		a->listen_fd = -1;
		return -1;
	}
	a->port = ntohs(sin.sin_port);
	return 0;
}

void fn_api_close(struct fn_api *a)
{
	for (size_t i = 0; i < FN_API_CONNS_MAX; i++)
		if (a->conns[i].fd >= 0) {
			close(a->conns[i].fd);
			buf_free(&a->conns[i].in);
			a->conns[i].fd = -1;
		}
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	a->listen_fd = -1;
	free(a->result);
	free(a->error_type);
	a->result = a->error_type = NULL;
}

size_t fn_api_pollfds(struct fn_api *a, struct pollfd *pfd, size_t max)
{
	size_t n = 0;
	if (n < max)
		pfd[n++] = (struct pollfd){.fd = a->listen_fd, .events = POLLIN};
	for (size_t i = 0; i < FN_API_CONNS_MAX && n < max; i++)
		pfd[n++] = (struct pollfd){.fd = a->conns[i].fd, .events = POLLIN};
	return n;
}

static void conn_close(struct fn_api_conn *c)
{
	close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
}

/* The runtime reads slowly at worst; a blocking write with a short timeout is enough. */
static void send_all(struct fn_api_conn *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = c->fd, .events = POLLOUT};
			if (poll(&p, 1, 1000) <= 0)
				return;
			continue;
		}
		if (w <= 0)
			return;
		data += w;
		len -= (size_t)w;
	}
}

static void respond(struct fn_api_conn *c, int status, const char *reason, const char *headers,
                    const char *body, size_t len)
{
	char head[1024];
	int n = snprintf(head, sizeof head,
	                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%s"
	                 "Content-Length: %zu\r\n\r\n",
	                 status, reason, headers ? headers : "", len);
	send_all(c, head, (size_t)n);
	if (len)
		send_all(c, body, len);
}

static void respond_msg(struct fn_api_conn *c, int status, const char *reason, const char *type,
                        const char *msg)
{
	json_t *o = json_pack("{s:s,s:s}", "errorType", type, "errorMessage", msg);
	char *text = json_dumps(o, JSON_COMPACT);
	respond(c, status, reason, NULL, text, strlen(text));
	free(text);
	json_decref(o);
}

/* A header's value in the head (case-insensitive name), copied into out. */
static int header(const char *head, size_t head_len, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *end = head + head_len;
	for (const char *p = memchr(head, '\n', head_len); p && p + 1 < end;
	     p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
		const char *line = p + 1;
		if ((size_t)(end - line) > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			const char *e = v;
			while (e < end && *e != '\r' && *e != '\n')
				e++;
			snprintf(out, n, "%.*s", (int)(e - v), v);
			return 1;
		}
	}
	return 0;
}

static void on_next(struct fn_api *a, struct fn_api_conn *c)
{
	if (a->handed)
		return; /* held: the invocation is over, the runtime is about to be killed */
	a->handed = 1;
	char headers[1024];
	snprintf(headers, sizeof headers,
	         "Lambda-Runtime-Aws-Request-Id: %s\r\n"
	         "Lambda-Runtime-Deadline-Ms: %lld\r\n"
	         "Lambda-Runtime-Invoked-Function-Arn: %s\r\n"
	         "Lambda-Runtime-Trace-Id: %s\r\n",
	         a->request_id, (long long)a->deadline_ms, a->arn, a->trace_id);
	respond(c, 200, "OK", headers, a->payload, a->payload_len);
}

static void take_result(struct fn_api *a, const char *body, size_t len, int error,
                        const char *error_type)
{
	a->done = 1;
	a->function_error = error;
	free(a->result);
	a->result = xstrndup(body, len);
	a->result_len = len;
	free(a->error_type);
	a->error_type = error_type && *error_type ? xstrdup(error_type) : NULL;
}

static void on_post(struct fn_api *a, struct fn_api_conn *c, const char *path, const char *body,
                    size_t len, const char *error_type)
{
	static const char inv[] = FN_API_PREFIX "/invocation/";
	if (!strcmp(path, FN_API_PREFIX "/init/error")) {
		a->init_error = 1;
		take_result(a, body, len, 1, error_type);
		respond(c, 202, "Accepted", NULL, "{\"status\":\"OK\"}", 15);
		return;
	}
	if (strncmp(path, inv, sizeof inv - 1)) {
		respond_msg(c, 404, "Not Found", "InvalidRequest", "unknown path");
		return;
	}
	const char *id = path + sizeof inv - 1;
	size_t idl = strlen(a->request_id);
	const char *what = id + idl;
	if (strncmp(id, a->request_id, idl) ||
	    (strcmp(what, "/response") && strcmp(what, "/error"))) {
		respond_msg(c, 404, "Not Found", "InvalidRequestID", "unknown request id or path");
		return;
	}
	if (!a->handed || a->done) {
		respond_msg(c, 400, "Bad Request", "InvalidStateTransition",
		            "the invocation is not in progress");
		return;
	}
	take_result(a, body, len, !strcmp(what, "/error"), error_type);
	respond(c, 202, "Accepted", NULL, "{\"status\":\"OK\"}", 15);
}

/* Handles every complete request in c->in. 0 to keep the connection, -1 to close it. */
static int serve(struct fn_api *a, struct fn_api_conn *c)
{
	for (;;) {
		char *end = c->in.len ? memmem(c->in.data, c->in.len, "\r\n\r\n", 4) : NULL;
		if (!end)
			return c->in.len > FN_API_HEAD_MAX ? -1 : 0;
		size_t head_len = (size_t)(end - c->in.data) + 4;
		char method[8] = "", path[256] = "", cl[32] = "", te[32] = "", expect[32] = "",
		     etype[128] = "";
		if (sscanf(c->in.data, "%7s %255s", method, path) != 2)
			return -1;
		header(c->in.data, head_len, "Content-Length", cl, sizeof cl);
		header(c->in.data, head_len, "Transfer-Encoding", te, sizeof te);
		header(c->in.data, head_len, "Expect", expect, sizeof expect);
		header(c->in.data, head_len, "Lambda-Runtime-Function-Error-Type", etype,
		       sizeof etype);
		if (*te) {
			respond_msg(c, 411, "Length Required", "InvalidRequest",
			            "send a Content-Length (chunked bodies are not supported)");
			return -1;
		}
		char *cend = NULL;
		unsigned long long blen = *cl ? strtoull(cl, &cend, 10) : 0;
		if (*cl && (!cend || *cend)) {
			respond_msg(c, 400, "Bad Request", "InvalidRequest", "bad Content-Length");
			return -1;
		}
		if (blen > FN_API_BODY_MAX) {
			respond_msg(c, 413, "Payload Too Large", "RequestTooLarge",
			            "the body is larger than 6 MB");
			if (!a->done && a->handed) {
				static const char tl[] =
				        "{\"errorMessage\":\"Response payload size exceeded "
				        "maximum "
				        "allowed payload size (6291556 bytes).\","
				        "\"errorType\":\"Function.ResponseSizeTooLarge\"}";
				take_result(a, tl, sizeof tl - 1, 1,
				            "Function.ResponseSizeTooLarge");
			}
			return -1;
		}
		if (c->in.len < head_len + blen) {
			if (!c->continued && !strcasecmp(expect, "100-continue")) {
				send_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
				c->continued = 1;
			}
			return 0;
		}
		const char *body = c->in.data + head_len;
		if (!strcmp(method, "GET") && !strcmp(path, FN_API_PREFIX "/invocation/next"))
			on_next(a, c);
		else if (!strcmp(method, "POST"))
			on_post(a, c, path, body, (size_t)blen, etype);
		else
			respond_msg(c, 404, "Not Found", "InvalidRequest", "unknown path");
		buf_consume(&c->in, head_len + (size_t)blen);
		c->continued = 0;
	}
}

static void accept_one(struct fn_api *a)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (size_t i = 0; i < FN_API_CONNS_MAX; i++)
		if (a->conns[i].fd < 0) {
			a->conns[i].fd = fd;
			a->conns[i].continued = 0;
			buf_init(&a->conns[i].in, FN_API_HEAD_MAX + FN_API_BODY_MAX + 1);
			return;
		}
	close(fd); /* one runtime needs one or two connections */
}

void fn_api_handle(struct fn_api *a, const struct pollfd *pfd, size_t n)
{
	if (n > 0 && (pfd[0].revents & POLLIN))
		accept_one(a);
	for (size_t i = 1; i < n; i++) {
		struct fn_api_conn *c = &a->conns[i - 1];
		if (c->fd < 0 || pfd[i].fd != c->fd || !pfd[i].revents)
			continue;
		char chunk[65536];
		ssize_t r = recv(c->fd, chunk, sizeof chunk, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0 || buf_append(&c->in, chunk, (size_t)r) < 0 || serve(a, c) < 0)
			conn_close(c);
	}
}
