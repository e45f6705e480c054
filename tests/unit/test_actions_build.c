/* Unit tests for the CodeBuild action (`ferry __action`, kind build):
 * ../shared/spec/pipeline.md §4.3 (inputs, outputs, EnvironmentVariables, clone ref),
 * §3.3 (exported variables). Builds run without the sandbox. */
#include "test_actions.h"

#include <signal.h>
#include <time.h>

#include "store/store.h"

struct fixture {
	char *root;
	char *job_dir;
	char *in;  /* input artifacts */
	char *out; /* output artifacts */
	json_t *job;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct err err;
	f->root = tu_mkdtemp();
	f->job_dir = fs_join(f->root, "job");
	f->in = fs_join(f->root, "in");
	f->out = fs_join(f->root, "out");
	assert_int_equal(fs_mkdir_p(f->job_dir, 0755, &err), 0);
	assert_int_equal(fs_mkdir_p(f->in, 0755, &err), 0);
	assert_int_equal(fs_mkdir_p(f->out, 0755, &err), 0);
	char *data = fs_join(f->root, "data");
	char *work = fs_join(f->job_dir, "work");
	f->job = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{}, s:[], s:[],"
	                   " s:{s:s, s:n, s:b, s:[], s:i, s:i}, s:b}",
	                   "kind", "build", "pipeline", "site", "executionId", "e1", "stage",
	                   "Build", "action", "Build", "actionExecutionId", "a1", "dataDir", data,
	                   "workDir", work, "configuration", "inputs", "outputs", "project", "name",
	                   "site", "buildspec", "buildspecInline", 1, "environmentVariables",
	                   "timeoutMinutes", 5, "buildNumber", 7, "sandbox", 0);
	assert_non_null(f->job);
	free(data);
	free(work);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	json_decref(f->job);
	free(f->job_dir);
	free(f->in);
	free(f->out);
	tu_rmdir(f->root);
	free(f);
	return 0;
}

static void set_buildspec(struct fixture *f, const char *text)
{
	json_object_set_new(json_object_get(f->job, "project"), "buildspec", json_string(text));
}

static void set_config(struct fixture *f, const char *key, const char *value)
{
	json_object_set_new(json_object_get(f->job, "configuration"), key, json_string(value));
}

/* An input zip of (name, content) pairs written under in/, added to the job. */
static void add_zip_input(struct fixture *f, const char *name, const char *revision,
                          const char *const *files)
{
	char *file = xasprintf("%s/%s.zip", f->in, name);
	ta_zip_write(file, files);
	json_array_append_new(json_object_get(f->job, "inputs"),
	                      json_pack("{s:s, s:s, s:o}", "name", name, "path", file, "revision",
	                                revision ? json_string(revision) : json_null()));
	free(file);
}

/* Adds an output; returns where the action must write it (caller frees). */
static char *add_output(struct fixture *f, const char *name)
{
	char *path = xasprintf("%s/%s.zip", f->out, name);
	json_array_append_new(json_object_get(f->job, "outputs"),
	                      json_pack("{s:s, s:s}", "name", name, "path", path));
	return path;
}

static json_t *run(struct fixture *f)
{
	char *text = json_dumps(f->job, 0);
	json_t *res = ta_run_job(f->job_dir, text);
	free(text);
	return res;
}

static void assert_succeeded(json_t *res)
{
	if (strcmp(ta_str(res, "status"), "Succeeded") != 0)
		fail_msg("action failed: %s", ta_str(res, "summary"));
}

static const char *const source_files[] = {"index.html", "<h1>hi</h1>\n", "*run.sh",
                                           "#!/bin/sh\necho built\n", NULL};

/* One output = the buildspec's primary artifact, at the path asked for; exported
 * variables become the action's output variables (§4.3, §3.3). */
static void test_artifact_lands_at_the_output_path_and_variables_are_exported(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	char *out = add_output(f, "BuildArtifact");
	set_buildspec(f, "version: 0.2\n"
	                 "env:\n"
	                 "  exported-variables: [VERSION]\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands:\n"
	                 "      - ./run.sh > out.txt\n"
	                 "      - export VERSION=1.2.$CODEBUILD_BUILD_NUMBER\n"
	                 "artifacts:\n"
	                 "  files: [out.txt, index.html]\n");
	json_t *res = run(f);
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.VERSION"), "1.2.7");
	assert_string_equal(ta_str(res, "outputs.0.name"), "BuildArtifact");
	assert_string_equal(ta_str(res, "outputs.0.path"), out);
	assert_null(ta_str(res, "outputs.0.revision"));
	assert_int_equal(strncmp(ta_str(res, "externalExecutionId"), "site:", 5), 0);
	struct ta_zip z;
	ta_zip_read(out, &z);
	assert_int_equal(z.n, 2);
	assert_string_equal(ta_zip_find(&z, "out.txt")->data, "built\n"); /* run.sh kept +x */
	ta_zip_free(&z);
	assert_true(ta_logged(f->job_dir, "Phase complete: BUILD State: SUCCEEDED"));
	json_decref(res);
	free(out);
}

/* PrimarySource picks CODEBUILD_SRC_DIR; the other input is CODEBUILD_SRC_DIR_<name>. */
static void test_secondary_input_is_beside_the_primary_with_its_variable(void **state)
{
	struct fixture *f = *state;
	const char *tools[] = {"tool.txt", "hammer\n", NULL};
	const char *main_files[] = {"main.txt", "primary\n", NULL};
	add_zip_input(f, "Tools", NULL, tools);
	add_zip_input(f, "Main", NULL, main_files);
	set_config(f, "PrimarySource", "Main");
	set_buildspec(f, "version: 0.2\n"
	                 "env:\n"
	                 "  exported-variables: [TOOL, PRIMARY]\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands:\n"
	                 "      - export TOOL=$(cat $CODEBUILD_SRC_DIR_Tools/tool.txt)\n"
	                 "      - export PRIMARY=$(cat main.txt)\n");
	json_t *res = run(f);
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.TOOL"), "hammer");
	assert_string_equal(ta_str(res, "outputVariables.PRIMARY"), "primary");
	json_decref(res);
}

/* A PrimarySource that names no input fails before anything runs. */
static void test_unknown_primary_source_fails_naming_it(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	set_config(f, "PrimarySource", "Nope");
	set_buildspec(f, "version: 0.2\nphases: {build: {commands: [true]}}\n");
	json_t *res = run(f);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_non_null(strstr(ta_str(res, "summary"), "PrimarySource: \"Nope\""));
	json_decref(res);
}

/* A failed build is Failed with CodeBuild's phase, code and message in the summary. */
static void test_failing_build_names_the_phase_in_the_summary(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	char *out = add_output(f, "BuildArtifact");
	set_buildspec(f, "version: 0.2\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands: [exit 3]\n"
	                 "artifacts:\n"
	                 "  files: ['**/*']\n");
	json_t *res = run(f);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_string_equal(ta_str(res, "errorCode"), "JobFailed");
	const char *summary = ta_str(res, "summary");
	const char *want = "Build failed in phase BUILD: COMMAND_EXECUTION_ERROR: Error while "
	                   "executing command: exit 3";
	if (strncmp(summary, want, strlen(want)) != 0)
		fail_msg("summary: %s", summary);
	assert_non_null(ta_str(res, "externalExecutionId"));
	assert_int_equal(json_array_size(json_object_get(res, "outputs")), 0);
	assert_false(fs_exists(out));
	json_decref(res);
	free(out);
}

/* Several outputs are the secondary artifacts whose identifiers are their names. */
static void test_several_outputs_are_secondary_artifacts_by_name(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	char *web = add_output(f, "Web");
	char *api = add_output(f, "Api");
	set_buildspec(f, "version: 0.2\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands: [echo w > web.txt, echo a > api.txt]\n"
	                 "artifacts:\n"
	                 "  files: [index.html]\n"
	                 "  secondary-artifacts:\n"
	                 "    Web: {files: [web.txt]}\n"
	                 "    Api: {files: [api.txt]}\n");
	json_t *res = run(f);
	assert_succeeded(res);
	struct ta_zip z;
	ta_zip_read(web, &z);
	assert_int_equal(z.n, 1);
	assert_string_equal(z.e[0].name, "web.txt");
	ta_zip_free(&z);
	ta_zip_read(api, &z);
	assert_int_equal(z.n, 1);
	assert_string_equal(z.e[0].name, "api.txt");
	ta_zip_free(&z);
	assert_string_equal(ta_str(res, "outputs.1.name"), "Api");
	json_decref(res);
	free(web);
	free(api);
}

/* An output the buildspec makes no artifact for fails the action, naming it. */
static void test_missing_output_artifact_fails_naming_it(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	char *web = add_output(f, "Web");
	char *docs = add_output(f, "Docs");
	set_buildspec(f, "version: 0.2\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands: [echo w > web.txt]\n"
	                 "artifacts:\n"
	                 "  files: [index.html]\n"
	                 "  secondary-artifacts:\n"
	                 "    Web: {files: [web.txt]}\n");
	json_t *res = run(f);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_non_null(strstr(ta_str(res, "summary"), "output artifact Docs"));
	json_decref(res);
	free(web);
	free(docs);
}

/* The action's EnvironmentVariables win over the project's (engine.md, §4.3). */
static void test_action_variables_win_over_the_project(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	json_t *env = json_object_get(json_object_get(f->job, "project"), "environmentVariables");
	json_array_append_new(env, json_pack("{s:s,s:s,s:s}", "name", "X", "value", "project",
	                                     "type", "PLAINTEXT"));
	json_array_append_new(env, json_pack("{s:s,s:s,s:s}", "name", "Y", "value", "project",
	                                     "type", "PLAINTEXT"));
	set_config(f, "EnvironmentVariables", "[{\"name\": \"X\", \"value\": \"action\"}]");
	set_buildspec(f, "version: 0.2\n"
	                 "env:\n"
	                 "  variables: {X: buildspec, Y: buildspec}\n"
	                 "  exported-variables: [X, Y, INIT]\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands: [export INIT=$CODEBUILD_INITIATOR]\n");
	json_t *res = run(f);
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.X"), "action");
	assert_string_equal(ta_str(res, "outputVariables.Y"), "project");
	assert_string_equal(ta_str(res, "outputVariables.INIT"), "codepipeline/site");
	json_decref(res);
}

/* A variable type CodeBuild does not have fails the action, naming the field. */
static void test_unknown_variable_type_fails_naming_the_field(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	set_config(f, "EnvironmentVariables",
	           "[{\"name\": \"X\", \"value\": \"v\", \"type\": \"VAULT\"}]");
	set_buildspec(f, "version: 0.2\nphases: {build: {commands: [true]}}\n");
	json_t *res = run(f);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_non_null(
	        strstr(ta_str(res, "summary"), "configuration.EnvironmentVariables[0].type"));
	json_decref(res);
}

/* PARAMETER_STORE values come from ferry's secrets, are masked in the log and never
 * exported, and what contains them is masked in output variables. */
static void test_secret_variables_are_masked_and_not_exported(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct err err;
	char *data = fs_join(f->root, "data");
	assert_int_equal(store_open(data, &st, &err), 0);
	assert_int_equal(store_secret_set(st, "/ci/token", "s3cr3t-value", 12, &err), 0);
	store_close(st);
	free(data);
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	json_t *env = json_object_get(json_object_get(f->job, "project"), "environmentVariables");
	json_array_append_new(env, json_pack("{s:s,s:s,s:s}", "name", "TOKEN", "value", "/ci/token",
	                                     "type", "PARAMETER_STORE"));
	set_buildspec(f, "version: 0.2\n"
	                 "env:\n"
	                 "  exported-variables: [TOKEN, WRAPPED]\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands:\n"
	                 "      - echo \"token=$TOKEN\"\n"
	                 "      - export WRAPPED=\"x-$TOKEN\"\n");
	json_t *res = run(f);
	assert_succeeded(res);
	assert_null(ta_str(res, "outputVariables.TOKEN"));
	assert_string_equal(ta_str(res, "outputVariables.WRAPPED"), "x-***");
	assert_true(ta_logged(f->job_dir, "token=***"));
	assert_false(ta_logged(f->job_dir, "s3cr3t-value"));
	char *result = tu_read(f->job_dir, "result.json");
	assert_null(strstr(result, "s3cr3t-value"));
	free(result);
	json_decref(res);
}

/* CODEBUILD_RESOLVED_SOURCE_VERSION and CODEBUILD_SOURCE_VERSION: the input's revision. */
static void test_source_version_is_the_primary_input_revision(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", "0123456789abcdef0123456789abcdef01234567",
	              source_files);
	set_buildspec(f, "version: 0.2\n"
	                 "env:\n"
	                 "  exported-variables: [R, S]\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands:\n"
	                 "      - export R=$CODEBUILD_RESOLVED_SOURCE_VERSION\n"
	                 "      - export S=$CODEBUILD_SOURCE_VERSION\n");
	json_t *res = run(f);
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.R"),
	                    "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(ta_str(res, "outputVariables.S"),
	                    "0123456789abcdef0123456789abcdef01234567");
	json_decref(res);
}

/* A CODEBUILD_CLONE_REF input is cloned with its history, checked out at CommitId. */
static void test_clone_ref_input_is_cloned_at_its_commit(void **state)
{
	struct fixture *f = *state;
	const char *files[] = {"v.txt", "one\n", NULL};
	char *repo = ta_repo(f->root, "repo", files);
	tu_write(repo, "v.txt", "two\n");
	char *second = ta_commit(repo, "second");
	tu_write(repo, "v.txt", "three\n");
	free(ta_commit(repo, "third"));
	char *ref = xasprintf("{\"AccountId\": \"000000000000\", \"FullRepositoryName\": "
	                      "\"repo\", \"CloneUrl\": \"file://%s\", \"CommitId\": \"%s\", "
	                      "\"BranchName\": \"main\"}",
	                      repo, second);
	tu_write(f->in, "ref.json", ref);
	char *path = fs_join(f->in, "ref.json");
	json_array_append_new(
	        json_object_get(f->job, "inputs"),
	        json_pack("{s:s, s:s, s:n}", "name", "SourceArtifact", "path", path, "revision"));
	set_buildspec(f, "version: 0.2\n"
	                 "env:\n"
	                 "  exported-variables: [V, HEAD_ID, COUNT, R]\n"
	                 "phases:\n"
	                 "  build:\n"
	                 "    commands:\n"
	                 "      - export V=$(cat v.txt)\n"
	                 "      - export HEAD_ID=$(git rev-parse HEAD)\n"
	                 "      - export COUNT=$(git rev-list --count main)\n"
	                 "      - export R=$CODEBUILD_RESOLVED_SOURCE_VERSION\n");
	json_t *res = run(f);
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.V"), "two");
	assert_string_equal(ta_str(res, "outputVariables.HEAD_ID"), second);
	assert_string_equal(ta_str(res, "outputVariables.COUNT"), "2");
	assert_string_equal(ta_str(res, "outputVariables.R"), second);
	json_decref(res);
	free(path);
	free(ref);
	free(second);
	free(repo);
}

/* A zip member that climbs out of the tree stops the action; nothing lands outside. */
static void test_zip_member_leaving_the_tree_fails_the_action(void **state)
{
	struct fixture *f = *state;
	const char *evil[] = {"ok.txt", "fine\n", "../escaped.txt", "gotcha\n", NULL};
	add_zip_input(f, "SourceArtifact", NULL, evil);
	set_buildspec(f, "version: 0.2\nphases: {build: {commands: [true]}}\n");
	json_t *res = run(f);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_non_null(strstr(ta_str(res, "summary"), "../escaped.txt"));
	char *escaped = fs_join(f->job_dir, "work/escaped.txt");
	assert_false(fs_exists(escaped));
	free(escaped);
	json_decref(res);
}

/* SIGTERM stops the build: Failed, summary "stopped" (action.h). */
static void test_sigterm_stops_the_build(void **state)
{
	struct fixture *f = *state;
	add_zip_input(f, "SourceArtifact", NULL, source_files);
	set_buildspec(f, "version: 0.2\nphases: {build: {commands: [sleep 30]}}\n");
	timer_t t;
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGTERM};
	assert_int_equal(timer_create(CLOCK_MONOTONIC, &sev, &t), 0);
	struct itimerspec when = {.it_value = {.tv_sec = 1}};
	assert_int_equal(timer_settime(t, 0, &when, NULL), 0);
	time_t start = time(NULL);
	json_t *res = run(f);
	timer_delete(t);
	assert_true(time(NULL) - start < 20);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_string_equal(ta_str(res, "summary"), "stopped");
	json_decref(res);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_artifact_lands_at_the_output_path_and_variables_are_exported),
	        T(test_secondary_input_is_beside_the_primary_with_its_variable),
	        T(test_unknown_primary_source_fails_naming_it),
	        T(test_failing_build_names_the_phase_in_the_summary),
	        T(test_several_outputs_are_secondary_artifacts_by_name),
	        T(test_missing_output_artifact_fails_naming_it),
	        T(test_action_variables_win_over_the_project),
	        T(test_unknown_variable_type_fails_naming_the_field),
	        T(test_secret_variables_are_masked_and_not_exported),
	        T(test_source_version_is_the_primary_input_revision),
	        T(test_clone_ref_input_is_cloned_at_its_commit),
	        T(test_zip_member_leaving_the_tree_fails_the_action),
	        T(test_sigterm_stops_the_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
