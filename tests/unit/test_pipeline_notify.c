/* Unit tests for ferry's `notifications` extension of the pipeline declaration
 * (docs/pipeline.md, "Notifications"): where it may stand, what a rule holds, its
 * defaults, CodeStar's event ids, the errors a user reads, and writing it back. */
#include "test_pipeline.h"

/* Lines 1-14: a valid bare pipeline; the next line is 15. */
#define BARE HEAD_AND_SOURCE BUILD_STAGE

/* A bare file with one rule whose body (indented by 4) follows "  - events: [failed]". */
static const char *one_rule(const char *rest)
{
	static char text[4096];
	snprintf(text, sizeof text, "%snotifications:\n  - events: [failed]\n%s", BARE, rest);
	return text;
}

/* --- reading ------------------------------------------------------------------- */

/* A bare declaration carries notifications beside its keys; defaults are filled in. */
static void test_bare_form_reads_rules(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(BARE "notifications:\n"
	                                "  - events: [started, succeeded, failed, superseded]\n"
	                                "    command: /usr/local/bin/notify-chat\n"
	                                "  - events: [failed]\n"
	                                "    url: http://127.0.0.1:9000/hook\n"
	                                "    timeoutSeconds: 30\n"
	                                "    retries: 0\n");
	assert_int_equal(p->nnotifications, 2);
	const struct pl_notify_rule *r = &p->notifications[0];
	assert_int_equal(r->events, PL_NOTIFY_STARTED | PL_NOTIFY_SUCCEEDED | PL_NOTIFY_FAILED |
	                                    PL_NOTIFY_SUPERSEDED);
	assert_string_equal(r->command, "/usr/local/bin/notify-chat");
	assert_null(r->url);
	assert_int_equal(r->timeout_s, 10);
	assert_int_equal(r->retries, 2);
	assert_int_equal(r->line, 16);
	assert_int_equal(r->col, 5);
	r = &p->notifications[1];
	assert_int_equal(r->events, PL_NOTIFY_FAILED);
	assert_null(r->command);
	assert_string_equal(r->url, "http://127.0.0.1:9000/hook");
	assert_int_equal(r->timeout_s, 30);
	assert_int_equal(r->retries, 0);
	pipeline_free(p);
}

/* Wrapped, notifications sit beside `pipeline`, not inside it. */
static void test_wrapped_form(void **state)
{
	(void)state;
	struct pipeline *p =
	        pl_ok("notifications: [{events: [all], command: 'cat > /dev/null'}]\n"
	              "pipeline:\n"
	              "  name: site\n"
	              "  stages:\n"
	              "  - name: Source\n"
	              "    actions:\n"
	              "      - name: Source\n"
	              "        actionTypeId: {category: Source, owner: AWS, provider: "
	              "CodeCommit, version: '1'}\n"
	              "        configuration: {RepositoryName: site, BranchName: main}\n"
	              "        outputArtifacts: [{name: Src}]\n" BUILD_STAGE);
	assert_int_equal(p->nnotifications, 1);
	assert_int_equal(p->notifications[0].events, PL_NOTIFY_ALL);
	pipeline_free(p);
	const char *msg = pl_err("pipeline:\n"
	                         "  name: site\n"
	                         "  notifications: []\n");
	assert_prefix(msg, "pipeline.yml:3:3: top level: unknown key \"notifications\" (known: "
	                   "name, roleArn,");
}

/* A misspelt section name gets a suggestion in the bare form too. */
static void test_section_name_misspelt(void **state)
{
	(void)state;
	assert_prefix(pl_err(BARE "notification: []\n"),
	              "pipeline.yml:15:1: top level: unknown key \"notification\" (did you mean "
	              "\"notifications\"?");
}

/* An empty or null section is no rule. */
static void test_empty_section(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(BARE "notifications: []\n");
	assert_int_equal(p->nnotifications, 0);
	pipeline_free(p);
	p = pl_ok(BARE "notifications:\n");
	assert_int_equal(p->nnotifications, 0);
	pipeline_free(p);
}

/* CodeStar Notifications' event type ids name the same events (and AWS's "canceled"). */
static void test_codestar_event_ids(void **state)
{
	(void)state;
	struct pipeline *p =
	        pl_ok(BARE "notifications:\n"
	                   "  - events:\n"
	                   "      - codepipeline-pipeline-pipeline-execution-started\n"
	                   "      - codepipeline-pipeline-pipeline-execution-succeeded\n"
	                   "      - codepipeline-pipeline-pipeline-execution-failed\n"
	                   "      - codepipeline-pipeline-pipeline-execution-superseded\n"
	                   "      - codepipeline-pipeline-pipeline-execution-canceled\n"
	                   "      - codepipeline-pipeline-pipeline-execution-resumed\n"
	                   "      - codepipeline-pipeline-manual-approval-needed\n"
	                   "    command: 'true'\n"
	                   "  - events: [canceled, stopped]\n"
	                   "    command: 'true'\n");
	assert_int_equal(p->notifications[0].events, PL_NOTIFY_ALL & ~PL_NOTIFY_STOPPED);
	assert_int_equal(p->notifications[1].events, PL_NOTIFY_CANCELLED | PL_NOTIFY_STOPPED);
	pipeline_free(p);
}

static void test_event_names(void **state)
{
	(void)state;
	static const char *const names[] = {"started", "succeeded", "failed",  "superseded",
	                                    "stopped", "cancelled", "resumed", "approval-needed"};
	for (unsigned i = 0; i < 8; i++)
		assert_string_equal(pipeline_notify_event_name(1u << i), names[i]);
	assert_null(pipeline_notify_event_name(PL_NOTIFY_ALL));
	assert_null(pipeline_notify_event_name(0));
}

/* --- errors ---------------------------------------------------------------------- */

static void test_unknown_event(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(BARE "notifications:\n"
	                    "  - {events: [started], command: 'true'}\n"
	                    "  - {events: [faild], command: 'true'}\n"),
	        "pipeline.yml:17:15: notifications[1].events[0]: \"faild\" is not an event ferry "
	        "sends (did you mean \"failed\"? known: started, succeeded, failed, superseded, "
	        "stopped, cancelled, resumed, approval-needed, all)");
	assert_string_equal(pl_err(BARE "notifications:\n"
	                                "  - {events: [deployed], command: 'true'}\n"),
	                    "pipeline.yml:16:15: notifications[0].events[0]: \"deployed\" is not "
	                    "an event ferry sends (known: started, succeeded, failed, superseded, "
	                    "stopped, cancelled, resumed, approval-needed, all)");
	assert_prefix(pl_err(BARE "notifications:\n"
	                          "  - events: [codepipeline-pipeline-stage-execution-failed]\n"
	                          "    command: 'true'\n"),
	              "pipeline.yml:16:14: notifications[0].events[0]: "
	              "\"codepipeline-pipeline-stage-execution-failed\" is a CodeStar "
	              "Notifications event ferry does not send");
	assert_string_equal(pl_err(BARE "notifications:\n"
	                                "  - {events: [{failed: 1}], command: 'true'}\n"),
	                    "pipeline.yml:16:15: notifications[0].events[0]: expected an event "
	                    "name, found a mapping");
}

/* An event named twice (also through an alias) or beside "all" is a mistake. */
static void test_event_repeated(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(BARE
	               "notifications:\n"
	               "  - events: [failed, codepipeline-pipeline-pipeline-execution-failed]\n"
	               "    command: 'true'\n"),
	        "pipeline.yml:16:22: notifications[0].events[1]: "
	        "\"codepipeline-pipeline-pipeline-execution-failed\" is already named by "
	        "notifications[0].events[0]");
	assert_string_equal(pl_err(BARE "notifications:\n"
	                                "  - {events: [failed, all], command: 'true'}\n"),
	                    "pipeline.yml:16:23: notifications[0].events[1]: \"all\" names every "
	                    "event: list it alone");
	assert_string_equal(pl_err(BARE "notifications:\n"
	                                "  - {events: [], command: 'true'}\n"),
	                    "pipeline.yml:16:14: notifications[0].events: needs at least 1 item, "
	                    "found 0");
}

static void test_rule_keys(void **state)
{
	(void)state;
	assert_string_equal(pl_err(one_rule("    comand: 'true'\n")),
	                    "pipeline.yml:17:5: notifications[0]: unknown key \"comand\" (did you "
	                    "mean \"command\"? known: events, command, url, timeoutSeconds, "
	                    "retries)");
	assert_string_equal(pl_err(BARE "notifications:\n  - {command: 'true'}\n"),
	                    "pipeline.yml:16:5: notifications[0].events: missing (started, "
	                    "succeeded, failed, superseded, stopped, cancelled, resumed, "
	                    "approval-needed, or all)");
	assert_string_equal(pl_err(one_rule("    timeoutSeconds: 5\n")),
	                    "pipeline.yml:16:5: notifications[0]: missing command or url (what to "
	                    "run, or where to POST the event)");
	assert_string_equal(pl_err(one_rule("    command: 'true'\n"
	                                    "    url: http://localhost/\n")),
	                    "pipeline.yml:18:10: notifications[0]: give command or url, not both "
	                    "(one rule does one thing)");
	assert_string_equal(pl_err(one_rule("    command: ''\n")),
	                    "pipeline.yml:17:14: notifications[0].command: must not be empty");
	assert_string_equal(pl_err(BARE "notifications: {a: 1}\n"),
	                    "pipeline.yml:15:16: notifications: expected a list, found a mapping");
	assert_string_equal(pl_err(BARE "notifications: [~]\n"),
	                    "pipeline.yml:15:17: notifications[0]: expected a mapping, found null");
}

/* http(s) only, without a password, with a host. */
static void test_url_checked(void **state)
{
	(void)state;
	assert_string_equal(pl_err(one_rule("    url: ftp://example.com/x\n")),
	                    "pipeline.yml:17:10: notifications[0].url: expected an http:// or "
	                    "https:// URL");
	assert_prefix(pl_err(one_rule("    url: https://bot:s3cret@chat.example.com/hook\n")),
	              "pipeline.yml:17:10: notifications[0].url: the URL must not carry a "
	              "password");
	assert_string_equal(pl_err(one_rule("    url: 'http:///hook'\n")),
	                    "pipeline.yml:17:10: notifications[0].url: the URL has no host");
	assert_string_equal(pl_err(one_rule("    url: 'http://a b/'\n")),
	                    "pipeline.yml:17:10: notifications[0].url: a URL has no spaces or "
	                    "control characters");
	/* a user name alone is no secret; a query string is the URL's own business */
	struct pipeline *p = pl_ok(one_rule("    url: HTTPS://ci@chat.example.com/h?x=1\n"));
	assert_string_equal(p->notifications[0].url, "HTTPS://ci@chat.example.com/h?x=1");
	pipeline_free(p);
}

static void test_limits(void **state)
{
	(void)state;
	assert_string_equal(pl_err(one_rule("    command: 'true'\n    timeoutSeconds: 0\n")),
	                    "pipeline.yml:18:21: notifications[0].timeoutSeconds: must be 1 to "
	                    "300, found 0");
	assert_string_equal(pl_err(one_rule("    command: 'true'\n    timeoutSeconds: 301\n")),
	                    "pipeline.yml:18:21: notifications[0].timeoutSeconds: must be 1 to "
	                    "300, found 301");
	assert_string_equal(pl_err(one_rule("    command: 'true'\n    retries: 11\n")),
	                    "pipeline.yml:18:14: notifications[0].retries: must be 0 to 10, "
	                    "found 11");
	struct buf b;
	buf_init(&b, 1 << 16);
	assert_int_equal(buf_puts(&b, BARE "notifications:\n"), 0);
	for (int i = 0; i <= PIPELINE_NOTIFICATIONS_MAX; i++)
		assert_int_equal(buf_puts(&b, "  - {events: [failed], command: 'true'}\n"), 0);
	char *text = buf_detach(&b);
	assert_string_equal(pl_err(text),
	                    "pipeline.yml:16:3: notifications: at most 20 items, found 21");
	free(text);
}

/* --- writing ------------------------------------------------------------------- */

/* Written back beside projects, events as written, defaults stated; it reads again to
 * the same text. */
static void test_written_back(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(
	        BARE "notifications:\n"
	             "  - events: [codepipeline-pipeline-pipeline-execution-failed, stopped]\n"
	             "    url: http://127.0.0.1:9000/hook\n"
	             "  - events: [all]\n"
	             "    command: \"printf '%s' \\\"$(cat)\\\" >> /tmp/events\"\n"
	             "    retries: 0\n");
	char *text = pipeline_to_string(p, PIPELINE_JSON_FILE | PIPELINE_JSON_COMPACT);
	assert_contains(text, ",\"notifications\":[{\"events\":[\"codepipeline-pipeline-pipeline-"
	                      "execution-failed\",\"stopped\"],\"url\":\"http://127.0.0.1:9000/"
	                      "hook\",\"timeoutSeconds\":10,\"retries\":2},{\"events\":[\"all\"],"
	                      "\"command\":\"printf '%s' \\\"$(cat)\\\" >> /tmp/events\","
	                      "\"timeoutSeconds\":10,\"retries\":0}]}\n");
	free(text);
	text = pipeline_to_string(p, PIPELINE_JSON_FILE);
	struct pipeline *q = pl_ok(text);
	char *again = pipeline_to_string(q, PIPELINE_JSON_FILE);
	assert_string_equal(again, text);
	assert_int_equal(q->notifications[0].events, PL_NOTIFY_FAILED | PL_NOTIFY_STOPPED);
	free(again);
	free(text);
	pipeline_free(q);
	/* the declaration alone has none of ferry's extensions */
	text = pipeline_to_string(p, PIPELINE_JSON_COMPACT);
	assert_null(strstr(text, "notifications"));
	free(text);
	pipeline_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_bare_form_reads_rules),
	        cmocka_unit_test(test_wrapped_form),
	        cmocka_unit_test(test_section_name_misspelt),
	        cmocka_unit_test(test_empty_section),
	        cmocka_unit_test(test_codestar_event_ids),
	        cmocka_unit_test(test_event_names),
	        cmocka_unit_test(test_unknown_event),
	        cmocka_unit_test(test_event_repeated),
	        cmocka_unit_test(test_rule_keys),
	        cmocka_unit_test(test_url_checked),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_written_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
