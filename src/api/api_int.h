/*
 * api_int.h — what the files of src/api/ share: the api itself, the route table's
 * rows, and the job a request becomes on its way to the engine's loop.
 *
 * A job is a self-contained copy of a request (see api.h, "Threading"): once the
 * handler deferred the request, nothing of the request but the answering functions is
 * used. A job's run function answers exactly once (api_reply_*()); api.c frees the job
 * after it returns.
 */
#ifndef FERRY_API_INT_H
#define FERRY_API_INT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "engine/engine.h"
#include "net/http.h"
#include "store/token.h"
#include "util/buf.h"

#define API_PARAMS_MAX             4  /* {name}s in one route pattern */
#define API_QUERY_MAX              16 /* query parameters kept per request */
#define API_HEADERS_MAX            16 /* webhook headers kept per request */
#define API_SCOPE_NONE             0u /* no token asked for */
#define API_EXECUTIONS_MAX_RESULTS 100

/* Error codes of ferry's own (besides engine exception names and http.h's). */
#define API_ERR_UNAUTHORIZED "unauthorized"
#define API_ERR_FORBIDDEN    "forbidden"
#define API_ERR_SIGNATURE    "invalid_signature"
#define API_ERR_VALIDATION   "ValidationException"

struct api_job;
typedef void api_job_fn(struct api_job *job);

/* Route flags. */
enum {
	API_WEBHOOK_HEADERS = 1 << 0, /* copy the forges' headers (api_webhook.c) */
	API_UI_HEADERS = 1 << 1,      /* copy the web UI's headers (cookie, CSRF; ui_*.c) */
};

struct api_route {
	const char *method;
	const char *pattern;
	unsigned scope;  /* enum store_scope bits needed; API_SCOPE_NONE: public */
	api_job_fn *run; /* on the loop thread, after the token check */
	size_t body_max; /* 0: HTTP_BODY_MAX_DEFAULT */
	unsigned flags;
};

struct api_route_ctx {
	struct api *api;
	const struct api_route *route;
};

struct api {
	struct engine *e;
	struct edge *edge; /* api_opts.edge: NULL without an edge */
	struct http_server *srv;
	const struct logsink *log;
	struct api_route_ctx *routes;
	size_t nroutes;
	atomic_bool stopped; /* api_stop() began: jobs answer 503 */
	struct ui_state *ui; /* the web UI's sessions (ui_session.c; loop thread) */
};

struct api_kv {
	char *name;
	char *value;
};

struct api_job {
	struct api *api;
	struct engine *e;
	const struct api_route *route;
	struct http_request *req;
	int bearer;  /* http_request_bearer(): 1 with `token`, 0 none, -1 not a bearer */
	char *token; /* wiped when freed */
	struct store_token_info who; /* the caller's token, once checked */
	struct api_kv params[API_PARAMS_MAX];
	size_t nparams;
	struct api_kv query[API_QUERY_MAX];
	size_t nquery;
	struct api_kv headers[API_HEADERS_MAX];
	size_t nheaders;
	char *body; /* NUL-terminated copy */
	size_t body_len;
	bool answered;
};

/* The route tables of each file (ended by a row with method NULL). */
extern const struct api_route api_pipeline_routes[];
extern const struct api_route api_execution_routes[];
extern const struct api_route api_misc_routes[];
extern const struct api_route api_webhook_routes[];
extern const struct api_route api_log_routes[];
extern const struct api_route api_site_routes[];
extern const struct api_route api_function_routes[];
extern const struct api_route api_invalidation_routes[];
extern const struct api_route api_deploy_routes[];
extern const struct api_route api_job_routes[]; /* api_jobs.c */
extern const struct api_route api_ui_routes[];  /* ui_routes.c: the web UI */

/* Names of the headers a webhook route copies, NULL-terminated. */
extern const char *const api_webhook_header_names[];
/* Names of the headers a web UI route copies, NULL-terminated (ui_session.c). */
extern const char *const api_ui_header_names[];
/* Frees the web UI's sessions (api_free). */
void api_ui_free(struct api *a);

/* ---- a job's inputs (loop thread) ---- */

/* A path parameter ({name}); NULL when the route has none of that name. */
const char *api_param(const struct api_job *job, const char *name);
/* A query parameter; NULL when absent, "" for "?flag". */
const char *api_query(const struct api_job *job, const char *name);
/* A copied header (case-insensitive); NULL when absent. */
const char *api_header(const struct api_job *job, const char *name);
/* A query flag: present and not "0"/"false". */
bool api_query_flag(const struct api_job *job, const char *name);
/* A query integer in [min, max]; `def` when absent. -1 after answering 400. */
int api_query_int(struct api_job *job, const char *name, int def, int min, int max, int *out);

/* The body as a JSON object ("" or absent: an empty object). NULL after answering
 * 400 naming the line and column. */
json_t *api_body_object(struct api_job *job);
/* A string member of `obj`: NULL when absent (and not required); -1 after answering
 * 400 when it has another type, or is absent and `required`. */
int api_json_string(struct api_job *job, json_t *obj, const char *key, bool required,
                    const char **out);

/* ---- answering (loop thread; exactly once per job) ---- */

void api_reply_json(struct api_job *job, unsigned status, json_t *body);
FERRY_PRINTF(4, 5)
void api_reply_error(struct api_job *job, unsigned status, const char *code, const char *fmt, ...);
/* An engine operation's failure: engine_rc_http_status(rc), code err->type. */
void api_reply_engine(struct api_job *job, int rc, const struct engine_err *err);
/* A store call's failure: STORE_NOT_FOUND 404 NotFoundException, STORE_CONFLICT 409
 * ConflictException, else 500. */
void api_reply_store(struct api_job *job, int rc, const struct err *err);
/* Marks the job answered by other means (a stream, a file). */
void api_job_answered(struct api_job *job);

/* ---- shared lookups (loop thread) ---- */

/* The pipeline an execution belongs to (*pipeline to free), searching every pipeline:
 * the routes under /api/executions/ name only the execution. */
int api_execution_pipeline(struct engine *e, const char *execution_id, char **pipeline,
                           struct engine_err *err);

/* Epoch seconds with a fraction, as the engine's JSON has them. */
json_t *api_time_json(int64_t ms);

#endif
