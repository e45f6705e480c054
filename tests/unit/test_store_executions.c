/* Unit tests for store/executions: executions, stage and action executions and
 * artifacts as the engine stores them, and the orders the API lists them in. */
#include "store_testutil.h"

#include "store/executions.h"
#include "store/pipelines.h"

static void add_pipeline(struct store_fixture *f, const char *name)
{
	struct store_pipeline p = {.name = (char *)name, .declaration = "{}"};
	struct err err;
	if (store_pipeline_save(f->st, &p, 0, &err) != 0)
		fail_msg("store_pipeline_save: %s", err.msg);
}

static int setup(void **state)
{
	tu_store_setup(state);
	add_pipeline(*state, "web");
	add_pipeline(*state, "api");
	return 0;
}

/* An execution as the engine stores one at start; NULL optional fields. */
static struct store_exec exec_row(const char *id, const char *pipeline, int64_t seq,
                                  const char *status)
{
	return (struct store_exec){.id = (char *)id,
	                           .pipeline = (char *)pipeline,
	                           .version = 1,
	                           .seq = seq,
	                           .status = (char *)status,
	                           .trigger_type = "StartPipelineExecution",
	                           .variables = "[]",
	                           .started_ms = 1000 + seq,
	                           .updated_ms = 1000 + seq};
}

static int put_exec(struct store_fixture *f, const char *id, const char *pipeline, int64_t seq,
                    const char *status)
{
	struct store_exec e = exec_row(id, pipeline, seq, status);
	struct err err;
	int rc = store_exec_put(f->st, &e, &err);
	if (rc < 0)
		fail_msg("store_exec_put: %s", err.msg);
	return rc;
}

static void put_stage(struct store_fixture *f, const char *exec_id, const char *pipeline,
                      const char *stage, int64_t entered_seq, const char *status)
{
	struct store_stage s = {.execution_id = (char *)exec_id,
	                        .pipeline = (char *)pipeline,
	                        .stage = (char *)stage,
	                        .status = (char *)status,
	                        .attempt = 1,
	                        .min_attempt = 1,
	                        .entered_seq = entered_seq,
	                        .started_ms = entered_seq,
	                        .updated_ms = entered_seq};
	struct err err;
	if (store_stage_put(f->st, &s, &err) != 0)
		fail_msg("store_stage_put: %s", err.msg);
}

static void put_action(struct store_fixture *f, const char *id, const char *exec_id,
                       const char *pipeline, int64_t started_ms, const char *status)
{
	struct store_action a = {.id = (char *)id,
	                         .execution_id = (char *)exec_id,
	                         .pipeline = (char *)pipeline,
	                         .stage = "Build",
	                         .action = "Compile",
	                         .attempt = 1,
	                         .run_order = 1,
	                         .status = (char *)status,
	                         .started_ms = started_ms,
	                         .updated_ms = started_ms};
	struct err err;
	if (store_action_put(f->st, &a, &err) != 0)
		fail_msg("store_action_put: %s", err.msg);
}

/* Lists `pipeline`'s executions and writes their seqs as "5,4,3" into `out`. */
static void exec_seqs(struct store_fixture *f, const char *pipeline, int64_t before, int limit,
                      char *out, size_t outsz)
{
	struct store_exec *e;
	size_t n;
	struct err err;
	assert_int_equal(store_exec_list(f->st, pipeline, before, limit, &e, &n, &err), 0);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), outsz - strlen(out), "%s%lld", i ? "," : "",
		         (long long)e[i].seq);
	store_exec_list_free(e, n);
}

/* An execution comes back as stored; unset optional columns are NULL pointers. */
static void test_exec_round_trip(void **state)
{
	struct store_fixture *f = *state;
	struct store_exec e = exec_row("e1", "web", 1, "InProgress");
	e.stage = "Build";
	e.waiting = 1;
	e.wait_seq = 7;
	e.client_token = "tok-1";
	struct err err;
	assert_int_equal(store_exec_put(f->st, &e, &err), 0);

	struct store_exec got;
	assert_int_equal(store_exec_get(f->st, "e1", &got, &err), 0);
	assert_string_equal(got.id, "e1");
	assert_string_equal(got.pipeline, "web");
	assert_int_equal(got.seq, 1);
	assert_string_equal(got.status, "InProgress");
	assert_string_equal(got.stage, "Build");
	assert_int_equal(got.waiting, 1);
	assert_int_equal(got.wait_seq, 7);
	assert_string_equal(got.variables, "[]");
	assert_null(got.status_summary);
	assert_null(got.trigger_detail);
	assert_null(got.source_commit);
	assert_null(got.stop_mode);
	assert_null(got.stop_reason);
	store_exec_free(&got);

	assert_int_equal(store_exec_get(f->st, "nope", &got, &err), STORE_NOT_FOUND);
}

/* Updating an execution changes it in place and keeps its stages, actions and
 * artifacts (a delete-and-insert would cascade them away). */
static void test_exec_update_keeps_children(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(put_exec(f, "e1", "web", 1, "InProgress"), 0);
	put_stage(f, "e1", "web", "Source", 1, "Succeeded");
	put_action(f, "a1", "e1", "web", 10, "Succeeded");
	struct store_artifact art = {.execution_id = "e1",
	                             .name = "SourceOut",
	                             .path = "/a.zip",
	                             .sha256 = "ab",
	                             .size = 5,
	                             .action_execution_id = "a1"};
	assert_int_equal(store_artifact_put(f->st, &art, &err), 0);

	struct store_exec e = exec_row("e1", "web", 1, "Succeeded");
	e.status_summary = "done";
	assert_int_equal(store_exec_put(f->st, &e, &err), 0);

	struct store_exec got;
	assert_int_equal(store_exec_get(f->st, "e1", &got, &err), 0);
	assert_string_equal(got.status, "Succeeded");
	assert_string_equal(got.status_summary, "done");
	store_exec_free(&got);
	struct store_stage *s;
	size_t n;
	assert_int_equal(store_stage_list(f->st, "e1", &s, &n, &err), 0);
	assert_int_equal(n, 1);
	store_stage_list_free(s, n);
	struct store_action a;
	assert_int_equal(store_action_get(f->st, "a1", &a, &err), 0);
	store_action_free(&a);
	struct store_artifact *arts;
	assert_int_equal(store_artifact_list(f->st, "e1", &arts, &n, &err), 0);
	assert_int_equal(n, 1);
	store_artifact_list_free(arts, n);

	/* so does updating a stage row */
	put_stage(f, "e1", "web", "Source", 1, "Failed");
	assert_int_equal(store_action_get(f->st, "a1", &a, &err), 0);
	store_action_free(&a);
}

/* Two executions of one pipeline cannot share a seq; a missing pipeline is refused. */
static void test_exec_conflict_and_missing_pipeline(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(put_exec(f, "e1", "web", 1, "InProgress"), 0);
	assert_int_equal(put_exec(f, "e2", "web", 1, "InProgress"), STORE_CONFLICT);
	assert_int_equal(put_exec(f, "e3", "api", 1, "InProgress"), 0);
	assert_int_equal(put_exec(f, "e4", "ghost", 1, "InProgress"), STORE_NOT_FOUND);
	struct store_stage s = {
	        .execution_id = "nope", .pipeline = "web", .stage = "S", .status = "InProgress"};
	struct err err;
	assert_int_equal(store_stage_put(f->st, &s, &err), STORE_NOT_FOUND);
}

/* Newest first; before_seq pages back; limit <= 0 lists all. */
static void test_exec_list_order_and_paging(void **state)
{
	struct store_fixture *f = *state;
	char ids[5][8];
	for (int i = 0; i < 5; i++) {
		snprintf(ids[i], sizeof ids[i], "w%d", i + 1);
		assert_int_equal(put_exec(f, ids[i], "web", i + 1, "Succeeded"), 0);
	}
	assert_int_equal(put_exec(f, "a1", "api", 1, "Succeeded"), 0);
	char got[64];
	exec_seqs(f, "web", 0, 0, got, sizeof got);
	assert_string_equal(got, "5,4,3,2,1");
	exec_seqs(f, "web", 0, 2, got, sizeof got);
	assert_string_equal(got, "5,4");
	exec_seqs(f, "web", 4, 2, got, sizeof got);
	assert_string_equal(got, "3,2");
	exec_seqs(f, "web", 2, 2, got, sizeof got);
	assert_string_equal(got, "1");
	exec_seqs(f, "web", 1, 2, got, sizeof got);
	assert_string_equal(got, "");
	exec_seqs(f, "api", 0, -1, got, sizeof got);
	assert_string_equal(got, "1");
}

/* Only InProgress and Stopping executions are active, by pipeline then seq. */
static void test_exec_list_active(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(put_exec(f, "w1", "web", 1, "Succeeded"), 0);
	assert_int_equal(put_exec(f, "w2", "web", 2, "Stopping"), 0);
	assert_int_equal(put_exec(f, "w3", "web", 3, "InProgress"), 0);
	assert_int_equal(put_exec(f, "w4", "web", 4, "Failed"), 0);
	assert_int_equal(put_exec(f, "a1", "api", 1, "InProgress"), 0);
	assert_int_equal(put_exec(f, "a2", "api", 2, "Superseded"), 0);
	struct store_exec *e;
	size_t n;
	struct err err;
	assert_int_equal(store_exec_list_active(f->st, &e, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].id, "a1");
	assert_string_equal(e[1].id, "w2");
	assert_string_equal(e[2].id, "w3");
	store_exec_list_free(e, n);
}

static void test_exec_next_seq_and_token(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	int64_t seq = 0;
	assert_int_equal(store_exec_next_seq(f->st, "web", &seq, &err), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(put_exec(f, "w1", "web", 1, "Succeeded"), 0);
	struct store_exec e = exec_row("w2", "web", 2, "InProgress");
	e.client_token = "retry-me";
	assert_int_equal(store_exec_put(f->st, &e, &err), 0);
	assert_int_equal(store_exec_next_seq(f->st, "web", &seq, &err), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(store_exec_next_seq(f->st, "api", &seq, &err), 0);
	assert_int_equal(seq, 1);

	struct store_exec got;
	assert_int_equal(store_exec_by_token(f->st, "web", "retry-me", &got, &err), 0);
	assert_string_equal(got.id, "w2");
	store_exec_free(&got);
	assert_int_equal(store_exec_by_token(f->st, "api", "retry-me", &got, &err),
	                 STORE_NOT_FOUND);
}

/* Stages list in the order entered; latest and max_seq follow entered_seq. */
static void test_stage_order_and_latest(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	int64_t max = -1;
	assert_int_equal(store_stage_max_seq(f->st, "web", &max, &err), 0);
	assert_int_equal(max, 0);
	assert_int_equal(put_exec(f, "w1", "web", 1, "InProgress"), 0);
	assert_int_equal(put_exec(f, "w2", "web", 2, "InProgress"), 0);
	put_stage(f, "w1", "web", "Source", 1, "Succeeded");
	put_stage(f, "w2", "web", "Source", 2, "Succeeded");
	put_stage(f, "w1", "web", "Build", 3, "InProgress");
	put_stage(f, "w1", "web", "Build", 3, "Succeeded"); /* the same row, updated */
	put_stage(f, "w1", "web", "Deploy", 4, "InProgress");

	struct store_stage *s;
	size_t n;
	assert_int_equal(store_stage_list(f->st, "w1", &s, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(s[0].stage, "Source");
	assert_string_equal(s[1].stage, "Build");
	assert_string_equal(s[1].status, "Succeeded");
	assert_string_equal(s[2].stage, "Deploy");
	store_stage_list_free(s, n);

	struct store_stage latest;
	assert_int_equal(store_stage_latest(f->st, "web", "Source", &latest, &err), 0);
	assert_string_equal(latest.execution_id, "w2");
	store_stage_free(&latest);
	assert_int_equal(store_stage_latest(f->st, "web", "Test", &latest, &err), STORE_NOT_FOUND);
	assert_int_equal(store_stage_latest(f->st, "api", "Source", &latest, &err),
	                 STORE_NOT_FOUND);
	assert_int_equal(store_stage_max_seq(f->st, "web", &max, &err), 0);
	assert_int_equal(max, 4);
}

/* One execution's actions in start order; the pipeline's newest first, limited;
 * running ones for recovery. */
static void test_action_lists(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(put_exec(f, "w1", "web", 1, "Succeeded"), 0);
	assert_int_equal(put_exec(f, "w2", "web", 2, "InProgress"), 0);
	assert_int_equal(put_exec(f, "a1", "api", 1, "InProgress"), 0);
	put_action(f, "x2", "w1", "web", 20, "Succeeded");
	put_action(f, "x1", "w1", "web", 10, "Succeeded");
	put_action(f, "x3", "w1", "web", 20, "Failed"); /* same start: insertion order */
	put_action(f, "y1", "w2", "web", 30, "InProgress");
	put_action(f, "z1", "a1", "api", 40, "InProgress");

	struct store_action *a;
	size_t n;
	assert_int_equal(store_action_list(f->st, "web", "w1", 0, &a, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(a[0].id, "x1");
	assert_string_equal(a[1].id, "x2");
	assert_string_equal(a[2].id, "x3");
	assert_null(a[0].summary);
	assert_null(a[0].output_variables);
	assert_int_equal(a[0].pid, 0);
	store_action_list_free(a, n);

	assert_int_equal(store_action_list(f->st, "web", NULL, 3, &a, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(a[0].id, "y1");
	assert_string_equal(a[1].id, "x3");
	assert_string_equal(a[2].id, "x2");
	store_action_list_free(a, n);
	assert_int_equal(store_action_list(f->st, "web", NULL, 0, &a, &n, &err), 0);
	assert_int_equal(n, 4);
	store_action_list_free(a, n);

	/* an execution of another pipeline is not listed under this one */
	assert_int_equal(store_action_list(f->st, "web", "a1", 0, &a, &n, &err), 0);
	assert_int_equal(n, 0);
	store_action_list_free(a, n);

	assert_int_equal(store_action_list_running(f->st, &a, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].id, "y1");
	assert_string_equal(a[1].id, "z1");
	store_action_list_free(a, n);
}

/* An action's result updates its row; pid and JSON columns round trip. */
static void test_action_update_in_place(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(put_exec(f, "w1", "web", 1, "InProgress"), 0);
	put_action(f, "x1", "w1", "web", 10, "InProgress");
	struct store_action a = {.id = "x1",
	                         .execution_id = "w1",
	                         .pipeline = "web",
	                         .stage = "Build",
	                         .action = "Compile",
	                         .attempt = 1,
	                         .run_order = 1,
	                         .status = "Failed",
	                         .error_code = "JobFailed",
	                         .error_message = "exit status 2",
	                         .output_variables = "{\"K\":\"v\"}",
	                         .pid = 4242,
	                         .pid_start = 99,
	                         .started_ms = 10,
	                         .updated_ms = 20};
	assert_int_equal(store_action_put(f->st, &a, &err), 0);
	struct store_action got;
	assert_int_equal(store_action_get(f->st, "x1", &got, &err), 0);
	assert_string_equal(got.status, "Failed");
	assert_string_equal(got.error_code, "JobFailed");
	assert_string_equal(got.output_variables, "{\"K\":\"v\"}");
	assert_int_equal(got.pid, 4242);
	assert_int_equal(got.pid_start, 99);
	assert_int_equal(got.updated_ms, 20);
	store_action_free(&got);
	struct store_action *list;
	size_t n;
	assert_int_equal(store_action_list(f->st, "web", "w1", 0, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	store_action_list_free(list, n);
}

/* Artifacts list in the order first put; a second put of a name replaces its fields. */
static void test_artifacts(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(put_exec(f, "w1", "web", 1, "InProgress"), 0);
	struct store_artifact a = {.execution_id = "w1",
	                           .name = "Src",
	                           .path = "/1.zip",
	                           .size = 1,
	                           .action_execution_id = "x1"};
	assert_int_equal(store_artifact_put(f->st, &a, &err), 0);
	a.name = "Bin";
	a.path = "/2.zip";
	assert_int_equal(store_artifact_put(f->st, &a, &err), 0);
	a.name = "Src";
	a.path = "/3.zip";
	a.sha256 = "cafe";
	a.size = 3;
	assert_int_equal(store_artifact_put(f->st, &a, &err), 0);

	struct store_artifact *list;
	size_t n;
	assert_int_equal(store_artifact_list(f->st, "w1", &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "Src");
	assert_string_equal(list[0].path, "/3.zip");
	assert_string_equal(list[0].sha256, "cafe");
	assert_int_equal(list[0].size, 3);
	assert_null(list[0].revision);
	assert_string_equal(list[1].name, "Bin");
	assert_null(list[1].sha256);
	store_artifact_list_free(list, n);

	a.execution_id = "nope";
	assert_int_equal(store_artifact_put(f->st, &a, &err), STORE_NOT_FOUND);
}

/* A state change rolled back leaves none of its rows. */
static void test_rolled_back_transaction_leaves_nothing(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(store_tx_begin(f->st, &err), 0);
	assert_int_equal(put_exec(f, "w1", "web", 1, "InProgress"), 0);
	put_stage(f, "w1", "web", "Source", 1, "InProgress");
	put_action(f, "x1", "w1", "web", 10, "InProgress");
	store_tx_rollback(f->st);

	struct store_exec e;
	assert_int_equal(store_exec_get(f->st, "w1", &e, &err), STORE_NOT_FOUND);
	struct store_action a;
	assert_int_equal(store_action_get(f->st, "x1", &a, &err), STORE_NOT_FOUND);
	int64_t max = -1;
	assert_int_equal(store_stage_max_seq(f->st, "web", &max, &err), 0);
	assert_int_equal(max, 0);

	assert_int_equal(store_tx_begin(f->st, &err), 0);
	assert_int_equal(put_exec(f, "w1", "web", 1, "InProgress"), 0);
	put_stage(f, "w1", "web", "Source", 1, "InProgress");
	assert_int_equal(store_tx_commit(f->st, &err), 0);
	assert_int_equal(store_exec_get(f->st, "w1", &e, &err), 0);
	store_exec_free(&e);
}

/* Text with quotes and UTF-8 comes back byte for byte. */
static void test_quotes_and_utf8_round_trip(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	const char *vars = "[{\"name\":\"msg\",\"resolvedValue\":\"it's \\\"ça\\\" 🚀\"}]";
	const char *reason = "stopped by O'Brien: \"enough\" — ünïcödé";
	struct store_exec e = exec_row("w1", "web", 1, "Stopped");
	e.variables = (char *)vars;
	e.stop_reason = (char *)reason;
	e.trigger_detail = "'; DROP TABLE executions; --";
	assert_int_equal(store_exec_put(f->st, &e, &err), 0);
	struct store_exec got;
	assert_int_equal(store_exec_get(f->st, "w1", &got, &err), 0);
	assert_string_equal(got.variables, vars);
	assert_string_equal(got.stop_reason, reason);
	assert_string_equal(got.trigger_detail, "'; DROP TABLE executions; --");
	store_exec_free(&got);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_store_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_exec_round_trip),
	        T(test_exec_update_keeps_children),
	        T(test_exec_conflict_and_missing_pipeline),
	        T(test_exec_list_order_and_paging),
	        T(test_exec_list_active),
	        T(test_exec_next_seq_and_token),
	        T(test_stage_order_and_latest),
	        T(test_action_lists),
	        T(test_action_update_in_place),
	        T(test_artifacts),
	        T(test_rolled_back_transaction_leaves_nothing),
	        T(test_quotes_and_utf8_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
