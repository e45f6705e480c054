/*
 * pipeline_notify.c — ferry's `notifications` extension: rules that tell someone when
 * an execution starts, ends or waits (docs/pipeline.md, "Notifications"):
 *
 *   notifications:
 *     - events: [started, succeeded, failed]    # or CodeStar's event type ids; "all"
 *       command: /usr/local/bin/notify-chat     # run with sh -c, event JSON on stdin
 *     - events: [failed]
 *       url: https://chat.example.com/hook      # POSTed as application/json
 *       timeoutSeconds: 10                      # per attempt, 1-300, default 10
 *       retries: 2                              # 0-10, default 2
 *
 * Only the declaration is read here; src/engine/notify.h delivers. Events are echoed
 * as written, so a rule naming CodeStar's ids gets them back from `pipeline get`.
 * Values are literal: `#{...}` is not resolved in notifications.
 */
#include "spec/pipeline_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOTIFY_EVENTS_MAX  16   /* items of one rule's `events` */
#define NOTIFY_COMMAND_MAX 8192 /* characters */
#define NOTIFY_URL_MAX     2048
#define CODESTAR_PREFIX    "codepipeline-"

static const char *const rule_keys[] = {
        "events", "command", "url", "timeoutSeconds", "retries", NULL,
};

struct event_word {
	const char *word;
	unsigned bits;
};

/* ferry's names first, in bit order (pipeline_notify_event_name() reads them), then
 * "all", then the ids of CodeStar Notifications' pipeline events (AWS's Developer
 * Tools console and `aws codestar-notifications create-notification-rule` use them). */
static const struct event_word words[] = {
        {"started", PL_NOTIFY_STARTED},
        {"succeeded", PL_NOTIFY_SUCCEEDED},
        {"failed", PL_NOTIFY_FAILED},
        {"superseded", PL_NOTIFY_SUPERSEDED},
        {"stopped", PL_NOTIFY_STOPPED},
        {"cancelled", PL_NOTIFY_CANCELLED},
        {"resumed", PL_NOTIFY_RESUMED},
        {"approval-needed", PL_NOTIFY_APPROVAL_NEEDED},
        {"all", PL_NOTIFY_ALL},
        {"canceled", PL_NOTIFY_CANCELLED}, /* AWS's spelling (state CANCELED) */
        {"codepipeline-pipeline-pipeline-execution-started", PL_NOTIFY_STARTED},
        {"codepipeline-pipeline-pipeline-execution-succeeded", PL_NOTIFY_SUCCEEDED},
        {"codepipeline-pipeline-pipeline-execution-failed", PL_NOTIFY_FAILED},
        {"codepipeline-pipeline-pipeline-execution-superseded", PL_NOTIFY_SUPERSEDED},
        {"codepipeline-pipeline-pipeline-execution-canceled", PL_NOTIFY_CANCELLED},
        {"codepipeline-pipeline-pipeline-execution-resumed", PL_NOTIFY_RESUMED},
        {"codepipeline-pipeline-manual-approval-needed", PL_NOTIFY_APPROVAL_NEEDED},
};
#define NWORDS    (sizeof words / sizeof words[0])
#define NEVENTS   8 /* the names with one bit each */
#define ALL_INDEX 8

const char *pipeline_notify_event_name(unsigned event)
{
	for (size_t i = 0; i < NEVENTS; i++)
		if (words[i].bits == event)
			return words[i].word;
	return NULL;
}

static const struct event_word *find_word(const struct ynode *n)
{
	for (size_t i = 0; i < NWORDS; i++)
		if (strlen(words[i].word) == n->len && memcmp(words[i].word, n->text, n->len) == 0)
			return &words[i];
	return NULL;
}

static int unknown_event(struct plctx *c, const struct ynode *n, const char *path)
{
	char shown[PL_SHOW_MAX + 8], list[256];
	const char *every[NWORDS + 1], *names[NEVENTS + 2];
	for (size_t i = 0; i < NWORDS; i++)
		every[i] = words[i].word;
	every[NWORDS] = NULL;
	for (size_t i = 0; i <= NEVENTS; i++)
		names[i] = words[i].word;
	names[NEVENTS + 1] = NULL;
	pl_join(list, sizeof list, names);
	const char *near = memchr(n->text, '\0', n->len) ? NULL : pl_suggest(n->text, every);
	if (near)
		return pl_fail(c, n,
		               "%s: \"%s\" is not an event ferry sends (did you mean \"%s\"? "
		               "known: %s)",
		               path, pl_show(n->text, shown), near, list);
	if (strncmp(n->text, CODESTAR_PREFIX, strlen(CODESTAR_PREFIX)) == 0)
		return pl_fail(c, n,
		               "%s: \"%s\" is a CodeStar Notifications event ferry does not send; "
		               "it sends the pipeline execution events (started, succeeded, "
		               "failed, superseded, canceled, resumed) and manual-approval-needed",
		               path, pl_show(n->text, shown));
	return pl_fail(c, n, "%s: \"%s\" is not an event ferry sends (known: %s)", path,
	               pl_show(n->text, shown), list);
}

static int parse_events(struct plctx *c, const struct ynode *n, const char *path,
                        struct pl_notify_rule *r)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	if (pl_want_list(c, n, path, 1, NOTIFY_EVENTS_MAX) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		const struct event_word *w;
		pl_path(sub, "%s[%zu]", path, i);
		if (it->kind != YNODE_SCALAR)
			return pl_fail(c, it, "%s: expected an event name, found %s", sub,
			               ytree_kind_name(it));
		if (!(w = find_word(it)))
			return unknown_event(c, it, sub);
		if (w == &words[ALL_INDEX] && n->n > 1)
			return pl_fail(c, it, "%s: \"all\" names every event: list it alone", sub);
		for (size_t k = 0; k < i; k++)
			if (find_word(n->items[k])->bits == w->bits)
				return pl_fail(c, it, "%s: \"%s\" is already named by %s[%zu]", sub,
				               pl_show(it->text, shown), path, k);
		r->events |= w->bits;
		strv_push(&r->events_text, w->word);
	}
	return 0;
}

/* http(s) only; no "user:password@" (the declaration is shown to every reader of the
 * pipeline), no blanks or controls (one line in logs, one URL for curl). */
static int check_url(struct plctx *c, const struct ynode *n, const char *path, const char *url)
{
	size_t skip = strncasecmp(url, "https://", 8) == 0  ? 8
	              : strncasecmp(url, "http://", 7) == 0 ? 7
	                                                    : 0;
	if (!skip)
		return pl_fail(c, n, "%s: expected an http:// or https:// URL", path);
	for (const char *s = url; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return pl_fail(c, n, "%s: a URL has no spaces or control characters", path);
	const char *auth = url + skip;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (at && memchr(auth, ':', (size_t)(at - auth)))
		return pl_fail(c, n,
		               "%s: the URL must not carry a password (it would appear in every "
		               "answer about the pipeline); use a command rule that reads the "
		               "secret from a file",
		               path);
	if (alen == 0 || (at && at == auth + alen - 1))
		return pl_fail(c, n, "%s: the URL has no host", path);
	return 0;
}

static const struct ynode *later(const struct ynode *a, const struct ynode *b)
{
	return a->line > b->line || (a->line == b->line && a->col > b->col) ? a : b;
}

static int parse_rule(struct plctx *c, const struct ynode *n, size_t i, struct pl_notify_rule *r)
{
	char path[PL_PATH_MAX], sub[PL_PATH_MAX];
	const struct ynode *v, *cmd, *url;
	pl_path(path, "notifications[%zu]", i);
	r->line = n->line;
	r->col = n->col;
	r->timeout_s = PIPELINE_NOTIFY_TIMEOUT_DEFAULT;
	r->retries = PIPELINE_NOTIFY_RETRIES_DEFAULT;
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, rule_keys) < 0)
		return -1;
	if (!(v = pl_get(n, "events")))
		return pl_missing(c, n, path, "events",
		                  "started, succeeded, failed, superseded, stopped, cancelled, "
		                  "resumed, approval-needed, or all");
	pl_path(sub, "%s.events", path);
	if (parse_events(c, v, sub, r) < 0)
		return -1;
	cmd = pl_get(n, "command");
	url = pl_get(n, "url");
	if (!cmd && !url)
		return pl_fail(c, n,
		               "%s: missing command or url (what to run, or where to POST the "
		               "event)",
		               path);
	if (cmd && url)
		return pl_fail(c, later(cmd, url),
		               "%s: give command or url, not both (one rule does one thing)", path);
	if (cmd) {
		pl_path(sub, "%s.command", path);
		if (pl_string(c, cmd, sub, 1, NOTIFY_COMMAND_MAX, NULL, &r->command) < 0)
			return -1;
	} else {
		pl_path(sub, "%s.url", path);
		if (pl_string(c, url, sub, 1, NOTIFY_URL_MAX, NULL, &r->url) < 0 ||
		    check_url(c, url, sub, r->url) < 0)
			return -1;
	}
	if ((v = pl_get(n, "timeoutSeconds"))) {
		pl_path(sub, "%s.timeoutSeconds", path);
		if (pl_int(c, v, sub, 1, PIPELINE_NOTIFY_TIMEOUT_MAX, &r->timeout_s) < 0)
			return -1;
	}
	if ((v = pl_get(n, "retries"))) {
		pl_path(sub, "%s.retries", path);
		if (pl_int(c, v, sub, 0, PIPELINE_NOTIFY_RETRIES_MAX, &r->retries) < 0)
			return -1;
	}
	return 0;
}

int pl_parse_notifications(struct plctx *c, const struct ynode *n)
{
	struct pipeline *p = c->p;
	if (pl_want_list(c, n, "notifications", 0, PIPELINE_NOTIFICATIONS_MAX) < 0)
		return -1;
	p->notifications = xcalloc(n->n + 1, sizeof *p->notifications);
	for (size_t i = 0; i < n->n; i++) {
		p->nnotifications++;
		if (parse_rule(c, n->items[i], i, &p->notifications[i]) < 0)
			return -1;
	}
	return 0;
}

void pl_notifications_free(struct pl_notify_rule *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		strv_free(&r[i].events_text);
		free(r[i].command);
		free(r[i].url);
	}
	free(r);
}
