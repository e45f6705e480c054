/*
 * api_invalidations.c — a site's invalidations (CloudFront's CreateInvalidation,
 * GetInvalidation, ListInvalidations, in ferry's JSON): the batch is checked, recorded
 * and evicted from the edge by sites/edge.h, on the loop thread with the engine's store.
 *
 * Errors carry CloudFront's codes (InvalidArgument, BatchTooLarge,
 * InvalidationBatchAlreadyExists, NoSuchDistribution, NoSuchInvalidation), so a script
 * written against CloudFront's API reads them the same.
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#include "sites/edge.h"

/* 3000 paths of up to 4000 characters, JSON-quoted. */
#define API_INVALIDATION_BODY_MAX (16u << 20)

static json_t *invalidation_json(const struct store_invalidation *inv)
{
	json_t *paths = inv->paths ? json_loads(inv->paths, 0, NULL) : NULL;
	if (!json_is_array(paths)) {
		json_decref(paths);
		paths = json_array();
	}
	json_t *j = json_pack("{s:s,s:s,s:o,s:o,s:s?}", "id", inv->id ? inv->id : "", "status",
	                      inv->status ? inv->status : "", "createTime",
	                      api_time_json(inv->created_ms), "paths", paths, "callerReference",
	                      inv->caller_reference);
	if (j && inv->purge_error) /* a purge target failed (sites/purge.h) */
		json_object_set_new(j, "purgeError", json_string(inv->purge_error));
	return j;
}

static void reply_inv_err(struct api_job *job, const struct edge_inv_err *e)
{
	api_reply_error(job, e->status ? e->status : 500, e->code ? e->code : "InternalError", "%s",
	                e->err.msg);
}

static void create_invalidation(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *ref = NULL;
	json_t *paths = json_object_get(body, "paths");
	if (!json_is_array(paths)) {
		api_reply_error(job, 400, paths ? "InvalidArgument" : "MissingBody",
		                "body: \"paths\" must be a list of paths, e.g. [\"/index.html\", "
		                "\"/images/*\"]");
		json_decref(body);
		return;
	}
	if (api_json_string(job, body, "callerReference", false, &ref) < 0) {
		json_decref(body);
		return;
	}
	size_t n = json_array_size(paths);
	const char **list = xcalloc(n ? n : 1, sizeof *list);
	for (size_t i = 0; i < n; i++) {
		list[i] = json_string_value(json_array_get(paths, i));
		if (!list[i]) {
			api_reply_error(job, 400, "InvalidArgument",
			                "body: paths[%zu]: expected a string", i);
			break;
		}
	}
	if (!job->answered) {
		struct store_invalidation inv;
		struct edge_inv_err e = {0};
		int rc = edge_invalidation_create(engine_store(job->e), job->api->edge,
		                                  api_param(job, "name"), list, n, ref, &inv, &e);
		if (rc < 0) {
			reply_inv_err(job, &e);
		} else {
			api_reply_json(job, 201,
			               json_pack("{s:o}", "invalidation", invalidation_json(&inv)));
			store_invalidation_free(&inv);
		}
	}
	free(list);
	json_decref(body);
}

static void list_invalidations(struct api_job *job)
{
	struct store_invalidation *invs = NULL;
	size_t n = 0;
	struct edge_inv_err e = {0};
	if (edge_invalidation_list(engine_store(job->e), api_param(job, "name"), &invs, &n, &e) <
	    0) {
		reply_inv_err(job, &e);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, invalidation_json(&invs[i]));
	store_invalidation_list_free(invs, n);
	api_reply_json(job, 200, json_pack("{s:o}", "invalidations", items));
}

static void get_invalidation(struct api_job *job)
{
	struct store_invalidation inv;
	struct edge_inv_err e = {0};
	if (edge_invalidation_get(engine_store(job->e), api_param(job, "name"),
	                          api_param(job, "id"), &inv, &e) < 0) {
		reply_inv_err(job, &e);
		return;
	}
	api_reply_json(job, 200, json_pack("{s:o}", "invalidation", invalidation_json(&inv)));
	store_invalidation_free(&inv);
}

const struct api_route api_invalidation_routes[] = {
        {"POST", "/api/sites/{name}/invalidations", STORE_SCOPE_START, create_invalidation,
         API_INVALIDATION_BODY_MAX, 0},
        {"GET", "/api/sites/{name}/invalidations", STORE_SCOPE_READ, list_invalidations, 0, 0},
        {"GET", "/api/sites/{name}/invalidations/{id}", STORE_SCOPE_READ, get_invalidation, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
