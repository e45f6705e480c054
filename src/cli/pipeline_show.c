/*
 * pipeline_show.c — `ferry pipeline state|executions|execution|triggers`: the
 * engine's answers (CodePipeline's shapes) as tables people read; --json prints the
 * answer as it came, for scripts.
 */
#include "cli/pipeline_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_SHOWN 60 /* characters of a summary or reason in a table */

/* The first line of `s`, cut to `max` characters (UTF-8 aware), in `out`. */
static const char *short_text(const char *s, size_t max, char *out, size_t n)
{
	if (!s)
		return NULL;
	size_t o = 0, chars = 0;
	for (; *s && *s != '\n' && *s != '\r' && o + 4 < n; s++) {
		int lead = ((unsigned char)*s & 0xc0) != 0x80;
		if (lead && ++chars > max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		out[o++] = *s;
	}
	out[o] = '\0';
	return out;
}

static const char *errmsg(const json_t *ex)
{
	return cli_str(json_object_get(ex, "errorDetails"), "message");
}

/* ---- state ---- */

static void state_rows(struct cli_table *t, const json_t *stage)
{
	const json_t *latest = json_object_get(stage, "latestExecution");
	const json_t *actions = json_object_get(stage, "actionStates"), *act;
	size_t i;
	json_array_foreach(actions, i, act)
	{
		const json_t *ax = json_object_get(act, "latestExecution");
		char updated[32], summary[256];
		cli_time(json_object_get(ax, "lastStatusChange"), updated, sizeof updated);
		const char *text = errmsg(ax) ? errmsg(ax) : cli_str(ax, "summary");
		cli_table_row(t, (const char *[]){
		                         i ? "" : cli_str(stage, "stageName"),
		                         i ? "" : cli_str(latest, "status"),
		                         i ? "" : cli_str(latest, "pipelineExecutionId"),
		                         cli_str(act, "actionName"),
		                         cli_str(ax, "status"),
		                         ax ? updated : NULL,
		                         short_text(text, SUMMARY_SHOWN, summary, sizeof summary),
		                 });
	}
	if (!json_array_size(actions))
		cli_table_row(t, (const char *[]){cli_str(stage, "stageName"),
		                                  cli_str(latest, "status"),
		                                  cli_str(latest, "pipelineExecutionId"), NULL,
		                                  NULL, NULL, NULL});
}

char *plc_state_text(const json_t *state)
{
	struct buf b;
	buf_init(&b, CLI_TEXT_MAX);
	if (buf_printf(&b, "pipeline %s, version %lld\n\n",
	               cli_str(state, "pipelineName") ? cli_str(state, "pipelineName") : "?",
	               (long long)json_integer_value(json_object_get(state, "pipelineVersion"))) <
	    0)
		abort();
	struct cli_table t;
	cli_table_init(&t, 7);
	cli_table_row(&t, (const char *[]){"STAGE", "STATUS", "EXECUTION", "ACTION",
	                                   "ACTION STATUS", "CHANGED", "SUMMARY"});
	const json_t *stages = json_object_get(state, "stageStates"), *stage;
	size_t i;
	json_array_foreach(stages, i, stage) state_rows(&t, stage);
	char *table = cli_table_render(&t);
	cli_table_free(&t);
	if (buf_puts(&b, table) < 0)
		abort();
	free(table);
	/* held transitions under the table: they explain an execution that waits */
	json_array_foreach(stages, i, stage)
	{
		const json_t *tr = json_object_get(stage, "inboundTransitionState");
		if (!tr || !json_is_false(json_object_get(tr, "enabled")))
			continue;
		char when[48] = "";
		if (json_is_number(json_object_get(tr, "lastChangedAt"))) {
			memcpy(when, " at ", 5);
			cli_time(json_object_get(tr, "lastChangedAt"), when + 4, sizeof when - 4);
		}
		if (buf_printf(
		            &b, "\ntransition into %s disabled by %s%s: %s",
		            cli_str(stage, "stageName"),
		            cli_str(tr, "lastChangedBy") ? cli_str(tr, "lastChangedBy") : "?", when,
		            cli_str(tr, "disabledReason") ? cli_str(tr, "disabledReason") : "") < 0)
			abort();
		const json_t *inbound = json_object_get(stage, "inboundExecution");
		if (inbound && buf_printf(&b, " (waiting: %s)",
		                          cli_str(inbound, "pipelineExecutionId")
		                                  ? cli_str(inbound, "pipelineExecutionId")
		                                  : "?") < 0)
			abort();
		if (buf_puts(&b, "\n") < 0)
			abort();
	}
	return buf_detach(&b);
}

int plc_state(struct plc_args *a)
{
	char *path = cli_path("api", "pipelines", a->pos.v[0], "state", NULL);
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.path = path}, &out);
	free(path);
	if (rc)
		return rc;
	if (a->json) {
		cli_print_json(out);
	} else {
		char *text = plc_state_text(out);
		fputs(text, stdout);
		free(text);
	}
	json_decref(out);
	return 0;
}

/* ---- executions ---- */

static const char *revision_text(const json_t *revisions, char *out, size_t n)
{
	const json_t *r = json_array_get(revisions, 0);
	if (!r)
		return NULL;
	const char *id = cli_str(r, "revisionId");
	char summary[256];
	short_text(cli_str(r, "revisionSummary"), 40, summary, sizeof summary);
	snprintf(out, n, "%.8s%s%s", id ? id : "?", cli_str(r, "revisionSummary") ? " " : "",
	         cli_str(r, "revisionSummary") ? summary : "");
	return out;
}

/* GET /api/pipelines/NAME/WHAT (at most --max items) into *out, to render and free
 * when it returns 0 without --json; with --json, printed here (*out NULL). Returns
 * the exit status. */
static int get_listing(struct plc_args *a, const char *what, json_t **out)
{
	char *path = cli_path("api", "pipelines", a->pos.v[0], what, NULL);
	int rc = plc_get_numbered(
	        a, path,
	        &(struct plc_number){"max", a->max, 100, "a number from 1 to 100", "maxResults"},
	        out);
	free(path);
	if (rc == 0 && a->json) {
		cli_print_json(*out);
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int plc_executions(struct plc_args *a)
{
	json_t *out;
	int rc = get_listing(a, "executions", &out);
	if (rc || a->json)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 6);
	cli_table_row(&t, (const char *[]){"EXECUTION", "STATUS", "STARTED", "DURATION", "TRIGGER",
	                                   "REVISION"});
	const json_t *list = json_object_get(out, "pipelineExecutionSummaries"), *ex;
	size_t i;
	json_array_foreach(list, i, ex)
	{
		char started[32], took[32], rev[128];
		cli_time(json_object_get(ex, "startTime"), started, sizeof started);
		cli_elapsed(json_object_get(ex, "startTime"), json_object_get(ex, "lastUpdateTime"),
		            took, sizeof took);
		cli_table_row(&t, (const char *[]){
		                          cli_str(ex, "pipelineExecutionId"),
		                          cli_str(ex, "status"),
		                          started,
		                          took,
		                          cli_str(json_object_get(ex, "trigger"), "triggerType"),
		                          revision_text(json_object_get(ex, "sourceRevisions"), rev,
		                                        sizeof rev),
		                  });
	}
	if (json_array_size(list))
		cli_table_print(&t);
	else
		fprintf(stderr, "ferry: pipeline \"%s\" has no executions yet\n", a->pos.v[0]);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static void print_execution(const json_t *ex)
{
	printf("execution %s\n", cli_str(ex, "pipelineExecutionId"));
	printf("pipeline  %s, version %lld\n", cli_str(ex, "pipelineName"),
	       (long long)json_integer_value(json_object_get(ex, "pipelineVersion")));
	printf("status    %s%s%s\n", cli_str(ex, "status"),
	       cli_str(ex, "statusSummary") ? ": " : "",
	       cli_str(ex, "statusSummary") ? cli_str(ex, "statusSummary") : "");
	const json_t *tr = json_object_get(ex, "trigger");
	printf("trigger   %s%s%s\n", cli_str(tr, "triggerType") ? cli_str(tr, "triggerType") : "-",
	       cli_str(tr, "triggerDetail") ? " " : "",
	       cli_str(tr, "triggerDetail") ? cli_str(tr, "triggerDetail") : "");
	const json_t *v;
	size_t i;
	json_array_foreach(json_object_get(ex, "artifactRevisions"), i, v)
	{
		char summary[256];
		printf("revision  %s: %s %s\n", cli_str(v, "name"), cli_str(v, "revisionId"),
		       short_text(cli_str(v, "revisionSummary"), SUMMARY_SHOWN, summary,
		                  sizeof summary)
		               ? summary
		               : "");
	}
	json_array_foreach(json_object_get(ex, "variables"), i, v)
	        printf("variable  %s=%s\n", cli_str(v, "name"), cli_str(v, "resolvedValue"));
}

/* Action executions come newest first: print them in the order they ran. */
static void print_actions(const json_t *details)
{
	struct cli_table t;
	cli_table_init(&t, 7);
	cli_table_row(&t, (const char *[]){"STAGE", "ACTION", "STATUS", "STARTED", "DURATION",
	                                   "ACTION EXECUTION", "SUMMARY"});
	for (size_t k = json_array_size(details); k-- > 0;) {
		const json_t *d = json_array_get(details, k);
		const json_t *res =
		        json_object_get(json_object_get(d, "output"), "executionResult");
		char started[32], took[32], summary[256];
		cli_time(json_object_get(d, "startTime"), started, sizeof started);
		cli_elapsed(json_object_get(d, "startTime"), json_object_get(d, "lastUpdateTime"),
		            took, sizeof took);
		const char *text =
		        errmsg(res) ? errmsg(res) : cli_str(res, "externalExecutionSummary");
		cli_table_row(&t, (const char *[]){
		                          cli_str(d, "stageName"),
		                          cli_str(d, "actionName"),
		                          cli_str(d, "status"),
		                          started,
		                          took,
		                          cli_str(d, "actionExecutionId"),
		                          short_text(text, SUMMARY_SHOWN, summary, sizeof summary),
		                  });
	}
	putchar('\n');
	cli_table_print(&t);
	cli_table_free(&t);
}

int plc_execution(struct plc_args *a)
{
	const char *name = a->pos.v[0], *id = a->pos.v[1];
	char *path = cli_path("api", "pipelines", name, "executions", id, NULL);
	char *apath = cli_path("api", "pipelines", name, "executions", id, "actions", NULL);
	json_t *ex = NULL, *actions = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.path = path}, &ex);
	if (rc == 0)
		rc = cli_call(&a->c, &(struct cli_req){.path = apath}, &actions);
	if (rc == 0 && a->json) {
		json_object_set(ex, "actionExecutionDetails",
		                json_object_get(actions, "actionExecutionDetails"));
		cli_print_json(ex);
	} else if (rc == 0) {
		print_execution(json_object_get(ex, "pipelineExecution"));
		print_actions(json_object_get(actions, "actionExecutionDetails"));
	}
	json_decref(ex);
	json_decref(actions);
	free(path);
	free(apath);
	return rc;
}

/* ---- triggers ---- */

int plc_triggers(struct plc_args *a)
{
	json_t *out;
	int rc = get_listing(a, "triggers", &out);
	if (rc || a->json)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 7);
	cli_table_row(&t, (const char *[]){"RECEIVED", "SOURCE", "REF", "COMMIT", "OUTCOME",
	                                   "EXECUTION", "REASON"});
	const json_t *list = json_object_get(out, "triggerEvents"), *ev;
	size_t i;
	json_array_foreach(list, i, ev)
	{
		char when[32], commit[16], reason[256];
		cli_time(json_object_get(ev, "received"), when, sizeof when);
		snprintf(commit, sizeof commit, "%.8s",
		         cli_str(ev, "after") ? cli_str(ev, "after") : "-");
		cli_table_row(&t, (const char *[]){
		                          when,
		                          cli_str(ev, "source"),
		                          cli_str(ev, "ref"),
		                          commit,
		                          cli_str(ev, "outcome"),
		                          cli_str(ev, "pipelineExecutionId"),
		                          short_text(cli_str(ev, "reason"), SUMMARY_SHOWN, reason,
		                                     sizeof reason),
		                  });
	}
	if (json_array_size(list))
		cli_table_print(&t);
	else
		fprintf(stderr, "ferry: no pushes or deliveries recorded for \"%s\" yet\n",
		        a->pos.v[0]);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}
