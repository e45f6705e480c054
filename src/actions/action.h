/*
 * action.h — the actions a pipeline runs, each in its own child process:
 * `ferry __action JOBDIR` reads JOBDIR/job.json, does the work, writes
 * JOBDIR/result.json atomically and exits. The engine (src/engine/) spawns it,
 * gives it a pipe as stdout and stderr (the action's log, which the engine copies
 * into the action's log file), and reads result.json when the child has exited.
 * A crash or a leak in an action cannot take the daemon down.
 *
 * job.json (written by the engine; every path absolute):
 *   {
 *     "kind": "source_git" | "build" | "deploy_s3" | "deploy_codedeploy" | "invoke",
 *       (deploy_codedeploy reads configuration.ApplicationName and
 *       DeploymentGroupName and its one input, the revision bundle)
 *     "pipeline": "site", "executionId": "<uuid>", "stage": "Build", "action": "Build",
 *     "actionExecutionId": "<uuid>",
 *     "dataDir": "/var/lib/ferry",            ferry's data dir (secrets, caches)
 *     "workDir": "JOBDIR/work",               scratch space; the engine removes it after
 *     "configuration": {"KEY": "resolved value", ...},
 *     "inputs":  [{"name": "SourceArtifact", "path": "/…/x.zip", "revision": "sha"|null}],
 *     "outputs": [{"name": "BuildArtifact",  "path": "/…/y.zip"}],
 *       where the action must write each output artifact (its parent exists);
 *     "source": {                             kind source_git only
 *       "location": "/srv/git/site.git" | "https://…",  resolved: a name is already a path
 *       "repositoryName": "site" | "acme/site",
 *       "branch": "main",
 *       "commit": "<sha>" | null,             null: the branch's head now
 *       "cloneRef": false,                    OutputArtifactFormat CODEBUILD_CLONE_REF
 *       "connectionArn": "…" | null,
 *       "provider": "CodeCommit" | "CodeStarSourceConnection",
 *       "mirrorDir": "/var/lib/ferry/mirrors/<hash>.git"   where URLs are fetched to
 *     },
 *     "project": {                            kind build only
 *       "name": "site",
 *       "buildspec": "buildspec.yml" | "<inline text>" | null,
 *       "buildspecInline": false,
 *       "environmentVariables": [{"name": "N", "value": "V", "type": "PLAINTEXT"}],
 *       "timeoutMinutes": 60,
 *       "buildNumber": 7
 *     },
 *     "sandbox": true,                        build only: bubblewrap when installed
 *     "deploy": {                             kind deploy_s3 only; one input artifact
 *       "site": "BucketName", "extract": true, "objectKey": "" | "docs",
 *       "cacheControl": "public, max-age=0" | null
 *     },
 *     "invoke": {                             kind invoke only (engine/engine_invoke.c)
 *       "functionName": "fn" | "fn:alias", "jobId": "<uuid>",
 *       "attempts": 3, "retryDelayMs": 1000,  Lambda's async retries
 *       "event": {"CodePipeline.job": {…}},   the payload, spec §5.2
 *       "env": ["FERRY_URL=…", "FERRY_JOB_ID=…", "FERRY_JOB_SECRET=…", …]
 *     }                                       (job.json is deleted when the child exits:
 *   }                                          it holds the job's secret)
 *
 * result.json (written by the action, atomically, before it exits 0):
 *   {
 *     "status": "Succeeded" | "Failed",
 *     "summary": "one line for the UI",
 *     "errorCode": "JobFailed" | null, "errorMessage": "…" | null,
 *     "externalExecutionId": "<build id or commit>" | null,
 *     "outputVariables": {"CommitId": "…", …},
 *     "outputs": [{"name": "SourceArtifact", "path": "…", "sha256": "…", "size": 123,
 *                  "revision": "sha" | null}],
 *     "revision": {"revisionId": "<sha>", "revisionSummary": "first line", "created": ms}
 *                  | null,                 source actions only
 *     "reports": [{                        build only, when the buildspec has `reports`
 *       "name": "unit",                    the buildspec's key
 *       "reportGroupName": "proj-unit", "fileFormat": "JUNITXML",
 *       "type": "TEST" | "CODE_COVERAGE",  by the file format
 *       "status": "SUCCEEDED" | "FAILED" | "INCOMPLETE",
 *       "total": 12, "passed": 11, "failed": 1, "skipped": 0,  failed counts ERROR too
 *       "durationMs": 1534,
 *       "failures": [{"name": "Suite.test_x", "message": "first line"}],  at most 20
 *       "problems": ["why a file was not read"],                          at most 5
 *       "lineCoveragePercentage": 81.5     CODE_COVERAGE only, when ferry read it
 *     }]                                   (absent for other kinds)
 *   }
 * An action that exits without a valid result.json (crash, kill) is Failed by the
 * engine with a summary naming the exit status or signal.
 *
 * What each kind puts in it:
 *  - source_git: summary = the commit's subject; externalExecutionId = the commit;
 *    outputVariables = CommitId, CommitMessage (trailing newlines dropped, ≤ 100 KB),
 *    BranchName, AuthorDate, CommitterDate, AuthorEmail, AuthorDisplayName, and
 *    RepositoryName (CodeCommit) or FullRepositoryName + ConnectionArn
 *    (CodeStarSourceConnection); every output gets the same artifact, revision = commit;
 *  - build: summary "Build succeeded: <build id>", or on failure "Build failed in
 *    phase BUILD: COMMAND_EXECUTION_ERROR: <message>" ("timed out", "faulted" for those
 *    statuses), or "stopped"; externalExecutionId = the build id (also when Failed);
 *    outputVariables = the buildspec's exported variables, only when Succeeded (names
 *    of PARAMETER_STORE/SECRETS_MANAGER variables are never exported, values are
 *    masked); outputs' revision is null; reports = the test-report summaries (also
 *    when Failed; texts masked like the log, each cut to 300 bytes);
 *  - deploy_s3: summary "Deployed release N of site S (F files)"; externalExecutionId
 *    "S:N"; outputVariables ReleaseNumber, SiteName; on failure the reason ("site S
 *    does not exist (ferry site create S)", the refused zip entry); no outputs;
 *  - deploy_codedeploy: summary "Deployment d-… Succeeded (N targets)", or Failed with
 *    "Deployment d-… Failed: <Event> failed on target T (script S): <why>; rolled back
 *    to deployment d-… (revision R) by deployment d-…"; externalExecutionId and the
 *    output variable DeploymentId are the deployment id (also when Failed); no
 *    outputs (actions/appspec_deploy.h);
 *  - invoke: NOT the action's result (the job's PutJobSuccessResult/PutJobFailureResult
 *    is): Succeeded "function F ran; the job's result decides" once an attempt returned
 *    (or the job got its result before a retry); Failed "<errorType>: <errorMessage>
 *    (function F failed on all 3 attempts)" or "function F could not be run: …"; the
 *    engine uses it only while the job is still open;
 *  - a job.json that cannot be used: Failed, summary "job.json: <field>: <what>".
 * The first failure gives the summary; errorMessage repeats it.
 *
 * Signals: SIGTERM asks the action to stop (a build ends STOPPED and reports Failed
 * with the summary "stopped"); the engine sends it to the child's process group.
 *
 * Invariants:
 *  - an output file is complete when result.json names it (written to a temporary
 *    name in the same directory, then renamed);
 *  - nothing secret is written to stdout/stderr or result.json (build logs are masked);
 *  - a CODE_ZIP output holds the tree of the commit, without `.git`; a CODEBUILD_CLONE_REF
 *    output is the JSON of ../shared/spec/pipeline.md §4.3.
 */
#ifndef FERRY_ACTIONS_ACTION_H
#define FERRY_ACTIONS_ACTION_H

#include "util/err.h"

#define ACTION_JOB_FILE    "job.json"
#define ACTION_RESULT_FILE "result.json"

/* `ferry __action JOBDIR`: runs the job, writes the result. Returns the exit code:
 * 0 when result.json was written (whatever the action's status), 1 when it could not
 * be (the reason on stderr). */
int action_main(int argc, char **argv);

#endif
