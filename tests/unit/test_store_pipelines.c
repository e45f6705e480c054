/* Unit tests for store/pipelines: declarations and their versions, deletion of a
 * pipeline's history, trigger events and their replay check, transitions, polling. */
#include "store_testutil.h"

#include "store/executions.h"
#include "store/pipelines.h"

/* Saves `decl` as pipeline `name` (a new one, or with `update` a new version); returns
 * the store's code, the version stored in *version when given. */
static int save(struct store_fixture *f, const char *name, const char *decl, int update,
                int *version)
{
	struct store_pipeline p = {.name = (char *)name, .declaration = (char *)decl};
	struct err err;
	int rc = store_pipeline_save(f->st, &p, update, &err);
	if (rc < 0)
		fail_msg("store_pipeline_save: %s", err.msg);
	if (version)
		*version = p.version;
	return rc;
}

/* The declaration of `name` at `version` (0: latest), or NULL when there is none. */
static char *declaration(struct store_fixture *f, const char *name, int version)
{
	struct store_pipeline p;
	struct err err;
	int rc = store_pipeline_get(f->st, name, version, &p, &err);
	if (rc < 0)
		fail_msg("store_pipeline_get: %s", err.msg);
	if (rc == STORE_NOT_FOUND)
		return NULL;
	char *d = p.declaration;
	p.declaration = NULL;
	store_pipeline_free(&p);
	return d;
}

static int trigger(struct store_fixture *f, const char *pipeline, const char *delivery_id,
                   const char *outcome)
{
	struct store_trigger_event ev = {.pipeline = (char *)pipeline,
	                                 .source = "webhook",
	                                 .delivery_id = (char *)delivery_id,
	                                 .ref = "refs/heads/main",
	                                 .outcome = (char *)outcome};
	struct err err;
	int rc = store_trigger_insert(f->st, &ev, &err);
	if (rc < 0)
		fail_msg("store_trigger_insert: %s", err.msg);
	if (rc == 0)
		assert_true(ev.id > 0);
	return rc;
}

static size_t trigger_count(struct store_fixture *f, const char *pipeline)
{
	struct store_trigger_event *ev;
	size_t n;
	struct err err;
	assert_int_equal(store_trigger_list(f->st, pipeline, 0, &ev, &n, &err), 0);
	store_trigger_list_free(ev, n);
	return n;
}

/* Every version is kept; get(0) and list give the latest. */
static void test_versions_are_kept_and_latest_returned(void **state)
{
	struct store_fixture *f = *state;
	int v = 0;
	assert_int_equal(save(f, "web", "{\"v\":1}", 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(save(f, "web", "{\"v\":2}", 1, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(save(f, "web", "{\"v\":3}", 1, &v), 0);
	assert_int_equal(v, 3);

	char *d = declaration(f, "web", 0);
	assert_string_equal(d, "{\"v\":3}");
	free(d);
	d = declaration(f, "web", 1);
	assert_string_equal(d, "{\"v\":1}");
	free(d);
	d = declaration(f, "web", 2);
	assert_string_equal(d, "{\"v\":2}");
	free(d);
	assert_null(declaration(f, "web", 4));

	struct store_pipeline *list;
	size_t n;
	struct err err;
	assert_int_equal(store_pipeline_list(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].version, 3);
	assert_string_equal(list[0].declaration, "{\"v\":3}");
	store_pipeline_list_free(list, n);
}

/* Creating a name that exists is a conflict and changes nothing. */
static void test_create_existing_is_conflict(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(save(f, "web", "first", 0, NULL), 0);
	assert_int_equal(save(f, "web", "second", 0, NULL), STORE_CONFLICT);
	char *d = declaration(f, "web", 0);
	assert_string_equal(d, "first");
	free(d);
	assert_null(declaration(f, "web", 2));
}

/* Updating a missing pipeline is not found and creates nothing. */
static void test_update_missing_is_not_found(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(save(f, "ghost", "x", 1, NULL), STORE_NOT_FOUND);
	assert_null(declaration(f, "ghost", 0));
	assert_null(declaration(f, "ghost", 1));
}

/* The list holds every pipeline by name. */
static void test_list_is_by_name(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(save(f, "zeta", "z", 0, NULL), 0);
	assert_int_equal(save(f, "alpha", "a", 0, NULL), 0);
	assert_int_equal(save(f, "mid", "m", 0, NULL), 0);
	struct store_pipeline *list;
	size_t n;
	struct err err;
	assert_int_equal(store_pipeline_list(f->st, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].name, "alpha");
	assert_string_equal(list[1].name, "mid");
	assert_string_equal(list[2].name, "zeta");
	store_pipeline_list_free(list, n);
}

/* Deleting a pipeline deletes its executions, stages, actions, artifacts, triggers,
 * transitions, polling state and versions — and nothing of another pipeline. */
static void test_delete_cascades_to_history(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(save(f, "web", "d1", 0, NULL), 0);
	assert_int_equal(save(f, "web", "d2", 1, NULL), 0);
	assert_int_equal(save(f, "other", "o", 0, NULL), 0);
	const char *pipes[] = {"web", "other"};
	const char *ids[] = {"e-web", "e-other"};
	for (int i = 0; i < 2; i++) {
		struct store_exec e = {.id = (char *)ids[i],
		                       .pipeline = (char *)pipes[i],
		                       .version = 1,
		                       .seq = 1,
		                       .status = "InProgress",
		                       .trigger_type = "Webhook"};
		assert_int_equal(store_exec_put(f->st, &e, &err), 0);
		struct store_stage s = {.execution_id = (char *)ids[i],
		                        .pipeline = (char *)pipes[i],
		                        .stage = "Build",
		                        .status = "InProgress",
		                        .attempt = 1,
		                        .min_attempt = 1,
		                        .entered_seq = 1};
		assert_int_equal(store_stage_put(f->st, &s, &err), 0);
		char *aid = xasprintf("a-%s", pipes[i]);
		struct store_action a = {.id = aid,
		                         .execution_id = (char *)ids[i],
		                         .pipeline = (char *)pipes[i],
		                         .stage = "Build",
		                         .action = "Compile",
		                         .attempt = 1,
		                         .run_order = 1,
		                         .status = "InProgress"};
		assert_int_equal(store_action_put(f->st, &a, &err), 0);
		struct store_artifact art = {.execution_id = (char *)ids[i],
		                             .name = "out",
		                             .path = "/x.zip",
		                             .size = 3,
		                             .action_execution_id = aid};
		assert_int_equal(store_artifact_put(f->st, &art, &err), 0);
		free(aid);
		assert_int_equal(trigger(f, pipes[i], "d-1", "started"), 0);
		struct store_transition t = {.pipeline = (char *)pipes[i],
		                             .stage = "Build",
		                             .direction = "Inbound",
		                             .enabled = 0};
		assert_int_equal(store_transition_put(f->st, &t, &err), 0);
		assert_int_equal(store_poll_set(f->st, pipes[i], "Source", "abc", &err), 0);
	}

	assert_int_equal(store_pipeline_delete(f->st, "web", &err), 0);

	assert_null(declaration(f, "web", 0));
	assert_null(declaration(f, "web", 1));
	struct store_exec e;
	assert_int_equal(store_exec_get(f->st, "e-web", &e, &err), STORE_NOT_FOUND);
	struct store_stage *stages;
	size_t n;
	assert_int_equal(store_stage_list(f->st, "e-web", &stages, &n, &err), 0);
	assert_int_equal(n, 0);
	store_stage_list_free(stages, n);
	struct store_action a;
	assert_int_equal(store_action_get(f->st, "a-web", &a, &err), STORE_NOT_FOUND);
	struct store_artifact *arts;
	assert_int_equal(store_artifact_list(f->st, "e-web", &arts, &n, &err), 0);
	assert_int_equal(n, 0);
	store_artifact_list_free(arts, n);
	assert_int_equal(trigger_count(f, "web"), 0);
	struct store_transition *ts;
	assert_int_equal(store_transition_list(f->st, "web", &ts, &n, &err), 0);
	assert_int_equal(n, 0);
	store_transition_list_free(ts, n);
	char *commit;
	assert_int_equal(store_poll_get(f->st, "web", "Source", &commit, &err), STORE_NOT_FOUND);

	/* the other pipeline keeps everything */
	assert_int_equal(store_exec_get(f->st, "e-other", &e, &err), 0);
	store_exec_free(&e);
	assert_int_equal(store_action_get(f->st, "a-other", &a, &err), 0);
	store_action_free(&a);
	assert_int_equal(store_artifact_list(f->st, "e-other", &arts, &n, &err), 0);
	assert_int_equal(n, 1);
	store_artifact_list_free(arts, n);
	assert_int_equal(trigger_count(f, "other"), 1);
	assert_int_equal(store_poll_get(f->st, "other", "Source", &commit, &err), 0);
	free(commit);

	/* the name is free again, starting at version 1 */
	int v = 0;
	assert_int_equal(save(f, "web", "again", 0, &v), 0);
	assert_int_equal(v, 1);
}

static void test_delete_missing_is_not_found(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(store_pipeline_delete(f->st, "ghost", &err), STORE_NOT_FOUND);
}

/* A replayed delivery (GitHub's "Redeliver") is refused and stored once. */
static void test_duplicate_delivery_is_conflict(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(save(f, "web", "d", 0, NULL), 0);
	assert_int_equal(save(f, "api", "d", 0, NULL), 0);
	assert_int_equal(trigger(f, "web", "8f3c-1", "started"), 0);
	assert_int_equal(trigger(f, "web", "8f3c-1", "started"), STORE_CONFLICT);
	assert_int_equal(trigger_count(f, "web"), 1);
	/* the same delivery for another pipeline is that pipeline's first */
	assert_int_equal(trigger(f, "api", "8f3c-1", "started"), 0);
	assert_int_equal(trigger_count(f, "api"), 1);
}

/* Events without a delivery id (polling, the CLI) never conflict. */
static void test_null_delivery_ids_repeat(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(save(f, "web", "d", 0, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(trigger(f, "web", NULL, "started"), 0);
	assert_int_equal(trigger_count(f, "web"), 3);
}

/* Trigger events come newest first, at most `limit`; NULL columns stay NULL. */
static void test_trigger_list_newest_first(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(save(f, "web", "d", 0, NULL), 0);
	assert_int_equal(trigger(f, "web", "d1", "started"), 0);
	assert_int_equal(trigger(f, "web", "d2", "filtered"), 0);
	assert_int_equal(trigger(f, "web", "d3", "ignored"), 0);
	struct store_trigger_event *ev;
	size_t n;
	struct err err;
	assert_int_equal(store_trigger_list(f->st, "web", 2, &ev, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].delivery_id, "d3");
	assert_string_equal(ev[0].outcome, "ignored");
	assert_string_equal(ev[1].delivery_id, "d2");
	assert_null(ev[0].before);
	assert_null(ev[0].execution_id);
	assert_true(ev[0].received_ms > 0);
	store_trigger_list_free(ev, n);
}

/* A trigger event for a pipeline that does not exist is refused. */
static void test_trigger_for_missing_pipeline(void **state)
{
	struct store_fixture *f = *state;
	assert_int_equal(trigger(f, "ghost", "d1", "started"), STORE_NOT_FOUND);
}

/* Disabling then enabling a transition leaves one row, enabled. */
static void test_transition_put_updates_in_place(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(save(f, "web", "d", 0, NULL), 0);
	struct store_transition t = {.pipeline = "web",
	                             .stage = "Deploy",
	                             .direction = "Inbound",
	                             .enabled = 0,
	                             .reason = "freeze",
	                             .changed_by = "alice"};
	assert_int_equal(store_transition_put(f->st, &t, &err), 0);
	t.enabled = 1;
	t.reason = NULL;
	assert_int_equal(store_transition_put(f->st, &t, &err), 0);
	t.direction = "Outbound";
	t.enabled = 0;
	assert_int_equal(store_transition_put(f->st, &t, &err), 0);

	struct store_transition *ts;
	size_t n;
	assert_int_equal(store_transition_list(f->st, "web", &ts, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ts[0].direction, "Inbound");
	assert_int_equal(ts[0].enabled, 1);
	assert_null(ts[0].reason);
	assert_string_equal(ts[0].changed_by, "alice");
	assert_string_equal(ts[1].direction, "Outbound");
	assert_int_equal(ts[1].enabled, 0);
	store_transition_list_free(ts, n);
}

static void test_poll_state_is_replaced(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	char *commit = NULL;
	assert_int_equal(save(f, "web", "d", 0, NULL), 0);
	assert_int_equal(store_poll_get(f->st, "web", "Source", &commit, &err), STORE_NOT_FOUND);
	assert_null(commit);
	assert_int_equal(store_poll_set(f->st, "web", "Source", "aaa", &err), 0);
	assert_int_equal(store_poll_set(f->st, "web", "Source", "bbb", &err), 0);
	assert_int_equal(store_poll_get(f->st, "web", "Source", &commit, &err), 0);
	assert_string_equal(commit, "bbb");
	free(commit);
}

/* Saving inside the caller's transaction joins it: a rollback leaves nothing. */
static void test_rolled_back_transaction_leaves_nothing(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(save(f, "web", "v1", 0, NULL), 0);
	assert_int_equal(store_tx_begin(f->st, &err), 0);
	assert_int_equal(save(f, "new", "n", 0, NULL), 0);
	assert_int_equal(save(f, "web", "v2", 1, NULL), 0);
	assert_int_equal(trigger(f, "web", "d1", "started"), 0);
	store_tx_rollback(f->st);

	assert_null(declaration(f, "new", 0));
	char *d = declaration(f, "web", 0);
	assert_string_equal(d, "v1");
	free(d);
	assert_null(declaration(f, "web", 2));
	assert_int_equal(trigger_count(f, "web"), 0);

	/* and a committed one keeps everything */
	assert_int_equal(store_tx_begin(f->st, &err), 0);
	assert_int_equal(save(f, "new", "n", 0, NULL), 0);
	assert_int_equal(store_tx_commit(f->st, &err), 0);
	d = declaration(f, "new", 0);
	assert_string_equal(d, "n");
	free(d);
}

/* Names and declarations with quotes, semicolons and UTF-8 come back byte for byte. */
static void test_quotes_and_utf8_round_trip(void **state)
{
	struct store_fixture *f = *state;
	const char *name = "it's \"ünïcödé\" 🚀; DROP TABLE pipelines; --";
	const char *decl = "{\"name\":\"l'été \\\"chaud\\\"\",\"emoji\":\"😀\"}";
	assert_int_equal(save(f, name, decl, 0, NULL), 0);
	char *d = declaration(f, name, 0);
	assert_string_equal(d, decl);
	free(d);
	assert_int_equal(trigger(f, name, "ü'\"", "started"), 0);
	assert_int_equal(trigger(f, name, "ü'\"", "started"), STORE_CONFLICT);
	struct err err;
	assert_int_equal(store_pipeline_delete(f->st, name, &err), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, tu_store_setup, tu_store_teardown)
	const struct CMUnitTest tests[] = {
	        T(test_versions_are_kept_and_latest_returned),
	        T(test_create_existing_is_conflict),
	        T(test_update_missing_is_not_found),
	        T(test_list_is_by_name),
	        T(test_delete_cascades_to_history),
	        T(test_delete_missing_is_not_found),
	        T(test_duplicate_delivery_is_conflict),
	        T(test_null_delivery_ids_repeat),
	        T(test_trigger_list_newest_first),
	        T(test_trigger_for_missing_pipeline),
	        T(test_transition_put_updates_in_place),
	        T(test_poll_state_is_replaced),
	        T(test_rolled_back_transaction_leaves_nothing),
	        T(test_quotes_and_utf8_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
