/*
 * api_jobs.c — the job routes an Invoke action's function answers through
 * (CodePipeline's GetJobDetails, PutJobSuccessResult, PutJobFailureResult in ferry's
 * JSON; the bodies are CodePipeline's): the engine checks and applies them
 * (engine_job_*() in engine/engine.h).
 *
 * Authorisation: a token with the "start" scope, or the job's own secret — the
 * artifactCredentials.secretAccessKey of its event, also in the function's
 * FERRY_JOB_SECRET — as `Authorization: Bearer <secret>`, so a function answers with
 * nothing but what it was given. The secret is checked first (constant time); it
 * authorises only its own job and only while the job is open. The check happens
 * before the body is read, like every other route's.
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

/* 122 880 bytes of output variables, escaped, and the rest of a result. */
#define API_JOB_BODY_MAX (1u << 20)

/* 0 when the caller may answer this job; -1 after answering 401/403/500. */
static int authorize_job(struct api_job *job)
{
	const char *id = api_param(job, "id");
	if (job->bearer == 1 && engine_job_secret_ok(job->e, id, job->token))
		return 0;
	const char *how = "Authorization: Bearer <the job's secret, or a token with the "
	                  "\"start\" scope>";
	if (job->bearer != 1) {
		api_reply_error(job, 401, API_ERR_UNAUTHORIZED, "%s; %s %s needs %s",
		                job->bearer ? "the Authorization header is not a bearer token"
		                            : "no token",
		                job->route->method, job->route->pattern, how);
		return -1;
	}
	struct err err;
	int st = store_token_check(engine_store(job->e), job->token, STORE_SCOPE_START, &job->who,
	                           &err);
	switch (st) {
	case STORE_TOKEN_OK:
		return 0;
	case STORE_TOKEN_FORBIDDEN:
		api_reply_error(job, 403, API_ERR_FORBIDDEN,
		                "token \"%s\" lacks the \"start\" scope that %s %s needs",
		                job->who.name, job->route->method, job->route->pattern);
		return -1;
	case STORE_TOKEN_UNKNOWN:
	case STORE_TOKEN_REVOKED:
		api_reply_error(
		        job, 401, API_ERR_UNAUTHORIZED,
		        "neither a live token nor the secret of open job %s; %s %s needs %s",
		        id ? id : "", job->route->method, job->route->pattern, how);
		return -1;
	default:
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "checking the token: %s", err.msg);
		return -1;
	}
}

static void job_result(struct api_job *job, int success)
{
	if (authorize_job(job) < 0)
		return;
	json_t *body = api_body_object(job);
	if (!body)
		return;
	struct engine_err err = {0};
	const char *id = api_param(job, "id");
	int rc = success ? engine_job_success(job->e, id, body, &err)
	                 : engine_job_failure(job->e, id, body, &err);
	json_decref(body);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 200, json_object());
}

static void put_success(struct api_job *job)
{
	job_result(job, 1);
}

static void put_failure(struct api_job *job)
{
	job_result(job, 0);
}

static void get_job(struct api_job *job)
{
	if (authorize_job(job) < 0)
		return;
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_job_get(job->e, api_param(job, "id"), &out, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 200, out);
}

/* API_SCOPE_NONE: authorize_job() does the check, as the job's secret also counts. */
const struct api_route api_job_routes[] = {
        {"POST", "/api/jobs/{id}/success", API_SCOPE_NONE, put_success, API_JOB_BODY_MAX, 0},
        {"POST", "/api/jobs/{id}/failure", API_SCOPE_NONE, put_failure, API_JOB_BODY_MAX, 0},
        {"GET", "/api/jobs/{id}", API_SCOPE_NONE, get_job, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
