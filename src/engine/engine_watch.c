/*
 * engine_watch.c — state subscriptions: whoever shows live state (the web UI's event
 * streams) hears of each committed change of an execution, and gets a heartbeat while
 * it watches.
 *
 * Cost: without a watch, a change costs one increment (state_w is NULL); the
 * heartbeat timer exists only while a watch does, and is unreferenced, so an open
 * page never keeps the loop from ending. A callback may unwatch (itself or another)
 * while changes are being told: removed entries are only marked during the telling
 * and dropped after it.
 */
#include "engine/engine_int.h"

#include <stdlib.h>

struct state_entry {
	uint64_t id;
	engine_state_fn *cb; /* NULL: removed while telling */
	void *ctx;
};

struct eng_state_watch {
	struct state_entry *v;
	size_t n;
	int telling;      /* depth of tell() in progress */
	uv_timer_t *beat; /* heap: its close completes after the struct may be gone */
};

static void beat_closed(uv_handle_t *h)
{
	free(h);
}

static void drop_removed(struct engine *e)
{
	struct eng_state_watch *w = e->state_w;
	size_t k = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].cb)
			w->v[k++] = w->v[i];
	w->n = k;
	if (w->n)
		return;
	uv_timer_stop(w->beat);
	uv_close((uv_handle_t *)w->beat, beat_closed);
	free(w->v);
	free(w);
	e->state_w = NULL;
}

static void tell(struct engine *e, const struct engine_state_change *ch)
{
	struct eng_state_watch *w = e->state_w;
	w->telling++;
	/* watches added by a callback are told from the next change on */
	size_t n = w->n;
	for (size_t i = 0; i < n; i++)
		if (w->v[i].cb)
			w->v[i].cb(w->v[i].ctx, ch);
	if (--w->telling == 0)
		drop_removed(e);
}

static void on_beat(uv_timer_t *t)
{
	struct engine *e = t->data;
	if (!e->state_w)
		return;
	struct engine_state_change ch = {0};
	tell(e, &ch);
}

uint64_t engine_state_watch(struct engine *e, engine_state_fn *cb, void *ctx)
{
	struct eng_state_watch *w = e->state_w;
	if (!w) {
		w = xcalloc(1, sizeof *w);
		w->beat = xcalloc(1, sizeof *w->beat);
		uv_timer_init(&e->loop, w->beat);
		w->beat->data = e;
		uv_unref((uv_handle_t *)w->beat);
		uv_timer_start(w->beat, on_beat, ENGINE_STATE_HEARTBEAT_MS,
		               ENGINE_STATE_HEARTBEAT_MS);
		e->state_w = w;
	}
	w->v = xgrow(w->v, w->n, sizeof *w->v);
	w->v[w->n] = (struct state_entry){.id = ++e->next_watch, .cb = cb, .ctx = ctx};
	return w->v[w->n++].id;
}

void engine_state_unwatch(struct engine *e, uint64_t watch_id)
{
	struct eng_state_watch *w = e->state_w;
	if (!w || !watch_id)
		return;
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].id == watch_id)
			w->v[i].cb = NULL;
	if (!w->telling)
		drop_removed(e);
}

uint64_t engine_state_seq(const struct engine *e)
{
	return e->state_seq;
}

void engine_state_changed(struct engine *e, const char *pipeline, const char *execution_id,
                          const char *status)
{
	e->state_seq++;
	if (!e->state_w)
		return;
	struct engine_state_change ch = {.seq = e->state_seq,
	                                 .pipeline = pipeline,
	                                 .execution_id = execution_id,
	                                 .status = status};
	tell(e, &ch);
}
