/*
 * ui_execution.c — an execution's page (/pipelines/NAME/executions/ID): its trigger,
 * variables, artifacts (download links), each action's status and duration, a build's
 * test-report summaries (the action execution's `reports`), and per action its log, live: GET
 * …/logs/ACTION_EXECUTION_ID is a server-sent event stream of the log as HTML (ANSI colours as
 * spans, ui_ansi.c), following the tail until the action ends. Also the artifact downloads (for the
 * page, and GET /api/executions/ID/artifacts/NAME for API clients).
 *
 * The log stream works like api_logs.c's follow: a pull-mode stream whose read
 * callback (server thread) reads the file from an offset, converts what it read and
 * frames it as events ("id: <offset>" so a reconnecting EventSource resumes where it
 * was, Last-Event-ID); the engine's log watch (loop thread) wakes it after each append
 * and once at the end. Only `complete` is shared between the threads.
 */
#include "api/ui_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/executions.h"
#include "util/timeutil.h"

#define UI_LOG_READ       (32u << 10) /* log bytes converted per event */
#define UI_LOG_EVENT_MAX  (1u << 20)
#define UI_ARTIFACT_ROUTE "/artifacts/"

struct uilog {
	struct engine *e;
	char *path;
	int fd;              /* read callback */
	off_t off;           /* read callback */
	struct ui_ansi ansi; /* read callback */
	struct buf pending;  /* read callback: framed events not yet sent */
	int end_sent;        /* read callback */
	atomic_int complete;
	struct http_stream *stream; /* loop */
	uint64_t watch;             /* loop */
};

/* ---- the stream (server thread) ---- */

/* Converts and frames what the file has past `off`; 1 when something was framed, 0 at
 * the end of the file, -1 on failure. */
static int frame_more(struct uilog *l)
{
	char raw[UI_LOG_READ];
	ssize_t n;
	do
		n = pread(l->fd, raw, sizeof raw, l->off);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	l->off += n;
	struct buf html;
	buf_init(&html, UI_LOG_EVENT_MAX);
	int rc = ui_ansi_feed(&l->ansi, raw, (size_t)n, &html);
	if (rc == 0)
		rc = ui_ansi_end(&l->ansi, &html);
	if (rc == 0)
		rc = buf_printf(&l->pending, "id: %lld\ndata: ", (long long)l->off);
	for (size_t i = 0; rc == 0 && i < html.len; i++)
		rc = html.data[i] == '\n' ? buf_puts(&l->pending, "\ndata: ")
		                          : buf_append(&l->pending, &html.data[i], 1);
	if (rc == 0)
		rc = buf_puts(&l->pending, "\n\n");
	buf_free(&html);
	return rc < 0 ? -1 : 1;
}

static ssize_t log_read(void *ctx, char *out, size_t max)
{
	struct uilog *l = ctx;
	for (;;) {
		if (l->pending.len) {
			size_t n = l->pending.len < max ? l->pending.len : max;
			memcpy(out, l->pending.data, n);
			buf_consume(&l->pending, n);
			return (ssize_t)n;
		}
		if (l->end_sent)
			return HTTP_STREAM_DONE;
		int complete = atomic_load(&l->complete);
		if (l->fd < 0) {
			l->fd = open(l->path, O_RDONLY | O_CLOEXEC);
			if (l->fd < 0 && (errno != ENOENT))
				return HTTP_STREAM_ABORT;
		}
		int rc = l->fd >= 0 ? frame_more(l) : 0;
		if (rc < 0)
			return HTTP_STREAM_ABORT;
		if (rc > 0)
			continue;
		if (!complete)
			return HTTP_STREAM_AGAIN;
		if (buf_puts(&l->pending, "event: end\ndata: end\n\n") < 0)
			return HTTP_STREAM_ABORT;
		l->end_sent = 1;
	}
}

static void log_release(struct engine *e, void *ctx)
{
	struct uilog *l = ctx;
	if (l->watch)
		engine_log_unwatch(e, l->watch);
	http_stream_release(l->stream);
	if (l->fd >= 0)
		close(l->fd);
	buf_free(&l->pending);
	free(l->path);
	free(l);
}

static void log_end(void *ctx, enum http_stream_end how)
{
	(void)how;
	struct uilog *l = ctx;
	engine_call(l->e, log_release, l);
}

/* ---- the watch (loop thread) ---- */

static void log_more(void *ctx, int more)
{
	struct uilog *l = ctx;
	if (!more) {
		l->watch = 0;
		atomic_store(&l->complete, 1);
	}
	if (l->stream)
		http_stream_wake(l->stream);
}

void ui_get_log(struct api_job *job)
{
	if (!ui_need(job))
		return;
	const char *aeid = api_param(job, "action");
	char *path = NULL;
	int running = 0;
	struct engine_err err = {0};
	int rc = engine_log_path(job->e, api_param(job, "id"), aeid, &path, &running, &err);
	if (rc < 0) {
		api_reply_engine(job, rc, &err);
		return;
	}
	struct uilog *l = xcalloc(1, sizeof *l);
	l->e = job->e;
	l->path = path;
	l->fd = -1;
	ui_ansi_init(&l->ansi);
	buf_init(&l->pending, 4 * UI_LOG_EVENT_MAX);
	atomic_init(&l->complete, 0);
	const char *last = api_header(job, "Last-Event-ID");
	if (last) { /* a reconnect: resume after what the page has */
		char *end = NULL;
		long long off = strtoll(last, &end, 10);
		if (*last && !*end && off > 0)
			l->off = (off_t)off;
	}
	if (buf_puts(&l->pending, "retry: 2000\n\n") < 0)
		abort();
	l->watch = running ? engine_log_watch(job->e, aeid, log_more, l) : 0;
	if (!l->watch)
		atomic_store(&l->complete, 1);
	http_response_header(job->req, "Cache-Control", "no-store");
	http_response_header(job->req, "X-Accel-Buffering", "no");
	api_job_answered(job);
	l->stream = http_respond_stream(job->req, 200, "text/event-stream; charset=utf-8", log_read,
	                                log_end, l);
}

/* ---- artifacts ---- */

static void send_artifact(struct api_job *job, const char *exec, const char *name)
{
	struct store_artifact *a = NULL;
	size_t n = 0;
	struct err err;
	if (store_artifact_list(engine_store(job->e), exec, &a, &n, &err) < 0) {
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
		return;
	}
	const struct store_artifact *found = NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name))
			found = &a[i];
	int fd = found ? open(found->path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	if (!found || fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		api_reply_error(job, 404, "ArtifactNotFoundException",
		                "execution %s: no artifact \"%s\"%s", exec, name,
		                found ? " (its file is gone: older executions' artifacts are "
		                        "deleted, see serve --keep-artifacts)"
		                      : "");
		store_artifact_list_free(a, n);
		return;
	}
	char disp[300];
	size_t k = 0;
	/* a file name of safe characters only: the header cannot be broken */
	for (const char *p = name; *p && k < 200; p++)
		disp[k++] = (strchr("\"\\;\r\n", *p) || (unsigned char)*p < 0x20) ? '_' : *p;
	disp[k] = '\0';
	char header[320];
	snprintf(header, sizeof header, "attachment; filename=\"%s.zip\"", disp);
	http_response_header(job->req, "Content-Disposition", header);
	http_response_header(job->req, "X-Content-Type-Options", "nosniff");
	if (found->sha256)
		http_response_header(job->req, "X-Ferry-Sha256", found->sha256);
	api_job_answered(job);
	http_respond_file(job->req, 200, "application/zip", fd, 0, (uint64_t)st.st_size);
	store_artifact_list_free(a, n);
}

void ui_get_artifact(struct api_job *job)
{
	if (ui_need(job))
		send_artifact(job, api_param(job, "id"), api_param(job, "artifact"));
}

void ui_api_artifact(struct api_job *job)
{
	send_artifact(job, api_param(job, "id"), api_param(job, "artifact"));
}

/* ---- the page ---- */

static void exec_href(struct html *h, const char *pipeline, const char *id)
{
	html_raw(h, "/pipelines/");
	html_url(h, pipeline);
	html_raw(h, "/executions/");
	html_url(h, id);
}

static void definition_list(struct html *h, struct engine *e, const char *pipeline, const char *id,
                            const json_t *x)
{
	const json_t *trig = json_object_get(x, "trigger");
	html_raw(h, "<dl class=\"facts\"><dt>Status</dt><dd id=\"execution-status\">");
	ui_status(h, ui_jstr(x, "status", NULL));
	const char *sum = ui_jstr(x, "statusSummary", NULL);
	if (sum) {
		html_raw(h, " <span class=\"summary\">");
		html_text(h, sum);
		html_raw(h, "</span>");
	}
	html_raw(h, "</dd><dt>Trigger</dt><dd id=\"execution-trigger\">");
	html_text(h, ui_jstr(trig, "triggerType", ""));
	html_raw(h, " · ");
	html_text(h, ui_jstr(trig, "triggerDetail", ""));
	html_raw(h, "</dd><dt>Started</dt><dd>");
	int64_t start = ui_json_ms(json_object_get(x, "startTime"));
	int64_t upd = ui_json_ms(json_object_get(x, "lastUpdateTime"));
	ui_time(h, start);
	char dur[48];
	const char *status = ui_jstr(x, "status", "");
	ui_duration((!strcmp(status, "InProgress") ? wall_ms() : upd) - start, dur, sizeof dur);
	html_raw(h, "</dd><dt>Duration</dt><dd>");
	html_text(h, dur);
	html_raw(h, "</dd><dt>Source revisions</dt><dd><ul class=\"plain\">");
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(x, "artifactRevisions"), i, r)
	{
		const char *sha = ui_jstr(r, "revisionId", "");
		char *author = NULL, *email = NULL;
		ui_commit_author(e, pipeline, id, sha, &author, &email);
		html_raw(h, "<li><code>");
		html_textn(h, sha, 12);
		html_raw(h, "</code> ");
		if (author) {
			html_raw(h, "by <span class=\"author\"");
			if (email)
				html_attr(h, "title", email);
			html_raw(h, ">");
			html_text(h, author);
			html_raw(h, "</span>: ");
		}
		const char *m = ui_jstr(r, "revisionSummary", "");
		html_textn(h, m, strcspn(m, "\r\n"));
		html_raw(h, "</li>");
		free(author);
		free(email);
	}
	html_raw(h, "</ul></dd></dl>");
}

/* ---- test reports (a build action's "reports", actions/action.h) ---- */

static long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* "12 tests: 11 passed, 1 failed, 2 skipped (1.5 s)" and the failing cases. */
static void test_report(struct html *h, const json_t *r)
{
	long long total = jint(r, "total"), failed = jint(r, "failed"),
	          skipped = jint(r, "skipped");
	html_rawf(h, "%lld test%s: %lld passed, %lld failed", total, total == 1 ? "" : "s",
	          jint(r, "passed"), failed);
	if (skipped)
		html_rawf(h, ", %lld skipped", skipped);
	if (json_is_integer(json_object_get(r, "durationMs"))) {
		char dur[48];
		ui_duration(jint(r, "durationMs"), dur, sizeof dur);
		html_raw(h, " <span class=\"duration\">(");
		html_text(h, dur);
		html_raw(h, ")</span>");
	}
	const json_t *fails = json_object_get(r, "failures");
	if (!json_array_size(fails))
		return;
	html_raw(h, "<ul class=\"plain report-failures\">");
	size_t i;
	json_t *f;
	json_array_foreach(fails, i, f)
	{
		html_raw(h, "<li class=\"report-failure\"><span class=\"status status-failed\">"
		            "failed</span> <code class=\"test-name\">");
		html_text(h, ui_jstr(f, "name", ""));
		html_raw(h, "</code>");
		const char *msg = ui_jstr(f, "message", "");
		if (*msg) {
			html_raw(h, " <span class=\"test-message\">");
			html_text(h, msg);
			html_raw(h, "</span>");
		}
		html_raw(h, "</li>");
	}
	if (failed > (long long)json_array_size(fails))
		html_rawf(h, "<li class=\"muted\">and %lld more</li>",
		          failed - (long long)json_array_size(fails));
	html_raw(h, "</ul>");
}

static void reports(struct html *h, const json_t *list)
{
	if (!json_array_size(list))
		return;
	html_raw(h, "<div class=\"reports\">");
	size_t i;
	json_t *r;
	json_array_foreach(list, i, r)
	{
		const char *type = ui_jstr(r, "type", "TEST");
		const char *status = ui_jstr(r, "status", "INCOMPLETE");
		int coverage = !strcmp(type, "CODE_COVERAGE");
		html_raw(h, "<div class=\"report action-summary\"");
		html_attr(h, "data-report", ui_jstr(r, "name", ""));
		html_attr(h, "data-report-type", type);
		html_attr(h, "data-report-status", status);
		html_raw(h, "><strong>");
		html_text(h, coverage ? "Coverage" : "Tests");
		html_raw(h, " ");
		html_text(h, ui_jstr(r, "name", ""));
		html_raw(h, "</strong>: ");
		const json_t *pct = json_object_get(r, "lineCoveragePercentage");
		const json_t *problems = json_object_get(r, "problems");
		if (coverage && json_is_number(pct))
			html_rawf(h, "%.1f%% of lines covered", json_number_value(pct));
		else if (!coverage && strcmp(status, "INCOMPLETE"))
			test_report(h, r);
		else if (json_array_size(problems))
			html_text(h, json_string_value(json_array_get(problems, 0)));
		else
			html_raw(h, "incomplete");
		html_raw(h, "</div>");
	}
	html_raw(h, "</div>");
}

static void artifacts(struct html *h, struct engine *e, const char *pipeline, const char *id);

static void actions_fragment(struct html *h, struct engine *e, const char *pipeline, const char *id,
                             const json_t *x, const json_t *actions)
{
	html_raw(h, "<div id=\"frag-actions\" data-fragment=\"");
	exec_href(h, pipeline, id);
	html_raw(h, "?fragment=actions\">");
	definition_list(h, e, pipeline, id, x);
	html_raw(h, "<h2>Actions</h2><ol class=\"action-list\">");
	const json_t *list = json_object_get(actions, "actionExecutionDetails");
	/* oldest first, as they ran */
	for (size_t k = json_array_size(list); k-- > 0;) {
		const json_t *d = json_array_get(list, k);
		const char *aeid = ui_jstr(d, "actionExecutionId", "");
		const char *status = ui_jstr(d, "status", NULL);
		int64_t start = ui_json_ms(json_object_get(d, "startTime"));
		int64_t upd = ui_json_ms(json_object_get(d, "lastUpdateTime"));
		int running = status && !strcmp(status, "InProgress");
		char dur[48];
		ui_duration((running ? wall_ms() : upd) - start, dur, sizeof dur);
		const json_t *res =
		        json_object_get(json_object_get(d, "output"), "executionResult");
		html_raw(h, "<li class=\"action-run\" id=\"action-");
		html_text(h, aeid);
		html_raw(h, "\"");
		html_attr(h, "data-action-name", ui_jstr(d, "actionName", ""));
		html_attr(h, "data-status", status);
		html_raw(h, "><div class=\"action-run-head\"><span class=\"stage-name\">");
		html_text(h, ui_jstr(d, "stageName", ""));
		html_raw(h, "</span> › <strong>");
		html_text(h, ui_jstr(d, "actionName", ""));
		html_rawf(h, "</strong> <span class=\"attempt\">attempt %lld</span> ",
		          (long long)json_integer_value(json_object_get(d, "attempt")));
		ui_status(h, status);
		html_raw(h, " <span class=\"duration\">");
		html_text(h, dur);
		html_raw(h, "</span> ");
		ui_time(h, start);
		html_raw(h, "</div>");
		const char *msg = ui_jstr(json_object_get(res, "errorDetails"), "message",
		                          ui_jstr(res, "externalExecutionSummary", NULL));
		if (msg) {
			html_raw(h, "<p class=\"action-summary\">");
			html_text(h, msg);
			html_raw(h, "</p>");
		}
		reports(h, json_object_get(d, "reports"));
		/* the pane is opened for what runs or failed; app.js keeps a pane (and its
		 * stream) across fragment swaps by its id */
		html_raw(h, "<details class=\"log\"");
		html_attr(h, "id", aeid);
		if (running || (status && !strcmp(status, "Failed")))
			html_raw(h, " open");
		html_raw(h, "><summary>Log</summary><pre class=\"log-pane\" tabindex=\"0\" "
		            "aria-live=\"off\" data-log-src=\"");
		exec_href(h, pipeline, id);
		html_raw(h, "/logs/");
		html_url(h, aeid);
		html_raw(h, "\"></pre></details></li>");
	}
	html_raw(h, "</ol>");
	/* inside the live part: an artifact written while the page is open appears */
	artifacts(h, e, pipeline, id);
	html_raw(h, "</div>");
}

static void variables(struct html *h, const json_t *x)
{
	const json_t *vars = json_object_get(x, "variables");
	html_raw(h, "<section><h2>Variables</h2>");
	if (!json_array_size(vars)) {
		html_raw(h, "<p class=\"muted\">None.</p></section>");
		return;
	}
	html_raw(h, "<table class=\"vars\"><thead><tr><th scope=\"col\">Name</th><th "
	            "scope=\"col\">Value</th></tr></thead><tbody>");
	size_t i;
	json_t *v;
	json_array_foreach(vars, i, v)
	{
		html_raw(h, "<tr><td><code>");
		html_text(h, ui_jstr(v, "name", ""));
		html_raw(h, "</code></td><td>");
		html_text(h, ui_jstr(v, "resolvedValue", ui_jstr(v, "value", "")));
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table></section>");
}

static void artifacts(struct html *h, struct engine *e, const char *pipeline, const char *id)
{
	struct store_artifact *a = NULL;
	size_t n = 0;
	struct err err;
	html_raw(h, "<section><h2>Artifacts</h2>");
	if (store_artifact_list(engine_store(e), id, &a, &n, &err) < 0 || !n) {
		html_raw(h, "<p class=\"muted\">None kept.</p></section>");
		return;
	}
	html_raw(h, "<ul class=\"artifacts\">");
	for (size_t i = 0; i < n; i++) {
		html_raw(h, "<li><a download");
		html_attr(h, "data-artifact", a[i].name);
		html_raw(h, " href=\"");
		exec_href(h, pipeline, id);
		html_raw(h, UI_ARTIFACT_ROUTE);
		html_url(h, a[i].name);
		html_raw(h, "\">");
		html_text(h, a[i].name);
		html_rawf(h, "</a> <span class=\"muted\">%lld bytes</span></li>",
		          (long long)a[i].size);
	}
	html_raw(h, "</ul></section>");
	store_artifact_list_free(a, n);
}

void ui_page_execution(struct api_job *job)
{
	struct ui_session *s = ui_need(job);
	if (!s)
		return;
	const char *name = api_param(job, "name"), *id = api_param(job, "id");
	const char *frag = api_query(job, "fragment");
	json_t *ex = NULL, *acts = NULL;
	struct engine_err err = {0};
	int rc = engine_execution_get(job->e, name, id, &ex, &err);
	if (rc == 0)
		rc = engine_action_executions(job->e, name, id, &acts, &err);
	if (rc < 0) {
		ui_reply_error(job, s, engine_rc_http_status(rc), err.err.msg);
		goto out;
	}
	const json_t *x = json_object_get(ex, "pipelineExecution");
	struct html h;
	html_init(&h);
	if (frag) {
		actions_fragment(&h, job->e, name, id, x, acts);
		ui_reply_html(job, 200, &h);
		goto out;
	}
	ui_page_begin(&h, "Execution", s, "pipelines");
	html_raw(&h, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><a href=\"/pipelines/");
	html_url(&h, name);
	html_raw(&h, "\">");
	html_text(&h, name);
	html_raw(&h, "</a> › execution</nav><h1>Execution <code");
	html_attr(&h, "data-execution", id);
	html_raw(&h, ">");
	html_text(&h, id);
	html_raw(&h, "</code></h1>");
	actions_fragment(&h, job->e, name, id, x, acts);
	variables(&h, x);
	ui_page_end(&h);
	ui_reply_html(job, 200, &h);
out:
	json_decref(ex);
	json_decref(acts);
}
