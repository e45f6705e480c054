/*
 * deploy_s3.c — the S3 Deploy action (../shared/spec/pipeline.md §4.4): the input
 * artifact becomes a new release of the ferry site named by BucketName, switched
 * live atomically (sites/site.h).
 *
 * Why it is built this way:
 *  - the engine resolves the configuration into job.json's "deploy" object (site,
 *    extract, objectKey, cacheControl), so this file reads no AWS key names;
 *  - the action opens the store itself (a child process has its own connection; WAL
 *    lets it write beside the daemon) and waits for a deploy or rollback of the same
 *    site in progress, as two pipelines deploying one site should;
 *  - a deploy that fails publishes nothing: the live release is untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/actions_int.h"
#include "sites/site.h"
#include "store/store.h"
#include "util/buf.h"

#define DEPLOY_SOURCE_MAX 512

static json_t *deploy_object(const struct action_job *job, struct action_result *r)
{
	json_t *d = json_object_get(job->root, "deploy");
	if (!json_is_object(d)) {
		action_fail(r, "job.json: deploy: expected an object");
		return NULL;
	}
	if (!action_json_str(d, "site") || !*action_json_str(d, "site")) {
		action_fail(r, "job.json: deploy.site: expected a non-empty string");
		return NULL;
	}
	json_t *x = json_object_get(d, "extract");
	if (x && !json_is_boolean(x)) {
		action_fail(r, "job.json: deploy.extract: expected true or false");
		return NULL;
	}
	if (job->ninputs != 1) {
		action_fail(r, "job.json: inputs: expected one input artifact, found %zu",
		            job->ninputs);
		return NULL;
	}
	if (!job->data_dir) {
		action_fail(r, "job.json: dataDir: expected a non-empty string");
		return NULL;
	}
	return d;
}

int action_deploy_s3(const struct action_job *job, struct action_result *r)
{
	json_t *d = deploy_object(job, r);
	if (!d)
		return 0;
	char source[DEPLOY_SOURCE_MAX];
	snprintf(source, sizeof source, "pipeline %s execution %s action %s",
	         job->pipeline ? job->pipeline : "?", job->execution_id ? job->execution_id : "?",
	         job->action ? job->action : "?");
	struct site_deploy sd = {
	        .site = action_json_str(d, "site"),
	        .zip = job->inputs[0].path,
	        .extract = !json_is_false(json_object_get(d, "extract")),
	        .object_key = action_json_str(d, "objectKey"),
	        .cache_control = action_json_str(d, "cacheControl"),
	        .revision = job->inputs[0].revision,
	        .source = source,
	        .wait = 1,
	};
	action_log("deploy", "publishing %s (%s) to site %s%s%s", job->inputs[0].name,
	           sd.extract ? "extracted" : "as one file", sd.site,
	           sd.object_key && *sd.object_key ? " under " : "",
	           sd.object_key ? sd.object_key : "");
	struct store *st = NULL;
	struct err err;
	if (store_open(job->data_dir, &st, &err) < 0) {
		action_fail(r, "%s", err.msg);
		return 0;
	}
	int64_t number = 0;
	if (site_deploy(st, job->data_dir, &sd, &number, &err) != 0) {
		action_fail(r, "%s", err.msg);
		store_close(st);
		return 0;
	}
	struct store_release *rel = NULL;
	size_t n = 0;
	int64_t files = 0;
	if (store_release_list(st, sd.site, &rel, &n, &err) == 0)
		for (size_t i = 0; i < n; i++)
			if (rel[i].number == number)
				files = rel[i].files;
	store_release_list_free(rel, n);
	store_close(st);
	char num[24];
	snprintf(num, sizeof num, "%lld", (long long)number);
	r->summary = xasprintf("Deployed release %s of site %s (%lld files)", num, sd.site,
	                       (long long)files);
	r->external_id = xasprintf("%s:%s", sd.site, num);
	json_object_set_new(r->variables, "ReleaseNumber", json_string(num));
	json_object_set_new(r->variables, "SiteName", json_string(sd.site));
	action_log("deploy", "%s", r->summary);
	return 0;
}
