/*
 * notify.c — pipeline notifications: deliveries as child processes watched by the
 * engine's libuv loop (notify.h states the contract), the event JSON, and the
 * `ferry __notify` child that POSTs an event.
 *
 * A delivery is one event for one rule; it lives from notify_send() until its last
 * attempt is over, and owns one timer: the deadline of the running attempt, or the
 * wait before the next one. An attempt owns its child and two pipes (the event in,
 * the output out) and ends when all three handles are closed — after the child was
 * reaped *and* its output reached EOF, so no line is lost and nothing is left open.
 * Killing the child's process group when the shell exits is what makes EOF come
 * even when the command left something running in the background.
 */
#include "engine/notify.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "net/http_client.h"
#include "util/buf.h"
#include "util/uuid.h"

extern char **environ;

#define READ_CHUNK 4096

struct delivery;

struct attempt {
	struct delivery *d;
	uv_process_t proc;
	uv_pipe_t in, out;
	uv_write_t wreq;
	int open; /* handles not yet closed */
	int spawned, exited, timed_out;
	int64_t status;
	int term_signal;
	char error[128]; /* why it could not start */
	char line[NOTIFY_LINE_MAX + 1];
	size_t line_len;
	int line_cut;
	size_t logged; /* output bytes logged */
	char rbuf[READ_CHUNK];
};

struct delivery {
	struct notifier *n;
	struct delivery *prev, *next;
	char *what; /* "notifications[1] of site (failed, execution …)" */
	char *command, *url;
	char *body;
	size_t len;
	char **env;
	int timeout_s, retries;
	int attempt; /* number of the running or last attempt, from 1 */
	int cancelled;
	uv_timer_t timer;
	struct attempt *run; /* NULL between attempts */
};

struct notifier {
	uv_loop_t *loop;
	char *self_exe;
	struct logsink sink;
	const struct logsink *log; /* &sink, or NULL: silent */
	struct delivery *head;
	size_t live; /* deliveries not yet freed (their timer may still be closing) */
	int closing;
	void (*done)(void *);
	void *done_ctx;
};

static void start_attempt(struct delivery *d);

/* --- the notifier's end -------------------------------------------------------------- */

static void maybe_done(struct notifier *n)
{
	if (!n->closing || n->live > 0)
		return;
	void (*done)(void *) = n->done;
	void *ctx = n->done_ctx;
	free(n->self_exe);
	free(n);
	if (done)
		done(ctx);
}

static void delivery_closed(uv_handle_t *h)
{
	struct delivery *d = h->data;
	struct notifier *n = d->n;
	free(d->what);
	free(d->command);
	free(d->url);
	free(d->body);
	for (size_t i = 0; d->env && d->env[i]; i++)
		free(d->env[i]);
	free(d->env);
	free(d);
	n->live--;
	maybe_done(n);
}

/* Unlinks the delivery and closes its timer; it is freed when the timer is closed. */
static void finish(struct delivery *d)
{
	struct notifier *n = d->n;
	if (d->prev)
		d->prev->next = d->next;
	else
		n->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	d->prev = d->next = NULL;
	uv_close((uv_handle_t *)&d->timer, delivery_closed);
}

/* --- an attempt's output --------------------------------------------------------------- */

static void emit_line(struct attempt *a)
{
	struct delivery *d = a->d;
	if (a->logged < NOTIFY_OUTPUT_MAX) {
		for (size_t i = 0; i < a->line_len; i++)
			if ((unsigned char)a->line[i] < 0x20 || a->line[i] == 0x7f)
				a->line[i] = a->line[i] == '\t' ? '\t' : '?';
		a->line[a->line_len] = '\0';
		logsink_printf(d->n->log, "%s: %s%s", d->what, a->line,
		               a->line_cut ? " [...]" : "");
		a->logged += a->line_len + 1;
		if (a->logged >= NOTIFY_OUTPUT_MAX)
			logsink_printf(d->n->log, "%s: more output, not logged (over %u bytes)",
			               d->what, NOTIFY_OUTPUT_MAX);
	}
	a->line_len = 0;
	a->line_cut = 0;
}

static void take_output(struct attempt *a, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n')
			emit_line(a);
		else if (p[i] == '\r')
			continue;
		else if (a->line_len < NOTIFY_LINE_MAX)
			a->line[a->line_len++] = p[i];
		else
			a->line_cut = 1;
	}
}

/* --- an attempt's end ------------------------------------------------------------------ */

static void describe(const struct attempt *a, char *out, size_t size)
{
	if (!a->spawned)
		snprintf(out, size, "cannot start: %s", a->error);
	else if (a->timed_out)
		snprintf(out, size, "timed out after %d s (killed)", a->d->timeout_s);
	else if (a->term_signal)
		snprintf(out, size, "killed by signal %d", a->term_signal);
	else
		snprintf(out, size, "exit status %lld", (long long)a->status);
}

static unsigned backoff_ms(int attempt)
{
	unsigned ms = 1000;
	for (int i = 1; i < attempt && ms < NOTIFY_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < NOTIFY_BACKOFF_MAX_MS ? ms : NOTIFY_BACKOFF_MAX_MS;
}

static void on_timer(uv_timer_t *t);

static void attempt_done(struct attempt *a)
{
	struct delivery *d = a->d;
	char why[192];
	int ok = a->spawned && a->exited && !a->timed_out && !a->term_signal && a->status == 0;
	describe(a, why, sizeof why);
	d->run = NULL;
	free(a);
	if (ok) {
		if (d->attempt > 1)
			logsink_printf(d->n->log, "%s: delivered at attempt %d", d->what,
			               d->attempt);
		else
			logsink_printf(d->n->log, "%s: delivered", d->what);
		finish(d);
	} else if (d->cancelled) {
		logsink_printf(d->n->log, "%s: cancelled (the notifier is closing)", d->what);
		finish(d);
	} else if (d->attempt <= d->retries) {
		unsigned ms = backoff_ms(d->attempt);
		logsink_printf(d->n->log, "%s: attempt %d of %d failed: %s; next in %u s", d->what,
		               d->attempt, d->retries + 1, why, ms / 1000);
		uv_timer_start(&d->timer, on_timer, ms, 0);
	} else {
		logsink_printf(d->n->log, "%s: gave up after %d attempt%s: %s", d->what, d->attempt,
		               d->attempt == 1 ? "" : "s", why);
		finish(d);
	}
}

static void attempt_handle_closed(uv_handle_t *h)
{
	struct attempt *a = h->data;
	if (--a->open == 0)
		attempt_done(a);
}

static void close_handle(struct attempt *a, uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, attempt_handle_closed);
}

/* The group's id is the child's pid (UV_PROCESS_DETACHED makes it a session leader). */
static void kill_group(struct attempt *a)
{
	if (a->spawned && a->proc.pid > 0)
		kill(-a->proc.pid, SIGKILL);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
	struct attempt *a = p->data;
	a->exited = 1;
	a->status = status;
	a->term_signal = term_signal;
	uv_timer_stop(&a->d->timer);
	kill_group(a); /* what the command left running: nothing outlives the attempt */
	close_handle(a, (uv_handle_t *)&a->proc);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct attempt *a = h->data;
	(void)hint;
	*buf = uv_buf_init(a->rbuf, sizeof a->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct attempt *a = s->data;
	if (nread > 0) {
		take_output(a, buf->base, (size_t)nread);
		return;
	}
	if (nread == 0)
		return; /* EAGAIN */
	if (a->line_len > 0 || a->line_cut)
		emit_line(a);
	close_handle(a, (uv_handle_t *)&a->out);
}

static void on_written(uv_write_t *w, int status)
{
	struct attempt *a = w->data;
	(void)status; /* a command that does not read its stdin is its own business */
	close_handle(a, (uv_handle_t *)&a->in);
}

static void on_timer(uv_timer_t *t)
{
	struct delivery *d = t->data;
	if (d->run) { /* the running attempt's deadline */
		d->run->timed_out = 1;
		kill_group(d->run);
		return;
	}
	start_attempt(d); /* the wait before a retry is over */
}

/* --- starting an attempt ---------------------------------------------------------------- */

static int spawn_child(struct delivery *d, struct attempt *a, int out_fd)
{
	char timeout[16];
	char *sh_args[] = {"sh", "-c", d->command, NULL};
	char *url_args[] = {d->n->self_exe, "__notify", d->url, timeout, NULL};
	uv_stdio_container_t stdio[3] = {
	        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&a->in},
	        {.flags = UV_INHERIT_FD, .data.fd = out_fd},
	        {.flags = UV_INHERIT_FD, .data.fd = out_fd},
	};
	snprintf(timeout, sizeof timeout, "%d", d->timeout_s);
	uv_process_options_t o = {
	        .exit_cb = on_exit_cb,
	        .file = d->command ? "/bin/sh" : d->n->self_exe,
	        .args = d->command ? sh_args : url_args,
	        .env = d->env,
	        .flags = UV_PROCESS_DETACHED, /* its own session, so its own process group */
	        .stdio_count = 3,
	        .stdio = stdio,
	};
	a->open++; /* the process handle is initialised even when the spawn fails */
	int rc = uv_spawn(d->n->loop, &a->proc, &o);
	a->proc.data = a;
	return rc;
}

static void start_attempt(struct delivery *d)
{
	struct attempt *a = xcalloc(1, sizeof *a);
	uv_file fds[2];
	int rc;
	a->d = d;
	d->run = a;
	d->attempt++;
	uv_pipe_init(d->n->loop, &a->in, 0);
	uv_pipe_init(d->n->loop, &a->out, 0);
	a->in.data = a->out.data = a->wreq.data = a;
	a->open = 2;
	if ((rc = uv_pipe(fds, UV_NONBLOCK_PIPE, 0)) < 0) {
		snprintf(a->error, sizeof a->error, "no pipe for its output: %s", uv_strerror(rc));
		goto failed;
	}
	if ((rc = uv_pipe_open(&a->out, fds[0])) < 0) {
		close(fds[0]);
		close(fds[1]);
		snprintf(a->error, sizeof a->error, "no pipe for its output: %s", uv_strerror(rc));
		goto failed;
	}
	rc = spawn_child(d, a, fds[1]);
	close(fds[1]); /* the child has its copy; EOF comes when the group is gone */
	if (rc < 0) {
		snprintf(a->error, sizeof a->error, "%s: %s",
		         d->command ? "/bin/sh" : d->n->self_exe, uv_strerror(rc));
		close_handle(a, (uv_handle_t *)&a->proc);
		goto failed;
	}
	a->spawned = 1;
	uv_buf_t buf = uv_buf_init(d->body, (unsigned)d->len);
	if (uv_write(&a->wreq, (uv_stream_t *)&a->in, &buf, 1, on_written) < 0)
		close_handle(a, (uv_handle_t *)&a->in);
	if (uv_read_start((uv_stream_t *)&a->out, on_alloc, on_read) < 0)
		close_handle(a, (uv_handle_t *)&a->out);
	uint64_t ms = (uint64_t)d->timeout_s * 1000 + (d->url ? NOTIFY_URL_GRACE_MS : 0);
	uv_timer_start(&d->timer, on_timer, ms, 0);
	return;
failed:
	close_handle(a, (uv_handle_t *)&a->in);
	close_handle(a, (uv_handle_t *)&a->out);
}

/* --- the notifier ------------------------------------------------------------------------ */

int notify_open(uv_loop_t *loop, const char *self_exe, const struct logsink *log,
                struct notifier **out, struct err *err)
{
	*out = NULL;
	if (!loop || !self_exe || !*self_exe)
		return err_set(err, "notify: needs a loop and the ferry binary's path");
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	struct notifier *n = xcalloc(1, sizeof *n);
	n->loop = loop;
	n->self_exe = xstrdup(self_exe);
	if (log) {
		n->sink = *log;
		n->log = &n->sink;
	}
	*out = n;
	return 0;
}

static int is_ours(const char *entry)
{
	static const char *const names[] = {
	        "FERRY_EVENT=", "FERRY_PIPELINE=", "FERRY_EXECUTION_ID="};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strncmp(entry, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

/* The daemon's environment and the event's FERRY_* variables, every string owned. */
static char **child_env(const char *event, const char *pipeline, const char *execution_id)
{
	size_t n = 0, k = 0;
	while (environ && environ[n])
		n++;
	char **env = xcalloc(n + 4, sizeof *env);
	for (size_t i = 0; i < n; i++)
		if (!is_ours(environ[i]))
			env[k++] = xstrdup(environ[i]);
	env[k++] = xasprintf("FERRY_EVENT=%s", event);
	env[k++] = xasprintf("FERRY_PIPELINE=%s", pipeline);
	env[k++] = xasprintf("FERRY_EXECUTION_ID=%s", execution_id);
	return env;
}

static const char *detail_str(const json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(ev, "detail"), key));
	return s ? s : "?";
}

static void add_delivery(struct notifier *n, const struct pl_notify_rule *r, size_t index,
                         const char *event, const json_t *ev, const char *body)
{
	const char *pipeline = detail_str(ev, "pipeline");
	const char *exec = detail_str(ev, "execution-id");
	struct delivery *d = xcalloc(1, sizeof *d);
	d->n = n;
	d->what = xasprintf("notifications[%zu] of %s (%s, execution %s)", index, pipeline, event,
	                    exec);
	d->command = r->command ? xstrdup(r->command) : NULL;
	d->url = r->command ? NULL : xstrdup(r->url);
	d->body = xstrdup(body);
	d->len = strlen(body);
	d->env = child_env(event, pipeline, exec);
	d->timeout_s = r->timeout_s > 0 ? r->timeout_s : PIPELINE_NOTIFY_TIMEOUT_DEFAULT;
	d->retries = r->retries >= 0 ? r->retries : 0;
	uv_timer_init(n->loop, &d->timer);
	d->timer.data = d;
	d->next = n->head;
	if (n->head)
		n->head->prev = d;
	n->head = d;
	n->live++;
	start_attempt(d);
}

void notify_send(struct notifier *n, const struct pl_notify_rule *rules, size_t nrules,
                 unsigned event, const json_t *event_json)
{
	const char *name = pipeline_notify_event_name(event);
	if (!n || n->closing || !name || !event_json)
		return;
	char *text = NULL;
	for (size_t i = 0; i < nrules; i++) {
		const struct pl_notify_rule *r = &rules[i];
		if (!(r->events & event) || (!r->command && !r->url))
			continue;
		if (n->live >= NOTIFY_ACTIVE_MAX) {
			logsink_printf(n->log,
			               "notifications[%zu] of %s (%s, execution %s): dropped: %d "
			               "notifications already in flight",
			               i, detail_str(event_json, "pipeline"), name,
			               detail_str(event_json, "execution-id"), NOTIFY_ACTIVE_MAX);
			continue;
		}
		if (!text) {
			char *one = json_dumps(event_json, JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (!one)
				return; /* only out of memory */
			text = xasprintf("%s\n", one);
			free(one);
		}
		add_delivery(n, r, i, name, event_json, text);
	}
	free(text);
}

void notify_close(struct notifier *n, void (*done)(void *ctx), void *ctx)
{
	if (!n) {
		if (done)
			done(ctx);
		return;
	}
	n->closing = 1;
	n->done = done;
	n->done_ctx = ctx;
	for (struct delivery *d = n->head, *next; d; d = next) {
		next = d->next;
		d->cancelled = 1;
		uv_timer_stop(&d->timer);
		if (d->run)
			kill_group(d->run); /* its end frees the delivery (attempt_done) */
		else {                      /* a retry was waiting */
			logsink_printf(n->log, "%s: cancelled (the notifier is closing)", d->what);
			finish(d);
		}
	}
	maybe_done(n);
}

/* --- the event's JSON --------------------------------------------------------------------- */

/* EventBridge's "time": whole seconds, UTC. */
static void event_time(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A string that is valid UTF-8, or nothing (the reason may come from a child's output). */
static void set_text(json_t *o, const char *key, const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	if (j)
		json_object_set_new(o, key, j);
}

static json_t *envelope(const char *detail_type, const char *pipeline, int64_t time_ms,
                        json_t *detail, const char *attr_key, const char *attr)
{
	char id[37], when[32];
	uuid4(id);
	event_time(time_ms, when);
	json_t *ev = json_object(), *res = json_array();
	set_text(ev, "version", "0");
	set_text(ev, "id", id);
	set_text(ev, "detail-type", detail_type);
	set_text(ev, "source", "aws.codepipeline");
	set_text(ev, "account", "000000000000");
	set_text(ev, "time", when);
	set_text(ev, "region", "local");
	char *arn = xasprintf("arn:aws:codepipeline:local:000000000000:%s", pipeline);
	json_array_append_new(res, json_string(arn));
	free(arn);
	json_object_set_new(ev, "resources", res);
	json_object_set_new(ev, "detail", detail);
	json_t *attrs = json_object();
	set_text(attrs, attr_key, attr);
	if (json_object_size(attrs))
		json_object_set_new(ev, "additionalAttributes", attrs);
	else
		json_decref(attrs);
	return ev;
}

static json_t *base_detail(const char *pipeline, const char *execution_id)
{
	json_t *d = json_object();
	set_text(d, "pipeline", pipeline);
	set_text(d, "execution-id", execution_id);
	return d;
}

json_t *notify_approval_json(const char *pipeline, int version, const char *execution_id,
                             const char *stage, const char *action, const char *custom_data,
                             int64_t time_ms)
{
	if (!pipeline || !execution_id)
		return NULL;
	json_t *d = base_detail(pipeline, execution_id);
	set_text(d, "stage", stage);
	set_text(d, "action", action);
	set_text(d, "state", "STARTED");
	json_object_set_new(d, "type",
	                    json_pack("{s:s,s:s,s:s,s:s}", "owner", "AWS", "provider", "Manual",
	                              "category", "Approval", "version", "1"));
	json_object_set_new(d, "version", json_integer(version));
	return envelope("CodePipeline Action Execution State Change", pipeline, time_ms, d,
	                "customData", custom_data);
}

json_t *notify_event_json(const char *pipeline, int version, const char *execution_id,
                          unsigned event, const char *reason, int64_t time_ms)
{
	static const struct {
		unsigned event;
		const char *state;
	} states[] = {
	        {PL_NOTIFY_STARTED, "STARTED"}, {PL_NOTIFY_SUCCEEDED, "SUCCEEDED"},
	        {PL_NOTIFY_FAILED, "FAILED"},   {PL_NOTIFY_SUPERSEDED, "SUPERSEDED"},
	        {PL_NOTIFY_STOPPED, "STOPPED"}, {PL_NOTIFY_CANCELLED, "CANCELED"},
	        {PL_NOTIFY_RESUMED, "RESUMED"},
	};
	if (event == PL_NOTIFY_APPROVAL_NEEDED)
		return notify_approval_json(pipeline, version, execution_id, NULL, NULL, reason,
		                            time_ms);
	const char *state = NULL;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (states[i].event == event)
			state = states[i].state;
	if (!state || !pipeline || !execution_id)
		return NULL;
	json_t *d = base_detail(pipeline, execution_id);
	set_text(d, "state", state);
	json_object_set_new(d, "version", json_integer(version));
	if (event == PL_NOTIFY_STOPPED)
		set_text(d, "stop-execution-comments", reason);
	return envelope("CodePipeline Pipeline Execution State Change", pipeline, time_ms, d,
	                "statusSummary", reason);
}

/* --- `ferry __notify URL TIMEOUT` ---------------------------------------------------------- */

/* scheme://host[:port], and "/…" when there is more: the path and query of a webhook
 * URL are often its secret. */
static void url_shown(const char *url, char *out, size_t size)
{
	const char *auth = strstr(url, "://");
	auth = auth ? auth + 3 : url;
	size_t alen = strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', alen);
	const char *host = at ? at + 1 : auth;
	size_t hlen = alen - (size_t)(host - auth);
	const char *rest = auth + alen;
	snprintf(out, size, "%.*s%.*s%s", (int)(auth - url), url, (int)hlen, host,
	         rest[0] && strcmp(rest, "/") != 0 ? "/…" : "");
}

static int discard(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

static int read_stdin(struct buf *b, struct err *err)
{
	char chunk[READ_CHUNK];
	for (;;) {
		ssize_t n = read(0, chunk, sizeof chunk);
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(err, "stdin");
		if (buf_append(b, chunk, (size_t)n) < 0)
			return err_set(err, "stdin: the event is larger than %u bytes",
			               NOTIFY_BODY_MAX);
	}
}

/* The error without the URL http_call() puts first (it may hold the secret). */
static const char *after_url(const char *msg)
{
	const char *scheme = strstr(msg, "://");
	const char *colon = scheme ? strstr(scheme, ": ") : NULL;
	return colon ? colon + 2 : "the request failed";
}

int notify_post_main(int argc, char **argv)
{
	char shown[160], *end = NULL;
	struct err err;
	struct http_reply rep = {0};
	if (argc != 3) {
		fputs("usage: ferry __notify URL TIMEOUT_SECONDS < event.json\n", stderr);
		return 2;
	}
	long timeout = strtol(argv[2], &end, 10);
	if (!*argv[2] || *end || timeout < 1 || timeout > 3600) {
		fprintf(stderr, "ferry __notify: \"%s\" is not a number of seconds (1-3600)\n",
		        argv[2]);
		return 2;
	}
	url_shown(argv[1], shown, sizeof shown);
	struct buf body;
	buf_init(&body, NOTIFY_BODY_MAX);
	if (read_stdin(&body, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		buf_free(&body);
		return 1;
	}
	struct http_call call = {
	        .method = "POST",
	        .url = argv[1],
	        .body = body.len ? body.data : "",
	        .body_len = body.len,
	        .content_type = "application/json",
	        .response_max = 64u << 10,
	        .timeout_ms = timeout * 1000,
	        .on_chunk = discard, /* a 2xx answer's body does not matter */
	};
	int rc = http_call(&call, &rep, &err);
	buf_free(&body);
	if (rc < 0) {
		fprintf(stderr, "POST %s: %s\n", shown, after_url(err.msg));
		http_reply_free(&rep);
		return 1;
	}
	if (rep.status >= 200 && rep.status < 300) {
		http_reply_free(&rep);
		return 0;
	}
	size_t n = strcspn(rep.body, "\r\n");
	fprintf(stderr, "POST %s: answered %ld%s%.*s\n", shown, rep.status, n ? ": " : "",
	        (int)(n > 200 ? 200 : n), rep.body);
	http_reply_free(&rep);
	return 1;
}
