/*
 * engine_action.c — starting an action as a child (`ferry __action JOBDIR`, see
 * actions/action.h), copying its output into the action's log file, and recording
 * its result when it exits.
 *
 * Order of effects (durability): the action row is committed InProgress before the
 * child is spawned, and its pid right after; the result is read from result.json
 * (written atomically by the child, artifacts in place before it) and committed with
 * the artifact rows; only then does the execution move on.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions/action.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

struct eng_run *eng_run_find(struct engine *e, const char *action_id)
{
	for (struct eng_run *r = e->runs; r; r = r->next)
		if (!strcmp(r->action_id, action_id))
			return r;
	return NULL;
}

int eng_runs_count(struct engine *e)
{
	int n = 0;
	for (struct eng_run *r = e->runs; r; r = r->next)
		n++;
	return n;
}

/* ---- variables (spec §3.1) ---- */

struct lookup_ctx {
	struct eng_exec *x;
	char *last;
};

static const char *lookup(void *vctx, const char *ns, const char *key)
{
	struct lookup_ctx *c = vctx;
	struct eng_exec *x = c->x;
	free(c->last);
	c->last = NULL;
	if (!strcmp(ns, "codepipeline"))
		return !strcmp(key, "PipelineExecutionId") ? x->row.id : NULL;
	if (!strcmp(ns, "variables")) {
		json_t *vars = json_loads(x->row.variables ? x->row.variables : "[]", 0, NULL);
		size_t i;
		json_t *v;
		json_array_foreach(vars, i, v)
		{
			if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "", key)) {
				c->last = xstrdup(
				        json_string_value(json_object_get(v, "resolvedValue"))
				                ?: "");
				break;
			}
		}
		json_decref(vars);
		return c->last;
	}
	const struct pl_action *a = pipeline_namespace_action(x->decl->p, ns);
	if (!a)
		return NULL;
	struct store_action *r = NULL;
	for (size_t i = 0; i < x->nactions; i++)
		if (!strcmp(x->actions[i].action, a->name) &&
		    !strcmp(x->actions[i].stage, x->decl->p->stages[a->stage_index].name) &&
		    !strcmp(x->actions[i].status, "Succeeded"))
			r = &x->actions[i];
	if (!r || !r->output_variables)
		return NULL;
	json_t *o = json_loads(r->output_variables, 0, NULL);
	const char *v = json_string_value(json_object_get(o, key));
	if (v)
		c->last = xstrdup(v);
	json_decref(o);
	return c->last;
}

/* ---- the job ---- */

static const struct store_artifact *artifact(struct eng_exec *x, const char *name)
{
	for (size_t i = 0; i < x->nartifacts; i++)
		if (!strcmp(x->artifacts[i].name, name))
			return &x->artifacts[i];
	return NULL;
}

static char *source_location(struct engine *e, const struct pl_git_source *g)
{
	if (g->location_kind != PL_REPO_NAME)
		return xstrdup(g->location);
	char *p = fs_join(e->repos_dir, g->location);
	if (!fs_exists(p)) {
		char *git = xasprintf("%s.git", p);
		if (fs_exists(git)) {
			free(p);
			return git;
		}
		free(git);
	}
	return p;
}

static char *mirror_dir(struct engine *e, const char *location)
{
	/* FNV-1a of the URL: a stable directory name without the URL's characters */
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *c = (const unsigned char *)location; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return eng_path(e, "mirrors/%016llx.git", (unsigned long long)h);
}

static json_t *job_json(struct engine *e, struct eng_exec *x, const struct pl_action *a,
                        const char *id, json_t *config, json_t *inputs, json_t *outputs,
                        const char *job_dir)
{
	json_t *job = json_object();
	const char *kind = a->provider->kind == PL_KIND_CODEBUILD    ? "build"
	                   : a->provider->kind == PL_KIND_S3_DEPLOY  ? "deploy_s3"
	                   : a->provider->kind == PL_KIND_CODEDEPLOY ? "deploy_codedeploy"
	                                                             : "source_git";
	json_object_set_new(job, "kind", json_string(kind));
	json_object_set_new(job, "pipeline", json_string(x->row.pipeline));
	json_object_set_new(job, "executionId", json_string(x->row.id));
	json_object_set_new(job, "stage", json_string(x->decl->p->stages[a->stage_index].name));
	json_object_set_new(job, "action", json_string(a->name));
	json_object_set_new(job, "actionExecutionId", json_string(id));
	json_object_set_new(job, "dataDir", json_string(e->data_dir));
	char *work = fs_join(job_dir, "work");
	json_object_set_new(job, "workDir", json_string(work));
	free(work);
	json_object_set_new(job, "configuration", json_incref(config));
	json_object_set_new(job, "inputs", json_incref(inputs));
	json_object_set_new(job, "outputs", json_incref(outputs));
	json_object_set_new(job, "sandbox", json_boolean(!e->no_sandbox));
	if (a->provider->kind == PL_KIND_CODECOMMIT || a->provider->kind == PL_KIND_CONNECTION) {
		const struct pl_git_source *g = &a->git;
		char *loc = source_location(e, g);
		json_t *src = json_object();
		json_object_set_new(src, "location", json_string(loc));
		json_object_set_new(src, "repositoryName", json_string(g->repository));
		json_object_set_new(src, "branch", json_string(g->branch));
		json_t *commits =
		        json_loads(x->row.source_commit ? x->row.source_commit : "{}", 0, NULL);
		json_t *c = json_object_get(commits, a->name);
		json_object_set_new(src, "commit", c ? json_incref(c) : json_null());
		json_decref(commits);
		json_object_set_new(src, "cloneRef", json_boolean(g->clone_ref));
		json_object_set_new(src, "connectionArn",
		                    g->connection_arn ? json_string(g->connection_arn)
		                                      : json_null());
		json_object_set_new(src, "provider", json_string(a->provider->name));
		char *m = mirror_dir(e, loc);
		json_object_set_new(src, "mirrorDir", json_string(m));
		free(m);
		free(loc);
		json_object_set_new(job, "source", src);
	} else if (a->provider->kind == PL_KIND_S3_DEPLOY) {
		/* ferry's S3 deploy publishes a release of the site named by BucketName */
		const char *extract = json_string_value(json_object_get(config, "Extract"));
		const char *key = json_string_value(json_object_get(config, "ObjectKey"));
		const char *cc = json_string_value(json_object_get(config, "CacheControl"));
		const char *site = json_string_value(json_object_get(config, "BucketName"));
		json_t *d = json_object();
		json_object_set_new(d, "site", json_string(site ? site : ""));
		json_object_set_new(d, "extract",
		                    json_boolean(!extract || !strcasecmp(extract, "true")));
		json_object_set_new(d, "objectKey", json_string(key ? key : ""));
		json_object_set_new(d, "cacheControl", cc ? json_string(cc) : json_null());
		json_object_set_new(job, "deploy", d);
	} else if (a->provider->kind == PL_KIND_CODEDEPLOY) {
		/* ApplicationName and DeploymentGroupName are in "configuration" */
	} else {
		const struct pl_project *pr = a->project;
		const char *name = json_string_value(json_object_get(config, "ProjectName"));
		json_t *proj = json_object();
		json_object_set_new(proj, "name", json_string(name ? name : a->name));
		json_object_set_new(proj, "buildspec",
		                    pr && pr->buildspec ? json_string(pr->buildspec) : json_null());
		json_object_set_new(proj, "buildspecInline",
		                    json_boolean(pr && pr->buildspec_inline));
		json_t *env = json_array();
		for (size_t i = 0; pr && i < pr->nenv; i++)
			json_array_append_new(
			        env, json_pack("{s:s,s:s,s:s}", "name", pr->env[i].name, "value",
			                       pr->env[i].value, "type", pr->env[i].type));
		json_object_set_new(proj, "environmentVariables", env);
		json_object_set_new(
		        proj, "timeoutMinutes",
		        json_integer(pr && pr->timeout_minutes ? pr->timeout_minutes : 60));
		int64_t number = 0;
		struct err err;
		if (store_build_number_next(e->st, name ? name : a->name, &number, &err) < 0)
			number = 0;
		json_object_set_new(proj, "buildNumber", json_integer(number));
		json_object_set_new(job, "project", proj);
	}
	return job;
}

static struct store_action *new_row(struct eng_exec *x, const struct pl_action *a, int attempt,
                                    const char *id)
{
	x->actions = xgrow(x->actions, x->nactions, sizeof *x->actions);
	struct store_action *r = &x->actions[x->nactions++];
	memset(r, 0, sizeof *r);
	r->id = xstrdup(id);
	r->execution_id = xstrdup(x->row.id);
	r->pipeline = xstrdup(x->row.pipeline);
	r->stage = xstrdup(x->decl->p->stages[a->stage_index].name);
	r->action = xstrdup(a->name);
	r->attempt = attempt;
	r->run_order = a->run_order;
	r->status = xstrdup("InProgress");
	r->started_ms = r->updated_ms = wall_ms();
	return r;
}

static struct store_action *find_row(struct eng_exec *x, const char *id)
{
	for (size_t i = 0; i < x->nactions; i++)
		if (!strcmp(x->actions[i].id, id))
			return &x->actions[i];
	return NULL;
}

static struct eng_exec *exec_of_action(struct engine *e, const char *id, struct store_action **row)
{
	for (struct eng_exec *x = e->active; x; x = x->next) {
		struct store_action *r = find_row(x, id);
		if (r) {
			*row = r;
			return x;
		}
	}
	*row = NULL;
	return NULL;
}

/* Records the action as failed without a child (bad variables, spawn failure). */
int eng_action_fail(struct engine *e, struct eng_exec *x, struct store_action *r, const char *code,
                    const char *msg)
{
	eng_row_set(&r->status, "Failed");
	eng_row_set(&r->summary, msg);
	eng_row_set(&r->error_code, code);
	eng_row_set(&r->error_message, msg);
	r->updated_ms = wall_ms();
	struct err err;
	(void)eng_exec_commit(e, x, &err);
	eng_log(e, "pipeline %s: action %s failed: %s", x->row.pipeline, r->action, msg);
	return -1;
}

static void notify_watches(struct eng_run *r, int more)
{
	struct eng_watch *w = r->watches;
	if (!more)
		r->watches = NULL;
	while (w) {
		struct eng_watch *next = w->next;
		w->cb(w->ctx, more);
		if (!more)
			free(w);
		w = next;
	}
}

static void run_free(struct eng_run *r)
{
	if (r->log_fd >= 0)
		close(r->log_fd);
	free(r->action_id);
	free(r->exec_id);
	free(r->job_dir);
	free(r);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct eng_run *r = h->data;
	if (--r->handles_open > 0)
		return;
	struct engine *e = r->e;
	for (struct eng_run **at = &e->runs; *at; at = &(*at)->next)
		if (*at == r) {
			*at = r->next;
			break;
		}
	run_free(r);
	if (!e->runs)
		eng_runs_close(e);
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static char *json_text(json_t *v)
{
	return v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* Reads result.json into the row; 0 when the action succeeded. */
static void apply_result(struct engine *e, struct eng_run *run, struct eng_exec *x,
                         struct store_action *r)
{
	char *path = fs_join(run->job_dir, ACTION_RESULT_FILE);
	json_t *res = json_load_file(path, 0, NULL);
	free(path);
	const char *status = jstr(res, "status");
	r->updated_ms = wall_ms();
	if (!res || !status || (strcmp(status, "Succeeded") && strcmp(status, "Failed"))) {
		char why[200];
		if (run->killed_reason == 1)
			snprintf(why, sizeof why, "the action timed out");
		else if (run->killed_reason == 3)
			snprintf(why, sizeof why, "stopped by daemon shutdown");
		else if (run->term_signal)
			snprintf(why, sizeof why, "the action was killed by signal %d",
			         run->term_signal);
		else
			snprintf(why, sizeof why,
			         "the action exited with status %lld without a result",
			         (long long)run->exit_status);
		eng_row_set(&r->status, "Failed");
		eng_row_set(&r->summary, why);
		eng_row_set(&r->error_code, "JobFailed");
		eng_row_set(&r->error_message, why);
		json_decref(res);
		return;
	}
	int ok = !strcmp(status, "Succeeded");
	eng_row_set(&r->status, status);
	const char *summary = jstr(res, "summary");
	if (!ok && run->killed_reason == 3)
		summary = "stopped by daemon shutdown";
	eng_row_set(&r->summary, summary);
	eng_row_set(&r->error_code, ok ? NULL : (jstr(res, "errorCode") ?: "JobFailed"));
	eng_row_set(&r->error_message, ok ? NULL : (jstr(res, "errorMessage") ?: summary));
	eng_row_set(&r->external_id, jstr(res, "externalExecutionId"));
	free(r->output_variables);
	r->output_variables = json_text(json_object_get(res, "outputVariables"));
	free(r->revision);
	r->revision = json_text(json_object_get(res, "revision"));
	free(r->reports);
	json_t *reports = json_object_get(res, "reports");
	r->reports = json_is_array(reports) ? json_text(reports) : NULL;
	if (ok) {
		json_t *outs = json_object_get(res, "outputs");
		json_t *shown = json_array();
		size_t i;
		json_t *o;
		json_array_foreach(outs, i, o)
		{
			const char *name = jstr(o, "name"), *p = jstr(o, "path");
			if (!name || !p)
				continue;
			struct store_artifact *a = NULL;
			for (size_t k = 0; k < x->nartifacts; k++)
				if (!strcmp(x->artifacts[k].name, name))
					a = &x->artifacts[k];
			if (!a) {
				x->artifacts =
				        xgrow(x->artifacts, x->nartifacts, sizeof *x->artifacts);
				a = &x->artifacts[x->nartifacts++];
				memset(a, 0, sizeof *a);
				a->execution_id = xstrdup(x->row.id);
				a->name = xstrdup(name);
			}
			eng_row_set(&a->path, p);
			eng_row_set(&a->sha256, jstr(o, "sha256"));
			a->size = json_integer_value(json_object_get(o, "size"));
			eng_row_set(&a->revision, jstr(o, "revision"));
			eng_row_set(&a->action_execution_id, r->id);
			json_array_append_new(shown, json_pack("{s:s,s:{s:s}}", "name", name,
			                                       "location", "path", p));
		}
		free(r->output_artifacts);
		r->output_artifacts = json_text(shown);
		json_decref(shown);
	}
	json_decref(res);
}

static void finish_run(struct eng_run *run)
{
	if (!run->exited || !run->out_closed)
		return;
	struct engine *e = run->e;
	uv_timer_stop(&run->timer);
	if (run->is_build)
		e->running_builds--;
	struct store_action *r = NULL;
	struct eng_exec *x = exec_of_action(e, run->action_id, &r);
	if (x && r && !strcmp(r->status, "InProgress") && run->is_invoke) {
		eng_invoke_child_done(e, run, x, r); /* its result comes as a job's */
	} else if (x && r && !strcmp(r->status, "InProgress")) {
		apply_result(e, run, x, r);
		struct err err;
		(void)eng_exec_commit(e, x, &err);
		eng_log(e, "pipeline %s: action %s %s%s%s", x->row.pipeline, r->action, r->status,
		        r->summary ? ": " : "", r->summary ? r->summary : "");
	}
	notify_watches(run, 0);
	char *work = fs_join(run->job_dir, "work");
	struct err err;
	if (fs_rm_rf(work, &err) < 0)
		eng_log(e, "action %s: %s", run->action_id, err.msg);
	free(work);
	uv_close((uv_handle_t *)&run->timer, on_handle_closed);
	uv_close((uv_handle_t *)&run->proc, on_handle_closed);
	uv_close((uv_handle_t *)&run->out, on_handle_closed);
	eng_advance(e);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct eng_run *r = p->data;
	r->exited = 1;
	r->exit_status = status;
	r->term_signal = sig;
	/* the child is gone; anything it left in its group goes too */
	uv_kill(-r->proc.pid, SIGKILL);
	finish_run(r);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	static char chunk[65536]; /* the loop is single-threaded; read_cb consumes it at once */
	buf->base = chunk;
	buf->len = sizeof chunk;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct eng_run *r = s->data;
	if (n > 0) {
		if (r->log_fd >= 0)
			if (fs_write_all(r->log_fd, buf->base, (size_t)n) < 0)
				eng_log(r->e, "action %s: cannot write its log", r->action_id);
		notify_watches(r, 1);
		return;
	}
	if (n < 0) {
		uv_read_stop(s);
		r->out_closed = 1;
		finish_run(r);
	}
}

static void on_timeout(uv_timer_t *t)
{
	struct eng_run *r = t->data;
	eng_action_kill(r->e, r->action_id, 1);
}

void eng_action_kill(struct engine *e, const char *action_id, int reason)
{
	if (reason == 2)
		eng_invoke_cancel(e, action_id); /* an abandoned Invoke's job takes no result */
	struct eng_run *r = eng_run_find(e, action_id);
	if (!r) {
		eng_approval_cancel(e, action_id); /* an approval has a timer, not a child */
		return;
	}
	if (r->exited)
		return;
	if (r->term_sent) {
		uv_kill(-r->proc.pid, SIGKILL);
		return;
	}
	if (!r->killed_reason)
		r->killed_reason = reason;
	r->term_sent = 1;
	uv_kill(-r->proc.pid, SIGTERM);
	/* SIGKILL after the grace period if it is still there (at shutdown, the engine's
	 * own timer does it) */
	if (reason != 3)
		uv_timer_start(&r->timer, on_timeout, ENGINE_STOP_GRACE_MS, 0);
}

int64_t eng_proc_start_ticks(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* fields after the command: state is field 3; starttime is field 22 */
	int field = 2;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoll(p, NULL, 10);
}

int eng_action_start(struct engine *e, struct eng_exec *x, const struct pl_action *a, int attempt)
{
	char id[ENGINE_UUID_LEN + 1];
	eng_uuid(id);
	struct store_action *r = new_row(x, a, attempt, id);
	/* resolve the configuration (spec §3.1) */
	json_t *config = json_object();
	struct lookup_ctx lc = {.x = x};
	for (size_t i = 0; i < a->nconfig; i++) {
		char *v = NULL;
		struct err err;
		if (pipeline_vars_resolve(a->config[i].value, lookup, &lc, &v, &err) < 0) {
			free(lc.last);
			json_decref(config);
			return eng_action_fail(e, x, r, "JobFailed", err.msg);
		}
		json_object_set_new(config, a->config[i].key, json_string(v));
		free(v);
	}
	free(lc.last);
	r->resolved_config = json_text(config);
	if (a->provider->kind == PL_KIND_MANUAL) {
		json_decref(config);
		return eng_approval_begin(e, x, a, r) < 0 ? -1 : 0;
	}
	if (a->provider->kind == PL_KIND_LAMBDA_INVOKE) {
		int rc = eng_invoke_begin(e, x, a, r, config); /* engine_invoke.c */
		json_decref(config);
		return rc;
	}
	json_t *inputs = json_array(), *inputs_shown = json_array();
	for (size_t i = 0; i < a->inputs.n; i++) {
		const struct store_artifact *art = artifact(x, a->inputs.v[i]);
		if (!art) {
			char *msg =
			        xasprintf("input artifact %s was not produced by an earlier action",
			                  a->inputs.v[i]);
			json_decref(config);
			json_decref(inputs);
			json_decref(inputs_shown);
			eng_action_fail(e, x, r, "JobFailed", msg);
			free(msg);
			return -1;
		}
		json_array_append_new(inputs, json_pack("{s:s,s:s,s:s?}", "name", art->name, "path",
		                                        art->path, "revision", art->revision));
		json_array_append_new(inputs_shown, json_pack("{s:s,s:{s:s}}", "name", art->name,
		                                              "location", "path", art->path));
	}
	r->input_artifacts = json_text(inputs_shown);
	json_decref(inputs_shown);
	char *job_dir = eng_path(e, "jobs/%s", id);
	char *out_dir = eng_path(e, "artifacts/%s/%s/%s", x->row.pipeline, x->row.id, id);
	json_t *outputs = json_array();
	for (size_t i = 0; i < a->outputs.n; i++) {
		const char *ext = a->git.clone_ref ? "json" : "zip";
		char *p = xasprintf("%s/%s.%s", out_dir, a->outputs.v[i], ext);
		json_array_append_new(outputs,
		                      json_pack("{s:s,s:s}", "name", a->outputs.v[i], "path", p));
		free(p);
	}
	r->log_path = eng_path(e, "logs/%s/%s.log", x->row.id, id);
	struct err err;
	char *log_dir = eng_path(e, "logs/%s", x->row.id);
	int prep = fs_mkdir_p(log_dir, 0700, &err) < 0 || fs_mkdir_p(job_dir, 0700, &err) < 0 ||
	                           (a->outputs.n && fs_mkdir_p(out_dir, 0700, &err) < 0)
	                   ? -1
	                   : 0;
	free(log_dir);
	json_t *job = prep == 0 ? job_json(e, x, a, id, config, inputs, outputs, job_dir) : NULL;
	json_decref(config);
	json_decref(inputs);
	json_decref(outputs);
	free(out_dir);
	char *job_text = job ? json_dumps(job, JSON_INDENT(2)) : NULL;
	json_decref(job);
	char *job_path = fs_join(job_dir, ACTION_JOB_FILE);
	if (prep < 0 || fs_write_atomic(job_path, job_text, strlen(job_text), 0600, &err) < 0) {
		free(job_text);
		free(job_path);
		free(job_dir);
		return eng_action_fail(e, x, r, "JobFailed", err.msg);
	}
	free(job_text);
	free(job_path);
	/* committed InProgress before the child exists */
	if (eng_exec_commit(e, x, &err) < 0) {
		free(job_dir);
		return eng_action_fail(e, x, r, "JobFailed", err.msg);
	}
	int64_t limit_ms = ENGINE_SOURCE_TIMEOUT_MS;
	if (a->provider->kind == PL_KIND_CODEBUILD)
		limit_ms = (int64_t)(a->project && a->project->timeout_minutes
		                             ? a->project->timeout_minutes
		                             : 60) *
		                   60000 +
		           5 * 60000;
	return eng_action_spawn(e, x, r, job_dir,
	                        a->provider->kind == PL_KIND_CODEBUILD ? ENG_RUN_BUILD : 0,
	                        limit_ms);
}

int eng_action_spawn(struct engine *e, struct eng_exec *x, struct store_action *r, char *job_dir,
                     unsigned flags, int64_t limit_ms)
{
	struct err err;
	struct eng_run *run = xcalloc(1, sizeof *run);
	run->e = e;
	run->action_id = xstrdup(r->id);
	run->exec_id = xstrdup(x->row.id);
	run->job_dir = job_dir;
	run->is_build = (flags & ENG_RUN_BUILD) != 0;
	run->is_invoke = (flags & ENG_RUN_INVOKE) != 0;
	run->log_fd = open(r->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	uv_pipe_init(&e->loop, &run->out, 0);
	uv_timer_init(&e->loop, &run->timer);
	run->out.data = run->timer.data = run->proc.data = run;
	char *args[] = {e->self_exe, "__action", job_dir, NULL};
	uv_stdio_container_t stdio[3] = {
	        {.flags = UV_IGNORE},
	        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
	         .data.stream = (uv_stream_t *)&run->out},
	        {.flags = UV_IGNORE}, /* action_main() points stderr at stdout */
	};
	uv_process_options_t opts = {.file = e->self_exe,
	                             .args = args,
	                             .exit_cb = on_exit_cb,
	                             .flags = UV_PROCESS_DETACHED,
	                             .stdio_count = 3,
	                             .stdio = stdio};
	int rc = uv_spawn(&e->loop, &run->proc, &opts);
	if (rc != 0) {
		char *msg = xasprintf("cannot start %s: %s", e->self_exe, uv_strerror(rc));
		run->handles_open = 2;
		run->next = e->runs;
		e->runs = run;
		uv_close((uv_handle_t *)&run->out, on_handle_closed);
		uv_close((uv_handle_t *)&run->timer, on_handle_closed);
		eng_action_fail(e, x, r, "JobFailed", msg);
		free(msg);
		return -1;
	}
	run->handles_open = 3;
	run->next = e->runs;
	e->runs = run;
	if (run->is_build)
		e->running_builds++;
	uv_read_start((uv_stream_t *)&run->out, on_alloc, on_read);
	uv_timer_start(&run->timer, on_timeout, (uint64_t)limit_ms, 0);
	r->pid = run->proc.pid;
	r->pid_start = eng_proc_start_ticks(run->proc.pid);
	(void)eng_exec_commit(e, x, &err);
	eng_log(e, "pipeline %s: execution %s: action %s started (pid %d)", x->row.pipeline,
	        x->row.id, r->action, run->proc.pid);
	return 0;
}

uint64_t engine_log_watch(struct engine *e, const char *action_execution_id, engine_log_fn *cb,
                          void *ctx)
{
	struct eng_run *r = eng_run_find(e, action_execution_id);
	if (!r || r->exited)
		return 0;
	struct eng_watch *w = xcalloc(1, sizeof *w);
	w->id = ++e->next_watch;
	w->cb = cb;
	w->ctx = ctx;
	w->next = r->watches;
	r->watches = w;
	return w->id;
}

void engine_log_unwatch(struct engine *e, uint64_t watch_id)
{
	for (struct eng_run *r = e->runs; r; r = r->next)
		for (struct eng_watch **at = &r->watches; *at; at = &(*at)->next)
			if ((*at)->id == watch_id) {
				struct eng_watch *w = *at;
				*at = w->next;
				free(w);
				return;
			}
}
