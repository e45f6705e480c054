/*
 * invoke_main.c — `ferry __invoke DIR` (invoke_main.h): reads the request the daemon
 * wrote, runs fn_invoke() and writes the result beside it.
 */
#include "functions/invoke_main.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functions/fn.h"
#include "functions/registry.h"
#include "util/buf.h"
#include "util/fs.h"

static int write_json(const char *dir, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	char *path = fs_join(dir, FN_INVOKE_RESULT);
	struct err err;
	int rc = fs_write_atomic(path, text, strlen(text), 0600, &err);
	if (rc < 0)
		fprintf(stderr, "ferry __invoke: %s\n", err.msg);
	free(path);
	free(text);
	json_decref(o);
	return rc < 0 ? 1 : 0;
}

int fn_invoke_main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ferry __invoke DIR\n");
		return 2;
	}
	const char *dir = argv[1];
	char *req_path = fs_join(dir, FN_INVOKE_REQUEST);
	char *pay_path = fs_join(dir, FN_INVOKE_PAYLOAD);
	json_error_t jerr;
	json_t *rq = json_load_file(req_path, 0, &jerr);
	char *payload = NULL;
	size_t len = 0;
	struct err err;
	int rc = 0, stop = 1;
	if (!rq) {
		fprintf(stderr, "ferry __invoke: %s: %s\n", req_path, jerr.text);
		rc = 2;
	} else if (fs_read_file(pay_path, FN_PAYLOAD_MAX, &payload, &len, &err) < 0) {
		rc = write_json(dir, json_pack("{s:b,s:s}", "ok", 0, "error", err.msg));
	} else {
		stop = 0;
		if (!payload)
			payload = xstrdup("");
	}
	free(req_path);
	free(pay_path);
	if (stop) {
		free(payload);
		json_decref(rq);
		return rc;
	}
	struct strv env = STRV_INIT;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(rq, "extraEnv"), i, e)
	{
		if (json_is_string(e))
			strv_push(&env, json_string_value(e));
	}
	struct fn_invoke_req req = {
	        .data_dir = json_string_value(json_object_get(rq, "dataDir")),
	        .name = json_string_value(json_object_get(rq, "name")),
	        .qualifier = json_string_value(json_object_get(rq, "qualifier")),
	        .payload = payload,
	        .payload_len = len,
	        .extra_env = (const char *const *)env.v,
	        .log_fd = 1,
	};
	struct fn_invoke_res res;
	if (!req.data_dir || !req.name) {
		rc = write_json(dir, json_pack("{s:b,s:s}", "ok", 0, "error",
		                               "request.json: dataDir and name are required"));
	} else if (fn_invoke(&req, &res, &err) < 0) {
		int missing = strstr(err.msg, "does not exist") || strstr(err.msg, "has no ");
		rc = write_json(dir, json_pack("{s:b,s:s,s:b}", "ok", 0, "error", err.msg,
		                               "notFound", missing));
	} else {
		char *out = fs_join(dir, FN_INVOKE_RESPONSE);
		if (fs_write_atomic(out, res.payload ? res.payload : "", res.payload_len, 0600,
		                    &err) < 0)
			rc = write_json(dir, json_pack("{s:b,s:s}", "ok", 0, "error", err.msg));
		else
			rc = write_json(dir, json_pack("{s:b,s:s,s:s,s:b,s:I}", "ok", 1,
			                               "requestId", res.request_id,
			                               "executedVersion", res.executed_version,
			                               "functionError", res.function_error,
			                               "durationMs", (json_int_t)res.duration_ms));
		free(out);
		fn_invoke_res_free(&res);
	}
	strv_free(&env);
	free(payload);
	json_decref(rq);
	return rc;
}
