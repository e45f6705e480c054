/*
 * appspec_deploy.h — one appspec.yml deployment (ferry's CodeDeploy, EC2/on-premises
 * flavour, ../shared/spec/pipeline.md §9) to a deployment group whose "instances" are
 * local directories, run synchronously in the calling process: by the CodeDeploy
 * pipeline action (`ferry __action`, kind deploy_codedeploy) and by `ferry __deploy`
 * for a deployment pushed outside a pipeline. docs/deployments.md is the user's view.
 *
 * Layout under <data>/deploy/<app>/<group>/:
 *     bundles/<deployment-id>.zip       the revision, kept for rollbacks
 *     logs/<deployment-id>.log          every hook's output and the deployer's lines
 *     <target-index>/                   one deployment root per target (blue: 0, green: 1)
 *         <deployment-id>/deployment-archive/     the extracted bundle
 *         deployment-instructions/<group-id>_last_successful_install   (its archive dir)
 *         deployment-instructions/<group-id>-cleanup   files/dirs the last Install made
 *     .lock                             one deployment of a group at a time (flock)
 *
 * Invariants:
 *  - a deployment is recorded (store/deployments.h) before anything runs, and its
 *    events as they run: `ferry deploy get` shows progress live;
 *  - destinations are resolved UNDER the target directory; nothing of a bundle is
 *    written outside its deployment root and the target;
 *  - blue/green: the edge's route moves (sites/proxy.h) only after ValidateService
 *    succeeded on the replacement slot;
 *  - a failed deployment with auto rollback on and an earlier successful revision is
 *    followed by a rollback deployment (creator codeDeployRollback) before this
 *    returns; the failed one stays Failed.
 */
#ifndef FERRY_ACTIONS_APPSPEC_DEPLOY_H
#define FERRY_ACTIONS_APPSPEC_DEPLOY_H

#include <stdint.h>

#include "store/deployments.h"
#include "util/err.h"

struct deploy_req {
	const char *data_dir;
	const char *app, *group;
	const char *bundle;        /* the revision zip (copied into bundles/) */
	const char *revision;      /* commit id, or NULL: the zip's sha256 */
	const char *creator;       /* "pipeline" or "user" */
	const char *source;        /* "pipeline P execution E action A", "cli" */
	const char *deployment_id; /* made already (a push), or NULL: made here */
	int log_stdout;            /* also copy the log to stdout (the action's log) */
	long entries_max;          /* a bundle's entry cap; 0: DEPLOY_ENTRIES_MAX (100000) */
};

struct deploy_outcome {
	char id[STORE_DEPLOY_ID_LEN + 1];
	int succeeded;
	int ntargets;
	char *summary; /* "Deployment d-… Succeeded (2 targets)" or the failure */
	char rollback_id[STORE_DEPLOY_ID_LEN + 1]; /* "" when none ran */
};

/* Runs the deployment. 0 with `out` filled whatever its status (a failure of the
 * deployment is out->succeeded 0 with the reason in out->summary); -1 with `err` when it
 * could not be started (no such group, an unreadable bundle...) — then nothing ran,
 * but a deployment id given in req is marked Failed. */
FERRY_MUST_CHECK
int appspec_deploy(struct store *st, const struct deploy_req *req, struct deploy_outcome *out,
                   struct err *err);
void deploy_outcome_free(struct deploy_outcome *out);

/* `ferry __deploy DATA_DIR DEPLOYMENT_ID APP GROUP BUNDLE [SOURCE]`: what the API starts for
 * a push (the deployment row exists, status Created). Exit 0 when it ran. */
int appspec_deploy_main(int argc, char **argv);

#endif
