/*
 * test_ui.c — the web UI's server side: the escaping HTML builder, the ANSI converter,
 * the duration chart, and pages and forms of a real api (127.0.0.1, kernel-picked port)
 * over a real engine (the test drives it with net/http_client): login cookie, CSRF, read-only
 * sessions, and a commit message and branch holding <script> shown as text.
 */
#include "test_engine.h"

#include "api/api.h"
#include "api/html.h"
#include "api/ui_int.h"
#include "net/http_client.h"
#include "store/executions.h"
#include "store/token.h"

/* ---- pure parts ---- */

/* Text and attributes are escaped; URLs parts are percent-encoded. */
static void html_builder_escapes_text_and_attributes(void **state)
{
	(void)state;
	struct html h;
	html_init(&h);
	html_raw(&h, "<p");
	html_attr(&h, "title", "a\"b' onmouseover=x");
	html_raw(&h, ">");
	html_text(&h, "<script>alert(1)</script> & co");
	html_raw(&h, "</p><a href=\"/p/");
	html_url(&h, "a b/\"<x>");
	html_raw(&h, "\">");
	char *s = html_detach(&h, NULL);
	assert_string_equal(s, "<p title=\"a&quot;b&#39; onmouseover=x\">&lt;script&gt;alert(1)"
	                       "&lt;/script&gt; &amp; co</p><a href=\"/p/a%20b%2F%22%3Cx%3E\">");
	free(s);
	html_free(&h);
}

static char *ansi(const char *const *chunks)
{
	struct ui_ansi a;
	ui_ansi_init(&a);
	struct buf out;
	buf_init(&out, 1 << 16);
	for (size_t i = 0; chunks[i]; i++)
		assert_int_equal(ui_ansi_feed(&a, chunks[i], strlen(chunks[i]), &out), 0);
	assert_int_equal(ui_ansi_end(&a, &out), 0);
	return buf_detach(&out);
}

/* Colours and bold become spans, a reset closes them, other sequences vanish, text is
 * escaped, and a sequence split between two reads still works. */
static void ansi_colours_become_spans_and_text_is_escaped(void **state)
{
	(void)state;
	char *s = ansi((const char *[]){"\x1b[1;31mFAIL\x1b[0m <b>\r\n", NULL});
	assert_string_equal(s, "<span class=\"fg1 bold\">FAIL</span> &lt;b&gt;\n");
	free(s);
	s = ansi((const char *[]){"ok \x1b[3", "2mgreen\x1b[", "39m \x1b[2Kx\x1b]0;title\x07y",
	                          NULL});
	assert_string_equal(s, "ok <span class=\"fg2\">green</span> xy");
	free(s);
	s = ansi((const char *[]){"\x1b[38;5;12mb\x1b[38;2;1;2;3mc\x1b[m", NULL});
	assert_string_equal(s, "<span class=\"fg12\">b</span><span class=\"fg12\">c</span>");
	free(s);
}

/* One circle per execution, coloured by status, linked to it; the tallest at the top;
 * the labels of the y axis in the margin left of it. */
static void chart_draws_a_point_per_execution(void **state)
{
	(void)state;
	struct html h;
	html_init(&h);
	int64_t ms[] = {1000, 72000, 36000};
	const char *st[] = {"Succeeded", "Failed", "Succeeded"};
	const char *ids[] = {"a", "b", "c"};
	ui_duration_chart(&h, "p<1>", ms, st, ids, 3);
	char *s = html_detach(&h, NULL);
	html_free(&h);
	size_t circles = 0;
	for (const char *p = s; (p = strstr(p, "<circle")); p++)
		circles++;
	assert_int_equal(circles, 3);
	assert_non_null(strstr(s, "class=\"pt status-failed\" cx=\"388\" cy=\"10\""));
	/* the axis labels end left of the axis, not across it (seen in the browser) */
	assert_non_null(strstr(s, "text-anchor=\"end\" x=\"60\" y=\"14\">1 min 12 s</text>"));
	assert_non_null(strstr(s, "<title>1 min 12 s · Failed</title>"));
	assert_non_null(strstr(s, "href=\"/pipelines/p%3C1%3E/executions/b\""));
	assert_null(strstr(s, "<1>"));
	free(s);
	char d[48];
	ui_duration(3723000, d, sizeof d);
	assert_string_equal(d, "1 h 2 min");
}

/* ---- a real server ---- */

static const char *const XSS = "<script>alert(1)</script>";

struct ui_fx {
	struct th h;
	struct api *api;
	char *admin, *reader;
	char *admin_cookie, *reader_cookie, *admin_csrf, *reader_csrf;
	char *exec_id;
};

struct mk_token {
	const char *name;
	unsigned scopes;
	char *token;
};

static void do_token(struct engine *e, void *arg)
{
	struct mk_token *t = arg;
	char id[STORE_TOKEN_ID_LEN + 1];
	struct err err;
	if (store_token_create(engine_store(e), t->name, t->scopes, &t->token, id, &err) < 0)
		fail_msg("token: %s", err.msg);
}

static void do_start_branch(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	char *detail = xasprintf("git:refs/heads/%s@0123", XSS);
	struct engine_start req = {
	        .pipeline = o->text, .trigger_type = "Webhook", .trigger_detail = detail};
	o->rc = engine_start(e, &req, &o->id, &o->err);
	free(detail);
}

static char *url_of(struct ui_fx *f, const char *path)
{
	return xasprintf("http://127.0.0.1:%u%s", api_port(f->api), path);
}

/* A JSON API request with the admin's bearer token (body NULL: GET). */
static void api_req(struct ui_fx *f, const char *path, const char *json, struct http_reply *rep)
{
	char *url = url_of(f, path);
	char *auth = xasprintf("Authorization: Bearer %s", f->admin);
	const char *headers[] = {auth, NULL};
	struct err err;
	if (http_call(&(struct http_call){.method = json ? "POST" : "GET",
	                                  .url = url,
	                                  .body = json,
	                                  .body_len = json ? strlen(json) : 0,
	                                  .content_type = "application/json",
	                                  .headers = headers,
	                                  .timeout_ms = 10000},
	              rep, &err) < 0)
		fail_msg("%s: %s", url, err.msg);
	free(auth);
	free(url);
}

/* A request with the session cookie (NULL: none) and a form body (NULL: GET). */
static void req(struct ui_fx *f, const char *cookie, const char *path, const char *form,
                struct http_reply *rep)
{
	char *url = url_of(f, path);
	char *ch = cookie ? xasprintf("Cookie: %s", cookie) : NULL;
	const char *headers[] = {ch, NULL};
	struct err err;
	if (http_call(&(struct http_call){.method = form ? "POST" : "GET",
	                                  .url = url,
	                                  .body = form,
	                                  .body_len = form ? strlen(form) : 0,
	                                  .content_type = "application/x-www-form-urlencoded",
	                                  .headers = ch ? headers : NULL,
	                                  .timeout_ms = 10000},
	              rep, &err) < 0)
		fail_msg("%s: %s", url, err.msg);
	free(ch);
	free(url);
}

/* Logs in with `token`: the cookie pair "ferry_session=…" and the page's CSRF token. */
static void login(struct ui_fx *f, const char *token, char **cookie, char **csrf)
{
	struct http_reply rep;
	char *form = xasprintf("token=%s&next=%%2F", token);
	req(f, NULL, "/login", form, &rep);
	free(form);
	assert_int_equal(rep.status, 303);
	const char *set = http_reply_header(&rep, "Set-Cookie");
	assert_non_null(set);
	*cookie = xstrndup(set, strcspn(set, ";"));
	http_reply_free(&rep);
	req(f, *cookie, "/", NULL, &rep);
	assert_int_equal(rep.status, 200);
	const char *m = strstr(rep.body, "name=\"csrf-token\" content=\"");
	assert_non_null(m);
	*csrf = xstrndup(m + strlen("name=\"csrf-token\" content=\""), UI_ID_HEX);
	http_reply_free(&rep);
}

static size_t executions(struct ui_fx *f)
{
	return th_count(&f->h, "ui");
}

static int group_setup(void **state)
{
	struct ui_fx *f = xcalloc(1, sizeof *f);
	th_open(&f->h, 0);
	th_sh("cd %s && git -c 'user.name=Ada Lovelace & co' -c user.email=ada@e commit -q "
	      "--allow-empty -m '%s fix'",
	      f->h.repo, XSS);
	char *text = xasprintf(
	        "pipeline:\n"
	        "  name: ui\n"
	        "  stages:\n"
	        "    - name: Source\n"
	        "      actions:\n"
	        "        - name: Src\n"
	        "          actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, "
	        "version: '1'}\n"
	        "          configuration: {RepositoryName: site, RepositoryUrl: '%s', BranchName: "
	        "main, PollForSourceChanges: 'false'}\n"
	        "          outputArtifacts: [{name: S}]\n"
	        "          namespace: SourceVariables\n"
	        "    - name: Approve\n"
	        "      actions:\n"
	        "        - name: Gate\n"
	        "          actionTypeId: {category: Approval, owner: AWS, provider: Manual, "
	        "version: '1'}\n"
	        "          configuration: {CustomData: 'check <b>this</b> on "
	        "#{SourceVariables.BranchName} for #{codepipeline.PipelineExecutionId}', "
	        "ExternalEntityLink: "
	        "'javascript:alert(1)'}\n",
	        f->h.repo);
	struct th_op op = {.text = text, .flag = 1};
	th_call(&f->h, th_do_create, &op);
	if (op.rc < 0)
		fail_msg("create: %s", op.err.err.msg);
	json_decref(op.out);
	free(text);
	struct th_op st = {.text = "ui"};
	th_call(&f->h, do_start_branch, &st);
	assert_int_equal(st.rc, 0);
	f->exec_id = st.id;
	struct mk_token a = {"ui-admin", STORE_SCOPE_ALL, NULL},
	                r = {"ui-reader", STORE_SCOPE_READ, NULL};
	th_call(&f->h, do_token, &a);
	th_call(&f->h, do_token, &r);
	f->admin = a.token;
	f->reader = r.token;
	struct err err;
	if (api_open(f->h.e, &(struct api_opts){.listen = "127.0.0.1:0"}, &f->api, &err) < 0)
		fail_msg("api_open: %s", err.msg);
	/* wait until the approval waits (the source has run) */
	int64_t until = mono_ms() + 30000;
	for (;;) {
		json_t *out = th_answer(&f->h, th_do_state, "ui", "state", "stageStates");
		json_t *gate =
		        json_array_get(json_object_get(json_array_get(out, 1), "actionStates"), 0);
		int waiting =
		        json_object_get(json_object_get(gate, "latestExecution"), "token") != NULL;
		json_decref(out);
		if (waiting)
			break;
		if (mono_ms() > until)
			fail_msg("the approval never waited");
		usleep(20000);
	}
	login(f, f->admin, &f->admin_cookie, &f->admin_csrf);
	login(f, f->reader, &f->reader_cookie, &f->reader_csrf);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct ui_fx *f = *state;
	engine_request_stop(f->h.e);
	pthread_join(f->h.thread, NULL);
	api_stop(f->api);
	engine_free(f->h.e);
	api_free(f->api);
	tu_rmdir(f->h.dir);
	free(f->h.data);
	free(f->h.repo);
	store_token_free(f->admin);
	store_token_free(f->reader);
	free(f->admin_cookie);
	free(f->reader_cookie);
	free(f->admin_csrf);
	free(f->reader_csrf);
	free(f->exec_id);
	free(f);
	return 0;
}

/* A page without a session goes to the login form, which comes back to it; login sets
 * an HttpOnly, SameSite=Strict cookie; a wrong token is refused in words. */
static void login_sets_a_strict_httponly_cookie(void **state)
{
	struct ui_fx *f = *state;
	struct http_reply rep;
	req(f, NULL, "/pipelines/ui?execution=x", NULL, &rep);
	assert_int_equal(rep.status, 303);
	assert_string_equal(http_reply_header(&rep, "Location"),
	                    "/login?next=%2Fpipelines%2Fui%3Fexecution%3Dx");
	http_reply_free(&rep);
	char *form = xasprintf("token=%s&next=%%2Fpipelines%%2Fui", f->admin);
	req(f, NULL, "/login", form, &rep);
	free(form);
	assert_int_equal(rep.status, 303);
	assert_string_equal(http_reply_header(&rep, "Location"), "/pipelines/ui");
	const char *c = http_reply_header(&rep, "Set-Cookie");
	assert_non_null(c);
	assert_int_equal(strncmp(c, "ferry_session=", 14), 0);
	assert_non_null(strstr(c, "; HttpOnly"));
	assert_non_null(strstr(c, "; SameSite=Strict"));
	assert_non_null(strstr(c, "; Path=/"));
	/* what survives a restart (<data>/ui-sessions) holds neither the cookie's id nor
	 * the API token: a copy of the file logs nobody in */
	char id[65] = "";
	sscanf(c, "ferry_session=%64[0-9a-f]", id);
	assert_int_equal(strlen(id), 64);
	char *path = xasprintf("%s/ui-sessions", f->h.data), *saved = NULL;
	size_t len = 0;
	struct err err;
	assert_int_equal(fs_read_file(path, 1 << 20, &saved, &len, &err), 0);
	assert_true(len > 0);
	assert_null(strstr(saved, id));
	assert_null(strstr(saved, f->admin));
	free(saved);
	free(path);
	http_reply_free(&rep);
	req(f, NULL, "/login", "token=ferry_nope&next=%2F%2Fevil.example", &rep);
	assert_int_equal(rep.status, 401);
	assert_non_null(strstr(rep.body, "unknown token"));
	assert_non_null(strstr(rep.body, "name=\"next\" value=\"/\""));
	http_reply_free(&rep);
}

/* A start without the CSRF token, or with a wrong one, is refused and starts nothing;
 * with it, it starts an execution. */
static void post_without_the_csrf_token_is_refused(void **state)
{
	struct ui_fx *f = *state;
	size_t before = executions(f);
	struct http_reply rep;
	req(f, f->admin_cookie, "/ui/pipelines/ui/start", "x=1", &rep);
	assert_int_equal(rep.status, 403);
	assert_non_null(strstr(rep.body, "CSRF"));
	http_reply_free(&rep);
	char *bad = xasprintf("csrf=%.63s0", f->reader_csrf); /* another session's, changed */
	req(f, f->admin_cookie, "/ui/pipelines/ui/start", bad, &rep);
	free(bad);
	assert_int_equal(rep.status, 403);
	http_reply_free(&rep);
	req(f, NULL, "/ui/pipelines/ui/start", "x=1", &rep);
	assert_int_equal(rep.status, 401);
	http_reply_free(&rep);
	assert_int_equal(executions(f), before);
	char *good = xasprintf("csrf=%s", f->admin_csrf);
	req(f, f->admin_cookie, "/ui/pipelines/ui/start", good, &rep);
	free(good);
	assert_int_equal(rep.status, 303);
	assert_string_equal(http_reply_header(&rep, "Location"), "/pipelines/ui");
	http_reply_free(&rep);
	assert_int_equal(executions(f), before + 1);
}

/* A read-only token's pages have no buttons, and its forged posts (with its own valid
 * CSRF token) are refused and start nothing. */
static void read_only_session_has_no_buttons_and_cannot_post(void **state)
{
	struct ui_fx *f = *state;
	struct http_reply rep;
	req(f, f->reader_cookie, "/pipelines/ui", NULL, &rep);
	assert_int_equal(rep.status, 200);
	assert_non_null(strstr(rep.body, "data-stage=\"Approve\""));
	assert_null(strstr(rep.body, "/ui/pipelines/"));
	assert_null(strstr(rep.body, "data-action=\""));
	http_reply_free(&rep);
	req(f, f->admin_cookie, "/pipelines/ui", NULL, &rep);
	assert_non_null(strstr(rep.body, "data-action=\"start\""));
	assert_non_null(strstr(rep.body, "data-action=\"approve\""));
	assert_non_null(strstr(rep.body, "data-action=\"disable-transition\""));
	http_reply_free(&rep);
	size_t before = executions(f);
	char *form = xasprintf("csrf=%s", f->reader_csrf);
	req(f, f->reader_cookie, "/ui/pipelines/ui/start", form, &rep);
	assert_int_equal(rep.status, 403);
	assert_non_null(strstr(rep.body, "lacks the"));
	http_reply_free(&rep);
	free(form);
	assert_int_equal(executions(f), before);
	/* every page renders for it, without a button */
	char *exec_page = xasprintf("/pipelines/ui/executions/%s", f->exec_id);
	const char *pages[] = {"/",          "/pipelines/ui/history",        exec_page, "/sites",
	                       "/functions", "/pipelines/ui?fragment=stages"};
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		req(f, f->reader_cookie, pages[i], NULL, &rep);
		if (rep.status != 200)
			fail_msg("%s: HTTP %ld", pages[i], rep.status);
		assert_null(strstr(rep.body, "data-action=\""));
		assert_null(strstr(rep.body, XSS));
		http_reply_free(&rep);
	}
	free(exec_page);
}

/* A commit message and a branch holding <script> are shown as text on / and on the
 * pipeline's page; the approval's CustomData is escaped and a javascript: link is not a
 * link. */
static void script_in_commit_and_branch_is_shown_not_run(void **state)
{
	struct ui_fx *f = *state;
	const char *pages[] = {"/", "/pipelines/ui?fragment=executions", "/pipelines/ui"};
	for (size_t i = 0; i < 3; i++) {
		struct http_reply rep;
		req(f, f->admin_cookie, pages[i], NULL, &rep);
		assert_int_equal(rep.status, 200);
		assert_null(strstr(rep.body, XSS));
		if (i < 2) {
			assert_non_null(
			        strstr(rep.body, "&lt;script&gt;alert(1)&lt;/script&gt; fix"));
			assert_non_null(strstr(
			        rep.body, "git:refs/heads/&lt;script&gt;alert(1)&lt;/script&gt;"));
		} else {
			assert_non_null(strstr(rep.body, "check &lt;b&gt;this&lt;/b&gt;"));
			assert_null(strstr(rep.body, "href=\"javascript:"));
		}
		http_reply_free(&rep);
	}
}

/* The trigger line names the commit's author (from the source action's output
 * variables), escaped, on the pipelines page, the pipeline page and the execution page. */
static void trigger_shows_the_commit_author(void **state)
{
	struct ui_fx *f = *state;
	char *exec_page = xasprintf("/pipelines/ui/executions/%s", f->exec_id);
	const char *pages[] = {"/", "/pipelines/ui", "/pipelines/ui?fragment=executions",
	                       exec_page};
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		struct http_reply rep;
		req(f, f->admin_cookie, pages[i], NULL, &rep);
		assert_int_equal(rep.status, 200);
		if (!strstr(rep.body, "by <span class=\"author\" title=\"ada@e\">Ada Lovelace "
		                      "&amp; co</span>: "))
			fail_msg("%s: no author in %s", pages[i], rep.body);
		if (i < 3)
			assert_non_null(strstr(rep.body, "commit <code class=\"sha\""));
		http_reply_free(&rep);
	}
	free(exec_page);
}

/* A waiting approval shows its CustomData as resolved when the approval began
 * (variables filled in), escaped, not the pipeline file's text. */
static void approval_shows_resolved_custom_data(void **state)
{
	struct ui_fx *f = *state;
	struct http_reply rep;
	req(f, f->reader_cookie, "/pipelines/ui", NULL, &rep);
	assert_int_equal(rep.status, 200);
	char *want = xasprintf("<p class=\"custom-data\">check &lt;b&gt;this&lt;/b&gt; on main "
	                       "for %s</p>",
	                       f->exec_id);
	if (!strstr(rep.body, want))
		fail_msg("no resolved CustomData \"%s\" in %s", want, rep.body);
	assert_null(strstr(rep.body, "#{SourceVariables"));
	free(want);
	http_reply_free(&rep);
}

struct cov {
	char *aeid;
};

static void add_coverage(struct engine *e, void *arg)
{
	struct cov *c = arg;
	struct store_action a;
	struct err err;
	if (store_action_get(engine_store(e), c->aeid, &a, &err) < 0)
		fail_msg("%s", err.msg);
	free(a.reports);
	a.reports = xstrdup("[{\"name\":\"cov\",\"type\":\"CODE_COVERAGE\",\"status\":"
	                    "\"SUCCEEDED\",\"lineCoveragePercentage\":81.26}]");
	if (store_action_put(engine_store(e), &a, &err) < 0)
		fail_msg("%s", err.msg);
	store_action_free(&a);
}

/* A build whose buildspec has a JUnit report with a failing case: the execution page
 * shows the counts and the failing test (escaped) under the build action, and the JSON
 * API's action execution carries the summary as `reports`. */
static void execution_page_shows_test_report_summary(void **state)
{
	struct ui_fx *f = *state;
	char *text = xasprintf(
	        "pipeline:\n"
	        "  name: rep\n"
	        "  stages:\n"
	        "    - name: Source\n"
	        "      actions:\n"
	        "        - name: Src\n"
	        "          actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, "
	        "version: '1'}\n"
	        "          configuration: {RepositoryName: site, RepositoryUrl: '%s', BranchName: "
	        "main, PollForSourceChanges: 'false'}\n"
	        "          outputArtifacts: [{name: S}]\n"
	        "    - name: Build\n"
	        "      actions:\n"
	        "        - name: Test\n"
	        "          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, "
	        "version: '1'}\n"
	        "          configuration: {ProjectName: rep}\n"
	        "          inputArtifacts: [{name: S}]\n"
	        "projects:\n"
	        "  rep:\n"
	        "    buildspec: |\n"
	        "      version: 0.2\n"
	        "      phases:\n"
	        "        build:\n"
	        "          commands:\n"
	        "            - >-\n"
	        "              echo '<testsuite name=\"S\"><testcase name=\"test_ok\" "
	        "time=\"0.5\"/><testcase name=\"test_x\" time=\"1\"><failure "
	        "message=\"expected 1 &lt;b&gt;got 2\"/></testcase></testsuite>' > r.xml\n"
	        "      reports:\n"
	        "        unit:\n"
	        "          files: [r.xml]\n",
	        f->h.repo);
	struct th_op op = {.text = text, .flag = 1};
	th_call(&f->h, th_do_create, &op);
	if (op.rc < 0)
		fail_msg("create: %s", op.err.err.msg);
	json_decref(op.out);
	free(text);
	char *id = th_start(&f->h, "rep");
	th_wait(&f->h, "rep", id, "Succeeded"); /* failing tests fail the report only */
	char *path = xasprintf("/pipelines/rep/executions/%s", id);
	struct http_reply rep;
	req(f, f->reader_cookie, path, NULL, &rep);
	assert_int_equal(rep.status, 200);
	if (!strstr(rep.body, "<strong>Tests unit</strong>: 2 tests: 1 passed, 1 failed"))
		fail_msg("no counts in %s", rep.body);
	assert_non_null(strstr(rep.body, "<code class=\"test-name\">S.test_x</code>"));
	assert_non_null(strstr(rep.body, "expected 1 &lt;b&gt;got 2"));
	assert_non_null(strstr(rep.body, "data-report-status=\"FAILED\""));
	assert_null(strstr(rep.body, "<b>got"));
	http_reply_free(&rep);
	free(path);
	path = xasprintf("/api/pipelines/rep/executions/%s/actions", id);
	api_req(f, path, NULL, &rep);
	assert_int_equal(rep.status, 200);
	json_t *out = json_loads(rep.body, 0, NULL);
	json_t *reports = NULL;
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(out, "actionExecutionDetails"), i, d)
	{
		if (!strcmp(json_string_value(json_object_get(d, "actionName")), "Test"))
			reports = json_object_get(d, "reports");
		else
			assert_null(json_object_get(d, "reports"));
	}
	json_t *r = json_array_get(reports, 0);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "unit");
	assert_string_equal(json_string_value(json_object_get(r, "type")), "TEST");
	assert_int_equal(json_integer_value(json_object_get(r, "total")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "durationMs")), 1500);
	json_t *fl = json_array_get(json_object_get(r, "failures"), 0);
	assert_string_equal(json_string_value(json_object_get(fl, "name")), "S.test_x");
	assert_string_equal(json_string_value(json_object_get(fl, "message")),
	                    "expected 1 <b>got 2");
	/* a coverage summary (as an action that read one would store it) shows its % */
	struct cov c = {.aeid = xstrdup(json_string_value(json_object_get(
	                        json_array_get(json_object_get(out, "actionExecutionDetails"), 0),
	                        "actionExecutionId")))};
	json_decref(out);
	http_reply_free(&rep);
	free(path);
	th_call(&f->h, add_coverage, &c);
	path = xasprintf("/pipelines/rep/executions/%s", id);
	req(f, f->reader_cookie, path, NULL, &rep);
	if (!strstr(rep.body, "<strong>Coverage cov</strong>: 81.3% of lines covered"))
		fail_msg("no coverage in %s", rep.body);
	http_reply_free(&rep);
	free(path);
	free(c.aeid);
	free(id);
}

/* Approving in a form lets the execution go on; a second answer's error is shown in
 * words on the next page. */
static void approving_by_form_advances_and_errors_are_shown(void **state)
{
	struct ui_fx *f = *state;
	struct http_reply rep;
	req(f, f->admin_cookie, "/pipelines/ui", NULL, &rep);
	const char *t = strstr(rep.body, "name=\"token\" value=\"");
	assert_non_null(t);
	char *token = xstrndup(t + strlen("name=\"token\" value=\""), 36);
	http_reply_free(&rep);
	char *form = xasprintf("csrf=%s&token=%s&result=Approved&comment=looks+good", f->admin_csrf,
	                       token);
	req(f, f->admin_cookie, "/ui/pipelines/ui/stages/Approve/actions/Gate/approval", form,
	    &rep);
	assert_int_equal(rep.status, 303);
	http_reply_free(&rep);
	th_wait(&f->h, "ui", f->exec_id, "Succeeded");
	req(f, f->admin_cookie, "/ui/pipelines/ui/stages/Approve/actions/Gate/approval", form,
	    &rep);
	assert_int_equal(rep.status, 303);
	http_reply_free(&rep);
	req(f, f->admin_cookie, "/pipelines/ui", NULL, &rep);
	assert_non_null(strstr(rep.body, "id=\"flash\""));
	http_reply_free(&rep);
	free(form);
	free(token);
}

struct sse {
	struct buf got;
};

static int sse_chunk(void *ctx, const char *data, size_t len)
{
	struct sse *e = ctx;
	if (buf_append(&e->got, data, len) < 0)
		return 1;
	return strstr(e->got.data, "event: change\ndata: {") != NULL; /* enough: stop */
}

static void *start_later(void *arg)
{
	struct ui_fx *f = arg;
	usleep(200000);
	char *good = xasprintf("csrf=%s", f->admin_csrf);
	struct http_reply rep;
	req(f, f->admin_cookie, "/ui/pipelines/ui/start", good, &rep);
	http_reply_free(&rep);
	free(good);
	return NULL;
}

/* The event stream says hello with the change number, then tells of each change of
 * the pipeline's executions as it is committed. */
static void event_stream_tells_of_changes(void **state)
{
	struct ui_fx *f = *state;
	struct sse e;
	buf_init(&e.got, 1 << 20);
	pthread_t t;
	pthread_create(&t, NULL, start_later, f);
	char *url = url_of(f, "/ui/events?pipeline=ui");
	char *ch = xasprintf("Cookie: %s", f->admin_cookie);
	const char *headers[] = {ch, NULL};
	struct http_reply rep;
	struct err err;
	/* the stream never ends by itself: the call ends at its timeout */
	int rc = http_call(&(struct http_call){.url = url,
	                                       .headers = headers,
	                                       .timeout_ms = 1500,
	                                       .on_chunk = sse_chunk,
	                                       .ctx = &e},
	                   &rep, &err);
	(void)rc;
	pthread_join(t, NULL);
	assert_non_null(e.got.data);
	assert_non_null(strstr(e.got.data, "event: hello\ndata: "));
	const char *c = strstr(e.got.data, "event: change\ndata: {\"pipeline\":\"ui\"");
	assert_non_null(c);
	http_reply_free(&rep);
	buf_free(&e.got);
	free(ch);
	free(url);
}

struct seen {
	pthread_mutex_t mu;
	int transitions; /* changes of pipeline "ui" itself (no execution) */
	uint64_t watch;
};

static void on_change(void *ctx, const struct engine_state_change *ch)
{
	struct seen *w = ctx;
	if (ch->pipeline && !strcmp(ch->pipeline, "ui") && !ch->execution_id) {
		pthread_mutex_lock(&w->mu);
		w->transitions++;
		pthread_mutex_unlock(&w->mu);
	}
}

static void do_watch(struct engine *e, void *arg)
{
	struct seen *w = arg;
	w->watch = engine_state_watch(e, on_change, w);
}

static void do_unwatch(struct engine *e, void *arg)
{
	struct seen *w = arg;
	engine_state_unwatch(e, w->watch);
}

static int seen_transitions(struct seen *w)
{
	pthread_mutex_lock(&w->mu);
	int n = w->transitions;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* A transition disabled and enabled through the JSON API (not the UI) tells the live
 * pages: a state watcher hears of each change once. */
static void transition_changed_through_the_api_notifies_watchers(void **state)
{
	struct ui_fx *f = *state;
	struct seen w = {.mu = PTHREAD_MUTEX_INITIALIZER};
	th_call(&f->h, do_watch, &w);
	struct http_reply rep;
	api_req(f, "/api/pipelines/ui/stages/Approve/disable-transition", "{\"reason\":\"frozen\"}",
	        &rep);
	assert_int_equal(rep.status, 200);
	http_reply_free(&rep);
	assert_int_equal(seen_transitions(&w), 1); /* told before the answer */
	api_req(f, "/api/pipelines/ui/stages/Approve/enable-transition", "{}", &rep);
	assert_int_equal(rep.status, 200);
	http_reply_free(&rep);
	assert_int_equal(seen_transitions(&w), 2);
	/* a refused change tells nobody */
	api_req(f, "/api/pipelines/ui/stages/Approve/disable-transition", "{\"reason\":\"<x>\"}",
	        &rep);
	assert_int_equal(rep.status, 400);
	http_reply_free(&rep);
	assert_int_equal(seen_transitions(&w), 2);
	th_call(&f->h, do_unwatch, &w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(html_builder_escapes_text_and_attributes),
	        cmocka_unit_test(ansi_colours_become_spans_and_text_is_escaped),
	        cmocka_unit_test(chart_draws_a_point_per_execution),
	        cmocka_unit_test(login_sets_a_strict_httponly_cookie),
	        cmocka_unit_test(script_in_commit_and_branch_is_shown_not_run),
	        cmocka_unit_test(trigger_shows_the_commit_author),
	        cmocka_unit_test(approval_shows_resolved_custom_data),
	        cmocka_unit_test(execution_page_shows_test_report_summary),
	        cmocka_unit_test(read_only_session_has_no_buttons_and_cannot_post),
	        cmocka_unit_test(approving_by_form_advances_and_errors_are_shown),
	        cmocka_unit_test(post_without_the_csrf_token_is_refused),
	        cmocka_unit_test(event_stream_tells_of_changes),
	        cmocka_unit_test(transition_changed_through_the_api_notifies_watchers),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
