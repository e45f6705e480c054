/* Unit tests for the git source action (`ferry __action`, kind source_git):
 * ../shared/spec/pipeline.md §3.3 (variables), §4.2 (CODE_ZIP), §4.3 (clone ref). */
#include "test_actions.h"

struct fixture {
	char *root;
	char *repo; /* a work tree repository with a first commit */
	char *job;  /* the job directory */
	char *out;  /* where the output artifact goes */
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->root = tu_mkdtemp();
	const char *files[] = {
	        "a.txt", "alpha\n", "sub/b.txt", "beta\n", "run.sh", "#!/bin/sh\necho run\n", NULL};
	f->repo = ta_repo(f->root, "site", files);
	char *script = fs_join(f->repo, "run.sh");
	char *link = fs_join(f->repo, "link");
	assert_int_equal(chmod(script, 0755), 0);
	assert_int_equal(symlink("a.txt", link), 0);
	free(script);
	free(link);
	free(ta_commit(f->repo, "add a script and a link\n\nsecond line"));
	f->job = fs_join(f->root, "job");
	f->out = fs_join(f->root, "artifacts/SourceArti.zip");
	struct err err;
	char *dir = fs_join(f->root, "artifacts");
	assert_int_equal(fs_mkdir_p(dir, 0755, &err), 0);
	assert_int_equal(fs_mkdir_p(f->job, 0755, &err), 0);
	free(dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->repo);
	free(f->job);
	free(f->out);
	tu_rmdir(f->root);
	free(f);
	return 0;
}

/* A source job for `location`; `extra` is added inside "source" (leading comma). */
static json_t *run_source(struct fixture *f, const char *location, const char *branch,
                          const char *extra)
{
	char *job = xasprintf(
	        "{\"kind\": \"source_git\", \"pipeline\": \"site\", \"executionId\": \"e1\","
	        " \"stage\": \"Source\", \"action\": \"Source\", \"actionExecutionId\": \"a1\","
	        " \"dataDir\": \"%s/data\", \"workDir\": \"%s/work\", \"configuration\": {},"
	        " \"inputs\": [], \"outputs\": [{\"name\": \"SourceArtifact\", \"path\": \"%s\"}],"
	        " \"source\": {\"location\": \"%s\", \"repositoryName\": \"site\","
	        " \"branch\": \"%s\", \"commit\": null, \"cloneRef\": false,"
	        " \"connectionArn\": null, \"provider\": \"CodeCommit\","
	        " \"mirrorDir\": \"%s/mirrors/site.git\"%s}}",
	        f->root, f->job, f->out, location, branch, f->root, extra ? extra : "");
	json_t *res = ta_run_job(f->job, job);
	free(job);
	return res;
}

static void assert_succeeded(json_t *res)
{
	if (strcmp(ta_str(res, "status"), "Succeeded") != 0)
		fail_msg("action failed: %s", ta_str(res, "summary"));
}

/* CODE_ZIP: the commit's tree, without .git, executable bit and links kept (§4.2). */
static void test_code_zip_holds_the_tree_with_modes_and_links(void **state)
{
	struct fixture *f = *state;
	json_t *res = run_source(f, f->repo, "main", NULL);
	assert_succeeded(res);
	struct ta_zip z;
	ta_zip_read(f->out, &z);
	assert_int_equal(z.n, 4);
	const struct ta_entry *e = ta_zip_find(&z, "run.sh");
	assert_non_null(e);
	assert_int_equal(e->type, AE_IFREG);
	assert_int_equal(e->perm, 0755);
	e = ta_zip_find(&z, "a.txt");
	assert_int_equal(e->perm, 0644);
	assert_string_equal(e->data, "alpha\n");
	e = ta_zip_find(&z, "link");
	assert_non_null(e);
	assert_int_equal(e->type, AE_IFLNK);
	assert_string_equal(e->data, "a.txt");
	assert_string_equal(ta_zip_find(&z, "sub/b.txt")->data, "beta\n");
	for (size_t i = 0; i < z.n; i++)
		assert_null(strstr(z.e[i].name, ".git"));
	ta_zip_free(&z);
	json_decref(res);
}

/* Uncommitted files in a work tree are not part of the commit, so not of the zip. */
static void test_code_zip_ignores_uncommitted_files(void **state)
{
	struct fixture *f = *state;
	tu_write(f->repo, "scratch.txt", "not committed\n");
	tu_write(f->repo, "a.txt", "changed but not committed\n");
	json_t *res = run_source(f, f->repo, "main", NULL);
	assert_succeeded(res);
	struct ta_zip z;
	ta_zip_read(f->out, &z);
	assert_null(ta_zip_find(&z, "scratch.txt"));
	assert_string_equal(ta_zip_find(&z, "a.txt")->data, "alpha\n");
	ta_zip_free(&z);
	json_decref(res);
}

/* The CodeCommit variables of spec §3.3, the revision and the output's revision. */
static void test_source_variables_and_revision_name_the_commit(void **state)
{
	struct fixture *f = *state;
	char *head = ta_git_str(f->repo, "rev-parse", "HEAD");
	json_t *res = run_source(f, f->repo, "main", NULL);
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.CommitId"), head);
	assert_string_equal(ta_str(res, "outputVariables.CommitMessage"),
	                    "add a script and a link\n\nsecond line");
	assert_string_equal(ta_str(res, "outputVariables.BranchName"), "main");
	assert_string_equal(ta_str(res, "outputVariables.RepositoryName"), "site");
	assert_string_equal(ta_str(res, "outputVariables.AuthorDate"), TA_DATE);
	assert_string_equal(ta_str(res, "outputVariables.CommitterDate"), TA_DATE);
	assert_string_equal(ta_str(res, "outputVariables.AuthorEmail"), "author@example.com");
	assert_null(ta_str(res, "outputVariables.FullRepositoryName"));
	assert_string_equal(ta_str(res, "revision.revisionId"), head);
	assert_string_equal(ta_str(res, "revision.revisionSummary"), "add a script and a link");
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(res, "revision"), "created")),
	        TA_DATE_MS);
	assert_string_equal(ta_str(res, "externalExecutionId"), head);
	assert_string_equal(ta_str(res, "summary"), "add a script and a link");
	assert_string_equal(ta_str(res, "outputs.0.revision"), head);
	assert_string_equal(ta_str(res, "outputs.0.path"), f->out);
	assert_int_equal(strlen(ta_str(res, "outputs.0.sha256")), 64);
	struct stat st;
	assert_int_equal(stat(f->out, &st), 0);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_array_get(json_object_get(res, "outputs"), 0), "size")),
	                 st.st_size);
	assert_true(ta_logged(f->job, "\"add a script and a link\""));
	json_decref(res);
	free(head);
}

/* CodeStarSourceConnection emits FullRepositoryName and ConnectionArn (§3.3). */
static void test_codestar_source_emits_full_repository_name(void **state)
{
	struct fixture *f = *state;
	json_t *res = run_source(f, f->repo, "main",
	                         ", \"provider\": \"CodeStarSourceConnection\","
	                         " \"repositoryName\": \"acme/site\","
	                         " \"connectionArn\": \"arn:aws:codestar-connections:x\"");
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.FullRepositoryName"), "acme/site");
	assert_string_equal(ta_str(res, "outputVariables.ConnectionArn"),
	                    "arn:aws:codestar-connections:x");
	assert_null(ta_str(res, "outputVariables.RepositoryName"));
	json_decref(res);
}

/* A branch the repository does not have fails the action, naming both. */
static void test_missing_branch_fails_naming_repository_and_branch(void **state)
{
	struct fixture *f = *state;
	json_t *res = run_source(f, f->repo, "release", NULL);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_string_equal(ta_str(res, "errorCode"), "JobFailed");
	const char *summary = ta_str(res, "summary");
	assert_non_null(strstr(summary, "branch release not found"));
	assert_non_null(strstr(summary, f->repo));
	assert_int_equal(json_array_size(json_object_get(res, "outputs")), 0);
	assert_false(fs_exists(f->out));
	json_decref(res);
}

/* A commit in the job wins over the branch head (a retry rebuilds the same commit). */
static void test_commit_in_the_job_wins_over_the_branch_head(void **state)
{
	struct fixture *f = *state;
	char *first = ta_git_str(f->repo, "rev-parse", "HEAD~1");
	char *extra = xasprintf(", \"commit\": \"%s\"", first);
	json_t *res = run_source(f, f->repo, "main", extra);
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.CommitId"), first);
	struct ta_zip z;
	ta_zip_read(f->out, &z);
	assert_null(ta_zip_find(&z, "link"));
	ta_zip_free(&z);
	json_decref(res);
	free(extra);
	free(first);
}

/* A bare repository (what `git push` targets on a server) is read directly. */
static void test_bare_repository_is_read_directly(void **state)
{
	struct fixture *f = *state;
	char *bare = fs_join(f->root, "bare.git");
	ta_git(f->root, "clone", "-q", "--bare", f->repo, bare);
	json_t *res = run_source(f, bare, "main", NULL);
	assert_succeeded(res);
	struct ta_zip z;
	ta_zip_read(f->out, &z);
	assert_int_equal(z.n, 4);
	ta_zip_free(&z);
	json_decref(res);
	free(bare);
}

/* A URL is fetched into a bare mirror, created on first use and updated each run. */
static void test_url_is_fetched_into_a_mirror(void **state)
{
	struct fixture *f = *state;
	char *url = xasprintf("file://%s", f->repo);
	json_t *res = run_source(f, url, "main", NULL);
	assert_succeeded(res);
	char *mirror = fs_join(f->root, "mirrors/site.git");
	char *bare = ta_git_str(mirror, "rev-parse", "--is-bare-repository");
	assert_string_equal(bare, "true");
	json_decref(res);

	tu_write(f->repo, "new.txt", "new\n");
	char *head = ta_commit(f->repo, "a new file");
	res = run_source(f, url, "main", NULL);
	assert_succeeded(res);
	assert_string_equal(ta_str(res, "outputVariables.CommitId"), head);
	struct ta_zip z;
	ta_zip_read(f->out, &z);
	assert_non_null(ta_zip_find(&z, "new.txt"));
	ta_zip_free(&z);
	assert_true(ta_logged(f->job, "fetching"));
	json_decref(res);
	free(head);
	free(bare);
	free(mirror);
	free(url);
}

/* A branch deleted on the remote is gone from the mirror too: no stale build. */
static void test_branch_deleted_upstream_is_not_built_from_the_mirror(void **state)
{
	struct fixture *f = *state;
	char *url = xasprintf("file://%s", f->repo);
	ta_git(f->repo, "branch", "feature");
	json_t *res = run_source(f, url, "feature", NULL);
	assert_succeeded(res);
	json_decref(res);
	ta_git(f->repo, "branch", "-D", "feature");
	res = run_source(f, url, "feature", NULL);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_non_null(strstr(ta_str(res, "summary"), "branch feature not found"));
	json_decref(res);
	free(url);
}

/* CODEBUILD_CLONE_REF: the JSON of §4.3; a local path becomes a file:// URL. */
static void test_clone_ref_output_is_the_json_of_the_spec(void **state)
{
	struct fixture *f = *state;
	char *head = ta_git_str(f->repo, "rev-parse", "HEAD");
	json_t *res = run_source(f, f->repo, "main", ", \"cloneRef\": true");
	assert_succeeded(res);
	json_error_t je;
	json_t *ref = json_load_file(f->out, 0, &je);
	assert_non_null(ref);
	char *url = xasprintf("file://%s", f->repo);
	assert_string_equal(ta_str(ref, "CloneUrl"), url);
	assert_string_equal(ta_str(ref, "CommitId"), head);
	assert_string_equal(ta_str(ref, "BranchName"), "main");
	assert_string_equal(ta_str(ref, "FullRepositoryName"), "site");
	assert_non_null(ta_str(ref, "AccountId"));
	assert_string_equal(ta_str(res, "outputs.0.revision"), head);
	json_decref(ref);
	json_decref(res);
	free(url);
	free(head);
}

/* A job that cannot be understood still gets a result naming what is wrong. */
static void test_malformed_job_gets_a_failed_result_naming_the_field(void **state)
{
	struct fixture *f = *state;
	json_t *res = ta_run_job(f->job, "{\"kind\": \"source_git\", \"workDir\": \"/tmp/x\","
	                                 " \"outputs\": [{\"name\": \"S\"}]}");
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_string_equal(ta_str(res, "summary"),
	                    "job.json: outputs[0].path: expected a non-empty string");
	json_decref(res);
	res = ta_run_job(f->job, "{\"kind\": \"deploy_moon\", \"workDir\": \"/tmp/x\"}");
	assert_non_null(strstr(ta_str(res, "summary"), "\"deploy_moon\" is not an action"));
	json_decref(res);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_code_zip_holds_the_tree_with_modes_and_links),
	        T(test_code_zip_ignores_uncommitted_files),
	        T(test_source_variables_and_revision_name_the_commit),
	        T(test_codestar_source_emits_full_repository_name),
	        T(test_missing_branch_fails_naming_repository_and_branch),
	        T(test_commit_in_the_job_wins_over_the_branch_head),
	        T(test_bare_repository_is_read_directly),
	        T(test_url_is_fetched_into_a_mirror),
	        T(test_branch_deleted_upstream_is_not_built_from_the_mirror),
	        T(test_clone_ref_output_is_the_json_of_the_spec),
	        T(test_malformed_job_gets_a_failed_result_naming_the_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
