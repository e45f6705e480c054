/*
 * api_logs.c — GET /api/executions/{id}/logs/{action}: an action's log as text/plain,
 * and with ?follow=1 its live output until the action ends.
 *
 * A finished log (or one read without follow) is sent from the file with sendfile().
 * A followed log is a pull-mode stream: its read callback (libmicrohttpd's thread)
 * reads the file from an offset and says "again" at its end; the engine's log watch
 * (loop thread) wakes the stream after each append and once more when the action has
 * ended, after which the end of the file is the end of the answer.
 *
 * Lifetimes: a `struct follow` is shared by the server's thread (read and end
 * callbacks) and the loop (the watch). The end callback only posts a message to the
 * loop; the loop drops the watch, releases the stream handle and frees the struct, so
 * no watch callback can ever see a freed one. Between the two threads only `complete`
 * is shared (atomic); `fd` and `off` belong to the read callback.
 */
#include "api/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_CONTENT_TYPE "text/plain; charset=utf-8"

struct follow {
	struct engine *e;
	char *path;
	int fd;                     /* read callback: -1 until the log file exists */
	off_t off;                  /* read callback */
	atomic_int complete;        /* the action ended: the file's end is the log's */
	struct http_stream *stream; /* loop */
	uint64_t watch;             /* loop; 0 once gone */
};

/* ---- the stream (server thread) ---- */

static ssize_t follow_read(void *ctx, char *buf, size_t max)
{
	struct follow *f = ctx;
	/* read `complete` before the file: once it is set, every byte is in the file */
	int complete = atomic_load(&f->complete);
	if (f->fd < 0) {
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0)
			return errno == ENOENT && !complete ? HTTP_STREAM_AGAIN
			       : errno == ENOENT            ? HTTP_STREAM_DONE
			                                    : HTTP_STREAM_ABORT;
	}
	for (;;) {
		ssize_t n = pread(f->fd, buf, max, f->off);
		if (n > 0) {
			f->off += n;
			return n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return HTTP_STREAM_ABORT;
		return complete ? HTTP_STREAM_DONE : HTTP_STREAM_AGAIN;
	}
}

static void follow_release(struct engine *e, void *ctx)
{
	struct follow *f = ctx;
	if (f->watch)
		engine_log_unwatch(e, f->watch);
	http_stream_release(f->stream);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

/* Server thread (or the thread stopping the server): hand the struct back to the loop. */
static void follow_end(void *ctx, enum http_stream_end how)
{
	(void)how;
	struct follow *f = ctx;
	engine_call(f->e, follow_release, f);
}

/* ---- the watch (loop thread) ---- */

static void follow_more(void *ctx, int more)
{
	struct follow *f = ctx;
	if (!more) {
		f->watch = 0;
		atomic_store(&f->complete, 1);
	}
	if (f->stream)
		http_stream_wake(f->stream);
}

/* ---- the route ---- */

/* The actionExecutionId of `action` (a name: its latest execution; or an id) in the
 * execution. *out to free. */
static int action_execution_id(struct engine *e, const char *execution_id, const char *action,
                               char **out, struct engine_err *err)
{
	*out = NULL;
	char *pipeline = NULL;
	int rc = api_execution_pipeline(e, execution_id, &pipeline, err);
	if (rc < 0)
		return rc;
	json_t *list = NULL;
	rc = engine_action_executions(e, pipeline, execution_id, &list, err);
	free(pipeline);
	if (rc < 0)
		return rc;
	json_t *items = json_object_get(list, "actionExecutionDetails"), *d;
	size_t i;
	json_array_foreach(items, i, d)
	{
		const char *id = json_string_value(json_object_get(d, "actionExecutionId"));
		const char *name = json_string_value(json_object_get(d, "actionName"));
		if (id && ((name && !strcmp(name, action)) || !strcmp(id, action))) {
			*out = xstrdup(id); /* newest first: the latest attempt */
			break;
		}
	}
	json_decref(list);
	if (*out)
		return 0;
	err->type = "ActionNotFoundException";
	err_set(&err->err, "execution %s: no action \"%s\"", execution_id, action);
	return ENGINE_ENOTFOUND;
}

static void send_file(struct api_job *job, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && errno == ENOENT) { /* nothing written yet */
		api_job_answered(job);
		http_respond_bytes(job->req, 200, LOG_CONTENT_TYPE, "", 0);
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "reading the log: %s",
		                strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	api_job_answered(job);
	http_respond_file(job->req, 200, LOG_CONTENT_TYPE, fd, 0, (uint64_t)st.st_size);
}

static void follow(struct api_job *job, char *path)
{
	const char *id = api_param(job, "id"), *action = api_param(job, "action");
	char *aeid = NULL;
	struct engine_err err = {0};
	int rc = action_execution_id(job->e, id, action, &aeid, &err);
	if (rc < 0) {
		api_reply_engine(job, rc, &err);
		free(path);
		return;
	}
	struct follow *f = xcalloc(1, sizeof *f);
	f->e = job->e;
	f->path = path;
	f->fd = -1;
	atomic_init(&f->complete, 0);
	f->watch = engine_log_watch(job->e, aeid, follow_more, f);
	free(aeid);
	if (!f->watch) /* it ended between the two questions: the file is complete */
		atomic_store(&f->complete, 1);
	api_job_answered(job);
	/* the end callback may run before this returns; it only posts follow_release(),
	 * which runs after this function, with f->stream set */
	f->stream =
	        http_respond_stream(job->req, 200, LOG_CONTENT_TYPE, follow_read, follow_end, f);
}

static void logs(struct api_job *job)
{
	char *path = NULL;
	int running = 0;
	struct engine_err err = {0};
	int rc = engine_log_path(job->e, api_param(job, "id"), api_param(job, "action"), &path,
	                         &running, &err);
	if (rc < 0) {
		api_reply_engine(job, rc, &err);
		return;
	}
	if (running && api_query_flag(job, "follow")) {
		follow(job, path);
		return;
	}
	send_file(job, path);
	free(path);
}

const struct api_route api_log_routes[] = {
        {"GET", "/api/executions/{id}/logs/{action}", STORE_SCOPE_READ, logs, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
