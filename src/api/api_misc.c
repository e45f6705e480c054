/*
 * api_misc.c — POST /api/push (what a repository's post-receive hook sends, see
 * `ferry hook install`) and /api/tokens (API tokens: list, create, revoke).
 *
 * A created token is in the answer to its creation and nowhere else: the store keeps
 * only its hash (store/token.h).
 */
#include "api/api_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- push ---- */

/* A commit id: 40 (SHA-1) or 64 (SHA-256) hex digits. */
static bool is_oid(const char *s)
{
	size_t n = strlen(s);
	if (n != 40 && n != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static void push(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *repo = NULL, *ref = NULL, *before = NULL, *after = NULL;
	if (api_json_string(job, body, "repo", true, &repo) < 0 ||
	    api_json_string(job, body, "ref", true, &ref) < 0 ||
	    api_json_string(job, body, "before", true, &before) < 0 ||
	    api_json_string(job, body, "after", true, &after) < 0)
		goto out;
	if (repo[0] != '/') {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: repo: \"%.200s\" is not an absolute path", repo);
		goto out;
	}
	if (strncmp(ref, "refs/", 5) || strlen(ref) > 1024) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: ref: \"%.200s\" is not a full ref (refs/heads/...)", ref);
		goto out;
	}
	if (!is_oid(before) || !is_oid(after)) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: before and after must be commit ids (40 or 64 lowercase hex "
		                "digits)");
		goto out;
	}
	struct engine_push p = {
	        .source = "hook", .repo = repo, .ref = ref, .before = before, .after = after};
	json_t *events = NULL;
	struct engine_err err = {0};
	int rc = engine_push(job->e, &p, &events, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 202, events);
out:
	json_decref(body);
}

/* ---- tokens ---- */

static json_t *ms_or_null(int64_t ms)
{
	return ms ? api_time_json(ms) : json_null();
}

static json_t *token_json(const struct store_token_info *t)
{
	char scopes[STORE_TOKEN_SCOPES_TEXT];
	store_token_scopes_format(t->scopes, scopes);
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "id", t->id, "name", t->name, "scopes",
	                 scopes, "created", api_time_json(t->created_ms), "lastUsed",
	                 ms_or_null(t->last_used_ms), "revoked", ms_or_null(t->revoked_ms));
}

static void list_tokens(struct api_job *job)
{
	struct store_token_info *items = NULL;
	size_t n = 0;
	struct err err;
	if (store_token_list(engine_store(job->e), &items, &n, &err) < 0) {
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, token_json(&items[i]));
	free(items);
	api_reply_json(job, 200, json_pack("{s:o}", "tokens", list));
}

static bool live_token_named(struct store *st, const char *name)
{
	struct store_token_info *items = NULL;
	size_t n = 0;
	struct err err;
	bool found = false;
	if (store_token_list(st, &items, &n, &err) < 0)
		return false; /* store_token_create() will say what is wrong */
	for (size_t i = 0; i < n && !found; i++)
		found = !items[i].revoked_ms && !strcmp(items[i].name, name);
	free(items);
	return found;
}

static void create_token(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *name = NULL, *scopes_text = NULL;
	unsigned scopes = 0;
	struct err err;
	if (api_json_string(job, body, "name", true, &name) < 0 ||
	    api_json_string(job, body, "scopes", true, &scopes_text) < 0)
		goto out;
	if (store_token_scopes_parse(scopes_text, &scopes, &err) < 0) {
		api_reply_error(job, 400, API_ERR_VALIDATION, "body: scopes: %s", err.msg);
		goto out;
	}
	if (live_token_named(engine_store(job->e), name)) {
		api_reply_error(job, 409, "ConflictException",
		                "a live token named \"%s\" exists already (revoke it first, or "
		                "choose another name)",
		                name);
		goto out;
	}
	char *token = NULL;
	char id[STORE_TOKEN_ID_LEN + 1];
	if (store_token_create(engine_store(job->e), name, scopes, &token, id, &err) < 0) {
		/* the store refuses bad names and taken ones, with the reason */
		api_reply_error(job, 400, API_ERR_VALIDATION, "%s", err.msg);
		goto out;
	}
	char granted[STORE_TOKEN_SCOPES_TEXT];
	store_token_scopes_format(scopes, granted);
	api_reply_json(job, 201,
	               json_pack("{s:s,s:s,s:s,s:s}", "id", id, "name", name, "scopes", granted,
	                         "token", token));
	store_token_free(token);
out:
	json_decref(body);
}

static void revoke_token(struct api_job *job)
{
	const char *which = api_param(job, "idOrName");
	struct store_token_info info;
	struct err err;
	int rc = store_token_revoke(engine_store(job->e), which, &info, &err);
	if (rc == STORE_NOT_FOUND)
		api_reply_error(job, 404, HTTP_ERR_NOT_FOUND, "%s", err.msg);
	else if (rc < 0)
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
	else
		api_reply_json(job, 200, token_json(&info));
}

const struct api_route api_misc_routes[] = {
        {"POST", "/api/push", STORE_SCOPE_START, push, 0, 0},
        {"GET", "/api/tokens", STORE_SCOPE_ADMIN, list_tokens, 0, 0},
        {"POST", "/api/tokens", STORE_SCOPE_ADMIN, create_token, 0, 0},
        {"DELETE", "/api/tokens/{idOrName}", STORE_SCOPE_ADMIN, revoke_token, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
