/*
 * jobs.h — the stored jobs of Invoke (Lambda) actions (../shared/spec/pipeline.md §5):
 * one row per invocation of the function, so an action that continues has one job
 * per round. A job is what PutJobSuccessResult / PutJobFailureResult name; its row
 * says whether it still takes a result, until when, and with which secret.
 *
 * Invariants:
 *  - ids are lowercase UUIDv4 strings; a job belongs to one action execution and
 *    goes when its execution goes (foreign key, ON DELETE CASCADE);
 *  - statuses are the job-worker words of spec §2.1 ferry uses: Created (recorded,
 *    function not started yet), InProgress (function started), then exactly one of
 *    Succeeded, Failed, TimedOut; a job takes a result only while Created or
 *    InProgress;
 *  - `secret` is the per-job credential (artifactCredentials.secretAccessKey of the
 *    event); it is cleared (NULL) once the job has ended, so it authorises nothing
 *    after that;
 *  - `data` is the event's "data" object without artifactCredentials (JSON text).
 *
 * Errors: 0, -1 with `err`, or the STORE_* code a comment names (with `err` too).
 *
 * Ownership: row strings are the caller's; store_job_free() frees one row's fields,
 * store_job_list_free() every row's and the array.
 */
#ifndef FERRY_STORE_JOBS_H
#define FERRY_STORE_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_JOB_CREATED     "Created"
#define STORE_JOB_IN_PROGRESS "InProgress"
#define STORE_JOB_SUCCEEDED   "Succeeded"
#define STORE_JOB_FAILED      "Failed"
#define STORE_JOB_TIMED_OUT   "TimedOut"

struct store_job {
	char *id;
	char *action_execution_id, *execution_id, *pipeline, *stage, *action;
	char *function_name;
	char *status;
	char *continuation_token; /* the token this job was invoked with, NULL: first round */
	char *next_token;         /* the continuationToken its success carried, NULL: none */
	char *secret;             /* NULL once the job has ended */
	char *data;               /* JSON object text */
	char *summary;            /* what its result said (or why it ended), NULL: none */
	int percent_complete;     /* executionDetails.percentComplete, -1: none */
	int64_t created_ms, deadline_ms, updated_ms;
};

/* Inserts or updates in place. STORE_NOT_FOUND when its execution is missing. */
FERRY_MUST_CHECK
int store_job_put(struct store *st, const struct store_job *j, struct err *err);
/* 0, STORE_NOT_FOUND or -1. */
FERRY_MUST_CHECK
int store_job_get(struct store *st, const char *id, struct store_job *out, struct err *err);
/* The newest job of an action execution: 0, STORE_NOT_FOUND or -1. */
FERRY_MUST_CHECK
int store_job_latest(struct store *st, const char *action_execution_id, struct store_job *out,
                     struct err *err);
/* The jobs of an action execution, oldest first. */
FERRY_MUST_CHECK
int store_job_list(struct store *st, const char *action_execution_id, struct store_job **out,
                   size_t *n, struct err *err);
/* 1 when `status` still takes a result (Created, InProgress). */
int store_job_is_open(const char *status);
void store_job_free(struct store_job *j);
void store_job_list_free(struct store_job *j, size_t n);

#endif
