/*
 * test_engine_invoke.c — Invoke (Lambda) actions through the engine's C API
 * (../shared/spec/pipeline.md §5): real node functions (functions/fn.h) run by real
 * action children; a function records the event it got in a file, and the test answers
 * the job as the function would (engine_job_success / engine_job_failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "functions/registry.h"
#include "store/sites.h"
#include "test_engine.h"

/* th_open() with these job limits (0: the engine's defaults). */
static void ti_open(struct th *h, int job_timeout_ms, int continuation_ms)
{
	th_job_timeout_ms = job_timeout_ms;
	th_job_continuation_ms = continuation_ms;
	th_open(h, 0);
}

struct fn_make {
	const char *name, *zip;
	int rc;
	struct err err;
};

static void do_fn_create(struct engine *e, void *arg)
{
	struct fn_make *m = arg;
	struct fn_config c = {.name = m->name, .runtime = "nodejs20.x", .handler = "index.handler"};
	struct store_fn out;
	m->rc = fn_create(engine_store(e), engine_data_dir(e), &c, m->zip, &out, &m->err);
	if (m->rc == 0)
		store_fn_free(&out);
}

/* A node function `name` whose index.js is `js` ("@DIR@" stands for the test's
 * directory). */
static void make_fn(struct th *h, const char *name, const char *js)
{
	char *src = xasprintf("%s/src-%s", h->dir, name);
	char *zip = xasprintf("%s/%s.zip", h->dir, name);
	th_sh("mkdir -p %s", src);
	struct buf b;
	buf_init(&b, 1 << 16);
	for (const char *p = js; *p;) {
		const char *d = strstr(p, "@DIR@");
		size_t n = d ? (size_t)(d - p) : strlen(p);
		assert_int_equal(buf_append(&b, p, n), 0);
		if (!d)
			break;
		assert_int_equal(buf_puts(&b, h->dir), 0);
		p = d + 5;
	}
	tu_write(src, "index.js", b.data);
	buf_free(&b);
	struct err err;
	if (fn_zip_dir(src, zip, &err) < 0)
		fail_msg("%s", err.msg);
	struct fn_make m = {.name = name, .zip = zip};
	th_call(h, do_fn_create, &m);
	if (m.rc != 0)
		fail_msg("fn_create %s: %s", name, m.err.msg);
	free(src);
	free(zip);
}

/* Writes what it got to @DIR@/ev-<job>.json, then the job id as a line of @DIR@/jobs.txt. */
static const char recorder_js[] =
        "const fs = require('fs');\n"
        "exports.handler = async (event) => {\n"
        "  const job = event['CodePipeline.job'];\n"
        "  const env = {id: process.env.FERRY_JOB_ID, secret: process.env.FERRY_JOB_SECRET,\n"
        "               arts: process.env.FERRY_ARTIFACTS_DIR};\n"
        "  fs.writeFileSync('@DIR@/ev-' + job.id + '.json', JSON.stringify({event, env}));\n"
        "  fs.appendFileSync('@DIR@/jobs.txt', job.id + '\\n');\n"
        "  return 'recorded';\n"
        "};\n";

static const char thrower_js[] = "exports.handler = async () => {\n"
                                 "  require('fs').appendFileSync('@DIR@/throws.txt', 'x\\n');\n"
                                 "  throw new Error('boom');\n"
                                 "};\n";

/* Source → Invoke stage (action Call of `fn`, namespace CallVars) [→ `extra` stage]. */
static char *pipeline_text(const char *name, const char *repo, const char *fn, const char *params,
                           const char *extra)
{
	return xasprintf(
	        "pipeline:\n"
	        "  name: %s\n"
	        "  pipelineType: V2\n"
	        "  stages:\n"
	        "    - name: Source\n"
	        "      actions:\n"
	        "        - name: Src\n"
	        "          actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, "
	        "version: '1'}\n"
	        "          configuration: {RepositoryName: site, RepositoryUrl: '%s', BranchName: "
	        "main, PollForSourceChanges: 'false'}\n"
	        "          outputArtifacts: [{name: SourceOut}]\n"
	        "    - name: Invoke\n"
	        "      actions:\n"
	        "        - name: Call\n"
	        "          actionTypeId: {category: Invoke, owner: AWS, provider: Lambda, "
	        "version: '1'}\n"
	        "          configuration: {FunctionName: '%s', UserParameters: '%s'}\n"
	        "          inputArtifacts: [{name: SourceOut}]\n"
	        "          namespace: CallVars\n"
	        "%s",
	        name, repo, fn, params, extra ? extra : "");
}

/* The n-th (1-based) job the recorder saw, waiting up to 30 s (to free). */
static char *wait_job(struct th *h, int n)
{
	int64_t until = mono_ms() + 30000;
	for (;;) {
		char *path = fs_join(h->dir, "jobs.txt");
		char *text = NULL;
		size_t len = 0;
		struct err err;
		int ok = fs_exists(path) && fs_read_file(path, 1 << 20, &text, &len, &err) == 0;
		free(path);
		if (ok) {
			char *line = text;
			for (int i = 1; i < n && line; i++) {
				line = strchr(line, '\n');
				line = line && line[1] ? line + 1 : NULL;
			}
			if (line && strchr(line, '\n')) {
				char *id = xstrndup(line, (size_t)(strchr(line, '\n') - line));
				free(text);
				return id;
			}
		}
		free(text);
		if (mono_ms() > until) {
			th_sh("cat %s/data/logs/*/*.log >&2; ls -la %s >&2", h->dir, h->dir);
			fail_msg("the function did not record job %d within 30 s", n);
		}
		usleep(20000);
	}
}

/* An engine with these job limits (ti_open()) and pipeline "inv" calling the recorder
 * (UserParameters "x"), started: the execution's id in *x, and the recorder's first
 * job (both to free). */
static char *start_recorded(struct th *h, int job_timeout_ms, int continuation_ms, char **x)
{
	ti_open(h, job_timeout_ms, continuation_ms);
	make_fn(h, "recorder", recorder_js);
	char *text = pipeline_text("inv", h->repo, "recorder", "x", NULL);
	th_create(h, text, 1);
	free(text);
	*x = th_start(h, "inv");
	return wait_job(h, 1);
}

/* What the recorder wrote for job `id`: {event, env} (to json_decref). */
static json_t *recorded(struct th *h, const char *id)
{
	char *name = xasprintf("ev-%s.json", id);
	char *text = tu_read(h->dir, name);
	json_t *v = json_loads(text, 0, NULL);
	assert_non_null(v);
	free(text);
	free(name);
	return v;
}

struct result_op {
	const char *id;
	const char *body;
	int success;
	int rc;
	struct engine_err err;
};

static void do_result(struct engine *e, void *arg)
{
	struct result_op *o = arg;
	json_t *b = json_loads(o->body, 0, NULL);
	o->rc = o->success ? engine_job_success(e, o->id, b, &o->err)
	                   : engine_job_failure(e, o->id, b, &o->err);
	json_decref(b);
}

/* Answers job `id`; returns "" when accepted, else the exception name. */
static const char *answer(struct th *h, const char *id, int success, const char *body)
{
	static struct result_op o;
	memset(&o, 0, sizeof o);
	o.id = id;
	o.body = body;
	o.success = success;
	th_call(h, do_result, &o);
	return o.rc == 0 ? "" : o.err.type;
}

/* GetPipelineState's latestExecution of the action of stage `stage` (to json_decref). */
static json_t *latest(struct th *h, const char *pipeline, const char *stage)
{
	struct th_op o = {.text = pipeline};
	th_call(h, th_do_state, &o);
	assert_int_equal(o.rc, 0);
	json_t *stages = json_object_get(o.out, "stageStates"), *s, *found = NULL;
	size_t i;
	json_array_foreach(
	        stages, i,
	        s) if (!strcmp(json_string_value(json_object_get(s, "stageName")), stage)) found =
	        json_object_get(json_array_get(json_object_get(s, "actionStates"), 0),
	                        "latestExecution");
	json_incref(found);
	json_decref(o.out);
	assert_non_null(found);
	return found;
}

static const char *jstr(json_t *o, const char *path)
{
	/* "a.b.c" */
	char key[128];
	const char *p = path;
	while (o && *p) {
		size_t n = strcspn(p, ".");
		snprintf(key, sizeof key, "%.*s", (int)n, p);
		o = json_object_get(o, key);
		p += n + (p[n] == '.');
	}
	return json_string_value(o);
}

/* The event is CodePipeline's (§5.2); outputVariables of the final success are the
 * action's variables, which a later action's configuration resolves (§3.3). */
static void success_variables_reach_a_later_action(void **state)
{
	(void)state;
	struct th h;
	ti_open(&h, 0, 0);
	make_fn(&h, "recorder", recorder_js);
	char *text = pipeline_text("inv", h.repo, "recorder", "{\"step\": 1}",
	                           "    - name: Next\n"
	                           "      actions:\n"
	                           "        - name: Use\n"
	                           "          actionTypeId: {category: Invoke, owner: AWS, "
	                           "provider: Lambda, version: '1'}\n"
	                           "          configuration: {FunctionName: recorder, "
	                           "UserParameters: 'greeting=#{CallVars.Greeting}'}\n");
	th_create(&h, text, 1);
	free(text);
	char *x = th_start(&h, "inv");
	char *job = wait_job(&h, 1);
	json_t *rec = recorded(&h, job);
	json_t *ev = json_object_get(json_object_get(rec, "event"), "CodePipeline.job");
	assert_string_equal(jstr(ev, "id"), job);
	assert_string_equal(jstr(ev, "accountId"), "000000000000");
	assert_string_equal(jstr(ev, "data.actionConfiguration.configuration.FunctionName"),
	                    "recorder");
	assert_string_equal(jstr(ev, "data.actionConfiguration.configuration.UserParameters"),
	                    "{\"step\": 1}");
	json_t *in =
	        json_array_get(json_object_get(json_object_get(ev, "data"), "inputArtifacts"), 0);
	assert_string_equal(jstr(in, "name"), "SourceOut");
	assert_string_equal(jstr(in, "location.type"), "S3");
	assert_string_equal(jstr(in, "location.s3Location.bucketName"), "ferry-artifacts");
	/* the objectKey is the artifact's file under FERRY_ARTIFACTS_DIR [F] */
	char *file = fs_join(jstr(rec, "env.arts"), jstr(in, "location.s3Location.objectKey"));
	assert_true(fs_exists(file));
	free(file);
	assert_string_equal(jstr(ev, "data.artifactCredentials.secretAccessKey"),
	                    jstr(rec, "env.secret"));
	assert_string_equal(jstr(rec, "env.id"), job);
	assert_null(json_object_get(json_object_get(ev, "data"), "continuationToken"));
	json_decref(rec);

	assert_string_equal(answer(&h, job, 1,
	                           "{\"outputVariables\": {\"Greeting\": \"hello\"},"
	                           " \"executionDetails\": {\"summary\": \"called\","
	                           " \"externalExecutionId\": \"ext-1\"}}"),
	                    "");
	char *job2 = wait_job(&h, 2);
	rec = recorded(&h, job2);
	ev = json_object_get(json_object_get(rec, "event"), "CodePipeline.job");
	assert_string_equal(jstr(ev, "data.actionConfiguration.configuration.UserParameters"),
	                    "greeting=hello");
	json_decref(rec);
	assert_string_equal(answer(&h, job2, 1, "{}"), "");
	th_wait(&h, "inv", x, "Succeeded");
	json_t *l = latest(&h, "inv", "Invoke");
	assert_string_equal(jstr(l, "summary"), "called");
	assert_string_equal(jstr(l, "externalExecutionId"), "ext-1");
	json_decref(l);
	free(job);
	free(job2);
	free(x);
	th_close(&h);
}

/* PutJobFailureResult fails the action: summary = message, code = type (§5.3). */
static void failure_result_fails_the_action_with_its_message(void **state)
{
	(void)state;
	struct th h;
	char *x = NULL;
	char *job = start_recorded(&h, 0, 0, &x);
	assert_string_equal(answer(&h, job, 0,
	                           "{\"failureDetails\": {\"type\": \"ConfigurationError\","
	                           " \"message\": \"3 tests failed\"}}"),
	                    "");
	th_wait(&h, "inv", x, "Failed");
	json_t *l = latest(&h, "inv", "Invoke");
	assert_string_equal(jstr(l, "summary"), "3 tests failed");
	assert_string_equal(jstr(l, "errorDetails.code"), "ConfigurationError");
	json_decref(l);
	/* a second result for the same job is refused */
	assert_string_equal(answer(&h, job, 1, "{}"), "InvalidJobStateException");
	free(job);
	free(x);
	th_close(&h);
}

/* Malformed results change nothing and say what is wrong (§5.3). */
static void results_are_checked_as_codepipeline_does(void **state)
{
	(void)state;
	struct th h;
	char *x = NULL;
	char *job = start_recorded(&h, 0, 0, &x);
	assert_string_equal(answer(&h, "00000000-0000-4000-8000-000000000000", 1, "{}"),
	                    "JobNotFoundException");
	assert_string_equal(answer(&h, "not-a-job", 1, "{}"), "ValidationException");
	assert_string_equal(answer(&h, job, 1,
	                           "{\"continuationToken\": \"t\","
	                           " \"outputVariables\": {\"A\": \"1\"}}"),
	                    "ValidationException");
	assert_string_equal(answer(&h, job, 1, "{\"outputVariables\": {\"a b\": \"1\"}}"),
	                    "ValidationException");
	assert_string_equal(answer(&h, job, 0,
	                           "{\"failureDetails\": {\"type\": \"Oops\","
	                           " \"message\": \"m\"}}"),
	                    "ValidationException");
	char *big = xmalloc(130000);
	memset(big, 'v', 129999);
	big[129999] = 0;
	char *body = xasprintf("{\"outputVariables\": {\"Big\": \"%s\"}}", big);
	assert_string_equal(answer(&h, job, 1, body), "OutputVariablesSizeExceededException");
	free(body);
	free(big);
	/* the secret of the open job authorises it; another does not */
	json_t *rec = recorded(&h, job);
	assert_true(engine_job_secret_ok(h.e, job, jstr(rec, "env.secret")));
	assert_false(engine_job_secret_ok(h.e, job, "0123456789abcdef"));
	json_decref(rec);
	/* still open: a good result is taken */
	assert_string_equal(answer(&h, job, 1, "{}"), "");
	assert_string_equal(answer(&h, job, 1, "{}"), "InvalidJobStateException");
	th_wait(&h, "inv", x, "Succeeded");
	free(job);
	free(x);
	th_close(&h);
}

/* No result within the time limit: the action fails saying so (§5.5). */
static void no_result_in_time_fails_the_action(void **state)
{
	(void)state;
	struct th h;
	char *x = NULL;
	char *job = start_recorded(&h, 1500, 0, &x);
	th_wait(&h, "inv", x, "Failed");
	json_t *l = latest(&h, "inv", "Invoke");
	assert_non_null(strstr(jstr(l, "summary"), "timed out waiting for PutJobSuccessResult"));
	json_decref(l);
	assert_string_equal(answer(&h, job, 1, "{}"), "InvalidJobStateException");
	free(job);
	free(x);
	th_close(&h);
}

/* A success with a continuationToken keeps the action running; a new job invokes the
 * function again with that token, and its final success ends the action (§5.4). */
static void continuation_reinvokes_with_the_token(void **state)
{
	(void)state;
	struct th h;
	char *x = NULL;
	char *job = start_recorded(&h, 0, 100, &x);
	assert_string_equal(answer(&h, job, 1,
	                           "{\"continuationToken\": \"step-2\", \"executionDetails\":"
	                           " {\"summary\": \"half way\", \"percentComplete\": 50}}"),
	                    "");
	json_t *l = latest(&h, "inv", "Invoke");
	assert_string_equal(jstr(l, "status"), "InProgress");
	assert_string_equal(jstr(l, "summary"), "half way");
	json_decref(l);
	char *job2 = wait_job(&h, 2);
	assert_string_not_equal(job, job2);
	json_t *rec = recorded(&h, job2);
	json_t *ev = json_object_get(json_object_get(rec, "event"), "CodePipeline.job");
	assert_string_equal(jstr(ev, "data.continuationToken"), "step-2");
	json_decref(rec);
	assert_string_equal(answer(&h, job, 1, "{}"), "InvalidJobStateException");
	assert_string_equal(answer(&h, job2, 1, "{\"outputVariables\": {\"Done\": \"yes\"}}"), "");
	th_wait(&h, "inv", x, "Succeeded");
	free(job);
	free(job2);
	free(x);
	th_close(&h);
}

/* A function that throws is retried twice (Lambda async); after the third error the
 * action fails with the function's error [F]. */
static void function_error_three_times_fails_with_its_message(void **state)
{
	(void)state;
	struct th h;
	ti_open(&h, 10000, 0); /* retries 100 ms apart (a hundredth of the job's limit) */
	make_fn(&h, "thrower", thrower_js);
	char *text = pipeline_text("inv", h.repo, "thrower", "x", NULL);
	th_create(&h, text, 1);
	free(text);
	char *x = th_start(&h, "inv");
	th_wait(&h, "inv", x, "Failed");
	json_t *l = latest(&h, "inv", "Invoke");
	assert_non_null(strstr(jstr(l, "summary"), "Error: boom"));
	assert_non_null(strstr(jstr(l, "summary"), "3 attempts"));
	json_decref(l);
	char *throws = tu_read(h.dir, "throws.txt");
	assert_string_equal(throws, "x\nx\nx\n");
	free(throws);
	free(x);
	th_close(&h);
}

/* A job still open when the daemon stops takes its result after the restart (§5,
 * durability); an abandoned execution's job takes none. */
static void open_job_survives_restart_and_abandon_cancels_it(void **state)
{
	(void)state;
	struct th h;
	char *x = NULL;
	char *job = start_recorded(&h, 0, 0, &x);
	th_restart(&h);
	assert_string_equal(answer(&h, job, 1, "{}"), "");
	th_wait(&h, "inv", x, "Succeeded");
	char *y = th_start(&h, "inv");
	char *job2 = wait_job(&h, 2);
	struct th_op o = {.text = "inv", .a = y, .flag = 1};
	th_call(&h, th_do_stop, &o);
	assert_int_equal(o.rc, 0);
	th_wait(&h, "inv", y, "Stopped");
	assert_string_equal(answer(&h, job2, 1, "{}"), "InvalidJobStateException");
	free(job);
	free(job2);
	free(x);
	free(y);
	th_close(&h);
}

static void do_site(struct engine *e, void *arg)
{
	(void)arg;
	struct store_site s = {.name = "docs", .index_doc = "index.html", .keep = 3};
	struct err err;
	if (store_site_create(engine_store(e), &s, &err) != 0)
		fail_msg("site: %s", err.msg);
}

struct inv_op {
	const char *id;
	int rc;
	char *ref, *paths;
};

static void do_inv_get(struct engine *e, void *arg)
{
	struct inv_op *o = arg;
	struct store_invalidation inv;
	struct err err;
	o->rc = store_invalidation_get(engine_store(e), "docs", o->id, &inv, &err);
	if (o->rc == 0) {
		o->ref = xstrdup(inv.caller_reference);
		o->paths = xstrdup(inv.paths);
		store_invalidation_free(&inv);
	}
}

/* FunctionName ferry:invalidate invalidates a site's paths, no function needed [F]. */
static void builtin_invalidate_creates_an_invalidation(void **state)
{
	(void)state;
	struct th h;
	ti_open(&h, 0, 0);
	th_call(&h, do_site, NULL);
	char *text = pipeline_text("inv", h.repo, "ferry:invalidate",
	                           "{\"site\": \"docs\", \"paths\": [\"/index.html\", \"/img/*\"]}",
	                           NULL);
	th_create(&h, text, 1);
	free(text);
	char *x = th_start(&h, "inv");
	th_wait(&h, "inv", x, "Succeeded");
	json_t *l = latest(&h, "inv", "Invoke");
	const char *summary = jstr(l, "summary");
	assert_non_null(strstr(summary, "Invalidated 2 path(s) on site docs ("));
	json_t *acts = th_actions(&h, "inv", x);
	json_t *call = json_array_get(acts, 0); /* newest first */
	const char *inv_id = jstr(call, "output.outputVariables.InvalidationId");
	assert_non_null(inv_id);
	assert_string_equal(jstr(call, "output.outputVariables.SiteName"), "docs");
	assert_non_null(strstr(summary, inv_id));
	/* recorded on the site, its CallerReference the job's id */
	struct inv_op io = {.id = inv_id};
	th_call(&h, do_inv_get, &io);
	assert_int_equal(io.rc, 0);
	assert_int_equal(strlen(io.ref), 36);
	assert_string_equal(io.paths, "[\"/index.html\",\"/img/*\"]");
	free(io.ref);
	free(io.paths);
	json_decref(acts);
	json_decref(l);

	/* an unknown site fails, naming it */
	text = pipeline_text("inv2", h.repo, "ferry:invalidate", "{\"DistributionId\": \"nope\"}",
	                     NULL);
	th_create(&h, text, 1);
	free(text);
	char *y = th_start(&h, "inv2");
	th_wait(&h, "inv2", y, "Failed");
	l = latest(&h, "inv2", "Invoke");
	assert_non_null(strstr(jstr(l, "summary"), "nope"));
	json_decref(l);
	free(x);
	free(y);
	th_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(success_variables_reach_a_later_action),
	        cmocka_unit_test(failure_result_fails_the_action_with_its_message),
	        cmocka_unit_test(results_are_checked_as_codepipeline_does),
	        cmocka_unit_test(no_result_in_time_fails_the_action),
	        cmocka_unit_test(continuation_reinvokes_with_the_token),
	        cmocka_unit_test(function_error_three_times_fails_with_its_message),
	        cmocka_unit_test(open_job_survives_restart_and_abandon_cancels_it),
	        cmocka_unit_test(builtin_invalidate_creates_an_invalidation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
