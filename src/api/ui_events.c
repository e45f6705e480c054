/*
 * ui_events.c — GET /ui/events: the live pages' server-sent events. One engine state
 * watch per open stream (engine_state_watch): each committed change of an execution
 * becomes an event {"pipeline", "execution", "status"} with the engine's change number
 * as its id, and the page re-fetches the fragments it shows. ?pipeline=NAME keeps only
 * that pipeline's changes.
 *
 * Catching up: the first event ("hello") carries the current change number; a page
 * compares it with the number it was rendered at (<meta name="ferry-state">) or of the
 * last event it had (after an EventSource reconnect) and refreshes every fragment when
 * they differ, so a tab that was asleep
 * or disconnected shows the present without replaying anything. Change numbers start
 * again at 0 when the daemon restarts, so every number (event ids, hello's data) is
 * "BOOT.SEQ" with BOOT random per daemon process: a page open across a restart sees
 * a different hello even when the new count happens to match.
 * While a stream is open the engine sends a heartbeat every 25 s (a comment line, so
 * proxies keep the connection); with none open, nothing runs.
 */
#include "api/ui_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define UI_EVENTS_QUEUE_MAX (256u << 10) /* unsent bytes before a client counts as gone */

/* Shared by the loop (writes, wakes) and the server thread (reads): `q` and `dead`
 * under `mu`; the rest belongs to the loop. */
struct uiev {
	struct engine *e;
	struct http_stream *stream;
	uint64_t watch;
	char *pipeline; /* filter, or NULL */
	pthread_mutex_t mu;
	struct buf q;
	int dead;
};

/* The daemon process's random BOOT (loop thread: set once, at the first stream). */
static uint32_t boot_id(void)
{
	static uint32_t boot;
	if (!boot)
		boot = randombytes_random() | 1u;
	return boot;
}

void ui_state_mark(struct engine *e, char *out, size_t n)
{
	snprintf(out, n, "%08x.%llu", (unsigned)boot_id(), (unsigned long long)engine_state_seq(e));
}

/* ---- server thread ---- */

static ssize_t ev_read(void *ctx, char *out, size_t max)
{
	struct uiev *v = ctx;
	pthread_mutex_lock(&v->mu);
	ssize_t n = HTTP_STREAM_AGAIN;
	if (v->q.len) {
		size_t k = v->q.len < max ? v->q.len : max;
		memcpy(out, v->q.data, k);
		buf_consume(&v->q, k);
		n = (ssize_t)k;
	} else if (v->dead) {
		n = HTTP_STREAM_ABORT;
	}
	pthread_mutex_unlock(&v->mu);
	return n;
}

static void ev_release(struct engine *e, void *ctx)
{
	struct uiev *v = ctx;
	engine_state_unwatch(e, v->watch);
	http_stream_release(v->stream);
	pthread_mutex_destroy(&v->mu);
	buf_free(&v->q);
	free(v->pipeline);
	free(v);
}

static void ev_end(void *ctx, enum http_stream_end how)
{
	(void)how;
	struct uiev *v = ctx;
	engine_call(v->e, ev_release, v);
}

/* ---- loop ---- */

static void ev_send(struct uiev *v, const char *text)
{
	pthread_mutex_lock(&v->mu);
	if (!v->dead && buf_puts(&v->q, text) < 0)
		v->dead = 1; /* the client reads too slowly: cut it off */
	pthread_mutex_unlock(&v->mu);
	if (v->stream)
		http_stream_wake(v->stream);
}

static void ev_change(void *ctx, const struct engine_state_change *ch)
{
	struct uiev *v = ctx;
	if (!ch->seq) {
		ev_send(v, ": heartbeat\n\n");
		return;
	}
	if (v->pipeline && ch->pipeline && strcmp(v->pipeline, ch->pipeline))
		return;
	json_t *o = json_pack("{s:s?,s:s?,s:s?}", "pipeline", ch->pipeline, "execution",
	                      ch->execution_id, "status", ch->status);
	char *data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	char *ev = xasprintf("id: %08x.%llu\nevent: change\ndata: %s\n\n", (unsigned)boot_id(),
	                     (unsigned long long)ch->seq, data ? data : "{}");
	ev_send(v, ev);
	free(ev);
	free(data);
}

void ui_get_events(struct api_job *job)
{
	if (!ui_need(job))
		return;
	const char *pipeline = api_query(job, "pipeline");
	struct uiev *v = xcalloc(1, sizeof *v);
	v->e = job->e;
	v->pipeline = pipeline && *pipeline ? xstrdup(pipeline) : NULL;
	pthread_mutex_init(&v->mu, NULL);
	buf_init(&v->q, UI_EVENTS_QUEUE_MAX);
	char mark[UI_STATE_MAX];
	ui_state_mark(job->e, mark, sizeof mark);
	char *hello = xasprintf("retry: 2000\nid: %s\nevent: hello\ndata: %s\n\n", mark, mark);
	ev_send(v, hello);
	free(hello);
	v->watch = engine_state_watch(job->e, ev_change, v);
	http_response_header(job->req, "Cache-Control", "no-store");
	http_response_header(job->req, "X-Accel-Buffering", "no");
	api_job_answered(job);
	/* the end callback may run before this returns; it only posts ev_release(), which
	 * runs after this function, with v->stream set */
	v->stream = http_respond_stream(job->req, 200, "text/event-stream; charset=utf-8", ev_read,
	                                ev_end, v);
}
