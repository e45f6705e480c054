/*
 * api.c — the api's life (open, stop, free), and the one path every request takes:
 * the handler on libmicrohttpd's thread copies the request into a job, defers it and
 * posts it to the engine's loop; there the token is checked, the route's function
 * runs and answers.
 *
 * Why copy rather than read the request on the loop: a deferred request's accessors
 * may only be used in its handler (net/http.h), and a copy also keeps the loop from
 * ever waiting on the network.
 */
#include "api/api_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

static const char *const scope_names[] = {"read", "start", "approve", "admin"};

static const char *scope_name(unsigned scope)
{
	for (unsigned i = 0; i < 4; i++)
		if (scope & (1u << i))
			return scope_names[i];
	return "none";
}

/* ---- jobs ---- */

static void kv_free(struct api_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
}

static void job_free(struct api_job *job)
{
	if (job->token) {
		sodium_memzero(job->token, strlen(job->token));
		free(job->token);
	}
	kv_free(job->params, job->nparams);
	kv_free(job->query, job->nquery);
	kv_free(job->headers, job->nheaders);
	free(job->body);
	free(job);
}

/* The {name}s of a pattern, in order ("{rest...}" gives "rest"). */
static void copy_params(struct api_job *job, struct http_request *req, const char *pattern)
{
	for (const char *p = strchr(pattern, '{'); p && job->nparams < API_PARAMS_MAX;
	     p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		if (!end)
			break;
		size_t n = (size_t)(end - p - 1);
		if (n > 3 && !memcmp(end - 3, "...", 3))
			n -= 3;
		char *name = xstrndup(p + 1, n);
		const char *v = http_request_param(req, name);
		if (!v) {
			free(name);
			continue;
		}
		job->params[job->nparams].name = name;
		job->params[job->nparams++].value = xstrdup(v);
	}
}

/* 0, or -1 after answering 400 (more query parameters than any route reads). */
static int copy_query(struct api_job *job, struct http_request *req)
{
	size_t n = http_request_query_count(req);
	if (n > API_QUERY_MAX) {
		http_respond_error(req, 400, HTTP_ERR_BAD_REQUEST,
		                   "%zu query parameters, more than the limit of %d", n,
		                   API_QUERY_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *value = NULL;
		const char *name = http_request_query_at(req, i, &value);
		job->query[job->nquery].name = xstrdup(name ? name : "");
		job->query[job->nquery++].value = xstrdup(value ? value : "");
	}
	return 0;
}

static void copy_headers(struct api_job *job, struct http_request *req, const char *const *names)
{
	for (size_t i = 0; names[i] && job->nheaders < API_HEADERS_MAX; i++) {
		const char *v = http_request_header(req, names[i]);
		if (!v)
			continue;
		job->headers[job->nheaders].name = xstrdup(names[i]);
		job->headers[job->nheaders++].value = xstrdup(v);
	}
}

static void reply_unauthorized(struct api_job *job, const char *what)
{
	char scopes[STORE_TOKEN_SCOPES_TEXT];
	store_token_scopes_format(job->route->scope, scopes);
	api_reply_error(job, 401, API_ERR_UNAUTHORIZED,
	                "%s; %s %s needs a token with the \"%s\" scope (Authorization: Bearer "
	                "<token>)",
	                what, job->route->method, job->route->pattern, scopes);
}

/* 0 when the job's token holds the route's scope; -1 after answering 401/403/500. */
static int authorize(struct api_job *job)
{
	if (job->bearer == 0) {
		reply_unauthorized(job, "no token");
		return -1;
	}
	if (job->bearer < 0) {
		reply_unauthorized(job, "the Authorization header is not a bearer token");
		return -1;
	}
	struct err err;
	int st = store_token_check(engine_store(job->e), job->token, job->route->scope, &job->who,
	                           &err);
	switch (st) {
	case STORE_TOKEN_OK:
		return 0;
	case STORE_TOKEN_UNKNOWN:
		reply_unauthorized(job, "unknown token");
		return -1;
	case STORE_TOKEN_REVOKED: {
		char what[STORE_TOKEN_NAME_MAX + 32];
		snprintf(what, sizeof what, "token \"%s\" was revoked", job->who.name);
		reply_unauthorized(job, what);
		return -1;
	}
	case STORE_TOKEN_FORBIDDEN: {
		char has[STORE_TOKEN_SCOPES_TEXT];
		store_token_scopes_format(job->who.scopes, has);
		api_reply_error(job, 403, API_ERR_FORBIDDEN,
		                "token \"%s\" (scopes: %s) lacks the \"%s\" scope that %s %s needs",
		                job->who.name, has, scope_name(job->route->scope),
		                job->route->method, job->route->pattern);
		return -1;
	}
	default:
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "checking the token: %s", err.msg);
		return -1;
	}
}

/* On the loop thread. */
static void job_run(struct engine *e, void *ctx)
{
	(void)e;
	struct api_job *job = ctx;
	if (atomic_load(&job->api->stopped))
		api_reply_error(job, 503, HTTP_ERR_STOPPING, "ferry is stopping");
	else if (job->route->scope == API_SCOPE_NONE || authorize(job) == 0)
		job->route->run(job);
	if (!job->answered)
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s %s gave no answer",
		                job->route->method, job->route->pattern);
	job_free(job);
}

/* On libmicrohttpd's thread: copy, defer, post. */
static void handle(struct http_request *req, void *ctx)
{
	struct api_route_ctx *rc = ctx;
	struct api *a = rc->api;
	if (atomic_load(&a->stopped)) {
		http_respond_error(req, 503, HTTP_ERR_STOPPING, "ferry is stopping");
		return;
	}
	struct api_job *job = xcalloc(1, sizeof *job);
	job->api = a;
	job->e = a->e;
	job->route = rc->route;
	job->req = req;
	copy_params(job, req, rc->route->pattern);
	if (copy_query(job, req) < 0) {
		job_free(job);
		return;
	}
	if (rc->route->flags & API_WEBHOOK_HEADERS)
		copy_headers(job, req, api_webhook_header_names);
	if (rc->route->flags & API_UI_HEADERS)
		copy_headers(job, req, api_ui_header_names);
	const char *token = NULL;
	job->bearer = http_request_bearer(req, &token);
	if (job->bearer == 1)
		job->token = xstrndup(token, STORE_TOKEN_MAX + 1);
	size_t len = 0;
	const char *body = http_request_body(req, &len);
	job->body = xmalloc(len + 1);
	memcpy(job->body, body, len);
	job->body[len] = '\0';
	job->body_len = len;
	http_request_defer(req);
	engine_call(a->e, job_run, job);
}

/* GET /api/health: answered here, it needs neither the loop nor a token. */
static void handle_health(struct http_request *req, void *ctx)
{
	struct api *a = ctx;
	if (atomic_load(&a->stopped))
		http_respond_error(req, 503, HTTP_ERR_STOPPING, "ferry is stopping");
	else
		http_respond_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* ---- a job's inputs ---- */

static const char *kv_get(const struct api_kv *kv, size_t n, const char *name, int icase)
{
	for (size_t i = 0; i < n; i++)
		if (icase ? !strcasecmp(kv[i].name, name) : !strcmp(kv[i].name, name))
			return kv[i].value;
	return NULL;
}

const char *api_param(const struct api_job *job, const char *name)
{
	return kv_get(job->params, job->nparams, name, 0);
}

const char *api_query(const struct api_job *job, const char *name)
{
	return kv_get(job->query, job->nquery, name, 0);
}

const char *api_header(const struct api_job *job, const char *name)
{
	return kv_get(job->headers, job->nheaders, name, 1);
}

bool api_query_flag(const struct api_job *job, const char *name)
{
	const char *v = api_query(job, name);
	return v && strcmp(v, "0") && strcasecmp(v, "false") && strcasecmp(v, "no");
}

int api_query_int(struct api_job *job, const char *name, int def, int min, int max, int *out)
{
	const char *v = api_query(job, name);
	*out = def;
	if (!v)
		return 0;
	char *end = NULL;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < min || n > max) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "query parameter %s: \"%.40s\" is not a whole number from %d to %d",
		                name, v, min, max);
		return -1;
	}
	*out = (int)n;
	return 0;
}

json_t *api_body_object(struct api_job *job)
{
	const char *p = job->body;
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	if (!*p)
		return json_object();
	json_error_t jerr;
	json_t *v = json_loadb(job->body, job->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		api_reply_error(job, 400, API_ERR_VALIDATION, "body: line %d, column %d: %s",
		                jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		api_reply_error(job, 400, API_ERR_VALIDATION, "body: expected a JSON object");
		return NULL;
	}
	return v;
}

int api_json_string(struct api_job *job, json_t *obj, const char *key, bool required,
                    const char **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		api_reply_error(job, 400, API_ERR_VALIDATION, "body: \"%s\" is required", key);
		return -1;
	}
	if (!json_is_string(v)) {
		api_reply_error(job, 400, API_ERR_VALIDATION, "body: \"%s\" must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* ---- answering ---- */

void api_job_answered(struct api_job *job)
{
	job->answered = true;
}

void api_reply_json(struct api_job *job, unsigned status, json_t *body)
{
	if (job->answered) {
		json_decref(body);
		return;
	}
	job->answered = true;
	http_respond_json(job->req, status, body);
}

void api_reply_error(struct api_job *job, unsigned status, const char *code, const char *fmt, ...)
{
	if (job->answered)
		return;
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	job->answered = true;
	http_respond_error(job->req, status, code, "%s", msg);
}

static const char *rc_type(int rc)
{
	switch (rc) {
	case ENGINE_EINVALID:
		return API_ERR_VALIDATION;
	case ENGINE_ENOTFOUND:
		return "NotFoundException";
	case ENGINE_ECONFLICT:
		return "ConflictException";
	case ENGINE_ELIMIT:
		return "LimitExceededException";
	default:
		return "InternalError";
	}
}

void api_reply_engine(struct api_job *job, int rc, const struct engine_err *err)
{
	unsigned status = engine_rc_http_status(rc);
	const char *code = err && err->type && *err->type ? err->type : rc_type(rc);
	const char *msg = err && err->err.msg[0] ? err->err.msg : "the operation failed";
	api_reply_error(job, status ? status : 500, code, "%s", msg);
}

void api_reply_store(struct api_job *job, int rc, const struct err *err)
{
	if (rc == STORE_NOT_FOUND)
		api_reply_error(job, 404, "NotFoundException", "%s", err->msg);
	else if (rc == STORE_CONFLICT)
		api_reply_error(job, 409, "ConflictException", "%s", err->msg);
	else
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err->msg);
}

/* ---- shared lookups ---- */

int api_execution_pipeline(struct engine *e, const char *execution_id, char **pipeline,
                           struct engine_err *err)
{
	*pipeline = NULL;
	json_t *list = NULL;
	int rc = engine_pipeline_list(e, &list, err);
	if (rc < 0)
		return rc;
	json_t *items = json_object_get(list, "pipelines"), *p;
	size_t i;
	json_array_foreach(items, i, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));
		json_t *ex = NULL;
		struct engine_err e2 = {0};
		if (name && engine_execution_get(e, name, execution_id, &ex, &e2) == 0) {
			json_decref(ex);
			*pipeline = xstrdup(name);
			json_decref(list);
			return 0;
		}
	}
	json_decref(list);
	err->type = "PipelineExecutionNotFoundException";
	err_set(&err->err, "no pipeline execution %s", execution_id);
	return ENGINE_ENOTFOUND;
}

json_t *api_time_json(int64_t ms)
{
	return json_real((double)ms / 1000.0);
}

/* ---- life ---- */

static const struct api_route *const route_tables[] = {
        api_pipeline_routes, api_execution_routes,    api_misc_routes, api_webhook_routes,
        api_log_routes,      api_invalidation_routes, api_site_routes, api_job_routes,
        api_deploy_routes,   api_function_routes,     api_ui_routes,
};

int api_open(struct engine *e, const struct api_opts *opts, struct api **out, struct err *err)
{
	*out = NULL;
	if (sodium_init() < 0)
		return err_set(err, "api: libsodium failed to initialise");
	struct api *a = xcalloc(1, sizeof *a);
	a->e = e;
	a->edge = opts ? opts->edge : NULL;
	a->log = opts ? opts->log : NULL;
	atomic_init(&a->stopped, false);
	const char *listen = opts && opts->listen ? opts->listen : API_LISTEN_DEFAULT;
	a->srv = http_server_new(&(struct http_server_opts){.listen = listen, .log = a->log});
	size_t n = 0;
	for (size_t t = 0; t < sizeof route_tables / sizeof route_tables[0]; t++)
		for (const struct api_route *r = route_tables[t]; r->method; r++)
			n++;
	a->routes = xcalloc(n, sizeof *a->routes);
	for (size_t t = 0; t < sizeof route_tables / sizeof route_tables[0]; t++)
		for (const struct api_route *r = route_tables[t]; r->method; r++) {
			struct api_route_ctx *rc = &a->routes[a->nroutes++];
			rc->api = a;
			rc->route = r;
			struct http_route hr = {.method = r->method,
			                        .pattern = r->pattern,
			                        .handler = handle,
			                        .ctx = rc,
			                        .body_max = r->body_max};
			if (http_server_add_route(a->srv, &hr, err) < 0)
				goto fail;
		}
	if (http_server_route(a->srv, "GET", "/api/health", handle_health, a, err) < 0 ||
	    http_server_start(a->srv, err) < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	http_server_free(a->srv);
	free(a->routes);
	free(a);
	return -1;
}

unsigned api_port(const struct api *a)
{
	return a ? http_server_port(a->srv) : 0;
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	atomic_store(&a->stopped, true);
	http_server_stop(a->srv, API_STOP_DEADLINE);
}

void api_free(struct api *a)
{
	if (!a)
		return;
	http_server_free(a->srv);
	api_ui_free(a);
	free(a->routes);
	free(a);
}
