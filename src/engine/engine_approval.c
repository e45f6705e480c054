/*
 * engine_approval.c — Manual approval actions (spec §6, §2.7): the action waits,
 * InProgress with an approval token (a UUID, shown as the action's token in
 * GetPipelineState and as its externalExecutionId), until a person answers with
 * PutApprovalResult (engine_approval()) or its time limit passes (timeoutInMinutes,
 * default 7 days). No child process: a waiting approval costs one timer.
 *
 * Durability: the token is committed with the InProgress row; after a restart a
 * waiting approval keeps waiting (recovery leaves rows with a token and no pid), its
 * timer re-armed from its start time.
 */
#include "engine/engine_int.h"
#include "engine/notify.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/timeutil.h"

#define APPROVAL_DEFAULT_MINUTES (7 * 24 * 60)
#define APPROVAL_SUMMARY_MAX     512

struct eng_wait {
	struct engine *e;
	char *action_id;
	uv_timer_t timer;
	struct eng_wait *next;
};

static void wait_closed(uv_handle_t *h)
{
	struct eng_wait *w = h->data;
	free(w->action_id);
	free(w);
}

static void wait_remove(struct engine *e, struct eng_wait *w)
{
	for (struct eng_wait **at = &e->waits; *at; at = &(*at)->next)
		if (*at == w) {
			*at = w->next;
			break;
		}
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, wait_closed);
}

void eng_approval_cancel(struct engine *e, const char *action_id)
{
	for (struct eng_wait *w = e->waits; w; w = w->next)
		if (!strcmp(w->action_id, action_id)) {
			wait_remove(e, w);
			return;
		}
}

void eng_approvals_close(struct engine *e)
{
	while (e->waits)
		wait_remove(e, e->waits);
}

static struct store_action *find_row(struct engine *e, const char *action_id, struct eng_exec **xo)
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

static int timeout_minutes(const struct pl_action *a)
{
	return a && a->timeout_minutes ? a->timeout_minutes : APPROVAL_DEFAULT_MINUTES;
}

static void on_timeout(uv_timer_t *t)
{
	struct eng_wait *w = t->data;
	struct engine *e = w->e;
	struct eng_exec *x = NULL;
	struct store_action *r = find_row(e, w->action_id, &x);
	if (r && !strcmp(r->status, "InProgress")) {
		const struct pl_action *a = pipeline_action(x->decl->p, r->stage, r->action);
		char *why = xasprintf("the approval was not answered within %d minutes",
		                      timeout_minutes(a));
		eng_row_set(&r->status, "Failed");
		eng_row_set(&r->summary, why);
		eng_row_set(&r->error_code, "TimedOut");
		eng_row_set(&r->error_message, why);
		r->updated_ms = wall_ms();
		struct err err;
		(void)eng_exec_commit(e, x, &err);
		eng_log(e, "pipeline %s: approval %s failed: %s", x->row.pipeline, r->action, why);
		free(why);
	}
	wait_remove(e, w);
	eng_advance(e);
}

static void arm(struct engine *e, const struct store_action *r, const struct pl_action *a)
{
	int64_t deadline = r->started_ms + (int64_t)timeout_minutes(a) * e->approval_minute_ms;
	int64_t left = deadline - wall_ms();
	struct eng_wait *w = xcalloc(1, sizeof *w);
	w->e = e;
	w->action_id = xstrdup(r->id);
	uv_timer_init(&e->loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, on_timeout, left > 0 ? (uint64_t)left : 0, 0);
	w->next = e->waits;
	e->waits = w;
}

int eng_approval_begin(struct engine *e, struct eng_exec *x, const struct pl_action *a,
                       struct store_action *r)
{
	char token[ENGINE_UUID_LEN + 1];
	eng_uuid(token);
	eng_row_set(&r->external_id, token);
	struct err err;
	if (eng_exec_commit(e, x, &err) < 0)
		return -1;
	arm(e, r, a);
	eng_log(e, "pipeline %s: execution %s: approval %s is waiting", x->row.pipeline, x->row.id,
	        a->name);
	const struct pipeline *p = x->decl->p;
	if (e->notifier && p->nnotifications) {
		const char *custom = pipeline_config(a, "CustomData");
		json_t *ev = notify_approval_json(x->row.pipeline, x->row.version, x->row.id,
		                                  r->stage, r->action, custom, wall_ms());
		notify_send(e->notifier, p->notifications, p->nnotifications,
		            PL_NOTIFY_APPROVAL_NEEDED, ev);
		json_decref(ev);
	}
	return 0;
}

int eng_approval_is_waiting(const struct store_action *r)
{
	return !strcmp(r->status, "InProgress") && r->pid == 0 && r->external_id;
}

void eng_approvals_rearm(struct engine *e)
{
	for (struct eng_exec *x = e->active; x; x = x->next)
		for (size_t i = 0; i < x->nactions; i++) {
			const struct store_action *r = &x->actions[i];
			const struct pl_action *a =
			        pipeline_action(x->decl->p, r->stage, r->action);
			if (a && a->provider->kind == PL_KIND_MANUAL && eng_approval_is_waiting(r))
				arm(e, r, a);
		}
}

int engine_approval(struct engine *e, const char *pipeline, const char *stage, const char *action,
                    const char *token, const char *status, const char *summary, json_t **out,
                    struct engine_err *err)
{
	*out = NULL;
	struct eng_pipeline *ep = eng_pipeline_find(e, pipeline);
	if (!ep)
		return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
		                "pipeline %s: no such pipeline", pipeline);
	if (!pipeline_stage(ep->decl->p, stage))
		return eng_fail(err, ENGINE_ENOTFOUND, "StageNotFoundException",
		                "pipeline %s: no stage %s", pipeline, stage);
	const struct pl_action *a = pipeline_action(ep->decl->p, stage, action);
	if (!a || a->provider->kind != PL_KIND_MANUAL)
		return eng_fail(err, ENGINE_ENOTFOUND, "ActionNotFoundException",
		                "pipeline %s: stage %s has no Manual approval action %s", pipeline,
		                stage, action);
	int approve = status && !strcmp(status, "Approved");
	if (!status || (!approve && strcmp(status, "Rejected")))
		return eng_fail(err, ENGINE_EINVALID, "ValidationException",
		                "result.status: expected Approved or Rejected, got \"%s\"",
		                status ? status : "");
	if (!summary || !*summary || strlen(summary) > APPROVAL_SUMMARY_MAX)
		return eng_fail(err, ENGINE_EINVALID, "ValidationException",
		                "result.summary: 1 to %d characters are required (the reviewer's "
		                "comment)",
		                APPROVAL_SUMMARY_MAX);
	if (!token || !*token)
		return eng_fail(err, ENGINE_EINVALID, "ValidationException",
		                "token: required (GetPipelineState shows it while the approval "
		                "waits)");
	struct eng_exec *x = NULL;
	struct store_action *r = NULL, *done = NULL;
	for (struct eng_exec *y = e->active; y && !r; y = y->next) {
		if (strcmp(y->row.pipeline, pipeline))
			continue;
		for (size_t i = 0; i < y->nactions; i++) {
			struct store_action *c = &y->actions[i];
			if (strcmp(c->stage, stage) || strcmp(c->action, action) ||
			    !c->external_id || strcmp(c->external_id, token))
				continue;
			if (eng_approval_is_waiting(c)) {
				r = c;
				x = y;
				break;
			}
			done = c;
		}
	}
	char *done_status = done ? xstrdup(done->status) : NULL;
	if (!r && !done) {
		/* answered in an execution that has ended since: it is in the store only */
		struct store_action *rows = NULL;
		size_t n = 0;
		if (store_action_list(e->st, pipeline, NULL, 1000, &rows, &n, &err->err) < 0)
			return eng_store_rc(-1, err);
		for (size_t i = 0; i < n && !done_status; i++)
			if (rows[i].external_id && !strcmp(rows[i].external_id, token) &&
			    !strcmp(rows[i].stage, stage) && !strcmp(rows[i].action, action))
				done_status = xstrdup(rows[i].status);
		store_action_list_free(rows, n);
	}
	if (!r && done_status) {
		int rc = eng_fail(err, ENGINE_ECONFLICT, "ApprovalAlreadyCompletedException",
		                  "approval %s of %s/%s was already answered (%s)", token, stage,
		                  action, done_status);
		free(done_status);
		return rc;
	}
	free(done_status);
	if (!r)
		return eng_fail(err, ENGINE_EINVALID, "InvalidApprovalTokenException",
		                "approval token %s does not name a waiting approval of %s/%s in "
		                "pipeline %s",
		                token, stage, action, pipeline);
	int64_t now = wall_ms();
	eng_row_set(&r->status, approve ? "Succeeded" : "Failed");
	eng_row_set(&r->summary, summary);
	eng_row_set(&r->error_code, approve ? NULL : "Rejected");
	eng_row_set(&r->error_message, approve ? NULL : summary);
	r->updated_ms = now;
	if (eng_exec_commit(e, x, &err->err) < 0)
		return eng_store_rc(-1, err);
	eng_approval_cancel(e, r->id);
	eng_log(e, "pipeline %s: approval %s %s: %s", pipeline, action,
	        approve ? "approved" : "rejected", summary);
	*out = json_pack("{s:f}", "approvedAt", (double)now / 1000.0);
	eng_advance(e);
	return 0;
}
