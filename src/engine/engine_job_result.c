/*
 * engine_job_result.c — the answers to an Invoke action's job (spec §5.3, §5.4):
 * GetJobDetails, PutJobSuccessResult, PutJobFailureResult, with CodePipeline's checks
 * and exception names, and what each does to the action.
 *
 * Why it is built this way:
 *  - the checks come first and change nothing: a malformed result leaves the job open
 *    for a good one;
 *  - the job is recorded ended before the action is: a second result is refused even
 *    if the daemon dies between the two commits (the restart then fails the action as
 *    interrupted, its job no longer open);
 *  - output artifacts are the function's to write at their objectKey (a file under
 *    <data>/artifacts, spec §4.7 [F]); a final success whose outputs are missing fails
 *    the action naming the artifact, rather than the next action failing later [F].
 */
#include "engine/engine_int.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/artifacts.h"
#include "store/jobs.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define OUTPUT_VARIABLES_MAX 122880 /* bytes of keys and values, spec §3.1 */
#define TOKEN_MAX            2048
#define SUMMARY_MAX          2048
#define EXTERNAL_ID_MAX      1500
#define MESSAGE_MAX          5000
#define REVISION_MAX         1500
#define CHANGE_ID_MAX        100

static int invalid(struct engine_err *err, const char *type, const char *fmt, ...)
        FERRY_PRINTF(3, 4);
static int invalid(struct engine_err *err, const char *type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->err.msg, sizeof err->err.msg, fmt, ap);
	va_end(ap);
	err->type = type;
	return ENGINE_EINVALID;
}

static int is_uuid(const char *s)
{
	if (!s || strlen(s) != ENGINE_UUID_LEN)
		return 0;
	for (int i = 0; i < ENGINE_UUID_LEN; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

/* A string member of `o` of min..max characters; absent is fine unless `required`. */
static int check_str(json_t *o, const char *key, const char *where, int required, size_t min,
                     size_t max, const char **out, struct engine_err *err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return invalid(err, "ValidationException", "%s%s: required", where, key);
		return 0;
	}
	if (!json_is_string(v))
		return invalid(err, "ValidationException", "%s%s: expected a string", where, key);
	size_t n = json_string_length(v);
	if (n < min || n > max)
		return invalid(err, "ValidationException",
		               "%s%s: expected %zu to %zu characters, got %zu", where, key, min,
		               max, n);
	*out = json_string_value(v);
	return 0;
}

static int check_object(json_t *o, const char *key, json_t **out, struct engine_err *err)
{
	*out = json_object_get(o, key);
	if (*out && json_is_null(*out))
		*out = NULL;
	if (*out && !json_is_object(*out))
		return invalid(err, "ValidationException", "%s: expected an object", key);
	return 0;
}

static int key_ok(const char *k)
{
	if (!*k)
		return 0;
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9') || *k == '@' || *k == '-' || *k == '_'))
			return 0;
	return 1;
}

/* Finds the open job and its running action; a negative engine rc otherwise. */
static int open_job(struct engine *e, const char *job_id, json_t *body, struct store_job *j,
                    struct eng_exec **x, struct store_action **r, struct engine_err *err)
{
	memset(j, 0, sizeof *j);
	if (!is_uuid(job_id))
		return invalid(err, "ValidationException",
		               "jobId: \"%.60s\" is not a job id (a lowercase UUID)", job_id);
	if (body) {
		const char *in_body = NULL;
		if (check_str(body, "jobId", "", 0, 1, 64, &in_body, err) < 0)
			return ENGINE_EINVALID;
		if (in_body && strcmp(in_body, job_id))
			return invalid(err, "ValidationException",
			               "jobId: the body names job %s, the path job %s", in_body,
			               job_id);
	}
	int rc = store_job_get(e->st, job_id, j, &err->err);
	if (rc == STORE_NOT_FOUND)
		return invalid(err, "JobNotFoundException", "no job with id %s", job_id);
	if (rc < 0)
		return eng_store_rc(-1, err);
	if (!store_job_is_open(j->status)) {
		rc = invalid(err, "InvalidJobStateException",
		             "job %s is %s already%s%s: it takes no other result", job_id,
		             j->status, j->summary ? ": " : "", j->summary ? j->summary : "");
		store_job_free(j);
		return rc;
	}
	*r = eng_invoke_row(e, j->action_execution_id, x);
	if (!*r || strcmp((*r)->status, "InProgress")) {
		rc = invalid(err, "InvalidJobStateException",
		             "job %s: its action %s is no longer running", job_id, j->action);
		store_job_free(j);
		return rc;
	}
	return 0;
}

int engine_job_secret_ok(struct engine *e, const char *job_id, const char *secret)
{
	if (!is_uuid(job_id) || !secret)
		return 0;
	struct store_job j;
	struct err err;
	if (store_job_get(e->st, job_id, &j, &err) != 0)
		return 0;
	int ok = store_job_is_open(j.status) && j.secret && strlen(j.secret) == strlen(secret) &&
	         sodium_memcmp(j.secret, secret, strlen(secret)) == 0;
	store_job_free(&j);
	return ok;
}

int engine_job_get(struct engine *e, const char *job_id, json_t **out, struct engine_err *err)
{
	*out = NULL;
	if (!is_uuid(job_id))
		return invalid(err, "ValidationException",
		               "jobId: \"%.60s\" is not a job id (a lowercase UUID)", job_id);
	struct store_job j;
	int rc = store_job_get(e->st, job_id, &j, &err->err);
	if (rc == STORE_NOT_FOUND)
		return invalid(err, "JobNotFoundException", "no job with id %s", job_id);
	if (rc < 0)
		return eng_store_rc(-1, err);
	json_t *data = eng_invoke_event_data(&j, 1);
	json_object_set_new(data, "actionTypeId",
	                    json_pack("{s:s,s:s,s:s,s:s}", "category", "Invoke", "owner", "AWS",
	                              "provider", "Lambda", "version", "1"));
	char *arn = xasprintf("arn:aws:codepipeline:local:" ENGINE_ACCOUNT_ID ":%s", j.pipeline);
	json_object_set_new(data, "pipelineContext",
	                    json_pack("{s:s,s:{s:s},s:{s:s,s:s},s:s,s:s}", "pipelineName",
	                              j.pipeline, "stage", "name", j.stage, "action", "name",
	                              j.action, "actionExecutionId", j.action_execution_id,
	                              "pipelineArn", arn, "pipelineExecutionId", j.execution_id));
	free(arn);
	*out = json_pack("{s:{s:s,s:s,s:o}}", "jobDetails", "id", j.id, "accountId",
	                 ENGINE_ACCOUNT_ID, "data", data);
	store_job_free(&j);
	return 0;
}

/* ---- PutJobSuccessResult ---- */

struct success {
	const char *token, *summary, *external_id;
	int percent;
	json_t *revision; /* currentRevision, or NULL */
	json_t *vars;     /* outputVariables, or NULL */
};

static int check_success(json_t *b, struct success *s, struct engine_err *err)
{
	memset(s, 0, sizeof *s);
	s->percent = -1;
	json_t *details = NULL;
	if (check_str(b, "continuationToken", "", 0, 1, TOKEN_MAX, &s->token, err) < 0 ||
	    check_object(b, "executionDetails", &details, err) < 0 ||
	    check_object(b, "currentRevision", &s->revision, err) < 0 ||
	    check_object(b, "outputVariables", &s->vars, err) < 0)
		return ENGINE_EINVALID;
	if (details) {
		if (check_str(details, "summary", "executionDetails.", 0, 1, SUMMARY_MAX,
		              &s->summary, err) < 0 ||
		    check_str(details, "externalExecutionId", "executionDetails.", 0, 1,
		              EXTERNAL_ID_MAX, &s->external_id, err) < 0)
			return ENGINE_EINVALID;
		json_t *pc = json_object_get(details, "percentComplete");
		if (pc && !json_is_null(pc)) {
			if (!json_is_integer(pc) || json_integer_value(pc) < 0 ||
			    json_integer_value(pc) > 100)
				return invalid(err, "ValidationException",
				               "executionDetails.percentComplete: expected a whole "
				               "number from 0 to 100");
			s->percent = (int)json_integer_value(pc);
		}
	}
	if (s->revision) {
		const char *v;
		if (check_str(s->revision, "revision", "currentRevision.", 1, 1, REVISION_MAX, &v,
		              err) < 0 ||
		    check_str(s->revision, "changeIdentifier", "currentRevision.", 1, 1,
		              CHANGE_ID_MAX, &v, err) < 0 ||
		    check_str(s->revision, "revisionSummary", "currentRevision.", 0, 1, SUMMARY_MAX,
		              &v, err) < 0)
			return ENGINE_EINVALID;
	}
	if (s->vars) {
		if (s->token)
			return invalid(err, "ValidationException",
			               "outputVariables cannot be given with a continuationToken: "
			               "they belong to the final result");
		size_t total = 0;
		const char *k;
		json_t *v;
		json_object_foreach(s->vars, k, v)
		{
			if (!key_ok(k))
				return invalid(err, "ValidationException",
				               "outputVariables: key \"%.100s\" must match "
				               "[A-Za-z0-9@\\-_]+",
				               k);
			if (!json_is_string(v))
				return invalid(err, "ValidationException",
				               "outputVariables.%s: expected a string", k);
			total += strlen(k) + json_string_length(v);
		}
		if (total > OUTPUT_VARIABLES_MAX)
			return invalid(err, "OutputVariablesSizeExceededException",
			               "outputVariables: %zu bytes, more than the %d allowed",
			               total, OUTPUT_VARIABLES_MAX);
	}
	return 0;
}

/* Records the output artifacts the function wrote; 0, or -1 with *why (to free). */
static int collect_outputs(struct engine *e, struct eng_exec *x, struct store_action *r,
                           const struct store_job *j, char **why)
{
	json_t *data = eng_invoke_event_data(j, 0);
	json_t *outs = json_object_get(data, "outputArtifacts"), *o;
	json_t *shown = json_array();
	size_t i;
	int rc = 0;
	json_array_foreach(outs, i, o)
	{
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *key = json_string_value(json_object_get(
		        json_object_get(json_object_get(o, "location"), "s3Location"),
		        "objectKey"));
		if (!name || !key)
			continue;
		char *path = eng_path(e, "artifacts/%s", key);
		char sha256[65], md5[33];
		int64_t size = 0;
		struct err err;
		if (!fs_exists(path) || artifacts_hash_file(path, sha256, md5, &size, &err) < 0) {
			*why = xasprintf("output artifact %s was not uploaded: the function must "
			                 "write it (a zip) to $FERRY_ARTIFACTS_DIR/%s",
			                 name, key);
			free(path);
			rc = -1;
			break;
		}
		struct store_artifact *a = NULL;
		for (size_t k = 0; k < x->nartifacts; k++)
			if (!strcmp(x->artifacts[k].name, name))
				a = &x->artifacts[k];
		if (!a) {
			x->artifacts = xgrow(x->artifacts, x->nartifacts, sizeof *x->artifacts);
			a = &x->artifacts[x->nartifacts++];
			memset(a, 0, sizeof *a);
			a->execution_id = xstrdup(x->row.id);
			a->name = xstrdup(name);
		}
		eng_row_set(&a->path, path);
		eng_row_set(&a->sha256, sha256);
		a->size = size;
		eng_row_set(&a->revision, NULL);
		eng_row_set(&a->action_execution_id, r->id);
		json_array_append_new(
		        shown, json_pack("{s:s,s:{s:s}}", "name", name, "location", "path", path));
		free(path);
	}
	if (rc == 0) {
		free(r->output_artifacts);
		r->output_artifacts = json_dumps(shown, JSON_COMPACT);
	}
	json_decref(shown);
	json_decref(data);
	return rc;
}

int engine_job_success(struct engine *e, const char *job_id, json_t *result, struct engine_err *err)
{
	if (!json_is_object(result))
		return invalid(err, "ValidationException", "body: expected a JSON object");
	struct success s;
	if (check_success(result, &s, err) < 0)
		return ENGINE_EINVALID;
	struct store_job j;
	struct eng_exec *x = NULL;
	struct store_action *r = NULL;
	int rc = open_job(e, job_id, result, &j, &x, &r, err);
	if (rc < 0)
		return rc;
	eng_row_set(&j.next_token, s.token);
	j.percent_complete = s.percent;
	eng_invoke_job_end(e, &j, STORE_JOB_SUCCEEDED, s.summary);
	if (s.summary)
		eng_row_set(&r->summary, s.summary);
	if (s.external_id)
		eng_row_set(&r->external_id, s.external_id);
	if (s.revision) {
		json_t *rev = json_pack("{s:O,s:O?}", "revisionId",
		                        json_object_get(s.revision, "revision"), "revisionSummary",
		                        json_object_get(s.revision, "revisionSummary"));
		free(r->revision);
		r->revision = json_dumps(rev, JSON_COMPACT);
		json_decref(rev);
	}
	r->updated_ms = wall_ms();
	if (s.token) {
		/* still in progress: a new job after the delay (spec §5.4) */
		eng_invoke_arm(e, r->id, ENG_INVOKE_WAIT_CONTINUE, e->job_continuation_ms);
		(void)eng_exec_commit(e, x, &err->err);
		eng_log(e, "pipeline %s: action %s: job %s continues%s%s", x->row.pipeline,
		        r->action, job_id, s.summary ? ": " : "", s.summary ? s.summary : "");
		store_job_free(&j);
		return 0;
	}
	eng_invoke_disarm(e, r->id);
	char *why = NULL;
	if (collect_outputs(e, x, r, &j, &why) < 0) {
		eng_row_set(&r->status, "Failed");
		eng_row_set(&r->summary, why);
		eng_row_set(&r->error_code, "JobFailed");
		eng_row_set(&r->error_message, why);
	} else {
		eng_row_set(&r->status, "Succeeded");
		if (!s.summary)
			eng_row_set(&r->summary, NULL);
		free(r->output_variables);
		r->output_variables = s.vars ? json_dumps(s.vars, JSON_COMPACT) : NULL;
	}
	if (eng_exec_commit(e, x, &err->err) < 0) {
		free(why);
		store_job_free(&j);
		return eng_store_rc(-1, err);
	}
	eng_log(e, "pipeline %s: action %s %s (job %s)%s%s", x->row.pipeline, r->action, r->status,
	        job_id, r->summary ? ": " : "", r->summary ? r->summary : "");
	free(why);
	store_job_free(&j);
	eng_advance(e);
	return 0;
}

/* ---- PutJobFailureResult ---- */

static const char *const failure_types[] = {
        "JobFailed",
        "ConfigurationError",
        "PermissionError",
        "RevisionOutOfSync",
        "RevisionUnavailable",
        "SystemUnavailable",
        NULL,
};

int engine_job_failure(struct engine *e, const char *job_id, json_t *result, struct engine_err *err)
{
	if (!json_is_object(result))
		return invalid(err, "ValidationException", "body: expected a JSON object");
	json_t *fd = NULL;
	if (check_object(result, "failureDetails", &fd, err) < 0)
		return ENGINE_EINVALID;
	if (!fd)
		return invalid(err, "ValidationException", "failureDetails: required");
	const char *type = NULL, *message = NULL, *external = NULL;
	if (check_str(fd, "type", "failureDetails.", 1, 1, 64, &type, err) < 0 ||
	    check_str(fd, "message", "failureDetails.", 1, 1, MESSAGE_MAX, &message, err) < 0 ||
	    check_str(fd, "externalExecutionId", "failureDetails.", 0, 1, EXTERNAL_ID_MAX,
	              &external, err) < 0)
		return ENGINE_EINVALID;
	size_t t = 0;
	while (failure_types[t] && strcmp(failure_types[t], type))
		t++;
	if (!failure_types[t])
		return invalid(err, "ValidationException",
		               "failureDetails.type: \"%.60s\" is not one of JobFailed, "
		               "ConfigurationError, PermissionError, RevisionOutOfSync, "
		               "RevisionUnavailable, SystemUnavailable",
		               type);
	struct store_job j;
	struct eng_exec *x = NULL;
	struct store_action *r = NULL;
	int rc = open_job(e, job_id, result, &j, &x, &r, err);
	if (rc < 0)
		return rc;
	eng_invoke_job_end(e, &j, STORE_JOB_FAILED, message);
	eng_invoke_disarm(e, r->id);
	eng_row_set(&r->status, "Failed");
	eng_row_set(&r->summary, message);
	eng_row_set(&r->error_code, type);
	eng_row_set(&r->error_message, message);
	if (external)
		eng_row_set(&r->external_id, external);
	r->updated_ms = wall_ms();
	if (eng_exec_commit(e, x, &err->err) < 0) {
		store_job_free(&j);
		return eng_store_rc(-1, err);
	}
	eng_log(e, "pipeline %s: action %s Failed (job %s): %s: %s", x->row.pipeline, r->action,
	        job_id, type, message);
	store_job_free(&j);
	eng_advance(e);
	return 0;
}
