/*
 * engine_trigger.c — pushes (webhooks, the post-receive hook, polling) evaluated
 * against the pipelines' sources, triggers and filters (spec §1.7); every outcome
 * recorded as a trigger event; polling of remote repositories.
 *
 * Polling costs nothing while no pipeline has a polled URL source: the timer runs
 * only while one exists (eng_poll_update() after every change of pipelines).
 */
#include "engine/engine_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/git.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define PUSH_PATHS_MAX 10000

int eng_start(struct engine *e, const struct engine_start *req, const char *source_action,
              char **execution_id, struct engine_err *err);

static int is_zero_oid(const char *s)
{
	if (!s || !*s)
		return 1;
	for (; *s; s++)
		if (*s != '0')
			return 0;
	return 1;
}

static char *local_path_of(struct engine *e, const struct pl_git_source *g)
{
	if (g->location_kind == PL_REPO_PATH)
		return xstrdup(g->location);
	if (g->location_kind == PL_REPO_URL) {
		if (!strncmp(g->location, "file://", 7))
			return xstrdup(g->location + 7);
		return NULL;
	}
	char *p = fs_join(e->repos_dir, g->location);
	if (!fs_exists(p)) {
		char *git = xasprintf("%s.git", p);
		free(p);
		p = git;
	}
	return p;
}

static int same_path(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	int same = ra && rb && !strcmp(ra, rb);
	free(ra);
	free(rb);
	return same;
}

static int ends_with_repo(const char *location, const char *full)
{
	size_t n = strlen(location), m = strlen(full);
	const char *s = location;
	if (n > 4 && !strcmp(location + n - 4, ".git"))
		n -= 4;
	if (n < m || strncmp(s + n - m, full, m))
		return 0;
	return n == m || s[n - m - 1] == '/' || s[n - m - 1] == ':';
}

/* Whether a push to `repo` concerns source `a`. */
static int repo_matches(struct engine *e, const struct pl_action *a, const struct engine_push *push)
{
	if (!push->repo)
		return 1;
	const struct pl_git_source *g = &a->git;
	if (push->repo[0] == '/') {
		char *local = local_path_of(e, g);
		int same = local && same_path(local, push->repo);
		free(local);
		return same;
	}
	if (g->repository && !strcmp(g->repository, push->repo))
		return 1;
	const char *slash = strrchr(push->repo, '/');
	if (g->repository && slash && !strcmp(g->repository, slash + 1))
		return 1;
	return g->location && ends_with_repo(g->location, push->repo);
}

static json_t *event_json(const char *pipeline, const char *outcome, const char *reason,
                          const char *exec_id)
{
	json_t *o = json_pack("{s:s,s:s}", "pipeline", pipeline, "outcome", outcome);
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	if (exec_id)
		json_object_set_new(o, "pipelineExecutionId", json_string(exec_id));
	return o;
}

/* Records an event; 1 when its delivery id was seen before (nothing recorded), else 0
 * with *id set (0 when the store failed, which is logged). */
static int record(struct engine *e, const char *pipeline, const struct engine_push *push,
                  const char *delivery, const char *outcome, const char *reason,
                  const char *exec_id, int64_t *id)
{
	struct store_trigger_event ev = {.pipeline = (char *)pipeline,
	                                 .source = (char *)push->source,
	                                 .delivery_id = (char *)delivery,
	                                 .ref = (char *)push->ref,
	                                 .before = (char *)push->before,
	                                 .after = (char *)push->after,
	                                 .outcome = (char *)outcome,
	                                 .reason = (char *)reason,
	                                 .execution_id = (char *)exec_id,
	                                 .received_ms = wall_ms()};
	struct err err;
	int rc = store_trigger_insert(e->st, &ev, &err);
	if (id)
		*id = rc == 0 ? ev.id : 0;
	if (rc < 0)
		eng_log(e, "pipeline %s: cannot record a trigger event: %s", pipeline, err.msg);
	return rc == STORE_CONFLICT;
}

static void outcome(struct engine *e, const char *pipeline, const struct engine_push *push,
                    const char *what, const char *reason, json_t *events)
{
	(void)record(e, pipeline, push, NULL, what, reason, NULL, NULL);
	json_array_append_new(events, event_json(pipeline, what, reason, NULL));
}

/* Evaluates the push against one pipeline; appends its outcome to `events`. */
static void push_one(struct engine *e, struct eng_pipeline *ep, const struct engine_push *push,
                     json_t *events)
{
	const struct pipeline *p = ep->decl->p;
	char *why = NULL;
	const struct pl_action *matched = NULL;
	int concerned = 0;
	for (size_t s = 0; s < p->nstages && !matched; s++)
		for (size_t i = 0; i < p->stages[s].nactions && !matched; i++) {
			const struct pl_action *a = &p->stages[s].actions[i];
			if (a->cat != PL_CAT_SOURCE || !repo_matches(e, a, push))
				continue;
			concerned = 1;
			struct strv local_paths = {0};
			const struct strv *paths = push->paths;
			int have_paths = push->paths != NULL;
			if (!paths && !is_zero_oid(push->before) &&
			    pipeline_source_push_needs_paths(p, a)) {
				char *local = local_path_of(e, &a->git);
				struct err err;
				if (local &&
				    git_changed_paths(local, push->before, push->after,
				                      PUSH_PATHS_MAX, &local_paths, &err) == 0)
					have_paths = 1;
				free(local);
			}
			struct pipeline_push pp = {
			        .ref = push->ref,
			        .paths = have_paths ? (paths ? paths : &local_paths) : NULL};
			free(why);
			why = NULL;
			if (pipeline_source_push_matches(p, a, &pp, &why))
				matched = a;
			strv_free(&local_paths);
		}
	if (!concerned) {
		if (push->pipeline) {
			char *r = xasprintf("no source action of pipeline %s reads repository %s",
			                    ep->name, push->repo ? push->repo : "?");
			outcome(e, ep->name, push, "ignored", r, events);
			free(r);
		}
		free(why);
		return;
	}
	if (!matched) {
		/* the delivery id is kept, so that a replay is still known as one */
		if (record(e, ep->name, push, push->delivery, "filtered", why, NULL, NULL))
			outcome(e, ep->name, push, "duplicate", "this delivery was received before",
			        events);
		else
			json_array_append_new(events, event_json(ep->name, "filtered", why, NULL));
		free(why);
		return;
	}
	free(why);
	char *detail = xasprintf("git:%s@%s", push->ref, push->after);
	const char *type = !strcmp(push->source, "poll") ? "PollForSourceChanges"
	                   : p->ntriggers                ? "WebhookV2"
	                                                 : "Webhook";
	struct engine_start req = {.pipeline = ep->name,
	                           .commit = push->after,
	                           .trigger_type = type,
	                           .trigger_detail = detail};
	/* the delivery is claimed before anything starts: a replay finds it taken */
	int64_t ev_id = 0;
	if (record(e, ep->name, push, push->delivery, "started", NULL, NULL, &ev_id)) {
		char *r = xasprintf("delivery %s was received before", push->delivery);
		outcome(e, ep->name, push, "duplicate", r, events);
		free(r);
		free(detail);
		return;
	}
	char *id = NULL;
	struct engine_err err = {0};
	const char *what = "started";
	char *reason = NULL;
	if (eng_start(e, &req, matched->name, &id, &err) < 0) {
		what = "rejected";
		reason = xstrdup(err.err.msg);
	} else {
		reason = xasprintf("%s %s matched source %s", push->source, push->ref,
		                   matched->name);
	}
	struct err serr;
	if (ev_id && store_trigger_update(e->st, ev_id, what, reason, id, &serr) < 0)
		eng_log(e, "pipeline %s: cannot record a trigger event: %s", ep->name, serr.msg);
	json_array_append_new(events, event_json(ep->name, what, reason, id));
	free(reason);
	free(id);
	free(detail);
}

int engine_push(struct engine *e, const struct engine_push *push, json_t **out,
                struct engine_err *err)
{
	*out = NULL;
	if (!push->ref || !push->after || !push->source)
		return eng_fail(err, ENGINE_EINVALID, "ValidationException",
		                "a push needs a ref, a new commit id and a source");
	json_t *events = json_array();
	if (push->pipeline) {
		struct eng_pipeline *ep = eng_pipeline_find(e, push->pipeline);
		if (!ep) {
			json_decref(events);
			return eng_fail(err, ENGINE_ENOTFOUND, "PipelineNotFoundException",
			                "pipeline %s: no such pipeline", push->pipeline);
		}
		if (is_zero_oid(push->after))
			outcome(e, ep->name, push, "ignored", "the push deleted the ref", events);
		else
			push_one(e, ep, push, events);
	} else if (!is_zero_oid(push->after)) {
		for (struct eng_pipeline *ep = e->pipelines; ep; ep = ep->next)
			push_one(e, ep, push, events);
	}
	*out = json_pack("{s:o}", "events", events);
	return 0;
}

/* ---- polling ---- */

struct poll_job {
	struct engine *e;
	char *pipeline, *action, *branch;
	uv_process_t proc;
	uv_pipe_t out;
	struct buf text;
	int open;
	int exited, eof, sig;
	int64_t status;
};

static void poll_done(struct poll_job *j);

static void poll_closed(uv_handle_t *h)
{
	struct poll_job *j = h->data;
	if (--j->open > 0)
		return;
	buf_free(&j->text);
	free(j->pipeline);
	free(j->action);
	free(j->branch);
	free(j);
}

static void poll_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	(void)suggested;
	static char chunk[4096];
	b->base = chunk;
	b->len = sizeof chunk;
}

static void poll_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct poll_job *j = s->data;
	if (n > 0 && j->text.len < 4096) {
		if (buf_append(&j->text, b->base, (size_t)n) < 0)
			j->text.len = 0; /* over the cap: not a ls-remote answer */
	} else if (n < 0) {
		uv_read_stop(s);
		j->eof = 1;
		poll_done(j);
	}
}

static void poll_exit(uv_process_t *p, int64_t status, int sig)
{
	struct poll_job *j = p->data;
	j->exited = 1;
	j->status = status;
	j->sig = sig;
	poll_done(j);
}

static void poll_done(struct poll_job *j)
{
	if (!j->exited || !j->eof)
		return;
	struct engine *e = j->e;
	int64_t status = j->status;
	int sig = j->sig;
	char sha[GIT_OID_HEX_MAX + 1] = "";
	if (status == 0 && !sig && j->text.len) {
		size_t k = 0;
		while (k < j->text.len && k < GIT_OID_HEX_MAX &&
		       strchr("0123456789abcdef", j->text.data[k]))
			k++;
		memcpy(sha, j->text.data, k);
		sha[k] = 0;
	}
	if (*sha && eng_pipeline_find(e, j->pipeline) && !e->stopping) {
		char *last = NULL;
		struct err err;
		int rc = store_poll_get(e->st, j->pipeline, j->action, &last, &err);
		if (rc != STORE_NOT_FOUND && rc != 0)
			eng_log(e, "poll %s: %s", j->pipeline, err.msg);
		if ((rc == STORE_NOT_FOUND || (rc == 0 && strcmp(last, sha))) &&
		    store_poll_set(e->st, j->pipeline, j->action, sha, &err) == 0 && rc == 0) {
			char *ref = xasprintf("refs/heads/%s", j->branch);
			struct engine_push push = {.source = "poll",
			                           .pipeline = j->pipeline,
			                           .ref = ref,
			                           .before = last,
			                           .after = sha};
			json_t *ev = NULL;
			struct engine_err perr = {0};
			if (engine_push(e, &push, &ev, &perr) < 0)
				eng_log(e, "poll %s: %s", j->pipeline, perr.err.msg);
			json_decref(ev);
			free(ref);
		}
		free(last);
	} else if (!*sha) {
		eng_log(e, "poll %s: git ls-remote of source %s found nothing (exit %lld)",
		        j->pipeline, j->action, (long long)status);
	}
	uv_close((uv_handle_t *)&j->proc, poll_closed);
	uv_close((uv_handle_t *)&j->out, poll_closed);
}

static void poll_source(struct engine *e, const char *pipeline, const struct pl_action *a)
{
	struct poll_job *j = xcalloc(1, sizeof *j);
	j->e = e;
	j->pipeline = xstrdup(pipeline);
	j->action = xstrdup(a->name);
	j->branch = xstrdup(a->git.branch);
	buf_init(&j->text, 1 << 16);
	uv_pipe_init(&e->loop, &j->out, 0);
	j->out.data = j->proc.data = j;
	char *ref = xasprintf("refs/heads/%s", a->git.branch);
	char *args[] = {"git", "ls-remote", "--", (char *)a->git.location, ref, NULL};
	uv_stdio_container_t stdio[3] = {
	        {.flags = UV_IGNORE},
	        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&j->out},
	        {.flags = UV_IGNORE}};
	uv_process_options_t o = {.file = "git",
	                          .args = args,
	                          .exit_cb = poll_exit,
	                          .stdio_count = 3,
	                          .stdio = stdio};
	int rc = uv_spawn(&e->loop, &j->proc, &o);
	free(ref);
	if (rc != 0) {
		eng_log(e, "poll %s: cannot run git: %s", pipeline, uv_strerror(rc));
		j->open = 1;
		uv_close((uv_handle_t *)&j->out, poll_closed);
		return;
	}
	j->open = 2;
	uv_read_start((uv_stream_t *)&j->out, poll_alloc, poll_read);
}

static int polled(const struct pl_action *a)
{
	return a->cat == PL_CAT_SOURCE && a->git.location_kind == PL_REPO_URL && a->git.poll &&
	       a->git.location;
}

static void on_poll(uv_timer_t *t)
{
	struct engine *e = t->data;
	for (struct eng_pipeline *ep = e->pipelines; ep; ep = ep->next) {
		const struct pipeline *p = ep->decl->p;
		for (size_t s = 0; s < p->nstages; s++)
			for (size_t i = 0; i < p->stages[s].nactions; i++)
				if (polled(&p->stages[s].actions[i]))
					poll_source(e, ep->name, &p->stages[s].actions[i]);
	}
}

void eng_poll_update(struct engine *e)
{
	if (e->closed || e->stopping)
		return;
	int any = 0;
	for (struct eng_pipeline *ep = e->pipelines; ep && !any; ep = ep->next) {
		const struct pipeline *p = ep->decl->p;
		for (size_t s = 0; s < p->nstages && !any; s++)
			for (size_t i = 0; i < p->stages[s].nactions && !any; i++)
				any = polled(&p->stages[s].actions[i]);
	}
	if (any && !e->poll_timer_on) {
		uv_timer_start(&e->poll_timer, on_poll, 0, (uint64_t)e->poll_interval_ms);
		e->poll_timer_on = 1;
	} else if (!any && e->poll_timer_on) {
		uv_timer_stop(&e->poll_timer);
		e->poll_timer_on = 0;
	}
}

void eng_poll_close(struct engine *e)
{
	uv_timer_stop(&e->poll_timer);
	e->poll_timer_on = 0;
	if (!uv_is_closing((uv_handle_t *)&e->poll_timer))
		uv_close((uv_handle_t *)&e->poll_timer, NULL);
}
