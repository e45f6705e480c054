/*
 * http_client.h — a small HTTP client over libcurl (loaded on first use,
 * util/libcurl.h): one call = one request, with a JSON or raw body, a bearer token,
 * a capped answer, a total timeout, and a streaming mode for following live output.
 *
 *     struct http_reply rep;
 *     if (http_call(&(struct http_call){.method = "GET", .url = url, .token = tok,
 *                                        .refused_hint = HTTP_CLIENT_HINT_SERVE},
 *                   &rep, &err) < 0)
 *             // err: "http://127.0.0.1:8080/api/pipelines: connection refused
 *             //       (is `ferry serve` running?)"
 *     else if (http_reply_check(url, &rep, &err) < 0)
 *             // err: "http://…/api/pipelines/x: 404 not_found: no such pipeline: x"
 *
 * Invariants:
 *  - http_call() fails (-1) only when no complete HTTP answer arrived: it says the URL
 *    (without any user:password@) and what happened; an answer with any status is a
 *    success, and the status is in the reply;
 *  - the answer's body is collected up to response_max bytes; past that the call fails
 *    ("answer larger than ..."), it never grows unbounded;
 *  - the token never appears in an error message;
 *  - thread-safe: calls from several threads at once are fine (no shared handle; libcurl
 *    is initialised once, without signals).
 *
 * Ownership: the reply owns its strings; http_reply_free() releases them.
 */
#ifndef FERRY_NET_HTTP_CLIENT_H
#define FERRY_NET_HTTP_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

#define HTTP_CLIENT_BODY_MAX           (8u << 20) /* answer body kept, by default */
#define HTTP_CLIENT_HEADERS_MAX        (64u << 10)
#define HTTP_CLIENT_HEADER_COUNT_MAX   100
#define HTTP_CLIENT_TIMEOUT_MS         30000 /* total, by default (not for streaming) */
#define HTTP_CLIENT_CONNECT_TIMEOUT_MS 10000
#define HTTP_CLIENT_HINT_SERVE         "is `ferry serve` running?"

/* Streaming: called with each piece of a 2xx answer's body, in order; return nonzero to
 * stop early (the call still succeeds). Bodies of other statuses are collected as usual,
 * so their JSON errors can be read. */
typedef int http_chunk_fn(void *ctx, const char *data, size_t len);

struct http_call {
	const char *method; /* NULL: "GET"; also "POST", "PUT", "DELETE", "HEAD", ... */
	const char *url;
	const char *token;  /* sent as "Authorization: Bearer <token>"; NULL: none */
	const json_t *json; /* body, sent as application/json; or: */
	const void *body;   /* a raw body of body_len bytes, with content_type */
	size_t body_len;
	const char *content_type;   /* for body; NULL: application/octet-stream */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated; or NULL */
	size_t response_max;        /* 0: HTTP_CLIENT_BODY_MAX */
	long timeout_ms;          /* 0: HTTP_CLIENT_TIMEOUT_MS, or none when streaming; <0: none */
	const char *refused_hint; /* added to "connection refused", e.g. HTTP_CLIENT_HINT_SERVE */
	http_chunk_fn *on_chunk;  /* non-NULL: streaming mode */
	void *ctx;
};

struct http_header {
	char *name, *value;
};

struct http_reply {
	long status;
	char *body; /* NUL-terminated; "" when none (or streamed) */
	size_t len;
	struct http_header *headers; /* of the final answer (not of a 100 Continue) */
	size_t nheaders;
};

/* Performs the call; fills *out (free it with http_reply_free(), also after a failure). */
FERRY_MUST_CHECK
int http_call(const struct http_call *call, struct http_reply *out, struct err *err);
void http_reply_free(struct http_reply *);

/* A header of the answer, looked up case-insensitively, or NULL. */
const char *http_reply_header(const struct http_reply *, const char *name);
/* The body parsed as JSON, or NULL with "URL: answer is not JSON: ..." in err. */
json_t *http_reply_json(const struct http_reply *, const char *url, struct err *err);
/* 0 for a 2xx status; otherwise -1 with "URL: STATUS CODE: MESSAGE" from ferry's JSON
 * error shape ({"error": {"code", "message"}}), or the start of the body. */
FERRY_MUST_CHECK
int http_reply_check(const char *url, const struct http_reply *, struct err *err);

#endif
