/*
 * engine_query.c — the read side: GetPipelineState, GetPipelineExecution,
 * ListPipelineExecutions, ListActionExecutions, trigger events and log files, in
 * CodePipeline's shapes (spec §2.3, botocore's codepipeline model).
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static json_t *ms_json(int64_t ms)
{
	return json_real((double)ms / 1000.0);
}

static json_t *parse_or_null(const char *text)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_null();
}

static struct eng_pipeline *need_pipeline(struct engine *e, const char *name,
                                          struct engine_err *err)
{
	struct eng_pipeline *p = eng_pipeline_find(e, name);
	if (!p)
		eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		         "pipeline %s: no such pipeline", name);
	return p;
}

/* The action executions of one execution: from memory when it is active. */
static int actions_of(struct engine *e, const char *pipeline, const char *exec_id,
                      struct store_action **out, size_t *n, int *owned, struct err *err)
{
	struct eng_exec *x = eng_exec_find(e, exec_id);
	if (x) {
		*out = x->actions;
		*n = x->nactions;
		*owned = 0;
		return 0;
	}
	*owned = 1;
	return store_action_list(e->st, pipeline, exec_id, 0, out, n, err);
}

static void actions_release(struct store_action *a, size_t n, int owned)
{
	if (owned)
		store_action_list_free(a, n);
}

static const struct store_action *latest_action(const struct store_action *a, size_t n,
                                                const char *stage, const char *action)
{
	const struct store_action *r = NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].stage, stage) && !strcmp(a[i].action, action))
			r = &a[i];
	return r;
}

static json_t *action_latest_json(const struct store_action *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "actionExecutionId", json_string(r->id));
	json_object_set_new(o, "status", json_string(r->status));
	if (r->summary)
		json_object_set_new(o, "summary", json_string(r->summary));
	json_object_set_new(o, "lastStatusChange", ms_json(r->updated_ms));
	if (r->external_id)
		json_object_set_new(o, "externalExecutionId", json_string(r->external_id));
	if (r->error_code)
		json_object_set_new(o, "errorDetails",
		                    json_pack("{s:s,s:s}", "code", r->error_code, "message",
		                              r->error_message ? r->error_message : ""));
	return o;
}

static json_t *exec_ref(const char *id, const char *status)
{
	return json_pack("{s:s,s:s,s:s}", "pipelineExecutionId", id, "status", status, "type",
	                 "STANDARD");
}

int engine_state(struct engine *e, const char *pipeline, json_t **out, struct engine_err *err)
{
	*out = NULL;
	struct eng_pipeline *ep = need_pipeline(e, pipeline, err);
	if (!ep)
		return ENGINE_ENOTFOUND;
	const struct pipeline *p = ep->decl->p;
	json_t *stages = json_array();
	for (size_t si = 0; si < p->nstages; si++) {
		const struct pl_stage *S = &p->stages[si];
		json_t *st = json_object();
		json_object_set_new(st, "stageName", json_string(S->name));
		/* executions waiting in front of it */
		json_t *inbound = json_array();
		for (struct eng_exec *x = e->active; x; x = x->next)
			if (!strcmp(x->row.pipeline, pipeline) && x->row.waiting && x->row.stage &&
			    !strcmp(x->row.stage, S->name))
				json_array_append_new(inbound, exec_ref(x->row.id, x->row.status));
		if (json_array_size(inbound)) {
			json_object_set(st, "inboundExecution",
			                json_array_get(inbound, json_array_size(inbound) - 1));
			json_object_set_new(st, "inboundExecutions", inbound);
		} else {
			json_decref(inbound);
		}
		json_t *tr = json_pack("{s:b}", "enabled", 1);
		for (size_t i = 0; i < ep->ntransitions; i++) {
			const struct store_transition *t = &ep->transitions[i];
			if (strcmp(t->stage, S->name) || strcmp(t->direction, "Inbound"))
				continue;
			json_object_set_new(tr, "enabled", json_boolean(t->enabled));
			if (t->changed_by)
				json_object_set_new(tr, "lastChangedBy",
				                    json_string(t->changed_by));
			json_object_set_new(tr, "lastChangedAt", ms_json(t->changed_ms));
			if (!t->enabled && t->reason)
				json_object_set_new(tr, "disabledReason", json_string(t->reason));
		}
		json_object_set_new(st, "inboundTransitionState", tr);
		struct store_stage latest = {0};
		int rc = store_stage_latest(e->st, pipeline, S->name, &latest, &err->err);
		if (rc < 0) {
			json_decref(st);
			json_decref(stages);
			return eng_store_rc(rc, err);
		}
		struct store_action *acts = NULL;
		size_t nacts = 0;
		int owned = 0;
		if (rc == 0) {
			json_object_set_new(st, "latestExecution",
			                    exec_ref(latest.execution_id, latest.status));
			if (actions_of(e, pipeline, latest.execution_id, &acts, &nacts, &owned,
			               &err->err) < 0) {
				store_stage_free(&latest);
				json_decref(st);
				json_decref(stages);
				return eng_store_rc(-1, err);
			}
			if (latest.attempt > 1)
				json_object_set_new(
				        st, "retryStageMetadata",
				        json_pack("{s:i,s:s}", "manualStageRetryAttempt",
				                  latest.attempt - 1, "latestRetryTrigger",
				                  "ManualStageRetry"));
		}
		json_t *astates = json_array();
		for (size_t ai = 0; ai < S->nactions; ai++) {
			json_t *as = json_object();
			json_object_set_new(as, "actionName", json_string(S->actions[ai].name));
			const struct store_action *r =
			        rc == 0 ? latest_action(acts, nacts, S->name, S->actions[ai].name)
			                : NULL;
			if (r) {
				json_t *le = action_latest_json(r);
				/* the approval token, while a person's answer is awaited (spec
				 * §2.3) */
				if (S->actions[ai].provider->kind == PL_KIND_MANUAL &&
				    eng_approval_is_waiting(r))
					json_object_set_new(le, "token",
					                    json_string(r->external_id));
				json_object_set_new(as, "latestExecution", le);
				if (r->revision) {
					json_t *rev = parse_or_null(r->revision);
					json_t *cur = json_object();
					json_object_set(cur, "revisionId",
					                json_object_get(rev, "revisionId"));
					json_object_set(cur, "revisionChangeId",
					                json_object_get(rev, "revisionId"));
					json_t *created = json_object_get(rev, "created");
					if (json_is_integer(created))
						json_object_set_new(
						        cur, "created",
						        ms_json(json_integer_value(created)));
					json_object_set_new(as, "currentRevision", cur);
					json_decref(rev);
				}
			}
			json_array_append_new(astates, as);
		}
		json_object_set_new(st, "actionStates", astates);
		actions_release(acts, nacts, owned);
		store_stage_free(&latest);
		json_array_append_new(stages, st);
	}
	*out = json_object();
	json_object_set_new(*out, "pipelineName", json_string(pipeline));
	json_object_set_new(*out, "pipelineVersion", json_integer(ep->decl->version));
	json_object_set_new(*out, "stageStates", stages);
	json_object_set_new(*out, "created", ms_json(ep->created_ms));
	json_object_set_new(*out, "updated", ms_json(ep->updated_ms));
	return 0;
}

static json_t *source_revisions(const struct store_action *a, size_t n, int artifact_form)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!a[i].revision || strcmp(a[i].status, "Succeeded"))
			continue;
		json_t *rev = parse_or_null(a[i].revision);
		json_t *o = json_object();
		if (artifact_form) {
			json_t *outs = parse_or_null(a[i].output_artifacts);
			json_t *first = json_array_get(outs, 0);
			json_object_set(o, "name", json_object_get(first, "name"));
			json_decref(outs);
		} else {
			json_object_set_new(o, "actionName", json_string(a[i].action));
		}
		json_object_set(o, "revisionId", json_object_get(rev, "revisionId"));
		json_object_set(o, "revisionSummary", json_object_get(rev, "revisionSummary"));
		json_t *created = json_object_get(rev, "created");
		if (artifact_form && json_is_integer(created))
			json_object_set_new(o, "created", ms_json(json_integer_value(created)));
		json_decref(rev);
		/* a retried source replaces the earlier revision */
		size_t k;
		json_t *v;
		json_array_foreach(arr, k, v)
		{
			json_t *key = json_object_get(v, artifact_form ? "name" : "actionName");
			if (json_equal(key,
			               json_object_get(o, artifact_form ? "name" : "actionName"))) {
				json_array_remove(arr, k);
				break;
			}
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *trigger_json(const struct store_exec *x)
{
	return json_pack("{s:s,s:s}", "triggerType", x->trigger_type, "triggerDetail",
	                 x->trigger_detail ? x->trigger_detail : "");
}

static const char *mode_of(struct engine *e, const struct store_exec *x)
{
	struct err err;
	struct eng_decl *d = eng_decl_get(e, x->pipeline, x->version, &err);
	const char *m = d ? pipeline_mode_name(d->p->execution_mode) : "SUPERSEDED";
	eng_decl_unref(e, d);
	return m;
}

int engine_execution_get(struct engine *e, const char *pipeline, const char *execution_id,
                         json_t **out, struct engine_err *err)
{
	*out = NULL;
	if (!need_pipeline(e, pipeline, err))
		return ENGINE_ENOTFOUND;
	struct store_exec row = {0};
	int rc = store_exec_get(e->st, execution_id, &row, &err->err);
	if (rc == STORE_NOT_FOUND || (rc == 0 && strcmp(row.pipeline, pipeline))) {
		if (rc == 0)
			store_exec_free(&row);
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineExecutionNotFoundException",
		                "pipeline %s: no execution %s", pipeline, execution_id);
	}
	if (rc < 0)
		return eng_store_rc(rc, err);
	struct store_action *acts = NULL;
	size_t n = 0;
	int owned = 0;
	if (actions_of(e, pipeline, execution_id, &acts, &n, &owned, &err->err) < 0) {
		store_exec_free(&row);
		return eng_store_rc(-1, err);
	}
	json_t *o = json_object();
	json_object_set_new(o, "pipelineName", json_string(row.pipeline));
	json_object_set_new(o, "pipelineVersion", json_integer(row.version));
	json_object_set_new(o, "pipelineExecutionId", json_string(row.id));
	json_object_set_new(o, "status", json_string(row.status));
	if (row.status_summary)
		json_object_set_new(o, "statusSummary", json_string(row.status_summary));
	json_object_set_new(o, "artifactRevisions", source_revisions(acts, n, 1));
	json_object_set_new(o, "variables", parse_or_null(row.variables));
	json_object_set_new(o, "trigger", trigger_json(&row));
	json_object_set_new(o, "executionMode", json_string(mode_of(e, &row)));
	json_object_set_new(o, "executionType", json_string("STANDARD"));
	json_object_set_new(o, "startTime", ms_json(row.started_ms));
	json_object_set_new(o, "lastUpdateTime", ms_json(row.updated_ms));
	if (row.stop_reason || row.stop_mode)
		json_object_set_new(
		        o, "stopTrigger",
		        json_pack("{s:s}", "reason", row.stop_reason ? row.stop_reason : ""));
	actions_release(acts, n, owned);
	store_exec_free(&row);
	*out = json_pack("{s:o}", "pipelineExecution", o);
	return 0;
}

int engine_executions_list(struct engine *e, const char *pipeline, int max_results,
                           const char *next_token, json_t **out, struct engine_err *err)
{
	*out = NULL;
	if (!need_pipeline(e, pipeline, err))
		return ENGINE_ENOTFOUND;
	if (max_results <= 0)
		max_results = 100;
	if (max_results > 100)
		return eng_fail(err, ENGINE_EINVALID, "ValidationException",
		                "maxResults: at most 100");
	int64_t before = 0;
	if (next_token) {
		char *end = NULL;
		before = strtoll(next_token, &end, 10);
		if (!*next_token || *end || before <= 0)
			return eng_fail(err, ENGINE_EINVALID, "InvalidNextTokenException",
			                "nextToken: \"%s\" was not given by an earlier answer",
			                next_token);
	}
	struct store_exec *rows = NULL;
	size_t n = 0;
	if (store_exec_list(e->st, pipeline, before, max_results + 1, &rows, &n, &err->err) < 0)
		return eng_store_rc(-1, err);
	json_t *arr = json_array();
	size_t shown = n > (size_t)max_results ? (size_t)max_results : n;
	for (size_t i = 0; i < shown; i++) {
		const struct store_exec *x = &rows[i];
		json_t *o = json_object();
		json_object_set_new(o, "pipelineExecutionId", json_string(x->id));
		json_object_set_new(o, "status", json_string(x->status));
		if (x->status_summary)
			json_object_set_new(o, "statusSummary", json_string(x->status_summary));
		json_object_set_new(o, "startTime", ms_json(x->started_ms));
		json_object_set_new(o, "lastUpdateTime", ms_json(x->updated_ms));
		json_object_set_new(o, "trigger", trigger_json(x));
		if (x->stop_mode)
			json_object_set_new(
			        o, "stopTrigger",
			        json_pack("{s:s}", "reason", x->stop_reason ? x->stop_reason : ""));
		json_object_set_new(o, "executionMode", json_string(mode_of(e, x)));
		json_object_set_new(o, "executionType", json_string("STANDARD"));
		struct store_action *acts = NULL;
		size_t na = 0;
		int owned = 0;
		struct store_stage *stages = NULL;
		size_t ns = 0;
		if (actions_of(e, pipeline, x->id, &acts, &na, &owned, &err->err) == 0) {
			json_object_set_new(o, "sourceRevisions", source_revisions(acts, na, 0));
			actions_release(acts, na, owned);
		}
		if (store_stage_list(e->st, x->id, &stages, &ns, &err->err) == 0) {
			json_t *sa = json_array();
			for (size_t k = 0; k < ns; k++)
				json_array_append_new(sa, json_pack("{s:s,s:s}", "stageName",
				                                    stages[k].stage, "status",
				                                    stages[k].status));
			json_object_set_new(o, "stages", sa);
			store_stage_list_free(stages, ns);
		}
		if (x->waiting && x->stage)
			json_object_set_new(o, "waitingForStage", json_string(x->stage));
		json_array_append_new(arr, o);
	}
	*out = json_pack("{s:o}", "pipelineExecutionSummaries", arr);
	if (n > shown) {
		char tok[32];
		snprintf(tok, sizeof tok, "%lld", (long long)rows[shown - 1].seq);
		json_object_set_new(*out, "nextToken", json_string(tok));
	}
	store_exec_list_free(rows, n);
	return 0;
}

static json_t *action_detail(struct engine *e, const struct store_action *a, int version)
{
	json_t *o = json_object();
	json_object_set_new(o, "pipelineExecutionId", json_string(a->execution_id));
	json_object_set_new(o, "actionExecutionId", json_string(a->id));
	json_object_set_new(o, "pipelineVersion", json_integer(version));
	json_object_set_new(o, "stageName", json_string(a->stage));
	json_object_set_new(o, "actionName", json_string(a->action));
	json_object_set_new(o, "startTime", ms_json(a->started_ms));
	json_object_set_new(o, "lastUpdateTime", ms_json(a->updated_ms));
	json_object_set_new(o, "status", json_string(a->status));
	json_object_set_new(o, "attempt", json_integer(a->attempt));
	json_t *in = json_object();
	struct err err;
	struct eng_decl *d = eng_decl_get(e, a->pipeline, version, &err);
	const struct pl_action *decl = d ? pipeline_action(d->p, a->stage, a->action) : NULL;
	if (decl) {
		json_object_set_new(in, "actionTypeId",
		                    json_pack("{s:s,s:s,s:s,s:s}", "category", decl->category,
		                              "owner", decl->owner, "provider", decl->provider_name,
		                              "version", decl->version));
		json_t *cfg = json_object();
		for (size_t i = 0; i < decl->nconfig; i++)
			json_object_set_new(cfg, decl->config[i].key,
			                    json_string(decl->config[i].value));
		json_object_set_new(in, "configuration", cfg);
		if (decl->namespace)
			json_object_set_new(in, "namespace", json_string(decl->namespace));
	}
	eng_decl_unref(e, d);
	json_object_set_new(in, "resolvedConfiguration", parse_or_null(a->resolved_config));
	json_object_set_new(in, "inputArtifacts",
	                    a->input_artifacts ? parse_or_null(a->input_artifacts) : json_array());
	json_object_set_new(o, "input", in);
	json_t *outp = json_object();
	json_object_set_new(outp, "outputArtifacts",
	                    a->output_artifacts ? parse_or_null(a->output_artifacts)
	                                        : json_array());
	json_t *res = json_object();
	if (a->external_id)
		json_object_set_new(res, "externalExecutionId", json_string(a->external_id));
	if (a->summary)
		json_object_set_new(res, "externalExecutionSummary", json_string(a->summary));
	if (a->error_code)
		json_object_set_new(res, "errorDetails",
		                    json_pack("{s:s,s:s}", "code", a->error_code, "message",
		                              a->error_message ? a->error_message : ""));
	json_object_set_new(outp, "executionResult", res);
	json_object_set_new(outp, "outputVariables",
	                    a->output_variables ? parse_or_null(a->output_variables)
	                                        : json_object());
	json_object_set_new(o, "output", outp);
	if (a->reports) /* ferry's extension: test-report summaries (build actions) */
		json_object_set_new(o, "reports", parse_or_null(a->reports));
	char *url = xasprintf("/api/executions/%s/logs/%s", a->execution_id, a->id);
	json_object_set_new(o, "logUrl", json_string(url));
	free(url);
	return o;
}

int engine_action_executions(struct engine *e, const char *pipeline, const char *execution_id,
                             json_t **out, struct engine_err *err)
{
	*out = NULL;
	if (!need_pipeline(e, pipeline, err))
		return ENGINE_ENOTFOUND;
	struct store_action *acts = NULL;
	size_t n = 0;
	int owned = 1;
	int rc;
	if (execution_id) {
		struct store_exec row = {0};
		rc = store_exec_get(e->st, execution_id, &row, &err->err);
		if (rc == STORE_NOT_FOUND || (rc == 0 && strcmp(row.pipeline, pipeline))) {
			if (rc == 0)
				store_exec_free(&row);
			return eng_fail(err, ENGINE_ENOTFOUND, "PipelineExecutionNotFoundException",
			                "pipeline %s: no execution %s", pipeline, execution_id);
		}
		if (rc < 0)
			return eng_store_rc(rc, err);
		store_exec_free(&row);
		rc = actions_of(e, pipeline, execution_id, &acts, &n, &owned, &err->err);
	} else {
		rc = store_action_list(e->st, pipeline, NULL, 100, &acts, &n, &err->err);
	}
	if (rc < 0)
		return eng_store_rc(rc, err);
	json_t *arr = json_array();
	/* newest first, as ListActionExecutions answers */
	for (size_t i = n; i-- > 0;) {
		size_t k = execution_id ? i : n - 1 - i;
		struct store_exec row = {0};
		int version = 1;
		if (store_exec_get(e->st, acts[k].execution_id, &row, NULL) == 0) {
			version = row.version;
			store_exec_free(&row);
		}
		json_array_append_new(arr, action_detail(e, &acts[k], version));
	}
	actions_release(acts, n, owned);
	*out = json_pack("{s:o}", "actionExecutionDetails", arr);
	return 0;
}

int engine_log_path(struct engine *e, const char *execution_id, const char *action, char **path,
                    int *running, struct engine_err *err)
{
	*path = NULL;
	*running = 0;
	struct store_exec row = {0};
	int rc = store_exec_get(e->st, execution_id, &row, &err->err);
	if (rc == STORE_NOT_FOUND)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineExecutionNotFoundException",
		                "no execution %s", execution_id);
	if (rc < 0)
		return eng_store_rc(rc, err);
	struct store_action *acts = NULL;
	size_t n = 0;
	int owned = 0;
	rc = actions_of(e, row.pipeline, execution_id, &acts, &n, &owned, &err->err);
	store_exec_free(&row);
	if (rc < 0)
		return eng_store_rc(rc, err);
	const struct store_action *r = NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(acts[i].id, action) || !strcmp(acts[i].action, action))
			r = &acts[i];
	if (r && r->log_path) {
		*path = xstrdup(r->log_path);
		*running = !strcmp(r->status, "InProgress") && eng_run_find(e, r->id) != NULL;
	}
	actions_release(acts, n, owned);
	if (!*path)
		return eng_fail(err, ENGINE_ENOTFOUND, "ActionNotFoundException",
		                "execution %s: no action %s has run", execution_id, action);
	return 0;
}

int engine_trigger_events(struct engine *e, const char *pipeline, int max_results, json_t **out,
                          struct engine_err *err)
{
	*out = NULL;
	if (!need_pipeline(e, pipeline, err))
		return ENGINE_ENOTFOUND;
	struct store_trigger_event *ev = NULL;
	size_t n = 0;
	if (store_trigger_list(e->st, pipeline, max_results > 0 ? max_results : 100, &ev, &n,
	                       &err->err) < 0)
		return eng_store_rc(-1, err);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(ev[i].id));
		json_object_set_new(o, "source", json_string(ev[i].source));
#define OPT(k, v)                                                                                  \
	if (v)                                                                                     \
	json_object_set_new(o, k, json_string(v))
		OPT("deliveryId", ev[i].delivery_id);
		OPT("ref", ev[i].ref);
		OPT("before", ev[i].before);
		OPT("after", ev[i].after);
		OPT("reason", ev[i].reason);
		OPT("pipelineExecutionId", ev[i].execution_id);
#undef OPT
		json_object_set_new(o, "outcome", json_string(ev[i].outcome));
		json_object_set_new(o, "received", ms_json(ev[i].received_ms));
		json_array_append_new(arr, o);
	}
	store_trigger_list_free(ev, n);
	*out = json_pack("{s:o}", "triggerEvents", arr);
	return 0;
}
