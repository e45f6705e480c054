/*
 * test_functions_invoke.c — fn_invoke() (functions/fn.h) against the real runtimes:
 * node (CommonJS, ES modules, async and callback handlers), python, `provided`;
 * handler errors as spec §8 names them, timeouts, the environment, the log.
 */
#include "store_testutil.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>

#include "functions/fn.h"
#include "functions/registry.h"

struct fixture {
	struct store_fixture s;
	int n;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->s.st = tu_store_open(&f->s.tmp, &f->s.data);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tu_store_close(f->s.st, f->s.tmp, f->s.data);
	free(f);
	return 0;
}

/* A function `name` from files {path, text, path, text, ..., NULL}. */
static void make_fn(struct fixture *f, const char *name, const char *runtime, const char *handler,
                    int timeout, const json_t *env, const char *const *files)
{
	char *src = xasprintf("%s/src%d", f->s.tmp, f->n);
	char *zip = xasprintf("%s/code%d.zip", f->s.tmp, f->n++);
	for (size_t i = 0; files[i]; i += 2) {
		tu_write(src, files[i], files[i + 1]);
		if (!strcmp(files[i], "bootstrap")) {
			char *p = fs_join(src, "bootstrap");
			assert_int_equal(chmod(p, 0755), 0);
			free(p);
		}
	}
	struct err err;
	if (fn_zip_dir(src, zip, &err) < 0)
		fail_msg("%s", err.msg);
	struct fn_config c = {.name = name,
	                      .runtime = runtime,
	                      .handler = handler,
	                      .timeout = timeout,
	                      .env = env};
	struct store_fn out;
	if (fn_create(f->s.st, f->s.data, &c, zip, &out, &err) != 0)
		fail_msg("fn_create: %s", err.msg);
	store_fn_free(&out);
	free(src);
	free(zip);
}

static void invoke(struct fixture *f, const char *name, const char *payload,
                   struct fn_invoke_res *res)
{
	struct err err;
	struct fn_invoke_req req = {.data_dir = f->s.data,
	                            .name = name,
	                            .payload = payload,
	                            .payload_len = strlen(payload),
	                            .log_fd = -1};
	if (fn_invoke(&req, res, &err) != 0)
		fail_msg("fn_invoke: %s", err.msg);
}

static const char *error_type(const struct fn_invoke_res *res, char *out, size_t n)
{
	json_t *o = json_loads(res->payload, 0, NULL);
	snprintf(out, n, "%s", json_string_value(json_object_get(o, "errorType")) ?: "");
	json_decref(o);
	return out;
}

/* node, CommonJS `index.handler` with an async handler: the result is JSON. */
static void test_node_commonjs_async(void **state)
{
	struct fixture *f = *state;
	make_fn(f, "cjs", "nodejs20.x", "index.handler", 0, NULL,
	        (const char *[]){"index.js",
	                         "exports.handler = async (event, context) => ({got: event.n,"
	                         " name: context.functionName,"
	                         " left: context.getRemainingTimeInMillis() > 0});\n",
	                         NULL});
	struct fn_invoke_res res;
	invoke(f, "cjs", "{\"n\": 7}", &res);
	assert_int_equal(res.function_error, 0);
	assert_string_equal(res.payload, "{\"got\":7,\"name\":\"cjs\",\"left\":true}");
	assert_string_equal(res.executed_version, "$LATEST");
	fn_invoke_res_free(&res);
}

/* node, callback handler in a subdirectory (`src/app.api.get`: module src/app,
 * property path api.get). */
static void test_node_callback_nested_property(void **state)
{
	struct fixture *f = *state;
	make_fn(f, "cb", "nodejs20.x", "src/app.api.get", 0, NULL,
	        (const char *[]){"src/app.js",
	                         "exports.api = {get: function (e, ctx, cb) {"
	                         " setTimeout(() => cb(null, 'cb:' + e), 5); }};\n",
	                         NULL});
	struct fn_invoke_res res;
	invoke(f, "cb", "\"x\"", &res);
	assert_int_equal(res.function_error, 0);
	assert_string_equal(res.payload, "\"cb:x\"");
	fn_invoke_res_free(&res);
}

/* node ES modules: `.mjs` when no index.js exists (checklist 55), and `.js` under a
 * package.json with "type": "module". */
static void test_node_esm_mjs_and_type_module(void **state)
{
	struct fixture *f = *state;
	make_fn(f, "mjs", "nodejs22.x", "index.handler", 0, NULL,
	        (const char *[]){"index.mjs", "export const handler = async () => 'mjs';\n", NULL});
	make_fn(f, "tm", "nodejs20.x", "index.handler", 0, NULL,
	        (const char *[]){"package.json", "{\"type\": \"module\"}\n", "index.js",
	                         "export async function handler() { return 'module'; }\n", NULL});
	struct fn_invoke_res res;
	invoke(f, "mjs", "{}", &res);
	assert_string_equal(res.payload, "\"mjs\"");
	fn_invoke_res_free(&res);
	invoke(f, "tm", "{}", &res);
	assert_string_equal(res.payload, "\"module\"");
	fn_invoke_res_free(&res);
}

/* Handler errors (spec §8): missing export, malformed name, thrown error. */
static void test_node_errors(void **state)
{
	struct fixture *f = *state;
	const char *files[] = {"index.js",
	                       "exports.handler = async () => { throw new TypeError('boom'); };\n",
	                       NULL};
	make_fn(f, "missing", "nodejs20.x", "index.nothere", 0, NULL, files);
	make_fn(f, "malformed", "nodejs20.x", "index", 0, NULL, files);
	make_fn(f, "throws", "nodejs20.x", "index.handler", 0, NULL, files);
	make_fn(f, "nomodule", "nodejs20.x", "absent.handler", 0, NULL, files);
	char t[64];
	struct fn_invoke_res res;
	invoke(f, "missing", "{}", &res);
	assert_int_equal(res.function_error, 1);
	assert_string_equal(error_type(&res, t, sizeof t), "Runtime.HandlerNotFound");
	fn_invoke_res_free(&res);
	invoke(f, "malformed", "{}", &res);
	assert_string_equal(error_type(&res, t, sizeof t), "Runtime.MalformedHandlerName");
	fn_invoke_res_free(&res);
	invoke(f, "nomodule", "{}", &res);
	assert_string_equal(error_type(&res, t, sizeof t), "Runtime.ImportModuleError");
	fn_invoke_res_free(&res);
	invoke(f, "throws", "{}", &res);
	assert_int_equal(res.function_error, 1);
	assert_string_equal(error_type(&res, t, sizeof t), "TypeError");
	assert_non_null(strstr(res.payload, "\"errorMessage\":\"boom\""));
	assert_non_null(strstr(res.payload, "\"stackTrace\""));
	fn_invoke_res_free(&res);
}

/* python `lambda_function.lambda_handler` with a context; import errors as §8. */
static void test_python_handler_and_import_error(void **state)
{
	struct fixture *f = *state;
	make_fn(f, "py", "python3.11", "lambda_function.lambda_handler", 0, NULL,
	        (const char *[]){
	                "lambda_function.py",
	                "def lambda_handler(event, context):\n"
	                "    print('hello from python')\n"
	                "    return {'sum': event['a'] + event['b'],\n"
	                "            'fn': context.function_name,\n"
	                "            'left': context.get_remaining_time_in_millis() > 0}\n",
	                NULL});
	make_fn(f, "pybad", "python3.11", "nope.handler", 0, NULL,
	        (const char *[]){"x.py", "\n", NULL});
	struct fn_invoke_res res;
	invoke(f, "py", "{\"a\": 2, \"b\": 3}", &res);
	assert_int_equal(res.function_error, 0);
	assert_string_equal(res.payload, "{\"sum\": 5, \"fn\": \"py\", \"left\": true}");
	fn_invoke_res_free(&res);
	char t[64];
	invoke(f, "pybad", "{}", &res);
	assert_string_equal(error_type(&res, t, sizeof t), "Runtime.ImportModuleError");
	assert_non_null(strstr(res.payload, "Unable to import module 'nope'"));
	fn_invoke_res_free(&res);
}

/* `provided`: the code's own bootstrap talks to the Runtime API. */
static void test_provided_bootstrap(void **state)
{
	struct fixture *f = *state;
	/* a bootstrap of its own, in python's standard library only (no curl needed) */
	make_fn(f, "sh", "provided.al2023", NULL, 0, NULL,
	        (const char *[]){
	                "bootstrap",
	                "#!/usr/bin/python3\n"
	                "import http.client, os\n"
	                "host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')\n"
	                "c = http.client.HTTPConnection(host, int(port))\n"
	                "c.request('GET', '/2018-06-01/runtime/invocation/next')\n"
	                "r = c.getresponse()\n"
	                "body = r.read().decode()\n"
	                "rid = r.getheader('Lambda-Runtime-Aws-Request-Id')\n"
	                "c.request('POST', '/2018-06-01/runtime/invocation/%s/response' % rid,\n"
	                "          body='{\"echo\":%s}' % body)\n"
	                "c.getresponse().read()\n",
	                NULL});
	struct fn_invoke_res res;
	invoke(f, "sh", "[1,2]", &res);
	assert_int_equal(res.function_error, 0);
	assert_string_equal(res.payload, "{\"echo\":[1,2]}");
	fn_invoke_res_free(&res);
}

/* The timeout kills the runtime's whole process group: errorType Sandbox.Timedout. */
static void test_timeout_kills_the_group(void **state)
{
	struct fixture *f = *state;
	char *pidfile = xasprintf("%s/child.pid", f->s.tmp);
	char *js = xasprintf("const cp = require('child_process');\n"
	                     "exports.handler = async () => {\n"
	                     "  const c = cp.spawn('sleep', ['30'], {stdio: 'ignore'});\n"
	                     "  require('fs').writeFileSync('%s', String(c.pid));\n"
	                     "  await new Promise(() => {});\n"
	                     "};\n",
	                     pidfile);
	make_fn(f, "slow", "nodejs20.x", "index.handler", 1, NULL,
	        (const char *[]){"index.js", js, NULL});
	struct fn_invoke_res res;
	invoke(f, "slow", "{}", &res);
	char t[64];
	assert_int_equal(res.function_error, 1);
	assert_string_equal(error_type(&res, t, sizeof t), "Sandbox.Timedout");
	assert_non_null(strstr(res.payload, "Task timed out after 1.00 seconds"));
	fn_invoke_res_free(&res);
	char *pid_text = tu_read(f->s.tmp, "child.pid");
	pid_t pid = (pid_t)strtol(pid_text, NULL, 10);
	/* gone, or a zombie waiting for init to reap it */
	int alive = 0;
	for (int i = 0; i < 50; i++) {
		char path[64], st[512] = "";
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		FILE *fp = fopen(path, "r");
		alive = fp && fgets(st, sizeof st, fp) && !strstr(st, ") Z ");
		if (fp)
			fclose(fp);
		if (!alive)
			break;
		usleep(10000);
	}
	assert_false(alive);
	free(pid_text);
	free(pidfile);
	free(js);
}

/* The environment of spec §8 and the function's variables; the log's START/END/REPORT. */
static void test_env_and_log(void **state)
{
	struct fixture *f = *state;
	json_t *env = json_pack("{s:s}", "GREETING", "hi");
	make_fn(f, "envfn", "nodejs20.x", "index.handler", 0, env,
	        (const char *[]){"index.js",
	                         "exports.handler = async () => { console.log('in handler');"
	                         " const e = process.env; return [e.GREETING, e._HANDLER,"
	                         " e.AWS_LAMBDA_FUNCTION_NAME, e.AWS_LAMBDA_FUNCTION_VERSION,"
	                         " e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, e.AWS_REGION, e.TZ,"
	                         " e.LAMBDA_TASK_ROOT === process.cwd(), e.AWS_EXECUTION_ENV,"
	                         " e.AWS_LAMBDA_LOG_GROUP_NAME, e.EXTRA]; };\n",
	                         NULL});
	json_decref(env);
	struct err err;
	const char *extra[] = {"EXTRA=from-caller", NULL};
	struct fn_invoke_req req = {.data_dir = f->s.data,
	                            .name = "envfn",
	                            .payload = "{}",
	                            .payload_len = 2,
	                            .extra_env = extra,
	                            .log_fd = -1};
	struct fn_invoke_res res;
	assert_int_equal(fn_invoke(&req, &res, &err), 0);
	assert_string_equal(res.payload,
	                    "[\"hi\",\"index.handler\",\"envfn\",\"$LATEST\",\"128\",\"us-east-1\","
	                    "\":UTC\",true,\"AWS_Lambda_nodejs20.x\",\"/aws/lambda/envfn\","
	                    "\"from-caller\"]");
	char *rel = xasprintf("functions/envfn/logs/%s.log", res.request_id);
	char *log = tu_read(f->s.data, rel);
	char *start = xasprintf("START RequestId: %s Version: $LATEST\n", res.request_id);
	char *end = xasprintf("END RequestId: %s\n", res.request_id);
	char *report = xasprintf("REPORT RequestId: %s\tDuration: ", res.request_id);
	assert_non_null(strstr(log, start));
	assert_non_null(strstr(log, "\tINFO\tin handler\n"));
	assert_non_null(strstr(log, end));
	assert_non_null(strstr(log, report));
	assert_true(strstr(log, start) < strstr(log, end));
	/* recorded in the store */
	struct store_invocation inv;
	assert_int_equal(store_invocation_get(f->s.st, "envfn", NULL, &inv, &err), 0);
	assert_string_equal(inv.request_id, res.request_id);
	assert_string_equal(inv.status, "Succeeded");
	store_invocation_free(&inv);
	free(rel);
	free(log);
	free(start);
	free(end);
	free(report);
	fn_invoke_res_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_node_commonjs_async, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_node_callback_nested_property, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_node_esm_mjs_and_type_module, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_node_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_python_handler_and_import_error, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_provided_bootstrap, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_timeout_kills_the_group, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_env_and_log, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
