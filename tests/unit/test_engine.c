/*
 * test_engine.c — the pipeline engine end to end through its C API: a real git
 * repository, real action children (ferry __action), real builds without sandbox.
 * Each test names the CodePipeline behaviour it protects (spec §1.3, §1.8, §2.4–§2.6,
 * §3.1, §1.7).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_engine.h"

/* Source (git, local path) → Build (inline buildspec). `build` is the build's
 * commands (YAML list items), `mode` the execution mode. */
static char *pipeline_text(const char *name, const char *repo, const char *mode, const char *build,
                           const char *extra_build_actions)
{
	return xasprintf(
	        "pipeline:\n"
	        "  name: %s\n"
	        "  pipelineType: V2\n"
	        "  executionMode: %s\n"
	        "  stages:\n"
	        "    - name: Source\n"
	        "      actions:\n"
	        "        - name: Src\n"
	        "          actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, "
	        "version: '1'}\n"
	        "          configuration: {RepositoryName: site, RepositoryUrl: '%s', BranchName: "
	        "main, PollForSourceChanges: 'false'}\n"
	        "          outputArtifacts: [{name: SourceOut}]\n"
	        "          namespace: SourceVariables\n"
	        "    - name: Build\n"
	        "      actions:\n"
	        "        - name: Build\n"
	        "          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, "
	        "version: '1'}\n"
	        "          configuration:\n"
	        "            ProjectName: site\n"
	        "            EnvironmentVariables: "
	        "'[{\"name\":\"COMMIT\",\"value\":\"#{SourceVariables."
	        "CommitId}\"},{\"name\":\"EXEC\",\"value\":\"#{codepipeline.PipelineExecutionId}\"}"
	        "]'\n"
	        "          inputArtifacts: [{name: SourceOut}]\n"
	        "          outputArtifacts: [{name: BuildOut}]\n"
	        "%s"
	        "projects:\n"
	        "  site:\n"
	        "    buildspec: |\n"
	        "      version: 0.2\n"
	        "      phases:\n"
	        "        build:\n"
	        "          commands:\n"
	        "%s"
	        "      artifacts:\n"
	        "        files: ['**/*']\n",
	        name, mode, repo, extra_build_actions ? extra_build_actions : "", build);
}

/* Creates pipeline_text(name, the test's repository, ...) without starting it. */
static void create_idle(struct th *h, const char *name, const char *mode, const char *build,
                        const char *extra_build_actions)
{
	char *text = pipeline_text(name, h->repo, mode, build, extra_build_actions);
	th_create(h, text, 1);
	free(text);
}

/* Build commands that succeed only if two builds run at the same time: each leaves a
 * file named by its `$var` in a fresh directory, then waits (up to 10 s) for the
 * other's. To free. */
static char *meet_commands(struct th *h, const char *var)
{
	char *dir = fs_join(h->dir, "meet");
	th_sh("mkdir -p %s", dir);
	char *cmds =
	        xasprintf("            - touch %s/%s\n"
	                  "            - for i in $(seq 200); do [ $(ls %s | wc -l) -ge 2 ] && "
	                  "exit 0; sleep 0.05; done; exit 1\n",
	                  dir, var, dir);
	free(dir);
	return cmds;
}

static char *log_of(struct th *h, const char *id, const char *action)
{
	char *path = fs_join(h->data, "logs");
	char *dir = fs_join(path, id);
	free(path);
	(void)action;
	char *cmd = xasprintf("cat %s/*.log 2>/dev/null", dir);
	FILE *f = popen(cmd, "r");
	struct buf b;
	buf_init(&b, 1 << 22);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			break;
	pclose(f);
	free(cmd);
	free(dir);
	return buf_detach(&b);
}

/* A created pipeline runs once: the source's commit reaches the build through
 * #{SourceVariables.CommitId}, the execution id through #{codepipeline...}; its
 * notification rule gets the SUCCEEDED event on stdin. */
static void create_runs_source_then_build_with_variables(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	char *text = pipeline_text("site", h.repo, "SUPERSEDED",
	                           "            - echo \"built $COMMIT in $EXEC\"\n"
	                           "            - test -f index.html\n",
	                           NULL);
	char *events = fs_join(h.dir, "events");
	char *with_rules = xasprintf("%snotifications:\n  - events: [succeeded]\n"
	                             "    command: cat >> %s; echo >> %s\n",
	                             text, events, events);
	th_create(&h, with_rules, 0);
	char *id = th_latest(&h, "site", 0);
	assert_non_null(id);
	th_wait(&h, "site", id, "Succeeded");
	char sha[64];
	th_head(&h, sha);
	char *log = log_of(&h, id, "Build");
	char *want = xasprintf("built %s in %s", sha, id);
	if (!strstr(log, want))
		fail_msg("build log lacks \"%s\":\n%s", want, log);
	/* the state shows both stages Succeeded with this execution */
	struct th_op o = {.text = "site"};
	th_call(&h, th_do_state, &o);
	json_t *stages = json_object_get(o.out, "stageStates");
	assert_int_equal(json_array_size(stages), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *le = json_object_get(json_array_get(stages, i), "latestExecution");
		assert_string_equal(json_string_value(json_object_get(le, "status")), "Succeeded");
		assert_string_equal(json_string_value(json_object_get(le, "pipelineExecutionId")),
		                    id);
	}
	json_t *src = json_array_get(json_object_get(json_array_get(stages, 0), "actionStates"), 0);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(src, "currentRevision"), "revisionId")),
	                    sha);
	json_decref(o.out);
	/* the notification arrives shortly after (it runs beside the engine) */
	char *got = NULL;
	for (int i = 0; i < 250; i++) {
		free(got);
		got = fs_exists(events) ? tu_read(h.dir, "events") : xstrdup("");
		if (strchr(got, '\n'))
			break;
		usleep(20000);
	}
	json_t *ev = json_loads(got, 0, NULL);
	if (!ev)
		fail_msg("notification: not one JSON event: %s", got);
	json_t *detail = json_object_get(ev, "detail");
	assert_string_equal(json_string_value(json_object_get(detail, "state")), "SUCCEEDED");
	assert_string_equal(json_string_value(json_object_get(detail, "execution-id")), id);
	json_decref(ev);
	free(got);
	free(events);
	free(with_rules);
	free(want);
	free(log);
	free(id);
	free(text);
	th_close(&h);
}

/* SUPERSEDED: while one execution builds, a second waits in front of the stage and a
 * third replaces it (the second ends Superseded); the first and third succeed. */
static void superseded_mode_replaces_the_waiting_execution(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	char *flag = fs_join(h.dir, "go");
	char *cmds = xasprintf("            - while [ ! -e %s ]; do sleep 0.05; done\n", flag);
	create_idle(&h, "sup", "SUPERSEDED", cmds, NULL);
	char *a = th_start(&h, "sup");
	usleep(300000);
	char *b = th_start(&h, "sup");
	char *c = th_start(&h, "sup");
	th_wait(&h, "sup", b, "Superseded");
	th_sh("touch %s", flag);
	th_wait(&h, "sup", a, "Succeeded");
	th_wait(&h, "sup", c, "Succeeded");
	free(a);
	free(b);
	free(c);
	free(cmds);
	free(flag);
	th_close(&h);
}

/* QUEUED: nothing is superseded; executions run one by one in arrival order. */
static void queued_mode_runs_every_execution_in_order(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	char *order = fs_join(h.dir, "order");
	char *cmds = xasprintf("            - echo $EXEC >> %s\n            - sleep 0.2\n", order);
	create_idle(&h, "q", "QUEUED", cmds, NULL);
	char *ids[3];
	for (int i = 0; i < 3; i++)
		ids[i] = th_start(&h, "q");
	for (int i = 0; i < 3; i++)
		th_wait(&h, "q", ids[i], "Succeeded");
	char *got = tu_read(h.dir, "order");
	char *want = xasprintf("%s\n%s\n%s\n", ids[0], ids[1], ids[2]);
	assert_string_equal(got, want);
	for (int i = 0; i < 3; i++)
		free(ids[i]);
	free(got);
	free(want);
	free(cmds);
	free(order);
	th_close(&h);
}

/* PARALLEL: executions do not wait for each other: two builds run at the same time. */
static void parallel_mode_runs_executions_side_by_side(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 4);
	char *cmds = meet_commands(&h, "$EXEC");
	create_idle(&h, "par", "PARALLEL", cmds, NULL);
	char *a = th_start(&h, "par");
	char *b = th_start(&h, "par");
	th_wait(&h, "par", a, "Succeeded");
	th_wait(&h, "par", b, "Succeeded");
	free(a);
	free(b);
	free(cmds);
	th_close(&h);
}

/* runOrder: actions with equal runOrder run together; a higher runOrder waits. */
static void equal_run_order_runs_in_parallel_and_higher_waits(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 4);
	char *cmds = meet_commands(&h, "$CODEBUILD_BUILD_ID");
	/* a second build at runOrder 1 and a check at runOrder 2 that both ran first */
	char *extra = xasprintf(
	        "        - name: Build2\n"
	        "          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, "
	        "version: '1'}\n"
	        "          configuration: {ProjectName: site}\n"
	        "          inputArtifacts: [{name: SourceOut}]\n"
	        "        - name: After\n"
	        "          runOrder: 2\n"
	        "          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, "
	        "version: '1'}\n"
	        "          configuration: {ProjectName: site}\n"
	        "          inputArtifacts: [{name: SourceOut}]\n");
	create_idle(&h, "ro", "SUPERSEDED", cmds, extra);
	char *a = th_start(&h, "ro");
	th_wait(&h, "ro", a, "Succeeded");
	json_t *arr = th_actions(&h, "ro", a);
	double after_start = 0, first_end = 0;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "actionName"));
		double s = json_real_value(json_object_get(v, "startTime"));
		double u = json_real_value(json_object_get(v, "lastUpdateTime"));
		if (!strcmp(name, "After"))
			after_start = s;
		else if ((!strcmp(name, "Build") || !strcmp(name, "Build2")) && u > first_end)
			first_end = u;
	}
	assert_true(after_start > 0);
	assert_true(after_start >= first_end);
	json_decref(arr);
	free(a);
	free(extra);
	free(cmds);
	th_close(&h);
}

/* A failed stage can be retried (FAILED_ACTIONS): the execution goes on and succeeds;
 * retrying a succeeded stage is refused. */
static void retry_of_a_failed_stage_resumes_the_execution(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	char *flag = fs_join(h.dir, "fixed");
	char *cmds = xasprintf("            - test -e %s\n", flag);
	create_idle(&h, "rt", "SUPERSEDED", cmds, NULL);
	char *a = th_start(&h, "rt");
	th_wait(&h, "rt", a, "Failed");
	struct th_op o = {.text = "rt", .a = "Source", .b = a, .c = "FAILED_ACTIONS"};
	th_call(&h, th_do_retry, &o);
	assert_int_equal(o.rc, ENGINE_ECONFLICT); /* Source succeeded */
	th_sh("touch %s", flag);
	struct th_op r = {.text = "rt", .a = "Build", .b = a, .c = "FAILED_ACTIONS"};
	th_call(&h, th_do_retry, &r);
	if (r.rc != 0)
		fail_msg("retry: %s", r.err.err.msg);
	th_wait(&h, "rt", a, "Succeeded");
	/* the history keeps both build attempts */
	json_t *details = th_actions(&h, "rt", a), *v;
	int builds = 0;
	size_t i;
	json_array_foreach(details, i, v) builds +=
	        !strcmp(json_string_value(json_object_get(v, "actionName")), "Build");
	assert_int_equal(builds, 2);
	json_decref(details);
	free(a);
	free(cmds);
	free(flag);
	th_close(&h);
}

/* Stop and abandon: the running build is killed, the action Abandoned, the execution
 * Stopped; a second abandon is a duplicated stop request. */
static void stop_and_abandon_kills_the_running_build(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	create_idle(&h, "st", "SUPERSEDED", "            - sleep 60\n", NULL);
	char *a = th_start(&h, "st");
	th_wait_running(&h, "st", a, "Build");
	int64_t t0 = mono_ms();
	struct th_op s = {.text = "st", .a = a, .flag = 1};
	th_call(&h, th_do_stop, &s);
	assert_int_equal(s.rc, 0);
	th_wait(&h, "st", a, "Stopped");
	assert_true(mono_ms() - t0 < 20000);
	th_call(&h, th_do_stop, &s);
	assert_int_equal(s.rc, ENGINE_ECONFLICT);
	json_t *details = th_actions(&h, "st", a);
	json_t *first = json_array_get(details, 0);
	assert_string_equal(json_string_value(json_object_get(first, "actionName")), "Build");
	assert_string_equal(json_string_value(json_object_get(first, "status")), "Abandoned");
	json_decref(details);
	free(a);
	th_close(&h);
}

/* A disabled inbound transition holds executions in front of the stage; enabling it
 * lets the waiting one in. */
static void disabled_transition_holds_the_execution_until_enabled(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	create_idle(&h, "tr", "SUPERSEDED", "            - true\n", NULL);
	struct th_op d = {.text = "tr", .a = "Build", .flag = 0};
	th_call(&h, th_do_transition, &d);
	assert_int_equal(d.rc, 0);
	char *a = th_start(&h, "tr");
	/* it finishes Source, then waits */
	int waiting = 0;
	for (int i = 0; i < 500 && !waiting; i++) {
		struct th_op o = {.text = "tr"};
		th_call(&h, th_do_state, &o);
		json_t *b = json_array_get(json_object_get(o.out, "stageStates"), 1);
		json_t *in = json_object_get(b, "inboundExecution");
		waiting = in &&
		          !strcmp(json_string_value(json_object_get(in, "pipelineExecutionId")), a);
		if (waiting)
			assert_false(json_is_true(json_object_get(
			        json_object_get(b, "inboundTransitionState"), "enabled")));
		json_decref(o.out);
		usleep(20000);
	}
	assert_true(waiting);
	char *s = th_status(&h, "tr", a);
	assert_string_equal(s, "InProgress");
	free(s);
	struct th_op en = {.text = "tr", .a = "Build", .flag = 1};
	th_call(&h, th_do_transition, &en);
	th_wait(&h, "tr", a, "Succeeded");
	free(a);
	th_close(&h);
}

/* Pushes: to main starts an execution with the pushed commit; to another branch
 * starts nothing, and says why in the trigger events; a replayed delivery id is a
 * duplicate. */
static void pushes_start_only_what_matches_and_replays_are_ignored(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	create_idle(&h, "pu", "QUEUED", "            - true\n", NULL);
	th_commit(&h, "docs/a.md", "x", "main");
	char sha[64];
	th_head(&h, sha);
	struct th_op p = {.push = {.source = "webhook",
	                           .pipeline = "pu",
	                           .repo = "site",
	                           .delivery = "d-1",
	                           .ref = "refs/heads/main",
	                           .before = "0000000000000000000000000000000000000000",
	                           .after = sha}};
	char *id = th_push(&h, &p, "started", NULL);
	th_wait(&h, "pu", id, "Succeeded");
	/* the same delivery again */
	th_push(&h, &p, "duplicate", NULL);
	/* another branch */
	p.push.delivery = "d-2";
	p.push.ref = "refs/heads/dev";
	th_push(&h, &p, "filtered", "dev");
	assert_int_equal(th_count(&h, "pu"), 1);
	struct th_op t = {.text = "pu"};
	th_call(&h, th_do_triggers, &t);
	assert_int_equal(json_array_size(json_object_get(t.out, "triggerEvents")), 3);
	json_decref(t.out);
	free(id);
	th_close(&h);
}

/* A monorepo trigger (branches + filePaths) starts the pipeline only for pushes that
 * change a matching path; the changed paths come from git (before..after). */
static void monorepo_path_filter_builds_only_matching_changes(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	char *text =
	        xasprintf("pipeline:\n"
	                  "  name: mono\n"
	                  "  pipelineType: V2\n"
	                  "  triggers:\n"
	                  "    - providerType: CodeStarSourceConnection\n"
	                  "      gitConfiguration:\n"
	                  "        sourceActionName: Src\n"
	                  "        push: [{branches: {includes: [main]}, filePaths: {includes: "
	                  "['app/**']}}]\n"
	                  "  stages:\n"
	                  "    - name: Source\n"
	                  "      actions:\n"
	                  "        - name: Src\n"
	                  "          actionTypeId: {category: Source, owner: AWS, provider: "
	                  "CodeStarSourceConnection, version: '1'}\n"
	                  "          configuration: {ConnectionArn: "
	                  "'arn:aws:codeconnections:local:0:connection/x',"
	                  " FullRepositoryId: acme/mono, BranchName: main, RepositoryUrl: '%s'}\n"
	                  "          outputArtifacts: [{name: S}]\n"
	                  "    - name: Build\n"
	                  "      actions:\n"
	                  "        - name: Build\n"
	                  "          actionTypeId: {category: Build, owner: AWS, provider: "
	                  "CodeBuild, version: "
	                  "'1'}\n"
	                  "          configuration: {ProjectName: app}\n"
	                  "          inputArtifacts: [{name: S}]\n"
	                  "projects:\n"
	                  "  app:\n"
	                  "    buildspec: |\n"
	                  "      version: 0.2\n"
	                  "      phases: {build: {commands: [test -f app/main.c]}}\n",
	                  h.repo);
	th_create(&h, text, 1);
	char before[64], after[64];
	th_head(&h, before);
	th_commit(&h, "docs/readme.md", "words", "main");
	th_head(&h, after);
	struct th_op p = {.push = {.source = "hook",
	                           .repo = h.repo,
	                           .ref = "refs/heads/main",
	                           .before = before,
	                           .after = after}};
	th_push(&h, &p, "filtered", "app/**");
	assert_int_equal(th_count(&h, "mono"), 0);

	memcpy(before, after, sizeof before);
	th_commit(&h, "app/main.c", "int main(void){return 0;}", "main");
	th_head(&h, after);
	char *id = th_push(&h, &p, "started", NULL);
	th_wait(&h, "mono", id, "Succeeded");
	/* the execution built the pushed commit */
	th_revision_is(&h, "mono", id, after);
	free(id);
	free(text);
	th_close(&h);
}

/* A remote URL source is polled: a new commit on its branch starts an execution
 * (trigger PollForSourceChanges); the first poll only records the head. */
static void polling_a_url_source_starts_on_a_new_commit(void **state)
{
	(void)state;
	setenv("FERRY_POLL_INTERVAL_MS", "100", 1);
	struct th h;
	th_open(&h, 0);
	unsetenv("FERRY_POLL_INTERVAL_MS");
	char *url = xasprintf("file://%s", h.repo);
	char *text = pipeline_text("poll", url, "QUEUED", "            - true\n", NULL);
	/* pipeline_text turns polling off: this one polls */
	char *p = strstr(text, "PollForSourceChanges: 'false'");
	assert_non_null(p);
	memcpy(p, "PollForSourceChanges: 'true' ", strlen("PollForSourceChanges: 'false'"));
	th_create(&h, text, 1);
	usleep(500000); /* a few polls: the head is recorded, nothing starts */
	assert_int_equal(th_count(&h, "poll"), 0);
	th_commit(&h, "new.txt", "news", "main");
	char head[64];
	th_head(&h, head);
	char *id = NULL;
	for (int i = 0; i < 500 && !id; i++) {
		id = th_latest(&h, "poll", 0);
		if (!id)
			usleep(20000);
	}
	assert_non_null(id);
	th_wait(&h, "poll", id, "Succeeded");
	json_t *pe = th_execution(&h, "poll", id);
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(pe, "trigger"), "triggerType")),
	        "PollForSourceChanges");
	json_decref(pe);
	th_revision_is(&h, "poll", id, head);
	free(id);
	free(url);
	free(text);
	th_close(&h);
}

/* Retention: only the artifacts of the newest finished executions are kept; older
 * ones' files and rows go, their history stays. */
static void artifacts_of_old_executions_are_deleted(void **state)
{
	(void)state;
	th_keep_artifacts = 1;
	struct th h;
	th_open(&h, 0);
	th_keep_artifacts = 0;
	create_idle(&h, "ret", "QUEUED", "            - true\n", NULL);
	char *a = th_start(&h, "ret");
	th_wait(&h, "ret", a, "Succeeded");
	char *dir_a = xasprintf("%s/artifacts/ret/%s", h.data, a);
	assert_true(fs_is_dir(dir_a));
	char *b = th_start(&h, "ret");
	th_wait(&h, "ret", b, "Succeeded");
	char *dir_b = xasprintf("%s/artifacts/ret/%s", h.data, b);
	/* the engine deletes right after the execution ends; give it a moment */
	for (int i = 0; i < 100 && fs_exists(dir_a); i++)
		usleep(20000);
	assert_false(fs_exists(dir_a));
	assert_true(fs_is_dir(dir_b));
	assert_int_equal(th_count(&h, "ret"), 2);
	free(dir_a);
	free(dir_b);
	free(a);
	free(b);
	th_close(&h);
}

/* Source → Approve (Manual) → Build. */
static void create_with_approval(struct th *h, const char *name, const char *timeout)
{
	char *text = xasprintf(
	        "pipeline:\n"
	        "  name: %s\n"
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
	        "        - name: Ok\n"
	        "          actionTypeId: {category: Approval, owner: AWS, provider: Manual, "
	        "version: '1'}\n"
	        "          configuration: {CustomData: 'ship #{SourceVariables.CommitId}?', "
	        "ExternalEntityLink: 'http://127.0.0.1/review'}\n"
	        "%s"
	        "    - name: Build\n"
	        "      actions:\n"
	        "        - name: Build\n"
	        "          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, "
	        "version: '1'}\n"
	        "          configuration: {ProjectName: pp}\n"
	        "          inputArtifacts: [{name: S}]\n"
	        "projects:\n"
	        "  pp:\n"
	        "    buildspec: |\n"
	        "      version: 0.2\n"
	        "      phases: {build: {commands: ['true']}}\n",
	        name, h->repo, timeout ? timeout : "");
	th_create(h, text, 1);
	free(text);
}

/* The approval token of the waiting approval, from GetPipelineState (NULL: none). */
static char *waiting_token(struct th *h, const char *name)
{
	for (int i = 0; i < 500; i++) {
		struct th_op o = {.text = name};
		th_call(h, th_do_state, &o);
		json_t *ok = json_array_get(
		        json_object_get(json_array_get(json_object_get(o.out, "stageStates"), 1),
		                        "actionStates"),
		        0);
		const char *t = json_string_value(
		        json_object_get(json_object_get(ok, "latestExecution"), "token"));
		char *token = t ? xstrdup(t) : NULL;
		json_decref(o.out);
		if (token)
			return token;
		usleep(20000);
	}
	return NULL;
}

/* Manual approval: the execution waits with a token; a wrong token is refused; the
 * approval lets it go on; a second answer is refused; the resolved CustomData is
 * what the reviewer is shown. */
static void approval_waits_for_an_answer_then_goes_on(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	create_with_approval(&h, "ap", NULL);
	char *id = th_start(&h, "ap");
	char *token = waiting_token(&h, "ap");
	assert_non_null(token);
	char *s = th_status(&h, "ap", id);
	assert_string_equal(s, "InProgress");
	free(s);
	struct th_op bad = {.text = "ap", .a = "not-a-token", .b = "Approved", .c = "fine"};
	th_call(&h, th_do_approval, &bad);
	assert_int_equal(bad.rc, ENGINE_EINVALID);
	assert_string_equal(bad.err.type, "InvalidApprovalTokenException");
	struct th_op ok = {.text = "ap", .a = token, .b = "Approved", .c = "looks good"};
	th_call(&h, th_do_approval, &ok);
	assert_int_equal(ok.rc, 0);
	json_decref(ok.out);
	th_wait(&h, "ap", id, "Succeeded");
	th_call(&h, th_do_approval, &ok);
	if (ok.rc != ENGINE_ECONFLICT)
		fail_msg("second answer: %d %s", ok.rc, ok.err.err.msg);
	/* what the reviewer saw, and what they said */
	json_t *acts = th_actions(&h, "ap", id);
	int seen = 0;
	size_t i;
	json_t *v;
	json_array_foreach(acts, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "actionName")), "Ok"))
			continue;
		seen = 1;
		const char *custom = json_string_value(json_object_get(
		        json_object_get(json_object_get(v, "input"), "resolvedConfiguration"),
		        "CustomData"));
		assert_non_null(custom);
		assert_non_null(strstr(custom, "ship "));
		assert_null(strstr(custom, "#{"));
		assert_string_equal(
		        json_string_value(json_object_get(
		                json_object_get(json_object_get(v, "output"), "executionResult"),
		                "externalExecutionSummary")),
		        "looks good");
	}
	assert_true(seen);
	json_decref(acts);
	free(token);
	free(id);
	th_close(&h);
}

/* Rejected: the approval fails with the reviewer's comment, and so does the execution;
 * a waiting approval also survives a restart of the daemon. */
static void rejected_approval_fails_the_execution_and_waits_survive_restarts(void **state)
{
	(void)state;
	struct th h;
	th_open(&h, 0);
	create_with_approval(&h, "rj", NULL);
	char *id = th_start(&h, "rj");
	char *token = waiting_token(&h, "rj");
	assert_non_null(token);
	th_restart(&h);
	char *again = waiting_token(&h, "rj");
	assert_non_null(again);
	assert_string_equal(again, token);
	struct th_op no = {.text = "rj", .a = token, .b = "Rejected", .c = "not this one"};
	th_call(&h, th_do_approval, &no);
	assert_int_equal(no.rc, 0);
	json_decref(no.out);
	th_wait(&h, "rj", id, "Failed");
	json_t *x = th_execution(&h, "rj", id);
	const char *summary = json_string_value(json_object_get(x, "statusSummary"));
	assert_non_null(strstr(summary, "not this one"));
	json_decref(x);
	free(again);
	free(token);
	free(id);
	th_close(&h);
}

/* An approval nobody answers fails at its time limit (timeoutInMinutes; a minute is
 * 20 ms in this test). */
static void unanswered_approval_fails_at_its_time_limit(void **state)
{
	(void)state;
	th_approval_minute_ms = 20;
	struct th h;
	th_open(&h, 0);
	th_approval_minute_ms = 0;
	create_with_approval(&h, "to", "          timeoutInMinutes: 5\n");
	char *id = th_start(&h, "to");
	th_wait(&h, "to", id, "Failed");
	json_t *x = th_execution(&h, "to", id);
	const char *summary = json_string_value(json_object_get(x, "statusSummary"));
	assert_non_null(strstr(summary, "not answered within 5 minutes"));
	json_decref(x);
	free(id);
	th_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(create_runs_source_then_build_with_variables),
	        cmocka_unit_test(superseded_mode_replaces_the_waiting_execution),
	        cmocka_unit_test(queued_mode_runs_every_execution_in_order),
	        cmocka_unit_test(parallel_mode_runs_executions_side_by_side),
	        cmocka_unit_test(equal_run_order_runs_in_parallel_and_higher_waits),
	        cmocka_unit_test(retry_of_a_failed_stage_resumes_the_execution),
	        cmocka_unit_test(stop_and_abandon_kills_the_running_build),
	        cmocka_unit_test(disabled_transition_holds_the_execution_until_enabled),
	        cmocka_unit_test(pushes_start_only_what_matches_and_replays_are_ignored),
	        cmocka_unit_test(monorepo_path_filter_builds_only_matching_changes),
	        cmocka_unit_test(polling_a_url_source_starts_on_a_new_commit),
	        cmocka_unit_test(artifacts_of_old_executions_are_deleted),
	        cmocka_unit_test(approval_waits_for_an_answer_then_goes_on),
	        cmocka_unit_test(rejected_approval_fails_the_execution_and_waits_survive_restarts),
	        cmocka_unit_test(unanswered_approval_fails_at_its_time_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
