/*
 * engine_exec.c — the state machine of executions (spec §1.3, §1.8, §2.2, §2.4):
 * stages in order behind their locks and transitions, action groups by runOrder,
 * the SUPERSEDED waiting slot and the QUEUED line, stops and cancellations.
 *
 * eng_advance() looks at every active execution until none can move; each move is
 * committed before the next is considered, and before a child is spawned for it.
 */
#include "engine/engine_int.h"
#include "engine/notify.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

int eng_stage_index(const struct pipeline *p, const char *stage)
{
	for (size_t i = 0; i < p->nstages; i++)
		if (!strcmp(p->stages[i].name, stage))
			return (int)i;
	return -1;
}

struct eng_exec *eng_exec_find(struct engine *e, const char *id)
{
	for (struct eng_exec *x = e->active; x; x = x->next)
		if (!strcmp(x->row.id, id))
			return x;
	return NULL;
}

struct store_stage *eng_exec_stage(struct eng_exec *x, const char *stage)
{
	for (size_t i = 0; i < x->nstages; i++)
		if (!strcmp(x->stages[i].stage, stage))
			return &x->stages[i];
	return NULL;
}

int eng_exec_load(struct engine *e, const struct store_exec *row, struct eng_exec **out,
                  struct err *err)
{
	*out = NULL;
	struct eng_decl *d = eng_decl_get(e, row->pipeline, row->version, err);
	if (!d)
		return -1;
	struct eng_exec *x = xcalloc(1, sizeof *x);
	x->decl = d;
	x->row = *row;
#define DUP(f) x->row.f = row->f ? xstrdup(row->f) : NULL
	DUP(id);
	DUP(pipeline);
	DUP(status);
	DUP(status_summary);
	DUP(trigger_type);
	DUP(trigger_detail);
	DUP(variables);
	DUP(source_commit);
	DUP(stage);
	DUP(stop_mode);
	DUP(stop_reason);
	DUP(client_token);
#undef DUP
	if (store_stage_list(e->st, row->id, &x->stages, &x->nstages, err) < 0 ||
	    store_action_list(e->st, row->pipeline, row->id, 0, &x->actions, &x->nactions, err) <
	            0 ||
	    store_artifact_list(e->st, row->id, &x->artifacts, &x->nartifacts, err) < 0) {
		eng_exec_free(e, x);
		return -1;
	}
	*out = x;
	return 0;
}

void eng_exec_free(struct engine *e, struct eng_exec *x)
{
	if (!x)
		return;
	store_exec_free(&x->row);
	store_stage_list_free(x->stages, x->nstages);
	store_action_list_free(x->actions, x->nactions);
	store_artifact_list_free(x->artifacts, x->nartifacts);
	eng_decl_unref(e, x->decl);
	free(x);
}

void eng_exec_drop(struct engine *e, struct eng_exec *x)
{
	for (struct eng_exec **at = &e->active; *at; at = &(*at)->next)
		if (*at == x) {
			*at = x->next;
			break;
		}
	eng_exec_free(e, x);
}

int eng_exec_commit(struct engine *e, struct eng_exec *x, struct err *err)
{
	x->row.updated_ms = wall_ms();
	if (store_tx_begin(e->st, err) < 0)
		return -1;
	if (store_exec_put(e->st, &x->row, err) < 0)
		goto fail;
	for (size_t i = 0; i < x->nstages; i++)
		if (store_stage_put(e->st, &x->stages[i], err) < 0)
			goto fail;
	for (size_t i = 0; i < x->nactions; i++)
		if (store_action_put(e->st, &x->actions[i], err) < 0)
			goto fail;
	for (size_t i = 0; i < x->nartifacts; i++)
		if (store_artifact_put(e->st, &x->artifacts[i], err) < 0)
			goto fail;
	if (store_tx_commit(e->st, err) < 0)
		goto fail;
	engine_state_changed(e, x->row.pipeline, x->row.id, x->row.status);
	return 0;
fail:
	store_tx_rollback(e->st);
	eng_log(e, "execution %s: cannot record its state: %s", x->row.id, err->msg);
	return -1;
}

void eng_exec_event(struct engine *e, struct eng_exec *x, const char *state)
{
	eng_log(e, "pipeline %s: execution %s %s%s%s", x->row.pipeline, x->row.id, state,
	        x->row.status_summary ? ": " : "",
	        x->row.status_summary ? x->row.status_summary : "");
	static const struct {
		const char *state;
		unsigned event;
	} events[] = {
	        {"started", PL_NOTIFY_STARTED},       {"resumed", PL_NOTIFY_RESUMED},
	        {"Succeeded", PL_NOTIFY_SUCCEEDED},   {"Failed", PL_NOTIFY_FAILED},
	        {"Superseded", PL_NOTIFY_SUPERSEDED}, {"Stopped", PL_NOTIFY_STOPPED},
	        {"Cancelled", PL_NOTIFY_CANCELLED},
	};
	const struct pipeline *p = x->decl->p;
	if (!e->notifier || !p->nnotifications)
		return;
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
		if (strcmp(events[i].state, state))
			continue;
		json_t *ev = notify_event_json(
		        x->row.pipeline, x->row.version, x->row.id, events[i].event,
		        !strcmp(state, "Stopped") ? x->row.stop_reason : x->row.status_summary,
		        wall_ms());
		json_t *detail = json_object_get(ev, "detail");
		json_object_set_new(detail, "execution-trigger",
		                    json_pack("{s:s,s:s}", "trigger-type", x->row.trigger_type,
		                              "trigger-detail",
		                              x->row.trigger_detail ? x->row.trigger_detail : ""));
		notify_send(e->notifier, p->notifications, p->nnotifications, events[i].event, ev);
		json_decref(ev);
	}
}

/* The action's latest row that counts in stage attempt `s` (NULL: it has to run). */
static struct store_action *action_row(struct eng_exec *x, const struct store_stage *s,
                                       const char *action)
{
	struct store_action *r = NULL;
	for (size_t i = 0; i < x->nactions; i++)
		if (!strcmp(x->actions[i].stage, s->stage) && !strcmp(x->actions[i].action, action))
			r = &x->actions[i];
	if (!r || r->attempt < s->min_attempt)
		return NULL;
	if (r->attempt < s->attempt && strcmp(r->status, "Succeeded"))
		return NULL; /* failed in an earlier attempt: a retry runs it again */
	return r;
}

static int is_build(const struct pl_action *a)
{
	return a->provider->kind == PL_KIND_CODEBUILD;
}

void eng_retention(struct engine *e, const char *pipeline)
{
	struct store_exec *rows = NULL;
	size_t n = 0;
	struct err err;
	/* newest first: skip the ones kept, and those still running */
	if (store_exec_list(e->st, pipeline, 0, 0, &rows, &n, &err) < 0) {
		eng_log(e, "pipeline %s: retention: %s", pipeline, err.msg);
		return;
	}
	int kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_exec *r = &rows[i];
		if (!strcmp(r->status, "InProgress") || !strcmp(r->status, "Stopping"))
			continue;
		if (kept++ < e->keep_artifacts)
			continue;
		char *dir = eng_path(e, "artifacts/%s/%s", pipeline, r->id);
		if (!fs_exists(dir)) {
			free(dir);
			continue;
		}
		if (store_artifact_delete(e->st, r->id, &err) < 0 || fs_rm_rf(dir, &err) < 0)
			eng_log(e, "pipeline %s: retention: %s", pipeline, err.msg);
		free(dir);
	}
	store_exec_list_free(rows, n);
}

/* Ends the execution with `status`; commits; drops it from the active list. */
static int finish(struct engine *e, struct eng_exec *x, const char *status, const char *summary)
{
	eng_row_set(&x->row.status, status);
	if (summary)
		eng_row_set(&x->row.status_summary, summary);
	x->row.waiting = 0;
	struct err err;
	(void)eng_exec_commit(e, x, &err);
	eng_exec_event(e, x, status);
	char *pipeline = xstrdup(x->row.pipeline);
	eng_exec_drop(e, x);
	eng_retention(e, pipeline);
	free(pipeline);
	return 1;
}

static int64_t next_wait_seq(struct engine *e)
{
	int64_t s = wall_us();
	for (struct eng_exec *y = e->active; y; y = y->next)
		if (y->row.wait_seq >= s)
			s = y->row.wait_seq + 1;
	return s;
}

int eng_exec_become_waiter(struct engine *e, struct eng_exec *x, const char *stage, struct err *err)
{
	eng_row_set(&x->row.stage, stage);
	x->row.waiting = 1;
	x->row.wait_seq = next_wait_seq(e);
	if (x->decl->p->execution_mode == PL_SUPERSEDED) {
		for (struct eng_exec *y = e->active; y;) {
			struct eng_exec *next = y->next;
			if (y != x && !strcmp(y->row.pipeline, x->row.pipeline) && y->row.waiting &&
			    y->row.stage && !strcmp(y->row.stage, stage)) {
				char *why = xasprintf("superseded by %s", x->row.id);
				finish(e, y, "Superseded", why);
				free(why);
			}
			y = next;
		}
	}
	return eng_exec_commit(e, x, err);
}

static int can_enter(struct engine *e, struct eng_exec *x, int si)
{
	const struct pipeline *p = x->decl->p;
	struct eng_pipeline *ep = eng_pipeline_find(e, x->row.pipeline);
	if (!ep)
		return 0;
	const char *stage = p->stages[si].name;
	if (!eng_transition_enabled(ep, stage, "Inbound"))
		return 0;
	if (si > 0 && !eng_transition_enabled(ep, p->stages[si - 1].name, "Outbound"))
		return 0;
	if (p->execution_mode == PL_PARALLEL)
		return 1;
	for (struct eng_exec *y = e->active; y; y = y->next) {
		if (y == x || strcmp(y->row.pipeline, x->row.pipeline) || !y->row.stage ||
		    strcmp(y->row.stage, stage))
			continue;
		if (!y->row.waiting)
			return 0; /* the stage is locked */
		if (y->row.wait_seq < x->row.wait_seq)
			return 0; /* an earlier arrival goes first */
	}
	return 1;
}

static int enter(struct engine *e, struct eng_exec *x, int si)
{
	const char *stage = x->decl->p->stages[si].name;
	struct err err;
	int64_t seq = 0;
	if (store_stage_max_seq(e->st, x->row.pipeline, &seq, &err) < 0) {
		eng_log(e, "execution %s: %s", x->row.id, err.msg);
		return 0;
	}
	struct store_stage *s = eng_exec_stage(x, stage);
	if (!s) {
		x->stages = xgrow(x->stages, x->nstages, sizeof *x->stages);
		s = &x->stages[x->nstages++];
		memset(s, 0, sizeof *s);
		s->execution_id = xstrdup(x->row.id);
		s->pipeline = xstrdup(x->row.pipeline);
		s->stage = xstrdup(stage);
		s->attempt = 0;
	}
	eng_row_set(&s->status, "InProgress");
	s->attempt++;
	s->min_attempt = s->attempt;
	s->entered_seq = seq + 1;
	s->started_ms = wall_ms();
	s->updated_ms = s->started_ms;
	x->row.waiting = 0;
	if (eng_exec_commit(e, x, &err) < 0)
		return 0;
	eng_log(e, "pipeline %s: execution %s entered stage %s", x->row.pipeline, x->row.id, stage);
	return 1;
}

static void stage_end(struct store_stage *s, const char *status)
{
	eng_row_set(&s->status, status);
	s->updated_ms = wall_ms();
}

/* One move of one execution; 1 when something changed (x may be freed then). */
static int step(struct engine *e, struct eng_exec *x)
{
	const struct pipeline *p = x->decl->p;
	int si = x->row.stage ? eng_stage_index(p, x->row.stage) : -1;
	int stopping = !strcmp(x->row.status, "Stopping");
	int cancel = x->row.stop_mode && !strcmp(x->row.stop_mode, "cancel");
	if (si < 0)
		return finish(e, x, "Failed",
		              "the execution's stage is not in its pipeline version");
	if (x->row.waiting) {
		if (stopping)
			return finish(e, x, "Stopped", NULL);
		if (cancel)
			return finish(e, x, "Cancelled", NULL);
		if (e->stopping || !can_enter(e, x, si))
			return 0;
		return enter(e, x, si);
	}
	const struct pl_stage *S = &p->stages[si];
	struct store_stage *s = eng_exec_stage(x, S->name);
	if (!s)
		return finish(e, x, "Failed", "the execution's stage record is missing");
	int running = 0, failed = 0;
	const char *fail_summary = NULL;
	for (size_t i = 0; i < S->nactions; i++) {
		struct store_action *r = action_row(x, s, S->actions[i].name);
		if (!r)
			continue;
		if (!strcmp(r->status, "InProgress"))
			running++;
		else if (!strcmp(r->status, "Failed") || !strcmp(r->status, "Abandoned")) {
			failed++;
			if (!fail_summary)
				fail_summary = r->summary;
		}
	}
	if (stopping || cancel) {
		if (running)
			return 0;
		stage_end(s, stopping ? "Stopped" : "Cancelled");
		return finish(e, x, stopping ? "Stopped" : "Cancelled", NULL);
	}
	if (failed) {
		if (running)
			return 0;
		if (S->on_failure == PL_ONFAIL_RETRY && s->attempt == 1 && !e->stopping) {
			s->attempt++;
			if (S->retry_mode == PL_RETRY_ALL_ACTIONS)
				s->min_attempt = s->attempt;
			struct err err;
			if (eng_exec_commit(e, x, &err) < 0)
				return 0;
			eng_log(e,
			        "pipeline %s: execution %s: stage %s failed, retrying it once "
			        "(onFailure RETRY)",
			        x->row.pipeline, x->row.id, S->name);
			return 1;
		}
		stage_end(s, "Failed");
		char *why = xasprintf("stage %s failed: %s", S->name,
		                      fail_summary ? fail_summary : "an action failed");
		finish(e, x, "Failed", why);
		free(why);
		return 1;
	}
	int group = INT_MAX;
	for (size_t i = 0; i < S->nactions; i++) {
		struct store_action *r = action_row(x, s, S->actions[i].name);
		if ((!r || strcmp(r->status, "Succeeded")) && S->actions[i].run_order < group)
			group = S->actions[i].run_order;
	}
	if (group == INT_MAX) {
		stage_end(s, "Succeeded");
		if ((size_t)si + 1 == p->nstages)
			return finish(e, x, "Succeeded", NULL);
		struct err err;
		(void)eng_exec_become_waiter(e, x, p->stages[si + 1].name, &err);
		return 1;
	}
	if (e->stopping)
		return 0;
	int started = 0;
	for (size_t i = 0; i < S->nactions; i++) {
		const struct pl_action *a = &S->actions[i];
		if (a->run_order != group || action_row(x, s, a->name))
			continue;
		if (is_build(a) && e->running_builds >= e->max_builds)
			continue;
		if (eng_action_start(e, x, a, s->attempt) == 0)
			started = 1;
		else
			return 1; /* recorded as failed */
	}
	return started;
}

void eng_advance(struct engine *e)
{
	if (e->advancing) {
		e->advance_again = 1;
		return;
	}
	e->advancing = 1;
	long guard = 0;
	do {
		e->advance_again = 0;
		for (struct eng_exec *x = e->active; x; x = x->next)
			if (step(e, x)) {
				e->advance_again = 1;
				break; /* x may be gone: look again from the start */
			}
	} while (e->advance_again && ++guard < 1000000);
	e->advancing = 0;
	eng_idle_check(e);
}
