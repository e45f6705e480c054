/*
 * api_sites.c — /api/sites: sites (create, list, get, update, delete), their releases,
 * rollback, and a deploy of a zip for users without a pipeline (sites/site.h).
 *
 * Why it is built this way:
 *  - these routes run on the engine's loop like every other (api.c); a deploy or a
 *    rollback therefore never waits for a site's lock: one in progress (a pipeline's
 *    deploy action) answers 409 at once, and the user tries again;
 *  - a deploy's zip is the request body, kept to API_SITE_ZIP_MAX and written to a
 *    temporary file under <data>/tmp first: site_deploy() reads a file, as the
 *    pipeline action does, so both paths run the same checks;
 *  - PUT changes only the members its body names: `ferry site update NAME --keep 5`
 *    must not reset the host.
 */
#include "api/api_int.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sites/edge.h"
#include "sites/purge.h"
#include "sites/site.h"
#include "store/sites.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define API_SITE_ZIP_MAX  (256u << 20)
#define API_SITE_KEEP_MAX 100
#define API_SITE_TTL_MAX  (365 * 24 * 3600)
#define API_SITE_HOST_MAX 253
#define API_SITE_DOC_MAX  1024

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *site_json(const struct store_site *s)
{
	return json_pack("{s:s, s:o, s:s, s:o, s:b, s:i, s:s, s:i, s:o}", "name", s->name, "host",
	                 str_or_null(s->host), "indexDocument", s->index_doc, "errorDocument",
	                 str_or_null(s->error_doc), "spa", s->spa, "keep", s->keep, "visibility",
	                 s->visibility == STORE_SITE_CACHED ? "cached" : "immediate", "defaultTtl",
	                 s->default_ttl, "created", api_time_json(s->created_ms));
}

static json_t *release_json(const struct store_release *r)
{
	return json_pack("{s:I, s:b, s:o, s:o, s:o, s:I, s:I, s:o}", "number",
	                 (json_int_t)r->number, "live", r->live, "source", str_or_null(r->source),
	                 "revision", str_or_null(r->revision), "cacheControl",
	                 str_or_null(r->cache_control), "files", (json_int_t)r->files, "bytes",
	                 (json_int_t)r->bytes, "created", api_time_json(r->created_ms));
}

/* A site_*() failure, by its return code (sites/site.h). */
static void reply_site(struct api_job *job, int rc, const struct err *err)
{
	switch (rc) {
	case SITE_ENOTFOUND:
		api_reply_error(job, 404, "NotFoundException", "%s", err->msg);
		break;
	case SITE_EBUSY:
		api_reply_error(job, 409, "ConflictException", "%s", err->msg);
		break;
	case SITE_EINVALID:
		api_reply_error(job, 400, API_ERR_VALIDATION, "%s", err->msg);
		break;
	default:
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err->msg);
	}
}

/* ---- settings from a body ---- */

static int body_int(struct api_job *job, json_t *body, const char *key, int min, int max, int *out)
{
	json_t *v = json_object_get(body, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: \"%s\" must be a whole number from %d to %d", key, min, max);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static int body_bool(struct api_job *job, json_t *body, const char *key, int *out)
{
	json_t *v = json_object_get(body, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		api_reply_error(job, 400, API_ERR_VALIDATION, "body: \"%s\" must be true or false",
		                key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* A member that may be set (a string), cleared (null or "") or left (absent). */
static int body_opt_string(struct api_job *job, json_t *body, const char *key, char **field)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		return 0;
	if (!json_is_null(v) && !json_is_string(v)) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: \"%s\" must be a string or null", key);
		return -1;
	}
	free(*field);
	const char *s = json_string_value(v);
	*field = s && *s ? xstrdup(s) : NULL;
	return 0;
}

static int check_host(struct api_job *job, char *host)
{
	if (!host)
		return 0;
	size_t n = strlen(host);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];
		if (!isalnum(c) && c != '.' && c != '-' && c != ':') {
			api_reply_error(
			        job, 400, API_ERR_VALIDATION,
			        "body: host \"%.80s\": expected a host name (letters, digits, "
			        "'.', '-', and a ':port')",
			        host);
			return -1;
		}
		host[i] = (char)tolower(c); /* Host headers compare case-insensitively */
	}
	if (n > API_SITE_HOST_MAX) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: host: longer than %d characters", API_SITE_HOST_MAX);
		return -1;
	}
	return 0;
}

static int check_doc(struct api_job *job, const char *key, const char *doc)
{
	if (!doc || (strlen(doc) <= API_SITE_DOC_MAX && fs_plain_relative(doc) &&
	             doc[strlen(doc) - 1] != '/'))
		return 0;
	api_reply_error(job, 400, API_ERR_VALIDATION,
	                "body: %s \"%.80s\": expected a path inside the site (\"index.html\", "
	                "\"docs/404.html\")",
	                key, doc);
	return -1;
}

/* The edge re-reads site settings on its next request (not up to a second later). */
static void sites_changed(struct api_job *job)
{
	if (job->api->edge)
		edge_sites_changed(job->api->edge);
}

/* Applies the body's members to `s`; -1 after answering 400. */
static int apply_settings(struct api_job *job, json_t *body, struct store_site *s)
{
	const char *vis = NULL;
	if (body_opt_string(job, body, "host", &s->host) < 0 ||
	    body_opt_string(job, body, "indexDocument", &s->index_doc) < 0 ||
	    body_opt_string(job, body, "errorDocument", &s->error_doc) < 0 ||
	    body_bool(job, body, "spa", &s->spa) < 0 ||
	    body_int(job, body, "keep", 1, API_SITE_KEEP_MAX, &s->keep) < 0 ||
	    body_int(job, body, "defaultTtl", 0, API_SITE_TTL_MAX, &s->default_ttl) < 0 ||
	    api_json_string(job, body, "visibility", false, &vis) < 0)
		return -1;
	if (vis && strcmp(vis, "immediate") && strcmp(vis, "cached")) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: visibility \"%.40s\": expected \"immediate\" or \"cached\"",
		                vis);
		return -1;
	}
	if (vis)
		s->visibility = !strcmp(vis, "cached") ? STORE_SITE_CACHED : STORE_SITE_IMMEDIATE;
	if (!s->index_doc)
		s->index_doc = xstrdup("index.html");
	if (check_host(job, s->host) < 0 || check_doc(job, "indexDocument", s->index_doc) < 0 ||
	    check_doc(job, "errorDocument", s->error_doc) < 0)
		return -1;
	return 0;
}

/* ---- routes ---- */

static void list_sites(struct api_job *job)
{
	struct store_site *s = NULL;
	size_t n = 0;
	struct err err;
	if (store_site_list(engine_store(job->e), &s, &n, &err) < 0) {
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = site_json(&s[i]);
		int64_t live = 0;
		if (site_live_number(engine_data_dir(job->e), s[i].name, &live) == 0)
			json_object_set_new(o, "liveRelease", json_integer(live));
		else
			json_object_set_new(o, "liveRelease", json_null());
		json_array_append_new(arr, o);
	}
	store_site_list_free(s, n);
	api_reply_json(job, 200, json_pack("{s:o}", "sites", arr));
}

/* ---- purge targets (sites/purge.h) ---- */

static json_t *purge_target_json(const struct store_purge_target *t)
{
	return json_pack("{s:s, s:s, s:o}", "kind", t->kind, "url", t->url, "created",
	                 api_time_json(t->created_ms));
}

/* body.purgeTargets: a list of "KIND=URL", checked; -1 after answering 400. */
static int body_purge_targets(struct api_job *job, json_t *body, struct strv *kinds,
                              struct strv *urls)
{
	json_t *list = json_object_get(body, "purgeTargets");
	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > PURGE_TARGETS_MAX) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: purgeTargets: expected a list of at most %d \"KIND=URL\" "
		                "strings, e.g. [\"varnish=http://127.0.0.1:6081\"]",
		                PURGE_TARGETS_MAX);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *spec = json_string_value(json_array_get(list, i));
		char kind[32], url[PURGE_URL_MAX];
		struct err err;
		if (!spec || purge_target_parse(spec, kind, sizeof kind, url, &err) < 0) {
			api_reply_error(job, 400, API_ERR_VALIDATION, "body: purgeTargets[%zu]: %s",
			                i, spec ? err.msg : "expected a string");
			return -1;
		}
		strv_push(kinds, kind);
		strv_push(urls, url);
	}
	return 0;
}

static void list_purge_targets(struct api_job *job)
{
	struct store_purge_target *t = NULL;
	size_t n = 0;
	struct err err;
	struct store_site s = {0};
	int rc = store_site_get(engine_store(job->e), api_param(job, "name"), &s, &err);
	if (rc == 0)
		rc = store_purge_target_list(engine_store(job->e), s.name, &t, &n, &err);
	store_site_free(&s);
	if (rc) {
		api_reply_store(job, rc, &err);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, purge_target_json(&t[i]));
	store_purge_target_list_free(t, n);
	api_reply_json(job, 200, json_pack("{s:o}", "purgeTargets", items));
}

/* kind and url from the body (POST) or the query (DELETE), checked into url_out. */
static int target_args(struct api_job *job, json_t *body, const char **kind, char *url_out)
{
	const char *url = NULL;
	if (body) {
		if (api_json_string(job, body, "kind", true, kind) < 0 ||
		    api_json_string(job, body, "url", true, &url) < 0)
			return -1;
	} else {
		*kind = api_query(job, "kind");
		url = api_query(job, "url");
		if (!*kind || !url) {
			api_reply_error(job, 400, API_ERR_VALIDATION,
			                "query: kind and url are required, e.g. "
			                "?kind=varnish&url=http://127.0.0.1:6081");
			return -1;
		}
	}
	struct err err;
	if (purge_target_check(*kind, url, url_out, &err) < 0) {
		api_reply_error(job, 400, API_ERR_VALIDATION, "%s", err.msg);
		return -1;
	}
	return 0;
}

static void add_purge_target(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *kind = NULL;
	char url[PURGE_URL_MAX];
	if (target_args(job, body, &kind, url) == 0) {
		struct store_purge_target t = {.site = (char *)api_param(job, "name"),
		                               .kind = (char *)kind,
		                               .url = url,
		                               .created_ms = wall_ms()};
		struct err err;
		int rc = store_purge_target_add(engine_store(job->e), &t, &err);
		if (rc)
			api_reply_store(job, rc, &err);
		else
			api_reply_json(job, 201, purge_target_json(&t));
	}
	json_decref(body);
}

static void remove_purge_target(struct api_job *job)
{
	const char *kind = NULL;
	char url[PURGE_URL_MAX];
	if (target_args(job, NULL, &kind, url) < 0)
		return;
	struct err err;
	int rc = store_purge_target_remove(engine_store(job->e), api_param(job, "name"), kind, url,
	                                   &err);
	if (rc)
		api_reply_store(job, rc, &err);
	else
		api_reply_json(job, 204, NULL);
}

static void create_site(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *name = NULL;
	struct store_site s = {.keep = 5, .default_ttl = 86400};
	struct err err;
	struct strv kinds = {0}, urls = {0};
	if (api_json_string(job, body, "name", true, &name) == 0 &&
	    apply_settings(job, body, &s) == 0 &&
	    body_purge_targets(job, body, &kinds, &urls) == 0) {
		if (store_site_name_check(name, &err) < 0) {
			api_reply_error(job, 400, API_ERR_VALIDATION, "%s", err.msg);
		} else {
			s.name = xstrdup(name);
			int rc = store_site_create(engine_store(job->e), &s, &err);
			store_site_free(&s);
			memset(&s, 0, sizeof s);
			for (size_t i = 0; rc == 0 && i < kinds.n; i++) {
				struct store_purge_target t = {
				        .site = (char *)name, .kind = kinds.v[i], .url = urls.v[i]};
				rc = store_purge_target_add(engine_store(job->e), &t, &err);
				if (rc == STORE_CONFLICT) /* the same target twice */
					rc = 0;
			}
			if (rc) {
				api_reply_store(job, rc, &err);
			} else if (store_site_get(engine_store(job->e), name, &s, &err) == 0) {
				sites_changed(job);
				api_reply_json(job, 201, site_json(&s));
			} else {
				api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
			}
		}
	}
	store_site_free(&s);
	strv_free(&kinds);
	strv_free(&urls);
	json_decref(body);
}

static void get_site(struct api_job *job)
{
	struct store_site s;
	struct err err;
	const char *name = api_param(job, "name");
	int rc = store_site_get(engine_store(job->e), name, &s, &err);
	if (rc) {
		api_reply_store(job, rc, &err);
		return;
	}
	json_t *o = site_json(&s);
	int64_t live = 0;
	json_object_set_new(o, "liveRelease",
	                    site_live_number(engine_data_dir(job->e), name, &live) == 0
	                            ? json_integer(live)
	                            : json_null());
	store_site_free(&s);
	api_reply_json(job, 200, o);
}

static void update_site(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	struct store_site s;
	struct err err;
	const char *name = api_param(job, "name");
	int rc = store_site_get(engine_store(job->e), name, &s, &err);
	if (rc) {
		api_reply_store(job, rc, &err);
	} else if (apply_settings(job, body, &s) == 0) {
		rc = store_site_update(engine_store(job->e), &s, &err);
		if (rc) {
			api_reply_store(job, rc, &err);
		} else {
			sites_changed(job);
			api_reply_json(job, 200, site_json(&s));
		}
	}
	store_site_free(&s);
	json_decref(body);
}

static void delete_site(struct api_job *job)
{
	struct err err;
	int rc = site_remove(engine_store(job->e), engine_data_dir(job->e), api_param(job, "name"),
	                     &err);
	if (rc) {
		reply_site(job, rc, &err);
	} else {
		sites_changed(job);
		api_reply_json(job, 200, json_pack("{s:s}", "deleted", api_param(job, "name")));
	}
}

static void list_releases(struct api_job *job)
{
	const char *name = api_param(job, "name");
	struct store_site s;
	struct err err;
	int rc = store_site_get(engine_store(job->e), name, &s, &err);
	if (rc) {
		api_reply_store(job, rc, &err);
		return;
	}
	store_site_free(&s);
	struct store_release *r = NULL;
	size_t n = 0;
	if (store_release_list(engine_store(job->e), name, &r, &n, &err) < 0) {
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, release_json(&r[i]));
	store_release_list_free(r, n);
	api_reply_json(job, 200, json_pack("{s:s, s:o}", "site", name, "releases", arr));
}

/* The release `number` of `site` as JSON (201/200 answers). */
static void reply_release(struct api_job *job, unsigned status, const char *site, int64_t number)
{
	struct store_release *r = NULL;
	size_t n = 0;
	struct err err;
	json_t *o = NULL;
	if (store_release_list(engine_store(job->e), site, &r, &n, &err) == 0)
		for (size_t i = 0; i < n && !o; i++)
			if (r[i].number == number)
				o = release_json(&r[i]);
	store_release_list_free(r, n);
	if (!o)
		o = json_pack("{s:I}", "number", (json_int_t)number);
	json_object_set_new(o, "site", json_string(site));
	api_reply_json(job, status, o);
}

static void rollback(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	int to = 0;
	if (body_int(job, body, "to", 1, 2000000000, &to) == 0) {
		const char *name = api_param(job, "name");
		int64_t number = 0;
		struct err err;
		int rc = site_rollback(engine_store(job->e), engine_data_dir(job->e), name, to,
		                       &number, &err);
		if (rc)
			reply_site(job, rc, &err);
		else
			reply_release(job, 201, name, number);
	}
	json_decref(body);
}

/* The body into <data>/tmp/site-XXXXXX.zip; the path to free, NULL after 500. */
static char *body_to_file(struct api_job *job)
{
	char *dir = fs_join(engine_data_dir(job->e), "tmp");
	struct err err;
	if (fs_mkdir_p(dir, 0700, &err) < 0) {
		free(dir);
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
		return NULL;
	}
	char *path = xasprintf("%s/site-XXXXXX.zip", dir);
	free(dir);
	int fd = mkostemps(path, 4, O_CLOEXEC);
	if (fd < 0 || fs_write_all(fd, job->body, job->body_len) < 0) {
		err_errno(&err, "%s", path);
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		free(path);
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
		return NULL;
	}
	close(fd);
	return path;
}

static void deploy(struct api_job *job)
{
	if (job->body_len < 4 || memcmp(job->body, "PK", 2)) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "the body must be a zip of the site's files (ferry site deploy "
		                "NAME DIR_OR_ZIP)");
		return;
	}
	char *zip = body_to_file(job);
	if (!zip)
		return;
	const char *name = api_param(job, "name");
	char source[STORE_TOKEN_NAME_MAX + 32];
	snprintf(source, sizeof source, "api (token %s)", job->who.name);
	const char *cc = api_query(job, "cacheControl");
	struct site_deploy d = {.site = name,
	                        .zip = zip,
	                        .extract = 1,
	                        .object_key = api_query(job, "path"),
	                        .cache_control = cc && *cc ? cc : NULL,
	                        .source = source,
	                        .wait = 0};
	int64_t number = 0;
	struct err err;
	int rc = site_deploy(engine_store(job->e), engine_data_dir(job->e), &d, &number, &err);
	unlink(zip);
	free(zip);
	if (rc)
		reply_site(job, rc, &err);
	else
		reply_release(job, 201, name, number);
}

const struct api_route api_site_routes[] = {
        {"GET", "/api/sites", STORE_SCOPE_READ, list_sites, 0, 0},
        {"POST", "/api/sites", STORE_SCOPE_ADMIN, create_site, 0, 0},
        {"GET", "/api/sites/{name}", STORE_SCOPE_READ, get_site, 0, 0},
        {"PUT", "/api/sites/{name}", STORE_SCOPE_ADMIN, update_site, 0, 0},
        {"DELETE", "/api/sites/{name}", STORE_SCOPE_ADMIN, delete_site, 0, 0},
        {"GET", "/api/sites/{name}/releases", STORE_SCOPE_READ, list_releases, 0, 0},
        {"POST", "/api/sites/{name}/releases", STORE_SCOPE_START, deploy, API_SITE_ZIP_MAX, 0},
        {"POST", "/api/sites/{name}/rollback", STORE_SCOPE_START, rollback, 0, 0},
        {"GET", "/api/sites/{name}/purge-targets", STORE_SCOPE_READ, list_purge_targets, 0, 0},
        {"POST", "/api/sites/{name}/purge-targets", STORE_SCOPE_ADMIN, add_purge_target, 0, 0},
        {"DELETE", "/api/sites/{name}/purge-targets", STORE_SCOPE_ADMIN, remove_purge_target, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
