/*
 * ui_history.c — a pipeline's history (/pipelines/NAME/history): its executions, 50 a
 * page (newest first; "older" follows ListPipelineExecutions' nextToken), each with its
 * status and duration, and a chart of the page's durations drawn here as SVG.
 */
#include "api/ui_int.h"

#include <stdlib.h>
#include <string.h>

#define CHART_W   720
#define CHART_H   180
#define CHART_PAD 64

void ui_duration_chart(struct html *h, const char *pipeline, const int64_t *ms,
                       const char *const *statuses, const char *const *ids, size_t n)
{
	int64_t max = 1;
	for (size_t i = 0; i < n; i++)
		if (ms[i] > max)
			max = ms[i];
	char top[48];
	ui_duration(max, top, sizeof top);
	html_rawf(h,
	          "<svg class=\"chart\" id=\"duration-chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
	          "aria-labelledby=\"chart-title\" preserveAspectRatio=\"xMidYMid meet\">"
	          "<title id=\"chart-title\">Duration of the last %zu executions, oldest on the "
	          "left</title>",
	          CHART_W, CHART_H, n);
	int x0 = CHART_PAD, x1 = CHART_W - 8, y0 = CHART_H - 20, y1 = 10;
	html_rawf(h,
	          "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	          "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	          "<text class=\"label\" text-anchor=\"end\" x=\"%d\" y=\"%d\">",
	          x0, y0, x1, y0, x0, y0, x0, y1, x0 - 4, y1 + 4);
	html_text(h, top);
	html_rawf(h, "</text><text class=\"label\" text-anchor=\"end\" x=\"%d\" y=\"%d\">0</text>",
	          x0 - 4, y0 + 4);
	if (!n) {
		html_raw(h, "</svg>");
		return;
	}
	/* x of point i; one point sits in the middle */
#define PX(i)                                                                                      \
	(n > 1 ? x0 + (int)((long long)(x1 - x0) * (long long)(i) / (long long)(n - 1))            \
	       : (x0 + x1) / 2)
#define PY(v) (y0 - (int)((long long)(y0 - y1) * (v) / max))
	html_raw(h, "<polyline class=\"line\" points=\"");
	for (size_t i = 0; i < n; i++)
		html_rawf(h, "%s%d,%d", i ? " " : "", PX(i), PY(ms[i]));
	html_raw(h, "\"/>");
	for (size_t i = 0; i < n; i++) {
		char slug[32], dur[48];
		ui_status_slug(statuses ? statuses[i] : NULL, slug, sizeof slug);
		ui_duration(ms[i], dur, sizeof dur);
		if (ids && pipeline) {
			html_raw(h, "<a href=\"/pipelines/");
			html_url(h, pipeline);
			html_raw(h, "/executions/");
			html_url(h, ids[i]);
			html_raw(h, "\">");
		}
		html_rawf(h, "<circle class=\"pt status-%s\" cx=\"%d\" cy=\"%d\" r=\"4\"><title>",
		          slug, PX(i), PY(ms[i]));
		html_text(h, dur);
		if (statuses && statuses[i]) {
			html_raw(h, " · ");
			html_text(h, statuses[i]);
		}
		html_raw(h, "</title></circle>");
		if (ids && pipeline)
			html_raw(h, "</a>");
	}
#undef PX
#undef PY
	html_raw(h, "</svg>");
}

static int64_t exec_duration(const json_t *x)
{
	int64_t start = ui_json_ms(json_object_get(x, "startTime"));
	int64_t upd = ui_json_ms(json_object_get(x, "lastUpdateTime"));
	return upd > start ? upd - start : 0;
}

void ui_page_history(struct api_job *job)
{
	struct ui_session *s = ui_need(job);
	if (!s)
		return;
	const char *name = api_param(job, "name");
	const char *before = api_query(job, "before");
	json_t *list = NULL;
	struct engine_err err = {0};
	int rc = engine_executions_list(job->e, name, UI_HISTORY_PAGE,
	                                before && *before ? before : NULL, &list, &err);
	if (rc < 0) {
		ui_reply_error(job, s, engine_rc_http_status(rc), err.err.msg);
		return;
	}
	const json_t *items = json_object_get(list, "pipelineExecutionSummaries");
	size_t n = json_array_size(items);
	struct html h;
	html_init(&h);
	ui_page_begin(&h, "History", s, "pipelines");
	html_raw(&h, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"/pipelines/");
	html_url(&h, name);
	html_raw(&h, "\">");
	html_text(&h, name);
	html_raw(&h, "</a> › history</nav><h1>History of ");
	html_text(&h, name);
	html_raw(&h, "</h1>");
	/* the chart: oldest on the left */
	int64_t *ms = xcalloc(n ? n : 1, sizeof *ms);
	const char **st = xcalloc(n ? n : 1, sizeof *st);
	const char **ids = xcalloc(n ? n : 1, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(items, n - 1 - i);
		ms[i] = exec_duration(x);
		st[i] = ui_jstr(x, "status", NULL);
		ids[i] = ui_jstr(x, "pipelineExecutionId", "");
	}
	html_raw(&h, "<figure class=\"chart-box\">");
	ui_duration_chart(&h, name, ms, st, ids, n);
	html_raw(&h, "<figcaption>Duration of each execution on this page.</figcaption></figure>");
	free(ms);
	free(st);
	free(ids);
	html_raw(&h, "<table class=\"history\" id=\"history\"><thead><tr><th scope=\"col\">"
	             "Execution</th><th scope=\"col\">Status</th><th scope=\"col\">Trigger</th>"
	             "<th scope=\"col\">Started</th><th scope=\"col\">Duration</th></tr></thead>"
	             "<tbody>");
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(items, i);
		const char *id = ui_jstr(x, "pipelineExecutionId", "");
		char dur[48];
		ui_duration(exec_duration(x), dur, sizeof dur);
		html_raw(&h, "<tr");
		html_attr(&h, "data-execution", id);
		html_raw(&h, "><td><a href=\"/pipelines/");
		html_url(&h, name);
		html_raw(&h, "/executions/");
		html_url(&h, id);
		html_raw(&h, "\"><code>");
		html_textn(&h, id, 8);
		html_raw(&h, "</code></a></td><td>");
		ui_status(&h, ui_jstr(x, "status", NULL));
		html_raw(&h, "</td><td>");
		const json_t *rev = json_array_get(json_object_get(x, "sourceRevisions"), 0);
		const char *msg = ui_jstr(rev, "revisionSummary", NULL);
		if (msg)
			html_textn(&h, msg, strcspn(msg, "\r\n"));
		else
			html_text(&h, ui_jstr(json_object_get(x, "trigger"), "triggerType", ""));
		html_raw(&h, "</td><td>");
		ui_time(&h, ui_json_ms(json_object_get(x, "startTime")));
		html_raw(&h, "</td><td>");
		html_text(&h, dur);
		html_raw(&h, "</td></tr>");
	}
	html_raw(&h, "</tbody></table><nav class=\"pager\" aria-label=\"Pages\">");
	if (before) {
		html_raw(&h, "<a href=\"/pipelines/");
		html_url(&h, name);
		html_raw(&h, "/history\" id=\"newest\">Newest</a> ");
	}
	const char *next = ui_jstr(list, "nextToken", NULL);
	if (next) {
		html_raw(&h, "<a rel=\"next\" id=\"older\" href=\"/pipelines/");
		html_url(&h, name);
		html_raw(&h, "/history?before=");
		html_url(&h, next);
		html_raw(&h, "\">Older executions</a>");
	}
	html_raw(&h, "</nav>");
	ui_page_end(&h);
	ui_reply_html(job, 200, &h);
	json_decref(list);
}
