/*
 * pipelines.h — the stored side of pipelines: their declarations (every version
 * kept), stage transitions, trigger events and the polling state. The engine
 * (src/engine/) is the only writer.
 *
 * Invariants:
 *  - a pipeline's `declaration` is the text pipeline_to_string(PIPELINE_JSON_FILE)
 *    produced, with "version" stamped; pipeline_versions holds every version;
 *  - deleting a pipeline deletes its versions, executions (and their stages, actions,
 *    artifacts), transitions, trigger events and polling state;
 *  - trigger events with a delivery id are unique per pipeline: a second insert of
 *    the same (pipeline, delivery id) returns STORE_CONFLICT and stores nothing.
 *
 * Errors: functions return 0, -1 with `err` filled, or the STORE_* code their comment
 * names (also with `err` filled); puts return STORE_NOT_FOUND when the pipeline is
 * missing. A function of several statements joins the caller's transaction
 * (store_tx_begin) when one is open — the caller then rolls back on failure — and
 * otherwise runs in its own.
 *
 * Ownership: row structs' strings are the caller's; release them with the matching
 * *_free() (which frees the fields of each row and the array).
 */
#ifndef FERRY_STORE_PIPELINES_H
#define FERRY_STORE_PIPELINES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_pipeline {
	char *name;
	int version;
	char *declaration;
	int64_t created_ms, updated_ms;
};

/* Inserts version 1 (STORE_CONFLICT when the name exists) or, with `update`, stores
 * version + 1 (STORE_NOT_FOUND when missing); p->version is set to the new version.
 * updated_ms 0 means now; created_ms 0 means updated_ms on insert, and an update sets
 * it to the stored one. The caller stamps "version" into `declaration`: to know the
 * next version, read it with store_pipeline_get() inside store_tx_begin(). */
FERRY_MUST_CHECK
int store_pipeline_save(struct store *st, struct store_pipeline *p, int update, struct err *err);
/* version 0: the latest. 0, STORE_NOT_FOUND or -1. For an older version, updated_ms is
 * when that version was stored. */
FERRY_MUST_CHECK
int store_pipeline_get(struct store *st, const char *name, int version, struct store_pipeline *out,
                       struct err *err);
/* Latest version of every pipeline, by name. */
FERRY_MUST_CHECK
int store_pipeline_list(struct store *st, struct store_pipeline **out, size_t *n, struct err *err);
/* Deletes it and its history (see the invariants). 0, STORE_NOT_FOUND or -1. */
FERRY_MUST_CHECK
int store_pipeline_delete(struct store *st, const char *name, struct err *err);
void store_pipeline_free(struct store_pipeline *p); /* the fields */
void store_pipeline_list_free(struct store_pipeline *p, size_t n);

struct store_transition {
	char *pipeline, *stage;
	char *direction; /* "Inbound" or "Outbound" */
	int enabled;
	char *reason, *changed_by;
	int64_t changed_ms;
};

/* Inserts or replaces the row of (pipeline, stage, direction); changed_ms 0 means now. */
FERRY_MUST_CHECK
int store_transition_put(struct store *st, const struct store_transition *t, struct err *err);
/* Every recorded transition of `pipeline` (missing ones are enabled). */
FERRY_MUST_CHECK
int store_transition_list(struct store *st, const char *pipeline, struct store_transition **out,
                          size_t *n, struct err *err);
void store_transition_list_free(struct store_transition *t, size_t n);

struct store_trigger_event {
	int64_t id;
	char *pipeline, *source, *delivery_id, *ref, *before, *after;
	char *outcome; /* "started", "filtered", "duplicate", "ignored", "rejected" */
	char *reason, *execution_id;
	int64_t received_ms;
};

/* Inserts (ev->id is set; received_ms 0 means now); STORE_CONFLICT when (pipeline,
 * delivery_id) was seen. A NULL delivery_id never conflicts. */
FERRY_MUST_CHECK
int store_trigger_insert(struct store *st, struct store_trigger_event *ev, struct err *err);
/* Sets the outcome of an event inserted earlier (a delivery is claimed first, its
 * outcome known once the execution started). */
FERRY_MUST_CHECK
int store_trigger_update(struct store *st, int64_t id, const char *outcome, const char *reason,
                         const char *execution_id, struct err *err);
/* Newest first, at most `limit` (<= 0: all). */
FERRY_MUST_CHECK
int store_trigger_list(struct store *st, const char *pipeline, int limit,
                       struct store_trigger_event **out, size_t *n, struct err *err);
void store_trigger_list_free(struct store_trigger_event *ev, size_t n);

/* The last commit polling saw for a source action: 0 with *commit, STORE_NOT_FOUND. */
FERRY_MUST_CHECK
int store_poll_get(struct store *st, const char *pipeline, const char *action, char **commit,
                   struct err *err);
FERRY_MUST_CHECK
int store_poll_set(struct store *st, const char *pipeline, const char *action, const char *commit,
                   struct err *err);

#endif
