/*
 * deploy_appspec.c — the CodeDeploy Deploy action (../shared/spec/pipeline.md §4.4,
 * kind "deploy_codedeploy"): the input artifact is the revision bundle; the action
 * runs one deployment to ApplicationName/DeploymentGroupName (appspec_deploy.h) and
 * succeeds or fails with it. Also `ferry __deploy`, the child the API starts for a
 * deployment pushed outside a pipeline.
 *
 * Why it is built this way:
 *  - the deployment runs synchronously in this child, which opens its own store
 *    connection (as deploy_s3 does): the daemon's loop never waits for a hook;
 *  - SIGTERM (the engine stopping the action) only sets a flag: the running hook's
 *    process group is killed by the deployer, the deployment ends Stopped and the
 *    action reports it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/actions_int.h"
#include "actions/appspec_int.h"
#include "store/store.h"
#include "util/buf.h"

static void on_term(int sig)
{
	(void)sig;
	appspec_stop_requested = 1;
}

static void catch_term(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int action_deploy_codedeploy(const struct action_job *job, struct action_result *r)
{
	const char *app = action_config(job, "ApplicationName");
	const char *group = action_config(job, "DeploymentGroupName");
	if (!app || !*app)
		return action_fail(r, "job.json: configuration.ApplicationName: expected a "
		                      "non-empty string"),
		       0;
	if (!group || !*group)
		return action_fail(r, "job.json: configuration.DeploymentGroupName: expected a "
		                      "non-empty string"),
		       0;
	if (job->ninputs != 1)
		return action_fail(r,
		                   "job.json: inputs: expected one input artifact (the revision "
		                   "bundle), found %zu",
		                   job->ninputs),
		       0;
	if (!job->data_dir)
		return action_fail(r, "job.json: dataDir: expected a non-empty string"), 0;
	catch_term();
	char *source = xasprintf(
	        "pipeline %s execution %s action %s", job->pipeline ? job->pipeline : "?",
	        job->execution_id ? job->execution_id : "?", job->action ? job->action : "?");
	struct deploy_req req = {
	        .data_dir = job->data_dir,
	        .app = app,
	        .group = group,
	        .bundle = job->inputs[0].path,
	        .revision = job->inputs[0].revision,
	        .creator = "pipeline",
	        .source = source,
	        .log_stdout = 1,
	};
	action_log("deploy", "deploying %s to %s/%s", job->inputs[0].name, app, group);
	struct store *st = NULL;
	struct err err;
	if (store_open(job->data_dir, &st, &err) < 0) {
		free(source);
		return action_fail(r, "%s", err.msg), 0;
	}
	struct deploy_outcome out;
	if (appspec_deploy(st, &req, &out, &err) < 0) {
		action_fail(r, "%s", err.msg);
	} else {
		if (out.succeeded) {
			r->summary = xstrdup(out.summary);
			action_log("deploy", "%s", out.summary);
		} else {
			action_fail(r, "%s", out.summary);
		}
		r->external_id = xstrdup(out.id);
		json_object_set_new(r->variables, "DeploymentId", json_string(out.id));
	}
	deploy_outcome_free(&out);
	store_close(st);
	free(source);
	return 0;
}

int appspec_deploy_main(int argc, char **argv)
{
	if (argc < 6 || argc > 7) {
		fputs("usage: ferry __deploy DATA_DIR DEPLOYMENT_ID APP GROUP BUNDLE [SOURCE]\n",
		      stderr);
		return 2;
	}
	catch_term();
	struct deploy_req req = {
	        .data_dir = argv[1],
	        .deployment_id = argv[2],
	        .app = argv[3],
	        .group = argv[4],
	        .bundle = argv[5],
	        .source = argc > 6 ? argv[6] : "cli",
	        .creator = "user",
	};
	struct store *st = NULL;
	struct err err;
	if (store_open(req.data_dir, &st, &err) < 0) {
		fprintf(stderr, "ferry __deploy: %s\n", err.msg);
		return 1;
	}
	struct deploy_outcome out;
	int rc = appspec_deploy(st, &req, &out, &err);
	if (rc < 0)
		fprintf(stderr, "ferry __deploy: %s\n", err.msg);
	else
		deploy_outcome_free(&out);
	store_close(st);
	return rc < 0 ? 1 : 0;
}
