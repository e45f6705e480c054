/* Unit tests for engine/notify: a real libuv loop runs real children — a command gets
 * the event on stdin, failures are retried then given up, a hanging command is killed
 * at its timeout with everything it started, a URL rule POSTs through
 * `ferry __notify` (build/san/ferry, next to this test's binary) to a server in this
 * process, closing cancels what is in flight — and the event JSON's shape. Each test
 * ends with uv_loop_close() succeeding: nothing is left open. */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <uv.h>

#include "engine/notify.h"
#include "net/http.h"

#define WAIT_MS 20000 /* the longest a test lets its loop run */

struct fx {
	char *dir;
	char *ferry;
	uv_loop_t loop;
	struct notifier *n;
	struct strv log;
	struct http_server *srv;
	pthread_mutex_t mu; /* the server's records */
	struct buf body;
	char *content_type;
	int posts;
};

static void log_emit(void *ctx, const char *line)
{
	struct fx *f = ctx;
	strv_push(&f->log, line);
}

static int log_has(const struct fx *f, const char *s)
{
	for (size_t i = 0; i < f->log.n; i++)
		if (strstr(f->log.v[i], s))
			return 1;
	return 0;
}

static void assert_logged(const struct fx *f, const char *s)
{
	if (log_has(f, s))
		return;
	for (size_t i = 0; i < f->log.n; i++)
		fprintf(stderr, "log: %s\n", f->log.v[i]);
	fail_msg("the log has no line with \"%s\"", s);
}

/* build/san/ferry: $FERRY_BIN, else beside build/san/tests/, else from the repo or
 * tests/out (where tests/run.sh runs us). */
static char *find_ferry(void)
{
	const char *env = getenv("FERRY_BIN");
	if (env && *env)
		return xstrdup(env);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	char *candidates[] = {fs_join(exe, "../ferry"), xstrdup("build/san/ferry"),
	                      xstrdup("../../build/san/ferry")};
	char *found = NULL;
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
		if (!found && access(candidates[i], X_OK) == 0)
			found = realpath(candidates[i], NULL);
		free(candidates[i]);
	}
	if (!found)
		fail_msg("build/san/ferry not found: build it first or set FERRY_BIN");
	return found;
}

static void record_post(struct fx *f, struct http_request *req)
{
	size_t len;
	const char *body = http_request_body(req, &len);
	const char *type = http_request_header(req, "Content-Type");
	pthread_mutex_lock(&f->mu);
	buf_reset(&f->body);
	assert_int_equal(buf_append(&f->body, body, len), 0);
	free(f->content_type);
	f->content_type = xstrdup(type ? type : "");
	f->posts++;
	pthread_mutex_unlock(&f->mu);
}

static void h_hook(struct http_request *req, void *ctx)
{
	record_post(ctx, req);
	http_respond_bytes(req, 204, "text/plain", "", 0);
}

static void h_broken(struct http_request *req, void *ctx)
{
	record_post(ctx, req);
	http_respond_bytes(req, 500, "text/plain", "broken\nsecond line", 18);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	struct err err;
	f->dir = tu_mkdtemp();
	f->ferry = find_ferry();
	assert_int_equal(uv_loop_init(&f->loop), 0);
	struct logsink sink = {log_emit, f};
	assert_int_equal(notify_open(&f->loop, f->ferry, &sink, &f->n, &err), 0);
	pthread_mutex_init(&f->mu, NULL);
	buf_init(&f->body, 1 << 20);
	*state = f;
	return 0;
}

static void on_closed(void *ctx)
{
	(*(int *)ctx)++;
}

static void close_notifier(struct fx *f)
{
	int closed = 0;
	notify_close(f->n, on_closed, &closed);
	f->n = NULL;
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(closed, 1);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->n)
		close_notifier(f);
	assert_int_equal(uv_loop_close(&f->loop), 0); /* no handle left open */
	if (f->srv) {
		http_server_stop(f->srv, 100);
		http_server_free(f->srv);
	}
	pthread_mutex_destroy(&f->mu);
	buf_free(&f->body);
	free(f->content_type);
	strv_free(&f->log);
	tu_rmdir(f->dir);
	free(f->ferry);
	free(f);
	return 0;
}

static unsigned start_server(struct fx *f)
{
	struct err err;
	f->srv = http_server_new(&(struct http_server_opts){.listen = "127.0.0.1:0"});
	if (http_server_route(f->srv, "POST", "/hook/{token}", h_hook, f, &err) < 0 ||
	    http_server_route(f->srv, "POST", "/broken", h_broken, f, &err) < 0 ||
	    http_server_start(f->srv, &err) < 0)
		fail_msg("%s", err.msg);
	return http_server_port(f->srv);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void stop_loop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop until nothing is in flight (it then has no handle: uv_run returns), at
 * most WAIT_MS; returns the time it took in ms. */
static double run_until_idle(struct fx *f)
{
	uv_timer_t guard;
	double t0 = now_ms();
	uv_timer_init(&f->loop, &guard);
	uv_timer_start(&guard, stop_loop, WAIT_MS, 0);
	uv_unref((uv_handle_t *)&guard); /* only the notifier's handles keep the loop running */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	int timed_out = !uv_is_active((uv_handle_t *)&guard);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	if (timed_out)
		fail_msg("deliveries still in flight after %d ms", WAIT_MS);
	return now_ms() - t0;
}

static struct pl_notify_rule command_rule(unsigned events, const char *command, int timeout_s,
                                          int retries)
{
	return (struct pl_notify_rule){.events = events,
	                               .command = (char *)command,
	                               .timeout_s = timeout_s,
	                               .retries = retries};
}

static void send_failed(struct fx *f, const struct pl_notify_rule *rules, size_t n)
{
	json_t *ev = notify_event_json("site", 3, "exec-1", PL_NOTIFY_FAILED, "Build failed",
	                               1700000000000);
	assert_non_null(ev);
	notify_send(f->n, rules, n, PL_NOTIFY_FAILED, ev);
	json_decref(ev);
}

static int count_lines(const char *dir, const char *rel)
{
	char *p = fs_join(dir, rel);
	int exists = access(p, R_OK) == 0;
	free(p);
	if (!exists)
		return 0;
	char *text = tu_read(dir, rel);
	int n = 0;
	for (const char *s = text; *s; s++)
		n += *s == '\n';
	free(text);
	return n;
}

/* Dead, or a zombie nobody reaped yet (PID 1 of a container may never reap). */
static int gone(pid_t pid)
{
	char path[64], stat[512];
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 1;
	size_t n = fread(stat, 1, sizeof stat - 1, fp);
	fclose(fp);
	stat[n] = '\0';
	const char *end = strrchr(stat, ')');
	return end && end[1] == ' ' && end[2] == 'Z';
}

static void assert_gone_soon(pid_t pid)
{
	for (int i = 0; i < 200 && !gone(pid); i++)
		usleep(10000);
	if (!gone(pid))
		fail_msg("process %d outlived its notification", (int)pid);
}

static pid_t read_pid(const char *dir, const char *rel)
{
	char *text = tu_read(dir, rel);
	pid_t pid = (pid_t)strtol(text, NULL, 10);
	free(text);
	assert_true(pid > 1);
	return pid;
}

/* --- commands -------------------------------------------------------------------- */

/* A command rule reads the event on stdin, with FERRY_* in its environment; a rule
 * that does not name the event runs nothing; idle, the loop holds no handle. */
static void test_command_gets_event_on_stdin(void **state)
{
	struct fx *f = *state;
	assert_false(uv_loop_alive(&f->loop));
	char *cmd =
	        xasprintf("cat > '%s/event.json'; "
	                  "echo \"$FERRY_EVENT $FERRY_PIPELINE $FERRY_EXECUTION_ID\" > '%s/env'",
	                  f->dir, f->dir);
	char *other = xasprintf("touch '%s/started'", f->dir);
	struct pl_notify_rule rules[] = {
	        command_rule(PL_NOTIFY_STARTED, other, 10, 2),
	        command_rule(PL_NOTIFY_FAILED | PL_NOTIFY_SUCCEEDED, cmd, 10, 2),
	};
	send_failed(f, rules, 2);
	free(cmd);
	free(other); /* notify_send copied what it keeps */
	run_until_idle(f);
	assert_false(uv_loop_alive(&f->loop));

	char *text = tu_read(f->dir, "event.json");
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1); /* one line */
	json_error_t jerr;
	json_t *ev = json_loads(text, 0, &jerr);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "detail-type")),
	                    "CodePipeline Pipeline Execution State Change");
	json_t *d = json_object_get(ev, "detail");
	assert_string_equal(json_string_value(json_object_get(d, "state")), "FAILED");
	assert_string_equal(json_string_value(json_object_get(d, "pipeline")), "site");
	assert_string_equal(json_string_value(json_object_get(d, "execution-id")), "exec-1");
	assert_int_equal(json_integer_value(json_object_get(d, "version")), 3);
	json_decref(ev);
	free(text);
	text = tu_read(f->dir, "env");
	assert_string_equal(text, "failed site exec-1\n");
	free(text);
	char *started = fs_join(f->dir, "started");
	assert_int_equal(access(started, F_OK), -1);
	free(started);
	assert_logged(f, "notifications[1] of site (failed, execution exec-1): delivered");
	assert_false(log_has(f, "notifications[0]"));
}

/* A failing command is retried `retries` times, 1 s then 2 s apart, then given up;
 * every failure and what it printed are in the log. */
static void test_failing_command_retried_then_given_up(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("echo run >> '%s/runs'; echo oops >&2; exit 3", f->dir);
	struct pl_notify_rule rule = command_rule(PL_NOTIFY_FAILED, cmd, 10, 2);
	send_failed(f, &rule, 1);
	free(cmd);
	double ms = run_until_idle(f);
	assert_int_equal(count_lines(f->dir, "runs"), 3);
	assert_true(ms >= 2900); /* waited 1 s, then 2 s */
	const char *p = "notifications[0] of site (failed, execution exec-1): ";
	char line[256];
	snprintf(line, sizeof line, "%soops", p);
	assert_logged(f, line);
	snprintf(line, sizeof line, "%sattempt 1 of 3 failed: exit status 3; next in 1 s", p);
	assert_logged(f, line);
	snprintf(line, sizeof line, "%sattempt 2 of 3 failed: exit status 3; next in 2 s", p);
	assert_logged(f, line);
	snprintf(line, sizeof line, "%sgave up after 3 attempts: exit status 3", p);
	assert_logged(f, line);
}

/* A command that fails once and then succeeds is delivered at its second attempt. */
static void test_retry_succeeds(void **state)
{
	struct fx *f = *state;
	char *cmd =
	        xasprintf("echo run >> '%s/runs'; [ $(wc -l < '%s/runs') -ge 2 ]", f->dir, f->dir);
	struct pl_notify_rule rule = command_rule(PL_NOTIFY_FAILED, cmd, 10, 5);
	send_failed(f, &rule, 1);
	free(cmd);
	run_until_idle(f);
	assert_int_equal(count_lines(f->dir, "runs"), 2);
	assert_logged(f, "(failed, execution exec-1): delivered at attempt 2");
}

/* A command that hangs is killed at its timeout, with what it started. */
static void test_hanging_command_killed_at_timeout(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("sleep 60 & echo $! > '%s/bg'; sleep 60", f->dir);
	struct pl_notify_rule rule = command_rule(PL_NOTIFY_FAILED, cmd, 1, 0);
	send_failed(f, &rule, 1);
	free(cmd);
	double ms = run_until_idle(f);
	assert_true(ms >= 900 && ms < 10000);
	assert_logged(f, "gave up after 1 attempt: timed out after 1 s (killed)");
	assert_gone_soon(read_pid(f->dir, "bg"));
}

/* When the command exits, what it left running is killed: its output pipe closes and
 * the delivery ends at once, not when the background job would. */
static void test_command_exit_kills_background(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("sleep 60 & echo $! > '%s/bg'", f->dir);
	struct pl_notify_rule rule = command_rule(PL_NOTIFY_FAILED, cmd, 30, 0);
	send_failed(f, &rule, 1);
	free(cmd);
	double ms = run_until_idle(f);
	assert_true(ms < 10000);
	assert_logged(f, "(failed, execution exec-1): delivered");
	assert_gone_soon(read_pid(f->dir, "bg"));
}

/* Closing kills running children and cancels waiting retries; done comes once all is
 * closed. */
static void test_close_cancels(void **state)
{
	struct fx *f = *state;
	char *hang = xasprintf("echo $$ > '%s/pid'; exec sleep 60", f->dir);
	char *fail = xasprintf("echo run >> '%s/runs'; exit 1", f->dir);
	struct pl_notify_rule rules[] = {
	        command_rule(PL_NOTIFY_FAILED, hang, 60, 0),
	        command_rule(PL_NOTIFY_FAILED, fail, 60, 5),
	};
	send_failed(f, rules, 2);
	free(hang);
	free(fail);
	double t0 = now_ms();
	while (!log_has(f, "next in 1 s") && now_ms() - t0 < WAIT_MS)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_logged(f, "notifications[1] of site (failed, execution exec-1): attempt 1 of 6");
	while (count_lines(f->dir, "pid") == 0 && now_ms() - t0 < WAIT_MS)
		usleep(10000);
	pid_t pid = read_pid(f->dir, "pid");
	close_notifier(f);
	assert_true(now_ms() - t0 < 5000);
	assert_gone_soon(pid);
	assert_int_equal(count_lines(f->dir, "runs"), 1);
	assert_logged(f, "notifications[0] of site (failed, execution exec-1): cancelled");
	assert_logged(f, "notifications[1] of site (failed, execution exec-1): cancelled");
}

/* Past NOTIFY_ACTIVE_MAX deliveries in flight, more are dropped (and said so). */
static void test_cap_on_deliveries(void **state)
{
	struct fx *f = *state;
	struct pl_notify_rule rules[NOTIFY_ACTIVE_MAX + 1];
	for (size_t i = 0; i < NOTIFY_ACTIVE_MAX + 1; i++)
		rules[i] = command_rule(PL_NOTIFY_FAILED, "exec sleep 60", 60, 0);
	send_failed(f, rules, NOTIFY_ACTIVE_MAX + 1);
	assert_logged(f, "notifications[64] of site (failed, execution exec-1): dropped: 64 "
	                 "notifications already in flight");
	assert_false(log_has(f, "notifications[63] of site (failed, execution exec-1): dropped"));
	close_notifier(f);
}

/* --- URLs ------------------------------------------------------------------------ */

/* A URL rule POSTs the event as application/json through `ferry __notify`; the log
 * never shows the URL's path (a webhook's secret is often there). */
static void test_url_rule_posts_event(void **state)
{
	struct fx *f = *state;
	unsigned port = start_server(f);
	char *url = xasprintf("http://127.0.0.1:%u/hook/s3cr3t-token", port);
	struct pl_notify_rule rule = {.events = PL_NOTIFY_FAILED, .url = url, .timeout_s = 10};
	json_t *ev = notify_event_json("site", 3, "exec-1", PL_NOTIFY_FAILED, NULL, 1700000000000);
	char *expected = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	notify_send(f->n, &rule, 1, PL_NOTIFY_FAILED, ev);
	json_decref(ev);
	free(url);
	run_until_idle(f);
	assert_logged(f, "notifications[0] of site (failed, execution exec-1): delivered");
	pthread_mutex_lock(&f->mu);
	assert_int_equal(f->posts, 1);
	assert_string_equal(f->content_type, "application/json");
	char *want = xasprintf("%s\n", expected);
	assert_string_equal(f->body.data, want);
	free(want);
	pthread_mutex_unlock(&f->mu);
	free(expected);
	for (size_t i = 0; i < f->log.n; i++)
		assert_null(strstr(f->log.v[i], "s3cr3t"));
}

/* A URL that answers 500 is retried; what it answered is logged. */
static void test_url_rule_retried_on_error(void **state)
{
	struct fx *f = *state;
	unsigned port = start_server(f);
	char *url = xasprintf("http://127.0.0.1:%u/broken", port);
	struct pl_notify_rule rule = {
	        .events = PL_NOTIFY_FAILED, .url = url, .timeout_s = 10, .retries = 1};
	send_failed(f, &rule, 1);
	free(url);
	run_until_idle(f);
	pthread_mutex_lock(&f->mu);
	assert_int_equal(f->posts, 2);
	pthread_mutex_unlock(&f->mu);
	char line[160];
	snprintf(line, sizeof line, "POST http://127.0.0.1:%u/…: answered 500: broken", port);
	assert_logged(f, line);
	assert_logged(f, "gave up after 2 attempts: exit status 1");
}

/* --- the event --------------------------------------------------------------------- */

static const char *str_at(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* EventBridge's envelope, one state per event, the reason where AWS puts it. */
static void test_event_json_shape(void **state)
{
	(void)state;
	static const struct {
		unsigned event;
		const char *state;
	} cases[] = {
	        {PL_NOTIFY_STARTED, "STARTED"}, {PL_NOTIFY_SUCCEEDED, "SUCCEEDED"},
	        {PL_NOTIFY_FAILED, "FAILED"},   {PL_NOTIFY_SUPERSEDED, "SUPERSEDED"},
	        {PL_NOTIFY_STOPPED, "STOPPED"}, {PL_NOTIFY_CANCELLED, "CANCELED"},
	        {PL_NOTIFY_RESUMED, "RESUMED"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *ev =
		        notify_event_json("site", 7, "e-1", cases[i].event, NULL, 1700000000123);
		json_t *d = json_object_get(ev, "detail");
		assert_string_equal(str_at(d, "state"), cases[i].state);
		assert_null(json_object_get(ev, "additionalAttributes"));
		json_decref(ev);
	}
	json_t *ev =
	        notify_event_json("site", 7, "e-1", PL_NOTIFY_STOPPED, "by alice", 1700000000123);
	assert_string_equal(str_at(ev, "version"), "0");
	assert_string_equal(str_at(ev, "source"), "aws.codepipeline");
	assert_string_equal(str_at(ev, "account"), "000000000000");
	assert_string_equal(str_at(ev, "region"), "local");
	assert_string_equal(str_at(ev, "time"), "2023-11-14T22:13:20Z");
	const char *id = str_at(ev, "id");
	assert_int_equal(strlen(id), 36);
	assert_int_equal(id[14], '4'); /* a version 4 UUID */
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "resources"), 0)),
	                    "arn:aws:codepipeline:local:000000000000:site");
	json_t *d = json_object_get(ev, "detail");
	assert_string_equal(str_at(d, "pipeline"), "site");
	assert_string_equal(str_at(d, "execution-id"), "e-1");
	assert_int_equal(json_integer_value(json_object_get(d, "version")), 7);
	assert_string_equal(str_at(d, "stop-execution-comments"), "by alice");
	assert_string_equal(str_at(json_object_get(ev, "additionalAttributes"), "statusSummary"),
	                    "by alice");
	json_decref(ev);

	ev = notify_event_json("site", 7, "e-1", PL_NOTIFY_APPROVAL_NEEDED, "look", 0);
	assert_string_equal(str_at(ev, "detail-type"),
	                    "CodePipeline Action Execution State Change");
	d = json_object_get(ev, "detail");
	assert_string_equal(str_at(d, "state"), "STARTED");
	assert_string_equal(str_at(json_object_get(d, "type"), "provider"), "Manual");
	assert_string_equal(str_at(json_object_get(d, "type"), "category"), "Approval");
	assert_string_equal(str_at(json_object_get(ev, "additionalAttributes"), "customData"),
	                    "look");
	json_decref(ev);
	ev = notify_approval_json("site", 7, "e-1", "Prod", "Approve", NULL, 0);
	d = json_object_get(ev, "detail");
	assert_string_equal(str_at(d, "stage"), "Prod");
	assert_string_equal(str_at(d, "action"), "Approve");
	json_decref(ev);

	assert_null(notify_event_json("site", 7, "e-1", PL_NOTIFY_ALL, NULL, 0));
	assert_null(notify_event_json("site", 7, "e-1", 0, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_command_gets_event_on_stdin, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_failing_command_retried_then_given_up, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_retry_succeeds, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hanging_command_killed_at_timeout, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_command_exit_kills_background, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_close_cancels, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cap_on_deliveries, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_url_rule_posts_event, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_url_rule_retried_on_error, setup, teardown),
	        cmocka_unit_test(test_event_json_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
