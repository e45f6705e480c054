/*
 * edge_invalidation.c — invalidations with CloudFront's semantics (spec §10): the path
 * rules, CallerReference idempotency, ids, and the status a reader sees.
 *
 * The eviction itself is synchronous (edge_invalidate()), so the batch is recorded
 * InProgress, evicted, and recorded Completed before the caller answers: the creating
 * answer says InProgress, as CloudFront's 201 does, and every later read says
 * Completed. Should the daemon die between the two writes, a row still InProgress after
 * EDGE_INV_SETTLE_MS reads Completed: the cache it was about died with the daemon.
 *
 * A site with purge targets (sites/purge.h) is different: after the edge's own eviction
 * the edge's purger tells each target on a worker thread, and that thread records the
 * invalidation Completed (with purgeError when a target failed). Such a row reads
 * InProgress until then, or until its purge_deadline_ms passed (the daemon died).
 */
#include "sites/edge.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sites/edge_int.h"
#include "sites/purge.h"
#include "util/buf.h"
#include "util/timeutil.h"

#define INV_ID_ATTEMPTS 5 /* ids drawn before giving up on collisions */

FERRY_PRINTF(4, 5)
static int fail(struct edge_inv_err *e, unsigned status, const char *code, const char *fmt, ...)
{
	e->status = status;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->err.msg, sizeof e->err.msg, fmt, ap);
	va_end(ap);
	return -1;
}

static int internal(struct edge_inv_err *e, const struct err *err)
{
	return fail(e, 500, "InternalError", "%s", err->msg);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int edge_invalidation_check(const char *const *paths, size_t n, struct edge_inv_err *e)
{
	if (n == 0)
		return fail(e, 400, "InvalidArgument", "paths: at least one path is required");
	if (n > EDGE_INV_PATHS_MAX)
		return fail(e, 413, "BatchTooLarge",
		            "%zu paths in one invalidation, more than the limit of %d", n,
		            EDGE_INV_PATHS_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *p = paths[i];
		if (!p || p[0] != '/')
			return fail(
			        e, 400, "InvalidArgument",
			        "paths[%zu]: \"%.80s\" must start with / (e.g. /index.html, /*)", i,
			        p ? p : "");
		size_t len = strlen(p);
		if (len > EDGE_INV_PATH_MAX)
			return fail(e, 400, "InvalidArgument",
			            "paths[%zu]: %zu characters, more than the limit of %d", i, len,
			            EDGE_INV_PATH_MAX);
		const char *star = strchr(p, '*');
		if (star && star[1])
			return fail(e, 400, "InvalidArgument",
			            "paths[%zu]: \"%.80s\": '*' may only be the last character", i,
			            p);
		if (has_control(p))
			return fail(e, 400, "InvalidArgument",
			            "paths[%zu]: control characters must be percent-encoded", i);
	}
	return 0;
}

static int site_check(struct store *st, const char *site, struct edge_inv_err *e)
{
	struct store_site s = {0};
	struct err err;
	int rc = store_site_get(st, site, &s, &err);
	if (rc == 0)
		store_site_free(&s);
	if (rc == STORE_NOT_FOUND)
		return fail(e, 404, "NoSuchDistribution", "no site named %s", site);
	return rc < 0 ? internal(e, &err) : 0;
}

/* What a reader sees: a row left InProgress by a daemon that died reads Completed. */
static void settle(struct store_invalidation *inv)
{
	if (inv->status && !strcmp(inv->status, EDGE_INV_IN_PROGRESS) &&
	    wall_ms() - inv->created_ms >= EDGE_INV_SETTLE_MS &&
	    wall_ms() >= inv->purge_deadline_ms) {
		free(inv->status);
		inv->status = xstrdup(EDGE_INV_COMPLETED);
		if (inv->purge_deadline_ms && !inv->purge_error)
			inv->purge_error = xstrdup("the daemon stopped before every purge target "
			                           "answered");
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the stored JSON array holds the same paths (in any order). */
static bool same_paths(const char *stored, const char *const *paths, size_t n)
{
	json_t *arr = json_loads(stored ? stored : "", 0, NULL);
	bool same = json_is_array(arr) && json_array_size(arr) == n;
	const char **a = xcalloc(n ? n : 1, sizeof *a), **b = xcalloc(n ? n : 1, sizeof *b);
	for (size_t i = 0; same && i < n; i++) {
		a[i] = json_string_value(json_array_get(arr, i));
		b[i] = paths[i];
		same = a[i] != NULL;
	}
	if (same) {
		qsort(a, n, sizeof *a, cmp_str);
		qsort(b, n, sizeof *b, cmp_str);
		for (size_t i = 0; same && i < n; i++)
			same = !strcmp(a[i], b[i]);
	}
	free(a);
	free(b);
	json_decref(arr);
	return same;
}

/* The invalidation already made with `ref`: 1 with *out (same paths), 0 when there is
 * none, -1 with e (other paths: InvalidationBatchAlreadyExists, or a store error). */
static int replay(struct store *st, const char *site, const char *ref, const char *const *paths,
                  size_t n, struct store_invalidation *out, struct edge_inv_err *e)
{
	struct err err;
	int rc = store_invalidation_by_reference(st, site, ref, out, &err);
	if (rc == STORE_NOT_FOUND)
		return 0;
	if (rc < 0)
		return internal(e, &err);
	if (!same_paths(out->paths, paths, n)) {
		char id[EDGE_INV_ID_LEN + 1];
		snprintf(id, sizeof id, "%s", out->id ? out->id : "");
		store_invalidation_free(out);
		memset(out, 0, sizeof *out);
		return fail(e, 409, "InvalidationBatchAlreadyExists",
		            "caller reference \"%.128s\" was used by invalidation %s with other "
		            "paths; use a new reference for a new batch",
		            ref, id);
	}
	settle(out);
	return 1;
}

static void new_id(char id[EDGE_INV_ID_LEN + 1])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (size_t i = 0; i < EDGE_INV_ID_LEN; i++)
		id[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
	id[EDGE_INV_ID_LEN] = '\0';
}

int edge_invalidation_create(struct store *st, struct edge *g, const char *site,
                             const char *const *paths, size_t n, const char *caller_reference,
                             struct store_invalidation *out, struct edge_inv_err *e)
{
	memset(out, 0, sizeof *out);
	if (edge_invalidation_check(paths, n, e) < 0 || site_check(st, site, e) < 0)
		return -1;
	char made[64];
	const char *ref = caller_reference;
	if (ref && (!*ref || strlen(ref) > EDGE_INV_REF_MAX || has_control(ref)))
		return fail(e, 400, "InvalidArgument",
		            "callerReference: 1 to %d characters without control characters",
		            EDGE_INV_REF_MAX);
	if (!ref) {
		snprintf(made, sizeof made, "ferry-%lld-%u", (long long)(wall_ms() / 1000),
		         (unsigned)randombytes_uniform(100000));
		ref = made;
	}
	int rc = replay(st, site, ref, paths, n, out, e);
	if (rc != 0)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(paths[i]));
	char *paths_json = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!paths_json) /* a path that is not UTF-8 */
		return fail(e, 400, "InvalidArgument", "paths: not valid UTF-8");
	/* purge targets are told only by a running edge's purger */
	struct store_purge_target *targets = NULL;
	size_t ntargets = 0;
	struct err terr;
	if (g && store_purge_target_list(st, site, &targets, &ntargets, &terr) < 0)
		ntargets = 0; /* the edge's own cache is still invalidated */
	char id[EDGE_INV_ID_LEN + 1];
	struct store_invalidation inv = {.site = (char *)site,
	                                 .id = id,
	                                 .caller_reference = (char *)ref,
	                                 .paths = paths_json,
	                                 .status = (char *)EDGE_INV_IN_PROGRESS,
	                                 .created_ms = wall_ms()};
	inv.purge_deadline_ms = ntargets ? inv.created_ms + PURGE_DEADLINE_MS : 0;
	struct err err;
	rc = STORE_CONFLICT;
	for (int attempt = 0; rc == STORE_CONFLICT && attempt < INV_ID_ATTEMPTS; attempt++) {
		new_id(id);
		rc = store_invalidation_add(st, &inv, &err);
		if (rc == STORE_CONFLICT) { /* the reference, taken meanwhile, or the id */
			int r = replay(st, site, ref, paths, n, out, e);
			if (r != 0) {
				free(paths_json);
				store_purge_target_list_free(targets, ntargets);
				return r;
			}
		}
	}
	if (rc != 0) {
		free(paths_json);
		store_purge_target_list_free(targets, ntargets);
		if (rc == STORE_CONFLICT)
			return fail(e, 500, "InternalError",
			            "no free invalidation id after %d tries", INV_ID_ATTEMPTS);
		return internal(e, &err);
	}
	edge_invalidate(g, site, paths, n);
	if (ntargets) {
		struct store_site s = {0};
		int have = store_site_get(st, site, &s, &err) == 0;
		/* a little before the row's deadline, so the purge records its own end */
		purger_start(edge_purger(g), site, have ? s.host : NULL, id, paths, n, targets,
		             ntargets, mono_ms() + PURGE_DEADLINE_MS - EDGE_INV_SETTLE_MS);
		if (have)
			store_site_free(&s);
		store_purge_target_list_free(targets, ntargets);
	} else if (store_invalidation_set_status(st, site, id, EDGE_INV_COMPLETED, &err) < 0) {
		/* harmless: the row reads Completed after EDGE_INV_SETTLE_MS (settle()) */
	}
	out->site = xstrdup(site);
	out->id = xstrdup(id);
	out->caller_reference = xstrdup(ref);
	out->paths = paths_json;
	out->status = xstrdup(EDGE_INV_IN_PROGRESS);
	out->created_ms = inv.created_ms;
	out->purge_deadline_ms = inv.purge_deadline_ms;
	return 0;
}

int edge_invalidation_get(struct store *st, const char *site, const char *id,
                          struct store_invalidation *out, struct edge_inv_err *e)
{
	memset(out, 0, sizeof *out);
	struct err err;
	int rc = store_invalidation_get(st, site, id, out, &err);
	if (rc == 0) {
		settle(out);
		return 0;
	}
	if (rc < 0)
		return internal(e, &err);
	if (site_check(st, site, e) < 0)
		return -1;
	return fail(e, 404, "NoSuchInvalidation", "site %s has no invalidation %.40s", site, id);
}

int edge_invalidation_list(struct store *st, const char *site, struct store_invalidation **out,
                           size_t *n, struct edge_inv_err *e)
{
	*out = NULL;
	*n = 0;
	if (site_check(st, site, e) < 0)
		return -1;
	struct err err;
	if (store_invalidation_list(st, site, out, n, &err) < 0)
		return internal(e, &err);
	for (size_t i = 0; i < *n; i++)
		settle(&(*out)[i]);
	return 0;
}
