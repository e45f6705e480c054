/*
 * engine_int.h — what the files of src/engine/ share: the engine's struct, the
 * in-memory picture of pipelines and active executions, and the running children.
 *
 * The store is the truth; memory mirrors it for what is active:
 *  - every defined pipeline has an eng_pipeline (its latest declaration, parsed);
 *  - every InProgress or Stopping execution has an eng_exec holding its rows (the
 *    execution, its stage executions, action executions and artifacts) and the
 *    declaration of the version it runs;
 *  - every action child has an eng_run.
 * A change is made to a copy of the rows, committed, and only then kept in memory
 * and acted on (children spawned or signalled).
 *
 * Everything here runs on the loop thread.
 */
#ifndef FERRY_ENGINE_INT_H
#define FERRY_ENGINE_INT_H

#include <pthread.h>
#include <signal.h>
#include <uv.h>

#include "engine/engine.h"
#include "spec/pipeline.h"
#include "store/executions.h"
#include "store/pipelines.h"
#include "store/store.h"

#define ENGINE_MAX_CONCURRENT_EXECUTIONS 50 /* spec §1.8, per QUEUED/PARALLEL pipeline */
#define ENGINE_STOP_GRACE_MS             10000
#define ENGINE_SOURCE_TIMEOUT_MS         (60 * 60 * 1000)
#define ENGINE_UUID_LEN                  36

/* A parsed declaration of one pipeline version, shared by the executions running it. */
struct eng_decl {
	char *name;
	int version;
	struct pipeline *p;
	char *text; /* the stored declaration */
	int refs;
};

struct eng_pipeline {
	char *name;
	struct eng_decl *decl; /* latest version */
	int64_t created_ms, updated_ms;
	struct store_transition *transitions;
	size_t ntransitions;
	struct eng_pipeline *next;
};

struct eng_run;
struct eng_wait;
struct eng_fncall;
struct eng_invoke;
struct eng_state_watch;

struct eng_exec {
	struct store_exec row;
	struct eng_decl *decl;
	struct store_stage *stages; /* entered stages, in order */
	size_t nstages;
	struct store_action *actions; /* every action execution, in start order */
	size_t nactions;
	struct store_artifact *artifacts;
	size_t nartifacts;
	struct eng_exec *next;
};

struct eng_watch {
	uint64_t id;
	engine_log_fn *cb;
	void *ctx;
	struct eng_watch *next;
};

/* A running action child. */
struct eng_run {
	struct engine *e;
	char *action_id;
	char *exec_id;
	char *job_dir;
	int is_build;
	int is_invoke; /* an Invoke action's function child (engine_invoke.c) */
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	int log_fd;
	int exited, out_closed, handles_open;
	int64_t exit_status;
	int term_signal;
	int killed_reason; /* 0, or why we signalled it: 1 timeout, 2 abandon, 3 shutdown */
	int term_sent;
	struct eng_watch *watches;
	struct eng_run *next;
};

struct eng_call {
	engine_call_fn *fn;
	void *ctx;
	struct eng_call *next;
};

struct engine {
	char *data_dir;
	char *self_exe;
	char *repos_dir;
	int max_builds;
	int no_sandbox;
	int keep_artifacts;
	int approval_minute_ms;
	const struct logsink *log;
	struct store *st;
	uv_loop_t loop;
	uv_async_t wake; /* engine_call and engine_request_stop */
	uv_timer_t stop_timer;
	uv_timer_t poll_timer;
	uv_timer_t trim_timer; /* armed once after activity ends: gives memory back */
	int trimmed;
	int poll_timer_on;
	int poll_interval_ms;
	struct notifier *notifier;
	struct eng_pipeline *pipelines;
	struct eng_decl **decls;
	size_t ndecls;
	struct eng_exec *active;
	struct eng_run *runs;
	struct eng_fncall *fncalls; /* `ferry __invoke` children for API invokes (engine_fn.c) */
	struct eng_wait *waits;     /* approvals waiting for an answer, each with its timer */
	struct eng_invoke *invokes; /* Invoke actions waiting for a job result or to continue */
	int job_timeout_ms;         /* engine_opts.job_timeout_ms (default 20 minutes) */
	int job_continuation_ms;    /* engine_opts.job_continuation_ms (default 30 s) */
	char *url;                  /* engine_set_url(): the daemon's API, NULL: none */
	struct edge *edge;          /* engine_set_edge(): the edge invalidations evict from */
	int running_builds;
	uint64_t next_watch;
	uint64_t state_seq;              /* engine_state_seq() */
	struct eng_state_watch *state_w; /* engine_watch.c; NULL while nobody watches */
	int advancing, advance_again;
	volatile sig_atomic_t stop_requested;
	int stopping; /* the loop is winding down: nothing new starts */
	int closed;
	volatile sig_atomic_t wake_closed; /* the loop is gone: engine_call only queues */
	pthread_mutex_t calls_lock;
	struct eng_call *calls, *calls_tail;
};

/* engine.c */
/* Called after activity: once nothing runs, memory is given back a moment later. */
void eng_idle_check(struct engine *e);
void eng_uuid(char out[ENGINE_UUID_LEN + 1]);
int eng_fail(struct engine_err *err, int rc, const char *type, const char *fmt, ...)
        FERRY_PRINTF(4, 5);
void eng_log(struct engine *e, const char *fmt, ...) FERRY_PRINTF(2, 3);
char *eng_path(struct engine *e, const char *fmt, ...) FERRY_PRINTF(2, 3);

/* engine_pipelines.c */
struct eng_pipeline *eng_pipeline_find(struct engine *e, const char *name);
int eng_pipelines_load(struct engine *e, struct err *err);
struct eng_decl *eng_decl_get(struct engine *e, const char *name, int version, struct err *err);
void eng_decl_unref(struct engine *e, struct eng_decl *d);
int eng_transition_enabled(const struct eng_pipeline *p, const char *stage, const char *dir);
void eng_pipelines_free(struct engine *e);

/* engine_exec.c: the state machine */
void eng_advance(struct engine *e);
int eng_exec_commit(struct engine *e, struct eng_exec *x, struct err *err);
struct eng_exec *eng_exec_find(struct engine *e, const char *id);
int eng_exec_load(struct engine *e, const struct store_exec *row, struct eng_exec **out,
                  struct err *err);
void eng_exec_free(struct engine *e, struct eng_exec *x);
void eng_exec_drop(struct engine *e, struct eng_exec *x);
struct store_stage *eng_exec_stage(struct eng_exec *x, const char *stage);
int eng_exec_become_waiter(struct engine *e, struct eng_exec *x, const char *stage,
                           struct err *err);
void eng_exec_event(struct engine *e, struct eng_exec *x, const char *state);
int eng_stage_index(const struct pipeline *p, const char *stage);
const char *eng_now_status(const char *s);

/* engine_action.c: action children */
int eng_action_start(struct engine *e, struct eng_exec *x, const struct pl_action *a, int attempt);
/* Records the action Failed (summary = msg) and commits; returns -1. */
int eng_action_fail(struct engine *e, struct eng_exec *x, struct store_action *r, const char *code,
                    const char *msg);
enum { ENG_RUN_BUILD = 1, ENG_RUN_INVOKE = 2 };
/* Spawns `ferry __action job_dir` (job.json written) for the row `r`, already committed
 * InProgress; takes job_dir. 0, or -1 after recording r Failed. */
int eng_action_spawn(struct engine *e, struct eng_exec *x, struct store_action *r, char *job_dir,
                     unsigned flags, int64_t limit_ms);
void eng_action_kill(struct engine *e, const char *action_id, int reason);
struct eng_run *eng_run_find(struct engine *e, const char *action_id);
int eng_runs_count(struct engine *e);
/* A process's start time (/proc/PID/stat field 22), 0 when it is gone. */
int64_t eng_proc_start_ticks(int pid);
void eng_runs_close(struct engine *e);

/* engine_exec.c: deletes the artifacts of `pipeline`'s finished executions past the
 * newest e->keep_artifacts (rows first, then files). */
void eng_retention(struct engine *e, const char *pipeline);

/* engine_approval.c */
int eng_approval_begin(struct engine *e, struct eng_exec *x, const struct pl_action *a,
                       struct store_action *r);
int eng_approval_is_waiting(const struct store_action *r);
void eng_approval_cancel(struct engine *e, const char *action_id);
void eng_approvals_rearm(struct engine *e);
void eng_approvals_close(struct engine *e);

/* engine_invoke.c: Invoke (Lambda) actions and their jobs (spec §5) */
int eng_invoke_begin(struct engine *e, struct eng_exec *x, const struct pl_action *a,
                     struct store_action *r, json_t *config);
/* The function child of an Invoke action exited while the action is InProgress. */
void eng_invoke_child_done(struct engine *e, struct eng_run *run, struct eng_exec *x,
                           struct store_action *r);
/* The action was abandoned: its open job ends, its timer goes. */
void eng_invoke_cancel(struct engine *e, const char *action_id);
/* Recovery: 1 when the InProgress action `a` is an Invoke whose job is still open (or
 * about to continue): it keeps waiting instead of failing. */
int eng_invoke_keeps_waiting(struct engine *e, const struct store_action *a);
void eng_invokes_rearm(struct engine *e);
void eng_invokes_close(struct engine *e);
#define ENGINE_ACCOUNT_ID        "000000000000" /* accountId of events and job details */
#define ENGINE_ARTIFACT_BUCKET   "ferry-artifacts"
#define ENGINE_JOB_ACCESS_KEY_ID "FERRYJOB"
#define ENGINE_INVOKE_INVALIDATE "ferry:invalidate" /* the built-in FunctionName */
enum { ENG_INVOKE_WAIT_RESULT, ENG_INVOKE_WAIT_CONTINUE };
struct store_job;
/* (Re)arms the action's one timer: a job's deadline, or a continuation's delay. */
void eng_invoke_arm(struct engine *e, const char *action_id, int mode, int64_t delay_ms);
void eng_invoke_disarm(struct engine *e, const char *action_id);
/* The active action execution with that id (and its execution), or NULL. */
struct store_action *eng_invoke_row(struct engine *e, const char *action_id, struct eng_exec **x);
/* Records the job ended (status, summary; its secret forgotten). */
void eng_invoke_job_end(struct engine *e, struct store_job *j, const char *status,
                        const char *summary);
/* The job's event "data" (to json_decref): what the row keeps, its continuationToken,
 * and artifactCredentials when asked for and the job is open. */
json_t *eng_invoke_event_data(const struct store_job *j, int with_credentials);

/* engine_fn.c: API invokes' children; at stop they are killed (their callers get an
 * error answer) */
void eng_fncalls_stop(struct engine *e);

/* engine_recover.c */
int eng_recover(struct engine *e, struct err *err);

/* engine_trigger.c */
void eng_poll_update(struct engine *e);
void eng_poll_close(struct engine *e);

/* helpers on store rows */
void eng_row_set(char **field, const char *value);
int eng_store_rc(int rc, struct engine_err *err);

#endif
