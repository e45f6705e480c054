/*
 * pipeline_parse.c — the first pass over a declaration (spec §1.1): each field's type,
 * length and characters, into struct pipeline. Triggers are read in
 * pipeline_trigger.c; what depends on several fields (artifact flow, names, provider
 * rules, references) waits for pipeline_check.c and pipeline_provider.c.
 *
 * Fields ferry accepts but does not act on (roleArn, blockers, encryptionKey) are
 * checked all the same and echoed, so a declaration taken from AWS comes back as it
 * went in. Fields of features that come later (stage conditions, Compute actions,
 * stage rollback) are refused here with their name, rather than silently ignored.
 */
#include "spec/pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_KEYS_MAX          100 /* configuration entries of one action */
#define ARTIFACTS_LIST_MAX       100 /* before the provider's own limit is applied */
#define ROLE_ARN_MAX             1024
#define ACTION_TIMEOUT_MIN       5
#define ACTION_TIMEOUT_MAX       86400
#define STORE_REGION_MIN         4
#define STORE_REGION_MAX         30
#define BLOCKERS_MAX             50
#define CONFIG_VALUE_MAX         1000
#define CONFIG_KEY_MAX           50
#define NAME_MAX_                100
#define VARIABLE_NAME_MAX        128
#define VARIABLE_VALUE_MAX       1000
#define VARIABLE_DESC_MAX        200
#define ENCRYPTION_KEY_MAX       400
#define BUCKET_MIN               3
#define BUCKET_MAX               63
#define ACTION_TYPE_PROVIDER_MAX 35
#define ACTION_TYPE_VERSION_MAX  9

static const char *const decl_keys[] = {
        "name",          "roleArn",      "artifactStore", "artifactStores", "stages", "version",
        "executionMode", "pipelineType", "variables",     "triggers",       NULL,
};
/* The same with ferry's extensions, for the bare form (pipeline.c). */
static const char *const bare_keys[] = {
        "name",      "roleArn",  "artifactStore", "artifactStores",
        "stages",    "version",  "executionMode", "pipelineType",
        "variables", "triggers", "projects",      "notifications",
        NULL,
};
static const char *const stage_keys[] = {
        "name", "blockers", "actions", "onFailure", "onSuccess", "beforeEntry", NULL,
};
static const char *const action_keys[] = {
        "name",
        "actionTypeId",
        "runOrder",
        "configuration",
        "outputArtifacts",
        "inputArtifacts",
        "roleArn",
        "region",
        "namespace",
        "timeoutInMinutes",
        "commands",
        "outputVariables",
        "environmentVariables",
        NULL,
};
static const char *const type_id_keys[] = {"category", "owner", "provider", "version", NULL};
static const char *const categories[] = {
        "Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute", NULL,
};
static const char *const owners[] = {"AWS", "ThirdParty", "Custom", NULL};
static const char *const modes[] = {"SUPERSEDED", "QUEUED", "PARALLEL", NULL};
static const char *const types[] = {"V1", "V2", NULL};
static const char *const store_keys[] = {"type", "location", "encryptionKey", NULL};
static const char *const store_types[] = {"S3", NULL};
static const char *const key_keys[] = {"id", "type", NULL};
static const char *const key_types[] = {"KMS", NULL};
static const char *const variable_keys[] = {"name", "defaultValue", "description", NULL};
static const char *const blocker_keys[] = {"name", "type", NULL};
static const char *const blocker_types[] = {"Schedule", NULL};
static const char *const on_failure_keys[] = {"result", "retryConfiguration", "conditions", NULL};
static const char *const results[] = {"ROLLBACK", "FAIL", "RETRY", "SKIP", NULL};
static const char *const retry_keys[] = {"retryMode", NULL};
static const char *const retry_modes[] = {"FAILED_ACTIONS", "ALL_ACTIONS", NULL};
static const char *const artifact_keys[] = {"name", "files", NULL};

/* arn:aws(-[\w]+)*:iam::[0-9]{12}:role/.* (botocore's RoleArn). */
static int role_arn_ok(const char *s)
{
	if (strncmp(s, "arn:aws", 7) != 0)
		return 0;
	s += 7;
	while (*s == '-') {
		size_t n = strspn(s + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                         "0123456789_");
		if (n == 0)
			return 0;
		s += 1 + n;
	}
	if (strncmp(s, ":iam::", 6) != 0)
		return 0;
	s += 6;
	if (strspn(s, "0123456789") != 12)
		return 0;
	return strncmp(s + 12, ":role/", 6) == 0;
}

static int role_arn(struct plctx *c, const struct ynode *n, const char *path, char **out)
{
	char shown[PL_SHOW_MAX + 8];
	if (pl_string(c, n, path, 1, ROLE_ARN_MAX, NULL, out) < 0)
		return -1;
	if (!role_arn_ok(*out))
		return pl_fail(c, n,
		               "%s: \"%s\" is not an IAM role ARN (arn:aws:iam::<12 digits>:role/"
		               "<name>); ferry keeps it and never uses it",
		               path, pl_show(*out, shown));
	return 0;
}

/* --- artifact stores --------------------------------------------------------------- */

static int parse_store(struct plctx *c, const struct ynode *n, const char *path,
                       struct pl_artifact_store *st)
{
	char sub[PL_PATH_MAX];
	int idx;
	const struct ynode *v;
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, store_keys) < 0)
		return -1;
	if (!(v = pl_get(n, "type")))
		return pl_missing(c, n, path, "type", "the artifact store's type is S3");
	pl_path(sub, "%s.type", path);
	if (pl_enum(c, v, sub, store_types, &idx) < 0)
		return -1;
	st->type = xstrdup(store_types[idx]);
	if (!(v = pl_get(n, "location")))
		return pl_missing(c, n, path, "location", "the bucket that holds the artifacts");
	pl_path(sub, "%s.location", path);
	if (pl_string(c, v, sub, BUCKET_MIN, BUCKET_MAX, ".-", &st->location) < 0)
		return -1;
	const struct ynode *key = pl_get(n, "encryptionKey");
	if (!key)
		return 0;
	pl_path(sub, "%s.encryptionKey", path);
	if (pl_want_map(c, key, sub) < 0 || pl_check_keys(c, key, sub, key_keys) < 0)
		return -1;
	if (!(v = pl_get(key, "id")))
		return pl_missing(c, key, sub, "id", "the KMS key's id, ARN or alias");
	pl_path(sub, "%s.encryptionKey.id", path);
	if (pl_string(c, v, sub, 1, ENCRYPTION_KEY_MAX, NULL, &st->key_id) < 0)
		return -1;
	pl_path(sub, "%s.encryptionKey", path);
	if (!(v = pl_get(key, "type")))
		return pl_missing(c, key, sub, "type", "KMS");
	pl_path(sub, "%s.encryptionKey.type", path);
	if (pl_enum(c, v, sub, key_types, &idx) < 0)
		return -1;
	st->key_type = xstrdup(key_types[idx]);
	pl_path(sub, "%s.encryptionKey", path);
	pl_warn(c, key, "%s: artifacts are not encrypted with KMS by ferry; the key is kept", sub);
	return 0;
}

static int parse_stores(struct plctx *c, const struct ynode *n)
{
	struct pipeline *p = c->p;
	char path[PL_PATH_MAX];
	if (pl_want_map(c, n, "artifactStores") < 0)
		return -1;
	if (n->n == 0)
		return pl_fail(c, n, "artifactStores: needs at least one region's store");
	p->stores_by_region = 1;
	p->stores = xcalloc(n->n / 2, sizeof *p->stores);
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *k = n->items[i];
		struct pl_artifact_store *st = &p->stores[p->nstores++];
		if (pl_string(c, k, "artifactStores", STORE_REGION_MIN, STORE_REGION_MAX, "-",
		              &st->region) < 0)
			return -1;
		pl_path(path, "artifactStores.%s", st->region);
		if (parse_store(c, n->items[i + 1], path, st) < 0)
			return -1;
	}
	const char *region = c->opts ? c->opts->region : NULL;
	if (region && !pipeline_artifact_store(p, region))
		return pl_fail(c, n, "artifactStores: has no store for ferry's region \"%s\"",
		               region);
	return 0;
}

/* --- actions ----------------------------------------------------------------------- */

static int parse_type_id(struct plctx *c, const struct ynode *n, const char *path,
                         struct pl_action *a)
{
	char sub[PL_PATH_MAX];
	const struct ynode *v;
	int idx;
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, type_id_keys) < 0)
		return -1;
	if (!(v = pl_get(n, "category")))
		return pl_missing(c, n, path, "category", "Source, Build, Test, Deploy, ...");
	pl_path(sub, "%s.category", path);
	if (pl_enum(c, v, sub, categories, &idx) < 0)
		return -1;
	a->cat = (enum pl_category)idx;
	a->category = xstrdup(categories[idx]);
	if (!(v = pl_get(n, "owner")))
		return pl_missing(c, n, path, "owner", "AWS for the providers ferry runs");
	pl_path(sub, "%s.owner", path);
	if (pl_enum(c, v, sub, owners, &idx) < 0)
		return -1;
	a->owner = xstrdup(owners[idx]);
	if (!(v = pl_get(n, "provider")))
		return pl_missing(c, n, path, "provider", "CodeCommit, CodeBuild, ...");
	pl_path(sub, "%s.provider", path);
	if (pl_string(c, v, sub, 1, ACTION_TYPE_PROVIDER_MAX, "_-", &a->provider_name) < 0)
		return -1;
	if (!(v = pl_get(n, "version")))
		return pl_missing(c, n, path, "version", "\"1\" for every AWS provider");
	pl_path(sub, "%s.version", path);
	return pl_string(c, v, sub, 1, ACTION_TYPE_VERSION_MAX, "_-", &a->version);
}

static int parse_config(struct plctx *c, const struct ynode *n, const char *path,
                        struct pl_action *a)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	if (pl_want_map(c, n, path) < 0)
		return -1;
	if (n->n / 2 > CONFIG_KEYS_MAX)
		return pl_fail(c, n, "%s: at most %d keys, found %zu", path, CONFIG_KEYS_MAX,
		               n->n / 2);
	a->config = xcalloc(n->n / 2 + 1, sizeof *a->config);
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *k = n->items[i], *v = n->items[i + 1];
		struct pl_kv *kv = &a->config[a->nconfig++];
		if (pl_string(c, k, path, 1, CONFIG_KEY_MAX, NULL, &kv->key) < 0)
			return -1;
		pl_path(sub, "%s.%s", path, pl_show(kv->key, shown));
		if (v->kind == YNODE_NULL)
			return pl_fail(c, v, "%s: expected a string, found null", sub);
		if (pl_string(c, v, sub, 1, CONFIG_VALUE_MAX, NULL, &kv->value) < 0)
			return -1;
		kv->line = v->line;
		kv->col = v->col;
	}
	return 0;
}

static int parse_artifacts(struct plctx *c, const struct ynode *n, const char *path,
                           struct strv *out)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	if (pl_want_list(c, n, path, 0, ARTIFACTS_LIST_MAX) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i], *v;
		char *name = NULL;
		pl_path(sub, "%s[%zu]", path, i);
		if (pl_want_map(c, it, sub) < 0 || pl_check_keys(c, it, sub, artifact_keys) < 0)
			return -1;
		if (ytree_get(it, "files"))
			return pl_fail(c, ytree_get(it, "files"),
			               "%s.files: only Compute actions take files, and ferry does "
			               "not run Compute actions yet",
			               sub);
		if (!(v = pl_get(it, "name")))
			return pl_missing(c, it, sub, "name", "the artifact's name");
		pl_path(sub, "%s[%zu].name", path, i);
		if (pl_string(c, v, sub, 1, NAME_MAX_, PL_ARTIFACT_CHARS, &name) < 0)
			return -1;
		if (strv_contains(out, name)) {
			pl_fail(c, v, "%s: \"%s\" is listed twice", sub, pl_show(name, shown));
			free(name);
			return -1;
		}
		strv_push_owned(out, name);
	}
	return 0;
}

static int action_entry(struct plctx *c, const struct ynode *k, const struct ynode *v,
                        const char *path, struct pl_action *a)
{
	char sub[PL_PATH_MAX];
	const char *key = k->text;
	pl_path(sub, "%s.%s", path, key);
	if (v->kind == YNODE_NULL && strcmp(key, "name") != 0 && strcmp(key, "actionTypeId") != 0)
		return 0; /* an optional field written as null is absent */
	if (strcmp(key, "name") == 0)
		return pl_string(c, v, sub, 1, NAME_MAX_, PL_NAME_CHARS, &a->name);
	if (strcmp(key, "actionTypeId") == 0)
		return parse_type_id(c, v, sub, a);
	if (strcmp(key, "runOrder") == 0)
		return pl_int(c, v, sub, 1, 999, &a->run_order);
	if (strcmp(key, "configuration") == 0)
		return parse_config(c, v, sub, a);
	if (strcmp(key, "outputArtifacts") == 0)
		return parse_artifacts(c, v, sub, &a->outputs);
	if (strcmp(key, "inputArtifacts") == 0)
		return parse_artifacts(c, v, sub, &a->inputs);
	if (strcmp(key, "roleArn") == 0)
		return role_arn(c, v, sub, &a->role_arn);
	if (strcmp(key, "namespace") == 0)
		return pl_string(c, v, sub, 1, NAME_MAX_, PL_NAMESPACE_CHARS, &a->namespace);
	if (strcmp(key, "timeoutInMinutes") == 0)
		return pl_int(c, v, sub, ACTION_TIMEOUT_MIN, ACTION_TIMEOUT_MAX,
		              &a->timeout_minutes);
	if (strcmp(key, "region") == 0) {
		const char *region = c->opts ? c->opts->region : NULL;
		if (pl_string(c, v, sub, STORE_REGION_MIN, STORE_REGION_MAX, "-", &a->region) < 0)
			return -1;
		if (region && strcmp(region, a->region) != 0)
			return pl_fail(c, v,
			               "%s: ferry runs every action in its own region \"%s\"; "
			               "cross-region actions are not supported",
			               sub, region);
		return 0;
	}
	/* commands, outputVariables, environmentVariables */
	pl_v2_field(c, k, key);
	return pl_fail(c, k,
	               "%s: only Compute actions (provider Commands) take %s, and they come in "
	               "a later version of ferry",
	               sub, key);
}

static int parse_action(struct plctx *c, const struct ynode *n, size_t si, size_t ai,
                        struct pl_action *a)
{
	char path[PL_PATH_MAX];
	pl_path(path, "stages[%zu].actions[%zu]", si, ai);
	a->stage_index = si;
	a->index = ai;
	a->line = n->line;
	a->col = n->col;
	a->run_order = 1;
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, action_keys) < 0)
		return -1;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (action_entry(c, n->items[i], n->items[i + 1], path, a) < 0)
			return -1;
	if (!a->name)
		return pl_missing(c, n, path, "name", "each action needs a name");
	if (!pl_get(n, "actionTypeId"))
		return pl_missing(c, n, path, "actionTypeId",
		                  "category, owner, provider and version");
	return 0;
}

/* --- stages ------------------------------------------------------------------------ */

static int parse_blockers(struct plctx *c, const struct ynode *n, const char *path,
                          struct pl_stage *s)
{
	char sub[PL_PATH_MAX];
	int idx;
	if (pl_want_list(c, n, path, 0, BLOCKERS_MAX) < 0)
		return -1;
	s->blockers = xcalloc(n->n + 1, sizeof *s->blockers);
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i], *v;
		struct pl_blocker *b = &s->blockers[s->nblockers++];
		pl_path(sub, "%s[%zu]", path, i);
		if (pl_want_map(c, it, sub) < 0 || pl_check_keys(c, it, sub, blocker_keys) < 0)
			return -1;
		if (!(v = pl_get(it, "name")))
			return pl_missing(c, it, sub, "name", "reserved by AWS, but required");
		pl_path(sub, "%s[%zu].name", path, i);
		if (pl_string(c, v, sub, 1, NAME_MAX_, NULL, &b->name) < 0)
			return -1;
		pl_path(sub, "%s[%zu]", path, i);
		if (!(v = pl_get(it, "type")))
			return pl_missing(c, it, sub, "type", "Schedule");
		pl_path(sub, "%s[%zu].type", path, i);
		if (pl_enum(c, v, sub, blocker_types, &idx) < 0)
			return -1;
		b->type = xstrdup(blocker_types[idx]);
	}
	return 0;
}

static int parse_on_failure(struct plctx *c, const struct ynode *n, const char *path,
                            struct pl_stage *s)
{
	char sub[PL_PATH_MAX];
	const struct ynode *v;
	int idx;
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, on_failure_keys) < 0)
		return -1;
	if ((v = ytree_get(n, "conditions")))
		return pl_fail(c, v,
		               "%s.conditions: stage conditions come in a later version of ferry",
		               path);
	if (!(v = pl_get(n, "result")))
		return pl_missing(c, n, path, "result", "RETRY or FAIL");
	pl_path(sub, "%s.result", path);
	if (pl_enum(c, v, sub, results, &idx) < 0)
		return -1;
	if (idx == 0)
		return pl_fail(c, v,
		               "%s: stage rollback (ROLLBACK) comes in a later version of ferry",
		               sub);
	if (idx == 3)
		return pl_fail(c, v,
		               "%s: SKIP is a beforeEntry result; onFailure takes RETRY or FAIL",
		               sub);
	s->on_failure = idx == 2 ? PL_ONFAIL_RETRY : PL_ONFAIL_FAIL;
	const struct ynode *rc = pl_get(n, "retryConfiguration");
	if (!rc)
		return 0;
	pl_path(sub, "%s.retryConfiguration", path);
	if (s->on_failure != PL_ONFAIL_RETRY)
		return pl_fail(c, rc, "%s: only with result RETRY", sub);
	if (pl_want_map(c, rc, sub) < 0 || pl_check_keys(c, rc, sub, retry_keys) < 0)
		return -1;
	if (!(v = pl_get(rc, "retryMode")))
		return 0;
	pl_path(sub, "%s.retryConfiguration.retryMode", path);
	if (pl_enum(c, v, sub, retry_modes, &idx) < 0)
		return -1;
	s->retry_mode_set = 1;
	s->retry_mode = (enum pl_retry_mode)idx;
	return 0;
}

static int parse_actions(struct plctx *c, const struct ynode *n, const char *path, size_t si,
                         struct pl_stage *s)
{
	if (n->kind != YNODE_SEQ)
		return pl_fail(c, n, "%s: expected a list of actions, found %s", path,
		               ytree_kind_name(n));
	if (n->n == 0)
		return pl_fail(c, n, "%s: a stage needs at least one action", path);
	if (n->n > PIPELINE_STAGE_ACTIONS_MAX)
		return pl_fail(c, n, "%s: a stage holds at most %d actions, found %zu", path,
		               PIPELINE_STAGE_ACTIONS_MAX, n->n);
	s->actions = xcalloc(n->n, sizeof *s->actions);
	for (size_t i = 0; i < n->n; i++) {
		s->nactions++;
		if (parse_action(c, n->items[i], si, i, &s->actions[i]) < 0)
			return -1;
	}
	return 0;
}

static int stage_entry(struct plctx *c, const struct ynode *k, const struct ynode *v,
                       const char *path, size_t si, struct pl_stage *s)
{
	char sub[PL_PATH_MAX];
	const char *key = k->text;
	pl_path(sub, "%s.%s", path, key);
	if (strcmp(key, "name") == 0)
		return pl_string(c, v, sub, 1, NAME_MAX_, PL_NAME_CHARS, &s->name);
	if (strcmp(key, "actions") == 0)
		return parse_actions(c, v, sub, si, s);
	if (v->kind == YNODE_NULL)
		return 0;
	if (strcmp(key, "blockers") == 0)
		return parse_blockers(c, v, sub, s);
	pl_v2_field(c, k, key);
	if (strcmp(key, "onFailure") == 0)
		return parse_on_failure(c, v, sub, s);
	/* onSuccess, beforeEntry */
	return pl_fail(c, k, "%s: stage conditions come in a later version of ferry", sub);
}

static int parse_stage(struct plctx *c, const struct ynode *n, size_t si, struct pl_stage *s)
{
	char path[PL_PATH_MAX];
	pl_path(path, "stages[%zu]", si);
	s->line = n->line;
	s->col = n->col;
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, stage_keys) < 0)
		return -1;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (stage_entry(c, n->items[i], n->items[i + 1], path, si, s) < 0)
			return -1;
	if (!s->name)
		return pl_missing(c, n, path, "name", "each stage needs a name");
	if (!ytree_get(n, "actions"))
		return pl_missing(c, n, path, "actions", "a stage needs at least one action");
	return 0;
}

static int parse_stages(struct plctx *c, const struct ynode *n)
{
	struct pipeline *p = c->p;
	if (n->kind != YNODE_SEQ)
		return pl_fail(c, n, "stages: expected a list of stages, found %s",
		               ytree_kind_name(n));
	if (n->n < PIPELINE_STAGES_MIN)
		return pl_fail(
		        c, n,
		        "stages: a pipeline needs at least %d stages (a Source stage and one "
		        "more), found %zu",
		        PIPELINE_STAGES_MIN, n->n);
	if (n->n > PIPELINE_STAGES_MAX)
		return pl_fail(c, n, "stages: a pipeline holds at most %d stages, found %zu",
		               PIPELINE_STAGES_MAX, n->n);
	p->stages = xcalloc(n->n, sizeof *p->stages);
	for (size_t i = 0; i < n->n; i++) {
		p->nstages++;
		if (parse_stage(c, n->items[i], i, &p->stages[i]) < 0)
			return -1;
	}
	return 0;
}

/* --- variables --------------------------------------------------------------------- */

static int parse_variable(struct plctx *c, const struct ynode *n, size_t i, struct pl_variable *var)
{
	char path[PL_PATH_MAX], sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	const struct ynode *v;
	pl_path(path, "variables[%zu]", i);
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, variable_keys) < 0)
		return -1;
	if (!(v = pl_get(n, "name")))
		return pl_missing(c, n, path, "name", "referenced as #{variables.<name>}");
	pl_path(sub, "%s.name", path);
	if (pl_string(c, v, sub, 1, VARIABLE_NAME_MAX, PL_NAMESPACE_CHARS, &var->name) < 0)
		return -1;
	for (size_t j = 0; j < i; j++)
		if (strcmp(c->p->variables[j].name, var->name) == 0)
			return pl_fail(c, v, "%s: \"%s\" is already declared by variables[%zu]",
			               sub, pl_show(var->name, shown), j);
	if ((v = pl_get(n, "defaultValue"))) {
		pl_path(sub, "%s.defaultValue", path);
		if (pl_string(c, v, sub, 1, VARIABLE_VALUE_MAX, NULL, &var->default_value) < 0)
			return -1;
	}
	if ((v = ytree_get(n, "description")) && v->kind != YNODE_NULL) {
		pl_path(sub, "%s.description", path);
		if (pl_string(c, v, sub, 0, VARIABLE_DESC_MAX, NULL, &var->description) < 0)
			return -1;
	}
	return 0;
}

static int parse_variables(struct plctx *c, const struct ynode *n)
{
	struct pipeline *p = c->p;
	if (pl_want_list(c, n, "variables", 0, PIPELINE_VARIABLES_MAX) < 0)
		return -1;
	p->variables = xcalloc(n->n + 1, sizeof *p->variables);
	for (size_t i = 0; i < n->n; i++) {
		p->nvariables++;
		if (parse_variable(c, n->items[i], i, &p->variables[i]) < 0)
			return -1;
	}
	return 0;
}

/* --- the declaration --------------------------------------------------------------- */

static int decl_entry(struct plctx *c, const struct ynode *k, const struct ynode *v)
{
	struct pipeline *p = c->p;
	const char *key = k->text;
	int idx;
	if (strcmp(key, "name") == 0)
		return pl_string(c, v, "name", 1, NAME_MAX_, PL_NAME_CHARS, &p->name);
	if (strcmp(key, "stages") == 0)
		return parse_stages(c, v);
	if (v->kind == YNODE_NULL)
		return 0; /* optional fields written as null are absent */
	if (strcmp(key, "roleArn") == 0)
		return role_arn(c, v, "roleArn", &p->role_arn);
	if (strcmp(key, "artifactStore") == 0) {
		if (pl_get(c->decl, "artifactStores"))
			return pl_fail(c, k,
			               "artifactStore: give artifactStore or artifactStores, "
			               "not both");
		p->stores = xcalloc(1, sizeof *p->stores);
		p->nstores = 1;
		return parse_store(c, v, "artifactStore", p->stores);
	}
	if (strcmp(key, "artifactStores") == 0)
		return pl_get(c->decl, "artifactStore") ? 0 : parse_stores(c, v);
	if (strcmp(key, "version") == 0)
		return pl_int(c, v, "version", 1, 999999999, &p->version);
	if (strcmp(key, "executionMode") == 0) {
		if (pl_enum(c, v, "executionMode", modes, &idx) < 0)
			return -1;
		p->execution_mode = (enum pl_mode)idx;
		p->execution_mode_set = 1;
		if (p->execution_mode != PL_SUPERSEDED)
			pl_v2_field(c, v,
			            p->execution_mode == PL_QUEUED ? "executionMode QUEUED"
			                                           : "executionMode PARALLEL");
		return 0;
	}
	if (strcmp(key, "pipelineType") == 0) {
		if (pl_enum(c, v, "pipelineType", types, &idx) < 0)
			return -1;
		p->type = idx == 0 ? PL_V1 : PL_V2;
		p->type_set = 1;
		return 0;
	}
	if (strcmp(key, "variables") == 0) {
		if (v->kind == YNODE_SEQ && v->n > 0)
			pl_v2_field(c, k, "variables");
		return parse_variables(c, v);
	}
	/* triggers */
	if (v->kind == YNODE_SEQ && v->n > 0)
		pl_v2_field(c, k, "triggers");
	return pl_parse_triggers(c, v);
}

/* By length too: a key with a NUL inside ("projects\0x") is not the extension, and is
 * refused as unknown rather than skipped. */
static int is_extension_key(const struct ynode *k)
{
	static const char *const ext[] = {"projects", "notifications"};
	for (size_t i = 0; k->kind == YNODE_SCALAR && i < sizeof ext / sizeof ext[0]; i++)
		if (k->len == strlen(ext[i]) && memcmp(k->text, ext[i], k->len) == 0)
			return 1;
	return 0;
}

int pl_parse_decl(struct plctx *c, const struct ynode *decl)
{
	struct pipeline *p = c->p;
	c->decl = decl;
	if (decl->kind != YNODE_MAP)
		return pl_fail(
		        c, decl,
		        "expected the pipeline declaration (a mapping with name and stages), "
		        "found %s",
		        ytree_kind_name(decl));
	/* In a bare declaration ferry's extensions sit beside the AWS keys (pipeline.c). */
	for (size_t i = 0; i + 1 < decl->n; i += 2) {
		const struct ynode *k = decl->items[i];
		if (c->bare && is_extension_key(k))
			continue;
		struct ynode one = *decl;
		one.items = decl->items + i;
		one.n = 2;
		if (pl_check_keys(c, &one, "", c->bare ? bare_keys : decl_keys) < 0)
			return -1;
		if (decl_entry(c, k, decl->items[i + 1]) < 0)
			return -1;
	}
	if (!p->name)
		return pl_missing(c, decl, "", "name", "the pipeline's name");
	if (!ytree_get(decl, "stages"))
		return pl_missing(c, decl, "", "stages", "a Source stage and at least one more");
	if (!p->execution_mode_set)
		p->execution_mode = PL_SUPERSEDED;
	return 0;
}
