/*
 * action.c — `ferry __action JOBDIR`: reads JOBDIR/job.json, runs the provider its
 * "kind" names and writes JOBDIR/result.json (the formats are in action.h).
 *
 * Why it is built this way:
 *  - a job that cannot be understood still gets a result.json (Failed, its summary
 *    naming the field) whenever JOBDIR is writable: the user then reads what was wrong
 *    in the UI instead of "exited with status 1";
 *  - the providers only fill a `struct action_result`; writing it happens here, once,
 *    atomically, so a result is either absent or whole.
 */
#include "actions/action.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/actions_int.h"
#include "build/artifacts.h"
#include "util/buf.h"
#include "util/fs.h"

#define JOB_FILE_MAX (4 << 20)

void action_log(const char *tag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("[%s] ", tag);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
}

int action_fail(struct action_result *r, const char *fmt, ...)
{
	char line[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* the first failure is the cause; later ones are consequences */
	if (!r->failed) {
		r->failed = 1;
		free(r->summary);
		free(r->error_message);
		r->summary = xstrdup(line);
		r->error_message = xstrdup(line);
	}
	action_log("action", "failed: %s", line);
	return -1;
}

const char *action_json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *action_config(const struct action_job *job, const char *key)
{
	return action_json_str(job->configuration, key);
}

void action_result_add_output(struct action_result *r, const struct action_artifact *out,
                              const char *sha256, int64_t size, const char *revision)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(out->name));
	json_object_set_new(o, "path", json_string(out->path));
	json_object_set_new(o, "sha256", json_string(sha256));
	json_object_set_new(o, "size", json_integer(size));
	json_object_set_new(o, "revision", revision ? json_string(revision) : json_null());
	json_array_append_new(r->outputs, o);
}

int action_result_output(struct action_result *r, const struct action_artifact *out,
                         const char *revision, struct err *err)
{
	char sha256[65], md5[33];
	int64_t size = 0;
	if (artifacts_hash_file(out->path, sha256, md5, &size, err) < 0)
		return -1;
	action_result_add_output(r, out, sha256, size, revision);
	return 0;
}

int action_sync_file(const char *path, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		err_errno(err, "%s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int action_move_file(const char *from, const char *to, struct err *err)
{
	if (action_sync_file(from, err) < 0)
		return -1;
	if (rename(from, to) == 0)
		return 0;
	if (errno != EXDEV)
		return err_errno(err, "rename %s to %s", from, to);
	char *tmp = xasprintf("%s.tmp.%ld", to, (long)getpid());
	int rc = fs_copy_file(from, tmp, err);
	if (rc == 0)
		rc = action_sync_file(tmp, err);
	if (rc == 0 && rename(tmp, to) < 0)
		rc = err_errno(err, "rename %s", to);
	if (rc < 0)
		unlink(tmp);
	else
		unlink(from);
	free(tmp);
	return rc;
}

/* ---- job.json ---- */

static int need_str(json_t *obj, const char *key, const char *where, const char **out,
                    struct err *err)
{
	*out = action_json_str(obj, key);
	if (!*out || !**out)
		return err_set(err, "job.json: %s%s: expected a non-empty string", where, key);
	return 0;
}

static int parse_artifacts(json_t *root, const char *key, struct action_artifact **out, size_t *n,
                           struct err *err)
{
	json_t *arr = json_object_get(root, key);
	*out = NULL;
	*n = 0;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return err_set(err, "job.json: %s: expected a list", key);
	*out = xcalloc(json_array_size(arr) + 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		char where[64];
		snprintf(where, sizeof where, "%s[%zu].", key, i);
		struct action_artifact *a = &(*out)[i];
		if (need_str(v, "name", where, &a->name, err) < 0 ||
		    need_str(v, "path", where, &a->path, err) < 0)
			return -1;
		if (a->path[0] != '/')
			return err_set(err, "job.json: %spath: \"%s\" is not an absolute path",
			               where, a->path);
		a->revision = action_json_str(v, "revision");
		(*n)++;
	}
	return 0;
}

static int parse_job(const char *job_dir, struct action_job *job, struct err *err)
{
	memset(job, 0, sizeof *job);
	job->job_dir = job_dir;
	char *path = fs_join(job_dir, ACTION_JOB_FILE);
	char *text = NULL;
	size_t len = 0;
	int rc = fs_read_file(path, JOB_FILE_MAX, &text, &len, err);
	free(path);
	if (rc < 0)
		return -1;
	json_error_t je;
	job->root = json_loadb(text, len, 0, &je);
	free(text);
	if (!job->root)
		return err_set(err, "job.json:%d:%d: %s", je.line, je.column, je.text);
	if (!json_is_object(job->root))
		return err_set(err, "job.json: expected an object");
	json_t *root = job->root;
	if (need_str(root, "kind", "", &job->kind, err) < 0 ||
	    need_str(root, "workDir", "", &job->work_dir, err) < 0)
		return -1;
	job->pipeline = action_json_str(root, "pipeline");
	job->execution_id = action_json_str(root, "executionId");
	job->stage = action_json_str(root, "stage");
	job->action = action_json_str(root, "action");
	job->data_dir = action_json_str(root, "dataDir");
	job->configuration = json_object_get(root, "configuration");
	if (job->configuration && !json_is_object(job->configuration) &&
	    !json_is_null(job->configuration))
		return err_set(err, "job.json: configuration: expected an object");
	if (!json_is_object(job->configuration)) {
		job->configuration = json_object();
		json_object_set_new(root, "configuration", job->configuration);
	}
	job->source = json_object_get(root, "source");
	job->project = json_object_get(root, "project");
	if (!json_is_object(job->source))
		job->source = NULL;
	if (!json_is_object(job->project))
		job->project = NULL;
	job->sandbox = json_is_true(json_object_get(root, "sandbox"));
	if (parse_artifacts(root, "inputs", &job->inputs, &job->ninputs, err) < 0 ||
	    parse_artifacts(root, "outputs", &job->outputs, &job->noutputs, err) < 0)
		return -1;
	return 0;
}

static void job_free(struct action_job *job)
{
	json_decref(job->root);
	free(job->inputs);
	free(job->outputs);
}

/* ---- result.json ---- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int write_result(const char *job_dir, const struct action_result *r, struct err *err)
{
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string(r->failed ? "Failed" : "Succeeded"));
	json_object_set_new(o, "summary", json_string(r->summary ? r->summary : ""));
	json_object_set_new(o, "errorCode", r->failed ? json_string("JobFailed") : json_null());
	json_object_set_new(o, "errorMessage",
	                    r->failed ? str_or_null(r->error_message) : json_null());
	json_object_set_new(o, "externalExecutionId", str_or_null(r->external_id));
	json_object_set(o, "outputVariables", r->variables);
	json_object_set(o, "outputs", r->outputs);
	json_object_set(o, "revision", r->revision ? r->revision : json_null());
	if (r->reports)
		json_object_set(o, "reports", r->reports);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return err_set(err, "result.json: could not be serialised");
	char *path = fs_join(job_dir, ACTION_RESULT_FILE);
	int rc = fs_write_atomic(path, text, strlen(text), 0644, err);
	free(path);
	free(text);
	return rc;
}

static void result_free(struct action_result *r)
{
	free(r->summary);
	free(r->error_message);
	free(r->external_id);
	json_decref(r->variables);
	json_decref(r->outputs);
	json_decref(r->revision);
	json_decref(r->reports);
}

int action_main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: ferry __action JOBDIR\n", stderr);
		return 1;
	}
	/* the engine gives the child one pipe, as stdout: errors go to the same log */
	if (dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
		return 1;
	const char *job_dir = argv[1];
	struct action_result r = {.variables = json_object(), .outputs = json_array()};
	struct action_job job;
	struct err err;
	if (parse_job(job_dir, &job, &err) < 0) {
		action_fail(&r, "%s", err.msg);
	} else if (!strcmp(job.kind, "source_git")) {
		action_source_git(&job, &r);
	} else if (!strcmp(job.kind, "build")) {
		action_build(&job, &r);
	} else if (!strcmp(job.kind, "deploy_s3")) {
		action_deploy_s3(&job, &r);
	} else if (!strcmp(job.kind, "deploy_codedeploy")) {
		action_deploy_codedeploy(&job, &r);
	} else if (!strcmp(job.kind, "invoke")) {
		action_invoke(&job, &r);
	} else {
		action_fail(&r,
		            "job.json: kind: \"%s\" is not an action ferry knows (known: "
		            "source_git, build, deploy_s3, deploy_codedeploy)",
		            job.kind);
	}
	int code = 0;
	if (write_result(job_dir, &r, &err) < 0) {
		fprintf(stderr, "ferry __action: %s\n", err.msg);
		code = 1;
	}
	result_free(&r);
	job_free(&job);
	return code;
}
