/*
 * api_pipelines.c — /api/pipelines: the declarations (CreatePipeline, GetPipeline,
 * UpdatePipeline, DeletePipeline, ListPipelines), their state (GetPipelineState),
 * their trigger events and their webhook secret.
 *
 * A declaration travels as the body, exactly as the user's file holds it (JSON or
 * YAML): the engine parses it, so that errors name the user's lines and columns.
 * ?filename= names the file in those errors (the CLI sends the file's base name).
 */
#include "api/api_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "spec/pipeline.h"

#define API_FILENAME_MAX 200
#define API_FILENAME_DEF "pipeline"

/* ?filename= when it is a plain base name, else "pipeline". */
static const char *body_filename(const struct api_job *job)
{
	const char *f = api_query(job, "filename");
	if (!f || !*f || strlen(f) > API_FILENAME_MAX || !strcmp(f, ".") || !strcmp(f, ".."))
		return API_FILENAME_DEF;
	for (const unsigned char *p = (const unsigned char *)f; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/')
			return API_FILENAME_DEF;
	return f;
}

static void list_pipelines(struct api_job *job)
{
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_pipeline_list(job->e, &out, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 200, out);
}

static void create_pipeline(struct api_job *job)
{
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_pipeline_create(job->e, job->body, job->body_len, body_filename(job),
	                                api_query_flag(job, "noStart"), &out, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 201, out);
}

static void get_pipeline(struct api_job *job)
{
	int version = 0;
	if (api_query_int(job, "version", 0, 1, 1000000000, &version) < 0)
		return;
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_pipeline_get(job->e, api_param(job, "name"), version, &out, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 200, out);
}

/* PUT addresses a pipeline by its path: a body naming another one is refused rather
 * than silently creating or changing that other pipeline. A body that does not parse
 * goes on to the engine, whose error is the one the user needs. */
static void update_pipeline(struct api_job *job)
{
	const char *name = api_param(job, "name");
	const char *filename = body_filename(job);
	struct pipeline *p = NULL;
	struct err perr;
	if (pipeline_parse(job->body, job->body_len, filename, NULL, &p, &perr) == 0) {
		int same = !strcmp(p->name, name);
		if (!same)
			api_reply_error(job, 400, API_ERR_VALIDATION,
			                "%s: name: \"%s\" is not the pipeline addressed by PUT "
			                "/api/pipelines/%s (rename by creating a new pipeline)",
			                filename, p->name, name);
		pipeline_free(p);
		if (!same)
			return;
	}
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_pipeline_update(job->e, job->body, job->body_len, filename, &out, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 200, out);
}

static void delete_pipeline(struct api_job *job)
{
	const char *name = api_param(job, "name");
	struct engine_err err = {0};
	int rc = engine_pipeline_delete(job->e, name, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 200,
		               json_pack("{s:s,s:b}", "pipelineName", name, "deleted", 1));
}

static void pipeline_state(struct api_job *job)
{
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_state(job->e, api_param(job, "name"), &out, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 200, out);
}

static void trigger_events(struct api_job *job)
{
	int max = 0;
	if (api_query_int(job, "maxResults", 0, 1, API_EXECUTIONS_MAX_RESULTS, &max) < 0)
		return;
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_trigger_events(job->e, api_param(job, "name"), max, &out, &err);
	if (rc < 0)
		api_reply_engine(job, rc, &err);
	else
		api_reply_json(job, 200, out);
}

static void webhook_secret(struct api_job *job, int rotate)
{
	const char *name = api_param(job, "name");
	char *secret = NULL;
	struct engine_err err = {0};
	int rc = engine_webhook_secret(job->e, name, rotate, &secret, &err);
	if (rc < 0) {
		api_reply_engine(job, rc, &err);
		return;
	}
	/* the path the forge posts to goes beside the secret it signs with */
	char *path = xasprintf("/webhooks/%s", name);
	api_reply_json(job, 200,
	               json_pack("{s:s,s:s,s:s,s:b}", "pipelineName", name, "webhookSecret", secret,
	                         "webhookPath", path, "rotated", rotate));
	free(path);
	sodium_memzero(secret, strlen(secret));
	free(secret);
}

static void get_webhook_secret(struct api_job *job)
{
	webhook_secret(job, 0);
}

static void rotate_webhook_secret(struct api_job *job)
{
	webhook_secret(job, 1);
}

const struct api_route api_pipeline_routes[] = {
        {"GET", "/api/pipelines", STORE_SCOPE_READ, list_pipelines, 0, 0},
        {"POST", "/api/pipelines", STORE_SCOPE_ADMIN, create_pipeline, PIPELINE_FILE_MAX, 0},
        {"GET", "/api/pipelines/{name}", STORE_SCOPE_READ, get_pipeline, 0, 0},
        {"PUT", "/api/pipelines/{name}", STORE_SCOPE_ADMIN, update_pipeline, PIPELINE_FILE_MAX, 0},
        {"DELETE", "/api/pipelines/{name}", STORE_SCOPE_ADMIN, delete_pipeline, 0, 0},
        {"GET", "/api/pipelines/{name}/state", STORE_SCOPE_READ, pipeline_state, 0, 0},
        {"GET", "/api/pipelines/{name}/triggers", STORE_SCOPE_READ, trigger_events, 0, 0},
        {"GET", "/api/pipelines/{name}/webhook-secret", STORE_SCOPE_ADMIN, get_webhook_secret, 0,
         0},
        {"POST", "/api/pipelines/{name}/webhook-secret", STORE_SCOPE_ADMIN, rotate_webhook_secret,
         0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
