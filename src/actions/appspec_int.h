/*
 * appspec_int.h — internal to the appspec deployer (src/actions/appspec_*.c,
 * deploy_appspec.c): one deployment's context, its targets, and the pieces
 * (hooks, install, events) the lifecycle is made of.
 *
 * Invariants:
 *  - a `struct dctx` lives for one deployment (a rollback gets its own);
 *  - every path in a `struct dtarget` is absolute and canonical where it exists;
 *  - event rows are planned (Pending) before the first runs, then updated in place:
 *    `seq` is the row's position in the target's plan.
 */
#ifndef FERRY_ACTIONS_APPSPEC_INT_H
#define FERRY_ACTIONS_APPSPEC_INT_H

#include <signal.h>

#include "actions/appspec_deploy.h"
#include "spec/appspec.h"
#include "store/deployments.h"
#include "util/buf.h"

#define DEPLOY_PLAN_MAX      12
#define DEPLOY_ENTRIES_MAX   100000
#define DEPLOY_BYTES_MAX     (4LL << 30)
#define DEPLOY_TARGETS_MAX   64
#define DEPLOY_KEEP_ARCHIVES 5 /* per target, besides the last successful one */
#define DEPLOY_OUTPUT_CHUNK  4096

/* Set by SIGTERM (the engine stopping the action): hooks are killed, the deployment
 * ends Stopped. */
extern volatile sig_atomic_t appspec_stop_requested;

struct dtarget {
	int index;
	char *name;       /* the directory, or "blue" / "green" */
	char *dir;        /* the target directory (created when missing) */
	char *droot;      /* its deployment root: <group root>/<index> */
	char *archive;    /* <droot>/<deployment id>/deployment-archive */
	const char *slot; /* blue/green: "blue" or "green"; NULL in-place */
	int port;
	const char *plan[DEPLOY_PLAN_MAX];
	int nplan;
	int64_t started[DEPLOY_PLAN_MAX];
	int failed; /* an event failed */
	int skipped;
	char *failure; /* "event X failed on target T: script S exited with status 3" */
	char *error_code;
};

struct dctx {
	struct store *st;
	const struct deploy_req *req;
	struct store_deploy_group *g;
	char id[STORE_DEPLOY_ID_LEN + 1];
	const char *creator;
	char *root;   /* <data>/deploy/<app>/<group> */
	char *bundle; /* bundles/<id>.zip */
	char *revision;
	int logfd;
	long entries_max;
	struct dtarget *t;
	size_t nt;
};

/* ---- log (appspec_run.c) ---- */

/* One line to the deployment's log (and stdout when asked), "[tag] text". */
FERRY_PRINTF(3, 4)
void dlog(struct dctx *c, const char *tag, const char *fmt, ...);

/* ---- hooks (appspec_run.c) ---- */

struct hook_result {
	char *script;     /* the script that failed or ran last, NULL when none ran */
	int exit_code;    /* -1: none */
	const char *code; /* NULL (success), "ScriptMissing", "ScriptNotExecutable",
	                     "ScriptTimedOut", "ScriptFailed", "UnknownError" */
	char *message;
};

/* Runs the scripts of `ev` in `as` (NULL or none: nothing) with cwd `archive`, one
 * after the other, stopping at the first failure. 0 when all succeeded (or there were
 * none), -1 with `res` filled. */
int appspec_hooks_run(struct dctx *c, struct dtarget *t, const struct appspec *as,
                      const char *archive, enum appspec_event ev, struct hook_result *res);
void hook_result_clear(struct hook_result *res);

/* ---- bundle and install (appspec_install.c) ---- */

/* Extracts `zip` into `dest` (created), refusing hostile entries with the entry named
 * and nothing written; then reads its appspec.yml. 0, or -1 with `err`. */
FERRY_MUST_CHECK
int appspec_bundle_extract(struct dctx *c, const char *zip, const char *dest, struct appspec **as,
                           struct err *err);

/* Install: removes what the previous Install on this target made (its cleanup file),
 * copies the files section under t->dir, applies permissions, and writes the new
 * cleanup file (also after a failure, with what was installed). */
FERRY_MUST_CHECK
int appspec_install(struct dctx *c, struct dtarget *t, const struct appspec *as, struct err *err);

/* <droot>/deployment-instructions/<group-id>_last_successful_install: the archive dir
 * it names (to free), or NULL when there is none. */
char *appspec_last_install(struct dctx *c, const struct dtarget *t);
FERRY_MUST_CHECK
int appspec_set_last_install(struct dctx *c, const struct dtarget *t, struct err *err);

/* Removes old archives of the target, keeping DEPLOY_KEEP_ARCHIVES and the last
 * successful one. Best effort. */
void appspec_prune(struct dctx *c, const struct dtarget *t);

#endif
