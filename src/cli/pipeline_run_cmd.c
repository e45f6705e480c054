/*
 * pipeline_run_cmd.c — `ferry pipeline start|retry|stop|disable-transition|
 * enable-transition`: what changes executions. Each prints one line saying what
 * happened; `start` prints the new execution's id alone on stdout, for scripts.
 */
#include "cli/pipeline_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int plc_start(struct plc_args *a)
{
	json_t *vars = json_array();
	for (size_t i = 0; i < a->vars.n; i++) {
		const char *v = a->vars.v[i], *eq = strchr(v, '=');
		if (!eq || eq == v) {
			fprintf(stderr, "ferry pipeline start: --var \"%s\": expected NAME=VALUE\n",
			        v);
			json_decref(vars);
			return 2;
		}
		json_array_append_new(vars, json_pack("{s:s%,s:s}", "name", v, (size_t)(eq - v),
		                                      "value", eq + 1));
	}
	json_t *body = json_pack("{s:o}", "variables", vars);
	if (a->commit)
		json_object_set_new(body, "commit", json_string(a->commit));
	char *path = cli_path("api", "pipelines", a->pos.v[0], "executions", NULL);
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.method = "POST", .path = path, .json = body},
	                  &out);
	if (rc == 0) {
		const char *id = cli_str(out, "pipelineExecutionId");
		puts(id ? id : "");
		fprintf(stderr,
		        "ferry: pipeline \"%s\": execution started (ferry logs %s --follow)\n",
		        a->pos.v[0], id ? id : "ID");
	}
	json_decref(out);
	json_decref(body);
	free(path);
	return rc;
}

int plc_retry(struct plc_args *a)
{
	const char *name = a->pos.v[0], *stage = a->pos.v[1], *id = a->pos.v[2];
	json_t *body = json_pack("{s:s,s:s}", "pipelineExecutionId", id, "retryMode",
	                         a->all ? "ALL_ACTIONS" : "FAILED_ACTIONS");
	char *path = cli_path("api", "pipelines", name, "stages", stage, "retry", NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.method = "POST", .path = path, .json = body},
	                  NULL);
	if (rc == 0)
		fprintf(stderr,
		        "ferry: pipeline \"%s\": stage \"%s\" of %s is running again (%s)\n", name,
		        stage, id, a->all ? "all actions" : "failed actions");
	json_decref(body);
	free(path);
	return rc;
}

int plc_stop(struct plc_args *a)
{
	const char *name = a->pos.v[0], *id = a->pos.v[1];
	json_t *body = json_pack("{s:b}", "abandon", a->abandon);
	if (a->reason)
		json_object_set_new(body, "reason", json_string(a->reason));
	char *path = cli_path("api", "pipelines", name, "executions", id, "stop", NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.method = "POST", .path = path, .json = body},
	                  NULL);
	if (rc == 0)
		fprintf(stderr, "ferry: pipeline \"%s\": execution %s %s\n", name, id,
		        a->abandon ? "stopped; its running actions were abandoned"
		                   : "is stopping once its running actions finish");
	json_decref(body);
	free(path);
	return rc;
}

static int transition(struct plc_args *a, int enable)
{
	const char *name = a->pos.v[0], *stage = a->pos.v[1];
	const char *type = a->outbound ? "Outbound" : "Inbound";
	json_t *body = json_pack("{s:s}", "transitionType", type);
	if (!enable)
		json_object_set_new(body, "reason", json_string(a->reason));
	char *path = cli_path("api", "pipelines", name, "stages", stage,
	                      enable ? "enable-transition" : "disable-transition", NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.method = "POST", .path = path, .json = body},
	                  NULL);
	if (rc == 0)
		fprintf(stderr, "ferry: pipeline \"%s\": transition %s stage \"%s\" %s\n", name,
		        a->outbound ? "out of" : "into", stage, enable ? "enabled" : "disabled");
	json_decref(body);
	free(path);
	return rc;
}

int plc_disable_transition(struct plc_args *a)
{
	return transition(a, 0);
}

int plc_enable_transition(struct plc_args *a)
{
	return transition(a, 1);
}

/* The token of the approval waiting in STAGE/ACTION, from GetPipelineState; NULL after
 * printing why there is none. To free. */
static char *waiting_token(struct plc_args *a, const char *name, const char *stage,
                           const char *action)
{
	char *path = cli_path("api", "pipelines", name, "state", NULL);
	json_t *state = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.path = path}, &state);
	free(path);
	if (rc)
		return NULL;
	char *token = NULL;
	size_t i, k;
	json_t *st, *as;
	json_array_foreach(json_object_get(state, "stageStates"), i, st)
	{
		if (strcmp(json_string_value(json_object_get(st, "stageName")) ?: "", stage))
			continue;
		json_array_foreach(json_object_get(st, "actionStates"), k, as)
		{
			if (strcmp(json_string_value(json_object_get(as, "actionName")) ?: "",
			           action))
				continue;
			const char *t = json_string_value(
			        json_object_get(json_object_get(as, "latestExecution"), "token"));
			if (t)
				token = xstrdup(t);
		}
	}
	json_decref(state);
	if (!token)
		fprintf(stderr,
		        "ferry: pipeline \"%s\": no approval is waiting in %s/%s (ferry pipeline "
		        "state %s)\n",
		        name, stage, action, name);
	return token;
}

static int answer_approval(struct plc_args *a, int approve)
{
	const char *name = a->pos.v[0], *stage = a->pos.v[1], *action = a->pos.v[2];
	char *token = a->token ? xstrdup(a->token) : waiting_token(a, name, stage, action);
	if (!token)
		return 1;
	const char *comment = a->comment ? a->comment : "approved";
	json_t *body = json_pack("{s:s,s:{s:s,s:s}}", "token", token, "result", "status",
	                         approve ? "Approved" : "Rejected", "summary", comment);
	char *path = cli_path("api", "pipelines", name, "stages", stage, "actions", action,
	                      "approval", NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.method = "POST", .path = path, .json = body},
	                  NULL);
	if (rc == 0)
		fprintf(stderr, "ferry: pipeline \"%s\": %s/%s %s\n", name, stage, action,
		        approve ? "approved" : "rejected");
	json_decref(body);
	free(path);
	free(token);
	return rc;
}

int plc_approve(struct plc_args *a)
{
	return answer_approval(a, 1);
}

int plc_reject(struct plc_args *a)
{
	return answer_approval(a, 0);
}
