/*
 * ui_pipelines.c — the pipelines page (/) and a pipeline's page (/pipelines/NAME):
 * stage pills, the last trigger (commit, author from the source action's output
 * variables, message) and a start button per pipeline; a pipeline's stages
 * as boxes left to right, its actions grouped by runOrder, the transitions, recent
 * executions, and the buttons (start, stop, retry, transitions, approvals) the
 * session's scopes allow.
 *
 * Without ?execution=ID a pipeline's stages show what GetPipelineState shows (each
 * stage's latest execution, like the console); with it, that execution's stages and
 * actions. ?fragment=stages|executions answers only that part (the live page swaps it
 * in after a state change).
 */
#include "api/ui_int.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/executions.h"

/* ---- small parts ---- */

static void frag_begin(struct html *h, const char *id, const char *base, const char *name,
                       const char *fragment, const char *execution)
{
	html_rawf(h, "<div id=\"frag-%s\" data-fragment=\"", id);
	html_raw(h, base);
	html_url(h, name);
	html_rawf(h, "?fragment=%s", fragment);
	if (execution) {
		html_raw(h, "&amp;execution=");
		html_url(h, execution);
	}
	html_raw(h, "\">");
}

static void pipeline_href(struct html *h, const char *name)
{
	html_raw(h, "/pipelines/");
	html_url(h, name);
}

static void form_begin(struct html *h, const struct ui_session *s, const char *pipeline,
                       const char *rest, const char *cls)
{
	html_raw(h, "<form method=\"post\" class=\"");
	html_raw(h, cls);
	html_raw(h, "\" action=\"/ui/pipelines/");
	html_url(h, pipeline);
	html_raw(h, rest);
	html_raw(h, "\">");
	ui_csrf_field(h, s);
}

/* `rest` of a form action with a URL-encoded part: "/stages/" + stage + tail. */
static char *stage_path(const char *stage, const char *tail)
{
	struct html p;
	html_init(&p);
	html_raw(&p, "/stages/");
	html_url(&p, stage);
	html_raw(&p, tail);
	char *s = html_detach(&p, NULL);
	html_free(&p);
	return s;
}

static void start_form(struct html *h, const struct ui_session *s, const char *pipeline)
{
	if (!ui_can(s, STORE_SCOPE_START))
		return;
	form_begin(h, s, pipeline, "/start", "inline");
	html_raw(h, "<button type=\"submit\" class=\"primary\" data-action=\"start\"");
	html_attr(h, "data-pipeline", pipeline);
	html_raw(h, ">Start</button></form>");
}

/* The first line of a commit message. */
static void first_line(struct html *h, const char *msg)
{
	if (msg)
		html_textn(h, msg, strcspn(msg, "\r\n"));
}

/* ---- the commit's author (the source action's output variables) ---- */

static int author_of(const struct store_action *a, const char *sha, char **name, char **email)
{
	if (!a->output_variables || !strstr(a->output_variables, "\"AuthorDisplayName\""))
		return 0;
	json_t *vars = json_loads(a->output_variables, 0, NULL);
	const char *n = json_string_value(json_object_get(vars, "AuthorDisplayName"));
	int match = 0;
	if (n && *n) {
		json_t *rev = a->revision ? json_loads(a->revision, 0, NULL) : NULL;
		const char *id = json_string_value(json_object_get(rev, "revisionId"));
		match = sha && id && !strcmp(sha, id) ? 2 : 1;
		json_decref(rev);
		if (!*name || match == 2) {
			const char *m = json_string_value(json_object_get(vars, "AuthorEmail"));
			free(*name);
			free(*email);
			*name = xstrdup(n);
			*email = m && *m ? xstrdup(m) : NULL;
		}
	}
	json_decref(vars);
	return match;
}

int ui_commit_author(struct engine *e, const char *pipeline, const char *execution_id,
                     const char *sha, char **name, char **email)
{
	*name = *email = NULL;
	if (!execution_id)
		return 0;
	struct store_action *a = NULL;
	size_t n = 0;
	struct err err;
	if (store_action_list(engine_store(e), pipeline, execution_id, 0, &a, &n, &err) < 0)
		return 0;
	/* the source action that produced `sha`, else the first one with an author */
	for (size_t i = 0; i < n; i++)
		if (author_of(&a[i], sha, name, email) == 2)
			break;
	store_action_list_free(a, n);
	return *name != NULL;
}

/* The trigger of an execution summary: "commit abc1234 by Ada Lovelace: message", what
 * triggered it. */
static void trigger_line(struct html *h, struct engine *e, const char *pipeline,
                         const json_t *summary)
{
	const json_t *revs = json_object_get(summary, "sourceRevisions");
	const json_t *rev = json_array_get(revs, 0);
	const json_t *trig = json_object_get(summary, "trigger");
	html_raw(h, "<span class=\"trigger\">");
	if (rev) {
		const char *sha = ui_jstr(rev, "revisionId", "");
		char *author = NULL, *email = NULL;
		ui_commit_author(e, pipeline, ui_jstr(summary, "pipelineExecutionId", NULL), sha,
		                 &author, &email);
		html_raw(h, "commit <code class=\"sha\"");
		html_attr(h, "title", sha);
		html_raw(h, ">");
		html_textn(h, sha, strlen(sha) > 7 ? 7 : strlen(sha));
		html_raw(h, "</code>");
		if (author) {
			html_raw(h, " by <span class=\"author\"");
			if (email)
				html_attr(h, "title", email);
			html_raw(h, ">");
			html_text(h, author);
			html_raw(h, "</span>");
		}
		html_raw(h, ": <span class=\"message\">");
		first_line(h, ui_jstr(rev, "revisionSummary", ""));
		html_raw(h, "</span> ");
		free(author);
		free(email);
	}
	html_raw(h, "<span class=\"by\">");
	html_text(h, ui_jstr(trig, "triggerType", ""));
	const char *detail = ui_jstr(trig, "triggerDetail", "");
	if (*detail) {
		html_raw(h, " · ");
		html_text(h, detail);
	}
	html_raw(h, "</span></span>");
}

/* ---- the pipelines page ---- */

static void pipeline_card(struct html *h, struct engine *e, struct ui_session *s, const char *name)
{
	json_t *state = NULL, *execs = NULL;
	struct engine_err err = {0};
	html_raw(h, "<li class=\"pipeline\"");
	html_attr(h, "data-pipeline", name);
	html_raw(h, "><div class=\"pipeline-head\"><h2><a href=\"");
	pipeline_href(h, name);
	html_raw(h, "\">");
	html_text(h, name);
	html_raw(h, "</a></h2>");
	start_form(h, s, name);
	html_raw(h, "</div><ol class=\"pills\" aria-label=\"Stages\">");
	if (engine_state(e, name, &state, &err) == 0) {
		size_t i;
		json_t *st;
		json_array_foreach(json_object_get(state, "stageStates"), i, st)
		{
			const char *stage = ui_jstr(st, "stageName", "");
			const char *status =
			        ui_jstr(json_object_get(st, "latestExecution"), "status", NULL);
			char slug[32];
			ui_status_slug(status, slug, sizeof slug);
			html_rawf(h, "<li class=\"pill status-%s\"", slug);
			html_attr(h, "data-stage", stage);
			html_attr(h, "data-status", status ? status : "None");
			html_attrf(h, "title", "%s: %s", stage, status ? status : "not run");
			html_raw(h, ">");
			html_text(h, stage);
			html_raw(h, "</li>");
		}
	}
	html_raw(h, "</ol>");
	if (engine_executions_list(e, name, 1, NULL, &execs, &err) == 0) {
		json_t *last =
		        json_array_get(json_object_get(execs, "pipelineExecutionSummaries"), 0);
		if (last) {
			html_raw(h, "<p class=\"last\">");
			ui_status(h, ui_jstr(last, "status", NULL));
			html_raw(h, " ");
			trigger_line(h, e, name, last);
			html_raw(h, " ");
			ui_time(h, ui_json_ms(json_object_get(last, "startTime")));
			html_raw(h, "</p>");
		} else {
			html_raw(h, "<p class=\"last muted\">Never run.</p>");
		}
	}
	html_raw(h, "</li>");
	json_decref(state);
	json_decref(execs);
}

void ui_pipelines_list(struct html *h, struct engine *e, struct ui_session *s)
{
	json_t *list = NULL;
	struct engine_err err = {0};
	html_raw(h, "<div id=\"frag-pipelines\" data-fragment=\"/?fragment=pipelines\">");
	if (engine_pipeline_list(e, &list, &err) < 0) {
		html_raw(h, "<p class=\"error\" role=\"alert\">");
		html_text(h, err.err.msg);
		html_raw(h, "</p></div>");
		return;
	}
	json_t *items = json_object_get(list, "pipelines"), *p;
	size_t i;
	if (!json_array_size(items))
		html_raw(h, "<p class=\"muted\">No pipelines yet: create one with <code>ferry "
		            "pipeline create FILE</code>.</p>");
	html_raw(h, "<ul class=\"pipelines\">");
	json_array_foreach(items, i, p) pipeline_card(h, e, s, ui_jstr(p, "name", ""));
	html_raw(h, "</ul></div>");
	json_decref(list);
}

void ui_page_pipelines(struct api_job *job)
{
	struct ui_session *s = ui_need(job);
	if (!s)
		return;
	struct html h;
	html_init(&h);
	const char *frag = api_query(job, "fragment");
	if (frag) {
		ui_pipelines_list(&h, job->e, s);
		ui_reply_html(job, 200, &h);
		return;
	}
	ui_page_begin(&h, "Pipelines", s, "pipelines");
	html_raw(&h, "<h1>Pipelines</h1>");
	ui_pipelines_list(&h, job->e, s);
	ui_page_end(&h);
	ui_reply_html(job, 200, &h);
}

/* ---- a pipeline's page ---- */

/* What one stage box shows, from GetPipelineState or from one execution. */
struct view {
	json_t *decl;     /* GetPipeline's "pipeline" (borrowed from decl_out) */
	json_t *state;    /* GetPipelineState */
	json_t *actions;  /* ListActionExecutions of the selected execution, or NULL */
	json_t *stages;   /* {stage: status} of the selected execution, or NULL */
	const char *exec; /* the selected execution, or NULL */
	struct engine *e;
};

static const json_t *state_stage(const struct view *v, const char *stage)
{
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(v->state, "stageStates"), i,
	                   st) if (!strcmp(ui_jstr(st, "stageName", ""), stage)) return st;
	return NULL;
}

/* The action's latest execution as GetPipelineState's latestExecution has it (a new
 * reference), or NULL. */
static json_t *action_latest(const struct view *v, const char *stage, const char *action)
{
	if (!v->actions) {
		const json_t *st = state_stage(v, stage);
		size_t i;
		json_t *as;
		json_array_foreach(json_object_get(st, "actionStates"), i, as) if (
		        !strcmp(ui_jstr(as, "actionName", ""),
		                action)) return json_incref(json_object_get(as, "latestExecution"));
		return NULL;
	}
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(v->actions, "actionExecutionDetails"), i, d)
	{
		if (strcmp(ui_jstr(d, "stageName", ""), stage) ||
		    strcmp(ui_jstr(d, "actionName", ""), action))
			continue;
		json_t *res = json_object_get(json_object_get(d, "output"), "executionResult");
		json_t *o = json_pack("{s:O,s:O,s:O}", "actionExecutionId",
		                      json_object_get(d, "actionExecutionId"), "status",
		                      json_object_get(d, "status"), "lastStatusChange",
		                      json_object_get(d, "lastUpdateTime"));
		json_object_set(o, "startTime", json_object_get(d, "startTime"));
		if (json_object_get(res, "externalExecutionSummary"))
			json_object_set(o, "summary",
			                json_object_get(res, "externalExecutionSummary"));
		if (json_object_get(res, "errorDetails"))
			json_object_set(o, "errorDetails", json_object_get(res, "errorDetails"));
		return o; /* newest first: the latest attempt */
	}
	return NULL;
}

static const char *stage_status(const struct view *v, const char *stage, const char **exec_id)
{
	if (v->stages) {
		*exec_id = v->exec;
		return json_string_value(json_object_get(v->stages, stage));
	}
	const json_t *le = json_object_get(state_stage(v, stage), "latestExecution");
	*exec_id = ui_jstr(le, "pipelineExecutionId", NULL);
	return ui_jstr(le, "status", NULL);
}

/* The configuration the action execution ran with (variables resolved when it
 * started), or NULL. A new reference. */
static json_t *resolved_config(const struct view *v, const char *pipeline, const char *exec,
                               const char *aeid)
{
	json_t *list = NULL, *cfg = NULL;
	struct engine_err err = {0};
	if (!exec || !aeid || engine_action_executions(v->e, pipeline, exec, &list, &err) < 0)
		return NULL;
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(list, "actionExecutionDetails"), i, d)
	{
		if (strcmp(ui_jstr(d, "actionExecutionId", ""), aeid))
			continue;
		cfg = json_object_get(json_object_get(d, "input"), "resolvedConfiguration");
		cfg = json_is_object(cfg) ? json_incref(cfg) : NULL;
		break;
	}
	json_decref(list);
	return cfg;
}

static void approval_form(struct html *h, const struct ui_session *s, const struct view *v,
                          const char *pipeline, const char *stage, const json_t *decl_action,
                          const json_t *latest, const char *exec)
{
	const char *token = ui_jstr(latest, "token", NULL);
	if (!token)
		return;
	/* what the person is asked, as the engine resolved it when the approval began;
	 * the pipeline file's text when that is not known */
	json_t *resolved =
	        resolved_config(v, pipeline, exec, ui_jstr(latest, "actionExecutionId", NULL));
	const json_t *cfg = resolved ? resolved : json_object_get(decl_action, "configuration");
	const char *custom = ui_jstr(cfg, "CustomData", NULL);
	const char *link = ui_jstr(cfg, "ExternalEntityLink", NULL);
	const char *action = ui_jstr(decl_action, "name", "");
	html_raw(h, "<div class=\"approval\" data-approval=\"waiting\">");
	if (custom) {
		html_raw(h, "<p class=\"custom-data\">");
		html_text(h, custom);
		html_raw(h, "</p>");
	}
	/* only web links: a javascript: URL in a pipeline file must not become clickable */
	if (link && (!strncmp(link, "https://", 8) || !strncmp(link, "http://", 7))) {
		html_raw(h, "<p><a class=\"external-link\" rel=\"noopener noreferrer\" "
		            "target=\"_blank\"");
		html_attr(h, "href", link);
		html_raw(h, ">");
		html_text(h, link);
		html_raw(h, "</a></p>");
	} else if (link) {
		html_raw(h, "<p class=\"external-link\">");
		html_text(h, link);
		html_raw(h, "</p>");
	}
	if (!ui_can(s, STORE_SCOPE_APPROVE)) {
		html_raw(h, "</div>");
		json_decref(resolved);
		return;
	}
	struct html tail;
	html_init(&tail);
	html_raw(&tail, "/actions/");
	html_url(&tail, action);
	html_raw(&tail, "/approval");
	char *t = html_detach(&tail, NULL);
	html_free(&tail);
	char *rest = stage_path(stage, t);
	free(t);
	form_begin(h, s, pipeline, rest, "approve");
	free(rest);
	html_raw(h, "<input type=\"hidden\" name=\"token\"");
	html_attr(h, "value", token);
	html_raw(h, "><label>Comment <textarea name=\"comment\" required maxlength=\"512\" "
	            "rows=\"2\"></textarea></label><div class=\"buttons\">"
	            "<button type=\"submit\" name=\"result\" value=\"Approved\" class=\"primary\" "
	            "data-action=\"approve\">Approve</button>"
	            "<button type=\"submit\" name=\"result\" value=\"Rejected\" class=\"danger\" "
	            "data-action=\"reject\">Reject</button></div></form></div>");
	json_decref(resolved);
}

static void action_box(struct html *h, const struct ui_session *s, const struct view *v,
                       const char *pipeline, const char *stage, const json_t *da)
{
	const char *name = ui_jstr(da, "name", "");
	json_t *le = action_latest(v, stage, name);
	const char *status = ui_jstr(le, "status", NULL);
	char slug[32];
	ui_status_slug(status, slug, sizeof slug);
	html_rawf(h, "<div class=\"action status-%s\"", slug);
	html_attr(h, "data-action-name", name);
	html_attr(h, "data-status", status ? status : "None");
	html_raw(h, "><div class=\"action-head\"><span class=\"action-name\">");
	html_text(h, name);
	html_raw(h, "</span> <span class=\"provider\">");
	html_text(h, ui_jstr(json_object_get(da, "actionTypeId"), "provider", ""));
	html_raw(h, "</span></div>");
	ui_status(h, status);
	const char *summary = ui_jstr(le, "summary", NULL);
	const char *error = ui_jstr(json_object_get(le, "errorDetails"), "message", NULL);
	if (error) {
		html_raw(h, "<p class=\"action-error\">");
		html_text(h, error);
		html_raw(h, "</p>");
	} else if (summary) {
		html_raw(h, "<p class=\"action-summary\">");
		html_text(h, summary);
		html_raw(h, "</p>");
	}
	const char *exec = NULL;
	stage_status(v, stage, &exec);
	if (le && exec) {
		html_raw(h, "<a class=\"details\" href=\"");
		pipeline_href(h, pipeline);
		html_raw(h, "/executions/");
		html_url(h, exec);
		html_raw(h, "#action-");
		html_url(h, ui_jstr(le, "actionExecutionId", ""));
		html_raw(h, "\">Details and log</a>");
	}
	if (!v->actions && status && !strcmp(status, "InProgress"))
		approval_form(h, s, v, pipeline, stage, da, le, exec);
	html_raw(h, "</div>");
	json_decref(le);
}

static void transition_box(struct html *h, const struct ui_session *s, const struct view *v,
                           const char *pipeline, const char *stage)
{
	const json_t *tr = json_object_get(state_stage(v, stage), "inboundTransitionState");
	int enabled = !tr || json_is_true(json_object_get(tr, "enabled"));
	html_rawf(h, "<div class=\"transition %s\" data-transition-to=\"",
	          enabled ? "enabled" : "disabled");
	html_text(h, stage);
	html_rawf(h,
	          "\" data-enabled=\"%s\"><span class=\"arrow\" aria-hidden=\"true\">→</span>"
	          "<span class=\"transition-state\">%s</span>",
	          enabled ? "true" : "false",
	          enabled ? "Transition enabled" : "Transition disabled");
	if (!enabled) {
		html_raw(h, "<span class=\"reason\">");
		html_text(h, ui_jstr(tr, "disabledReason", ""));
		html_raw(h, "</span>");
	}
	if (ui_can(s, STORE_SCOPE_START)) {
		char *rest = stage_path(stage, "/transition");
		form_begin(h, s, pipeline, rest, "transition-form");
		free(rest);
		if (enabled)
			html_raw(h,
			         "<input type=\"hidden\" name=\"enable\" value=\"0\">"
			         "<label>Reason <input name=\"reason\" required maxlength=\"300\">"
			         "</label><button type=\"submit\" "
			         "data-action=\"disable-transition\">"
			         "Disable</button>");
		else
			html_raw(h, "<input type=\"hidden\" name=\"enable\" value=\"1\">"
			            "<button type=\"submit\" data-action=\"enable-transition\">"
			            "Enable</button>");
		html_raw(h, "</form>");
	}
	html_raw(h, "</div>");
}

static void stage_box(struct html *h, const struct ui_session *s, const struct view *v,
                      const char *pipeline, const json_t *ds)
{
	const char *stage = ui_jstr(ds, "name", "");
	const char *exec = NULL;
	const char *status = stage_status(v, stage, &exec);
	char slug[32];
	ui_status_slug(status, slug, sizeof slug);
	html_rawf(h, "<section class=\"stage status-%s\"", slug);
	html_attr(h, "data-stage", stage);
	html_attr(h, "data-status", status ? status : "None");
	html_raw(h, "><header><h3>");
	html_text(h, stage);
	html_raw(h, "</h3>");
	ui_status(h, status);
	html_raw(h, "</header>");
	/* actions grouped by runOrder, in increasing order */
	json_t *actions = json_object_get(ds, "actions");
	long long done = 0;
	for (;;) {
		long long next = 0;
		size_t i;
		json_t *a;
		json_array_foreach(actions, i, a)
		{
			long long ro = json_integer_value(json_object_get(a, "runOrder"));
			if (ro > done && (!next || ro < next))
				next = ro;
		}
		if (!next)
			break;
		html_rawf(h, "<div class=\"rungroup\" data-run-order=\"%lld\">", next);
		json_array_foreach(actions, i,
		                   a) if (json_integer_value(json_object_get(a, "runOrder")) ==
		                          next) action_box(h, s, v, pipeline, stage, a);
		html_raw(h, "</div>");
		done = next;
	}
	if (status && !strcmp(status, "Failed") && exec && ui_can(s, STORE_SCOPE_START)) {
		char *rest = stage_path(stage, "/retry");
		form_begin(h, s, pipeline, rest, "inline retry");
		free(rest);
		html_raw(h, "<input type=\"hidden\" name=\"execution\"");
		html_attr(h, "value", exec);
		html_raw(h, "><button type=\"submit\" data-action=\"retry\">Retry failed "
		            "actions</button></form>");
	}
	html_raw(h, "</section>");
}

static void stages_fragment(struct html *h, const struct ui_session *s, const struct view *v,
                            const char *pipeline)
{
	frag_begin(h, "stages", "/pipelines/", pipeline, "stages", v->exec);
	html_raw(h, "<div class=\"stages\">");
	size_t i;
	json_t *ds;
	json_array_foreach(json_object_get(v->decl, "stages"), i, ds)
	{
		if (i > 0)
			transition_box(h, s, v, pipeline, ui_jstr(ds, "name", ""));
		stage_box(h, s, v, pipeline, ds);
	}
	html_raw(h, "</div></div>");
}

static void executions_fragment(struct html *h, struct engine *e, const struct ui_session *s,
                                const char *pipeline, const char *selected)
{
	frag_begin(h, "executions", "/pipelines/", pipeline, "executions", selected);
	json_t *list = NULL;
	struct engine_err err = {0};
	html_raw(h, "<h2>Recent executions</h2>");
	if (engine_executions_list(e, pipeline, UI_RECENT_EXECS, NULL, &list, &err) < 0) {
		html_raw(h, "<p class=\"error\">");
		html_text(h, err.err.msg);
		html_raw(h, "</p></div>");
		return;
	}
	html_raw(h, "<ul class=\"executions\">");
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(list, "pipelineExecutionSummaries"), i, x)
	{
		const char *id = ui_jstr(x, "pipelineExecutionId", "");
		const char *status = ui_jstr(x, "status", NULL);
		html_raw(h, "<li class=\"execution\"");
		html_attr(h, "data-execution", id);
		html_attr(h, "data-status", status);
		html_raw(h, ">");
		ui_status(h, status);
		html_raw(h, " <a href=\"");
		pipeline_href(h, pipeline);
		html_raw(h, "?execution=");
		html_url(h, id);
		html_raw(h, "\"");
		if (selected && !strcmp(selected, id))
			html_raw(h, " aria-current=\"true\"");
		html_raw(h, "><code>");
		html_textn(h, id, 8);
		html_raw(h, "</code></a> ");
		trigger_line(h, e, pipeline, x);
		html_raw(h, " ");
		ui_time(h, ui_json_ms(json_object_get(x, "startTime")));
		html_raw(h, " <a class=\"details\" href=\"");
		pipeline_href(h, pipeline);
		html_raw(h, "/executions/");
		html_url(h, id);
		html_raw(h, "\">Details</a>");
		bool stopping = status && !strcmp(status, "Stopping");
		if (status && (!strcmp(status, "InProgress") || stopping) &&
		    ui_can(s, STORE_SCOPE_START)) {
			struct html r;
			html_init(&r);
			html_raw(&r, "/executions/");
			html_url(&r, id);
			html_raw(&r, "/stop");
			char *rest = html_detach(&r, NULL);
			html_free(&r);
			form_begin(h, s, pipeline, rest, "inline stop");
			free(rest);
			if (stopping) /* stopped to wait: it can still be hurried up */
				html_raw(h,
				         "<input type=\"hidden\" name=\"abandon\" value=\"1\">"
				         "<button type=\"submit\" class=\"danger\" "
				         "data-action=\"abandon\">Stop and abandon running actions"
				         "</button></form>");
			else
				html_raw(
				        h,
				        "<button type=\"submit\" class=\"danger\" "
				        "data-action=\"stop\">Stop</button><label "
				        "class=\"small\"><input type=\"checkbox\" name=\"abandon\" "
				        "value=\"1\"> abandon running actions</label></form>");
		}
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul><p><a href=\"");
	pipeline_href(h, pipeline);
	html_raw(h, "/history\" id=\"history-link\">All executions and durations</a></p></div>");
	json_decref(list);
}

/* The selected execution's stages as {stage: status}; NULL when it is not found. */
static json_t *execution_stages(struct engine *e, const char *id)
{
	struct store_stage *st = NULL;
	size_t n = 0;
	struct err err;
	if (store_stage_list(engine_store(e), id, &st, &n, &err) < 0)
		return NULL;
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, st[i].stage, json_string(st[i].status));
	store_stage_list_free(st, n);
	return o;
}

void ui_page_pipeline(struct api_job *job)
{
	struct ui_session *s = ui_need(job);
	if (!s)
		return;
	const char *name = api_param(job, "name");
	const char *exec = api_query(job, "execution");
	const char *frag = api_query(job, "fragment");
	struct view v = {.e = job->e};
	json_t *decl_out = NULL;
	struct engine_err err = {0};
	int rc = engine_pipeline_get(job->e, name, 0, &decl_out, &err);
	if (rc == 0)
		rc = engine_state(job->e, name, &v.state, &err);
	if (rc == 0 && exec && *exec) {
		rc = engine_action_executions(job->e, name, exec, &v.actions, &err);
		v.stages = rc == 0 ? execution_stages(job->e, exec) : NULL;
		v.exec = exec;
	}
	if (rc < 0) {
		ui_reply_error(job, s, engine_rc_http_status(rc), err.err.msg);
		goto out;
	}
	v.decl = json_object_get(decl_out, "pipeline");
	struct html h;
	html_init(&h);
	if (frag && !strcmp(frag, "stages")) {
		stages_fragment(&h, s, &v, name);
	} else if (frag && !strcmp(frag, "executions")) {
		executions_fragment(&h, job->e, s, name, v.exec);
	} else {
		ui_page_begin(&h, name, s, "pipelines");
		html_raw(&h, "<div class=\"page-head\"><h1");
		html_attr(&h, "data-pipeline", name);
		html_raw(&h, ">");
		html_text(&h, name);
		html_raw(&h, "</h1>");
		start_form(&h, s, name);
		html_raw(&h, "</div>");
		if (v.exec) {
			html_raw(&h, "<p class=\"selected\">Showing execution <code>");
			html_text(&h, v.exec);
			html_raw(&h, "</code> · <a href=\"");
			pipeline_href(&h, name);
			html_raw(&h, "\">latest state</a></p>");
		}
		stages_fragment(&h, s, &v, name);
		executions_fragment(&h, job->e, s, name, v.exec);
		ui_page_end(&h);
	}
	ui_reply_html(job, 200, &h);
out:
	json_decref(decl_out);
	json_decref(v.state);
	json_decref(v.actions);
	json_decref(v.stages);
}
