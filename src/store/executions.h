/*
 * executions.h — the stored state of pipeline executions: the execution, its
 * stage executions, action executions and artifacts. Written only by the engine,
 * each state change in one transaction (store_tx_begin/commit) committed before the
 * engine acts on it; docs/internals/engine.md describes the model.
 *
 * Invariants:
 *  - statuses are CodePipeline's words (spec §2.1): executions InProgress, Stopping,
 *    Stopped, Succeeded, Superseded, Failed, Cancelled; stages InProgress, Stopping,
 *    Stopped, Succeeded, Failed, Cancelled; actions InProgress, Succeeded, Failed,
 *    Abandoned;
 *  - put functions insert or update in place (never delete-and-insert, which would
 *    cascade to the children);
 *  - JSON columns (variables, output_variables, resolved_config, input_artifacts,
 *    output_artifacts, revision, reports) hold JSON text or NULL.
 *
 * Errors: functions return 0, -1 with `err` filled, or the STORE_* code their comment
 * names (also with `err` filled). Every put returns STORE_NOT_FOUND when its parent
 * row (the pipeline, or the execution) is missing. Each function is one statement.
 *
 * Ownership: row structs' strings are the caller's; *_free() frees the fields of one
 * row, *_list_free() the fields of every row and the array.
 */
#ifndef FERRY_STORE_EXECUTIONS_H
#define FERRY_STORE_EXECUTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_exec {
	char *id; /* UUID */
	char *pipeline;
	int version;
	int64_t seq; /* 1, 2, ... per pipeline, in arrival order */
	char *status;
	char *status_summary;
	char *trigger_type, *trigger_detail;
	char *variables;     /* JSON [{name, resolvedValue}]; NULL is stored as [] */
	char *source_commit; /* the commit asked for at start, NULL: branch heads */
	char *stage;         /* the stage it is in or waits for; NULL when finished */
	int waiting;         /* 1: waiting in front of `stage` */
	int64_t wait_seq;    /* when it began to wait (orders waiters) */
	char *stop_mode;     /* NULL, "wait" or "abandon" */
	char *stop_reason;
	char *client_token;
	int64_t started_ms, updated_ms;
};

/* STORE_CONFLICT when another execution of the pipeline has this seq. The row's
 * stages, actions and artifacts are kept. */
FERRY_MUST_CHECK int store_exec_put(struct store *st, const struct store_exec *e, struct err *err);
/* 0, STORE_NOT_FOUND or -1. */
FERRY_MUST_CHECK
int store_exec_get(struct store *st, const char *id, struct store_exec *out, struct err *err);
/* Newest first; before_seq > 0 lists only older ones (paging); limit <= 0: all. */
FERRY_MUST_CHECK
int store_exec_list(struct store *st, const char *pipeline, int64_t before_seq, int limit,
                    struct store_exec **out, size_t *n, struct err *err);
/* Every InProgress or Stopping execution of every pipeline, by pipeline, oldest first. */
FERRY_MUST_CHECK
int store_exec_list_active(struct store *st, struct store_exec **out, size_t *n, struct err *err);
/* The execution of `pipeline` started with `client_token`: 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK
int store_exec_by_token(struct store *st, const char *pipeline, const char *client_token,
                        struct store_exec *out, struct err *err);
/* The next seq of `pipeline` (1 for the first). */
FERRY_MUST_CHECK
int store_exec_next_seq(struct store *st, const char *pipeline, int64_t *out, struct err *err);
void store_exec_free(struct store_exec *e);
void store_exec_list_free(struct store_exec *e, size_t n);

struct store_stage {
	char *execution_id, *pipeline, *stage;
	char *status;
	int attempt;         /* 1, then + 1 per retry */
	int min_attempt;     /* action results of earlier attempts do not count (ALL_ACTIONS) */
	int64_t entered_seq; /* a counter per pipeline: which execution entered last */
	int64_t started_ms, updated_ms;
};

FERRY_MUST_CHECK
int store_stage_put(struct store *st, const struct store_stage *s, struct err *err);
/* The stage executions of one execution, in the order they were entered. */
FERRY_MUST_CHECK
int store_stage_list(struct store *st, const char *execution_id, struct store_stage **out,
                     size_t *n, struct err *err);
/* The stage execution of `pipeline` that entered `stage` last: 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK
int store_stage_latest(struct store *st, const char *pipeline, const char *stage,
                       struct store_stage *out, struct err *err);
/* The largest entered_seq of any stage execution of `pipeline` (0 when none). */
FERRY_MUST_CHECK
int store_stage_max_seq(struct store *st, const char *pipeline, int64_t *out, struct err *err);
void store_stage_free(struct store_stage *s);
void store_stage_list_free(struct store_stage *s, size_t n);

struct store_action {
	char *id; /* UUID */
	char *execution_id, *pipeline, *stage, *action;
	int attempt; /* the stage attempt it ran in */
	int run_order;
	char *status;
	char *summary, *error_code, *error_message, *external_id;
	char *output_variables; /* JSON object */
	char *resolved_config;  /* JSON object */
	char *input_artifacts;  /* JSON [{name, s3location?...}] as ListActionExecutions shows */
	char *output_artifacts; /* JSON */
	char *revision;         /* JSON {revisionId, revisionSummary, created} (sources) */
	char *log_path;
	int64_t pid;       /* the child's pid (its process group), 0 when none */
	int64_t pid_start; /* its start time in clock ticks (/proc/PID/stat field 22) */
	int64_t started_ms, updated_ms;
	char *reports; /* JSON [{name, type, total, passed, ...}] (build test reports) */
};

FERRY_MUST_CHECK
int store_action_put(struct store *st, const struct store_action *a, struct err *err);
/* 0, STORE_NOT_FOUND or -1. */
FERRY_MUST_CHECK
int store_action_get(struct store *st, const char *id, struct store_action *out, struct err *err);
/* With `execution_id`: that execution's action executions in the order they started
 * (`pipeline` may be NULL). With NULL: the pipeline's, the latest started first. Either
 * way at most `limit` (<= 0: all). */
FERRY_MUST_CHECK
int store_action_list(struct store *st, const char *pipeline, const char *execution_id, int limit,
                      struct store_action **out, size_t *n, struct err *err);
/* Every InProgress action execution (recovery). */
FERRY_MUST_CHECK
int store_action_list_running(struct store *st, struct store_action **out, size_t *n,
                              struct err *err);
void store_action_free(struct store_action *a);
void store_action_list_free(struct store_action *a, size_t n);

struct store_artifact {
	char *execution_id, *name, *path, *sha256;
	int64_t size;
	char *revision;
	char *action_execution_id;
};

FERRY_MUST_CHECK
int store_artifact_put(struct store *st, const struct store_artifact *a, struct err *err);
/* In the order they were first put. */
FERRY_MUST_CHECK
int store_artifact_list(struct store *st, const char *execution_id, struct store_artifact **out,
                        size_t *n, struct err *err);
/* Forgets every artifact of an execution (retention; the caller removes the files
 * after this commits). */
FERRY_MUST_CHECK
int store_artifact_delete(struct store *st, const char *execution_id, struct err *err);
void store_artifact_list_free(struct store_artifact *a, size_t n);

#endif
