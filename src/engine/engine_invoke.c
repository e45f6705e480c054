/*
 * engine_invoke.c — Invoke actions of provider Lambda (../shared/spec/pipeline.md §4.5,
 * §5): each round of the action is a job (store/jobs.h) whose event is handed to the
 * function in an action child (`ferry __action`, kind "invoke", actions/invoke.c); the
 * action ends only when the job gets its result (PutJobSuccessResult /
 * PutJobFailureResult, engine_job_result.c), when the function failed on every
 * attempt, or when no result came in time. And ferry's own built-in, FunctionName
 * "ferry:invalidate", which invalidates a site's edge cache in-process.
 *
 * Why it is built this way:
 *  - a result may come while the child still runs (the function posts, then returns)
 *    or after it exited: the child's exit only ends the action when the function
 *    errored on all its attempts or could not be run [F: clearer than waiting the
 *    20 minutes out];
 *  - an action waiting for a result costs one timer (its job's deadline), like an
 *    approval; a continuation (success with a continuationToken) arms the same timer
 *    for the delay, then runs a new round with a new job id;
 *  - the job row is committed before the child exists; after a restart an action whose
 *    job is still open keeps waiting until the deadline: its function may still
 *    answer. Its child, if it survived the daemon, is left to finish (its own timeout
 *    bounds it) and is killed at the deadline;
 *  - a daemon shutdown kills the child but leaves the job open, for the same reason.
 */
#include "engine/engine_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "actions/action.h"
#include "sites/edge.h"
#include "store/jobs.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define INVOKE_TOTAL_MS      (24LL * 3600 * 1000) /* spec §2.7: 24 h overall */
#define INVOKE_ATTEMPTS      3                    /* Lambda async: the call and 2 retries */
#define INVOKE_RETRY_MAX_MS  1000
#define INVOKE_SECRET_BYTES  24
#define INVOKE_RECHECK_MS    200 /* a continuation waits this long for the old child */
#define INVOKE_PATHS_DEFAULT "/*"

struct eng_invoke {
	struct engine *e;
	char *action_id;
	int mode; /* ENG_INVOKE_WAIT_RESULT or ENG_INVOKE_WAIT_CONTINUE */
	uv_timer_t timer;
	struct eng_invoke *next;
};

void engine_set_url(struct engine *e, const char *url)
{
	free(e->url);
	e->url = url ? xstrdup(url) : NULL;
}

void engine_set_edge(struct engine *e, struct edge *edge)
{
	e->edge = edge;
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t);

static void inv_closed(uv_handle_t *h)
{
	struct eng_invoke *w = h->data;
	free(w->action_id);
	free(w);
}

static struct eng_invoke *inv_find(struct engine *e, const char *action_id)
{
	for (struct eng_invoke *w = e->invokes; w; w = w->next)
		if (!strcmp(w->action_id, action_id))
			return w;
	return NULL;
}

void eng_invoke_arm(struct engine *e, const char *action_id, int mode, int64_t delay_ms)
{
	struct eng_invoke *w = inv_find(e, action_id);
	if (!w) {
		w = xcalloc(1, sizeof *w);
		w->e = e;
		w->action_id = xstrdup(action_id);
		uv_timer_init(&e->loop, &w->timer);
		w->timer.data = w;
		w->next = e->invokes;
		e->invokes = w;
	}
	w->mode = mode;
	uv_timer_start(&w->timer, on_timer, delay_ms > 0 ? (uint64_t)delay_ms : 0, 0);
}

void eng_invoke_disarm(struct engine *e, const char *action_id)
{
	for (struct eng_invoke **at = &e->invokes; *at; at = &(*at)->next)
		if (!strcmp((*at)->action_id, action_id)) {
			struct eng_invoke *w = *at;
			*at = w->next;
			uv_timer_stop(&w->timer);
			uv_close((uv_handle_t *)&w->timer, inv_closed);
			return;
		}
}

void eng_invokes_close(struct engine *e)
{
	while (e->invokes)
		eng_invoke_disarm(e, e->invokes->action_id);
}

struct store_action *eng_invoke_row(struct engine *e, const char *action_id, struct eng_exec **xo)
{
	for (struct eng_exec *x = e->active; x; x = x->next)
		for (size_t i = 0; i < x->nactions; i++)
			if (!strcmp(x->actions[i].id, action_id)) {
				*xo = x;
				return &x->actions[i];
			}
	*xo = NULL;
	return NULL;
}

/* Ends a job: status, why, secret forgotten. Committed at once. */
void eng_invoke_job_end(struct engine *e, struct store_job *j, const char *status,
                        const char *summary)
{
	eng_row_set(&j->status, status);
	if (summary)
		eng_row_set(&j->summary, summary);
	eng_row_set(&j->secret, NULL);
	j->updated_ms = wall_ms();
	struct err err;
	if (store_job_put(e->st, j, &err) < 0)
		eng_log(e, "job %s: %s", j->id, err.msg);
}

/* "20 minutes", "1.5 seconds": how a time limit reads in a summary. */
static void limit_text(int64_t ms, char *out, size_t n)
{
	if (ms % 60000 == 0)
		snprintf(out, n, "%lld minute%s", (long long)(ms / 60000), ms == 60000 ? "" : "s");
	else
		snprintf(out, n, "%.1f seconds", (double)ms / 1000.0);
}

static void kill_orphan(const struct store_action *r)
{
	/* a child from before a restart: ours only if it started when ours did */
	if (r->pid > 0 && r->pid_start > 0 && eng_proc_start_ticks((int)r->pid) == r->pid_start)
		kill(-(pid_t)r->pid, SIGKILL);
}

static void timed_out(struct engine *e, struct eng_exec *x, struct store_action *r,
                      struct store_job *j)
{
	char limit[64], why[512];
	if (wall_ms() >= r->started_ms + INVOKE_TOTAL_MS)
		snprintf(why, sizeof why,
		         "timed out: no final PutJobSuccessResult or PutJobFailureResult within "
		         "24 hours");
	else {
		limit_text(e->job_timeout_ms, limit, sizeof limit);
		snprintf(why, sizeof why,
		         "timed out waiting for PutJobSuccessResult or PutJobFailureResult for "
		         "job %s (%s)",
		         j->id, limit);
	}
	eng_invoke_job_end(e, j, STORE_JOB_TIMED_OUT, why);
	eng_action_fail(e, x, r, "TimedOut", why);
	if (eng_run_find(e, r->id))
		eng_action_kill(e, r->id, 1);
	else
		kill_orphan(r);
}

static int start_round(struct engine *e, struct eng_exec *x, struct store_action *r,
                       const char *function_name, const char *data_text, const char *token);

static void on_timer(uv_timer_t *t)
{
	struct eng_invoke *w = t->data;
	struct engine *e = w->e;
	char *id = xstrdup(w->action_id);
	int mode = w->mode;
	struct eng_exec *x = NULL;
	struct store_action *r = eng_invoke_row(e, id, &x);
	struct store_job j = {0};
	struct err err;
	if (!r || strcmp(r->status, "InProgress") || e->stopping ||
	    store_job_latest(e->st, id, &j, &err) != 0) {
		eng_invoke_disarm(e, id);
		free(id);
		return;
	}
	if (mode == ENG_INVOKE_WAIT_CONTINUE) {
		if (eng_run_find(e, id)) {
			/* the previous round's child has not exited yet */
			eng_invoke_arm(e, id, mode, INVOKE_RECHECK_MS);
		} else if (!strcmp(j.status, STORE_JOB_SUCCEEDED) && j.next_token) {
			(void)start_round(e, x, r, j.function_name, j.data, j.next_token);
		} else {
			eng_invoke_disarm(e, id);
		}
	} else if (store_job_is_open(j.status)) {
		if (wall_ms() + 5 < j.deadline_ms) {
			eng_invoke_arm(e, id, mode, j.deadline_ms - wall_ms());
		} else {
			eng_invoke_disarm(e, id);
			timed_out(e, x, r, &j);
		}
	} else {
		eng_invoke_disarm(e, id);
	}
	store_job_free(&j);
	free(id);
	eng_advance(e);
}

/* ---- the event (spec §5.2) ---- */

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void new_secret(char out[2 * INVOKE_SECRET_BYTES + 1])
{
	unsigned char b[INVOKE_SECRET_BYTES];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		abort(); /* no secret without randomness */
	hex(b, sizeof b, out);
}

/* The objectKey of an artifact file: its path under <data>/artifacts/ [F]. */
static char *object_key(struct engine *e, const char *path)
{
	char *root = eng_path(e, "artifacts/");
	size_t n = strlen(root);
	char *key = xstrdup(!strncmp(path, root, n) ? path + n : path);
	free(root);
	return key;
}

static json_t *artifact_json(struct engine *e, const char *name, const char *revision,
                             const char *path)
{
	char *key = object_key(e, path);
	json_t *o =
	        json_pack("{s:s,s:o,s:{s:s,s:{s:s,s:s}}}", "name", name, "revision",
	                  revision ? json_string(revision) : json_null(), "location", "type", "S3",
	                  "s3Location", "bucketName", ENGINE_ARTIFACT_BUCKET, "objectKey", key);
	free(key);
	return o;
}

/* The event's "data" without credentials nor continuation token: what a job row keeps
 * and every round repeats. NULL with *why (to free) when an input is missing. */
static json_t *event_data(struct engine *e, struct eng_exec *x, const struct pl_action *a,
                          struct store_action *r, json_t *config, char **why)
{
	json_t *data = json_object();
	json_object_set_new(data, "actionConfiguration",
	                    json_pack("{s:O}", "configuration", config));
	json_t *ins = json_array(), *shown = json_array();
	for (size_t i = 0; i < a->inputs.n; i++) {
		const struct store_artifact *art = NULL;
		for (size_t k = 0; k < x->nartifacts; k++)
			if (!strcmp(x->artifacts[k].name, a->inputs.v[i]))
				art = &x->artifacts[k];
		if (!art) {
			*why = xasprintf("input artifact %s was not produced by an earlier action",
			                 a->inputs.v[i]);
			json_decref(ins);
			json_decref(shown);
			json_decref(data);
			return NULL;
		}
		json_array_append_new(ins, artifact_json(e, art->name, art->revision, art->path));
		json_array_append_new(shown, json_pack("{s:s,s:{s:s}}", "name", art->name,
		                                       "location", "path", art->path));
	}
	free(r->input_artifacts);
	r->input_artifacts = json_dumps(shown, JSON_COMPACT);
	json_decref(shown);
	json_t *outs = json_array();
	for (size_t i = 0; i < a->outputs.n; i++) {
		char *p = eng_path(e, "artifacts/%s/%s/%s/%s.zip", x->row.pipeline, x->row.id,
		                   r->id, a->outputs.v[i]);
		json_array_append_new(outs, artifact_json(e, a->outputs.v[i], NULL, p));
		free(p);
	}
	json_object_set_new(data, "inputArtifacts", ins);
	json_object_set_new(data, "outputArtifacts", outs);
	const struct pl_artifact_store *as = pipeline_artifact_store(x->decl->p, NULL);
	if (as && as->key_id)
		json_object_set_new(data, "encryptionKey",
		                    json_pack("{s:s,s:s}", "id", as->key_id, "type",
		                              as->key_type ? as->key_type : "KMS"));
	return data;
}

json_t *eng_invoke_event_data(const struct store_job *j, int with_credentials)
{
	json_t *data = json_loads(j->data ? j->data : "{}", 0, NULL);
	if (!json_is_object(data)) {
		json_decref(data);
		data = json_object();
	}
	if (with_credentials && j->secret)
		json_object_set_new(data, "artifactCredentials",
		                    json_pack("{s:s,s:s,s:s,s:I}", "accessKeyId",
		                              ENGINE_JOB_ACCESS_KEY_ID, "secretAccessKey",
		                              j->secret, "sessionToken", j->id, "expirationTime",
		                              (json_int_t)j->deadline_ms));
	if (j->continuation_token)
		json_object_set_new(data, "continuationToken", json_string(j->continuation_token));
	return data;
}

/* ---- a round: a job and a child running the function ---- */

static json_t *child_env(struct engine *e, const struct store_job *j)
{
	json_t *env = json_array();
	if (e->url) {
		json_array_append_new(env, json_sprintf("FERRY_URL=%s", e->url));
		json_array_append_new(env, json_sprintf("AWS_ENDPOINT_URL=%s", e->url));
	}
	json_array_append_new(env, json_sprintf("FERRY_JOB_ID=%s", j->id));
	json_array_append_new(env, json_sprintf("FERRY_JOB_SECRET=%s", j->secret));
	char *arts = eng_path(e, "artifacts");
	json_array_append_new(env, json_sprintf("FERRY_ARTIFACTS_DIR=%s", arts));
	free(arts);
	return env;
}

static int start_round(struct engine *e, struct eng_exec *x, struct store_action *r,
                       const char *function_name, const char *data_text, const char *token)
{
	char id[ENGINE_UUID_LEN + 1], secret[2 * INVOKE_SECRET_BYTES + 1];
	eng_uuid(id);
	new_secret(secret);
	int64_t now = wall_ms(), deadline = now + e->job_timeout_ms;
	if (deadline > r->started_ms + INVOKE_TOTAL_MS)
		deadline = r->started_ms + INVOKE_TOTAL_MS;
	struct store_job j = {
	        .id = id,
	        .action_execution_id = r->id,
	        .execution_id = x->row.id,
	        .pipeline = x->row.pipeline,
	        .stage = r->stage,
	        .action = r->action,
	        .function_name = (char *)function_name,
	        .status = STORE_JOB_CREATED,
	        .continuation_token = (char *)token,
	        .secret = secret,
	        .data = (char *)data_text,
	        .percent_complete = -1,
	        .created_ms = now,
	        .deadline_ms = deadline,
	        .updated_ms = now,
	};
	json_t *data = eng_invoke_event_data(&j, 1);
	json_t *event = json_pack("{s:{s:s,s:s,s:o}}", "CodePipeline.job", "id", id, "accountId",
	                          ENGINE_ACCOUNT_ID, "data", data);
	char *job_dir = eng_path(e, "jobs/%s", r->id);
	char *work = fs_join(job_dir, "work");
	char *data_dir = e->data_dir;
	json_t *config =
	        json_object_get(json_object_get(data, "actionConfiguration"), "configuration");
	int64_t retry = e->job_timeout_ms / 100;
	json_t *job = json_pack(
	        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:{s:s,s:s,s:i,s:I,s:O,s:o}}", "kind",
	        "invoke", "pipeline", x->row.pipeline, "executionId", x->row.id, "stage", r->stage,
	        "action", r->action, "actionExecutionId", r->id, "dataDir", data_dir, "workDir",
	        work, "configuration", config, "invoke", "functionName", function_name, "jobId", id,
	        "attempts", INVOKE_ATTEMPTS, "retryDelayMs",
	        (json_int_t)(retry < INVOKE_RETRY_MAX_MS ? retry : INVOKE_RETRY_MAX_MS), "event",
	        event, "env", child_env(e, &j));
	json_decref(event);
	free(work);
	char *text = json_dumps(job, JSON_INDENT(2));
	json_decref(job);
	char *job_path = fs_join(job_dir, ACTION_JOB_FILE);
	char *result_path = fs_join(job_dir, ACTION_RESULT_FILE);
	unlink(result_path); /* a previous round's */
	free(result_path);
	struct err err;
	int rc = fs_mkdir_p(job_dir, 0700, &err);
	if (rc == 0)
		rc = fs_write_atomic(job_path, text, strlen(text), 0600, &err);
	free(text);
	free(job_path);
	/* the action row and the job are on disk before the child exists */
	if (rc == 0)
		rc = eng_exec_commit(e, x, &err);
	if (rc == 0)
		rc = store_job_put(e->st, &j, &err) == 0 ? 0 : -1;
	if (rc < 0) {
		free(job_dir);
		return eng_action_fail(e, x, r, "JobFailed", err.msg);
	}
	eng_log(e, "pipeline %s: action %s: job %s%s invokes %s", x->row.pipeline, r->action, id,
	        token ? " (continuation)" : "", function_name);
	if (eng_action_spawn(e, x, r, job_dir, ENG_RUN_INVOKE, ENGINE_SOURCE_TIMEOUT_MS) < 0) {
		j.secret = NULL;
		j.status = STORE_JOB_FAILED;
		j.summary = r->summary;
		if (store_job_put(e->st, &j, &err) < 0)
			eng_log(e, "job %s: %s", id, err.msg);
		return -1;
	}
	j.status = STORE_JOB_IN_PROGRESS;
	j.updated_ms = wall_ms();
	if (store_job_put(e->st, &j, &err) < 0)
		eng_log(e, "job %s: %s", id, err.msg);
	eng_invoke_arm(e, r->id, ENG_INVOKE_WAIT_RESULT, deadline - wall_ms());
	return 0;
}

static int builtin_invalidate(struct engine *e, struct eng_exec *x, struct store_action *r,
                              json_t *config);

int eng_invoke_begin(struct engine *e, struct eng_exec *x, const struct pl_action *a,
                     struct store_action *r, json_t *config)
{
	const char *fn = json_string_value(json_object_get(config, "FunctionName"));
	if (!fn || !*fn)
		return eng_action_fail(e, x, r, "ConfigurationError",
		                       "configuration.FunctionName: a function name is required");
	if (!strcmp(fn, ENGINE_INVOKE_INVALIDATE))
		return builtin_invalidate(e, x, r, config);
	char *why = NULL;
	json_t *data = event_data(e, x, a, r, config, &why);
	if (!data) {
		int rc = eng_action_fail(e, x, r, "JobFailed", why);
		free(why);
		return rc;
	}
	struct err err;
	r->log_path = eng_path(e, "logs/%s/%s.log", x->row.id, r->id);
	char *log_dir = eng_path(e, "logs/%s", x->row.id);
	char *out_dir = eng_path(e, "artifacts/%s/%s/%s", x->row.pipeline, x->row.id, r->id);
	int rc = fs_mkdir_p(log_dir, 0700, &err);
	if (rc == 0 && a->outputs.n)
		rc = fs_mkdir_p(out_dir, 0700, &err);
	free(log_dir);
	free(out_dir);
	char *text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (rc < 0) {
		free(text);
		return eng_action_fail(e, x, r, "JobFailed", err.msg);
	}
	rc = start_round(e, x, r, fn, text, NULL);
	free(text);
	return rc;
}

/* ---- the child's exit ---- */

void eng_invoke_child_done(struct engine *e, struct eng_run *run, struct eng_exec *x,
                           struct store_action *r)
{
	/* job.json holds the job's secret: it has served its purpose */
	char *path = fs_join(run->job_dir, ACTION_JOB_FILE);
	unlink(path);
	free(path);
	if (run->killed_reason == 3)
		return; /* daemon shutdown: the job stays open, a restart waits on */
	struct store_job j = {0};
	struct err err;
	if (store_job_latest(e->st, r->id, &j, &err) != 0)
		return;
	if (!store_job_is_open(j.status)) {
		store_job_free(&j);
		return; /* answered already, or a continuation is due */
	}
	path = fs_join(run->job_dir, ACTION_RESULT_FILE);
	json_t *res = json_load_file(path, 0, NULL);
	free(path);
	const char *status = json_string_value(json_object_get(res, "status"));
	if (status && !strcmp(status, "Succeeded") && !run->killed_reason) {
		eng_log(e,
		        "pipeline %s: action %s: function returned; waiting for the result of job "
		        "%s",
		        x->row.pipeline, r->action, j.id);
		json_decref(res);
		store_job_free(&j);
		return;
	}
	char why[ERR_MSG_MAX];
	const char *summary = json_string_value(json_object_get(res, "summary"));
	if (status && summary && *summary)
		snprintf(why, sizeof why, "%s", summary);
	else if (run->killed_reason == 1)
		snprintf(why, sizeof why, "the function's child process timed out");
	else if (run->term_signal)
		snprintf(why, sizeof why, "the function's child process was killed by signal %d",
		         run->term_signal);
	else
		snprintf(why, sizeof why, "the function's child process exited with status %lld",
		         (long long)run->exit_status);
	json_decref(res);
	eng_invoke_job_end(e, &j, STORE_JOB_FAILED, why);
	store_job_free(&j);
	eng_invoke_disarm(e, r->id);
	eng_action_fail(e, x, r, "JobFailed", why);
}

/* ---- stop, abandon, restart ---- */

void eng_invoke_cancel(struct engine *e, const char *action_id)
{
	eng_invoke_disarm(e, action_id);
	struct store_job j = {0};
	struct err err;
	if (store_job_latest(e->st, action_id, &j, &err) != 0)
		return;
	if (store_job_is_open(j.status))
		eng_invoke_job_end(e, &j, STORE_JOB_FAILED,
		                   "cancelled: the execution was stopped and the action abandoned");
	store_job_free(&j);
}

int eng_invoke_keeps_waiting(struct engine *e, const struct store_action *a)
{
	struct store_job j = {0};
	struct err err;
	if (store_job_latest(e->st, a->id, &j, &err) != 0)
		return 0;
	int keep = store_job_is_open(j.status) ||
	           (!strcmp(j.status, STORE_JOB_SUCCEEDED) && j.next_token);
	store_job_free(&j);
	return keep;
}

void eng_invokes_rearm(struct engine *e)
{
	for (struct eng_exec *x = e->active; x; x = x->next)
		for (size_t i = 0; i < x->nactions; i++) {
			const struct store_action *r = &x->actions[i];
			const struct pl_action *a =
			        pipeline_action(x->decl->p, r->stage, r->action);
			if (!a || a->provider->kind != PL_KIND_LAMBDA_INVOKE ||
			    strcmp(r->status, "InProgress"))
				continue;
			struct store_job j = {0};
			struct err err;
			if (store_job_latest(e->st, r->id, &j, &err) != 0)
				continue;
			int64_t now = wall_ms();
			if (store_job_is_open(j.status))
				eng_invoke_arm(e, r->id, ENG_INVOKE_WAIT_RESULT,
				               j.deadline_ms - now);
			else if (j.next_token)
				eng_invoke_arm(e, r->id, ENG_INVOKE_WAIT_CONTINUE,
				               j.updated_ms + e->job_continuation_ms - now);
			store_job_free(&j);
		}
}

/* ---- ferry:invalidate [F] ---- */

/* One line in the action's log, so that `ferry logs` shows what happened. */
static void builtin_log(struct engine *e, struct eng_exec *x, struct store_action *r,
                        const char *msg)
{
	struct err err;
	char *dir = eng_path(e, "logs/%s", x->row.id);
	char *line = xasprintf("[%s] %s\n", ENGINE_INVOKE_INVALIDATE, msg);
	if (r->log_path && (fs_mkdir_p(dir, 0700, &err) < 0 ||
	                    fs_write_atomic(r->log_path, line, strlen(line), 0600, &err) < 0))
		eng_log(e, "action %s: %s", r->id, err.msg);
	free(line);
	free(dir);
}

static int builtin_fail(struct engine *e, struct eng_exec *x, struct store_action *r,
                        struct store_job *j, const char *code, const char *msg)
{
	builtin_log(e, x, r, msg);
	eng_invoke_job_end(e, j, STORE_JOB_FAILED, msg);
	return eng_action_fail(e, x, r, code, msg);
}

static int builtin_invalidate(struct engine *e, struct eng_exec *x, struct store_action *r,
                              json_t *config)
{
	char id[ENGINE_UUID_LEN + 1];
	eng_uuid(id);
	int64_t now = wall_ms();
	json_t *data = json_pack("{s:{s:O},s:[],s:[]}", "actionConfiguration", "configuration",
	                         config, "inputArtifacts", "outputArtifacts");
	char *data_text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	struct store_job j = {.id = xstrdup(id),
	                      .action_execution_id = xstrdup(r->id),
	                      .execution_id = xstrdup(x->row.id),
	                      .pipeline = xstrdup(x->row.pipeline),
	                      .stage = xstrdup(r->stage),
	                      .action = xstrdup(r->action),
	                      .function_name = xstrdup(ENGINE_INVOKE_INVALIDATE),
	                      .status = xstrdup(STORE_JOB_IN_PROGRESS),
	                      .data = data_text,
	                      .percent_complete = -1,
	                      .created_ms = now,
	                      .deadline_ms = now,
	                      .updated_ms = now};
	struct err err;
	r->log_path = eng_path(e, "logs/%s/%s.log", x->row.id, r->id);
	if (eng_exec_commit(e, x, &err) < 0 || store_job_put(e->st, &j, &err) != 0) {
		int rc = eng_action_fail(e, x, r, "JobFailed", err.msg);
		store_job_free(&j);
		return rc;
	}
	const char *up = json_string_value(json_object_get(config, "UserParameters"));
	json_error_t je;
	json_t *params = up && *up ? json_loads(up, 0, &je) : json_object();
	int rc = 0;
	char msg[ERR_MSG_MAX];
	if (!json_is_object(params)) {
		snprintf(msg, sizeof msg,
		         "UserParameters: expected a JSON object like {\"site\": \"NAME\", "
		         "\"paths\": [\"/*\"]}%s%s",
		         params ? "" : ": ", params ? "" : je.text);
		rc = builtin_fail(e, x, r, &j, "ConfigurationError", msg);
		json_decref(params);
		store_job_free(&j);
		return rc;
	}
	json_t *site_v = json_object_get(params, "site");
	if (!site_v)
		site_v = json_object_get(params, "DistributionId");
	json_t *paths = json_object_get(params, "paths");
	if (!paths)
		paths = json_object_get(params, "Paths");
	const char *site = json_string_value(site_v);
	size_t n = paths ? json_array_size(paths) : 1;
	const char **list = xcalloc(n ? n : 1, sizeof *list);
	if (!site || !*site) {
		rc = builtin_fail(
		        e, x, r, &j, "ConfigurationError",
		        "UserParameters: \"site\" (or \"DistributionId\"): the name of the "
		        "site to invalidate is required");
	} else if (paths && (!json_is_array(paths) || !n)) {
		rc = builtin_fail(e, x, r, &j, "ConfigurationError",
		                  "UserParameters: \"paths\": expected a non-empty list of paths");
	} else {
		for (size_t i = 0; i < n; i++) {
			list[i] = paths ? json_string_value(json_array_get(paths, i))
			                : INVOKE_PATHS_DEFAULT;
			if (!list[i]) {
				snprintf(msg, sizeof msg,
				         "UserParameters: paths[%zu]: expected a string", i);
				rc = builtin_fail(e, x, r, &j, "ConfigurationError", msg);
				break;
			}
		}
	}
	if (rc == 0) {
		struct store_invalidation inv;
		struct edge_inv_err ie = {0};
		if (edge_invalidation_create(e->st, e->edge, site, list, n, id, &inv, &ie) < 0) {
			snprintf(msg, sizeof msg, "invalidating site %s: %s", site, ie.err.msg);
			rc = builtin_fail(e, x, r, &j, "JobFailed", msg);
		} else {
			snprintf(msg, sizeof msg, "Invalidated %zu path(s) on site %s (%s)", n,
			         site, inv.id);
			builtin_log(e, x, r, msg);
			eng_invoke_job_end(e, &j, STORE_JOB_SUCCEEDED, msg);
			eng_row_set(&r->status, "Succeeded");
			eng_row_set(&r->summary, msg);
			eng_row_set(&r->external_id, inv.id);
			json_t *vars =
			        json_pack("{s:s,s:s}", "InvalidationId", inv.id, "SiteName", site);
			free(r->output_variables);
			r->output_variables = json_dumps(vars, JSON_COMPACT);
			json_decref(vars);
			r->updated_ms = wall_ms();
			(void)eng_exec_commit(e, x, &err);
			eng_log(e, "pipeline %s: action %s Succeeded: %s", x->row.pipeline,
			        r->action, msg);
			store_invalidation_free(&inv);
		}
	}
	free(list);
	json_decref(params);
	store_job_free(&j);
	return rc;
}
