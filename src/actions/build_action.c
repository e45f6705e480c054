/*
 * build_action.c — the CodeBuild action: puts the inputs on disk, runs the build
 * with build/build.h as `ferry build` does, and moves the artifact zips to where the
 * engine asked for them (../shared/spec/pipeline.md §4.3).
 *
 * Why it is built this way:
 *  - environment layers, lowest first: ferry's own environment (minus FERRY_*) with
 *    the inputs' variables (CODEBUILD_SRC_DIR_<name>, the source versions), then
 *    CodeBuild's, the buildspec's, the project's environmentVariables, and last the
 *    action's EnvironmentVariables — the action wins, as in CodePipeline;
 *  - PARAMETER_STORE and SECRETS_MANAGER variables are resolved from ferry's secret
 *    store before the build; their values are masked in every line this action
 *    prints, in the summary and in output variables, and they are never exported
 *    (CodeBuild refuses to export secrets);
 *  - the build cache is keyed by project name: every job extracts into a fresh
 *    directory, so `ferry build`'s key (the source path) would never hit;
 *  - SIGTERM and SIGINT write to a self-pipe the build watches (stop_fd); the build
 *    ends STOPPED and the action reports Failed "stopped". ferry is a subreaper for
 *    the build's duration, so what a build daemonised is ended too (as ferry build).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions/actions_int.h"
#include "build/build.h"
#include "build/env.h"
#include "build/outstream.h"
#include "build/secrets.h"
#include "store/store.h"
#include "util/fs.h"

extern char **environ;

#define ENV_VARS_TEXT_MAX   (100 << 10) /* resolved configuration cap (spec §3.1) */
#define TIMEOUT_MINUTES_MAX (36 * 60)   /* CodeBuild's longest build timeout */

static int stop_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (stop_pipe[1] >= 0) {
		ssize_t n = write(stop_pipe[1], "s", 1);
		(void)n;
	}
}

struct bctx {
	const struct action_job *job;
	struct action_result *r;
	struct store *store;
	int store_tried;
	struct err store_err;
	struct outstream *out; /* masks the action's secrets in the build log */
	struct strv secret_names;
	struct strv base_env, project_env, override_env;
	char *src;
	const char *revision; /* the primary input's, or NULL */
	char *clone_commit;
	struct strv secondary_dirs;
};

/* ---- secrets ---- */

static int resolve_secret(void *ctx, const char *kind, const char *ref, char **value, size_t *len,
                          struct err *err)
{
	struct bctx *b = ctx;
	if (!b->store_tried) {
		b->store_tried = 1;
		if (!b->job->data_dir)
			err_set(&b->store_err, "job.json has no dataDir");
		else if (store_open(b->job->data_dir, &b->store, &b->store_err) < 0)
			b->store = NULL;
	}
	if (!b->store)
		return err_set(err, "ferry's secret store is unavailable: %s", b->store_err.msg);
	return build_secret_resolve(b->store, kind, ref, value, len, err);
}

static void wipe_env(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		sodium_memzero(sv->v[i], strlen(sv->v[i]));
	strv_free(sv);
}

/* Appends NAME=value for one {name, value, type} variable, resolving secrets. */
static int env_var(struct bctx *b, json_t *v, const char *where, struct strv *out)
{
	const char *name = action_json_str(v, "name");
	const char *value = action_json_str(v, "value");
	const char *type = action_json_str(v, "type");
	if (!json_is_object(v))
		return action_fail(b->r, "%s: expected an object with name, value and type", where);
	if (!name || !env_valid_name(name))
		return action_fail(b->r, "%s.name: expected a variable name (letters, digits, _)",
		                   where);
	if (!strncmp(name, "CODEBUILD_", 10))
		return action_fail(b->r, "%s.name: %s is reserved for CodeBuild's own variables",
		                   where, name);
	if (!value)
		return action_fail(b->r, "%s.value: expected a string", where);
	if (!type || !strcmp(type, "PLAINTEXT")) {
		strv_pushf(out, "%s=%s", name, value);
		return 0;
	}
	const char *kind = !strcmp(type, "PARAMETER_STORE")   ? "parameter-store"
	                   : !strcmp(type, "SECRETS_MANAGER") ? "secrets-manager"
	                                                      : NULL;
	if (!kind)
		return action_fail(b->r,
		                   "%s.type: \"%s\" is not PLAINTEXT, PARAMETER_STORE or "
		                   "SECRETS_MANAGER",
		                   where, type);
	char *secret = NULL;
	size_t len = 0;
	struct err err;
	if (resolve_secret(b, kind, value, &secret, &len, &err) < 0)
		return action_fail(b->r, "%s (%s): %s", where, name, err.msg);
	outstream_add_secret(b->out, secret);
	strv_push(&b->secret_names, name);
	strv_pushf(out, "%s=%s", name, secret);
	store_secret_value_free(secret, len);
	return 0;
}

static int env_list(struct bctx *b, json_t *arr, const char *origin, struct strv *out)
{
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return action_fail(b->r, "%s: expected a list of {name, value, type}", origin);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		char where[128];
		snprintf(where, sizeof where, "%s[%zu]", origin, i);
		if (env_var(b, v, where, out) < 0)
			return -1;
	}
	return 0;
}

static int assemble_env(struct bctx *b)
{
	if (b->revision) {
		strv_pushf(&b->base_env, "CODEBUILD_RESOLVED_SOURCE_VERSION=%s", b->revision);
		strv_pushf(&b->base_env, "CODEBUILD_SOURCE_VERSION=%s", b->revision);
	}
	if (b->job->project && env_list(b, json_object_get(b->job->project, "environmentVariables"),
	                                "project.environmentVariables", &b->project_env) < 0)
		return -1;
	const char *text = action_config(b->job, "EnvironmentVariables");
	if (!text || !*text)
		return 0;
	json_error_t je;
	json_t *arr = json_loadb(text, strnlen(text, ENV_VARS_TEXT_MAX), 0, &je);
	if (!arr)
		return action_fail(b->r, "configuration.EnvironmentVariables:%d:%d: %s", je.line,
		                   je.column, je.text);
	int rc = env_list(b, arr, "configuration.EnvironmentVariables", &b->override_env);
	json_decref(arr);
	return rc;
}

/* ---- inputs ---- */

static int primary_index(struct bctx *b, size_t *idx)
{
	const struct action_job *job = b->job;
	if (job->ninputs == 0)
		return action_fail(b->r, "a build action needs an input artifact (it has none)");
	const char *want = action_config(job, "PrimarySource");
	*idx = 0;
	if (!want || !*want)
		return 0;
	for (size_t i = 0; i < job->ninputs; i++)
		if (!strcmp(job->inputs[i].name, want)) {
			*idx = i;
			return 0;
		}
	return action_fail(b->r,
	                   "configuration.PrimarySource: \"%s\" is not an input artifact of this "
	                   "action (inputs: %s%s)",
	                   want, job->inputs[0].name, job->ninputs > 1 ? ", ..." : "");
}

static int prepare_input(struct bctx *b, size_t i, int primary, char *dir)
{
	const struct action_artifact *in = &b->job->inputs[i];
	struct err err;
	int kind = action_input_kind(in->path, &err);
	int rc = kind < 0 ? -1 : fs_rm_rf(dir, &err);
	char *commit = NULL;
	if (rc == 0 && kind == ACTION_INPUT_ZIP) {
		long n = 0;
		rc = action_unzip(in->path, dir, &n, &err);
		if (rc == 0)
			action_log("build", "input %s: %ld files into %s", in->name, n, dir);
	} else if (rc == 0) {
		rc = action_clone_ref(in->path, dir, &commit, &err);
	}
	if (rc < 0) {
		free(dir);
		return action_fail(b->r, "input artifact %s: %s", in->name, err.msg);
	}
	if (primary) {
		b->src = dir;
		b->revision = in->revision ? in->revision : commit;
		b->clone_commit = commit;
		return 0;
	}
	free(commit);
	char *var = xasprintf("CODEBUILD_SRC_DIR_%s", in->name);
	if (!env_valid_name(var))
		action_log("build", "note: %s is not a valid variable name; the input is at %s",
		           var, dir);
	strv_pushf(&b->base_env, "%s=%s", var, dir);
	strv_push_owned(&b->secondary_dirs, dir);
	free(var);
	return 0;
}

static int prepare_inputs(struct bctx *b)
{
	const struct action_job *job = b->job;
	size_t primary;
	if (primary_index(b, &primary) < 0)
		return -1;
	for (size_t i = 0; i < job->ninputs; i++) {
		const char *name = job->inputs[i].name;
		if (strchr(name, '/') || name[0] == '.')
			return action_fail(b->r,
			                   "job.json: inputs[%zu].name: \"%s\" cannot name a "
			                   "directory",
			                   i, name);
		char *dir = i == primary ? fs_join(job->work_dir, "src")
		                         : xasprintf("%s/src_%s", job->work_dir, name);
		if (prepare_input(b, i, i == primary, dir) < 0)
			return -1;
		if (stop_requested)
			return action_fail(b->r, "stopped");
	}
	return 0;
}

/* ---- the build ---- */

static void emit_line(void *ctx, const char *line)
{
	(void)ctx;
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static void build_line(void *ctx, const char *line)
{
	outstream_line(ctx, line);
}

static char *cache_dir_for(const char *data, const char *project)
{
	char *key = xasprintf("codepipeline-project:%s", project);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
	free(key);
	char hex[17];
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	return xasprintf("%s/cache/%s", data, hex);
}

/* The children left when the build is over (daemons it started) are killed. */
static void end_orphans(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
	for (int round = 0; round < 8; round++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		char *text = NULL;
		size_t len = 0;
		if (fs_read_file(path, 1 << 16, &text, &len, NULL) < 0)
			return;
		int n = 0;
		for (char *p = text, *end; *p; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0 &&
			    waitpid((pid_t)pid, NULL, 0))
				n++;
		}
		free(text);
		if (n == 0)
			return;
	}
}

static const char *project_name(const struct action_job *job)
{
	const char *name = job->project ? action_json_str(job->project, "name") : NULL;
	if (!name || !*name)
		name = action_config(job, "ProjectName");
	return name && *name ? name : job->pipeline ? job->pipeline : "pipeline";
}

static int64_t project_int(const struct action_job *job, const char *key)
{
	json_t *v = job->project ? json_object_get(job->project, key) : NULL;
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static void run_build(struct bctx *b, struct build_result *res)
{
	const struct action_job *job = b->job;
	const char *project = project_name(job);
	const char *spec = job->project ? action_json_str(job->project, "buildspec") : NULL;
	int inline_spec =
	        job->project && json_is_true(json_object_get(job->project, "buildspecInline"));
	char *initiator = xasprintf("codepipeline/%s", job->pipeline ? job->pipeline : "pipeline");
	char *artifacts = fs_join(job->work_dir, "artifacts");
	char *cache = job->data_dir ? cache_dir_for(job->data_dir, project) : NULL;
	int64_t minutes = project_int(job, "timeoutMinutes");
	struct logsink sink = {.emit = build_line, .ctx = b->out};
	struct build_request req = {
	        .src_dir = b->src,
	        .buildspec = inline_spec ? NULL : spec,
	        .buildspec_text = inline_spec ? spec : NULL,
	        .artifact_dir = job->noutputs ? artifacts : NULL,
	        .project = project,
	        .build_number = project_int(job, "buildNumber"),
	        .initiator = initiator,
	        .base_env = (const char *const *)b->base_env.v,
	        .project_env = (const char *const *)b->project_env.v,
	        .override_env = (const char *const *)b->override_env.v,
	        .extra_dirs = (const char *const *)b->secondary_dirs.v,
	        .timeout_seconds =
	                minutes > 0 ? (int)(minutes < TIMEOUT_MINUTES_MAX ? minutes
	                                                                  : TIMEOUT_MINUTES_MAX) *
	                                      60
	                            : 0,
	        .sandbox = job->sandbox ? BUILD_SANDBOX_AUTO : BUILD_SANDBOX_NONE,
	        .hidden_dir = job->data_dir,
	        .cache_dir = cache,
	        .work_dir = job->work_dir,
	        .resolve_secret = resolve_secret,
	        .secret_ctx = b,
	        .log = &sink,
	        .stop_fd = stop_pipe[0],
	};
	int was_subreaper = 0;
	prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	build_run(&req, res);
	end_orphans();
	prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
	free(initiator);
	free(artifacts);
	free(cache);
}

/* ---- the result ---- */

static const char *status_words(enum build_status s)
{
	switch (s) {
	case BUILD_TIMED_OUT:
		return "timed out";
	case BUILD_FAULT:
		return "faulted";
	case BUILD_STOPPED:
		return "stopped";
	default:
		return "failed";
	}
}

/* "Build failed in phase BUILD: COMMAND_EXECUTION_ERROR: Error while executing …" */
static void fail_build(struct bctx *b, const struct build_result *res)
{
	const struct build_phase *ph = NULL;
	for (size_t i = 0; i < res->nphases && !ph; i++)
		if (res->phases[i].status[0] && strcmp(res->phases[i].status, "SUCCEEDED") != 0)
			ph = &res->phases[i];
	char *text;
	if (ph)
		text = xasprintf("Build %s in phase %s: %s: %s", status_words(res->status),
		                 ph->type, ph->context_code ? ph->context_code : ph->status,
		                 ph->context_message ? ph->context_message : "");
	else
		text = xasprintf("Build %s", status_words(res->status));
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	char *masked = outstream_mask(b->out, text);
	action_fail(b->r, "%s", masked);
	free(masked);
	free(text);
}

static const struct build_artifact *find_artifact(const struct build_result *res,
                                                  const char *identifier)
{
	for (size_t i = 0; i < res->nartifacts; i++) {
		const char *id = res->artifacts[i].identifier;
		if (identifier ? id && !strcmp(id, identifier) : !id)
			return &res->artifacts[i];
	}
	return NULL;
}

static int move_outputs(struct bctx *b, const struct build_result *res)
{
	const struct action_job *job = b->job;
	for (size_t i = 0; i < job->noutputs; i++) {
		const struct action_artifact *out = &job->outputs[i];
		/* one output: the primary artifact (or a secondary named like it) */
		const struct build_artifact *a =
		        job->noutputs == 1 ? find_artifact(res, NULL) : NULL;
		if (!a)
			a = find_artifact(res, out->name);
		if (!a)
			return action_fail(
			        b->r, "output artifact %s: the build made no artifact for it (%s)",
			        out->name,
			        job->noutputs == 1
			                ? "the buildspec has no artifacts section"
			                : "no secondary-artifacts entry has that identifier");
		struct err err;
		if (action_move_file(a->path, out->path, &err) < 0)
			return action_fail(b->r, "output artifact %s: %s", out->name, err.msg);
		action_result_add_output(b->r, out, a->sha256, a->size, NULL);
		action_log("build", "output %s: %ld files, %lld bytes", out->name, a->nfiles,
		           (long long)a->size);
	}
	return 0;
}

static void export_variables(struct bctx *b, const struct build_result *res)
{
	for (size_t i = 0; i < res->nexported; i++) {
		const struct build_variable *v = &res->exported[i];
		if (strv_contains(&b->secret_names, v->name)) {
			action_log("build", "%s is not exported: it holds a secret", v->name);
			continue;
		}
		char *masked = outstream_mask(b->out, v->value ? v->value : "");
		json_object_set_new(b->r->variables, v->name, json_string(masked));
		free(masked);
	}
}

/* ---- test-report summaries (result.json "reports", see action.h) ---- */

#define REPORT_TEXT_MAX     300 /* bytes of a failing case's name or message */
#define REPORT_PROBLEMS_MAX 5

static int coverage_format(const char *fmt)
{
	static const char *const cov[] = {"CLOVERXML", "COBERTURAXML", "JACOCOXML", "SIMPLECOV"};
	for (size_t i = 0; fmt && i < sizeof cov / sizeof cov[0]; i++)
		if (!strcmp(fmt, cov[i]))
			return 1;
	return 0;
}

/* Masked, cut to REPORT_TEXT_MAX bytes at a UTF-8 boundary; NULL-safe. */
static json_t *report_text(struct bctx *b, const char *s, size_t len)
{
	char *piece = xstrndup(s ? s : "", s ? len : 0);
	char *masked = outstream_mask(b->out, piece);
	size_t n = strlen(masked);
	if (n > REPORT_TEXT_MAX) {
		n = REPORT_TEXT_MAX;
		while (n > 0 && ((unsigned char)masked[n] & 0xC0) == 0x80)
			n--;
	}
	json_t *v = json_stringn(masked, n);
	free(masked);
	free(piece);
	return v ? v : json_string("(not UTF-8)");
}

/* "<suite>.<case>: first line" (build/reports.h) as {name, message}. */
static json_t *report_failure(struct bctx *b, const char *line)
{
	const char *sep = strstr(line, ": ");
	size_t name_len = sep ? (size_t)(sep - line) : strlen(line);
	const char *msg = sep ? sep + 2 : "";
	json_t *f = json_object();
	json_object_set_new(f, "name", report_text(b, line, name_len));
	json_object_set_new(f, "message", report_text(b, msg, strlen(msg)));
	return f;
}

static json_t *report_entry(struct bctx *b, const struct report_summary *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", report_text(b, s->group, s->group ? strlen(s->group) : 0));
	json_object_set_new(o, "reportGroupName",
	                    report_text(b, s->report_group_name,
	                                s->report_group_name ? strlen(s->report_group_name) : 0));
	json_object_set_new(
	        o, "type", json_string(coverage_format(s->file_format) ? "CODE_COVERAGE" : "TEST"));
	json_object_set_new(o, "fileFormat", json_string(s->file_format ? s->file_format : ""));
	json_object_set_new(o, "status", json_string(s->status ? s->status : "INCOMPLETE"));
	json_object_set_new(o, "total", json_integer(s->total));
	json_object_set_new(o, "passed", json_integer(s->passed));
	json_object_set_new(o, "failed", json_integer(s->failed + s->errored));
	json_object_set_new(o, "skipped", json_integer(s->skipped));
	json_object_set_new(o, "durationMs",
	                    json_integer((json_int_t)(s->duration_seconds * 1000)));
	json_t *fails = json_array();
	for (size_t i = 0; i < s->failures.n; i++)
		json_array_append_new(fails, report_failure(b, s->failures.v[i]));
	json_object_set_new(o, "failures", fails);
	json_t *probs = json_array();
	for (size_t i = 0; i < s->problems.n && i < REPORT_PROBLEMS_MAX; i++)
		json_array_append_new(probs,
		                      report_text(b, s->problems.v[i], strlen(s->problems.v[i])));
	json_object_set_new(o, "problems", probs);
	return o;
}

static void add_reports(struct bctx *b, const struct build_result *res)
{
	if (res->nreports == 0)
		return;
	json_t *arr = json_array();
	for (size_t i = 0; i < res->nreports; i++)
		json_array_append_new(arr, report_entry(b, &res->reports[i]));
	json_decref(b->r->reports);
	b->r->reports = arr;
}

static void report(struct bctx *b, const struct build_result *res)
{
	struct action_result *r = b->r;
	if (res->build_id)
		r->external_id = xstrdup(res->build_id);
	add_reports(b, res);
	action_log("build", "build %s #%lld: %s in %.1fs", res->build_id ? res->build_id : "?",
	           (long long)res->build_number, build_status_name(res->status),
	           (double)(res->end_ms - res->start_ms) / 1000.0);
	if (res->status == BUILD_STOPPED || (stop_requested && res->status != BUILD_SUCCEEDED)) {
		action_fail(r, "stopped");
		return;
	}
	if (res->status != BUILD_SUCCEEDED) {
		fail_build(b, res);
		return;
	}
	if (move_outputs(b, res) < 0)
		return;
	export_variables(b, res);
	r->summary = xasprintf("Build succeeded: %s", res->build_id ? res->build_id : "");
}

static void bctx_free(struct bctx *b)
{
	wipe_env(&b->project_env);
	wipe_env(&b->override_env);
	strv_free(&b->base_env);
	strv_free(&b->secret_names);
	strv_free(&b->secondary_dirs);
	outstream_free(b->out);
	store_close(b->store);
	free(b->src);
	free(b->clone_commit);
}

int action_build(const struct action_job *job, struct action_result *r)
{
	struct logsink stdout_sink = {.emit = emit_line};
	struct bctx b = {.job = job,
	                 .r = r,
	                 .out = outstream_new(&stdout_sink),
	                 .secret_names = STRV_INIT,
	                 .base_env = STRV_INIT,
	                 .project_env = STRV_INIT,
	                 .override_env = STRV_INIT,
	                 .secondary_dirs = STRV_INIT};
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		stop_pipe[0] = stop_pipe[1] = -1;
	stop_requested = 0;
	struct sigaction sa = {.sa_handler = on_stop}, old_term, old_int;
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	/* the "image" environment first: what the inputs and the job add wins over it */
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "FERRY_", 6) != 0)
			strv_push(&b.base_env, *e);
	if (prepare_inputs(&b) == 0 && assemble_env(&b) == 0) {
		struct build_result res;
		run_build(&b, &res);
		report(&b, &res);
		build_result_free(&res);
	}
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	for (int i = 0; i < 2; i++) {
		if (stop_pipe[i] >= 0)
			close(stop_pipe[i]);
		stop_pipe[i] = -1;
	}
	bctx_free(&b);
	return 0;
}
