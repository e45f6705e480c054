/*
 * run_setup.c — PROVISIONING and DOWNLOAD_SOURCE: the build's private directory,
 * the buildspec, the environment with CodeBuild's precedence (spec §5.3), secrets,
 * the sandbox and the shell, and the cache restore.
 */
#include <errno.h>
#include "util/libgit.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/run.h"
#include "build/sandbox.h"
#include "util/fs.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#define DEFAULT_PATH  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define LOCAL_ACCOUNT "000000000000"

/* A failed DOWNLOAD_SOURCE (or PROVISIONING): logged, recorded, nothing runs. */
static int fail_phase(struct run *r, size_t idx, const char *code, const char *msg, int input)
{
	run_log(r, "Phase complete: %s State: FAILED", r->res->phases[idx].type);
	run_log(r, "Phase context status code: %s Message: %s", code, msg);
	run_phase_end(r, idx, "FAILED", code, msg);
	r->res->input_error = input;
	return -1;
}

/*
 * The shells' control files (scripts, fifos, saved state) are rewritten before
 * every command; on a disk file system each truncation costs about a millisecond,
 * on tmpfs a tenth of that. So they go to /dev/shm when it is a usable directory,
 * else beside the build's other private files. Returns NULL on failure.
 */
static char *ctl_dir(const char *work)
{
	if (access("/dev/shm", W_OK | X_OK) == 0 && fs_is_dir("/dev/shm")) {
		char *t = xstrdup("/dev/shm/ferry-ctl-XXXXXX");
		if (mkdtemp(t))
			return t;
		free(t);
	}
	char *c = fs_join(work, "ctl");
	if (mkdir(c, 0700) == 0)
		return c;
	free(c);
	return NULL;
}

static int provision(struct run *r)
{
	struct err err;
	const struct build_request *req = r->req;
	size_t idx = run_phase_begin(r, "PROVISIONING");
	r->src = fs_realpath(req->src_dir ? req->src_dir : ".", &err);
	if (!r->src || !fs_is_dir(r->src))
		return fail_phase(r, idx, "CLIENT_ERROR",
		                  r->src ? "the source is not a directory" : err.msg, 1);
	const char *base = req->work_dir;
	if (!base)
		base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *tmpl = xasprintf("%s/ferry-build-XXXXXX", base);
	if (!mkdtemp(tmpl)) {
		err_errno(&err, "%s", tmpl);
		free(tmpl);
		return fail_phase(r, idx, "FAULT", err.msg, 0);
	}
	r->work = tmpl;
	r->ctl = ctl_dir(r->work);
	r->home_host = fs_join(r->work, "home");
	if (!r->ctl || mkdir(r->home_host, 0700) < 0) {
		err_errno(&err, "%s", r->ctl);
		return fail_phase(r, idx, "FAULT", err.msg, 0);
	}
	struct build_result *res = r->res;
	res->src_dir = xstrdup(r->src);
	const char *slash = strrchr(r->src, '/');
	res->project =
	        xstrdup(req->project ? req->project : (slash && slash[1] ? slash + 1 : "local"));
	res->build_number = req->build_number > 0 ? req->build_number : 1;
	res->initiator = xstrdup(req->initiator ? req->initiator : "ferry");
	char uuid[37];
	uuid4(uuid);
	res->build_id = xasprintf("%s:%s", res->project, uuid);
	run_phase_end(r, idx, "SUCCEEDED", NULL, NULL);
	return 0;
}

static int load_buildspec(struct run *r, size_t idx)
{
	struct err err;
	const struct build_request *req = r->req;
	const char *rel = req->buildspec ? req->buildspec : "buildspec.yml";
	int rc;
	if (req->buildspec_text) {
		r->res->buildspec_path = xstrdup("(inline)");
		run_log(r, "YAML location is (inline buildspec)");
		rc = buildspec_parse(req->buildspec_text, strlen(req->buildspec_text),
		                     "buildspec.yml", &r->bs, &err);
	} else {
		char *path = fs_join(r->src, rel);
		r->res->buildspec_path = path;
		run_log(r, "YAML location is %s", path);
		struct stat st;
		if (stat(path, &st) < 0) {
			err_set(&err, "stat %s: no such file or directory", path);
			return fail_phase(r, idx, "YAML_FILE_ERROR", err.msg, 1);
		}
		rc = buildspec_load(path, rel, &r->bs, &err);
	}
	if (rc != 0)
		return fail_phase(r, idx, "YAML_FILE_ERROR", err.msg, 1);
	for (size_t i = 0; i < r->bs->warnings.n; i++) {
		run_log(r, "warning: %s", r->bs->warnings.v[i]);
		strv_push(&r->res->warnings, r->bs->warnings.v[i]);
	}
	return 0;
}

/* 1 when `dir` or a parent holds .git: only then is libgit2 worth loading. */
static int in_git_tree(const char *dir)
{
	char *p = xstrdup(dir);
	int found = 0;
	for (;;) {
		char *g = fs_join(p, ".git");
		found = fs_exists(g);
		free(g);
		char *slash = strrchr(p, '/');
		if (found || !slash || slash == p)
			break;
		*slash = '\0';
	}
	free(p);
	return found;
}

/* CODEBUILD_SOURCE_VERSION / RESOLVED_SOURCE_VERSION / SOURCE_REPO_URL from git. */
static void git_info(struct run *r)
{
	/* a pipeline build names its commit itself: its source is an extracted artifact,
	 * and a repository found above it (the data directory's) would be the wrong one */
	const char *given = envmap_get(r->env, "CODEBUILD_RESOLVED_SOURCE_VERSION");
	if (given) {
		r->res->resolved_source_version = xstrdup(given);
		const char *sv = envmap_get(r->env, "CODEBUILD_SOURCE_VERSION");
		r->res->source_version = xstrdup(sv ? sv : given);
		return;
	}
	if (!in_git_tree(r->src))
		return;
	git_libgit2_init();
	git_repository *repo = NULL;
	git_reference *head = NULL;
	if (git_repository_open_ext(&repo, r->src, 0, NULL) == 0 &&
	    git_repository_head(&head, repo) == 0) {
		char hex[GIT_OID_HEXSZ + 1];
		const git_oid *oid = git_reference_target(head);
		if (oid) {
			git_oid_tostr(hex, sizeof hex, oid);
			r->res->resolved_source_version = xstrdup(hex);
			r->res->source_version = xstrdup(git_reference_is_branch(head)
			                                         ? git_reference_shorthand(head)
			                                         : hex);
		}
		git_remote *origin = NULL;
		if (git_remote_lookup(&origin, repo, "origin") == 0 && git_remote_url(origin))
			envmap_set(r->env, "CODEBUILD_SOURCE_REPO_URL", git_remote_url(origin));
		git_remote_free(origin);
	}
	git_reference_free(head);
	git_repository_free(repo);
	git_libgit2_shutdown();
}

static void codebuild_vars(struct run *r, int sandboxed)
{
	const struct build_result *res = r->res;
	const char *region = envmap_get(r->env, "AWS_REGION");
	if (!region)
		region = envmap_get(r->env, "AWS_DEFAULT_REGION");
	char *reg = xstrdup(region ? region : "us-east-1");
	struct envmap *e = r->env;
	char num[32], start[32];
	snprintf(num, sizeof num, "%lld", (long long)res->build_number);
	snprintf(start, sizeof start, "%lld", (long long)res->start_ms);
	char *arn =
	        xasprintf("arn:aws:codebuild:%s:%s:build/%s", reg, LOCAL_ACCOUNT, res->build_id);
	char *parn =
	        xasprintf("arn:aws:codebuild:%s:%s:project/%s", reg, LOCAL_ACCOUNT, res->project);
	envmap_set(e, "AWS_REGION", reg);
	envmap_set(e, "AWS_DEFAULT_REGION", envmap_get(e, "AWS_DEFAULT_REGION") ?: reg);
	envmap_set(e, "CODEBUILD_BUILD_ID", res->build_id);
	envmap_set(e, "CODEBUILD_BUILD_ARN", arn);
	envmap_set(e, "CODEBUILD_PROJECT_ARN", parn);
	envmap_set(e, "CODEBUILD_BUILD_NUMBER", num);
	envmap_set(e, "CODEBUILD_BUILD_IMAGE", "ferry/local");
	envmap_set(e, "CODEBUILD_BUILD_SUCCEEDING", "1");
	envmap_set(e, "CODEBUILD_INITIATOR", res->initiator);
	envmap_set(e, "CODEBUILD_LOG_PATH", strchr(res->build_id, ':') + 1);
	envmap_set(e, "CODEBUILD_SRC_DIR", r->src);
	envmap_set(e, "CODEBUILD_START_TIME", start);
	if (res->resolved_source_version) {
		envmap_set(e, "CODEBUILD_RESOLVED_SOURCE_VERSION", res->resolved_source_version);
		envmap_set(e, "CODEBUILD_SOURCE_VERSION", res->source_version);
	}
	if (sandboxed || !envmap_get(e, "HOME"))
		envmap_set(e, "HOME", r->home_visible);
	/* ferry's helpers, as CodeBuild's /codebuild/user/bin (codebuild-hash-files) */
	char *path = xasprintf("%s/bin:%s", r->ctl, envmap_get(e, "PATH"));
	envmap_set(e, "PATH", path);
	free(path);
	free(arn);
	free(parn);
	free(reg);
}

static int put_layer(struct run *r, const char *const *kvs, const char *origin, struct err *err)
{
	for (size_t i = 0; kvs && kvs[i]; i++) {
		if (!strncmp(kvs[i], "CODEBUILD_", 10))
			return err_set(err, "%s: %.*s is reserved for CodeBuild's own variables",
			               origin, (int)strcspn(kvs[i], "="), kvs[i]);
		if (envmap_put(r->env, kvs[i], origin, err) < 0)
			return -1;
	}
	return 0;
}

static int put_secrets(struct run *r, const struct bs_var *vars, size_t n, const char *kind,
                       struct err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!r->req->resolve_secret)
			return err_set(err, "%s: no secret store is available to resolve %s", kind,
			               vars[i].value);
		char *value = NULL;
		size_t len = 0;
		if (r->req->resolve_secret(r->req->secret_ctx, kind, vars[i].value, &value, &len,
		                           err) < 0)
			return err_prefix(err, "env.%s.%s", kind, vars[i].name);
		outstream_add_secret(r->out, value);
		envmap_set(r->env, vars[i].name, value);
		sodium_memzero(value, len);
		free(value);
	}
	return 0;
}

/* Layers lowest to highest: image, CodeBuild's, buildspec (variables < parameter-store
 * < secrets-manager), project, overrides. CODEBUILD_* cannot be overridden. */
static int assemble_env(struct run *r, int sandboxed, struct err *err)
{
	r->env = envmap_new();
	for (size_t i = 0; r->req->base_env && r->req->base_env[i]; i++)
		if (envmap_put(r->env, r->req->base_env[i], "environment", err) < 0)
			continue; /* names a shell cannot hold are not passed on */
	if (!envmap_get(r->env, "PATH"))
		envmap_set(r->env, "PATH", DEFAULT_PATH);
	git_info(r);
	codebuild_vars(r, sandboxed);
	for (size_t i = 0; i < r->bs->nvariables; i++)
		envmap_set(r->env, r->bs->variables[i].name, r->bs->variables[i].value);
	if (put_secrets(r, r->bs->parameter_store, r->bs->nparameter_store, "parameter-store",
	                err) < 0 ||
	    put_secrets(r, r->bs->secrets_manager, r->bs->nsecrets_manager, "secrets-manager",
	                err) < 0)
		return -1;
	if (put_layer(r, r->req->project_env, "environment file", err) < 0 ||
	    put_layer(r, r->req->override_env, "--env", err) < 0)
		return -1;
	return 0;
}

static int pick_shell(const struct buildspec *bs, char **path, int *is_bash, struct err *err)
{
	const char *s = bs->shell;
	if (!s || !strcmp(s, "sh") || !strcmp(s, "/bin/sh"))
		s = "/bin/sh";
	else if (!strcmp(s, "bash"))
		s = "/bin/bash";
	if (access(s, X_OK) != 0)
		return err_set(err, "env.shell: %s is not an executable on this machine", s);
	*path = xstrdup(s);
	const char *base = strrchr(s, '/');
	*is_bash = !strcmp(base ? base + 1 : s, "bash");
	return 0;
}

static int any_run_as(const struct buildspec *bs)
{
	for (int p = 0; p < BS_PHASE_COUNT; p++)
		if (bs->phases[p].run_as)
			return 1;
	return bs->run_as != NULL;
}

static int start_shell(struct run *r, int sandboxed, const char *shell, int is_bash,
                       struct err *err)
{
	struct strv prefix = STRV_INIT, env = STRV_INIT;
	int shared = any_run_as(r->bs);
	if (shared && (chmod(r->work, 0711) < 0 || chmod(r->ctl, 0711) < 0))
		return err_errno(err, "%s", r->ctl);
	char *exe = realpath("/proc/self/exe", NULL);
	char *bin = fs_join(r->ctl, "bin");
	char *link = fs_join(bin, "codebuild-hash-files");
	if (exe && (mkdir(bin, 0755) < 0 || symlink(exe, link) < 0))
		run_log(r, "codebuild-hash-files is not available: %s", strerror(errno));
	free(bin);
	free(link);
	if (sandboxed) {
		struct sandbox_spec sp = {.src_dir = r->src,
		                          .ctl_dir = r->ctl,
		                          .home_host = r->home_host,
		                          .home_visible = r->home_visible,
		                          .hidden_dir = r->req->hidden_dir,
		                          .self_exe = exe,
		                          .extra_dirs = r->req->extra_dirs};
		sandbox_argv(&sp, &prefix);
	}
	envmap_export(r->env, &env);
	struct shell_config cfg = {
	        .ctl_dir = r->ctl,
	        .argv_prefix = (const char *const *)prefix.v,
	        .shell_path = shell,
	        .is_bash = is_bash,
	        .stateless = r->bs->v01,
	        .env = (const char *const *)env.v,
	        .cwd = r->src,
	        .ctl_shared = shared,
	};
	int rc = shell_start(&cfg, &r->sh, err);
	free(exe);
	strv_free(&prefix);
	strv_free(&env);
	return rc;
}

int run_restart_shell(struct run *r, struct err *err)
{
	if (r->sh) {
		shell_kill(r->sh);
		shell_drain(r->sh, &r->hooks);
		r->res->worker_starts += shell_worker_starts(r->sh);
		shell_free(r->sh);
		r->sh = NULL;
	}
	/* the old control files go with the old shell; the new one starts afresh */
	if (fs_rm_rf(r->ctl, err) < 0 || mkdir(r->ctl, 0700) < 0)
		return err_errno(err, "%s", r->ctl);
	return start_shell(r, !strcmp(r->res->sandbox, "bubblewrap"), r->shell_path, r->is_bash,
	                   err);
}

static void log_phases_found(struct run *r)
{
	int n = 0;
	for (int p = 0; p < BS_PHASE_COUNT; p++)
		n += r->bs->phases[p].present;
	run_log(r, "Phases found in YAML: %d", n);
	for (int p = 0; p < BS_PHASE_COUNT; p++)
		if (r->bs->phases[p].present)
			run_log(r, " %s: %zu commands", bs_phase_type((enum bs_phase)p),
			        r->bs->phases[p].ncommands);
}

int run_setup(struct run *r)
{
	struct err err;
	if (provision(r) < 0)
		return -1;
	size_t idx = run_phase_begin(r, "DOWNLOAD_SOURCE");
	run_log(r, "Waiting for agent ping");
	run_log(r, "Phase is DOWNLOAD_SOURCE");
	run_log(r, "CODEBUILD_SRC_DIR=%s", r->src);
	if (load_buildspec(r, idx) < 0)
		return -1;
	const char *bwrap = r->req->sandbox == BUILD_SANDBOX_AUTO ? sandbox_bwrap() : NULL;
	r->res->sandbox = bwrap ? "bubblewrap" : "none";
	r->home_visible = bwrap ? "/root" : r->home_host;
	run_log(r, "Processing environment variables");
	if (assemble_env(r, bwrap != NULL, &err) < 0)
		return fail_phase(r, idx, "CLIENT_ERROR", err.msg, 1);
	if (pick_shell(r->bs, &r->shell_path, &r->is_bash, &err) < 0)
		return fail_phase(r, idx, "YAML_FILE_ERROR", err.msg, 1);
	r->res->shell = xstrdup(r->shell_path);
	run_log(r, "Moving to directory %s", r->src);
	if (start_shell(r, bwrap != NULL, r->shell_path, r->is_bash, &err) < 0) {
		r->faulted = 1;
		return fail_phase(r, idx, "FAULT", err.msg, 0);
	}
	run_cache_restore(r);
	if (r->stopped || r->timed_out)
		return fail_phase(r, idx, r->stopped ? "STOPPED" : "TIMED_OUT", "stopped", 0);
	log_phases_found(r);
	run_log(r, "Phase complete: DOWNLOAD_SOURCE State: SUCCEEDED");
	run_log(r, "Phase context status code:  Message: ");
	run_phase_end(r, idx, "SUCCEEDED", NULL, NULL);
	return 0;
}
