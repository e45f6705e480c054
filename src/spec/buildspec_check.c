/*
 * buildspec_check.c — the small checks every buildspec section uses: positioned
 * errors and warnings, known-key checks with "did you mean", strings, lists of
 * strings, yes/no words.
 */
#include "spec/buildspec_int.h"
#include "spec/suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void vformat(char *out, size_t size, const char *fmt, va_list ap)
{
	vsnprintf(out, size, fmt, ap);
}

void *bs_grow(void *arr, size_t n, size_t elem)
{
	return xgrow(arr, n, elem);
}

int bs_fail(struct bsctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vformat(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(c->err, "%s:%d:%d: %s", c->file, at ? at->line : 1, at ? at->col : 1, msg);
}

void bs_warn(struct bsctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vformat(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t n = c->nwarns;
	c->warns = bs_grow(c->warns, n, sizeof *c->warns);
	c->warns[n].line = at ? at->line : 1;
	c->warns[n].col = at ? at->col : 1;
	c->warns[n].seq = n;
	c->warns[n].msg = xstrdup(msg);
	c->nwarns++;
}

const char *bs_show(const struct ynode *n, char buf[BS_SHOW_MAX + 8])
{
	if (!n || !n->text || n->kind == YNODE_SEQ || n->kind == YNODE_MAP)
		return ytree_kind_name(n);
	size_t len = n->len < BS_SHOW_MAX ? n->len : BS_SHOW_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)n->text[i];
		buf[i] = ch < 0x20 || ch == 0x7f || ch == '"' ? '?' : (char)ch;
	}
	if (n->len > BS_SHOW_MAX) {
		memcpy(buf + len, "...", 3);
		len += 3;
	}
	buf[len] = '\0';
	return buf;
}

/* Keys from the file (report groups, artifact identifiers) reach paths: keep them one line. */
void bs_path(char out[BS_PATH_MAX], const char *parent, const char *key)
{
	size_t n = 0;
	if (parent && *parent)
		n = (size_t)snprintf(out, BS_PATH_MAX, "%s.", parent);
	if (n >= BS_PATH_MAX)
		n = BS_PATH_MAX - 1;
	for (size_t i = 0; key[i] && i < BS_SHOW_MAX && n + 1 < BS_PATH_MAX; i++) {
		unsigned char ch = (unsigned char)key[i];
		out[n++] = ch < 0x20 || ch == 0x7f || ch == '"' ? '?' : (char)ch;
	}
	out[n] = '\0';
}

const char *bs_suggest(const char *word, const char *const *known)
{
	return spec_suggest(word, known);
}

static void join_known(char *out, size_t size, const char *const *known)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; known[i] && off < size; i++) {
		int n = snprintf(out + off, size - off, "%s%s", i ? ", " : "", known[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int unknown_key(struct bsctx *c, const struct ynode *key, const char *path,
                       const char *const *known, const char *what)
{
	char shown[BS_SHOW_MAX + 8];
	const char *s = bs_show(key, shown);
	const char *near = key->text ? bs_suggest(key->text, known) : NULL;
	char list[512];
	join_known(list, sizeof list, known);
	const char *where = *path ? path : "top level";
	if (near)
		return bs_fail(c, key, "%s: unknown %s \"%s\" (did you mean \"%s\"? known: %s)",
		               where, what, s, near, list);
	return bs_fail(c, key, "%s: unknown %s \"%s\" (known: %s)", where, what, s, list);
}

int bs_check_keys(struct bsctx *c, const struct ynode *map, const char *path,
                  const char *const *known, const char *what)
{
	if (!map || map->kind != YNODE_MAP)
		return 0;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];
		int ok = 0;
		for (size_t j = 0; known[j] && !ok && k->kind == YNODE_SCALAR; j++)
			ok = strlen(known[j]) == k->len && memcmp(known[j], k->text, k->len) == 0;
		if (!ok)
			return unknown_key(c, k, path, known, what);
	}
	return 0;
}

int bs_want_map(struct bsctx *c, const struct ynode *n, const char *path)
{
	if (n->kind == YNODE_MAP || n->kind == YNODE_NULL)
		return 0;
	return bs_fail(c, n, "%s: expected a mapping, found %s", path, ytree_kind_name(n));
}

static int check_text(struct bsctx *c, const struct ynode *n, const char *path)
{
	if (memchr(n->text, '\0', n->len))
		return bs_fail(c, n, "%s: contains a NUL character", path);
	return 0;
}

int bs_string(struct bsctx *c, const struct ynode *n, const char *path, char **out)
{
	if (n->kind != YNODE_SCALAR)
		return bs_fail(c, n, "%s: expected a string, found %s", path, ytree_kind_name(n));
	if (check_text(c, n, path) < 0)
		return -1;
	free(*out);
	*out = xstrdup(n->text);
	return 0;
}

int bs_strlist(struct bsctx *c, const struct ynode *n, const char *path, struct strv *out)
{
	if (n->kind == YNODE_NULL)
		return 0;
	if (n->kind == YNODE_SCALAR) {
		if (check_text(c, n, path) < 0)
			return -1;
		strv_push(out, n->text);
		return 0;
	}
	if (n->kind != YNODE_SEQ)
		return bs_fail(c, n, "%s: expected a list of strings, found %s", path,
		               ytree_kind_name(n));
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		char ipath[BS_PATH_MAX];
		snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
		if (it->kind == YNODE_NULL) {
			bs_warn(c, it, "%s: empty item ignored", ipath);
			continue;
		}
		if (it->kind != YNODE_SCALAR)
			return bs_fail(c, it, "%s: expected a string, found %s", ipath,
			               ytree_kind_name(it));
		if (check_text(c, it, ipath) < 0)
			return -1;
		strv_push(out, it->text);
	}
	return 0;
}

int bs_yesno(struct bsctx *c, const struct ynode *n, const char *path, int *out)
{
	char shown[BS_SHOW_MAX + 8];
	if (n->kind == YNODE_SCALAR && strlen(n->text) == n->len) {
		if (!strcasecmp(n->text, "yes") || !strcasecmp(n->text, "true")) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(n->text, "no") || !strcasecmp(n->text, "false")) {
			*out = 0;
			return 0;
		}
	}
	if (n->kind == YNODE_SCALAR)
		return bs_fail(c, n, "%s: expected yes or no, found \"%s\"", path,
		               bs_show(n, shown));
	return bs_fail(c, n, "%s: expected yes or no, found %s", path, ytree_kind_name(n));
}

static int name_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

int bs_valid_name(const char *s)
{
	if (!name_start(*s))
		return 0;
	for (s++; *s; s++)
		if (!name_start(*s) && !(*s >= '0' && *s <= '9'))
			return 0;
	return 1;
}
