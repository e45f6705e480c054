/*
 * appspec_lifecycle.c — one deployment from start to end (appspec_deploy.h): the
 * group's targets, the lifecycle of each in the order of spec §9, the deployment
 * configuration's success rule, blue/green traffic switching, and the automatic
 * rollback.
 *
 * Why it is built this way:
 *  - targets run one after the other whatever the configuration [F]: with local
 *    directories "at once" buys nothing; what a configuration changes is when the
 *    deployment stops and whether it succeeded (spec §9's rules);
 *  - every event of every target is recorded Pending first, so a reader sees the
 *    whole plan; events of targets that never ran end Skipped;
 *  - blue/green switches the edge's route (sites/proxy.h) only after ValidateService
 *    succeeded on the replacement slot; a failure before that leaves traffic where
 *    it was, and the rollback only runs the block-traffic hooks on the replacement;
 *  - a rollback is a new deployment (creator codeDeployRollback) of the last good
 *    revision, run by the same code: its Install removes the failed revision's files
 *    through the cleanup list before installing the good ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "actions/appspec_int.h"
#include "build/artifacts.h"
#include "sites/proxy.h"
#include "util/fs.h"
#include "util/timeutil.h"

static const char *const inplace_plan[] = {
        "ApplicationStop", "DownloadBundle",   "BeforeInstall",   "Install",
        "AfterInstall",    "ApplicationStart", "ValidateService", NULL,
};
static const char *const allow_plan[] = {"BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic",
                                         NULL};
static const char *const block_plan[] = {"BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic",
                                         NULL};

/* ---- events ---- */

static void plan_add(struct dtarget *t, const char *const *names)
{
	for (size_t i = 0; names[i] && t->nplan < DEPLOY_PLAN_MAX; i++)
		t->plan[t->nplan++] = names[i];
}

static int plan_seq(const struct dtarget *t, const char *name)
{
	for (int i = 0; i < t->nplan; i++)
		if (!strcmp(t->plan[i], name))
			return i;
	return -1;
}

static void ev_put(struct dctx *c, struct dtarget *t, int seq, const char *status,
                   const struct hook_result *res, const char *msg)
{
	if (seq < 0)
		return;
	int64_t now = wall_ms();
	int running = !strcmp(status, "InProgress");
	if (running)
		t->started[seq] = now;
	int pending = !strcmp(status, "Pending");
	struct store_deploy_event ev = {
	        .deployment_id = c->id,
	        .target = t->index,
	        .target_name = t->name,
	        .seq = seq,
	        .event = (char *)t->plan[seq],
	        .status = (char *)status,
	        .script = res ? res->script : NULL,
	        .exit_code = res ? res->exit_code : -1,
	        .error_code = res ? (char *)res->code : NULL,
	        .message = (char *)(msg   ? msg
	                            : res ? res->message
	                                  : NULL),
	        .started_ms = pending           ? 0
	                      : t->started[seq] ? t->started[seq]
	                                        : now,
	        .ended_ms = pending || running ? 0 : now,
	};
	struct err err;
	if (store_deploy_event_put(c->st, &ev, &err) < 0)
		dlog(c, "store", "%s", err.msg);
}

static void ev_start(struct dctx *c, struct dtarget *t, const char *name)
{
	ev_put(c, t, plan_seq(t, name), "InProgress", NULL, NULL);
}

static void target_fail(struct dctx *c, struct dtarget *t, const char *event, const char *code,
                        const char *script, const char *msg)
{
	t->failed = 1;
	free(t->failure);
	free(t->error_code);
	t->error_code = xstrdup(code ? code : "UnknownError");
	if (script)
		t->failure = xasprintf("%s failed on target %s (script %s): %s", event, t->name,
		                       script, msg);
	else
		t->failure = xasprintf("%s failed on target %s: %s", event, t->name, msg);
	dlog(c, event, "%s", t->failure);
}

/* Ends an event: Succeeded when ok, else Failed with the reason. Returns ok ? 0 : -1. */
static int ev_end(struct dctx *c, struct dtarget *t, const char *name, int ok,
                  const struct hook_result *res, const char *code, const char *msg)
{
	int seq = plan_seq(t, name);
	if (ok) {
		ev_put(c, t, seq, "Succeeded", res && res->script ? res : NULL, msg);
		return 0;
	}
	struct hook_result r = {.exit_code = -1};
	if (res)
		r = *res;
	if (code)
		r.code = code;
	ev_put(c, t, seq, "Failed", &r, msg);
	target_fail(c, t, name, r.code, res ? res->script : NULL, msg ? msg : r.message);
	return -1;
}

/* The rest of a target's plan after a failure or a stop: Skipped. */
static void skip_rest(struct dctx *c, struct dtarget *t)
{
	for (int i = 0; i < t->nplan; i++)
		if (!t->started[i])
			ev_put(c, t, i, "Skipped", NULL, NULL);
}

/* Runs the hooks of `ev` as the event `name` of target t. */
static int step(struct dctx *c, struct dtarget *t, const struct appspec *as, const char *archive,
                enum appspec_event ev)
{
	const char *name = appspec_event_name(ev);
	ev_start(c, t, name);
	struct hook_result res = {.exit_code = -1};
	int ok = appspec_hooks_run(c, t, as, archive, ev, &res) == 0;
	int rc = ev_end(c, t, name, ok, &res, NULL, NULL);
	hook_result_clear(&res);
	return rc;
}

/* The appspec of an archive kept on the target (a previous revision's), or NULL. */
static struct appspec *archive_spec(struct dctx *c, const char *archive)
{
	if (!archive)
		return NULL;
	char *p = fs_join(archive, "appspec.yml");
	if (!fs_exists(p)) {
		free(p);
		p = fs_join(archive, "appspec.yaml");
	}
	struct appspec *as = NULL;
	struct err err;
	if (appspec_load(p, "appspec.yml", &as, &err) < 0)
		dlog(c, "deploy", "the previous revision's %s", err.msg);
	free(p);
	return as;
}

/* ---- in-place on one target ---- */

static int run_inplace(struct dctx *c, struct dtarget *t)
{
	struct err err;
	/* ApplicationStop: the previous successful revision's scripts, if there was one */
	char *last = appspec_last_install(c, t);
	if (!last) {
		ev_put(c, t, plan_seq(t, "ApplicationStop"), "Skipped", NULL,
		       "first deployment on this target: no previous revision to stop");
	} else {
		struct appspec *prev = archive_spec(c, last);
		int rc = step(c, t, prev, last, AS_APPLICATION_STOP);
		appspec_free(prev);
		free(last);
		if (rc < 0)
			return -1;
	}
	ev_start(c, t, "DownloadBundle");
	struct appspec *as = NULL;
	if (appspec_bundle_extract(c, c->bundle, t->archive, &as, &err) < 0)
		return ev_end(c, t, "DownloadBundle", 0, NULL, "UnknownError", err.msg);
	ev_end(c, t, "DownloadBundle", 1, NULL, NULL, NULL);
	int rc = step(c, t, as, t->archive, AS_BEFORE_INSTALL);
	if (rc == 0) {
		ev_start(c, t, "Install");
		rc = appspec_install(c, t, as, &err);
		rc = ev_end(c, t, "Install", rc == 0, NULL, "UnknownError",
		            rc == 0 ? NULL : err.msg);
	}
	if (rc == 0)
		rc = step(c, t, as, t->archive, AS_AFTER_INSTALL);
	if (rc == 0)
		rc = step(c, t, as, t->archive, AS_APPLICATION_START);
	if (rc == 0)
		rc = step(c, t, as, t->archive, AS_VALIDATE_SERVICE);
	if (rc == 0 && appspec_set_last_install(c, t, &err) < 0)
		rc = ev_end(c, t, "ValidateService", 0, NULL, "UnknownError", err.msg);
	appspec_free(as);
	return rc;
}

/* ---- targets ---- */

static void target_free(struct dtarget *t)
{
	free(t->name);
	free(t->dir);
	free(t->droot);
	free(t->archive);
	free(t->failure);
	free(t->error_code);
}

static int target_init(struct dctx *c, struct dtarget *t, int index, const char *name,
                       const char *dir, struct err *err)
{
	memset(t, 0, sizeof *t);
	t->index = index;
	t->name = xstrdup(name);
	if (fs_mkdir_p(dir, 0755, err) < 0)
		return -1;
	t->dir = fs_realpath(dir, err);
	if (!t->dir)
		return -1;
	t->droot = xasprintf("%s/%d", c->root, index);
	t->archive = xasprintf("%s/%s/deployment-archive", t->droot, c->id);
	return 0;
}

static int targets_inplace(struct dctx *c, struct err *err)
{
	json_error_t je;
	json_t *arr = json_loads(c->g->targets ? c->g->targets : "[]", 0, &je);
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		json_decref(arr);
		return err_set(err, "deployment group %s: it has no targets", c->g->name);
	}
	c->nt = json_array_size(arr);
	c->t = xcalloc(c->nt, sizeof *c->t);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < c->nt; i++) {
		const char *dir = json_string_value(json_array_get(arr, i));
		if (!dir || dir[0] != '/')
			rc = err_set(err, "deployment group %s: target %zu is not a directory",
			             c->g->name, i);
		else
			rc = target_init(c, &c->t[i], (int)i, dir, dir, err);
		plan_add(&c->t[i], inplace_plan);
	}
	json_decref(arr);
	return rc;
}

static int slots_init(struct dctx *c, struct err *err)
{
	json_t *slots = json_loads(c->g->slots ? c->g->slots : "{}", 0, NULL);
	static const char *const names[] = {"blue", "green"};
	c->nt = 2;
	c->t = xcalloc(2, sizeof *c->t);
	int rc = 0;
	for (int i = 0; rc == 0 && i < 2; i++) {
		json_t *s = json_object_get(slots, names[i]);
		const char *dir = json_string_value(json_object_get(s, "dir"));
		json_int_t port = json_integer_value(json_object_get(s, "port"));
		if (!dir || port < 1 || port > 65535)
			rc = err_set(err,
			             "deployment group %s: slot %s needs a directory and a port",
			             c->g->name, names[i]);
		else
			rc = target_init(c, &c->t[i], i, names[i], dir, err);
		c->t[i].slot = names[i];
		c->t[i].port = (int)port;
	}
	json_decref(slots);
	return rc;
}

/* ---- the configuration's rule ---- */

enum config { CFG_ONE, CFG_HALF, CFG_ALL };

static enum config config_of(const char *name)
{
	if (name && strstr(name, "AllAtOnce"))
		return CFG_ALL;
	if (name && strstr(name, "HalfAtATime"))
		return CFG_HALF;
	return CFG_ONE;
}

/* 1 when the deployment succeeded given `failed` of n after `done` targets ran; *stop
 * set when no more should run. */
static int config_rule(enum config cfg, size_t n, size_t done, size_t failed, int *stop)
{
	size_t ok = done - failed;
	*stop = 0;
	switch (cfg) {
	case CFG_ALL:
		return ok >= 1;
	case CFG_HALF: {
		size_t need = (n + 1) / 2;
		*stop = failed > n - need;
		return ok >= need;
	}
	case CFG_ONE:
	default:
		*stop = failed > 0;
		/* a failure of the last instance still counts as success (n > 1) */
		return failed == 0 || (n > 1 && failed == 1 && done == n);
	}
}

/* ---- one deployment ---- */

struct outcome {
	int succeeded;
	int switched;              /* blue/green: the route moved to the replacement */
	int replacement, original; /* blue/green target indexes; original -1: none */
	char *failure;
	char *error_code;
};

static void plan_pending(struct dctx *c)
{
	for (size_t i = 0; i < c->nt; i++)
		for (int s = 0; s < c->t[i].nplan; s++)
			ev_put(c, &c->t[i], s, "Pending", NULL, NULL);
}

static void outcome_fail_from(struct outcome *o, const struct dtarget *t)
{
	if (o->failure || !t->failed)
		return;
	o->failure = xstrdup(t->failure);
	o->error_code = xstrdup(t->error_code ? t->error_code : "UnknownError");
}

static void deploy_inplace(struct dctx *c, struct outcome *o)
{
	for (size_t i = 0; i < c->nt; i++)
		if (!c->t[i].nplan)
			plan_add(&c->t[i], inplace_plan);
	plan_pending(c);
	enum config cfg = config_of(c->g->config);
	size_t done = 0, failed = 0;
	int stop = 0;
	for (size_t i = 0; i < c->nt; i++) {
		struct dtarget *t = &c->t[i];
		if (stop || appspec_stop_requested) {
			skip_rest(c, t);
			continue;
		}
		dlog(c, "deploy", "target %zu of %zu: %s", i + 1, c->nt, t->dir);
		if (run_inplace(c, t) < 0) {
			failed++;
			skip_rest(c, t);
			outcome_fail_from(o, t);
		} else {
			appspec_prune(c, t);
		}
		done++;
		config_rule(cfg, c->nt, done, failed, &stop);
	}
	o->succeeded = config_rule(cfg, c->nt, done, failed, &stop) && !appspec_stop_requested;
	if (o->succeeded && failed)
		dlog(c, "deploy", "%zu of %zu targets failed; %s still counts it a success", failed,
		     c->nt, c->g->config);
}

static int allow_traffic(struct dctx *c, struct dtarget *t)
{
	struct err err;
	char upstream[32];
	snprintf(upstream, sizeof upstream, "127.0.0.1:%d", t->port);
	ev_start(c, t, "AllowTraffic");
	if (proxy_route_set(c->req->data_dir, c->g->host, upstream, &err) < 0)
		return ev_end(c, t, "AllowTraffic", 0, NULL, "UnknownError", err.msg);
	char *msg = xasprintf("%s now goes to %s (%s)", c->g->host, t->slot, upstream);
	dlog(c, "AllowTraffic", "%s", msg);
	ev_end(c, t, "AllowTraffic", 1, NULL, NULL, msg);
	free(msg);
	if (store_deploy_group_set_live(c->st, c->g->app, c->g->name, t->slot, &err) < 0)
		dlog(c, "store", "%s", err.msg);
	return 0;
}

static void block_traffic(struct dctx *c, struct dtarget *t, const char *now_to)
{
	ev_start(c, t, "BlockTraffic");
	char *msg =
	        xasprintf("%s no longer goes to %s (it goes to %s)", c->g->host, t->slot, now_to);
	ev_end(c, t, "BlockTraffic", 1, NULL, NULL, msg);
	free(msg);
}

static void deploy_bluegreen(struct dctx *c, struct outcome *o)
{
	const char *live = c->g->live_slot;
	o->replacement = live && !strcmp(live, "blue") ? 1 : 0;
	o->original = live ? 1 - o->replacement : -1;
	struct dtarget *r = &c->t[o->replacement];
	struct dtarget *orig = o->original >= 0 ? &c->t[o->original] : NULL;
	plan_add(r, inplace_plan);
	plan_add(r, allow_plan);
	if (orig)
		plan_add(orig, block_plan);
	plan_pending(c);
	dlog(c, "deploy", "replacement slot %s (%s, port %d); live: %s", r->slot, r->dir, r->port,
	     live ? live : "none yet");
	int rc = run_inplace(c, r);
	if (rc == 0) {
		struct appspec *as = archive_spec(c, r->archive);
		rc = step(c, r, as, r->archive, AS_BEFORE_ALLOW_TRAFFIC);
		if (rc == 0 && (rc = allow_traffic(c, r)) == 0)
			o->switched = 1;
		if (rc == 0)
			rc = step(c, r, as, r->archive, AS_AFTER_ALLOW_TRAFFIC);
		appspec_free(as);
	}
	if (rc == 0 && orig) {
		char *last = appspec_last_install(c, orig);
		struct appspec *oas = archive_spec(c, last);
		rc = step(c, orig, oas, last, AS_BEFORE_BLOCK_TRAFFIC);
		if (rc == 0) {
			block_traffic(c, orig, r->slot);
			rc = step(c, orig, oas, last, AS_AFTER_BLOCK_TRAFFIC);
		}
		appspec_free(oas);
		free(last);
	}
	if (rc < 0 || appspec_stop_requested) {
		for (size_t i = 0; i < c->nt; i++) {
			skip_rest(c, &c->t[i]);
			outcome_fail_from(o, &c->t[i]);
		}
	} else {
		appspec_prune(c, r);
	}
	o->succeeded = rc == 0 && !appspec_stop_requested;
}

/* Blue/green rollback (spec §9): traffic back to the original if it had moved; the
 * replacement gets the block-traffic hooks of the revision that failed on it. */
static void rollback_bluegreen(struct dctx *c, const struct outcome *failed,
                               const char *failed_archive, struct outcome *o)
{
	struct dtarget *r = &c->t[failed->replacement];
	struct dtarget *orig = failed->original >= 0 ? &c->t[failed->original] : NULL;
	if (failed->switched && orig)
		plan_add(orig, allow_plan);
	plan_add(r, block_plan);
	plan_pending(c);
	int rc = 0;
	if (failed->switched && orig) {
		char *last = appspec_last_install(c, orig);
		struct appspec *oas = archive_spec(c, last);
		rc = step(c, orig, oas, last, AS_BEFORE_ALLOW_TRAFFIC);
		if (rc == 0)
			rc = allow_traffic(c, orig);
		if (rc == 0)
			rc = step(c, orig, oas, last, AS_AFTER_ALLOW_TRAFFIC);
		appspec_free(oas);
		free(last);
	}
	if (rc == 0) {
		struct appspec *fas = archive_spec(c, failed_archive);
		rc = step(c, r, fas, failed_archive, AS_BEFORE_BLOCK_TRAFFIC);
		if (rc == 0) {
			block_traffic(c, r, orig ? orig->slot : "nowhere new");
			rc = step(c, r, fas, failed_archive, AS_AFTER_BLOCK_TRAFFIC);
		}
		appspec_free(fas);
	}
	if (rc < 0)
		for (size_t i = 0; i < c->nt; i++) {
			skip_rest(c, &c->t[i]);
			outcome_fail_from(o, &c->t[i]);
		}
	o->succeeded = rc == 0;
}

/* ---- context ---- */

static void ctx_free(struct dctx *c)
{
	for (size_t i = 0; i < c->nt; i++)
		target_free(&c->t[i]);
	free(c->t);
	free(c->root);
	free(c->bundle);
	free(c->revision);
	if (c->logfd >= 0)
		close(c->logfd);
}

static int ctx_targets(struct dctx *c, struct err *err)
{
	if (!strcmp(c->g->kind, "blue-green"))
		return slots_init(c, err);
	return targets_inplace(c, err);
}

/* Records the deployment (InProgress) and opens its log. */
static int ctx_open(struct dctx *c, const char *rollback_of, struct err *err)
{
	char *logs = fs_join(c->root, "logs");
	char *log = xasprintf("%s/%s.log", logs, c->id);
	int rc = fs_mkdir_p(logs, 0755, err);
	c->logfd = rc == 0 ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	free(log);
	free(logs);
	if (rc < 0)
		return -1;
	struct store_deployment d = {
	        .id = c->id,
	        .app = c->g->app,
	        .group = c->g->name,
	        .status = "InProgress",
	        .revision = c->revision,
	        .bundle = c->bundle,
	        .creator = (char *)c->creator,
	        .rollback_of = (char *)rollback_of,
	        .source = (char *)c->req->source,
	};
	if (store_deployment_add(c->st, &d, err) < 0)
		return -1;
	dlog(c, "deploy", "deployment %s of %s/%s (%s, %s%s%s), revision %s", c->id, c->g->app,
	     c->g->name, c->g->kind, c->g->config, rollback_of ? ", rolling back " : "",
	     rollback_of ? rollback_of : "", c->revision ? c->revision : "?");
	return 0;
}

static const char *ctx_status(const struct outcome *o)
{
	return appspec_stop_requested ? "Stopped" : o->succeeded ? "Succeeded" : "Failed";
}

static char *ctx_summary(const struct dctx *c, const struct outcome *o)
{
	return o->succeeded ? xasprintf("Deployment %s Succeeded (%zu target%s)", c->id, c->nt,
	                                c->nt == 1 ? "" : "s")
	                    : xasprintf("Deployment %s %s: %s", c->id, ctx_status(o),
	                                o->failure ? o->failure : "stopped");
}

/* Records the end; `final` (NULL: made here) is the summary. */
static void ctx_finish(struct dctx *c, const struct outcome *o, const char *final)
{
	const char *status = ctx_status(o);
	char *summary = final ? xstrdup(final) : ctx_summary(c, o);
	struct err err;
	if (store_deployment_set_status(c->st, c->id, status, 1, summary,
	                                o->succeeded    ? NULL
	                                : o->error_code ? o->error_code
	                                                : "UnknownError",
	                                &err) < 0)
		dlog(c, "store", "%s", err.msg);
	dlog(c, "deploy", "%s", summary);
	free(summary);
}

static void outcome_clear(struct outcome *o)
{
	free(o->failure);
	free(o->error_code);
	memset(o, 0, sizeof *o);
}

/* ---- the entry point ---- */

static int lock_group(struct dctx *c, struct err *err)
{
	char *path = fs_join(c->root, ".lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(path);
	if (fd < 0)
		return err_errno(err, "%s/.lock", c->root);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (c->req->log_stdout) {
			printf("[deploy] waiting for the deployment in progress on %s/%s\n",
			       c->g->app, c->g->name);
			fflush(stdout);
		}
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR || appspec_stop_requested) {
				close(fd);
				return err_errno(err, "locking %s/%s", c->g->app, c->g->name);
			}
	}
	return fd;
}

/* The rollback of failed deployment `f` (a new deployment of `good`'s revision). */
static void run_rollback(struct dctx *f, const struct outcome *fo,
                         const struct store_deployment *good, struct deploy_outcome *out)
{
	struct dctx c = {.st = f->st,
	                 .req = f->req,
	                 .g = f->g,
	                 .creator = "codeDeployRollback",
	                 .logfd = -1,
	                 .entries_max = f->entries_max};
	store_deployment_new_id(c.id);
	c.root = xstrdup(f->root);
	c.bundle = xstrdup(good->bundle ? good->bundle : "");
	c.revision = good->revision ? xstrdup(good->revision) : NULL;
	struct outcome o = {.original = -1};
	struct err err;
	if (store_deployment_set_rolled_back_by(f->st, f->id, c.id, &err) < 0)
		dlog(f, "store", "%s", err.msg);
	if (ctx_open(&c, f->id, &err) < 0 || ctx_targets(&c, &err) < 0) {
		o.failure = xstrdup(err.msg);
	} else {
		dlog(f, "deploy", "rolling back: deployment %s redeploys revision %s of %s", c.id,
		     good->revision ? good->revision : "?", good->id);
		if (!strcmp(f->g->kind, "blue-green")) {
			const char *archive = f->t[fo->replacement].archive;
			rollback_bluegreen(&c, fo, archive, &o);
		} else {
			deploy_inplace(&c, &o);
		}
	}
	ctx_finish(&c, &o, NULL);
	memcpy(out->rollback_id, c.id, sizeof c.id);
	char rev[13];
	snprintf(rev, sizeof rev, "%s", good->revision ? good->revision : "?");
	char *s = o.succeeded ? xasprintf("%s; rolled back to deployment %s (revision %s) by "
	                                  "deployment %s",
	                                  out->summary, good->id, rev, c.id)
	                      : xasprintf("%s; the rollback to deployment %s (revision %s) failed "
	                                  "too: deployment %s: %s",
	                                  out->summary, good->id, rev, c.id,
	                                  o.failure ? o.failure : "stopped");
	free(out->summary);
	out->summary = s;
	outcome_clear(&o);
	ctx_free(&c);
}

static void after_failure(struct dctx *c, const struct outcome *o, struct deploy_outcome *out)
{
	if (appspec_stop_requested)
		return;
	if (!c->g->auto_rollback) {
		char *s = xasprintf("%s; automatic rollback is off for this group", out->summary);
		free(out->summary);
		out->summary = s;
		return;
	}
	struct store_deployment good;
	struct err err;
	int rc = store_deployment_last_good(c->st, c->g->app, c->g->name, &good, &err);
	if (rc != 0 || !good.bundle || !fs_exists(good.bundle)) {
		char *s = xasprintf("%s; no earlier successful revision to roll back to",
		                    out->summary);
		free(out->summary);
		out->summary = s;
		store_deployment_free(&good);
		return;
	}
	run_rollback(c, o, &good, out);
	store_deployment_free(&good);
}

static char *bundle_copy(struct dctx *c, const char *from, struct err *err)
{
	char *dir = fs_join(c->root, "bundles");
	char *to = xasprintf("%s/%s.zip", dir, c->id);
	int rc = fs_mkdir_p(dir, 0755, err);
	free(dir);
	if (rc == 0 && strcmp(from, to)) {
		char *tmp = xasprintf("%s.tmp", to);
		rc = fs_copy_file(from, tmp, err);
		if (rc == 0 && rename(tmp, to) < 0)
			rc = err_errno(err, "%s", to);
		if (rc < 0)
			unlink(tmp);
		free(tmp);
	}
	if (rc < 0) {
		free(to);
		return NULL;
	}
	return to;
}

static void mark_failed(struct store *st, const struct deploy_req *req, const char *msg)
{
	struct err e2;
	if (req->deployment_id && store_deployment_set_status(st, req->deployment_id, "Failed", 1,
	                                                      msg, "UnknownError", &e2) < 0) {
	}
}

int appspec_deploy(struct store *st, const struct deploy_req *req, struct deploy_outcome *out,
                   struct err *err)
{
	memset(out, 0, sizeof *out);
	struct store_deploy_group g;
	if (store_deploy_group_get(st, req->app, req->group, &g, err) != 0) {
		mark_failed(st, req, err->msg);
		return -1;
	}
	struct dctx c = {.st = st,
	                 .req = req,
	                 .g = &g,
	                 .logfd = -1,
	                 .creator = req->creator ? req->creator : "user",
	                 .entries_max = req->entries_max};
	if (req->deployment_id)
		snprintf(c.id, sizeof c.id, "%s", req->deployment_id);
	else
		store_deployment_new_id(c.id);
	c.root = xasprintf("%s/deploy/%s/%s", req->data_dir, g.app, g.name);
	int lock = -1, rc = fs_mkdir_p(c.root, 0755, err);
	if (rc == 0 && (lock = lock_group(&c, err)) < 0)
		rc = -1;
	if (rc == 0 && !(c.bundle = bundle_copy(&c, req->bundle, err)))
		rc = -1;
	if (rc == 0) {
		char sha[65], md5[33];
		int64_t size = 0;
		if (req->revision && *req->revision)
			c.revision = xstrdup(req->revision);
		else if (artifacts_hash_file(c.bundle, sha, md5, &size, err) == 0)
			c.revision = xstrdup(sha);
		else
			rc = -1;
	}
	if (rc == 0)
		rc = ctx_open(&c, NULL, err);
	if (rc < 0) {
		mark_failed(st, req, err->msg);
		if (lock >= 0)
			close(lock);
		ctx_free(&c);
		store_deploy_group_free(&g);
		return -1;
	}
	memcpy(out->id, c.id, sizeof c.id);
	struct outcome o = {.original = -1};
	if (ctx_targets(&c, err) < 0) {
		o.failure = xstrdup(err->msg);
		o.error_code = xstrdup("UnknownError");
	} else if (!strcmp(g.kind, "blue-green")) {
		deploy_bluegreen(&c, &o);
	} else {
		deploy_inplace(&c, &o);
	}
	out->succeeded = o.succeeded;
	out->ntargets = (int)c.nt;
	out->summary = ctx_summary(&c, &o);
	/* a failed deployment ends once its rollback has [F]: its summary names it */
	if (!o.succeeded)
		after_failure(&c, &o, out);
	ctx_finish(&c, &o, out->summary);
	outcome_clear(&o);
	ctx_free(&c);
	close(lock);
	store_deploy_group_free(&g);
	return 0;
}

void deploy_outcome_free(struct deploy_outcome *out)
{
	free(out->summary);
	out->summary = NULL;
}
