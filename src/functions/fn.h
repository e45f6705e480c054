/*
 * fn.h — running a function (the Lambda analog) once, in the calling process.
 *
 * This is the contract the Invoke action (src/actions/) and `ferry __invoke` rely
 * on; the registry (create, versions, aliases: functions/registry.h) is separate.
 *
 * fn_invoke() resolves the function in the store under `data_dir` (name, optional
 * qualifier: "$LATEST", a version number, or an alias name; `name:qualifier` in
 * `name` works too), starts the function's runtime process (one fresh execution
 * environment per call) with the Lambda environment variables of
 * ../shared/spec/pipeline.md §8 and AWS_LAMBDA_RUNTIME_API pointing at a Runtime API
 * that fn_invoke() itself serves on 127.0.0.1 (a port the kernel picks), hands it the
 * payload as the one invocation, and waits until the runtime posts /response or
 * /error, exits, or the function's timeout passes (then it is killed, process group
 * and all). It blocks; call it from a child process (an action, `ferry __invoke`),
 * never from the daemon's loop.
 *
 * Every invocation is recorded in the store (request id, function, executed version,
 * status, duration, start time) with a log file under
 * <data>/functions/<name>/logs/<request id>.log holding the runtime's stdout and
 * stderr ("START RequestId: …", the output, "END …", "REPORT … Duration: … ms" as
 * Lambda writes them). When `log_fd` >= 0 the same lines are also written there.
 *
 * Errors: fn_invoke() returns -1 only when the function could not be run at all
 * (unknown function or qualifier, unreadable code, cannot start the runtime) with
 * `err` naming the function and the reason. A function error (the handler threw,
 * the runtime crashed, the timeout passed) is a *successful* fn_invoke() with
 * res->function_error = 1 and res->payload the error JSON
 * {"errorMessage": …, "errorType": …, "stackTrace": […]} (errorType
 * "Sandbox.Timedout" for a timeout, "Runtime.ExitError" for a crash).
 */
#ifndef FERRY_FUNCTIONS_FN_H
#define FERRY_FUNCTIONS_FN_H

#include <stddef.h>

#include "util/err.h"

struct fn_invoke_req {
	const char *data_dir;  /* ferry's data dir (store, function code, logs) */
	const char *name;      /* function name, or "name:qualifier" */
	const char *qualifier; /* NULL: from `name`, else $LATEST */
	const char *payload;   /* the event bytes (JSON for the Invoke action) */
	size_t payload_len;
	const char *const *extra_env; /* "K=V" strings, NULL-terminated, or NULL: added to the
	                                 function's environment after its own variables
	                                 (FERRY_URL, AWS_ENDPOINT_URL, ...) */
	int log_fd;                   /* also copy the invocation's log lines here; -1: no */
};

struct fn_invoke_res {
	char *request_id;       /* the invocation's UUID */
	char *executed_version; /* "$LATEST" or "3" */
	int function_error;     /* 1: the handler failed (payload is the error JSON) */
	char *payload;          /* what the runtime posted (NUL-terminated too) */
	size_t payload_len;
	long duration_ms;
};

/* Runs the function once; see above. On success fill *res (free with
 * fn_invoke_res_free()). */
FERRY_MUST_CHECK
int fn_invoke(const struct fn_invoke_req *req, struct fn_invoke_res *res, struct err *err);

void fn_invoke_res_free(struct fn_invoke_res *res);

#endif
