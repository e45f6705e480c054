/*
 * test_engine.h — a harness for engine tests: a real engine (its loop on a thread),
 * a real git repository, real action children (build/san/ferry __action), and
 * synchronous calls onto the loop.
 */
#ifndef FERRY_TEST_ENGINE_H
#define FERRY_TEST_ENGINE_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

struct th {
	char *dir, *data, *repo;
	struct engine *e;
	pthread_t thread;
};

struct th_call {
	void (*fn)(struct engine *, void *);
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static inline void th_sh(const char *fmt, ...) FERRY_PRINTF(1, 2);
static inline void th_sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = NULL;
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
	free(cmd);
}

/* The ferry binary the engine runs actions with: build/san/ferry beside the tests. */
static inline char *th_ferry_bin(void)
{
	const char *env = getenv("FERRY_BIN");
	if (env && *env)
		return xstrdup(env);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/'); /* build/san/tests/test_x */
	if (slash)
		*slash = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	return fs_join(exe, "ferry");
}

static inline void *th_loop(void *arg)
{
	struct th *h = arg;
	engine_run(h->e);
	return NULL;
}

static inline void th_call_trampoline(struct engine *e, void *ctx)
{
	struct th_call *c = ctx;
	c->fn(e, c->arg);
	pthread_mutex_lock(&c->mu);
	c->done = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Runs fn(e, arg) on the engine's loop and waits for it. */
static inline void th_call(struct th *h, void (*fn)(struct engine *, void *), void *arg)
{
	struct th_call c = {.fn = fn, .arg = arg};
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	engine_call(h->e, th_call_trampoline, &c);
	pthread_mutex_lock(&c.mu);
	while (!c.done)
		pthread_cond_wait(&c.cv, &c.mu);
	pthread_mutex_unlock(&c.mu);
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
}

/* Engine options the next th_open() uses (0: the engine's defaults). */
static int th_keep_artifacts;
static int th_approval_minute_ms;
static int th_job_timeout_ms;
static int th_job_continuation_ms;

/* A data dir, a git repository with one commit on main, and an engine running. */
static inline void th_open(struct th *h, int max_builds)
{
	memset(h, 0, sizeof *h);
	h->dir = tu_mkdtemp();
	h->data = fs_join(h->dir, "data");
	h->repo = fs_join(h->dir, "repo");
	th_sh("git init -q -b main %s && cd %s && echo hello > index.html && git add -A && "
	      "git -c user.name=t -c user.email=t@e commit -qm first",
	      h->repo, h->repo);
	char *bin = th_ferry_bin();
	struct engine_opts o = {.data_dir = h->data,
	                        .self_exe = bin,
	                        .max_builds = max_builds,
	                        .keep_artifacts = th_keep_artifacts,
	                        .approval_minute_ms = th_approval_minute_ms,
	                        .job_timeout_ms = th_job_timeout_ms,
	                        .job_continuation_ms = th_job_continuation_ms,
	                        .no_sandbox = 1};
	struct err err;
	if (engine_open(&o, &h->e, &err) < 0)
		fail_msg("engine_open: %s", err.msg);
	free(bin);
	pthread_create(&h->thread, NULL, th_loop, h);
}

static inline void th_commit(struct th *h, const char *file, const char *text, const char *branch)
{
	th_sh("cd %s && git checkout -q %s 2>/dev/null || git -C %s checkout -q -b %s; cd %s && "
	      "mkdir -p \"$(dirname '%s')\" && printf '%%s' '%s' > '%s' && git add -A && "
	      "git -c user.name=t -c user.email=t@e commit -qm 'change %s'",
	      h->repo, branch, h->repo, branch, h->repo, file, text, file, file);
}

/* The commit main's head is at. */
static inline void th_head(struct th *h, char out[64])
{
	char *cmd = xasprintf("git -C %s rev-parse HEAD", h->repo);
	FILE *f = popen(cmd, "r");
	if (!f || !fgets(out, 64, f))
		fail_msg("%s failed", cmd);
	pclose(f);
	free(cmd);
	out[strcspn(out, "\n")] = 0;
}

/* Stops the engine (as SIGTERM does) and opens a new one on the same data. */
static inline void th_restart(struct th *h)
{
	engine_request_stop(h->e);
	pthread_join(h->thread, NULL);
	engine_free(h->e);
	char *bin = th_ferry_bin();
	struct engine_opts o = {.data_dir = h->data, .self_exe = bin, .no_sandbox = 1};
	struct err err;
	if (engine_open(&o, &h->e, &err) < 0)
		fail_msg("engine_open: %s", err.msg);
	free(bin);
	pthread_create(&h->thread, NULL, th_loop, h);
}

static inline void th_close(struct th *h)
{
	engine_request_stop(h->e);
	pthread_join(h->thread, NULL);
	engine_free(h->e);
	tu_rmdir(h->dir);
	free(h->data);
	free(h->repo);
}

/* ---- operations on the loop ---- */

struct th_op {
	const char *text; /* pipeline file, or a name */
	const char *a, *b, *c;
	int flag;
	int rc;
	json_t *out;
	char *id;
	struct engine_err err;
	struct engine_push push;
};

static inline void th_do_create(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_pipeline_create(e, o->text, strlen(o->text), "pipeline.yml", o->flag,
	                               &o->out, &o->err);
}

static inline void th_do_start(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	struct engine_start req = {.pipeline = o->text, .commit = o->a};
	o->rc = engine_start(e, &req, &o->id, &o->err);
}

static inline void th_do_get(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_execution_get(e, o->text, o->a, &o->out, &o->err);
}

static inline void th_do_list(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_executions_list(e, o->text, 0, NULL, &o->out, &o->err);
}

static inline void th_do_push(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_push(e, &o->push, &o->out, &o->err);
}

static inline void th_do_actions(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_action_executions(e, o->text, o->a, &o->out, &o->err);
}

static inline void th_do_state(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_state(e, o->text, &o->out, &o->err);
}

static inline void th_do_retry(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_retry(e, o->text, o->a, o->b, o->c, &o->err);
}

static inline void th_do_stop(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_stop(e, o->text, o->a, o->flag, "test", &o->err);
}

static inline void th_do_transition(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_transition(e, o->text, o->a, "Inbound", o->flag, o->flag ? NULL : "frozen",
	                          "test", &o->err);
}

static inline void th_do_approval(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_approval(e, o->text, "Approve", "Ok", o->a, o->b, o->c, &o->out, &o->err);
}

static inline void th_do_triggers(struct engine *e, void *arg)
{
	struct th_op *o = arg;
	o->rc = engine_trigger_events(e, o->text, 0, &o->out, &o->err);
}

/* CreatePipeline from the YAML `text` (no_start: without a first execution); fails
 * the test when refused. */
static inline void th_create(struct th *h, const char *text, int no_start)
{
	struct th_op o = {.text = text, .flag = no_start};
	th_call(h, th_do_create, &o);
	if (o.rc != 0)
		fail_msg("CreatePipeline: %s", o.err.err.msg);
	json_decref(o.out);
}

/* StartPipelineExecution: the execution id (to free); fails the test when refused. */
static inline char *th_start(struct th *h, const char *name)
{
	struct th_op o = {.text = name};
	th_call(h, th_do_start, &o);
	if (o.rc != 0)
		fail_msg("StartPipelineExecution: %s", o.err.err.msg);
	return o.id;
}

/* Calls fn (a th_do_* on an execution) and returns the answer's `field` (to
 * json_decref); fails the test on an error. */
static inline json_t *th_answer(struct th *h, void (*fn)(struct engine *, void *),
                                const char *pipeline, const char *id, const char *field)
{
	struct th_op o = {.text = pipeline, .a = id};
	th_call(h, fn, &o);
	if (o.rc != 0)
		fail_msg("%s of %s: %s", field, id, o.err.err.msg);
	json_t *v = json_incref(json_object_get(o.out, field));
	json_decref(o.out);
	return v;
}

/* GetPipelineExecution's pipelineExecution (to json_decref). */
static inline json_t *th_execution(struct th *h, const char *pipeline, const char *id)
{
	return th_answer(h, th_do_get, pipeline, id, "pipelineExecution");
}

/* ListActionExecutions of an execution: its actionExecutionDetails, newest first (to
 * json_decref). */
static inline json_t *th_actions(struct th *h, const char *pipeline, const char *id)
{
	return th_answer(h, th_do_actions, pipeline, id, "actionExecutionDetails");
}

/* The status of an execution (a string to free). */
static inline char *th_status(struct th *h, const char *pipeline, const char *id)
{
	json_t *ex = th_execution(h, pipeline, id);
	char *s = xstrdup(json_string_value(json_object_get(ex, "status")));
	json_decref(ex);
	return s;
}

/* Waits (up to 60 s) until the execution's status is `want`; fails the test otherwise. */
static inline void th_wait(struct th *h, const char *pipeline, const char *id, const char *want)
{
	int64_t until = mono_ms() + 60000;
	char *s = NULL;
	for (;;) {
		free(s);
		s = th_status(h, pipeline, id);
		if (!strcmp(s, want))
			break;
		if (mono_ms() > until)
			fail_msg("execution %s: status %s after 60 s, expected %s", id, s, want);
		usleep(20000);
	}
	free(s);
}

/* The commit the execution's first source artifact was made from. */
static inline void th_revision_is(struct th *h, const char *pipeline, const char *id,
                                  const char *want)
{
	json_t *ex = th_execution(h, pipeline, id);
	json_t *rev = json_array_get(json_object_get(ex, "artifactRevisions"), 0);
	assert_string_equal(json_string_value(json_object_get(rev, "revisionId")), want);
	json_decref(ex);
}

/* Waits (up to 60 s) until the execution's action `action` runs; fails the test
 * otherwise. */
static inline void th_wait_running(struct th *h, const char *pipeline, const char *id,
                                   const char *action)
{
	int64_t until = mono_ms() + 60000;
	for (;;) {
		json_t *details = th_actions(h, pipeline, id), *d;
		size_t i;
		int running = 0;
		json_array_foreach(details, i, d) running |=
		        !strcmp(json_string_value(json_object_get(d, "actionName")), action) &&
		        !strcmp(json_string_value(json_object_get(d, "status")), "InProgress");
		json_decref(details);
		if (running)
			return;
		if (mono_ms() > until)
			fail_msg("execution %s: action %s not running after 60 s", id, action);
		usleep(20000);
	}
}

/* Pushes p->push; the first event of the answer must have `outcome` and, when
 * `reason_part` is given, a reason containing it. Returns the execution it started
 * when `outcome` is "started" (to free), else NULL. */
static inline char *th_push(struct th *h, struct th_op *p, const char *outcome,
                            const char *reason_part)
{
	th_call(h, th_do_push, p);
	if (p->rc != 0)
		fail_msg("push %s: %s", p->push.ref, p->err.err.msg);
	json_t *ev = json_array_get(json_object_get(p->out, "events"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "outcome")), outcome);
	const char *reason = json_string_value(json_object_get(ev, "reason"));
	if (reason_part && (!reason || !strstr(reason, reason_part)))
		fail_msg("push %s: reason \"%s\" lacks \"%s\"", p->push.ref, reason ? reason : "",
		         reason_part);
	char *id = strcmp(outcome, "started")
	                   ? NULL
	                   : xstrdup(json_string_value(json_object_get(ev, "pipelineExecutionId")));
	json_decref(p->out);
	return id;
}

/* The newest execution id of a pipeline (NULL when none). */
static inline char *th_latest(struct th *h, const char *pipeline, int index)
{
	struct th_op o = {.text = pipeline};
	th_call(h, th_do_list, &o);
	json_t *arr = json_object_get(o.out, "pipelineExecutionSummaries");
	json_t *x = json_array_get(arr, (size_t)index);
	char *id = x ? xstrdup(json_string_value(json_object_get(x, "pipelineExecutionId"))) : NULL;
	json_decref(o.out);
	return id;
}

static inline size_t th_count(struct th *h, const char *pipeline)
{
	struct th_op o = {.text = pipeline};
	th_call(h, th_do_list, &o);
	size_t n = json_array_size(json_object_get(o.out, "pipelineExecutionSummaries"));
	json_decref(o.out);
	return n;
}

#endif
