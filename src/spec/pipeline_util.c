/*
 * pipeline_util.c — the small checks every part of the declaration uses: positioned
 * errors, typed scalars with AWS's lengths and character sets, known keys with a
 * "did you mean", and finding a stage's or action's node again for the second pass.
 */
#include "spec/pipeline_int.h"
#include "spec/suggest.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void *pl_grow(void *arr, size_t n, size_t elem)
{
	return xgrow(arr, n, elem);
}

int pl_fail(struct plctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_set(c->err, "%s:%d:%d: %s", c->file, at ? at->line : 1, at ? at->col : 1, msg);
	if (c->err)
		pl_utf8_fix(c->err->msg); /* also where err_set() cut the line short */
	return -1;
}

void pl_warn(struct plctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pl_utf8_fix(msg);
	strv_pushf(&c->p->warnings, "%s:%d:%d: %s", c->file, at ? at->line : 1, at ? at->col : 1,
	           msg);
}

const char *pl_show(const char *s, char buf[PL_SHOW_MAX + 8])
{
	size_t len = strlen(s), n = len < PL_SHOW_MAX ? len : PL_SHOW_MAX;
	/* Do not cut inside a UTF-8 sequence. */
	while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[i] = ch < 0x20 || ch == 0x7f || ch == '"' ? '?' : (char)ch;
	}
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	pl_utf8_fix(buf);
	return buf;
}

void pl_path(char out[PL_PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, PL_PATH_MAX, fmt, ap);
	va_end(ap);
	/* Keys from the file reach paths: keep messages on one line. */
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

const struct ynode *pl_get(const struct ynode *map, const char *key)
{
	const struct ynode *v = ytree_get(map, key);
	return v && v->kind != YNODE_NULL ? v : NULL;
}

int pl_want_map(struct plctx *c, const struct ynode *n, const char *path)
{
	if (n->kind == YNODE_MAP)
		return 0;
	return pl_fail(c, n, "%s: expected a mapping, found %s", path, ytree_kind_name(n));
}

int pl_want_list(struct plctx *c, const struct ynode *n, const char *path, size_t min, size_t max)
{
	if (n->kind != YNODE_SEQ)
		return pl_fail(c, n, "%s: expected a list, found %s", path, ytree_kind_name(n));
	if (n->n < min)
		return pl_fail(c, n, "%s: needs at least %zu item%s, found %zu", path, min,
		               min == 1 ? "" : "s", n->n);
	if (n->n > max)
		return pl_fail(c, n, "%s: at most %zu items, found %zu", path, max, n->n);
	return 0;
}

const char *pl_suggest(const char *word, const char *const *known)
{
	return spec_suggest(word, known);
}

void pl_join(char *out, size_t size, const char *const *words)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; words[i] && off < size; i++) {
		int n = snprintf(out + off, size - off, "%s%s", i ? ", " : "", words[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int pl_check_keys(struct plctx *c, const struct ynode *map, const char *path,
                  const char *const *known)
{
	char shown[PL_SHOW_MAX + 8], list[768];
	for (size_t i = 0; map->kind == YNODE_MAP && i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];
		int ok = 0;
		for (size_t j = 0; known[j] && !ok && k->kind == YNODE_SCALAR; j++)
			ok = strlen(known[j]) == k->len && memcmp(known[j], k->text, k->len) == 0;
		if (ok)
			continue;
		const char *where = *path ? path : "top level";
		if (k->kind != YNODE_SCALAR)
			return pl_fail(c, k, "%s: a key must be a string, found %s", where,
			               ytree_kind_name(k));
		pl_join(list, sizeof list, known);
		const char *near = pl_suggest(k->text, known);
		if (near)
			return pl_fail(c, k,
			               "%s: unknown key \"%s\" (did you mean \"%s\"? known: %s)",
			               where, pl_show(k->text, shown), near, list);
		return pl_fail(c, k, "%s: unknown key \"%s\" (known: %s)", where,
		               pl_show(k->text, shown), list);
	}
	return 0;
}

int pl_missing(struct plctx *c, const struct ynode *map, const char *path, const char *key,
               const char *why)
{
	if (*path)
		return pl_fail(c, map, "%s.%s: missing (%s)", path, key, why);
	return pl_fail(c, map, "%s: missing (%s)", key, why);
}

/* Length of the valid UTF-8 sequence at p (at most `avail` bytes), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char ch = p[0];
	size_t need;
	unsigned v, min;
	if (ch < 0x80)
		return 1;
	if (ch >= 0xc2 && ch <= 0xdf)
		need = 1, v = ch & 0x1f, min = 0x80;
	else if (ch >= 0xe0 && ch <= 0xef)
		need = 2, v = ch & 0x0f, min = 0x800;
	else if (ch >= 0xf0 && ch <= 0xf4)
		need = 3, v = ch & 0x07, min = 0x10000;
	else
		return 0;
	if (avail <= need)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return need + 1;
}

size_t pl_utf8_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	for (size_t i = 0; i < len; n++) {
		size_t k = utf8_seq(p + i, len - i);
		if (k == 0)
			return (size_t)-1;
		i += k;
	}
	return n;
}

void pl_utf8_fix(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq(p + i, len - i);
		if (k == 0) {
			p[i] = '?';
			k = 1;
		}
		i += k;
	}
}

static int in_charset(const char *s, const char *chars)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
			if (!strchr(chars, *s))
				return 0;
	return 1;
}

static void charset_words(char *out, size_t size, const char *chars)
{
	size_t n = (size_t)snprintf(out, size, "letters, digits");
	for (const char *p = chars; *p && n + 8 < size; p++)
		n += (size_t)snprintf(out + n, size - n, "%s%c", p[1] ? ", " : " and ", *p);
}

int pl_string(struct plctx *c, const struct ynode *n, const char *path, size_t min, size_t max,
              const char *chars, char **out)
{
	char shown[PL_SHOW_MAX + 8], words[96];
	if (n->kind != YNODE_SCALAR)
		return pl_fail(c, n, "%s: expected a string, found %s", path, ytree_kind_name(n));
	if (memchr(n->text, '\0', n->len))
		return pl_fail(c, n, "%s: contains a NUL character", path);
	size_t len = pl_utf8_len(n->text, n->len);
	if (len == (size_t)-1)
		return pl_fail(c, n, "%s: is not valid UTF-8", path);
	if (len < min && min == 1)
		return pl_fail(c, n, "%s: must not be empty", path);
	if (len < min)
		return pl_fail(c, n, "%s: at least %zu characters, found %zu", path, min, len);
	if (len > max)
		return pl_fail(c, n, "%s: at most %zu characters, found %zu", path, max, len);
	if (chars && !in_charset(n->text, chars)) {
		charset_words(words, sizeof words, chars);
		return pl_fail(c, n, "%s: \"%s\" may use only %s", path, pl_show(n->text, shown),
		               words);
	}
	free(*out);
	*out = xstrdup(n->text);
	return 0;
}

int pl_int(struct plctx *c, const struct ynode *n, const char *path, long min, long max, int *out)
{
	char shown[PL_SHOW_MAX + 8];
	if (n->kind != YNODE_SCALAR)
		return pl_fail(c, n, "%s: expected a whole number, found %s", path,
		               ytree_kind_name(n));
	const char *s = n->text;
	size_t digits = strspn(s + (*s == '-'), "0123456789");
	if (digits == 0 || digits > 9 || s[(*s == '-') + digits] != '\0')
		return pl_fail(c, n, "%s: expected a whole number, found \"%s\"", path,
		               pl_show(s, shown));
	errno = 0;
	long v = strtol(s, NULL, 10);
	if (v < min || v > max)
		return pl_fail(c, n, "%s: must be %ld to %ld, found %ld", path, min, max, v);
	*out = (int)v;
	return 0;
}

int pl_enum(struct plctx *c, const struct ynode *n, const char *path, const char *const *values,
            int *out)
{
	char shown[PL_SHOW_MAX + 8], list[256];
	if (n->kind != YNODE_SCALAR)
		return pl_fail(c, n, "%s: expected a string, found %s", path, ytree_kind_name(n));
	for (int i = 0; values[i]; i++)
		if (strlen(values[i]) == n->len && memcmp(values[i], n->text, n->len) == 0) {
			*out = i;
			return 0;
		}
	pl_join(list, sizeof list, values);
	const char *near = memchr(n->text, '\0', n->len) ? NULL : pl_suggest(n->text, values);
	if (near)
		return pl_fail(c, n, "%s: \"%s\" is not one of %s (did you mean \"%s\"?)", path,
		               pl_show(n->text, shown), list, near);
	return pl_fail(c, n, "%s: \"%s\" is not one of %s", path, pl_show(n->text, shown), list);
}

const struct ynode *pl_stage_node(const struct plctx *c, size_t i)
{
	const struct ynode *stages = ytree_get(c->decl, "stages");
	return stages && i < stages->n ? stages->items[i] : c->decl;
}

const struct ynode *pl_action_node(const struct plctx *c, size_t i, size_t j)
{
	const struct ynode *actions = ytree_get(pl_stage_node(c, i), "actions");
	return actions && j < actions->n ? actions->items[j] : pl_stage_node(c, i);
}

const struct ynode *pl_action_field(const struct plctx *c, const struct pl_action *a,
                                    const char *key)
{
	const struct ynode *an = pl_action_node(c, a->stage_index, a->index);
	const struct ynode *v = ytree_get(an, key);
	return v ? v : an;
}

const struct ynode *pl_config_node(const struct plctx *c, const struct pl_action *a,
                                   const char *key)
{
	const struct ynode *cfg = pl_action_field(c, a, "configuration");
	const struct ynode *v = ytree_get(cfg, key);
	return v ? v : cfg;
}

void pl_v2_field(struct plctx *c, const struct ynode *at, const char *what)
{
	if (c->v2_at)
		return;
	c->v2_at = at;
	c->v2_what = what;
}
