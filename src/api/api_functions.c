/*
 * api_functions.c — /api/functions: functions (ferry's Lambda analog) — create, get,
 * list, update code and configuration, delete; versions, aliases; invoke; recent
 * invocations and their logs (functions/registry.h, functions/fn.h). docs/api.md.
 *
 * Why it is built this way:
 *  - the bodies and answers use Lambda's field names (FunctionConfiguration,
 *    AliasConfiguration, spec §7.3), so what `aws lambda` prints and what ferry's API
 *    answers read the same;
 *  - registry operations are quick file and store work and run on the loop; a zip
 *    arrives base64 in the body (Code.ZipFile, at most FN_ZIP_MAX decoded: 413) or as
 *    a directory on the daemon's machine (Code.Directory, zipped there);
 *  - an invoke never runs on the loop: engine_fn_invoke() starts a child and the
 *    request waits, deferred, until it exits; the answer is then what Lambda's Invoke
 *    gives: the function's bytes, X-Amz-Executed-Version, and on a function error
 *    still 200 with X-Amz-Function-Error: Unhandled.
 */
#include "api/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "functions/invoke_main.h"
#include "functions/registry.h"
#include "store/functions.h"
#include "util/fs.h"

#define API_FN_BODY_MAX         ((size_t)FN_ZIP_MAX / 3 * 4 + (1u << 20)) /* base64 zip + JSON */
#define API_FN_LOG_CONTENT_TYPE "text/plain; charset=utf-8"
#define API_FN_INVOCATIONS_MAX  100

static void reply_fn(struct api_job *job, int rc, const struct err *err)
{
	switch (rc) {
	case FN_ENOTFOUND:
		api_reply_error(job, 404, "ResourceNotFoundException", "%s", err->msg);
		break;
	case FN_ECONFLICT:
		api_reply_error(job, 409, "ResourceConflictException", "%s", err->msg);
		break;
	case FN_EINVALID:
		api_reply_error(job, 400, "InvalidParameterValueException", "%s", err->msg);
		break;
	default:
		api_reply_error(job, 500, "ServiceException", "%s", err->msg);
	}
}

static struct store *st_of(struct api_job *job)
{
	return engine_store(job->e);
}

/* ---- bodies ---- */

static int body_int(struct api_job *job, json_t *body, const char *key, int *out)
{
	json_t *v = json_object_get(body, key);
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000) {
		api_reply_error(job, 400, "InvalidParameterValueException",
		                "body: \"%s\" must be a whole number", key);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* The configuration members of a body (create, update-configuration). */
static int body_config(struct api_job *job, json_t *body, const char *name, struct fn_config *c)
{
	memset(c, 0, sizeof *c);
	c->name = name;
	if (api_json_string(job, body, "Runtime", false, &c->runtime) < 0 ||
	    api_json_string(job, body, "Handler", false, &c->handler) < 0 ||
	    api_json_string(job, body, "Description", false, &c->description) < 0 ||
	    body_int(job, body, "Timeout", &c->timeout) < 0 ||
	    body_int(job, body, "MemorySize", &c->memory) < 0)
		return -1;
	json_t *env = json_object_get(body, "Environment");
	if (env && !json_is_null(env)) {
		json_t *vars = json_object_get(env, "Variables");
		if (!json_is_object(env) || (vars && !json_is_object(vars))) {
			api_reply_error(job, 400, "InvalidParameterValueException",
			                "body: \"Environment\" must be {\"Variables\": {...}}");
			return -1;
		}
		c->env = vars; /* {"Environment": {}} keeps them, as Lambda */
	}
	return 0;
}

/* A new file under <data>/tmp (path to free and unlink); NULL after 500. */
static char *tmp_zip(struct api_job *job, int *fd)
{
	char *dir = fs_join(engine_data_dir(job->e), "tmp");
	struct err err;
	if (fs_mkdir_p(dir, 0700, &err) < 0) {
		free(dir);
		api_reply_error(job, 500, "ServiceException", "%s", err.msg);
		return NULL;
	}
	char *path = xasprintf("%s/function-XXXXXX.zip", dir);
	free(dir);
	*fd = mkostemps(path, 4, O_CLOEXEC);
	if (*fd < 0) {
		api_reply_error(job, 500, "ServiceException", "%s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

/* Code.ZipFile (base64) or Code.Directory as a zip file (path to free and unlink);
 * NULL after answering. `code` is the Code object (or the body, for update-code). */
static char *code_zip(struct api_job *job, json_t *code)
{
	const char *b64 = NULL, *dir = NULL;
	if (!json_is_object(code) || api_json_string(job, code, "ZipFile", false, &b64) < 0 ||
	    api_json_string(job, code, "Directory", false, &dir) < 0)
		goto missing;
	if (!b64 == !dir)
		goto missing;
	int fd = -1;
	char *path = tmp_zip(job, &fd);
	if (!path)
		return NULL;
	struct err err;
	if (dir) {
		close(fd);
		if (dir[0] != '/' || fn_zip_dir(dir, path, &err) < 0) {
			if (dir[0] != '/')
				err_set(&err, "Code.Directory \"%s\": expected an absolute path",
				        dir);
			api_reply_error(job, 400, "InvalidParameterValueException", "%s", err.msg);
			unlink(path);
			free(path);
			return NULL;
		}
		return path;
	}
	size_t cap = strlen(b64) / 4 * 3 + 3;
	if (cap > (size_t)FN_ZIP_MAX + 3) {
		close(fd);
		unlink(path);
		free(path);
		api_reply_error(
		        job, 413, "RequestTooLargeException",
		        "Code.ZipFile: the zip is larger than %lld bytes (Lambda's limit for "
		        "a direct upload)",
		        (long long)FN_ZIP_MAX);
		return NULL;
	}
	unsigned char *bin = xmalloc(cap);
	size_t len = 0;
	int bad = sodium_base642bin(bin, cap, b64, strlen(b64), " \r\n", &len, NULL,
	                            sodium_base64_VARIANT_ORIGINAL) != 0 ||
	          len < 4 || memcmp(bin, "PK", 2);
	int wr = bad ? 0 : fs_write_all(fd, bin, len);
	free(bin);
	close(fd);
	if (bad || wr < 0) {
		unlink(path);
		free(path);
		if (bad)
			api_reply_error(job, 400, "InvalidParameterValueException",
			                "Code.ZipFile: not the base64 of a zip file");
		else
			api_reply_error(job, 500, "ServiceException", "writing the zip failed");
		return NULL;
	}
	return path;
missing:
	if (!job->answered)
		api_reply_error(job, 400, "InvalidParameterValueException",
		                "body: Code needs exactly one of ZipFile (base64 of a zip) or "
		                "Directory (an absolute path on the daemon's machine)");
	return NULL;
}

/* Publishes after a create or update when the body says "Publish": true. */
static void reply_config(struct api_job *job, unsigned status, json_t *body, struct store_fn *f)
{
	if (json_is_true(json_object_get(body, "Publish"))) {
		struct store_fn v;
		struct err err;
		int created = 0;
		int rc = fn_publish(st_of(job), f->name, NULL, &v, &created, &err);
		if (rc) {
			reply_fn(job, rc, &err);
			return;
		}
		api_reply_json(job, status, fn_config_json(&v));
		store_fn_free(&v);
		return;
	}
	api_reply_json(job, status, fn_config_json(f));
}

/* ---- functions ---- */

static void list_functions(struct api_job *job)
{
	struct store_fn *fs = NULL;
	size_t n = 0;
	struct err err;
	int rc = store_fn_list(st_of(job), &fs, &n, &err);
	if (rc) {
		api_reply_error(job, 500, "ServiceException", "%s", err.msg);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, fn_config_json(&fs[i]));
	store_fn_list_free(fs, n);
	api_reply_json(job, 200, json_pack("{s:o}", "Functions", arr));
}

static void create_function(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *name = NULL;
	struct fn_config c;
	char *zip = NULL;
	if (api_json_string(job, body, "FunctionName", true, &name) < 0 ||
	    body_config(job, body, name, &c) < 0 ||
	    !(zip = code_zip(job, json_object_get(body, "Code")))) {
		json_decref(body);
		return;
	}
	struct store_fn f;
	struct err err;
	int rc = fn_create(st_of(job), engine_data_dir(job->e), &c, zip, &f, &err);
	unlink(zip);
	free(zip);
	if (rc)
		reply_fn(job, rc, &err);
	else
		reply_config(job, 201, body, &f);
	store_fn_free(&f);
	json_decref(body);
}

static void get_function(struct api_job *job)
{
	struct store_fn f;
	char *exec = NULL;
	struct err err;
	int rc = fn_resolve(st_of(job), api_param(job, "name"), api_query(job, "qualifier"), &f,
	                    &exec, NULL, &err);
	free(exec);
	if (rc) {
		reply_fn(job, rc, &err);
		return;
	}
	api_reply_json(job, 200,
	               json_pack("{s:o,s:{s:s,s:s}}", "Configuration", fn_config_json(&f), "Code",
	                         "RepositoryType", "ferry", "Location", f.code_dir));
	store_fn_free(&f);
}

static void delete_function(struct api_job *job)
{
	struct err err;
	int rc = fn_delete(st_of(job), engine_data_dir(job->e), api_param(job, "name"), &err);
	if (rc)
		reply_fn(job, rc, &err);
	else
		api_reply_json(job, 200, json_pack("{s:s}", "deleted", api_param(job, "name")));
}

static void update_code(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	char *zip = code_zip(job, body);
	if (!zip) {
		json_decref(body);
		return;
	}
	struct store_fn f;
	struct err err;
	int rc = fn_update_code(st_of(job), engine_data_dir(job->e), api_param(job, "name"), zip,
	                        &f, &err);
	unlink(zip);
	free(zip);
	if (rc)
		reply_fn(job, rc, &err);
	else
		reply_config(job, 200, body, &f);
	store_fn_free(&f);
	json_decref(body);
}

static void update_config(struct api_job *job)
{
	json_t *body = api_body_object(job);
	struct fn_config c;
	if (!body || body_config(job, body, api_param(job, "name"), &c) < 0) {
		json_decref(body);
		return;
	}
	struct store_fn f;
	struct err err;
	int rc = fn_update_config(st_of(job), engine_data_dir(job->e), &c, &f, &err);
	if (rc)
		reply_fn(job, rc, &err);
	else
		api_reply_json(job, 200, fn_config_json(&f));
	store_fn_free(&f);
	json_decref(body);
}

/* ---- versions ---- */

static void publish_version(struct api_job *job)
{
	json_t *body = api_body_object(job);
	const char *desc = NULL;
	if (!body || api_json_string(job, body, "Description", false, &desc) < 0) {
		json_decref(body);
		return;
	}
	struct store_fn v;
	struct err err;
	int created = 0;
	int rc = fn_publish(st_of(job), api_param(job, "name"), desc, &v, &created, &err);
	if (rc)
		reply_fn(job, rc, &err);
	else
		api_reply_json(job, 201, fn_config_json(&v));
	store_fn_free(&v);
	json_decref(body);
}

static void list_versions(struct api_job *job)
{
	const char *name = api_param(job, "name");
	struct store_fn latest, *vs = NULL;
	size_t n = 0;
	struct err err;
	int rc = store_fn_get(st_of(job), name, NULL, &latest, &err);
	if (rc == 0)
		rc = store_fn_versions(st_of(job), name, &vs, &n, &err);
	if (rc) {
		store_fn_free(&latest);
		reply_fn(job, rc == STORE_NOT_FOUND ? FN_ENOTFOUND : -1, &err);
		return;
	}
	json_t *arr = json_array();
	json_array_append_new(arr, fn_config_json(&latest));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, fn_config_json(&vs[i]));
	store_fn_free(&latest);
	store_fn_list_free(vs, n);
	api_reply_json(job, 200, json_pack("{s:o}", "Versions", arr));
}

/* ---- aliases ---- */

static void list_aliases(struct api_job *job)
{
	const char *name = api_param(job, "name");
	struct store_fn f;
	struct store_alias *as = NULL;
	size_t n = 0;
	struct err err;
	int rc = store_fn_get(st_of(job), name, NULL, &f, &err);
	store_fn_free(&f);
	if (rc == 0)
		rc = store_alias_list(st_of(job), name, &as, &n, &err);
	if (rc) {
		reply_fn(job, rc == STORE_NOT_FOUND ? FN_ENOTFOUND : -1, &err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, fn_alias_json(&as[i]));
	store_alias_list_free(as, n);
	api_reply_json(job, 200, json_pack("{s:o}", "Aliases", arr));
}

static void put_alias(struct api_job *job, int create)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	struct fn_alias_req r = {.function = api_param(job, "name"),
	                         .alias = api_param(job, "alias"),
	                         .create = create};
	json_t *rb = json_object_get(body, "Rollback");
	if ((create && api_json_string(job, body, "Name", true, &r.alias) < 0) ||
	    api_json_string(job, body, "FunctionVersion", create, &r.version) < 0 ||
	    api_json_string(job, body, "Description", false, &r.description) < 0) {
		json_decref(body);
		return;
	}
	r.rollback = json_is_true(rb);
	if (!create && !r.version && !r.rollback && !r.description) {
		api_reply_error(job, 400, "InvalidParameterValueException",
		                "body: give FunctionVersion, Description or \"Rollback\": true");
		json_decref(body);
		return;
	}
	if (!create && !r.version && !r.rollback) {
		/* a description alone: stay on the current version */
		struct store_alias cur;
		struct err err;
		int rc = store_alias_get(st_of(job), r.function, r.alias, &cur, &err);
		if (rc) {
			reply_fn(job, rc == STORE_NOT_FOUND ? FN_ENOTFOUND : -1, &err);
			json_decref(body);
			return;
		}
		char *keep = xstrdup(cur.version);
		store_alias_free(&cur);
		r.version = keep;
		struct store_alias out;
		rc = fn_alias_put(st_of(job), &r, &out, &err);
		free(keep);
		if (rc)
			reply_fn(job, rc, &err);
		else
			api_reply_json(job, 200, fn_alias_json(&out));
		store_alias_free(&out);
		json_decref(body);
		return;
	}
	struct store_alias out;
	struct err err;
	int rc = fn_alias_put(st_of(job), &r, &out, &err);
	if (rc)
		reply_fn(job, rc, &err);
	else
		api_reply_json(job, create ? 201 : 200, fn_alias_json(&out));
	store_alias_free(&out);
	json_decref(body);
}

static void create_alias(struct api_job *job)
{
	put_alias(job, 1);
}

static void update_alias(struct api_job *job)
{
	put_alias(job, 0);
}

static void get_alias(struct api_job *job)
{
	struct store_alias a;
	struct err err;
	int rc = store_alias_get(st_of(job), api_param(job, "name"), api_param(job, "alias"), &a,
	                         &err);
	if (rc)
		reply_fn(job, rc == STORE_NOT_FOUND ? FN_ENOTFOUND : -1, &err);
	else
		api_reply_json(job, 200, fn_alias_json(&a));
	store_alias_free(&a);
}

static void delete_alias(struct api_job *job)
{
	struct err err;
	int rc = store_alias_delete(st_of(job), api_param(job, "name"), api_param(job, "alias"),
	                            &err);
	if (rc)
		reply_fn(job, rc == STORE_NOT_FOUND ? FN_ENOTFOUND : -1, &err);
	else
		api_reply_json(job, 200, json_pack("{s:s}", "deleted", api_param(job, "alias")));
}

/* ---- invoke ---- */

struct invoke_wait {
	struct http_request *req;
};

static void invoke_done(void *ctx, const json_t *res, const char *payload, size_t len)
{
	struct invoke_wait *w = ctx;
	if (!json_is_true(json_object_get(res, "ok"))) {
		const char *msg = json_string_value(json_object_get(res, "error"));
		if (json_is_true(json_object_get(res, "notFound")))
			http_respond_error(w->req, 404, "ResourceNotFoundException", "%s",
			                   msg ? msg : "not found");
		else
			http_respond_error(w->req, 500, "ServiceException", "%s",
			                   msg ? msg : "the invocation failed");
		free(w);
		return;
	}
	const char *v = json_string_value(json_object_get(res, "executedVersion"));
	const char *id = json_string_value(json_object_get(res, "requestId"));
	if (http_response_header(w->req, "X-Amz-Executed-Version", v ? v : "$LATEST") < 0 ||
	    (id && http_response_header(w->req, "X-Amz-Request-Id", id) < 0) ||
	    (json_is_true(json_object_get(res, "functionError")) &&
	     http_response_header(w->req, "X-Amz-Function-Error", "Unhandled") < 0)) {
		http_respond_error(w->req, 500, "ServiceException", "cannot set the headers");
		free(w);
		return;
	}
	http_respond_bytes(w->req, 200, "application/json", payload ? payload : "",
	                   payload ? len : 0);
	free(w);
}

static void invoke(struct api_job *job)
{
	struct invoke_wait *w = xcalloc(1, sizeof *w);
	w->req = job->req;
	struct engine_err err = {0};
	const char *q = api_query(job, "qualifier");
	if (!q)
		q = api_query(job, "Qualifier");
	int rc = engine_fn_invoke(job->e, api_param(job, "name"), q && *q ? q : NULL, job->body,
	                          job->body_len, invoke_done, w, &err);
	if (rc) {
		free(w);
		api_reply_engine(job, rc, &err);
		return;
	}
	api_job_answered(job); /* invoke_done() answers */
}

/* ---- invocations and logs ---- */

static void list_invocations(struct api_job *job)
{
	const char *name = api_param(job, "name");
	struct store_invocation *inv = NULL;
	size_t n = 0;
	struct err err;
	struct store_fn f;
	int limit = 0;
	if (api_query_int(job, "limit", 20, 1, API_FN_INVOCATIONS_MAX, &limit) < 0)
		return;
	int rc = store_fn_get(st_of(job), name, NULL, &f, &err);
	store_fn_free(&f);
	if (rc == 0)
		rc = store_invocation_list(st_of(job), name, limit, &inv, &n, &err);
	if (rc) {
		reply_fn(job, rc == STORE_NOT_FOUND ? FN_ENOTFOUND : -1, &err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		        arr,
		        json_pack("{s:s,s:s,s:s,s:o,s:I,s:o}", "RequestId", inv[i].request_id,
		                  "ExecutedVersion", inv[i].version, "Status", inv[i].status,
		                  "ErrorType",
		                  inv[i].error_type ? json_string(inv[i].error_type) : json_null(),
		                  "DurationMs", (json_int_t)inv[i].duration_ms, "Started",
		                  api_time_json(inv[i].started_ms)));
	store_invocation_list_free(inv, n);
	api_reply_json(job, 200, json_pack("{s:o}", "Invocations", arr));
}

static void get_log(struct api_job *job)
{
	struct store_invocation inv;
	struct err err;
	int rc = store_invocation_get(st_of(job), api_param(job, "name"), api_param(job, "id"),
	                              &inv, &err);
	if (rc) {
		reply_fn(job, rc == STORE_NOT_FOUND ? FN_ENOTFOUND : -1, &err);
		return;
	}
	int fd = inv.log_path ? open(inv.log_path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		if (fd >= 0)
			close(fd);
		api_reply_error(job, 404, "ResourceNotFoundException",
		                "the log of invocation %s is gone", inv.request_id);
		store_invocation_free(&inv);
		return;
	}
	if (http_response_header(job->req, "X-Amz-Request-Id", inv.request_id) < 0) {
		close(fd);
		api_reply_error(job, 500, "ServiceException", "cannot set a header");
		store_invocation_free(&inv);
		return;
	}
	api_job_answered(job);
	http_respond_file(job->req, 200, API_FN_LOG_CONTENT_TYPE, fd, 0, (uint64_t)sb.st_size);
	store_invocation_free(&inv);
}

const struct api_route api_function_routes[] = {
        {"GET", "/api/functions", STORE_SCOPE_READ, list_functions, 0, 0},
        {"POST", "/api/functions", STORE_SCOPE_ADMIN, create_function, API_FN_BODY_MAX, 0},
        {"GET", "/api/functions/{name}", STORE_SCOPE_READ, get_function, 0, 0},
        {"DELETE", "/api/functions/{name}", STORE_SCOPE_ADMIN, delete_function, 0, 0},
        {"PUT", "/api/functions/{name}/code", STORE_SCOPE_ADMIN, update_code, API_FN_BODY_MAX, 0},
        {"PUT", "/api/functions/{name}/configuration", STORE_SCOPE_ADMIN, update_config, 0, 0},
        {"GET", "/api/functions/{name}/versions", STORE_SCOPE_READ, list_versions, 0, 0},
        {"POST", "/api/functions/{name}/versions", STORE_SCOPE_ADMIN, publish_version, 0, 0},
        {"GET", "/api/functions/{name}/aliases", STORE_SCOPE_READ, list_aliases, 0, 0},
        {"POST", "/api/functions/{name}/aliases", STORE_SCOPE_ADMIN, create_alias, 0, 0},
        {"GET", "/api/functions/{name}/aliases/{alias}", STORE_SCOPE_READ, get_alias, 0, 0},
        {"PUT", "/api/functions/{name}/aliases/{alias}", STORE_SCOPE_ADMIN, update_alias, 0, 0},
        {"DELETE", "/api/functions/{name}/aliases/{alias}", STORE_SCOPE_ADMIN, delete_alias, 0, 0},
        {"POST", "/api/functions/{name}/invocations", STORE_SCOPE_START, invoke, FN_PAYLOAD_MAX, 0},
        {"GET", "/api/functions/{name}/invocations", STORE_SCOPE_READ, list_invocations, 0, 0},
        {"GET", "/api/functions/{name}/logs", STORE_SCOPE_READ, get_log, 0, 0},
        {"GET", "/api/functions/{name}/logs/{id}", STORE_SCOPE_READ, get_log, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
