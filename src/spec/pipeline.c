/*
 * pipeline.c — reading a declaration file (bare or wrapped), the order of the passes,
 * releasing, and the lookups callers use. The passes are described in pipeline_int.h.
 */
#include "spec/pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"

#define TAGS_MAX      50
#define TAG_KEY_MAX   128
#define TAG_VALUE_MAX 256

static const char *const wrapper_keys[] = {
        "pipeline", "metadata", "tags", "projects", "notifications", NULL,
};
static const char *const tag_keys[] = {"key", "value", NULL};

static int parse_tags(struct plctx *c, const struct ynode *n)
{
	struct pipeline *p = c->p;
	char path[PL_PATH_MAX];
	const struct ynode *v;
	if (pl_want_list(c, n, "tags", 0, TAGS_MAX) < 0)
		return -1;
	p->tags = xcalloc(n->n + 1, sizeof *p->tags);
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		struct pl_kv *kv = &p->tags[p->ntags++];
		pl_path(path, "tags[%zu]", i);
		if (pl_want_map(c, it, path) < 0 || pl_check_keys(c, it, path, tag_keys) < 0)
			return -1;
		if (!(v = pl_get(it, "key")))
			return pl_missing(c, it, path, "key", "a tag is a key and a value");
		pl_path(path, "tags[%zu].key", i);
		if (pl_string(c, v, path, 1, TAG_KEY_MAX, NULL, &kv->key) < 0)
			return -1;
		pl_path(path, "tags[%zu]", i);
		if (!(v = ytree_get(it, "value")))
			return pl_missing(c, it, path, "value", "a tag is a key and a value");
		pl_path(path, "tags[%zu].value", i);
		if (v->kind == YNODE_NULL)
			kv->value = xstrdup("");
		else if (pl_string(c, v, path, 0, TAG_VALUE_MAX, NULL, &kv->value) < 0)
			return -1;
		kv->line = v->line;
		kv->col = v->col;
	}
	return 0;
}

/* Finds the declaration: the root, or its `pipeline` (get-pipeline's output,
 * create-pipeline's input). */
static int read_root(struct plctx *c, const struct ynode *root)
{
	if (root->kind == YNODE_NULL)
		return pl_fail(c, root, "the file is empty (expected a pipeline declaration)");
	if (root->kind != YNODE_MAP)
		return pl_fail(c, root,
		               "expected a pipeline declaration (a mapping with name and stages), "
		               "found %s",
		               ytree_kind_name(root));
	const struct ynode *decl = ytree_get(root, "pipeline");
	if (!decl) {
		c->bare = 1;
		c->projects = ytree_get(root, "projects");
		c->notifications = ytree_get(root, "notifications");
		return pl_parse_decl(c, root);
	}
	if (pl_check_keys(c, root, "", wrapper_keys) < 0)
		return -1;
	const struct ynode *meta = ytree_get(root, "metadata");
	if (meta && meta->kind != YNODE_NULL) {
		if (pl_want_map(c, meta, "metadata") < 0)
			return -1;
		pl_warn(c, meta, "metadata is kept by the server; the file's is ignored");
	}
	const struct ynode *tags = pl_get(root, "tags");
	if (tags && parse_tags(c, tags) < 0)
		return -1;
	c->projects = ytree_get(root, "projects");
	c->notifications = ytree_get(root, "notifications");
	return pl_parse_decl(c, decl);
}

int pipeline_parse(const char *text, size_t len, const char *filename,
                   const struct pipeline_opts *opts, struct pipeline **out, struct err *err)
{
	const char *file = filename ? filename : "pipeline.json";
	struct ynode *root = NULL;
	*out = NULL;
	if (len > PIPELINE_FILE_MAX)
		return err_set(err, "%s: larger than %d bytes (PIPELINE_FILE_MAX)", file,
		               PIPELINE_FILE_MAX);
	if (ytree_parse(text, len, file, &root, err) < 0) {
		if (err)
			pl_utf8_fix(err->msg); /* it may quote a key cut short */
		return -1;
	}
	struct pipeline *p = xcalloc(1, sizeof *p);
	p->filename = xstrdup(file);
	struct plctx c = {.file = file, .p = p, .err = err, .opts = opts};
	int rc = read_root(&c, root);
	if (rc == 0 && c.projects && c.projects->kind != YNODE_NULL)
		rc = pl_parse_projects(&c, c.projects);
	if (rc == 0 && c.notifications && c.notifications->kind != YNODE_NULL)
		rc = pl_parse_notifications(&c, c.notifications);
	if (rc == 0)
		rc = pl_check_structure(&c);
	ytree_free(root);
	if (rc < 0) {
		pipeline_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int pipeline_load(const char *path, const char *shown, const struct pipeline_opts *opts,
                  struct pipeline **out, struct err *err)
{
	char *data = NULL;
	size_t len = 0;
	*out = NULL;
	if (fs_read_file(path, PIPELINE_FILE_MAX, &data, &len, err) < 0)
		return -1;
	int rc = pipeline_parse(data, len, shown ? shown : path, opts, out, err);
	free(data);
	return rc;
}

/* --- releasing --------------------------------------------------------------------- */

void pipeline_kv_free(struct pl_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void action_free(struct pl_action *a)
{
	free(a->name);
	free(a->category);
	free(a->owner);
	free(a->provider_name);
	free(a->version);
	pipeline_kv_free(a->config, a->nconfig);
	strv_free(&a->inputs);
	strv_free(&a->outputs);
	free(a->namespace);
	free(a->region);
	free(a->role_arn);
}

static void stage_free(struct pl_stage *s)
{
	free(s->name);
	for (size_t i = 0; i < s->nactions; i++)
		action_free(&s->actions[i]);
	free(s->actions);
	for (size_t i = 0; i < s->nblockers; i++) {
		free(s->blockers[i].name);
		free(s->blockers[i].type);
	}
	free(s->blockers);
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	free(p->filename);
	free(p->name);
	free(p->role_arn);
	for (size_t i = 0; i < p->nstores; i++) {
		free(p->stores[i].region);
		free(p->stores[i].type);
		free(p->stores[i].location);
		free(p->stores[i].key_id);
		free(p->stores[i].key_type);
	}
	free(p->stores);
	for (size_t i = 0; i < p->nstages; i++)
		stage_free(&p->stages[i]);
	free(p->stages);
	for (size_t i = 0; i < p->nvariables; i++) {
		free(p->variables[i].name);
		free(p->variables[i].default_value);
		free(p->variables[i].description);
	}
	free(p->variables);
	pl_triggers_free(p->triggers, p->ntriggers);
	pl_projects_free(p->projects, p->nprojects);
	pl_notifications_free(p->notifications, p->nnotifications);
	pipeline_kv_free(p->tags, p->ntags);
	strv_free(&p->warnings);
	free(p);
}

/* --- lookups ----------------------------------------------------------------------- */

const struct pl_stage *pipeline_stage(const struct pipeline *p, const char *name)
{
	for (size_t i = 0; i < p->nstages; i++)
		if (p->stages[i].name && strcmp(p->stages[i].name, name) == 0)
			return &p->stages[i];
	return NULL;
}

const struct pl_action *pipeline_action(const struct pipeline *p, const char *stage,
                                        const char *action)
{
	const struct pl_stage *s = pipeline_stage(p, stage);
	for (size_t i = 0; s && i < s->nactions; i++)
		if (s->actions[i].name && strcmp(s->actions[i].name, action) == 0)
			return &s->actions[i];
	return NULL;
}

const char *pipeline_config(const struct pl_action *a, const char *key)
{
	for (size_t i = 0; i < a->nconfig; i++)
		if (a->config[i].key && strcmp(a->config[i].key, key) == 0)
			return a->config[i].value;
	return NULL;
}

const struct pl_action *pipeline_namespace_action(const struct pipeline *p, const char *ns)
{
	for (size_t i = 0; i < p->nstages; i++)
		for (size_t j = 0; j < p->stages[i].nactions; j++) {
			const struct pl_action *a = &p->stages[i].actions[j];
			if (a->namespace && strcmp(a->namespace, ns) == 0)
				return a;
		}
	return NULL;
}

const struct pl_project *pipeline_project(const struct pipeline *p, const char *name)
{
	for (size_t i = 0; i < p->nprojects; i++)
		if (strcmp(p->projects[i].name, name) == 0)
			return &p->projects[i];
	return NULL;
}

const struct pl_artifact_store *pipeline_artifact_store(const struct pipeline *p,
                                                        const char *region)
{
	if (p->nstores == 0)
		return NULL;
	if (!region || !p->stores_by_region)
		return &p->stores[0];
	for (size_t i = 0; i < p->nstores; i++)
		if (p->stores[i].region && strcmp(p->stores[i].region, region) == 0)
			return &p->stores[i];
	return NULL;
}

int pipeline_runs_before(const struct pl_action *a, const struct pl_action *b)
{
	if (a->stage_index != b->stage_index)
		return a->stage_index < b->stage_index;
	return a->run_order < b->run_order;
}

const char *pipeline_category_name(enum pl_category cat)
{
	static const char *const names[] = {"Source", "Build",    "Deploy", "Test",
	                                    "Invoke", "Approval", "Compute"};
	return cat >= 0 && cat < PL_CAT_COUNT ? names[cat] : "?";
}

const char *pipeline_mode_name(enum pl_mode m)
{
	return m == PL_QUEUED ? "QUEUED" : m == PL_PARALLEL ? "PARALLEL" : "SUPERSEDED";
}

const char *pipeline_type_name(enum pl_type t)
{
	return t == PL_V2 ? "V2" : "V1";
}
