/*
 * pipeline_trigger.c — V2 triggers with git filters (spec §1.7): reading and checking
 * them, and deciding whether a push or a pull request starts the pipeline.
 *
 * Evaluation: filters of a list are OR-ed; inside one filter the criteria present are
 * AND-ed; inside a criterion, any matching exclude rejects, else any matching include
 * (or no includes) accepts. A branch criterion never matches a tag push and a tag
 * criterion never matches a branch push. filePaths is met when at least one changed
 * path is accepted. Globs are gitglob.h's, compiled when the pipeline is read so that a
 * bad pattern is an error at put time, not a silent non-match later.
 */
#include "spec/pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/gitglob.h"

#define FILTERS_MAX  3    /* push / pullRequest filters of one trigger */
#define PATTERNS_MAX 8    /* includes / excludes of one criterion */
#define WHY_MAX      4096 /* bytes of a "why not" line */

static const char *const trigger_keys[] = {"providerType", "gitConfiguration", NULL};
static const char *const provider_types[] = {"CodeStarSourceConnection", NULL};
static const char *const git_keys[] = {"sourceActionName", "push", "pullRequest", NULL};
static const char *const push_keys[] = {"tags", "branches", "filePaths", NULL};
static const char *const pr_keys[] = {"events", "branches", "filePaths", NULL};
static const char *const criteria_keys[] = {"includes", "excludes", NULL};
static const char *const pr_events[] = {"OPEN", "UPDATED", "CLOSED", NULL};

/* --- reading ----------------------------------------------------------------------- */

static int parse_globs(struct plctx *c, const struct ynode *n, const char *path, struct strv *out)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	if (pl_want_list(c, n, path, 1, PATTERNS_MAX) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		char *pat = NULL;
		struct gitglob *g;
		struct err gerr;
		pl_path(sub, "%s[%zu]", path, i);
		if (pl_string(c, n->items[i], sub, 1, GITGLOB_PATTERN_MAX, NULL, &pat) < 0)
			return -1;
		if (gitglob_compile(pat, &g, &gerr) < 0) {
			pl_fail(c, n->items[i], "%s: \"%s\" is not a valid glob: %s", sub,
			        pl_show(pat, shown), gerr.msg);
			free(pat);
			return -1;
		}
		gitglob_free(g);
		strv_push_owned(out, pat);
	}
	return 0;
}

static int parse_criteria(struct plctx *c, const struct ynode *filter, const char *key,
                          const char *path, struct pl_patterns *out)
{
	char sub[PL_PATH_MAX], list[PL_PATH_MAX];
	const struct ynode *n = pl_get(filter, key), *v;
	if (!n)
		return 0;
	pl_path(sub, "%s.%s", path, key);
	if (pl_want_map(c, n, sub) < 0 || pl_check_keys(c, n, sub, criteria_keys) < 0)
		return -1;
	out->present = 1;
	if ((v = pl_get(n, "includes"))) {
		pl_path(list, "%s.includes", sub);
		if (parse_globs(c, v, list, &out->includes) < 0)
			return -1;
	}
	if ((v = pl_get(n, "excludes"))) {
		pl_path(list, "%s.excludes", sub);
		if (parse_globs(c, v, list, &out->excludes) < 0)
			return -1;
	}
	if (!out->includes.n && !out->excludes.n)
		return pl_fail(c, n, "%s: needs includes, excludes or both", sub);
	return 0;
}

static int parse_push(struct plctx *c, const struct ynode *n, const char *path,
                      struct pl_push_filter *f)
{
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, push_keys) < 0)
		return -1;
	if (parse_criteria(c, n, "tags", path, &f->tags) < 0 ||
	    parse_criteria(c, n, "branches", path, &f->branches) < 0 ||
	    parse_criteria(c, n, "filePaths", path, &f->file_paths) < 0)
		return -1;
	/* Valid: tags alone, branches alone, branches + filePaths (§1.7). */
	if (f->tags.present && (f->branches.present || f->file_paths.present))
		return pl_fail(c, n,
		               "%s: a push filter on tags cannot also filter on %s (a push is of "
		               "a tag or of a branch)",
		               path, f->branches.present ? "branches" : "filePaths");
	if (f->file_paths.present && !f->branches.present)
		return pl_fail(c, n, "%s: filePaths needs branches beside it", path);
	if (!f->tags.present && !f->branches.present)
		return pl_fail(c, n, "%s: a push filter needs tags or branches", path);
	return 0;
}

static int parse_pr(struct plctx *c, const struct ynode *n, const char *path,
                    struct pl_pr_filter *f)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	const struct ynode *ev;
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, pr_keys) < 0)
		return -1;
	if ((ev = pl_get(n, "events"))) {
		pl_path(sub, "%s.events", path);
		if (pl_want_list(c, ev, sub, 1, 3) < 0)
			return -1;
		for (size_t i = 0; i < ev->n; i++) {
			int idx;
			pl_path(sub, "%s.events[%zu]", path, i);
			if (pl_enum(c, ev->items[i], sub, pr_events, &idx) < 0)
				return -1;
			if (f->events & (1u << idx))
				return pl_fail(c, ev->items[i], "%s: \"%s\" is listed twice", sub,
				               pl_show(pr_events[idx], shown));
			f->events |= 1u << idx;
			strv_push(&f->events_text, pr_events[idx]);
		}
	} else {
		f->events = PL_PR_OPEN | PL_PR_UPDATED | PL_PR_CLOSED;
	}
	if (parse_criteria(c, n, "branches", path, &f->branches) < 0 ||
	    parse_criteria(c, n, "filePaths", path, &f->file_paths) < 0)
		return -1;
	if (!f->branches.present)
		return pl_fail(c, n, "%s: a pull request filter needs branches", path);
	return 0;
}

static int parse_git(struct plctx *c, const struct ynode *n, const char *path, struct pl_trigger *t)
{
	char sub[PL_PATH_MAX];
	const struct ynode *v;
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, git_keys) < 0)
		return -1;
	if (!(v = pl_get(n, "sourceActionName")))
		return pl_missing(c, n, path, "sourceActionName", "the source action it starts");
	pl_path(sub, "%s.sourceActionName", path);
	if (pl_string(c, v, sub, 1, 100, PL_NAME_CHARS, &t->source_action_name) < 0)
		return -1;
	if ((v = pl_get(n, "push"))) {
		pl_path(sub, "%s.push", path);
		if (pl_want_list(c, v, sub, 1, FILTERS_MAX) < 0)
			return -1;
		t->push = xcalloc(v->n, sizeof *t->push);
		for (size_t i = 0; i < v->n; i++) {
			t->npush++;
			pl_path(sub, "%s.push[%zu]", path, i);
			if (parse_push(c, v->items[i], sub, &t->push[i]) < 0)
				return -1;
		}
	}
	if ((v = pl_get(n, "pullRequest"))) {
		pl_path(sub, "%s.pullRequest", path);
		if (pl_want_list(c, v, sub, 1, FILTERS_MAX) < 0)
			return -1;
		t->pull_request = xcalloc(v->n, sizeof *t->pull_request);
		for (size_t i = 0; i < v->n; i++) {
			t->npull_request++;
			pl_path(sub, "%s.pullRequest[%zu]", path, i);
			if (parse_pr(c, v->items[i], sub, &t->pull_request[i]) < 0)
				return -1;
		}
	}
	return 0;
}

static int parse_trigger(struct plctx *c, const struct ynode *n, size_t i, struct pl_trigger *t)
{
	char path[PL_PATH_MAX], sub[PL_PATH_MAX];
	const struct ynode *v;
	int idx;
	pl_path(path, "triggers[%zu]", i);
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, trigger_keys) < 0)
		return -1;
	if (!(v = pl_get(n, "providerType")))
		return pl_missing(c, n, path, "providerType", "CodeStarSourceConnection");
	pl_path(sub, "%s.providerType", path);
	if (pl_enum(c, v, sub, provider_types, &idx) < 0)
		return -1;
	t->provider_type = xstrdup(provider_types[idx]);
	if (!(v = pl_get(n, "gitConfiguration")))
		return pl_missing(c, n, path, "gitConfiguration",
		                  "the source action and its push or pullRequest filters");
	pl_path(sub, "%s.gitConfiguration", path);
	return parse_git(c, v, sub, t);
}

int pl_parse_triggers(struct plctx *c, const struct ynode *n)
{
	struct pipeline *p = c->p;
	if (pl_want_list(c, n, "triggers", 0, PIPELINE_TRIGGERS_MAX) < 0)
		return -1;
	p->triggers = xcalloc(n->n + 1, sizeof *p->triggers);
	for (size_t i = 0; i < n->n; i++) {
		p->ntriggers++;
		if (parse_trigger(c, n->items[i], i, &p->triggers[i]) < 0)
			return -1;
	}
	return 0;
}

/* Each trigger names a CodeStarSourceConnection action of the first stage, and no
 * action has two triggers. */
int pl_link_triggers(struct plctx *c)
{
	char path[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	struct pipeline *p = c->p;
	const struct ynode *list = ytree_get(c->decl, "triggers");
	for (size_t i = 0; i < p->ntriggers; i++) {
		struct pl_trigger *t = &p->triggers[i];
		const struct ynode *git = pl_get(list->items[i], "gitConfiguration");
		const struct ynode *at = pl_get(git, "sourceActionName");
		pl_path(path, "triggers[%zu].gitConfiguration.sourceActionName", i);
		pl_show(t->source_action_name, shown);
		t->source = pipeline_action(p, p->stages[0].name, t->source_action_name);
		if (!t->source)
			return pl_fail(c, at, "%s: the first stage has no action \"%s\"", path,
			               shown);
		if (t->source->provider->kind != PL_KIND_CONNECTION)
			return pl_fail(c, at,
			               "%s: triggers apply only to CodeStarSourceConnection source "
			               "actions; \"%s\" is %s",
			               path, shown, t->source->provider->name);
		for (size_t k = 0; k < i; k++)
			if (p->triggers[k].source == t->source)
				return pl_fail(
				        c, at,
				        "%s: \"%s\" already has a trigger (triggers[%zu]); put "
				        "its filters in one trigger",
				        path, shown, k);
	}
	return 0;
}

static void patterns_free(struct pl_patterns *pt)
{
	strv_free(&pt->includes);
	strv_free(&pt->excludes);
}

void pl_triggers_free(struct pl_trigger *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].provider_type);
		free(t[i].source_action_name);
		for (size_t k = 0; k < t[i].npush; k++) {
			patterns_free(&t[i].push[k].tags);
			patterns_free(&t[i].push[k].branches);
			patterns_free(&t[i].push[k].file_paths);
		}
		free(t[i].push);
		for (size_t k = 0; k < t[i].npull_request; k++) {
			strv_free(&t[i].pull_request[k].events_text);
			patterns_free(&t[i].pull_request[k].branches);
			patterns_free(&t[i].pull_request[k].file_paths);
		}
		free(t[i].pull_request);
	}
	free(t);
}

/* --- matching ---------------------------------------------------------------------- */

static void put(struct buf *b, const char *s)
{
	if (buf_puts(b, s) < 0)
		return; /* a reason cut at WHY_MAX is still a reason */
}

FERRY_PRINTF(2, 3)
static void putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (buf_vprintf(b, fmt, ap) < 0) {
		/* cut, as above */
	}
	va_end(ap);
}

/* ["main", "dev"] */
static void put_list(struct buf *b, const struct strv *pats)
{
	char shown[PL_SHOW_MAX + 8];
	put(b, "[");
	for (size_t i = 0; i < pats->n; i++)
		putf(b, "%s\"%s\"", i ? ", " : "", pl_show(pats->v[i], shown));
	put(b, "]");
}

static int any_match(const struct strv *pats, const char *s)
{
	for (size_t i = 0; i < pats->n; i++)
		if (gitglob_match(pats->v[i], s))
			return 1;
	return 0;
}

/* A branch or tag criterion; on a miss, the reason goes into `why`. */
static int name_criterion(const struct pl_patterns *pt, const char *what, const char *field,
                          const char *name, struct buf *why)
{
	char shown[PL_SHOW_MAX + 8];
	if (any_match(&pt->excludes, name)) {
		putf(why, "%s \"%s\" is excluded by %s.excludes ", what, pl_show(name, shown),
		     field);
		put_list(why, &pt->excludes);
		return 0;
	}
	if (pt->includes.n && !any_match(&pt->includes, name)) {
		putf(why, "%s \"%s\" is not included by %s.includes ", what, pl_show(name, shown),
		     field);
		put_list(why, &pt->includes);
		return 0;
	}
	return 1;
}

static int paths_criterion(const struct pl_patterns *pt, const struct strv *paths, struct buf *why)
{
	size_t included = 0;
	if (!paths)
		return 1; /* unknown: do not miss a change (pipeline.h) */
	for (size_t i = 0; i < paths->n; i++) {
		if (pt->includes.n && !any_match(&pt->includes, paths->v[i]))
			continue;
		included++;
		if (!any_match(&pt->excludes, paths->v[i]))
			return 1;
	}
	if (paths->n == 0) {
		put(why, "the push changed no files, and filePaths needs one");
	} else if (included == 0) {
		putf(why, "none of the %zu changed files is included by filePaths.includes ",
		     paths->n);
		put_list(why, &pt->includes);
	} else {
		putf(why, "every changed file%s is excluded by filePaths.excludes ",
		     pt->includes.n ? " that filePaths.includes takes" : "");
		put_list(why, &pt->excludes);
	}
	return 0;
}

static const char *ref_name(const char *ref, int *is_tag)
{
	if (strncmp(ref, "refs/heads/", 11) == 0) {
		*is_tag = 0;
		return ref + 11;
	}
	if (strncmp(ref, "refs/tags/", 10) == 0) {
		*is_tag = 1;
		return ref + 10;
	}
	return NULL;
}

static int push_filter(const struct pl_push_filter *f, const struct pipeline_push *push,
                       struct buf *why)
{
	int is_tag;
	const char *name = ref_name(push->ref, &is_tag);
	if (is_tag) {
		if (!f->tags.present) {
			put(why, "a tag push does not match a filter on branches");
			return 0;
		}
		return name_criterion(&f->tags, "tag", "tags", name, why);
	}
	if (!f->branches.present) {
		put(why, "a branch push does not match a filter on tags");
		return 0;
	}
	if (!name_criterion(&f->branches, "branch", "branches", name, why))
		return 0;
	return !f->file_paths.present || paths_criterion(&f->file_paths, push->paths, why);
}

/* The rule without a trigger: a push to the source's BranchName. */
static int default_rule(const struct pl_action *src, const struct pipeline_push *push,
                        struct buf *why)
{
	char shown[PL_SHOW_MAX + 8], sname[PL_SHOW_MAX + 8];
	int is_tag;
	const char *name = ref_name(push->ref, &is_tag);
	pl_show(src->name, sname);
	if (!src->git.detect_changes) {
		putf(why, "change detection is off for source action \"%s\" (DetectChanges false)",
		     sname);
		return 0;
	}
	if (is_tag) {
		putf(why,
		     "a tag push starts a pipeline only through a trigger with a tags filter "
		     "(source action \"%s\" follows branch \"%s\")",
		     sname, pl_show(src->git.branch, shown));
		return 0;
	}
	if (strcmp(name, src->git.branch) != 0) {
		putf(why, "branch \"%s\" is not ", pl_show(name, shown));
		putf(why, "the branch \"%s\" of source action \"%s\"",
		     pl_show(src->git.branch, shown), sname);
		return 0;
	}
	return 1;
}

static int finish(struct buf *why_buf, int matched, char **why)
{
	if (why)
		*why = matched ? NULL : buf_detach(why_buf);
	buf_free(why_buf);
	return matched;
}

/* Runs `one` over n filters, OR-ed, numbering the reasons when there are several. */
#define OR_FILTERS(list, n, label, one, event, why)                                                \
	do {                                                                                       \
		struct buf b_;                                                                     \
		buf_init(&b_, WHY_MAX);                                                            \
		for (size_t i_ = 0; i_ < (n); i_++) {                                              \
			if ((n) > 1)                                                               \
				putf(&b_, "%s%s[%zu]: ", i_ ? "; " : "", label, i_);               \
			if (one(&(list)[i_], event, &b_))                                          \
				return finish(&b_, 1, why);                                        \
		}                                                                                  \
		return finish(&b_, 0, why);                                                        \
	} while (0)

int pipeline_push_matches(const struct pl_trigger *t, const struct pipeline_push *push, char **why)
{
	char shown[PL_SHOW_MAX + 8];
	int is_tag;
	struct buf b;
	buf_init(&b, WHY_MAX);
	if (!ref_name(push->ref, &is_tag)) {
		putf(&b, "ref \"%s\" is neither a branch nor a tag", pl_show(push->ref, shown));
		return finish(&b, 0, why);
	}
	if (t->npush == 0 && t->npull_request == 0)
		return finish(&b, default_rule(t->source, push, &b), why);
	if (t->npush == 0) {
		putf(&b, "the trigger of source action \"%s\" starts only on pull requests",
		     pl_show(t->source_action_name, shown));
		return finish(&b, 0, why);
	}
	buf_free(&b);
	OR_FILTERS(t->push, t->npush, "push", push_filter, push, why);
}

static int pr_filter(const struct pl_pr_filter *f, const struct pipeline_pr *pr, struct buf *why)
{
	char shown[PL_SHOW_MAX + 8];
	unsigned bit = 0;
	for (int i = 0; pr_events[i]; i++)
		if (strcmp(pr->event, pr_events[i]) == 0)
			bit = 1u << i;
	if (!(f->events & bit)) {
		putf(why, "pull request event \"%s\" is not in events", pl_show(pr->event, shown));
		return 0;
	}
	if (!name_criterion(&f->branches, "target branch", "branches", pr->target_branch, why))
		return 0;
	return !f->file_paths.present || paths_criterion(&f->file_paths, pr->paths, why);
}

int pipeline_pr_matches(const struct pl_trigger *t, const struct pipeline_pr *pr, char **why)
{
	char shown[PL_SHOW_MAX + 8];
	if (t->npull_request == 0) {
		struct buf b;
		buf_init(&b, WHY_MAX);
		putf(&b, "the trigger of source action \"%s\" has no pullRequest filters",
		     pl_show(t->source_action_name, shown));
		return finish(&b, 0, why);
	}
	OR_FILTERS(t->pull_request, t->npull_request, "pullRequest", pr_filter, pr, why);
}

const struct pl_trigger *pipeline_trigger_for(const struct pipeline *p,
                                              const struct pl_action *source)
{
	for (size_t i = 0; i < p->ntriggers; i++)
		if (p->triggers[i].source == source)
			return &p->triggers[i];
	return NULL;
}

int pipeline_source_push_needs_paths(const struct pipeline *p, const struct pl_action *source)
{
	const struct pl_trigger *t = pipeline_trigger_for(p, source);
	for (size_t i = 0; t && i < t->npush; i++)
		if (t->push[i].file_paths.present)
			return 1;
	return 0;
}

int pipeline_source_push_matches(const struct pipeline *p, const struct pl_action *source,
                                 const struct pipeline_push *push, char **why)
{
	const struct pl_trigger *t = pipeline_trigger_for(p, source);
	if (t)
		return pipeline_push_matches(t, push, why);
	char shown[PL_SHOW_MAX + 8];
	int is_tag;
	struct buf b;
	buf_init(&b, WHY_MAX);
	if (!source->git.branch) {
		putf(&b, "action \"%s\" is not a git source", pl_show(source->name, shown));
		return finish(&b, 0, why);
	}
	if (!ref_name(push->ref, &is_tag)) {
		putf(&b, "ref \"%s\" is neither a branch nor a tag", pl_show(push->ref, shown));
		return finish(&b, 0, why);
	}
	return finish(&b, default_rule(source, push, &b), why);
}
