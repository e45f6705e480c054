/*
 * http.h — ferry's HTTP/1.1 server: routing, capped request bodies, JSON answers,
 * deferred answers and streamed responses (live logs, server-sent events), over
 * libmicrohttpd (loaded on first use, util/libmicrohttpd.h).
 *
 * Use:
 *     struct http_server *srv = http_server_new(&(struct http_server_opts){
 *             .listen = "127.0.0.1:8080", .log = &sink});
 *     http_server_route(srv, "GET", "/api/pipelines/{name}", get_pipeline, app, &err);
 *     http_server_start(srv, &err);            // binds; http_server_port() is known now
 *     ...
 *     http_server_stop(srv, 5000);              // graceful, bounded
 *     http_server_free(srv);
 *
 * Threading model:
 *  - one thread, libmicrohttpd's internal polling thread (epoll), accepts, reads,
 *    writes and calls every handler, stream read callback and stream end callback.
 *    Handlers must therefore not block: a handler that needs the engine's loop
 *    calls http_request_defer(), posts a message, returns, and the engine answers
 *    later from its own thread (the connection is suspended meanwhile, at no cost);
 *  - a second thread sleeps in epoll_wait() on the sockets of idle streams, only to
 *    notice clients that hang up while nothing is being sent (libmicrohttpd does
 *    not watch suspended connections); it wakes only on such a hang-up;
 *  - thread-safe (callable from any thread): http_stream_wake(), http_stream_write(),
 *    http_stream_finish(), http_stream_release(), and the http_respond_*() functions
 *    on a request that was deferred; http_server_port(); http_server_stop() from
 *    any thread except the server's own (never from a handler);
 *  - everything else on a request (accessors, answering without deferring) only in
 *    its handler, on the server's thread; routes only before http_server_start().
 *  Idle is free: with no connection open, both threads sleep in the kernel; no timer
 *  fires (an open keep-alive connection wakes the server once, at its timeout). A
 *  suspended stream or deferred request costs no CPU until woken and has no timeout.
 *
 * Invariants:
 *  - every request gets exactly one answer: if a handler neither answers nor defers,
 *    the client gets 500; a second answer is ignored (and logged);
 *  - errors made here have one JSON shape: {"error": {"code": "...", "message": "..."}}
 *    (codes below); unknown path → 404 not_found; known path, other method → 405
 *    method_not_allowed with an Allow header; a body over the route's cap → 413
 *    body_too_large: from Content-Length, before any of the body is read (the
 *    connection is then closed); for a chunked body, at its end if it stops within
 *    256 KiB past the cap, else the connection is cut; request heads over
 *    opts.headers_max → 431 (libmicrohttpd's own answer);
 *  - a HEAD request is routed to the GET handler (the body is not sent);
 *  - path segments are percent-decoded one by one, after splitting on '/', so
 *    "a%2Fb" is one segment "a/b"; "%00", malformed escapes and segments that decode
 *    to "." or ".." are refused (400 bad_request); an empty segment matches no {name};
 *  - nothing logged contains a header value (Authorization in particular) or a
 *    query string: the access log has the remote address, method, path, status,
 *    and duration.
 *
 * Ownership: strings returned by request accessors belong to the request and stay
 * valid until its handler returns (for a deferred request: do not use them after
 * the handler returned; copy what the answer needs). http_respond_json() takes the
 * caller's reference to the json_t. A stream handle is the caller's until
 * http_stream_release() or http_stream_finish(). A deferred request must be answered
 * (exactly once) even after http_server_stop() answered 503 for it: that releases it.
 * http_server_free() comes after every deferred request was answered and every stream
 * handle is done with (stop the engine between http_server_stop() and
 * http_server_free()); after it, http_stream_release() is the only call allowed on a
 * leftover handle.
 */
#ifndef FERRY_NET_HTTP_H
#define FERRY_NET_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/logsink.h"

#define HTTP_BODY_MAX_DEFAULT      (1u << 20) /* per-route request body cap */
#define HTTP_HEADERS_MAX_DEFAULT   (16u << 10)
#define HTTP_CONNECTIONS_DEFAULT   256
#define HTTP_TIMEOUT_DEFAULT       60         /* seconds a connection may be idle */
#define HTTP_STREAM_PIPE_MAX       (1u << 20) /* unsent bytes a pipe stream may hold */
#define HTTP_STOP_DEADLINE_DEFAULT 5000       /* ms */

/* Error codes of the JSON error shape (the API layer may use its own too). */
#define HTTP_ERR_BAD_REQUEST "bad_request"
#define HTTP_ERR_NOT_FOUND   "not_found"
#define HTTP_ERR_METHOD      "method_not_allowed"
#define HTTP_ERR_TOO_LARGE   "body_too_large"
#define HTTP_ERR_INTERNAL    "internal"
#define HTTP_ERR_STOPPING    "unavailable"

struct http_server;  /* opaque */
struct http_request; /* opaque; one per request, owned by the server */
struct http_stream;  /* opaque; a streamed response, refcounted */

struct http_server_opts {
	const char *listen; /* "127.0.0.1:8080", "[::1]:0" (0: the kernel picks), "localhost:80" */
	unsigned connections_max; /* 0: HTTP_CONNECTIONS_DEFAULT; more are refused */
	unsigned timeout_s;       /* 0: HTTP_TIMEOUT_DEFAULT; idle or slow connections are closed */
	size_t headers_max;       /* 0: HTTP_HEADERS_MAX_DEFAULT; larger request heads get 431 */
	/* access log and errors; NULL: silent. Called from the server's threads, even with its
	 * lock held: it must be thread-safe and must not call back into this module. */
	const struct logsink *log;
};

typedef void http_handler_fn(struct http_request *req, void *ctx);

struct http_route {
	const char *method; /* "GET", "POST", "PUT", "DELETE", ... */
	const char
	        *pattern; /* "/api/pipelines/{name}"; a last segment "{rest...}" takes the rest */
	http_handler_fn *handler; /* called on the server's thread once the body is in */
	void *ctx;
	size_t body_max; /* 0: HTTP_BODY_MAX_DEFAULT */
};

/* A server that does not listen yet (opts is copied; opts->log must outlive the server). */
struct http_server *http_server_new(const struct http_server_opts *opts);

/* Adds a route; fails on a malformed pattern or a (method, pattern) already taken. */
FERRY_MUST_CHECK
int http_server_route(struct http_server *, const char *method, const char *pattern,
                      http_handler_fn *handler, void *ctx, struct err *err);
FERRY_MUST_CHECK
int http_server_add_route(struct http_server *, const struct http_route *, struct err *err);

/* Handles every request no route matches — any method, any path, "/" and paths with
 * empty segments included — instead of the 404 and 405 answers: for a server whose
 * paths are data (the edge, sites/edge.h). Its requests have no {name} parameters;
 * their segments are decoded and checked as usual. body_max 0: HTTP_BODY_MAX_DEFAULT.
 * Before http_server_start(); one per server. */
FERRY_MUST_CHECK
int http_server_fallback(struct http_server *, http_handler_fn *handler, void *ctx, size_t body_max,
                         struct err *err);

/* Binds opts.listen and starts serving. "listen 127.0.0.1:8080: address already in use" and
 * the like on failure. */
FERRY_MUST_CHECK
int http_server_start(struct http_server *, struct err *err);

/* The port listened on (useful after asking for port 0); 0 before start. */
unsigned http_server_port(const struct http_server *);

/* Stops accepting at once (the port refuses connections); ends open streams (what their
 * read callback has ready is still sent, then the response is cut, so clients can tell it
 * from a normal end); waits up to deadline_ms for requests in flight to finish; answers
 * deferred ones still waiting with 503 unavailable and gives those answers up to 200 ms
 * more to leave; closes every connection and returns. Idempotent. */
void http_server_stop(struct http_server *, unsigned deadline_ms);

/* Stops (deadline 0) if still running, and frees. NULL is fine. */
void http_server_free(struct http_server *);

/* ---- The request (in its handler, on the server's thread) ---- */

const char *http_request_method(const struct http_request *); /* "GET", ... ("HEAD" too) */
const char *http_request_path(const struct http_request *);   /* as sent, without query */
size_t http_request_segment_count(const struct http_request *);
const char *http_request_segment(const struct http_request *, size_t i); /* decoded */
/* The value of a {name} of the route's pattern (decoded), or NULL. */
const char *http_request_param(const struct http_request *, const char *name);
/* The first value of query parameter `name` (decoded; "" for "?flag"), or NULL. */
const char *http_request_query(const struct http_request *, const char *name);
size_t http_request_query_count(const struct http_request *);
/* The i-th query parameter in the order sent; returns its name, sets *value. */
const char *http_request_query_at(const struct http_request *, size_t i, const char **value);
/* A request header, looked up case-insensitively; NULL when absent. */
const char *http_request_header(const struct http_request *, const char *name);
/* Calls fn(ctx, name, value) for each request header, in the order received (a name
 * may come more than once); stops early when fn returns non-zero. HTTP thread only,
 * before the request is answered. */
void http_request_header_each(const struct http_request *,
                              int (*fn)(void *ctx, const char *name, const char *value), void *ctx);
/* The peer's address, "127.0.0.1" or "::1". */
const char *http_request_remote(const struct http_request *);
/* The body (NUL-terminated; "" when none); *len gets its length when len is not NULL. */
const char *http_request_body(const struct http_request *, size_t *len);
/* The body parsed as JSON; NULL with "body: line 1, column 7: ..." in err when it is not. */
json_t *http_request_json(const struct http_request *, struct err *err);

/* The token of "Authorization: Bearer <token>": 1 and *token set when present and well-formed,
 * 0 when there is no Authorization header, -1 when there is one that is not a bearer token. */
int http_request_bearer(const struct http_request *, const char **token);
/* The same on a header value (for tests and for other transports). *token points into value;
 * *token_len is its length. */
int http_parse_bearer(const char *value, const char **token, size_t *token_len);

/* ---- Answering ---- */

/* Adds a header to the answer to come (before answering); -1 when name or value has CR/LF. */
int http_response_header(struct http_request *, const char *name, const char *value);

/* Answers with `body` as application/json (takes the reference; NULL: no body). */
void http_respond_json(struct http_request *, unsigned status, json_t *body);
/* Answers with a copy of data. */
void http_respond_bytes(struct http_request *, unsigned status, const char *content_type,
                        const void *data, size_t len);
/* Answers {"error": {"code": code, "message": <formatted>}}. */
FERRY_PRINTF(4, 5)
void http_respond_error(struct http_request *, unsigned status, const char *code, const char *fmt,
                        ...);
/* Answers with `len` bytes of the file `fd` from `offset` (sendfile, or read at once when small);
 * takes fd (it is closed when sent, or now on failure). */
void http_respond_file(struct http_request *, unsigned status, const char *content_type, int fd,
                       uint64_t offset, uint64_t len);

/* Keeps the request waiting after its handler returns: the connection is suspended until some
 * thread calls an http_respond_*() function on it (exactly once). Call only in the handler. */
void http_request_defer(struct http_request *);

/* ---- Streamed responses (chunked; no Content-Length) ---- */

/* What a stream's read callback may return besides a byte count > 0. */
#define HTTP_STREAM_AGAIN ((ssize_t)-1) /* nothing yet: ask again after http_stream_wake() */
#define HTTP_STREAM_DONE  ((ssize_t)-2) /* the end: the response completes normally */
#define HTTP_STREAM_ABORT ((ssize_t)-3) /* failure: the connection is cut (the client sees it) */

/* How a stream ended, passed to its end callback. */
enum http_stream_end {
	HTTP_STREAM_COMPLETED,   /* read returned DONE and everything was sent */
	HTTP_STREAM_CLIENT_GONE, /* the client hung up, timed out, or read too slowly */
	HTTP_STREAM_STOPPED,     /* the server stopped, or read returned ABORT */
};

/* Called on the server's thread when it can send: fill up to `max` bytes of buf. Must not
 * block. It is not called again after returning DONE or ABORT. */
typedef ssize_t http_stream_read_fn(void *ctx, char *buf, size_t max);
/* Called once, on the server's thread (or the stopping thread), when the response is over;
 * the read callback is not called after it. Free or unsubscribe ctx here. */
typedef void http_stream_end_fn(void *ctx, enum http_stream_end how);

/* Answers with a stream pulled through `read` (pull mode: e.g. a log file read from an
 * offset, without copies). Returns the caller's handle, for waking it; release it. */
struct http_stream *http_respond_stream(struct http_request *, unsigned status,
                                        const char *content_type, http_stream_read_fn *read,
                                        http_stream_end_fn *end, void *ctx);
/* Answers with a stream fed by http_stream_write() (push mode: e.g. server-sent events).
 * The stream holds at most HTTP_STREAM_PIPE_MAX unsent bytes; past that the client is
 * too slow and is cut off. */
struct http_stream *http_respond_pipe(struct http_request *, unsigned status,
                                      const char *content_type);

/* Tells a waiting stream that data may be ready: its read callback is called again soon.
 * Cheap when nothing waits; harmless after the stream ended. */
void http_stream_wake(struct http_stream *);
/* Pipe streams: queues a copy of data; -1 when the stream ended (client gone, server
 * stopped) or the client fell HTTP_STREAM_PIPE_MAX behind — stop writing then. */
int http_stream_write(struct http_stream *, const void *data, size_t len);
/* Pipe streams: the end of data (sent after what is queued); releases the handle. */
void http_stream_finish(struct http_stream *);
/* 1 while the response is still being sent, 0 after it ended. */
int http_stream_is_open(struct http_stream *);
/* Drops the caller's handle. */
void http_stream_release(struct http_stream *);

#endif
