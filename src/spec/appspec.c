/*
 * appspec.c — checks a YAML/JSON tree into `struct appspec` (spec §9).
 *
 * Why it is built this way:
 *  - unknown keys and event names are errors with a "did you mean", not warnings:
 *    a misspelt `AfterInstal:` that silently runs nothing is worse than a deployment
 *    that stops before it starts;
 *  - paths are checked here (absolute destinations, no ".." anywhere), so the
 *    deployer only joins them under a target directory and a bundle root;
 *  - keys CodeDeploy honours that mean nothing to ferry (permissions' acls and
 *    context) are accepted with a warning, so an AWS appspec still deploys.
 */
#include "spec/appspec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/suggest.h"
#include "spec/ytree.h"
#include "util/fs.h"

#define PATH_MAX_MSG 128 /* field paths in messages */
#define SHOW_MAX     48

static const char *const event_names[AS_EVENT_COUNT + 1] = {
        "BeforeBlockTraffic", "AfterBlockTraffic",
        "ApplicationStop",    "BeforeInstall",
        "AfterInstall",       "ApplicationStart",
        "ValidateService",    "BeforeAllowTraffic",
        "AfterAllowTraffic",  NULL,
};
/* Events CodeDeploy runs itself: no scripts. */
static const char *const agent_events[] = {
        "DownloadBundle", "Install", "BlockTraffic", "AllowTraffic", "Start", "End", NULL,
};
static const char *const top_keys[] = {
        "version", "os", "files", "permissions", "hooks", "file_exists_behavior", NULL,
};
static const char *const file_keys[] = {"source", "destination", NULL};
static const char *const perm_keys[] = {
        "object", "pattern", "except", "owner", "group", "mode", "type", "acls", "context", NULL,
};
static const char *const hook_keys[] = {"location", "timeout", "runas", NULL};

struct asctx {
	const char *file;
	struct appspec *as;
	struct err *err;
};

const char *appspec_event_name(enum appspec_event ev)
{
	return (int)ev >= 0 && ev < AS_EVENT_COUNT ? event_names[ev] : "?";
}

int appspec_event_find(const char *name)
{
	for (int i = 0; i < AS_EVENT_COUNT; i++)
		if (!strcmp(event_names[i], name))
			return i;
	return -1;
}

FERRY_PRINTF(3, 4)
static int fail(struct asctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return err_set(c->err, "%s:%d:%d: %s", c->file, at ? at->line : 1, at ? at->col : 1, msg);
}

FERRY_PRINTF(3, 4)
static void warn(struct asctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	strv_pushf(&c->as->warnings, "%s:%d:%d: %s", c->file, at->line, at->col, msg);
}

/* A scalar's text for messages: cut, control characters replaced. */
static const char *show(const struct ynode *n, char buf[SHOW_MAX + 8])
{
	size_t len = n->len < SHOW_MAX ? n->len : SHOW_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)n->text[i];
		buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (n->len > SHOW_MAX) {
		memcpy(buf + len, "...", 3);
		len += 3;
	}
	buf[len] = '\0';
	return buf;
}

static void subpath(char out[PATH_MAX_MSG], const char *parent, const char *key)
{
	snprintf(out, PATH_MAX_MSG, "%s%s%s", parent, *parent ? "." : "", key);
}

static int is_key(const struct ynode *k, const char *word)
{
	return k->kind == YNODE_SCALAR && strlen(word) == k->len && !memcmp(word, k->text, k->len);
}

static void known_list(const char *const *known, char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; known[i] && used < n; i++)
		used += (size_t)snprintf(out + used, n - used, "%s%s", i ? ", " : "", known[i]);
}

static int unknown(struct asctx *c, const struct ynode *k, const char *where, const char *what,
                   const char *const *known)
{
	char shown[SHOW_MAX + 8], list[512];
	if (k->kind != YNODE_SCALAR)
		return fail(c, k, "%s: expected a %s name, found %s", where, what,
		            ytree_kind_name(k));
	show(k, shown);
	known_list(known, list, sizeof list);
	const char *near = spec_suggest(shown, known);
	if (near)
		return fail(c, k, "%s: unknown %s \"%s\" (did you mean \"%s\"? known: %s)", where,
		            what, shown, near, list);
	return fail(c, k, "%s: unknown %s \"%s\" (known: %s)", where, what, shown, list);
}

static int check_keys(struct asctx *c, const struct ynode *map, const char *where,
                      const char *const *known)
{
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		int ok = 0;
		for (size_t j = 0; known[j] && !ok; j++)
			ok = is_key(map->items[i], known[j]);
		if (!ok)
			return unknown(c, map->items[i], *where ? where : "appspec", "key", known);
	}
	return 0;
}

static int want(struct asctx *c, const struct ynode *n, enum ynode_kind kind, const char *path)
{
	if (n->kind == kind)
		return 0;
	const char *exp = kind == YNODE_MAP   ? "a mapping"
	                  : kind == YNODE_SEQ ? "a list"
	                                      : "a string";
	return fail(c, n, "%s: expected %s, found %s", path, exp, ytree_kind_name(n));
}

/* A scalar's text; NUL bytes refused (they would cut a path short). */
static int string(struct asctx *c, const struct ynode *n, const char *path, char **out)
{
	if (want(c, n, YNODE_SCALAR, path) < 0)
		return -1;
	if (memchr(n->text, '\0', n->len))
		return fail(c, n, "%s: contains a NUL character", path);
	*out = xstrndup(n->text, n->len);
	return 0;
}

/* A path without "." / ".." parts and not empty; `absolute` says which kind. */
static int path_value(struct asctx *c, const struct ynode *n, const char *path, int absolute,
                      char **out)
{
	char shown[SHOW_MAX + 8];
	if (string(c, n, path, out) < 0)
		return -1;
	char *p = *out;
	if (absolute && p[0] != '/')
		return fail(c, n, "%s: \"%s\" is not an absolute path", path, show(n, shown));
	const char *rel = p;
	while (*rel == '/')
		rel++;
	size_t len = strlen(rel);
	while (len > 0 && rel[len - 1] == '/')
		len--;
	char *trimmed = xstrndup(rel, len);
	int ok = !*trimmed || fs_plain_relative(trimmed);
	if (!ok) {
		free(trimmed);
		return fail(c, n, "%s: \"%s\" has an empty, \".\" or \"..\" part", path,
		            show(n, shown));
	}
	free(p);
	/* "/srv/app/" reads as "/srv/app"; "/" stays "/" */
	*out = absolute ? xasprintf("/%s", trimmed) : trimmed;
	if (absolute)
		free(trimmed);
	return 0;
}

static int version(struct asctx *c, const struct ynode *n)
{
	char shown[SHOW_MAX + 8];
	if (!n)
		return fail(c, NULL, "version: missing (expected version: 0.0)");
	if (n->kind != YNODE_SCALAR)
		return fail(c, n, "version: expected 0.0, found %s", ytree_kind_name(n));
	if (!(n->len == 3 && !memcmp(n->text, "0.0", 3)))
		return fail(c, n,
		            "version: \"%s\" is not supported (the only appspec version is 0.0)",
		            show(n, shown));
	c->as->version = xstrdup("0.0");
	return 0;
}

static int os(struct asctx *c, const struct ynode *n)
{
	char shown[SHOW_MAX + 8];
	if (!n)
		return fail(c, NULL, "os: missing (expected os: linux)");
	if (n->kind != YNODE_SCALAR)
		return fail(c, n, "os: expected linux, found %s", ytree_kind_name(n));
	if (n->len == 7 && !memcmp(n->text, "windows", 7))
		return fail(c, n, "os: windows is not supported by ferry");
	if (!(n->len == 5 && !memcmp(n->text, "linux", 5)))
		return fail(c, n, "os: \"%s\" is not an os CodeDeploy knows (linux or windows)",
		            show(n, shown));
	c->as->os = xstrdup("linux");
	return 0;
}

static int exists_behavior(struct asctx *c, const struct ynode *n)
{
	char shown[SHOW_MAX + 8];
	const char *path = "file_exists_behavior";
	if (want(c, n, YNODE_SCALAR, path) < 0)
		return -1;
	show(n, shown);
	if (!strcmp(shown, "DISALLOW"))
		c->as->file_exists = AS_EXISTS_DISALLOW;
	else if (!strcmp(shown, "OVERWRITE"))
		c->as->file_exists = AS_EXISTS_OVERWRITE;
	else if (!strcmp(shown, "RETAIN"))
		c->as->file_exists = AS_EXISTS_RETAIN;
	else
		return fail(c, n, "%s: \"%s\" is not DISALLOW, OVERWRITE or RETAIN", path, shown);
	return 0;
}

/* ---- files ---- */

static int files(struct asctx *c, const struct ynode *n)
{
	if (n->kind == YNODE_NULL)
		return 0;
	if (want(c, n, YNODE_SEQ, "files") < 0)
		return -1;
	if (n->n > APPSPEC_ENTRIES_MAX)
		return fail(c, n, "files: more than %d entries", APPSPEC_ENTRIES_MAX);
	struct appspec *as = c->as;
	as->files = xcalloc(n->n + 1, sizeof *as->files);
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		char p[PATH_MAX_MSG], f[PATH_MAX_MSG];
		snprintf(p, sizeof p, "files[%zu]", i);
		if (want(c, it, YNODE_MAP, p) < 0 || check_keys(c, it, p, file_keys) < 0)
			return -1;
		struct appspec_file *fl = &as->files[as->nfiles++];
		fl->line = it->line;
		const struct ynode *src = ytree_get(it, "source");
		const struct ynode *dst = ytree_get(it, "destination");
		if (!src)
			return fail(c, it,
			            "%s.source: missing (a path in the bundle; / for all of it)",
			            p);
		if (!dst)
			return fail(c, it, "%s.destination: missing (an absolute path)", p);
		subpath(f, p, "source");
		if (path_value(c, src, f, 0, &fl->source) < 0)
			return -1;
		subpath(f, p, "destination");
		if (path_value(c, dst, f, 1, &fl->destination) < 0)
			return -1;
	}
	return 0;
}

/* ---- permissions ---- */

static int mode_value(struct asctx *c, const struct ynode *n, const char *path, int *out)
{
	char shown[SHOW_MAX + 8];
	if (want(c, n, YNODE_SCALAR, path) < 0)
		return -1;
	show(n, shown);
	size_t len = strlen(shown);
	if (len < 1 || len > 4 || strspn(shown, "01234567") != len)
		return fail(c, n,
		            "%s: \"%s\" is not an octal mode (1 to 4 digits 0-7, such as \"0644\"; "
		            "symbolic modes are not supported)",
		            path, shown);
	*out = (int)strtol(shown, NULL, 8);
	return 0;
}

static int type_value(struct asctx *c, const struct ynode *n, const char *path, int *out)
{
	char shown[SHOW_MAX + 8];
	const struct ynode *one[1] = {n};
	const struct ynode *const *items = one;
	size_t count = 1;
	if (n->kind == YNODE_SEQ) {
		items = (const struct ynode *const *)n->items;
		count = n->n;
	}
	*out = 0;
	for (size_t i = 0; i < count; i++) {
		if (want(c, items[i], YNODE_SCALAR, path) < 0)
			return -1;
		show(items[i], shown);
		if (!strcmp(shown, "file"))
			*out |= AS_TYPE_FILE;
		else if (!strcmp(shown, "directory"))
			*out |= AS_TYPE_DIR;
		else
			return fail(c, items[i], "%s: \"%s\" is not file or directory", path,
			            shown);
	}
	return 0;
}

static int strlist(struct asctx *c, const struct ynode *n, const char *path, struct strv *out)
{
	if (n->kind == YNODE_NULL)
		return 0;
	if (n->kind == YNODE_SCALAR) {
		char *s = NULL;
		if (string(c, n, path, &s) < 0)
			return -1;
		strv_push_owned(out, s);
		return 0;
	}
	if (want(c, n, YNODE_SEQ, path) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		char *s = NULL;
		char p[PATH_MAX_MSG];
		snprintf(p, sizeof p, "%s[%zu]", path, i);
		if (string(c, n->items[i], p, &s) < 0)
			return -1;
		strv_push_owned(out, s);
	}
	return 0;
}

static int permission(struct asctx *c, const struct ynode *it, const char *p,
                      struct appspec_permission *pm)
{
	char f[PATH_MAX_MSG];
	pm->line = it->line;
	pm->mode = -1;
	const struct ynode *v;
	if (!(v = ytree_get(it, "object")))
		return fail(c, it, "%s.object: missing (an absolute path)", p);
	subpath(f, p, "object");
	if (path_value(c, v, f, 1, &pm->object) < 0)
		return -1;
	subpath(f, p, "pattern");
	if ((v = ytree_get(it, "pattern")) && string(c, v, f, &pm->pattern) < 0)
		return -1;
	if (!pm->pattern)
		pm->pattern = xstrdup("**");
	subpath(f, p, "except");
	if ((v = ytree_get(it, "except")) && strlist(c, v, f, &pm->except) < 0)
		return -1;
	subpath(f, p, "owner");
	if ((v = ytree_get(it, "owner")) && string(c, v, f, &pm->owner) < 0)
		return -1;
	subpath(f, p, "group");
	if ((v = ytree_get(it, "group")) && string(c, v, f, &pm->group) < 0)
		return -1;
	subpath(f, p, "mode");
	if ((v = ytree_get(it, "mode")) && mode_value(c, v, f, &pm->mode) < 0)
		return -1;
	subpath(f, p, "type");
	if ((v = ytree_get(it, "type")) && type_value(c, v, f, &pm->types) < 0)
		return -1;
	if ((v = ytree_get(it, "acls")))
		warn(c, v, "%s.acls: ACLs are not applied by ferry", p);
	if ((v = ytree_get(it, "context")))
		warn(c, v, "%s.context: SELinux contexts are not applied by ferry", p);
	return 0;
}

static int permissions(struct asctx *c, const struct ynode *n)
{
	if (n->kind == YNODE_NULL)
		return 0;
	if (want(c, n, YNODE_SEQ, "permissions") < 0)
		return -1;
	if (n->n > APPSPEC_ENTRIES_MAX)
		return fail(c, n, "permissions: more than %d entries", APPSPEC_ENTRIES_MAX);
	struct appspec *as = c->as;
	as->permissions = xcalloc(n->n + 1, sizeof *as->permissions);
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		char p[PATH_MAX_MSG];
		snprintf(p, sizeof p, "permissions[%zu]", i);
		if (want(c, it, YNODE_MAP, p) < 0 || check_keys(c, it, p, perm_keys) < 0)
			return -1;
		if (permission(c, it, p, &as->permissions[as->npermissions++]) < 0)
			return -1;
	}
	return 0;
}

/* ---- hooks ---- */

static int timeout_value(struct asctx *c, const struct ynode *n, const char *path, int *out)
{
	char shown[SHOW_MAX + 8];
	if (want(c, n, YNODE_SCALAR, path) < 0)
		return -1;
	show(n, shown);
	size_t len = strlen(shown);
	if (len < 1 || len > 5 || strspn(shown, "0123456789") != len)
		return fail(c, n, "%s: \"%s\" is not a number of seconds (1 to %d)", path, shown,
		            APPSPEC_TIMEOUT_MAX);
	long v = strtol(shown, NULL, 10);
	if (v < 1 || v > APPSPEC_TIMEOUT_MAX)
		return fail(c, n, "%s: %ld is not a number of seconds from 1 to %d", path, v,
		            APPSPEC_TIMEOUT_MAX);
	*out = (int)v;
	return 0;
}

static int hook(struct asctx *c, const struct ynode *it, const char *p, struct appspec_hook *h)
{
	char f[PATH_MAX_MSG];
	if (want(c, it, YNODE_MAP, p) < 0 || check_keys(c, it, p, hook_keys) < 0)
		return -1;
	h->line = it->line;
	h->timeout = APPSPEC_TIMEOUT_DEFAULT;
	const struct ynode *v = ytree_get(it, "location");
	if (!v)
		return fail(c, it, "%s.location: missing (a script's path in the bundle)", p);
	subpath(f, p, "location");
	if (path_value(c, v, f, 0, &h->location) < 0)
		return -1;
	if (!*h->location)
		return fail(c, v, "%s: expected a script's path in the bundle", f);
	subpath(f, p, "timeout");
	if ((v = ytree_get(it, "timeout")) && timeout_value(c, v, f, &h->timeout) < 0)
		return -1;
	subpath(f, p, "runas");
	if ((v = ytree_get(it, "runas")) && v->kind != YNODE_NULL && string(c, v, f, &h->runas) < 0)
		return -1;
	return 0;
}

static int event_hooks(struct asctx *c, const struct ynode *key, const struct ynode *list)
{
	char shown[SHOW_MAX + 8], p[PATH_MAX_MSG];
	if (key->kind != YNODE_SCALAR)
		return unknown(c, key, "hooks", "lifecycle event", event_names);
	show(key, shown);
	for (size_t i = 0; agent_events[i]; i++)
		if (is_key(key, agent_events[i]))
			return fail(c, key,
			            "hooks: %s is run by ferry itself and cannot have scripts "
			            "(scriptable: ApplicationStop, BeforeInstall, AfterInstall, "
			            "ApplicationStart, ValidateService, BeforeBlockTraffic, "
			            "AfterBlockTraffic, BeforeAllowTraffic, AfterAllowTraffic)",
			            shown);
	int ev = -1;
	for (int i = 0; i < AS_EVENT_COUNT && ev < 0; i++)
		if (is_key(key, event_names[i]))
			ev = i;
	if (ev < 0)
		return unknown(c, key, "hooks", "lifecycle event", event_names);
	struct appspec *as = c->as;
	if (as->hooks[ev])
		return fail(c, key, "hooks.%s: given twice", shown);
	snprintf(p, sizeof p, "hooks.%s", shown);
	if (list->kind == YNODE_NULL) {
		as->hooks[ev] = xcalloc(1, sizeof *as->hooks[ev]);
		return 0;
	}
	if (want(c, list, YNODE_SEQ, p) < 0)
		return -1;
	if (list->n > APPSPEC_HOOKS_MAX)
		return fail(c, list, "%s: more than %d scripts", p, APPSPEC_HOOKS_MAX);
	as->hooks[ev] = xcalloc(list->n + 1, sizeof *as->hooks[ev]);
	int total = 0;
	for (size_t i = 0; i < list->n; i++) {
		char ip[PATH_MAX_MSG];
		snprintf(ip, sizeof ip, "%s[%zu]", p, i);
		struct appspec_hook *h = &as->hooks[ev][as->nhooks[ev]++];
		if (hook(c, list->items[i], ip, h) < 0)
			return -1;
		total += h->timeout;
		if (total > APPSPEC_TIMEOUT_MAX)
			return fail(c, list->items[i],
			            "%s: the timeouts of %s add up to %d seconds, more than %d "
			            "(the limit per lifecycle event)",
			            ip, shown, total, APPSPEC_TIMEOUT_MAX);
	}
	return 0;
}

static int hooks(struct asctx *c, const struct ynode *n)
{
	if (n->kind == YNODE_NULL)
		return 0;
	if (n->kind == YNODE_SEQ)
		return fail(c, n,
		            "hooks: expected a mapping of lifecycle events (the list form is "
		            "the ECS/Lambda appspec, which ferry does not deploy)");
	if (want(c, n, YNODE_MAP, "hooks") < 0)
		return -1;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (event_hooks(c, n->items[i], n->items[i + 1]) < 0)
			return -1;
	return 0;
}

/* ---- the document ---- */

static int document(struct asctx *c, const struct ynode *root)
{
	if (!root || root->kind == YNODE_NULL)
		return fail(c, root, "the file is empty (expected version: 0.0 and os: linux)");
	if (want(c, root, YNODE_MAP, "appspec") < 0)
		return -1;
	if (ytree_get(root, "Resources"))
		return fail(c, ytree_get(root, "Resources"),
		            "Resources: an ECS or Lambda appspec; ferry deploys EC2/on-premises "
		            "appspecs (files, permissions, hooks)");
	if (check_keys(c, root, "", top_keys) < 0)
		return -1;
	if (version(c, ytree_get(root, "version")) < 0 || os(c, ytree_get(root, "os")) < 0)
		return -1;
	const struct ynode *v;
	if ((v = ytree_get(root, "file_exists_behavior")) && exists_behavior(c, v) < 0)
		return -1;
	if ((v = ytree_get(root, "files")) && files(c, v) < 0)
		return -1;
	if ((v = ytree_get(root, "permissions")) && permissions(c, v) < 0)
		return -1;
	if ((v = ytree_get(root, "hooks")) && hooks(c, v) < 0)
		return -1;
	return 0;
}

int appspec_parse(const char *text, size_t len, const char *filename, struct appspec **out,
                  struct err *err)
{
	*out = NULL;
	if (len > APPSPEC_FILE_MAX)
		return err_set(err, "%s:1:1: larger than %d bytes", filename, APPSPEC_FILE_MAX);
	struct ynode *root = NULL;
	if (ytree_parse(text, len, filename, &root, err) < 0)
		return -1;
	struct asctx c = {.file = filename, .as = xcalloc(1, sizeof *c.as), .err = err};
	int rc = document(&c, root);
	ytree_free(root);
	if (rc < 0) {
		appspec_free(c.as);
		return -1;
	}
	*out = c.as;
	return 0;
}

int appspec_load(const char *path, const char *shown, struct appspec **out, struct err *err)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	if (fs_read_file(path, APPSPEC_FILE_MAX, &text, &len, err) < 0)
		return -1;
	int rc = appspec_parse(text, len, shown, out, err);
	free(text);
	return rc;
}

void appspec_free(struct appspec *as)
{
	if (!as)
		return;
	free(as->version);
	free(as->os);
	for (size_t i = 0; i < as->nfiles; i++) {
		free(as->files[i].source);
		free(as->files[i].destination);
	}
	free(as->files);
	for (size_t i = 0; i < as->npermissions; i++) {
		struct appspec_permission *p = &as->permissions[i];
		free(p->object);
		free(p->pattern);
		strv_free(&p->except);
		free(p->owner);
		free(p->group);
	}
	free(as->permissions);
	for (int e = 0; e < AS_EVENT_COUNT; e++) {
		for (size_t i = 0; i < as->nhooks[e]; i++) {
			free(as->hooks[e][i].location);
			free(as->hooks[e][i].runas);
		}
		free(as->hooks[e]);
	}
	strv_free(&as->warnings);
	free(as);
}
