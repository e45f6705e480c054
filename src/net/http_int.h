/*
 * http_int.h — what the files of the HTTP server share (not for other modules).
 *
 * Locking: one mutex per server, `srv->mu`, guards the server's lists and counters and
 * every request's and stream's state fields (state, suspended, conn, ...); reference counts
 * are atomic. It is taken before libmicrohttpd's own locks (MHD_suspend_connection() and
 * MHD_resume_connection() are called with it held, which is what makes "resume only what
 * is suspended" race-free, and keeps a resume from racing MHD_stop_daemon()); it is never
 * held while calling a handler, a stream's read or end callback, or MHD_destroy_response()
 * (which may call a stream's free callback). The log sink may be called with it held.
 *
 * Lifetimes: a request lives until its connection's request ends *and* (when deferred) its
 * responder answered; a stream until its response is destroyed *and* its handle is
 * released. `conn == NULL` marks an object whose connection has ended.
 */
#ifndef FERRY_NET_HTTP_INT_H
#define FERRY_NET_HTTP_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "net/http.h"
#include "util/buf.h"
#include "util/libmicrohttpd.h"

#define HTTP_ROUTES_MAX       256
#define HTTP_SEGMENTS_MAX     64           /* path segments; more → 404 */
#define HTTP_PARAMS_MAX       8            /* {name}s in one pattern */
#define HTTP_QUERY_MAX        64           /* query parameters kept; more → 400 */
#define HTTP_RESP_HEADERS_MAX 32           /* extra headers on one answer */
#define HTTP_REQUEST_POOL_MAX (256u << 10) /* decoded path, query, params of one request */
#define HTTP_LOG_PATH_MAX     256          /* path bytes shown in the access log */
/* Body bytes past the cap that are read and dropped, so that a chunked body (whose size is
 * not announced) can still get its 413; past this the connection is cut instead. */
#define HTTP_BODY_DISCARD_MAX (256u << 10)

/* A per-request arena: everything decoded from the request head, freed in one call. */
struct pool_block {
	struct pool_block *next;
	size_t used, size;
	char data[];
};
struct pool {
	struct pool_block *head;
	size_t total;
};
void *pool_alloc(struct pool *, size_t n); /* NULL past HTTP_REQUEST_POOL_MAX */
char *pool_strndup(struct pool *, const char *s, size_t n);
void pool_free(struct pool *);

enum seg_kind { SEG_LITERAL, SEG_PARAM, SEG_REST };

struct route_seg {
	enum seg_kind kind;
	char *text; /* the literal, or the parameter's name */
};

struct route {
	char *method;
	char *pattern;
	struct route_seg *segs;
	size_t nseg;
	http_handler_fn *handler;
	void *ctx;
	size_t body_max;
};

struct kv {
	const char *name, *value;
};

enum req_state {
	REQ_OPEN,     /* no answer yet */
	REQ_ANSWERED, /* an answer waits in `response` */
	REQ_QUEUED,   /* handed to libmicrohttpd */
};

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn; /* NULL once the request ended */
	atomic_int refs;             /* the connection's, plus the responder's while deferred */
	enum req_state state;
	bool handled;       /* the handler ran */
	bool deferred;      /* http_request_defer() was called */
	bool responder;     /* the responder's reference is still out */
	bool suspended;     /* the connection is suspended, waiting for the answer */
	bool stop_answered; /* stop answered 503 for the responder */
	bool listed;        /* on srv->deferred */
	struct MHD_Response *response;
	unsigned status;
	const char *method, *path;
	const char **segs;
	size_t nseg;
	const struct route *route;
	struct kv params[HTTP_PARAMS_MAX];
	size_t nparams;
	struct kv query[HTTP_QUERY_MAX];
	size_t nquery;
	struct kv headers[HTTP_RESP_HEADERS_MAX];
	size_t nheaders;
	struct buf body;
	size_t discarded; /* body bytes dropped after an answer came early */
	char remote[INET6_ADDRSTRLEN];
	struct timespec start;
	struct pool pool;
	struct http_request *prev, *next; /* srv->deferred, while listed */
};

struct http_stream {
	struct http_server *srv;
	struct MHD_Connection *conn; /* NULL once the response is over */
	atomic_int refs;             /* the response's and the caller's */
	uint64_t id;                 /* for the hang-up watcher, which must not trust pointers */
	bool suspended;              /* waiting for http_stream_wake() */
	bool woken;                  /* woken while not suspended: read again before suspending */
	bool stopping;               /* the server is stopping: drain what is ready, then cut */
	bool gone;                   /* the client hung up or fell too far behind: cut */
	bool done;                   /* read returned DONE */
	bool aborted;                /* read returned ABORT */
	bool ended;                  /* the response is over */
	int watched_fd;              /* registered with the watcher while suspended, else -1 */
	http_stream_read_fn *read;
	http_stream_end_fn *end;
	void *ctx;
	/* pipe mode */
	bool is_pipe, pipe_finished;
	struct buf pipe;
	size_t pipe_off;
	struct http_stream *prev, *next; /* srv->streams, while conn != NULL */
};

struct http_server {
	struct http_server_opts opts;
	char *listen;
	struct route routes[HTTP_ROUTES_MAX];
	size_t nroutes;
	struct route fallback; /* handler NULL: none (http_server_fallback()) */
	struct MHD_Daemon *daemon;
	int listen_fd;
	bool quiesced;
	unsigned port;
	pthread_mutex_t mu;
	pthread_cond_t idle; /* signalled when inflight drops to 0 */
	unsigned inflight;
	bool stopping; /* no new requests; streams end */
	bool swept;    /* deferred requests answered 503: no more suspending */
	bool stopped;
	struct http_request *deferred;
	struct http_stream *streams;
	uint64_t next_stream_id;
	/* hang-up watcher */
	int watch_fd, watch_wake_fd;
	pthread_t watcher;
	bool watcher_running;
};

/* http_route.c */
int route_compile(struct route *, const struct http_route *, struct err *);
void route_free(struct route *);
/* Splits and decodes req->path and the query; 0, or -1 with a message for a 400. */
int request_decode(struct http_request *, struct MHD_Connection *, struct err *);
/* The route for req (fills req->params), or NULL; then `allow` holds the methods that
 * would match the path ("" when none: 404). */
const struct route *router_find(struct http_server *, struct http_request *, char *allow,
                                size_t allow_size);

/* http_request.c */
struct http_request *request_new(struct http_server *, struct MHD_Connection *, const char *method,
                                 const char *path);
void request_unref(struct http_request *);
/* Stores r as req's answer, with srv->mu held; resumes the request if it is suspended.
 * Returns r when it was refused (answered already, connection gone): the caller destroys
 * it after unlocking (destroying may call a stream's free callback, which locks). */
struct MHD_Response *request_set_answer_locked(struct http_request *, unsigned status,
                                               struct MHD_Response *r);
/* The whole answering step of every http_respond_*(): r NULL means "could not build it"
 * (answers 500). Drops the responder's reference of a deferred request. */
void request_answer(struct http_request *, unsigned status, struct MHD_Response *r);
/* Builds the JSON error response. */
struct MHD_Response *error_response(const char *code, const char *msg);

/* http_stream.c */
int watcher_start(struct http_server *, struct err *);
void watcher_stop(struct http_server *);
/* Ends every stream (stop): with srv->mu held. */
void streams_stop_locked(struct http_server *);

/* http_server.c */
void server_log(struct http_server *, const char *fmt, ...) FERRY_PRINTF(2, 3);

#endif
