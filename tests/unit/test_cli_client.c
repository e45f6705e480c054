/* Unit tests for the client commands' pure pieces (cli/client.h, cli/pipeline_cmd.h):
 * argument parsing, path escaping, tables, the state view, and where the client looks
 * for the daemon and its token. */
#include "testutil.h"

#include <jansson.h>

#include "cli/client.h"
#include "cli/pipeline_cmd.h"

static const char usage[] = "usage: test\n";

struct parsed {
	const char *data, *version;
	int json;
	struct strv vars, pos;
	unsigned seen;
};

static int parse(struct parsed *p, int argc, char **argv)
{
	memset(p, 0, sizeof *p);
	struct cli_opt opts[] = {
	        {"--data", "DIR", &p->data, NULL, NULL},
	        {"--version", "N", &p->version, NULL, NULL},
	        {"--json", NULL, NULL, &p->json, NULL},
	        {"--var", "NAME=VALUE", NULL, NULL, &p->vars},
	};
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w"); /* usage errors are printed; not wanted here */
	int rc = cli_args(argc, argv, opts, 4, &p->pos, &p->seen, "test", usage);
	fclose(stderr);
	stderr = saved;
	return rc;
}

static void parsed_free(struct parsed *p)
{
	strv_free(&p->vars);
	strv_free(&p->pos);
}

/* Options go anywhere, in both spellings; a repeated option keeps every value. */
static void test_args_anywhere_and_repeated(void **state)
{
	(void)state;
	char *argv[] = {"cmd", "get",    "--version=3", "site", "--var",
	                "A=1", "--json", "--var",       "B=2",  NULL};
	struct parsed p;
	assert_int_equal(parse(&p, 9, argv), 0);
	assert_string_equal(p.version, "3");
	assert_int_equal(p.json, 1);
	assert_int_equal(p.pos.n, 2);
	assert_string_equal(p.pos.v[0], "get");
	assert_string_equal(p.pos.v[1], "site");
	assert_int_equal(p.vars.n, 2);
	assert_string_equal(p.vars.v[1], "B=2");
	assert_int_equal(p.seen, (1u << 1) | (1u << 2) | (1u << 3));
	parsed_free(&p);
}

/* "--" ends the options: a pipeline named "--json" can still be addressed. */
static void test_args_double_dash(void **state)
{
	(void)state;
	char *argv[] = {"cmd", "--", "--json", NULL};
	struct parsed p;
	assert_int_equal(parse(&p, 3, argv), 0);
	assert_int_equal(p.json, 0);
	assert_string_equal(p.pos.v[0], "--json");
	parsed_free(&p);
}

/* Unknown options, a missing value and a value on a flag are usage errors (2). */
static void test_args_errors(void **state)
{
	(void)state;
	struct parsed p;
	char *unknown[] = {"cmd", "--bogus", NULL};
	assert_int_equal(parse(&p, 2, unknown), 2);
	parsed_free(&p);
	char *missing[] = {"cmd", "--data", NULL};
	assert_int_equal(parse(&p, 2, missing), 2);
	parsed_free(&p);
	char *flag_value[] = {"cmd", "--json=1", NULL};
	assert_int_equal(parse(&p, 2, flag_value), 2);
	parsed_free(&p);
	char *help[] = {"cmd", "x", "--help", NULL};
	assert_int_equal(parse(&p, 3, help), 3);
	parsed_free(&p);
}

/* Path segments are escaped one by one: a '/' in a name cannot change the route. */
static void test_path_escapes_segments(void **state)
{
	(void)state;
	char *p = cli_path("api", "executions", "a/b c", "logs", "Build ü", NULL);
	assert_string_equal(p, "/api/executions/a%2Fb%20c/logs/Build%20%C3%BC");
	free(p);
	char *q = cli_escape("x&y=z");
	assert_string_equal(q, "x%26y%3Dz");
	free(q);
}

/* Columns line up by characters, not bytes; the last column is not padded; NULL
 * cells print "-" and "" cells are blank. */
static void test_table_alignment(void **state)
{
	(void)state;
	struct cli_table t;
	cli_table_init(&t, 3);
	cli_table_row(&t, (const char *[]){"NAME", "STATUS", "NOTE"});
	cli_table_row(&t, (const char *[]){"é1", "Succeeded", NULL});
	cli_table_row(&t, (const char *[]){"", "Failed", "x"});
	char *s = cli_table_render(&t);
	assert_string_equal(s, "NAME  STATUS     NOTE\n"
	                       "é1    Succeeded  -\n"
	                       "      Failed     x\n");
	free(s);
	cli_table_free(&t);
}

/* Durations come from the API's epoch seconds. */
static void test_elapsed(void **state)
{
	(void)state;
	char out[32];
	json_t *a = json_real(1700000000.25), *b = json_real(1700000125.25);
	cli_elapsed(a, b, out, sizeof out);
	assert_string_equal(out, "2 min 05 s");
	cli_elapsed(a, NULL, out, sizeof out);
	assert_string_equal(out, "-");
	json_decref(a);
	json_decref(b);
}

/* The state view: one row per action, the stage's columns only on its first row,
 * errors before summaries, and a held transition explained under the table. */
static void test_state_text(void **state)
{
	(void)state;
	json_error_t jerr;
	json_t *st = json_loads(
	        "{\"pipelineName\": \"site\", \"pipelineVersion\": 2, \"stageStates\": ["
	        " {\"stageName\": \"Source\", \"inboundTransitionState\": {\"enabled\": true},"
	        "  \"latestExecution\": {\"pipelineExecutionId\": \"e1\", \"status\": "
	        "\"Succeeded\"},"
	        "  \"actionStates\": [{\"actionName\": \"Checkout\", \"latestExecution\":"
	        "   {\"status\": \"Succeeded\", \"summary\": \"main: fix\\nmore\"}}]},"
	        " {\"stageName\": \"Build\", \"inboundTransitionState\": {\"enabled\": false,"
	        "   \"lastChangedBy\": \"admin.token\", \"disabledReason\": \"freeze\"},"
	        "  \"latestExecution\": {\"pipelineExecutionId\": \"e1\", \"status\": \"Failed\"},"
	        "  \"actionStates\": [{\"actionName\": \"Compile\", \"latestExecution\":"
	        "   {\"status\": \"Failed\", \"errorDetails\": {\"message\": \"exit 2\"}}},"
	        "   {\"actionName\": \"Lint\"}]}]}",
	        0, &jerr);
	assert_non_null(st);
	char *s = plc_state_text(st);
	assert_non_null(strstr(s, "pipeline site, version 2\n"));
	assert_non_null(strstr(s, "Source  Succeeded  e1         Checkout  Succeeded"));
	assert_non_null(strstr(s, "main: fix\n")); /* first line of the summary only */
	assert_non_null(strstr(s, "Compile   Failed"));
	assert_non_null(strstr(s, "exit 2"));
	assert_non_null(strstr(s, "\n                              Lint      -"));
	assert_non_null(strstr(s, "transition into Build disabled by admin.token"));
	assert_non_null(strstr(s, ": freeze"));
	free(s);
	json_decref(st);
}

/* FERRY_URL wins over daemon.url, which wins over the default; a URL loses its
 * trailing slash; FERRY_TOKEN wins over admin.token. */
static void test_client_settings(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	unsetenv("FERRY_URL");
	unsetenv("FERRY_TOKEN");
	struct cli_client c;
	cli_client_init(&c, dir, NULL);
	assert_string_equal(c.url, CLI_URL_DEFAULT);
	assert_null(c.token);
	cli_client_free(&c);

	tu_write(dir, "daemon.url", "http://127.0.0.1:4242/\n");
	tu_write(dir, "admin.token", "ferry_abc\n");
	cli_client_init(&c, dir, NULL);
	assert_string_equal(c.url, "http://127.0.0.1:4242");
	assert_string_equal(c.token, "ferry_abc");
	cli_client_free(&c);

	setenv("FERRY_URL", "http://example.test:1", 1);
	setenv("FERRY_TOKEN", "ferry_env", 1);
	cli_client_init(&c, dir, NULL);
	assert_string_equal(c.url, "http://example.test:1");
	assert_string_equal(c.token, "ferry_env");
	cli_client_free(&c);
	cli_client_init(&c, dir, "http://flag.test:2");
	assert_string_equal(c.url, "http://flag.test:2");
	cli_client_free(&c);
	unsetenv("FERRY_URL");
	unsetenv("FERRY_TOKEN");
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_args_anywhere_and_repeated),
	        cmocka_unit_test(test_args_double_dash),
	        cmocka_unit_test(test_args_errors),
	        cmocka_unit_test(test_path_escapes_segments),
	        cmocka_unit_test(test_table_alignment),
	        cmocka_unit_test(test_elapsed),
	        cmocka_unit_test(test_state_text),
	        cmocka_unit_test(test_client_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
