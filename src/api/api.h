/*
 * api.h — the daemon's HTTP face: ferry's native JSON API under /api/ and the forges'
 * push webhooks under /webhooks/{pipeline}, over the engine of engine/engine.h.
 * docs/api.md is the user's side of this contract (routes, scopes, errors).
 *
 * Use (the order `ferry serve` follows):
 *     api_open(e, &(struct api_opts){.listen = "127.0.0.1:7878"}, &api, &err);
 *     engine_run(e);          // until engine_request_stop()
 *     api_stop(api);          // no new requests; open streams end
 *     engine_free(e);         // functions still posted run (answering 503)
 *     api_free(api);
 *
 * Threading: libmicrohttpd's thread runs the route handlers. A handler never blocks
 * and never touches the store: it copies what the request carries (method, path
 * parameters, query, body, bearer token, the webhook headers), defers the request and
 * posts the work with engine_call(). On the engine's loop thread the token is checked
 * (store_token_check()), the engine operation runs and the answer is sent.
 *
 * Invariants:
 *  - every route but GET /api/health and POST /webhooks/{name} needs a bearer token
 *    with the route's scope: no token, an unknown or a revoked one → 401; a token
 *    without the scope → 403 naming the scope; the check happens before any body is
 *    looked at;
 *  - every error has one shape, {"error": {"code": "...", "message": "..."}}: for an
 *    engine error the code is CodePipeline's exception name and the status
 *    engine_rc_http_status();
 *  - a webhook's body is acted on only after its X-Hub-Signature-256 matched the
 *    pipeline's secret; a delivery that fails the check starts nothing and leaves no
 *    trigger event;
 *  - secrets (tokens, webhook secrets) appear only in the answer that creates or asks
 *    for them, never in the daemon's log;
 *  - after api_stop(), work that reaches the loop answers 503 without calling the
 *    engine.
 *
 * Ownership: the api does not own the engine; the engine must outlive api_stop(), and
 * api_free() comes after engine_free() (which runs the work still posted).
 */
#ifndef FERRY_API_H
#define FERRY_API_H

#include "engine/engine.h"
#include "util/err.h"
#include "util/logsink.h"

#define API_LISTEN_DEFAULT "127.0.0.1:7878"
#define API_STOP_DEADLINE  2000 /* ms requests in flight get at api_stop() */

struct api;  /* opaque */
struct edge; /* sites/edge.h */

struct api_opts {
	const char *listen;        /* "ADDR:PORT" (port 0: the kernel picks); NULL: the default */
	const struct logsink *log; /* access log and errors (thread-safe); NULL: silent */
	struct edge *edge; /* the edge invalidations evict from (outlives the api); NULL: none */
};

/* Creates the HTTP server, adds every route and starts listening. Fails with the
 * listen address named ("listen 127.0.0.1:7878: address already in use"). */
FERRY_MUST_CHECK
int api_open(struct engine *e, const struct api_opts *opts, struct api **out, struct err *err);

/* The port listened on (the kernel's pick for port 0). */
unsigned api_port(const struct api *a);

/* Stops accepting and ends open streams (http_server_stop with API_STOP_DEADLINE).
 * Call from the thread that ran engine_run(), after it returned. Idempotent. */
void api_stop(struct api *a);

/* After engine_free(). NULL is fine. */
void api_free(struct api *a);

#endif
