/*
 * engine_fn.c — a function invoked through the API: `ferry __invoke DIR` as a child
 * (functions/invoke_main.h), its result read when it exits and handed to the caller.
 *
 * Why a child: fn_invoke() blocks for as long as the function runs (up to 15 min);
 * the loop must not. The child is started as action children are (libuv, its own
 * process group); the function's own timeout bounds it, and a limit a little past
 * that kills it if it hangs anyway. At a daemon stop every child is killed and its
 * caller answered with an error.
 */
#include "engine/engine_int.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "functions/invoke_main.h"
#include "functions/registry.h"
#include "util/buf.h"
#include "util/fs.h"

#define FN_CHILD_GRACE_MS 30000 /* past the longest timeout, for the child's own work */

struct eng_fncall {
	struct engine *e;
	char *dir;
	engine_fn_done_fn *done;
	void *ctx;
	uv_process_t proc;
	uv_timer_t timer;
	int handles;
	int stopped;
	struct eng_fncall *next;
};

static void call_free(uv_handle_t *h)
{
	struct eng_fncall *c = h->data;
	if (--c->handles > 0)
		return;
	struct engine *e = c->e;
	for (struct eng_fncall **at = &e->fncalls; *at; at = &(*at)->next)
		if (*at == c) {
			*at = c->next;
			break;
		}
	struct err err;
	if (fs_rm_rf(c->dir, &err) < 0)
		eng_log(e, "function invoke: %s", err.msg);
	free(c->dir);
	free(c);
}

static void finish(struct eng_fncall *c, int64_t status, int sig)
{
	char *path = fs_join(c->dir, FN_INVOKE_RESULT);
	json_t *res = c->stopped ? NULL : json_load_file(path, 0, NULL);
	free(path);
	if (!res) {
		char why[160];
		if (c->stopped)
			snprintf(why, sizeof why, "ferry is stopping: the invocation was ended");
		else
			snprintf(why, sizeof why,
			         "the invocation ended without a result (status %lld, signal %d)",
			         (long long)status, sig);
		res = json_pack("{s:b,s:s}", "ok", 0, "error", why);
	}
	char *payload = NULL;
	size_t len = 0;
	if (json_is_true(json_object_get(res, "ok"))) {
		char *out = fs_join(c->dir, FN_INVOKE_RESPONSE);
		struct err err;
		if (fs_read_file(out, FN_PAYLOAD_MAX + 1024, &payload, &len, &err) < 0) {
			json_decref(res);
			res = json_pack("{s:b,s:s}", "ok", 0, "error", err.msg);
		}
		free(out);
	}
	c->done(c->ctx, res, payload, len);
	json_decref(res);
	free(payload);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, call_free);
	uv_close((uv_handle_t *)&c->proc, call_free);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct eng_fncall *c = p->data;
	uv_kill(-p->pid, SIGKILL); /* anything left in its group */
	finish(c, status, sig);
}

static void on_limit(uv_timer_t *t)
{
	struct eng_fncall *c = t->data;
	uv_kill(-c->proc.pid, SIGKILL);
}

void eng_fncalls_stop(struct engine *e)
{
	for (struct eng_fncall *c = e->fncalls; c; c = c->next) {
		c->stopped = 1;
		uv_kill(-c->proc.pid, SIGKILL);
	}
}

static int write_request(struct engine *e, const char *dir, const char *name, const char *qualifier,
                         const char *payload, size_t len, struct err *err)
{
	json_t *env = json_array();
	if (e->url) {
		json_array_append_new(env, json_sprintf("FERRY_URL=%s", e->url));
		json_array_append_new(env, json_sprintf("AWS_ENDPOINT_URL=%s", e->url));
	}
	json_t *rq =
	        json_pack("{s:s,s:s,s:o,s:o}", "dataDir", e->data_dir, "name", name, "qualifier",
	                  qualifier ? json_string(qualifier) : json_null(), "extraEnv", env);
	char *text = json_dumps(rq, JSON_COMPACT);
	json_decref(rq);
	char *rp = fs_join(dir, FN_INVOKE_REQUEST), *pp = fs_join(dir, FN_INVOKE_PAYLOAD);
	int rc = fs_write_atomic(pp, payload ? payload : "", payload ? len : 0, 0600, err) < 0 ||
	                         fs_write_atomic(rp, text, strlen(text), 0600, err) < 0
	                 ? -1
	                 : 0;
	free(rp);
	free(pp);
	free(text);
	return rc;
}

int engine_fn_invoke(struct engine *e, const char *name, const char *qualifier, const char *payload,
                     size_t len, engine_fn_done_fn *done, void *ctx, struct engine_err *err)
{
	if (e->stopping)
		return eng_fail(err, ENGINE_EINTERNAL, "ServiceException", "ferry is stopping");
	char id[ENGINE_UUID_LEN + 1];
	eng_uuid(id);
	char *dir = eng_path(e, "jobs/invoke-%s", id);
	if (fs_mkdir_p(dir, 0700, &err->err) < 0 ||
	    write_request(e, dir, name, qualifier, payload, len, &err->err) < 0) {
		struct err e2;
		if (fs_rm_rf(dir, &e2) < 0)
			eng_log(e, "function invoke: %s", e2.msg);
		free(dir);
		err->type = "ServiceException";
		return ENGINE_EINTERNAL;
	}
	struct eng_fncall *c = xcalloc(1, sizeof *c);
	c->e = e;
	c->dir = dir;
	c->done = done;
	c->ctx = ctx;
	c->proc.data = c->timer.data = c;
	char *args[] = {e->self_exe, "__invoke", dir, NULL};
	uv_stdio_container_t stdio[3] = {
	        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = 2}};
	uv_process_options_t opts = {.file = e->self_exe,
	                             .args = args,
	                             .exit_cb = on_exit_cb,
	                             .flags = UV_PROCESS_DETACHED,
	                             .stdio_count = 3,
	                             .stdio = stdio};
	int rc = uv_spawn(&e->loop, &c->proc, &opts);
	if (rc != 0) {
		eng_fail(err, ENGINE_EINTERNAL, "ServiceException", "cannot start %s: %s",
		         e->self_exe, uv_strerror(rc));
		struct err e2;
		if (fs_rm_rf(dir, &e2) < 0)
			eng_log(e, "function invoke: %s", e2.msg);
		free(dir);
		free(c);
		return ENGINE_EINTERNAL;
	}
	uv_timer_init(&e->loop, &c->timer);
	c->handles = 2;
	c->next = e->fncalls;
	e->fncalls = c;
	uv_timer_start(&c->timer, on_limit, (uint64_t)FN_TIMEOUT_MAX * 1000 + FN_CHILD_GRACE_MS, 0);
	return 0;
}
