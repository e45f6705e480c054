/*
 * http_request.c — the request object: accessors, answers, deferral, bearer tokens.
 *
 * Every http_respond_*() builds a libmicrohttpd response and hands it to
 * request_answer(), which stores it; the server's thread queues it when the handler
 * returns, or when the suspended connection of a deferred request is resumed.
 * Building happens outside the server's mutex (it allocates and may copy a body);
 * only the hand-over is under it.
 */
#include "net/http_int.h"

#include "util/buf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct http_request *request_new(struct http_server *srv, struct MHD_Connection *conn,
                                 const char *method, const char *path)
{
	struct http_request *req = xcalloc(1, sizeof *req);
	req->srv = srv;
	req->conn = conn;
	atomic_init(&req->refs, 1);
	clock_gettime(CLOCK_MONOTONIC, &req->start);
	/* libmicrohttpd's strings live as long as the request; copies keep the log honest
	 * for a deferred request answered after its connection is gone */
	req->method = pool_strndup(&req->pool, method, strlen(method));
	req->path = pool_strndup(&req->pool, path, strlen(path));
	if (!req->method)
		req->method = "?";
	if (!req->path)
		req->path = "?";
	buf_init(&req->body, HTTP_BODY_MAX_DEFAULT);
	const union MHD_ConnectionInfo *ci =
	        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->remote,
		          sizeof req->remote);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->remote,
		          sizeof req->remote);
	else
		memcpy(req->remote, "-", 2);
	return req;
}

void request_unref(struct http_request *req)
{
	if (atomic_fetch_sub(&req->refs, 1) != 1)
		return;
	if (req->response)
		MHD_destroy_response(req->response);
	buf_free(&req->body);
	pool_free(&req->pool);
	free(req);
}

struct MHD_Response *request_set_answer_locked(struct http_request *req, unsigned status,
                                               struct MHD_Response *r)
{
	if (req->state != REQ_OPEN || !req->conn) {
		if (req->conn && !req->stop_answered)
			server_log(req->srv, "%s %s: answered twice; the second answer is dropped",
			           req->method, req->path);
		return r;
	}
	for (size_t i = 0; i < req->nheaders; i++)
		if (MHD_add_response_header(r, req->headers[i].name, req->headers[i].value) !=
		    MHD_YES)
			server_log(req->srv, "%s %s: header %s refused", req->method, req->path,
			           req->headers[i].name);
	req->response = r;
	req->status = status;
	req->state = REQ_ANSWERED;
	if (req->suspended) {
		req->suspended = false;
		MHD_resume_connection(req->conn);
	}
	return NULL;
}

void request_answer(struct http_request *req, unsigned status, struct MHD_Response *r)
{
	struct http_server *srv = req->srv;
	if (!r) {
		status = 500;
		r = error_response(HTTP_ERR_INTERNAL, "the server could not build its answer");
	}
	pthread_mutex_lock(&srv->mu);
	struct MHD_Response *refused = r ? request_set_answer_locked(req, status, r) : NULL;
	bool drop = req->responder;
	req->responder = false;
	pthread_mutex_unlock(&srv->mu);
	if (refused)
		MHD_destroy_response(refused);
	if (drop)
		request_unref(req);
}

/* ---- accessors ---- */

const char *http_request_method(const struct http_request *req)
{
	return req->method;
}

const char *http_request_path(const struct http_request *req)
{
	return req->path;
}

size_t http_request_segment_count(const struct http_request *req)
{
	return req->nseg;
}

const char *http_request_segment(const struct http_request *req, size_t i)
{
	return i < req->nseg ? req->segs[i] : NULL;
}

const char *http_request_param(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (!strcmp(req->params[i].name, name))
			return req->params[i].value;
	return NULL;
}

const char *http_request_query(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (!strcmp(req->query[i].name, name))
			return req->query[i].value;
	return NULL;
}

size_t http_request_query_count(const struct http_request *req)
{
	return req->nquery;
}

const char *http_request_query_at(const struct http_request *req, size_t i, const char **value)
{
	if (i >= req->nquery)
		return NULL;
	if (value)
		*value = req->query[i].value;
	return req->query[i].name;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	if (!req->conn)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct header_each {
	int (*fn)(void *ctx, const char *name, const char *value);
	void *ctx;
};

static enum MHD_Result header_each_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
	(void)kind;
	struct header_each *h = cls;
	return h->fn(h->ctx, key, value ? value : "") ? MHD_NO : MHD_YES;
}

void http_request_header_each(const struct http_request *req,
                              int (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
	struct header_each h = {.fn = fn, .ctx = ctx};
	if (req->conn)
		MHD_get_connection_values(req->conn, MHD_HEADER_KIND, header_each_one, &h);
}

const char *http_request_remote(const struct http_request *req)
{
	return req->remote;
}

const char *http_request_body(const struct http_request *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return req->body.data ? req->body.data : "";
}

json_t *http_request_json(const struct http_request *req, struct err *err)
{
	json_error_t jerr;
	size_t len;
	const char *body = http_request_body(req, &len);
	if (len == 0) {
		err_set(err, "body: expected JSON, found an empty body");
		return NULL;
	}
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		err_set(err, "body: line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
	return j;
}

/* ---- bearer tokens (RFC 6750 §2.1) ---- */

static bool is_token68(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int http_parse_bearer(const char *v, const char **token, size_t *token_len)
{
	if (!v)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, "Bearer", 6) || (v[6] != ' ' && v[6] != '\t'))
		return -1;
	v += 6;
	while (*v == ' ' || *v == '\t')
		v++;
	const char *start = v;
	while (is_token68((unsigned char)*v))
		v++;
	while (*v == '=')
		v++;
	size_t len = (size_t)(v - start);
	while (*v == ' ' || *v == '\t')
		v++;
	if (len == 0 || *v)
		return -1;
	*token = start;
	if (token_len)
		*token_len = len;
	return 1;
}

int http_request_bearer(const struct http_request *req, const char **token)
{
	const char *t;
	size_t len;
	int rc = http_parse_bearer(http_request_header(req, "Authorization"), &t, &len);
	if (rc != 1)
		return rc;
	/* the header value may end in blanks: hand out a NUL-terminated copy */
	char *copy = pool_strndup(&((struct http_request *)req)->pool, t, len);
	if (!copy)
		return -1;
	*token = copy;
	return 1;
}

/* ---- answers ---- */

int http_response_header(struct http_request *req, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") || !*name)
		return -1;
	int rc = -1;
	pthread_mutex_lock(&req->srv->mu);
	if (req->nheaders < HTTP_RESP_HEADERS_MAX) {
		const char *n = pool_strndup(&req->pool, name, strlen(name));
		const char *v = n ? pool_strndup(&req->pool, value, strlen(value)) : NULL;
		if (v) {
			req->headers[req->nheaders++] = (struct kv){n, v};
			rc = 0;
		}
	}
	pthread_mutex_unlock(&req->srv->mu);
	return rc;
}

static struct MHD_Response *bytes_response(const char *content_type, const void *data, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(data ? data : ""),
	                                                         MHD_RESPMEM_MUST_COPY);
	if (r && content_type &&
	    MHD_add_response_header(r, "Content-Type", content_type) != MHD_YES) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

/* Takes `text` (malloc'ed); NULL text → NULL. */
static struct MHD_Response *json_text_response(char *text)
{
	if (!text)
		return NULL;
	struct MHD_Response *r =
	        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return NULL;
	}
	if (MHD_add_response_header(r, "Content-Type", "application/json") != MHD_YES) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

/* A JSON string of s; bytes that are not valid UTF-8 become '?'. */
static json_t *lossy_string(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = xstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

struct MHD_Response *error_response(const char *code, const char *msg)
{
	json_t *body =
	        json_pack("{s:{s:s,s:o}}", "error", "code", code, "message", lossy_string(msg));
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	return json_text_response(text);
}

void http_respond_json(struct http_request *req, unsigned status, json_t *body)
{
	if (!body) {
		request_answer(req, status, bytes_response(NULL, NULL, 0));
		return;
	}
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(body);
	request_answer(req, status, json_text_response(text));
}

void http_respond_bytes(struct http_request *req, unsigned status, const char *content_type,
                        const void *data, size_t len)
{
	request_answer(req, status, bytes_response(content_type, data, len));
}

void http_respond_error(struct http_request *req, unsigned status, const char *code,
                        const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	request_answer(req, status, error_response(code, msg));
}

/* A body this small is read at once and sent with the headers in one write: two
 * segments (headers, then sendfile) cost the client a second wakeup per request. */
#define HTTP_FILE_INLINE_MAX (32 * 1024)

static struct MHD_Response *file_response(int fd, uint64_t offset, uint64_t len)
{
	if (len > HTTP_FILE_INLINE_MAX) {
		struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, fd, offset);
		if (!r)
			close(fd);
		return r;
	}
	char *buf = xmalloc(len ? len : 1);
	ssize_t n = pread(fd, buf, len, (off_t)offset);
	close(fd);
	struct MHD_Response *r = NULL;
	if (n == (ssize_t)len)
		r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r)
		free(buf);
	return r;
}

void http_respond_file(struct http_request *req, unsigned status, const char *content_type, int fd,
                       uint64_t offset, uint64_t len)
{
	struct MHD_Response *r = file_response(fd, offset, len);
	if (r && content_type &&
	    MHD_add_response_header(r, "Content-Type", content_type) != MHD_YES) {
		MHD_destroy_response(r);
		r = NULL;
	}
	request_answer(req, status, r);
}

void http_request_defer(struct http_request *req)
{
	struct http_server *srv = req->srv;
	struct MHD_Response *refused = NULL;
	pthread_mutex_lock(&srv->mu);
	if (!req->deferred && req->state == REQ_OPEN) {
		req->deferred = true;
		req->responder = true;
		atomic_fetch_add(&req->refs, 1);
		req->listed = true;
		req->prev = NULL;
		req->next = srv->deferred;
		if (srv->deferred)
			srv->deferred->prev = req;
		srv->deferred = req;
		/* past stop's deadline: answer now; the responder will be ignored */
		struct MHD_Response *r =
		        srv->swept ? error_response(HTTP_ERR_STOPPING, "the server is stopping")
		                   : NULL;
		if (r) {
			req->stop_answered = true;
			refused = request_set_answer_locked(req, 503, r);
		}
	}
	pthread_mutex_unlock(&srv->mu);
	if (refused)
		MHD_destroy_response(refused);
}
