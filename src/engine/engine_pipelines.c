/*
 * engine_pipelines.c — CreatePipeline, UpdatePipeline, GetPipeline, ListPipelines,
 * DeletePipeline; the declarations' cache; transitions; webhook secrets.
 */
#include "engine/engine_int.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define WEBHOOK_SECRET_PREFIX "ferry/webhook/"

struct eng_pipeline *eng_pipeline_find(struct engine *e, const char *name)
{
	for (struct eng_pipeline *p = e->pipelines; p; p = p->next)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

struct eng_decl *eng_decl_get(struct engine *e, const char *name, int version, struct err *err)
{
	for (size_t i = 0; i < e->ndecls; i++)
		if (!strcmp(e->decls[i]->name, name) && e->decls[i]->version == version) {
			e->decls[i]->refs++;
			return e->decls[i];
		}
	struct store_pipeline row = {0};
	int rc = store_pipeline_get(e->st, name, version, &row, err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "pipeline %s: version %d is not stored", name, version);
	if (rc != 0)
		return NULL;
	struct pipeline *p = NULL;
	char shown[256];
	snprintf(shown, sizeof shown, "pipeline %s version %d", name, version);
	if (pipeline_parse(row.declaration, strlen(row.declaration), shown, NULL, &p, err) < 0) {
		store_pipeline_free(&row);
		return NULL;
	}
	struct eng_decl *d = xcalloc(1, sizeof *d);
	d->name = xstrdup(name);
	d->version = row.version;
	d->p = p;
	d->text = row.declaration;
	row.declaration = NULL;
	store_pipeline_free(&row);
	d->refs = 1;
	e->decls = xgrow(e->decls, e->ndecls, sizeof *e->decls);
	e->decls[e->ndecls++] = d;
	return d;
}

void eng_decl_unref(struct engine *e, struct eng_decl *d)
{
	if (!d || --d->refs > 0)
		return;
	for (size_t i = 0; i < e->ndecls; i++)
		if (e->decls[i] == d) {
			e->decls[i] = e->decls[--e->ndecls];
			break;
		}
	pipeline_free(d->p);
	free(d->name);
	free(d->text);
	free(d);
}

static int load_transitions(struct engine *e, struct eng_pipeline *p, struct err *err)
{
	store_transition_list_free(p->transitions, p->ntransitions);
	p->transitions = NULL;
	p->ntransitions = 0;
	return store_transition_list(e->st, p->name, &p->transitions, &p->ntransitions, err);
}

int eng_transition_enabled(const struct eng_pipeline *p, const char *stage, const char *dir)
{
	for (size_t i = 0; i < p->ntransitions; i++)
		if (!strcmp(p->transitions[i].stage, stage) &&
		    !strcmp(p->transitions[i].direction, dir))
			return p->transitions[i].enabled;
	return 1;
}

static struct eng_pipeline *pipeline_add(struct engine *e, const struct store_pipeline *row,
                                         struct err *err)
{
	struct eng_decl *d = eng_decl_get(e, row->name, row->version, err);
	if (!d)
		return NULL;
	struct eng_pipeline *p = xcalloc(1, sizeof *p);
	p->name = xstrdup(row->name);
	p->decl = d;
	p->created_ms = row->created_ms;
	p->updated_ms = row->updated_ms;
	if (load_transitions(e, p, err) < 0) {
		eng_decl_unref(e, d);
		free(p->name);
		free(p);
		return NULL;
	}
	/* keep the list sorted by name */
	struct eng_pipeline **at = &e->pipelines;
	while (*at && strcmp((*at)->name, p->name) < 0)
		at = &(*at)->next;
	p->next = *at;
	*at = p;
	return p;
}

static void pipeline_release(struct engine *e, struct eng_pipeline *p)
{
	eng_decl_unref(e, p->decl);
	store_transition_list_free(p->transitions, p->ntransitions);
	free(p->name);
	free(p);
}

int eng_pipelines_load(struct engine *e, struct err *err)
{
	struct store_pipeline *rows = NULL;
	size_t n = 0;
	if (store_pipeline_list(e->st, &rows, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!pipeline_add(e, &rows[i], err))
			rc = -1;
	store_pipeline_list_free(rows, n);
	return rc;
}

void eng_pipelines_free(struct engine *e)
{
	while (e->pipelines) {
		struct eng_pipeline *p = e->pipelines;
		e->pipelines = p->next;
		pipeline_release(e, p);
	}
	while (e->ndecls) {
		struct eng_decl *d = e->decls[0];
		d->refs = 1;
		eng_decl_unref(e, d);
	}
	free(e->decls);
	e->decls = NULL;
}

static json_t *ms_json(int64_t ms)
{
	return json_real((double)ms / 1000.0);
}

static char *pipeline_arn(const char *name)
{
	return xasprintf("arn:aws:codepipeline:local:000000000000:%s", name);
}

static int parse_decl(const char *text, size_t len, const char *filename, struct pipeline **out,
                      struct engine_err *err)
{
	if (pipeline_parse(text, len, filename ? filename : "pipeline", NULL, out, &err->err) < 0)
		return eng_fail(err, ENGINE_EINVALID, "InvalidStructureException", "%s",
		                err->err.msg);
	return 0;
}

static int set_webhook_secret(struct engine *e, const char *name, struct err *err)
{
	unsigned char raw[32];
	char hex[65];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
	char *key = xasprintf(WEBHOOK_SECRET_PREFIX "%s", name);
	int rc = store_secret_set(e->st, key, hex, 64, err);
	free(key);
	sodium_memzero(hex, sizeof hex);
	return rc;
}

int engine_webhook_secret(struct engine *e, const char *name, int rotate, char **secret_hex,
                          struct engine_err *err)
{
	*secret_hex = NULL;
	if (!eng_pipeline_find(e, name))
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline", name);
	char *key = xasprintf(WEBHOOK_SECRET_PREFIX "%s", name);
	size_t len = 0;
	int rc = rotate ? STORE_NOT_FOUND
	                : store_secret_get(e->st, key, secret_hex, &len, &err->err);
	if (rc == STORE_NOT_FOUND) {
		rc = set_webhook_secret(e, name, &err->err);
		if (rc == 0)
			rc = store_secret_get(e->st, key, secret_hex, &len, &err->err);
	}
	free(key);
	return eng_store_rc(rc, err);
}

/* {"pipeline": {..., version}, "metadata": {...}, "projects"?: ...} of a stored text. */
static json_t *get_json(const char *name, const char *text, int64_t created_ms, int64_t updated_ms)
{
	json_t *doc = json_loads(text, 0, NULL);
	if (!doc)
		doc = json_object();
	json_t *meta = json_object();
	char *arn = pipeline_arn(name);
	json_object_set_new(meta, "pipelineArn", json_string(arn));
	free(arn);
	json_object_set_new(meta, "created", ms_json(created_ms));
	json_object_set_new(meta, "updated", ms_json(updated_ms));
	json_object_set_new(doc, "metadata", meta);
	return doc;
}

static int save(struct engine *e, struct pipeline *p, int update, struct store_pipeline *row,
                struct engine_err *err)
{
	struct eng_pipeline *old = eng_pipeline_find(e, p->name);
	p->version = update && old ? old->decl->version + 1 : 1;
	row->name = xstrdup(p->name);
	row->declaration = pipeline_to_string(p, PIPELINE_JSON_FILE);
	row->created_ms = old ? old->created_ms : wall_ms();
	row->updated_ms = wall_ms();
	int rc = store_pipeline_save(e->st, row, update, &err->err);
	if (rc == STORE_CONFLICT)
		return eng_fail(err, ENGINE_ECONFLICT, "PipelineNameInUseException",
		                "pipeline %s: a pipeline of that name exists (update it instead)",
		                p->name);
	if (rc == STORE_NOT_FOUND)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline (create it first)", p->name);
	return eng_store_rc(rc, err);
}

int engine_pipeline_create(struct engine *e, const char *text, size_t len, const char *filename,
                           int no_start, json_t **out, struct engine_err *err)
{
	*out = NULL;
	struct pipeline *p = NULL;
	int rc = parse_decl(text, len, filename, &p, err);
	if (rc < 0)
		return rc;
	struct store_pipeline row = {0};
	if (eng_pipeline_find(e, p->name)) {
		rc = eng_fail(err, ENGINE_ECONFLICT, "PipelineNameInUseException",
		              "pipeline %s: a pipeline of that name exists (update it instead)",
		              p->name);
		goto done;
	}
	rc = save(e, p, 0, &row, err);
	if (rc < 0)
		goto done;
	if (set_webhook_secret(e, p->name, &err->err) < 0) {
		rc = eng_store_rc(-1, err);
		goto done;
	}
	struct eng_pipeline *ep = pipeline_add(e, &row, &err->err);
	if (!ep) {
		rc = eng_store_rc(-1, err);
		goto done;
	}
	eng_log(e, "pipeline %s: created (version 1)", p->name);
	eng_poll_update(e);
	if (!no_start) {
		char *id = NULL;
		struct engine_start req = {.pipeline = p->name,
		                           .trigger_type = "CreatePipeline",
		                           .trigger_detail = "ferry"};
		if (engine_start(e, &req, &id, err) < 0)
			eng_log(e, "pipeline %s: first execution not started: %s", p->name,
			        err->err.msg);
		free(id);
	}
	*out = get_json(row.name, row.declaration, row.created_ms, row.updated_ms);
	rc = 0;
done:
	store_pipeline_free(&row);
	pipeline_free(p);
	return rc;
}

/* UpdatePipeline cancels what runs the old version (spec §2.2 [F]). */
static int cancel_executions(struct engine *e, const char *name, struct engine_err *err)
{
	for (struct eng_exec *x = e->active; x; x = x->next) {
		if (strcmp(x->row.pipeline, name) ||
		    (x->row.stop_mode && !strcmp(x->row.stop_mode, "cancel")))
			continue;
		eng_row_set(&x->row.stop_mode, "cancel");
		eng_row_set(&x->row.status_summary, "cancelled by an update of the pipeline");
		if (eng_exec_commit(e, x, &err->err) < 0)
			return eng_store_rc(-1, err);
	}
	return 0;
}

int engine_pipeline_update(struct engine *e, const char *text, size_t len, const char *filename,
                           json_t **out, struct engine_err *err)
{
	*out = NULL;
	struct pipeline *p = NULL;
	int rc = parse_decl(text, len, filename, &p, err);
	if (rc < 0)
		return rc;
	struct store_pipeline row = {0};
	struct eng_pipeline *old = eng_pipeline_find(e, p->name);
	if (!old) {
		rc = eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		              "pipeline %s: no such pipeline (create it first)", p->name);
		goto done;
	}
	rc = save(e, p, 1, &row, err);
	if (rc < 0)
		goto done;
	struct eng_decl *d = eng_decl_get(e, row.name, row.version, &err->err);
	if (!d) {
		rc = eng_store_rc(-1, err);
		goto done;
	}
	eng_decl_unref(e, old->decl);
	old->decl = d;
	old->updated_ms = row.updated_ms;
	eng_log(e, "pipeline %s: updated (version %d)", p->name, row.version);
	rc = cancel_executions(e, p->name, err);
	eng_poll_update(e);
	eng_advance(e);
	if (rc == 0)
		*out = get_json(row.name, row.declaration, old->created_ms, row.updated_ms);
done:
	store_pipeline_free(&row);
	pipeline_free(p);
	return rc;
}

int engine_pipeline_get(struct engine *e, const char *name, int version, json_t **out,
                        struct engine_err *err)
{
	*out = NULL;
	struct eng_pipeline *p = eng_pipeline_find(e, name);
	if (!p)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline", name);
	if (version <= 0 || version == p->decl->version) {
		*out = get_json(name, p->decl->text, p->created_ms, p->updated_ms);
		return 0;
	}
	struct store_pipeline row = {0};
	int rc = store_pipeline_get(e->st, name, version, &row, &err->err);
	if (rc == STORE_NOT_FOUND)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineVersionNotFoundException",
		                "pipeline %s: no version %d", name, version);
	if (rc < 0)
		return eng_store_rc(rc, err);
	*out = get_json(name, row.declaration, p->created_ms, row.created_ms);
	store_pipeline_free(&row);
	return 0;
}

int engine_pipeline_list(struct engine *e, json_t **out, struct engine_err *err)
{
	(void)err;
	json_t *arr = json_array();
	for (struct eng_pipeline *p = e->pipelines; p; p = p->next) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(p->name));
		json_object_set_new(o, "version", json_integer(p->decl->version));
		json_object_set_new(o, "pipelineType",
		                    json_string(pipeline_type_name(p->decl->p->type)));
		json_object_set_new(o, "executionMode",
		                    json_string(pipeline_mode_name(p->decl->p->execution_mode)));
		json_object_set_new(o, "created", ms_json(p->created_ms));
		json_object_set_new(o, "updated", ms_json(p->updated_ms));
		json_array_append_new(arr, o);
	}
	*out = json_pack("{s:o}", "pipelines", arr);
	return 0;
}

int engine_pipeline_delete(struct engine *e, const char *name, struct engine_err *err)
{
	struct eng_pipeline *p = eng_pipeline_find(e, name);
	if (!p)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline", name);
	/* its files go with it: logs by execution, artifacts by pipeline */
	struct store_exec *rows = NULL;
	size_t nrows = 0;
	if (store_exec_list(e->st, name, 0, 0, &rows, &nrows, &err->err) < 0)
		return eng_store_rc(-1, err);
	if (store_pipeline_delete(e->st, name, &err->err) < 0) {
		store_exec_list_free(rows, nrows);
		return eng_store_rc(-1, err);
	}
	struct err ferr;
	for (size_t i = 0; i < nrows; i++) {
		char *logs = eng_path(e, "logs/%s", rows[i].id);
		if (fs_rm_rf(logs, &ferr) < 0)
			eng_log(e, "pipeline %s: %s", name, ferr.msg);
		free(logs);
	}
	store_exec_list_free(rows, nrows);
	char *arts = eng_path(e, "artifacts/%s", name);
	if (fs_rm_rf(arts, &ferr) < 0)
		eng_log(e, "pipeline %s: %s", name, ferr.msg);
	free(arts);
	char *key = xasprintf(WEBHOOK_SECRET_PREFIX "%s", name);
	int src = store_secret_delete(e->st, key, NULL);
	(void)src;
	free(key);
	/* its executions are gone from the store: abandon what runs, forget the rest */
	for (struct eng_exec **at = &e->active; *at;) {
		struct eng_exec *x = *at;
		if (strcmp(x->row.pipeline, name)) {
			at = &x->next;
			continue;
		}
		for (size_t i = 0; i < x->nactions; i++)
			if (!strcmp(x->actions[i].status, "InProgress"))
				eng_action_kill(e, x->actions[i].id, 2);
		*at = x->next;
		eng_exec_free(e, x);
	}
	for (struct eng_pipeline **at = &e->pipelines; *at; at = &(*at)->next)
		if (*at == p) {
			*at = p->next;
			break;
		}
	pipeline_release(e, p);
	eng_log(e, "pipeline %s: deleted", name);
	eng_poll_update(e);
	eng_advance(e);
	return 0;
}

int engine_transition(struct engine *e, const char *pipeline, const char *stage, const char *type,
                      int enable, const char *reason, const char *by, struct engine_err *err)
{
	struct eng_pipeline *p = eng_pipeline_find(e, pipeline);
	if (!p)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline", pipeline);
	if (!pipeline_stage(p->decl->p, stage))
		return eng_fail(err, ENGINE_ENOTFOUND, "StageNotFoundException",
		                "pipeline %s: no stage %s", pipeline, stage);
	if (!type || (strcmp(type, "Inbound") && strcmp(type, "Outbound")))
		return eng_fail(err, ENGINE_EINVALID, "ValidationException",
		                "transitionType: expected Inbound or Outbound, got \"%s\"",
		                type ? type : "");
	if (!enable) {
		size_t n = reason ? strlen(reason) : 0;
		if (n < 1 || n > 300)
			return eng_fail(err, ENGINE_EINVALID, "ValidationException",
			                "reason: 1 to 300 characters are required to disable a "
			                "transition");
		for (const char *c = reason; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			            "!@ "
			            "().*?-",
			            *c))
				return eng_fail(
				        err, ENGINE_EINVALID, "ValidationException",
				        "reason: character '%c' is not allowed (letters, digits, "
				        "spaces and !@().*?- are)",
				        *c);
	}
	struct store_transition t = {.pipeline = (char *)pipeline,
	                             .stage = (char *)stage,
	                             .direction = (char *)type,
	                             .enabled = enable,
	                             .reason = enable ? NULL : (char *)reason,
	                             .changed_by = (char *)(by ? by : "ferry"),
	                             .changed_ms = wall_ms()};
	if (store_transition_put(e->st, &t, &err->err) < 0 || load_transitions(e, p, &err->err) < 0)
		return eng_store_rc(-1, err);
	eng_log(e, "pipeline %s: %s transition of stage %s %s", pipeline, type, stage,
	        enable ? "enabled" : "disabled");
	engine_state_changed(e, pipeline, NULL, NULL); /* live pages, whoever changed it */
	eng_advance(e);
	return 0;
}
