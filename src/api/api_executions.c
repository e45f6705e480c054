/*
 * api_executions.c — executions of a pipeline: StartPipelineExecution,
 * ListPipelineExecutions, GetPipelineExecution, ListActionExecutions,
 * StopPipelineExecution, RetryStageExecution, Enable/DisableStageTransition; and
 * GET /api/executions/{id}, an execution found by its id alone (what `ferry logs`
 * starts from).
 *
 * Request bodies use CodePipeline's member names (pipelineExecutionId, retryMode,
 * transitionType, clientRequestToken), so a body written for the AWS API reads the
 * same here.
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#define API_START_VARS_MAX 50 /* a pipeline declares at most 50 (spec §1.6) */

static void answer(struct api_job *job, int rc, const struct engine_err *err, unsigned status,
                   json_t *out)
{
	if (rc < 0) {
		json_decref(out);
		api_reply_engine(job, rc, err);
	} else {
		api_reply_json(job, status, out);
	}
}

/* variables: [{"name", "value"}] into two arrays of borrowed strings; -1 after 400. */
static int start_variables(struct api_job *job, json_t *body, const char ***names,
                           const char ***values, size_t *n)
{
	json_t *vars = json_object_get(body, "variables");
	*n = 0;
	if (!vars || json_is_null(vars))
		return 0;
	if (!json_is_array(vars) || json_array_size(vars) > API_START_VARS_MAX) {
		api_reply_error(
		        job, 400, API_ERR_VALIDATION,
		        "body: variables: expected a list of at most %d {\"name\", \"value\"}",
		        API_START_VARS_MAX);
		return -1;
	}
	*names = xcalloc(json_array_size(vars) + 1, sizeof **names);
	*values = xcalloc(json_array_size(vars) + 1, sizeof **values);
	size_t i;
	json_t *v;
	json_array_foreach(vars, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *value = json_string_value(json_object_get(v, "value"));
		if (!json_is_object(v) || !name || !value) {
			api_reply_error(
			        job, 400, API_ERR_VALIDATION,
			        "body: variables[%zu]: expected {\"name\": string, \"value\": "
			        "string}",
			        i);
			return -1;
		}
		(*names)[i] = name;
		(*values)[i] = value;
		(*n)++;
	}
	return 0;
}

static void start_execution(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char **names = NULL, **values = NULL;
	struct engine_start req = {.pipeline = api_param(job, "name"),
	                           .trigger_detail = job->who.name};
	if (start_variables(job, body, &names, &values, &req.nvars) == 0 &&
	    api_json_string(job, body, "commit", false, &req.commit) == 0 &&
	    api_json_string(job, body, "clientRequestToken", false, &req.client_token) == 0) {
		req.var_names = names;
		req.var_values = values;
		char *id = NULL;
		struct engine_err err = {0};
		int rc = engine_start(job->e, &req, &id, &err);
		if (rc < 0)
			api_reply_engine(job, rc, &err);
		else
			api_reply_json(job, 201, json_pack("{s:s}", "pipelineExecutionId", id));
		free(id);
	}
	free(names);
	free(values);
	json_decref(body);
}

static void list_executions(struct api_job *job)
{
	int max = 0;
	if (api_query_int(job, "maxResults", 0, 1, API_EXECUTIONS_MAX_RESULTS, &max) < 0)
		return;
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_executions_list(job->e, api_param(job, "name"), max,
	                                api_query(job, "nextToken"), &out, &err);
	answer(job, rc, &err, 200, out);
}

static void get_execution(struct api_job *job)
{
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_execution_get(job->e, api_param(job, "name"), api_param(job, "id"), &out,
	                              &err);
	answer(job, rc, &err, 200, out);
}

static void action_executions(struct api_job *job)
{
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_action_executions(job->e, api_param(job, "name"), api_param(job, "id"),
	                                  &out, &err);
	answer(job, rc, &err, 200, out);
}

static void stop_execution(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *reason = NULL;
	json_t *abandon = json_object_get(body, "abandon");
	if (abandon && !json_is_boolean(abandon)) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "body: \"abandon\" must be true or false");
	} else if (api_json_string(job, body, "reason", false, &reason) == 0) {
		const char *id = api_param(job, "id");
		struct engine_err err = {0};
		int rc = engine_stop(job->e, api_param(job, "name"), id, json_is_true(abandon),
		                     reason, &err);
		answer(job, rc, &err, 200, json_pack("{s:s}", "pipelineExecutionId", id));
	}
	json_decref(body);
}

static void retry_stage(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *id = NULL, *mode = NULL;
	if (api_json_string(job, body, "pipelineExecutionId", true, &id) == 0 &&
	    api_json_string(job, body, "retryMode", false, &mode) == 0) {
		struct engine_err err = {0};
		int rc = engine_retry(job->e, api_param(job, "name"), api_param(job, "stage"), id,
		                      mode ? mode : "FAILED_ACTIONS", &err);
		answer(job, rc, &err, 200, json_pack("{s:s}", "pipelineExecutionId", id));
	}
	json_decref(body);
}

static void transition(struct api_job *job, int enable)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *type = NULL, *reason = NULL;
	if (api_json_string(job, body, "transitionType", false, &type) == 0 &&
	    api_json_string(job, body, "reason", false, &reason) == 0) {
		const char *stage = api_param(job, "stage");
		type = type ? type : "Inbound";
		struct engine_err err = {0};
		int rc = engine_transition(job->e, api_param(job, "name"), stage, type, enable,
		                           enable ? NULL : reason, job->who.name, &err);
		answer(job, rc, &err, 200,
		       json_pack("{s:s,s:s,s:s,s:b}", "pipelineName", api_param(job, "name"),
		                 "stageName", stage, "transitionType", type, "enabled", enable));
	}
	json_decref(body);
}

static void disable_transition(struct api_job *job)
{
	transition(job, 0);
}

static void enable_transition(struct api_job *job)
{
	transition(job, 1);
}

/* POST .../stages/{stage}/actions/{action}/approval: PutApprovalResult, with its member
 * names: {"token", "result": {"status": "Approved" | "Rejected", "summary"}}. */
static void put_approval(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	json_t *result = json_object_get(body, "result");
	const char *token = NULL, *status = NULL, *summary = NULL;
	if (!json_is_object(result)) {
		api_reply_error(job, 400, "bad_request",
		                "body: result: expected an object {\"status\": \"Approved\" or "
		                "\"Rejected\", \"summary\": the comment}");
	} else if (api_json_string(job, body, "token", true, &token) == 0 &&
	           api_json_string(job, result, "status", true, &status) == 0 &&
	           api_json_string(job, result, "summary", true, &summary) == 0) {
		json_t *out = NULL;
		struct engine_err err = {0};
		int rc = engine_approval(job->e, api_param(job, "name"), api_param(job, "stage"),
		                         api_param(job, "action"), token, status, summary, &out,
		                         &err);
		answer(job, rc, &err, 200, out);
	}
	json_decref(body);
}

/* GET /api/executions/{id}: the execution and its action executions, for a caller that
 * knows only the id (`ferry logs ID`). */
static void find_execution(struct api_job *job)
{
	const char *id = api_param(job, "id");
	char *pipeline = NULL;
	json_t *ex = NULL, *actions = NULL;
	struct engine_err err = {0};
	int rc = api_execution_pipeline(job->e, id, &pipeline, &err);
	if (rc == 0)
		rc = engine_execution_get(job->e, pipeline, id, &ex, &err);
	if (rc == 0)
		rc = engine_action_executions(job->e, pipeline, id, &actions, &err);
	if (rc < 0) {
		api_reply_engine(job, rc, &err);
	} else {
		json_object_set(ex, "actionExecutionDetails",
		                json_object_get(actions, "actionExecutionDetails"));
		api_reply_json(job, 200, json_incref(ex));
	}
	json_decref(ex);
	json_decref(actions);
	free(pipeline);
}

const struct api_route api_execution_routes[] = {
        {"POST", "/api/pipelines/{name}/executions", STORE_SCOPE_START, start_execution, 0, 0},
        {"GET", "/api/pipelines/{name}/executions", STORE_SCOPE_READ, list_executions, 0, 0},
        {"GET", "/api/pipelines/{name}/executions/{id}", STORE_SCOPE_READ, get_execution, 0, 0},
        {"GET", "/api/pipelines/{name}/executions/{id}/actions", STORE_SCOPE_READ,
         action_executions, 0, 0},
        {"POST", "/api/pipelines/{name}/executions/{id}/stop", STORE_SCOPE_START, stop_execution, 0,
         0},
        {"POST", "/api/pipelines/{name}/stages/{stage}/retry", STORE_SCOPE_START, retry_stage, 0,
         0},
        {"POST", "/api/pipelines/{name}/stages/{stage}/disable-transition", STORE_SCOPE_START,
         disable_transition, 0, 0},
        {"POST", "/api/pipelines/{name}/stages/{stage}/enable-transition", STORE_SCOPE_START,
         enable_transition, 0, 0},
        {"POST", "/api/pipelines/{name}/stages/{stage}/actions/{action}/approval",
         STORE_SCOPE_APPROVE, put_approval, 0, 0},
        {"GET", "/api/executions/{id}", STORE_SCOPE_READ, find_execution, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
