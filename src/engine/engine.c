/*
 * engine.c — the engine's life: opening (store, recovery), the loop, functions
 * posted from other threads, shutdown, and small helpers the other files share.
 */
#include "engine/engine_int.h"
#include "engine/notify.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/memtrim.h"
#include "util/uuid.h"

unsigned engine_rc_http_status(int rc)
{
	switch (rc) {
	case ENGINE_OK:
		return 200;
	case ENGINE_EINVALID:
		return 400;
	case ENGINE_ENOTFOUND:
		return 404;
	case ENGINE_ECONFLICT:
		return 409;
	case ENGINE_ELIMIT:
		return 429;
	default:
		return 500;
	}
}

void eng_uuid(char out[ENGINE_UUID_LEN + 1])
{
	uuid4(out);
}

int eng_fail(struct engine_err *err, int rc, const char *type, const char *fmt, ...)
{
	if (err) {
		/* the arguments may point into err->err.msg itself (adding context to a message) */
		char msg[sizeof err->err.msg];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		memcpy(err->err.msg, msg, sizeof msg);
		err->type = type;
	}
	return rc;
}

int eng_store_rc(int rc, struct engine_err *err)
{
	if (rc < 0 && err)
		err->type = "InternalError";
	return rc < 0 ? ENGINE_EINTERNAL : rc;
}

void eng_log(struct engine *e, const char *fmt, ...)
{
	if (!e->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *line = NULL;
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (line) {
		logsink_printf(e->log, "%s", line);
		free(line);
	}
}

char *eng_path(struct engine *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *rel = NULL;
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *p = fs_join(e->data_dir, rel);
	free(rel);
	return p;
}

void eng_row_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

struct store *engine_store(struct engine *e)
{
	return e->st;
}

const char *engine_data_dir(const struct engine *e)
{
	return e->data_dir;
}

#define ENGINE_TRIM_DELAY_MS 1000

static void on_trim(uv_timer_t *t)
{
	struct engine *e = t->data;
	if (e->runs || e->stopping)
		return;
	size_t dropped = mem_trim();
	e->trimmed = 1;
	(void)dropped;
}

void eng_idle_check(struct engine *e)
{
	if (e->closed || e->stopping)
		return;
	/* executions waiting (an approval, a disabled transition) are idle too */
	if (e->runs) {
		e->trimmed = 0;
		uv_timer_stop(&e->trim_timer);
		return;
	}
	/* re-armed by each burst of activity; fires once, then nothing until the next */
	uv_timer_start(&e->trim_timer, on_trim, ENGINE_TRIM_DELAY_MS, 0);
}

static void run_calls(struct engine *e)
{
	for (;;) {
		pthread_mutex_lock(&e->calls_lock);
		struct eng_call *c = e->calls;
		if (c) {
			e->calls = c->next;
			if (!e->calls)
				e->calls_tail = NULL;
		}
		pthread_mutex_unlock(&e->calls_lock);
		if (!c)
			return;
		c->fn(e, c->ctx);
		free(c);
		eng_idle_check(e);
	}
}

static void on_stop_timer(uv_timer_t *t)
{
	struct engine *e = t->data;
	/* grace is over: whatever still runs is killed; its exit is recorded as it comes */
	for (struct eng_run *r = e->runs; r; r = r->next)
		if (!r->exited)
			uv_kill(-r->proc.pid, SIGKILL);
}

static void maybe_finish(struct engine *e)
{
	if (!e->stopping || e->closed || e->runs)
		return;
	e->closed = 1;
	notify_close(e->notifier, NULL, NULL);
	e->notifier = NULL;
	uv_timer_stop(&e->trim_timer);
	uv_close((uv_handle_t *)&e->trim_timer, NULL);
	uv_timer_stop(&e->stop_timer);
	uv_close((uv_handle_t *)&e->stop_timer, NULL);
	eng_poll_close(e);
	eng_approvals_close(e);
	eng_invokes_close(e);
	uv_close((uv_handle_t *)&e->wake, NULL);
}

/* Called when the last child is gone, or at once when none runs. */
void eng_runs_close(struct engine *e)
{
	maybe_finish(e);
}

static void begin_stop(struct engine *e)
{
	if (e->stopping)
		return;
	e->stopping = 1;
	eng_log(e, "engine: stopping (%d action(s) running)", eng_runs_count(e));
	for (struct eng_run *r = e->runs; r; r = r->next)
		if (!r->exited)
			eng_action_kill(e, r->action_id, 3);
	eng_fncalls_stop(e);
	uv_timer_start(&e->stop_timer, on_stop_timer, ENGINE_STOP_GRACE_MS, 0);
	maybe_finish(e);
}

static void on_wake(uv_async_t *a)
{
	struct engine *e = a->data;
	run_calls(e);
	if (e->stop_requested)
		begin_stop(e);
}

void engine_call(struct engine *e, engine_call_fn *fn, void *ctx)
{
	struct eng_call *c = xcalloc(1, sizeof *c);
	c->fn = fn;
	c->ctx = ctx;
	pthread_mutex_lock(&e->calls_lock);
	if (e->calls_tail)
		e->calls_tail->next = c;
	else
		e->calls = c;
	e->calls_tail = c;
	int closed = e->wake_closed;
	pthread_mutex_unlock(&e->calls_lock);
	if (!closed)
		uv_async_send(&e->wake);
}

void engine_request_stop(struct engine *e)
{
	e->stop_requested = 1;
	if (!e->wake_closed)
		uv_async_send(&e->wake);
}

int engine_open(const struct engine_opts *opts, struct engine **out, struct err *err)
{
	*out = NULL;
	if (!opts->data_dir || !opts->self_exe)
		return err_set(err, "engine: data directory and ferry binary are required");
	struct engine *e = xcalloc(1, sizeof *e);
	e->data_dir = xstrdup(opts->data_dir);
	e->self_exe = xstrdup(opts->self_exe);
	e->repos_dir =
	        opts->repos_dir ? xstrdup(opts->repos_dir) : fs_join(opts->data_dir, "repos");
	e->log = opts->log;
	e->no_sandbox = opts->no_sandbox;
	e->keep_artifacts = opts->keep_artifacts > 0 ? opts->keep_artifacts : 50;
	e->approval_minute_ms = opts->approval_minute_ms > 0 ? opts->approval_minute_ms : 60000;
	e->job_timeout_ms = opts->job_timeout_ms > 0 ? opts->job_timeout_ms : 20 * 60000;
	e->job_continuation_ms = opts->job_continuation_ms > 0 ? opts->job_continuation_ms : 30000;
	e->max_builds =
	        opts->max_builds > 0 ? opts->max_builds : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (e->max_builds < 1)
		e->max_builds = 1;
	e->poll_interval_ms = 60000;
	const char *pi = getenv("FERRY_POLL_INTERVAL_MS");
	char *end = NULL;
	long ms = pi ? strtol(pi, &end, 10) : 0;
	if (pi && *pi && !*end && ms > 0 && ms < 86400000L)
		e->poll_interval_ms = (int)ms;
	pthread_mutex_init(&e->calls_lock, NULL);
	if (uv_loop_init(&e->loop) != 0) {
		err_set(err, "engine: cannot create the event loop");
		free(e->data_dir);
		free(e->self_exe);
		free(e->repos_dir);
		free(e);
		return -1;
	}
	e->loop.data = e;
	uv_async_init(&e->loop, &e->wake, on_wake);
	e->wake.data = e;
	uv_timer_init(&e->loop, &e->stop_timer);
	e->stop_timer.data = e;
	uv_timer_init(&e->loop, &e->poll_timer);
	e->poll_timer.data = e;
	uv_timer_init(&e->loop, &e->trim_timer);
	e->trim_timer.data = e;
	if (notify_open(&e->loop, e->self_exe, e->log, &e->notifier, err) < 0)
		goto fail;

	if (store_open(e->data_dir, &e->st, err) < 0)
		goto fail;
	char *dirs[] = {eng_path(e, "logs"), eng_path(e, "jobs"), eng_path(e, "artifacts"),
	                eng_path(e, "mirrors")};
	int ok = 1;
	for (size_t i = 0; i < 4; i++) {
		if (ok && fs_mkdir_p(dirs[i], 0700, err) < 0)
			ok = 0;
		free(dirs[i]);
	}
	if (!ok)
		goto fail;
	if (eng_pipelines_load(e, err) < 0 || eng_recover(e, err) < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	engine_free(e);
	return -1;
}

int engine_run(struct engine *e)
{
	eng_poll_update(e);
	eng_advance(e);
	eng_idle_check(e);
	if (e->stop_requested)
		begin_stop(e);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	run_calls(e);
	return 0;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	/* functions still posted run now, so that deferred requests are answered */
	e->stopping = 1;
	run_calls(e);
	if (!e->closed) {
		e->closed = 1;
		for (struct eng_run *r = e->runs; r; r = r->next)
			if (!r->exited)
				uv_kill(-r->proc.pid, SIGKILL);
		uv_close((uv_handle_t *)&e->wake, NULL);
		uv_close((uv_handle_t *)&e->stop_timer, NULL);
		uv_close((uv_handle_t *)&e->trim_timer, NULL);
		eng_poll_close(e);
		eng_approvals_close(e);
		eng_invokes_close(e);
		notify_close(e->notifier, NULL, NULL);
		e->notifier = NULL;
	}
	uv_run(&e->loop, UV_RUN_DEFAULT);
	pthread_mutex_lock(&e->calls_lock);
	e->wake_closed = 1;
	pthread_mutex_unlock(&e->calls_lock);
	run_calls(e);
	uv_loop_close(&e->loop);
	while (e->active) {
		struct eng_exec *x = e->active;
		e->active = x->next;
		eng_exec_free(e, x);
	}
	eng_pipelines_free(e);
	store_close(e->st);
	pthread_mutex_destroy(&e->calls_lock);
	free(e->data_dir);
	free(e->self_exe);
	free(e->repos_dir);
	free(e->url);
	free(e);
}
