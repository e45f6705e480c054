/*
 * deployments.h — the stored side of appspec deployments (ferry's CodeDeploy analog):
 * deployment groups, deployments, and the lifecycle events of each target.
 * An application exists while it has deployment groups [F]: there is no separate
 * application row.
 *
 * Invariants:
 *  - (app, group) is unique; a group's id (a UUID) never changes and names its
 *    deployment-instructions on disk, as DEPLOYMENT_GROUP_ID does on an instance;
 *  - application and group names are 1–100 of [A-Za-z0-9._-] (they name directories);
 *  - deployment ids are "d-" and 9 of [A-Z0-9], as CodeDeploy's;
 *  - an event row is (deployment, target index, seq): seq orders the events of one
 *    target as they run; statuses are CodeDeploy's (Pending InProgress Succeeded
 *    Failed Skipped).
 *
 * Ownership: row strings are the caller's; *_free() frees one row's fields,
 * *_list_free() every row's and the array.
 */
#ifndef FERRY_STORE_DEPLOYMENTS_H
#define FERRY_STORE_DEPLOYMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_DEPLOY_NAME_MAX 100
#define STORE_DEPLOY_ID_LEN   11 /* "d-" + 9 */

struct store_deploy_group {
	char *app;
	char *name;
	char *id;      /* UUID, DEPLOYMENT_GROUP_ID */
	char *kind;    /* "in-place" or "blue-green" */
	char *targets; /* JSON array of absolute directories (in-place) */
	char *slots;   /* JSON {"blue": {"dir", "port"}, "green": {...}} (blue/green), or NULL */
	char *host;    /* blue/green: the edge host switched between the slots */
	char *config;  /* "CodeDeployDefault.OneAtATime" ... */
	int auto_rollback;
	char *live_slot; /* blue/green: "blue", "green", or NULL before the first deployment */
	int64_t created_ms;
};

/* 0 when `name` is a valid application or group name; -1 with `err` naming `what`. */
FERRY_MUST_CHECK
int store_deploy_name_check(const char *what, const char *name, struct err *err);

/* 0, STORE_CONFLICT (exists), -1. The id is made here when g->id is NULL. */
FERRY_MUST_CHECK
int store_deploy_group_create(struct store *st, const struct store_deploy_group *g,
                              struct err *err);
/* 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK
int store_deploy_group_get(struct store *st, const char *app, const char *name,
                           struct store_deploy_group *out, struct err *err);
/* Every group (app NULL) or one application's, by app then name. */
FERRY_MUST_CHECK
int store_deploy_group_list(struct store *st, const char *app, struct store_deploy_group **out,
                            size_t *n, struct err *err);
/* Deletes the group and its deployments' history. 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK
int store_deploy_group_delete(struct store *st, const char *app, const char *name, struct err *err);
FERRY_MUST_CHECK
int store_deploy_group_set_live(struct store *st, const char *app, const char *name,
                                const char *slot, struct err *err);
void store_deploy_group_free(struct store_deploy_group *g);
void store_deploy_group_list_free(struct store_deploy_group *g, size_t n);

struct store_deployment {
	char *id;
	char *app, *group;
	char *status;                 /* Created InProgress Succeeded Failed Stopped */
	char *revision;               /* the bundle's commit or sha256 */
	char *bundle;                 /* the bundle zip kept for redeploys and rollbacks */
	char *creator;                /* "user", "pipeline", "codeDeployRollback" */
	char *rollback_of;            /* the failed deployment this one rolls back */
	char *rolled_back_by;         /* the rollback deployment started for this one */
	char *source;                 /* "pipeline P execution E action A", "cli" */
	char *summary;                /* one line once ended */
	char *error_code;             /* CodeDeploy's ErrorCode ("SCRIPT_FAILED", ...) or NULL */
	int64_t started_ms, ended_ms; /* ended 0 while running */
};

/* A fresh "d-XXXXXXXXX" (out has room for STORE_DEPLOY_ID_LEN + 1). */
void store_deployment_new_id(char out[STORE_DEPLOY_ID_LEN + 1]);

/* Inserts; a row of that id already there (made by the API for a push) gets the
 * status, revision, bundle and source given instead. */
FERRY_MUST_CHECK
int store_deployment_add(struct store *st, const struct store_deployment *d, struct err *err);
FERRY_MUST_CHECK
int store_deployment_get(struct store *st, const char *id, struct store_deployment *out,
                         struct err *err);
/* Newest first; app and group may be NULL (all); at most `limit` rows. */
FERRY_MUST_CHECK
int store_deployment_list(struct store *st, const char *app, const char *group, int limit,
                          struct store_deployment **out, size_t *n, struct err *err);
/* Sets status (and, when `ended`, the end time, summary and error code). */
FERRY_MUST_CHECK
int store_deployment_set_status(struct store *st, const char *id, const char *status, int ended,
                                const char *summary, const char *error_code, struct err *err);
FERRY_MUST_CHECK
int store_deployment_set_rolled_back_by(struct store *st, const char *id, const char *by,
                                        struct err *err);
/* The newest Succeeded deployment of the group: 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK
int store_deployment_last_good(struct store *st, const char *app, const char *group,
                               struct store_deployment *out, struct err *err);
void store_deployment_free(struct store_deployment *d);
void store_deployment_list_free(struct store_deployment *d, size_t n);

struct store_deploy_event {
	char *deployment_id;
	int target;        /* index in the group's targets (blue/green: 0 blue, 1 green) */
	char *target_name; /* the target directory, or "blue" / "green" */
	int seq;           /* order within the target */
	char *event;       /* "ApplicationStop", "DownloadBundle", ... */
	char *status;      /* Pending InProgress Succeeded Failed Skipped */
	char *script;      /* the last script run, NULL */
	int exit_code;     /* -1: none */
	char *error_code;  /* LifecycleErrorCode: ScriptFailed ScriptTimedOut ... */
	char *message;
	int64_t started_ms, ended_ms; /* 0: not yet */
};

/* Inserts or replaces the row (deployment_id, target, seq). */
FERRY_MUST_CHECK
int store_deploy_event_put(struct store *st, const struct store_deploy_event *ev, struct err *err);
/* By target, then seq. */
FERRY_MUST_CHECK
int store_deploy_event_list(struct store *st, const char *deployment_id,
                            struct store_deploy_event **out, size_t *n, struct err *err);
void store_deploy_event_list_free(struct store_deploy_event *ev, size_t n);

#endif
