/*
 * engine.h — ferry's pipeline engine: pipelines, executions, stages and actions,
 * the execution modes, triggers, retries, stops and transitions; the only writer
 * of execution state. docs/internals/engine.md explains the design.
 *
 * Threading: one thread, the one that calls engine_run(), runs the engine's loop
 * (libuv). Every engine_*() function below except engine_call() and
 * engine_request_stop() must be called on that thread: other threads (libmicrohttpd's
 * handlers) hand work over with engine_call(), which runs a function on the loop.
 *
 * Operations correspond one-to-one to CodePipeline's API (named beside each one), and
 * their JSON answers use CodePipeline's shapes and field names (timestamps as epoch
 * seconds with a fraction, like the AWS JSON protocol), so the native API and a later
 * AWS-compatible endpoint both translate them without touching the engine.
 *
 * Errors: operations return 0, or a negative enum engine_rc with `err->msg` set
 * (one line naming the pipeline, stage, action or field) and, through
 * engine_rc_type(), CodePipeline's exception name.
 *
 * Durability: every state change is committed to the store before it is acted on;
 * engine_open() recovers from a crash (actions that were running are Failed with
 * "interrupted by restart", executions waiting in front of a stage resume).
 *
 * Ownership: json_t results are the caller's reference; strings the caller's to free().
 */
#ifndef FERRY_ENGINE_H
#define FERRY_ENGINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/logsink.h"

struct engine; /* opaque */
struct store;

enum engine_rc {
	ENGINE_OK = 0,
	ENGINE_EINTERNAL = -1, /* the store or the system failed: HTTP 500 */
	ENGINE_EINVALID = -2,  /* bad input (ValidationException, a bad pipeline file): 400 */
	ENGINE_ENOTFOUND = -3, /* no such pipeline, execution, stage, action: 404 */
	ENGINE_ECONFLICT = -4, /* not possible in the current state (not retryable, not
	                          stoppable, already exists, duplicated stop): 409 */
	ENGINE_ELIMIT = -5,    /* a limit was reached (concurrent executions): 429 */
};

/* The detail of a failed operation: which CodePipeline exception it is. */
struct engine_err {
	struct err err;
	const char *type; /* "PipelineNotFoundException", "StageNotRetryableException", ... */
};

/* The HTTP status for an enum engine_rc (400, 404, 409, 429, 500). */
unsigned engine_rc_http_status(int rc);

struct engine_opts {
	const char *data_dir;      /* required: store, artifacts, logs, repos */
	const char *self_exe;      /* the ferry binary actions are run with (`ferry __action`) */
	const char *repos_dir;     /* where repositories named by a bare name live; NULL:
	                              <data_dir>/repos */
	int max_builds;            /* concurrent build actions; 0: the number of cores */
	int no_sandbox;            /* builds run without bubblewrap (tests, machines without it) */
	int approval_minute_ms;    /* how long a minute of an approval's timeoutInMinutes is;
	                              0: 60000 (tests make it short) */
	int keep_artifacts;        /* artifacts of this many newest finished executions of each
	                              pipeline are kept; older ones' are deleted. 0: 50 */
	int job_timeout_ms;        /* an Invoke job without a result fails after this long;
	                              0: 20 minutes (spec §5.5; tests make it short) */
	int job_continuation_ms;   /* delay before a continued Invoke runs again; 0: 30 s */
	const struct logsink *log; /* the daemon's log; NULL: silent */
};

/* Opens the store (creating and migrating it), recovers from an unclean stop, and
 * prepares the loop. Nothing runs until engine_run(). */
FERRY_MUST_CHECK
int engine_open(const struct engine_opts *opts, struct engine **out, struct err *err);

/* Runs the loop until engine_request_stop(): then running actions are stopped
 * (SIGTERM, then SIGKILL after a grace period) and recorded as Failed "stopped by
 * daemon shutdown", functions posted with engine_call() still run, and it returns 0. */
int engine_run(struct engine *e);

/* Thread-safe and async-signal-safe: asks engine_run() to finish. */
void engine_request_stop(struct engine *e);

/* After engine_run() returned (or instead of it). NULL is fine. */
void engine_free(struct engine *e);

typedef void engine_call_fn(struct engine *e, void *ctx);

/* Thread-safe: runs fn(e, ctx) on the loop thread soon, in the order posted. Each
 * posted function runs exactly once, also when the engine is stopping. */
void engine_call(struct engine *e, engine_call_fn *fn, void *ctx);

/* The engine's store (loop thread only): token checks, secrets. */
struct store *engine_store(struct engine *e);
const char *engine_data_dir(const struct engine *e);

/* ---- Pipelines (CreatePipeline, UpdatePipeline, GetPipeline, ListPipelines,
 * DeletePipeline). `text` is a declaration file, JSON or YAML (spec/pipeline.h);
 * `filename` names it in errors. ---- */

/* CreatePipeline: version 1; also starts one execution (trigger CreatePipeline) unless
 * `no_start`. *out = {"pipeline": {..., "version": 1}} as GetPipeline prints it.
 * An existing name → ECONFLICT (PipelineNameInUseException). */
int engine_pipeline_create(struct engine *e, const char *text, size_t len, const char *filename,
                           int no_start, json_t **out, struct engine_err *err);

/* UpdatePipeline: version + 1; executions in progress are cancelled as spec §2.2 says. */
int engine_pipeline_update(struct engine *e, const char *text, size_t len, const char *filename,
                           json_t **out, struct engine_err *err);

/* GetPipeline: {"pipeline": {...}, "metadata": {pipelineArn, created, updated}} plus
 * ferry's "projects" when the file had them. version 0: the latest. */
int engine_pipeline_get(struct engine *e, const char *name, int version, json_t **out,
                        struct engine_err *err);

/* ListPipelines: {"pipelines": [{name, version, pipelineType, executionMode, created,
 * updated}]} sorted by name. */
int engine_pipeline_list(struct engine *e, json_t **out, struct engine_err *err);

/* DeletePipeline: running actions are abandoned; history is removed. */
int engine_pipeline_delete(struct engine *e, const char *name, struct engine_err *err);

/* The pipeline's webhook secret (created with the pipeline; 32 random bytes shown as
 * 64 hex digits). `rotate` makes a new one. */
int engine_webhook_secret(struct engine *e, const char *name, int rotate, char **secret_hex,
                          struct engine_err *err);

/* ---- Executions ---- */

struct engine_start {
	const char *pipeline;
	/* StartPipelineExecution's `variables` (may be NULL/0) */
	const char *const *var_names;
	const char *const *var_values;
	size_t nvars;
	/* sourceRevisions: a commit for the source action(s) (ferry: --commit); NULL: the
	 * branch heads at the moment the source actions run */
	const char *commit;
	const char *client_token;   /* idempotency (clientRequestToken); NULL: none */
	const char *trigger_type;   /* NULL: "StartPipelineExecution" */
	const char *trigger_detail; /* NULL: "ferry" */
};

/* StartPipelineExecution: *execution_id (a UUID) to free. A disabled-stage or busy
 * pipeline still accepts the start (the execution waits, or supersedes). */
int engine_start(struct engine *e, const struct engine_start *req, char **execution_id,
                 struct engine_err *err);

/* GetPipelineState, spec §2.3. */
int engine_state(struct engine *e, const char *pipeline, json_t **out, struct engine_err *err);

/* GetPipelineExecution: {"pipelineExecution": {pipelineName, pipelineVersion,
 * pipelineExecutionId, status, statusSummary, artifactRevisions, variables, trigger,
 * executionMode, executionType}}. */
int engine_execution_get(struct engine *e, const char *pipeline, const char *execution_id,
                         json_t **out, struct engine_err *err);

/* ListPipelineExecutions: {"pipelineExecutionSummaries": [...], "nextToken"?}, newest
 * first; max_results 0 → 100; next_token NULL or from an earlier answer. Each summary
 * also has ferry's "stages": [{stageName, status}] for the history view. */
int engine_executions_list(struct engine *e, const char *pipeline, int max_results,
                           const char *next_token, json_t **out, struct engine_err *err);

/* ListActionExecutions: {"actionExecutionDetails": [...]} newest first, optionally
 * for one execution (NULL: all); each with input.resolvedConfiguration,
 * output.outputVariables, output.executionResult, and ferry's "logUrl". */
int engine_action_executions(struct engine *e, const char *pipeline, const char *execution_id,
                             json_t **out, struct engine_err *err);

/* RetryStageExecution, spec §2.6. retry_mode "FAILED_ACTIONS" or "ALL_ACTIONS". */
int engine_retry(struct engine *e, const char *pipeline, const char *stage,
                 const char *execution_id, const char *retry_mode, struct engine_err *err);

/* StopPipelineExecution, spec §2.5. `reason` may be NULL. */
int engine_stop(struct engine *e, const char *pipeline, const char *execution_id, int abandon,
                const char *reason, struct engine_err *err);

/* Enable/DisableStageTransition, spec §1.9. `type` "Inbound" or "Outbound"; `reason`
 * required when disabling; `by` names who (the token's name). */
int engine_transition(struct engine *e, const char *pipeline, const char *stage, const char *type,
                      int enable, const char *reason, const char *by, struct engine_err *err);

/* PutApprovalResult (spec §6): answers the Manual approval `action` of `stage` waiting
 * with `token` (GetPipelineState's latestExecution.token). `status` "Approved" (the
 * action succeeds) or "Rejected" (it fails); `summary` is the reviewer's comment (1–512
 * characters). *out = {"approvedAt": seconds}. A token already answered →
 * ECONFLICT ApprovalAlreadyCompletedException; an unknown one → EINVALID
 * InvalidApprovalTokenException. */
int engine_approval(struct engine *e, const char *pipeline, const char *stage, const char *action,
                    const char *token, const char *status, const char *summary, json_t **out,
                    struct engine_err *err);

/* ---- Triggers ---- */

/* A push, from a webhook, the post-receive hook or polling. */
struct engine_push {
	const char *source;       /* "webhook", "hook", "poll" */
	const char *pipeline;     /* the pipeline addressed (webhooks), NULL: every pipeline
	                             whose git source is `repo` */
	const char *repo;         /* hook: the repository's path; webhook: its full name
	                             ("owner/name"), matched against the source's repository
	                             name or location; may be NULL for a webhook (then every
	                             source of `pipeline` is considered) */
	const char *delivery;     /* webhook delivery id (dedupe), NULL when none */
	const char *ref;          /* "refs/heads/main" */
	const char *before;       /* hex; all zeros for a created ref */
	const char *after;        /* hex; all zeros for a deleted ref */
	const struct strv *paths; /* changed paths when known (webhook payload), else NULL:
	                             the engine diffs before..after itself when it can */
	const char *summary;      /* head commit message's first line, NULL when unknown */
};

/* Evaluates a push against the pipelines' triggers and filters and starts what
 * matches. Every outcome is recorded as a trigger event (listed by
 * engine_trigger_events()). *out = {"events": [{pipeline, outcome: started | filtered
 * | duplicate | ignored, reason, pipelineExecutionId?}]}. A replayed delivery id of the
 * same pipeline is "duplicate" and starts nothing. */
int engine_push(struct engine *e, const struct engine_push *push, json_t **out,
                struct engine_err *err);

/* ferry's ListTriggerEvents: {"triggerEvents": [{id, source, deliveryId, ref, before,
 * after, outcome, reason, pipelineExecutionId, received}]} newest first, at most
 * max_results (0 → 100). */
int engine_trigger_events(struct engine *e, const char *pipeline, int max_results, json_t **out,
                          struct engine_err *err);

/* ---- Invoke actions' jobs (spec §5; docs/executions.md, "Invoke actions") ---- */

struct edge; /* sites/edge.h */

/* Before engine_run(): the daemon's API URL, given to functions as FERRY_URL and
 * AWS_ENDPOINT_URL (copied; NULL: none), and the edge the built-in ferry:invalidate
 * action evicts from (it outlives the engine's loop; NULL: none). */
void engine_set_url(struct engine *e, const char *url);
void engine_set_edge(struct engine *e, struct edge *edge);

/* 1 when `secret` is the secret of the open job `job_id` (its event's
 * artifactCredentials.secretAccessKey, compared in constant time), else 0. */
int engine_job_secret_ok(struct engine *e, const char *job_id, const char *secret);

/* GetJobDetails: {"jobDetails": {id, accountId, data}} with data's actionTypeId and
 * pipelineContext (artifactCredentials only while the job is open). Errors (HTTP 400,
 * as CodePipeline): JobNotFoundException, ValidationException (not a job id). */
int engine_job_get(struct engine *e, const char *job_id, json_t **out, struct engine_err *err);

/* PutJobSuccessResult / PutJobFailureResult (spec §5.3): `result` is the request body
 * (its jobId, when present, must be `job_id`). Errors, all EINVALID (400):
 * ValidationException, JobNotFoundException, InvalidJobStateException (the job already
 * has a result, timed out or was cancelled), OutputVariablesSizeExceededException. */
int engine_job_success(struct engine *e, const char *job_id, json_t *result,
                       struct engine_err *err);
int engine_job_failure(struct engine *e, const char *job_id, json_t *result,
                       struct engine_err *err);

/* ---- Functions (Lambda's Invoke, for the API; the registry is functions/registry.h) ---- */

/* What a function invocation gave: `result` is `ferry __invoke`'s result.json ({"ok",
 * "requestId", "executedVersion", "functionError", "durationMs"} or {"ok": false,
 * "error", "notFound"}), `payload` the bytes the function returned (NULL when none).
 * Called once, on the loop thread; both are the callee's only for the call. */
typedef void engine_fn_done_fn(void *ctx, const json_t *result, const char *payload, size_t len);

/* Starts `ferry __invoke` (a child: the loop never waits for a function) to run
 * `name` at `qualifier` (NULL: $LATEST, or from "name:qualifier") with `payload`;
 * `done` is called when it exits (at a daemon stop, with {"ok": false}). Returns 0, or
 * ENGINE_EINTERNAL with err (`done` is then not called). */
int engine_fn_invoke(struct engine *e, const char *name, const char *qualifier, const char *payload,
                     size_t len, engine_fn_done_fn *done, void *ctx, struct engine_err *err);

/* ---- Logs ---- */

/* The log file of an action execution: `action` is an action name (its latest
 * execution in that pipeline execution) or an actionExecutionId. *running is 1 while
 * the action runs. */
int engine_log_path(struct engine *e, const char *execution_id, const char *action, char **path,
                    int *running, struct engine_err *err);

/* Calls cb(ctx, more) on the loop thread each time bytes are appended to that action
 * execution's log (more = 1), and once when the action has finished and its log is
 * complete (more = 0; the watch is then gone). Returns a watch id (> 0) to cancel with
 * engine_log_unwatch(), or 0 when the action is not running (its log is complete). */
typedef void engine_log_fn(void *ctx, int more);
uint64_t engine_log_watch(struct engine *e, const char *action_execution_id, engine_log_fn *cb,
                          void *ctx);
void engine_log_unwatch(struct engine *e, uint64_t watch_id);

/* ---- State changes (the web UI's live pages, engine_watch.c) ---- */

#define ENGINE_STATE_HEARTBEAT_MS 25000 /* a heartbeat reaches watchers this often */

/* What changed: an execution (its stages and actions included) of `pipeline`, or, with
 * execution_id NULL, the pipeline itself (a transition). A heartbeat has seq 0 and
 * pipeline NULL. The strings are the callee's only for the call. */
struct engine_state_change {
	uint64_t seq; /* 1, 2, ... per engine: every change has the next one */
	const char *pipeline;
	const char *execution_id;
	const char *status; /* the execution's status, or NULL */
};
typedef void engine_state_fn(void *ctx, const struct engine_state_change *ch);

/* Calls cb on the loop thread after each committed state change, and with a heartbeat
 * every ENGINE_STATE_HEARTBEAT_MS while at least one watch exists (no timer runs when
 * nobody watches; the timer never keeps the loop from ending). Returns the watch id
 * (> 0) for engine_state_unwatch(); unwatch every watch before engine_free(). */
uint64_t engine_state_watch(struct engine *e, engine_state_fn *cb, void *ctx);
void engine_state_unwatch(struct engine *e, uint64_t watch_id);
/* The seq of the latest change (0: none yet). */
uint64_t engine_state_seq(const struct engine *e);
/* Tells watchers of a change (the engine calls it after each commit; other layers after
 * a change the engine does not commit through an execution). Cheap without watchers. */
void engine_state_changed(struct engine *e, const char *pipeline, const char *execution_id,
                          const char *status);

#endif
