/*
 * invoke.c — the function side of an Invoke action (../shared/spec/pipeline.md §5.1):
 * runs the function of job.json's "invoke" object once with the job's event as its
 * payload (functions/fn.h), and again when it errors, as Lambda retries an
 * asynchronous invocation (2 retries) [D][F].
 *
 * Why it is built this way:
 *  - what the function returns is not the action's result: the job's
 *    PutJobSuccessResult / PutJobFailureResult is, and it goes to the daemon. This child
 *    only says "the function ran" (Succeeded) or "it could not be run / it errored on
 *    every attempt" (Failed, with the function's errorType and errorMessage), which the
 *    engine uses only while the job has no result yet;
 *  - before a retry the job is looked up in the store: once it has a result (the
 *    function posted it, then crashed), running it again would do the work twice;
 *  - the function's log lines go to stdout, the action's log, so `ferry logs` shows
 *    them beside ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actions/actions_int.h"
#include "functions/fn.h"
#include "store/jobs.h"
#include "util/buf.h"

#define INVOKE_ATTEMPTS_MAX 10
#define INVOKE_ENV_MAX      32

/* 1 when the job still takes a result (or cannot be looked up: then we go on). */
static int job_open(const char *data_dir, const char *job_id)
{
	struct store *st = NULL;
	struct err err;
	if (!data_dir || store_open(data_dir, &st, &err) < 0)
		return 1;
	struct store_job j;
	int open = 1;
	if (store_job_get(st, job_id, &j, &err) == 0) {
		open = store_job_is_open(j.status);
		store_job_free(&j);
	}
	store_close(st);
	return open;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

int action_invoke(const struct action_job *job, struct action_result *r)
{
	json_t *inv = json_object_get(job->root, "invoke");
	const char *fn = action_json_str(inv, "functionName");
	const char *job_id = action_json_str(inv, "jobId");
	json_t *event = json_object_get(inv, "event");
	json_t *env = json_object_get(inv, "env");
	if (!json_is_object(inv) || !fn || !job_id || !json_is_object(event)) {
		action_fail(r, "job.json: invoke: expected functionName, jobId and event");
		return 0;
	}
	if (!job->data_dir) {
		action_fail(r, "job.json: dataDir: expected a non-empty string");
		return 0;
	}
	json_int_t attempts = json_integer_value(json_object_get(inv, "attempts"));
	if (attempts < 1 || attempts > INVOKE_ATTEMPTS_MAX)
		attempts = 1;
	long delay = (long)json_integer_value(json_object_get(inv, "retryDelayMs"));
	const char *envv[INVOKE_ENV_MAX + 1];
	size_t nenv = 0;
	for (size_t i = 0; i < json_array_size(env) && nenv < INVOKE_ENV_MAX; i++)
		if (json_is_string(json_array_get(env, i)))
			envv[nenv++] = json_string_value(json_array_get(env, i));
	envv[nenv] = NULL;
	char *payload = json_dumps(event, JSON_COMPACT);
	struct fn_invoke_req req = {.data_dir = job->data_dir,
	                            .name = fn,
	                            .payload = payload,
	                            .payload_len = strlen(payload),
	                            .extra_env = envv,
	                            .log_fd = STDOUT_FILENO};
	char *last_error = NULL;
	for (json_int_t attempt = 1; attempt <= attempts; attempt++) {
		if (attempt > 1) {
			if (delay > 0)
				sleep_ms(delay);
			if (!job_open(job->data_dir, job_id)) {
				action_log("invoke", "job %s has its result: no retry", job_id);
				break;
			}
			action_log("invoke", "retrying %s (attempt %lld of %lld)", fn,
			           (long long)attempt, (long long)attempts);
		} else {
			action_log("invoke", "invoking %s with job %s", fn, job_id);
		}
		fflush(stdout);
		struct fn_invoke_res res = {0};
		struct err err;
		if (fn_invoke(&req, &res, &err) < 0) {
			action_fail(r, "function %s could not be run: %s", fn, err.msg);
			break;
		}
		if (!res.function_error) {
			action_log("invoke", "%s returned (request %s, %ld ms)", fn,
			           res.request_id ? res.request_id : "?", res.duration_ms);
			free(last_error);
			last_error = NULL;
			fn_invoke_res_free(&res);
			break;
		}
		json_t *ej = json_loadb(res.payload ? res.payload : "", res.payload_len, 0, NULL);
		const char *type = action_json_str(ej, "errorType");
		const char *msg = action_json_str(ej, "errorMessage");
		free(last_error);
		last_error =
		        xasprintf("%s: %s", type ? type : "Unhandled",
		                  msg ? msg : (res.payload ? res.payload : "the function failed"));
		action_log("invoke", "%s failed (request %s): %s", fn,
		           res.request_id ? res.request_id : "?", last_error);
		json_decref(ej);
		fn_invoke_res_free(&res);
	}
	if (last_error && !r->failed)
		action_fail(r, "%s (function %s failed on all %lld attempts)", last_error, fn,
		            (long long)attempts);
	else if (!r->failed)
		r->summary = xasprintf("function %s ran; the job's result decides", fn);
	free(last_error);
	free(payload);
	return 0;
}
