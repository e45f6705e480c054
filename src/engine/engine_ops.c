/*
 * engine_ops.c — StartPipelineExecution, StopPipelineExecution, RetryStageExecution
 * (spec §1.6, §2.5, §2.6).
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/timeutil.h"

static int count_active(struct engine *e, const char *pipeline)
{
	int n = 0;
	for (struct eng_exec *x = e->active; x; x = x->next)
		if (!strcmp(x->row.pipeline, pipeline))
			n++;
	return n;
}

static void append_active(struct engine *e, struct eng_exec *x)
{
	struct eng_exec **at = &e->active;
	while (*at)
		at = &(*at)->next;
	x->next = NULL;
	*at = x;
}

/* {"ActionName": "sha", ...} for every source action when a commit is asked for. */
static char *source_commits(const struct pipeline *p, const char *commit, const char *only_action)
{
	if (!commit)
		return NULL;
	json_t *o = json_object();
	for (size_t s = 0; s < p->nstages; s++)
		for (size_t a = 0; a < p->stages[s].nactions; a++) {
			const struct pl_action *act = &p->stages[s].actions[a];
			if (act->cat != PL_CAT_SOURCE)
				continue;
			if (only_action && strcmp(only_action, act->name))
				continue;
			json_object_set_new(o, act->name, json_string(commit));
		}
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

int eng_start(struct engine *e, const struct engine_start *req, const char *source_action,
              char **execution_id, struct engine_err *err);

int eng_start(struct engine *e, const struct engine_start *req, const char *source_action,
              char **execution_id, struct engine_err *err)
{
	*execution_id = NULL;
	struct eng_pipeline *ep = eng_pipeline_find(e, req->pipeline);
	if (!ep)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline", req->pipeline);
	if (e->stopping)
		return eng_fail(err, ENGINE_ECONFLICT, "ConflictException",
		                "the daemon is shutting down; start %s again after it restarts",
		                req->pipeline);
	const struct pipeline *p = ep->decl->p;
	if (req->client_token) {
		struct store_exec old = {0};
		int rc = store_exec_by_token(e->st, req->pipeline, req->client_token, &old,
		                             &err->err);
		if (rc == 0) {
			*execution_id = xstrdup(old.id);
			store_exec_free(&old);
			return 0;
		}
		if (rc < 0)
			return eng_store_rc(rc, err);
	}
	if (p->execution_mode != PL_SUPERSEDED &&
	    count_active(e, req->pipeline) >= ENGINE_MAX_CONCURRENT_EXECUTIONS)
		return eng_fail(err, ENGINE_ELIMIT,
		                "ConcurrentPipelineExecutionsLimitExceededException",
		                "pipeline %s: %d executions are already in progress", req->pipeline,
		                ENGINE_MAX_CONCURRENT_EXECUTIONS);
	struct pl_kv *given = NULL, *bound = NULL;
	size_t nbound = 0;
	if (req->nvars) {
		given = xcalloc(req->nvars, sizeof *given);
		for (size_t i = 0; i < req->nvars; i++) {
			given[i].key = (char *)req->var_names[i];
			given[i].value = (char *)req->var_values[i];
		}
	}
	int rc = pipeline_vars_bind(p, given, req->nvars, &bound, &nbound, &err->err);
	free(given);
	if (rc < 0)
		return eng_fail(err, ENGINE_EINVALID, "ValidationException", "pipeline %s: %s",
		                req->pipeline, err->err.msg);
	json_t *vars = json_array();
	for (size_t i = 0; i < nbound; i++)
		json_array_append_new(vars, json_pack("{s:s,s:s}", "name", bound[i].key,
		                                      "resolvedValue", bound[i].value));
	pipeline_kv_free(bound, nbound);

	struct store_exec row = {0};
	char id[ENGINE_UUID_LEN + 1];
	eng_uuid(id);
	int64_t seq = 0;
	if (store_exec_next_seq(e->st, req->pipeline, &seq, &err->err) < 0) {
		json_decref(vars);
		return eng_store_rc(-1, err);
	}
	row.id = id;
	row.pipeline = (char *)req->pipeline;
	row.version = ep->decl->version;
	row.seq = seq;
	row.status = "InProgress";
	row.trigger_type =
	        (char *)(req->trigger_type ? req->trigger_type : "StartPipelineExecution");
	row.trigger_detail = (char *)(req->trigger_detail ? req->trigger_detail : "ferry");
	row.variables = json_dumps(vars, JSON_COMPACT);
	json_decref(vars);
	row.source_commit = source_commits(p, req->commit, source_action);
	row.stage = p->stages[0].name;
	row.waiting = 1;
	row.client_token = (char *)req->client_token;
	row.started_ms = row.updated_ms = wall_ms();
	struct eng_exec *x = NULL;
	/* the row is written by become_waiter's commit; load needs the decl only */
	rc = 0;
	struct eng_decl *d = ep->decl;
	d->refs++;
	x = xcalloc(1, sizeof *x);
	x->decl = d;
	x->row = row;
	x->row.id = xstrdup(id);
	x->row.pipeline = xstrdup(row.pipeline);
	x->row.status = xstrdup(row.status);
	x->row.trigger_type = xstrdup(row.trigger_type);
	x->row.trigger_detail = xstrdup(row.trigger_detail);
	x->row.variables = row.variables;
	x->row.source_commit = row.source_commit;
	x->row.stage = NULL;
	x->row.client_token = req->client_token ? xstrdup(req->client_token) : NULL;
	append_active(e, x);
	if (eng_exec_become_waiter(e, x, p->stages[0].name, &err->err) < 0) {
		eng_exec_drop(e, x);
		return eng_store_rc(-1, err);
	}
	eng_exec_event(e, x, "started");
	*execution_id = xstrdup(id);
	eng_advance(e);
	return rc;
}

int engine_start(struct engine *e, const struct engine_start *req, char **execution_id,
                 struct engine_err *err)
{
	return eng_start(e, req, NULL, execution_id, err);
}

static int get_row(struct engine *e, const char *pipeline, const char *id, struct store_exec *row,
                   struct engine_err *err)
{
	if (!eng_pipeline_find(e, pipeline))
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline", pipeline);
	int rc = store_exec_get(e->st, id, row, &err->err);
	if (rc == STORE_NOT_FOUND || (rc == 0 && strcmp(row->pipeline, pipeline))) {
		if (rc == 0)
			store_exec_free(row);
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineExecutionNotFoundException",
		                "pipeline %s: no execution %s", pipeline, id);
	}
	return eng_store_rc(rc, err);
}

int engine_stop(struct engine *e, const char *pipeline, const char *execution_id, int abandon,
                const char *reason, struct engine_err *err)
{
	struct store_exec row = {0};
	int rc = get_row(e, pipeline, execution_id, &row, err);
	if (rc < 0)
		return rc;
	store_exec_free(&row);
	if (reason && strlen(reason) > 200)
		return eng_fail(err, ENGINE_EINVALID, "ValidationException",
		                "reason: at most 200 characters");
	struct eng_exec *x = eng_exec_find(e, execution_id);
	if (!x)
		return eng_fail(err, ENGINE_ECONFLICT, "PipelineExecutionNotStoppableException",
		                "execution %s is not in progress", execution_id);
	const char *mode = x->row.stop_mode ? x->row.stop_mode : "";
	if ((!abandon && !strcmp(x->row.status, "Stopping")) ||
	    (abandon && !strcmp(mode, "abandon")))
		return eng_fail(err, ENGINE_ECONFLICT, "DuplicatedStopRequestException",
		                "execution %s is already being stopped", execution_id);
	eng_row_set(&x->row.status, "Stopping");
	eng_row_set(&x->row.stop_mode, abandon ? "abandon" : "wait");
	eng_row_set(&x->row.stop_reason, reason);
	struct strv kill = {0};
	if (abandon) {
		for (size_t i = 0; i < x->nactions; i++) {
			struct store_action *a = &x->actions[i];
			if (strcmp(a->status, "InProgress"))
				continue;
			eng_row_set(&a->status, "Abandoned");
			eng_row_set(&a->summary, "abandoned by a stop request");
			a->updated_ms = wall_ms();
			strv_push(&kill, a->id);
		}
	}
	if (eng_exec_commit(e, x, &err->err) < 0) {
		strv_free(&kill);
		return eng_store_rc(-1, err);
	}
	for (size_t i = 0; i < kill.n; i++)
		eng_action_kill(e, kill.v[i], 2);
	strv_free(&kill);
	eng_log(e, "pipeline %s: execution %s stopping (%s)", pipeline, execution_id,
	        abandon ? "abandon" : "finish running actions");
	eng_advance(e);
	return 0;
}

int engine_retry(struct engine *e, const char *pipeline, const char *stage,
                 const char *execution_id, const char *retry_mode, struct engine_err *err)
{
	struct eng_pipeline *ep = eng_pipeline_find(e, pipeline);
	if (!ep)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline", pipeline);
	int all = retry_mode && !strcmp(retry_mode, "ALL_ACTIONS");
	if (retry_mode && !all && strcmp(retry_mode, "FAILED_ACTIONS"))
		return eng_fail(err, ENGINE_EINVALID, "ValidationException",
		                "retryMode: expected FAILED_ACTIONS or ALL_ACTIONS, got \"%s\"",
		                retry_mode);
	if (!pipeline_stage(ep->decl->p, stage))
		return eng_fail(err, ENGINE_ENOTFOUND, "StageNotFoundException",
		                "pipeline %s: no stage %s", pipeline, stage);
	struct store_exec row = {0};
	int rc = get_row(e, pipeline, execution_id, &row, err);
	if (rc < 0)
		return rc;
	struct store_stage latest = {0};
	rc = store_stage_latest(e->st, pipeline, stage, &latest, &err->err);
	if (rc < 0) {
		store_exec_free(&row);
		return eng_store_rc(rc, err);
	}
	if (rc == STORE_NOT_FOUND || strcmp(latest.execution_id, execution_id)) {
		rc = eng_fail(err, ENGINE_ECONFLICT, "NotLatestPipelineExecutionException",
		              "stage %s: execution %s is not the latest to have entered it", stage,
		              execution_id);
	} else if (eng_exec_find(e, execution_id)) {
		rc = eng_fail(err, ENGINE_ECONFLICT, "ConflictException",
		              "execution %s is still in progress", execution_id);
	} else if (strcmp(latest.status, "Failed") && strcmp(latest.status, "Stopped")) {
		rc = eng_fail(err, ENGINE_ECONFLICT, "StageNotRetryableException",
		              "stage %s of execution %s is %s: only a Failed or Stopped stage can "
		              "be retried",
		              stage, execution_id, latest.status);
	} else if (row.version != ep->decl->version) {
		rc = eng_fail(err, ENGINE_ECONFLICT, "StageNotRetryableException",
		              "pipeline %s changed (version %d → %d) since execution %s ran",
		              pipeline, row.version, ep->decl->version, execution_id);
	}
	store_stage_free(&latest);
	if (rc < 0) {
		store_exec_free(&row);
		return rc;
	}
	struct eng_exec *x = NULL;
	if (eng_exec_load(e, &row, &x, &err->err) < 0) {
		store_exec_free(&row);
		return eng_store_rc(-1, err);
	}
	store_exec_free(&row);
	struct store_stage *s = eng_exec_stage(x, stage);
	s->attempt++;
	if (all)
		s->min_attempt = s->attempt;
	eng_row_set(&s->status, "InProgress");
	s->updated_ms = wall_ms();
	eng_row_set(&x->row.status, "InProgress");
	eng_row_set(&x->row.status_summary, NULL);
	eng_row_set(&x->row.stop_mode, NULL);
	eng_row_set(&x->row.stop_reason, NULL);
	eng_row_set(&x->row.stage, stage);
	x->row.waiting = 0;
	if (eng_exec_commit(e, x, &err->err) < 0) {
		eng_exec_free(e, x);
		return eng_store_rc(-1, err);
	}
	append_active(e, x);
	eng_log(e, "pipeline %s: execution %s: retrying stage %s (%s)", pipeline, execution_id,
	        stage, all ? "ALL_ACTIONS" : "FAILED_ACTIONS");
	eng_exec_event(e, x, "resumed");
	eng_advance(e);
	return 0;
}
