/* Unit tests for store/jobs: the jobs of Invoke actions as the engine records them
 * (../shared/spec/pipeline.md §5): one row per round, the newest found per action,
 * only Created and InProgress jobs taking a result, rows gone with their execution. */
#include "store_testutil.h"

#include "store/executions.h"
#include "store/jobs.h"
#include "store/pipelines.h"

static int setup(void **state)
{
	tu_store_setup(state);
	struct store_fixture *f = *state;
	struct store_pipeline p = {.name = "web", .declaration = "{}"};
	struct store_exec x = {.id = "x1",
	                       .pipeline = "web",
	                       .version = 1,
	                       .seq = 1,
	                       .status = "InProgress",
	                       .trigger_type = "StartPipelineExecution",
	                       .variables = "[]",
	                       .started_ms = 1,
	                       .updated_ms = 1};
	struct err err;
	if (store_pipeline_save(f->st, &p, 0, &err) != 0 || store_exec_put(f->st, &x, &err) != 0)
		fail_msg("%s", err.msg);
	return 0;
}

static struct store_job job_row(const char *id, const char *action_id, int64_t created)
{
	return (struct store_job){.id = (char *)id,
	                          .action_execution_id = (char *)action_id,
	                          .execution_id = "x1",
	                          .pipeline = "web",
	                          .stage = "Invoke",
	                          .action = "Call",
	                          .function_name = "fn",
	                          .status = STORE_JOB_CREATED,
	                          .secret = "s3cret",
	                          .data = "{\"inputArtifacts\":[]}",
	                          .percent_complete = -1,
	                          .created_ms = created,
	                          .deadline_ms = created + 1000,
	                          .updated_ms = created};
}

/* A job is updated in place: its result (status, next token, secret gone) is what a
 * later read sees, and the newest round is the action's latest job (§5.4). */
static void test_rounds_and_results(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	struct store_job a = job_row("j1", "act", 10), b = job_row("j2", "act", 20);
	assert_int_equal(store_job_put(f->st, &a, &err), 0);
	assert_int_equal(store_job_put(f->st, &b, &err), 0);
	a.status = STORE_JOB_SUCCEEDED;
	a.next_token = "tok";
	a.secret = NULL;
	assert_int_equal(store_job_put(f->st, &a, &err), 0);
	struct store_job got;
	assert_int_equal(store_job_get(f->st, "j1", &got, &err), 0);
	assert_string_equal(got.status, "Succeeded");
	assert_string_equal(got.next_token, "tok");
	assert_null(got.secret);
	assert_false(store_job_is_open(got.status));
	store_job_free(&got);
	assert_int_equal(store_job_latest(f->st, "act", &got, &err), 0);
	assert_string_equal(got.id, "j2");
	assert_true(store_job_is_open(got.status));
	assert_string_equal(got.secret, "s3cret");
	assert_int_equal(got.deadline_ms, 1020);
	store_job_free(&got);
	struct store_job *rows = NULL;
	size_t n = 0;
	assert_int_equal(store_job_list(f->st, "act", &rows, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].id, "j1");
	store_job_list_free(rows, n);
	assert_int_equal(store_job_get(f->st, "nope", &got, &err), STORE_NOT_FOUND);
	assert_int_equal(store_job_latest(f->st, "other", &got, &err), STORE_NOT_FOUND);
}

/* A job needs its execution, and goes with it (pipeline deleted). */
static void test_jobs_belong_to_their_execution(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	struct store_job a = job_row("j1", "act", 10);
	a.execution_id = "missing";
	assert_int_equal(store_job_put(f->st, &a, &err), STORE_NOT_FOUND);
	a.execution_id = "x1";
	assert_int_equal(store_job_put(f->st, &a, &err), 0);
	assert_int_equal(store_pipeline_delete(f->st, "web", &err), 0);
	struct store_job got;
	assert_int_equal(store_job_get(f->st, "j1", &got, &err), STORE_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_rounds_and_results, setup, tu_store_teardown),
	        cmocka_unit_test_setup_teardown(test_jobs_belong_to_their_execution, setup,
	                                        tu_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
