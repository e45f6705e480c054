/*
 * gitglob.c — trigger-filter globs (gitglob.h) compiled to a small NFA and run as a
 * set of states (Thompson's construction): every step costs at most one visit per
 * state, so no pattern can make matching slow, however many `*` and `{...}` it has.
 *
 * Matching works on Unicode code points, not bytes: `?` must take "é" as one
 * character, as Java does. Bytes that are not valid UTF-8 become code points of
 * their own (above U+10FFFF), so they match only themselves, `*`, `**` and `?`.
 *
 * The NFA's nodes are consumers (a character, `?`, a class) that go to the next node,
 * `*` and `**` (consume and stay, or move on without consuming), and SPLIT / JMP
 * (move without consuming) for `{a,b}`: a SPLIT per alternative, a JMP at the end
 * of each alternative to after the group.
 */
#include "spec/gitglob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define RAW_BYTE 0x80000000u /* tag of a byte that is not valid UTF-8 */

enum op { OP_CHAR, OP_ANY, OP_CLASS, OP_STAR, OP_DSTAR, OP_SPLIT, OP_JMP, OP_MATCH };

struct node {
	uint8_t op;
	uint32_t cp;        /* OP_CHAR */
	uint16_t next, alt; /* successor; OP_SPLIT's second successor */
	uint16_t cls;       /* OP_CLASS: index into classes */
};

struct cls {
	size_t first, n; /* ranges[first .. first+n) */
	int neg;
};

struct gitglob {
	struct node *nodes;
	size_t n;
	struct cls *classes;
	size_t nclasses;
	uint32_t (*ranges)[2];
	size_t nranges;
};

/* Decodes one code point at s (not at its NUL); returns the bytes used. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t need;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3, v = c & 0x07, min = 0x10000;
	} else {
		*cp = RAW_BYTE | c;
		return 1;
	}
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = RAW_BYTE | c;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		*cp = RAW_BYTE | c;
		return 1;
	}
	*cp = v;
	return need + 1;
}

/* --- compiling ------------------------------------------------------------------- */

struct compiler {
	const unsigned char *p;
	size_t i; /* byte offset of the next pattern character */
	struct gitglob *g;
	struct err *err;
};

static size_t emit(struct compiler *c, enum op op, uint32_t cp)
{
	size_t k = c->g->n++;
	c->g->nodes[k] = (struct node){.op = (uint8_t)op, .cp = cp, .next = (uint16_t)(k + 1)};
	return k;
}

static void add_range(struct compiler *c, uint32_t lo, uint32_t hi)
{
	struct gitglob *g = c->g;
	g->ranges[g->nranges][0] = lo;
	g->ranges[g->nranges][1] = hi;
	g->nranges++;
	g->classes[g->nclasses].n++;
}

/* A class after its `[` (at c->i - 1); Java's rules (gitglob.h). */
static int compile_class(struct compiler *c, size_t open)
{
	struct gitglob *g = c->g;
	struct cls *k = &g->classes[g->nclasses];
	*k = (struct cls){.first = g->nranges};
	uint32_t cp, last = 0;
	int have_start = 0;
	if (c->p[c->i] == '!') {
		k->neg = 1;
		c->i++;
	}
	if (c->p[c->i] == '-') {
		add_range(c, '-', '-');
		c->i++;
	}
	for (;;) {
		size_t at = c->i;
		if (!c->p[at])
			return err_set(c->err, "position %zu: unclosed \"[\"", open + 1);
		c->i += utf8_next(c->p + at, &cp);
		if (cp == ']')
			break;
		if (cp == '/')
			return err_set(c->err,
			               "position %zu: \"/\" inside \"[...]\" (a class matches one "
			               "character of a name)",
			               at + 1);
		if (cp != '-') {
			add_range(c, cp, cp);
			have_start = 1;
			last = cp;
			continue;
		}
		if (!have_start)
			return err_set(c->err, "position %zu: \"-\" with no start of a range",
			               at + 1);
		size_t to = c->i;
		if (!c->p[to])
			return err_set(c->err, "position %zu: unclosed \"[\"", open + 1);
		c->i += utf8_next(c->p + to, &cp);
		if (cp == ']') { /* `[a-]`: a plain `-` at the end */
			add_range(c, '-', '-');
			break;
		}
		if (cp == '/')
			return err_set(c->err,
			               "position %zu: \"/\" inside \"[...]\" (a class matches one "
			               "character of a name)",
			               to + 1);
		if (cp < last)
			return err_set(c->err, "position %zu: the range ends before it starts",
			               at + 1);
		/* `last` was added as a one-character range: widen it. */
		g->ranges[g->nranges - 1][1] = cp;
		have_start = 0;
	}
	if (k->n == 0)
		return err_set(c->err, "position %zu: empty \"[]\" matches nothing", open + 1);
	size_t node = emit(c, OP_CLASS, 0);
	g->nodes[node].cls = (uint16_t)g->nclasses++;
	return 0;
}

struct group {
	int open;
	size_t at;     /* byte offset of the `{` */
	size_t split;  /* the SPLIT in front of the current alternative */
	size_t *jumps; /* JMPs at the ends of finished alternatives */
	size_t njumps;
};

static int compile(struct compiler *c)
{
	size_t len = strlen((const char *)c->p);
	struct group grp = {.jumps = xcalloc(len + 1, sizeof(size_t))};
	int rc = -1;
	while (c->p[c->i]) {
		size_t at = c->i;
		uint32_t cp;
		c->i += utf8_next(c->p + at, &cp);
		switch (cp) {
		case '*':
			if (c->p[c->i] == '*') {
				c->i++;
				emit(c, OP_DSTAR, 0);
			} else {
				emit(c, OP_STAR, 0);
			}
			break;
		case '?':
			emit(c, OP_ANY, 0);
			break;
		case '[':
			if (compile_class(c, at) < 0)
				goto out;
			break;
		case '{':
			if (grp.open) {
				err_set(c->err,
				        "position %zu: \"{\" inside \"{...}\" (groups do not nest)",
				        at + 1);
				goto out;
			}
			grp.open = 1;
			grp.at = at;
			grp.njumps = 0;
			grp.split = emit(c, OP_SPLIT, 0);
			break;
		case ',':
			if (!grp.open) {
				emit(c, OP_CHAR, ',');
				break;
			}
			grp.jumps[grp.njumps++] = emit(c, OP_JMP, 0);
			c->g->nodes[grp.split].alt = (uint16_t)c->g->n;
			grp.split = emit(c, OP_SPLIT, 0);
			break;
		case '}':
			if (!grp.open) {
				emit(c, OP_CHAR, '}');
				break;
			}
			c->g->nodes[grp.split].alt = (uint16_t)(grp.split + 1);
			for (size_t j = 0; j < grp.njumps; j++)
				c->g->nodes[grp.jumps[j]].next = (uint16_t)c->g->n;
			grp.open = 0;
			break;
		case '\\':
			if (!c->p[c->i]) {
				err_set(c->err, "position %zu: \"\\\" at the end escapes nothing",
				        at + 1);
				goto out;
			}
			c->i += utf8_next(c->p + c->i, &cp);
			emit(c, OP_CHAR, cp);
			break;
		default:
			emit(c, OP_CHAR, cp);
		}
	}
	if (grp.open) {
		err_set(c->err, "position %zu: unclosed \"{\"", grp.at + 1);
		goto out;
	}
	emit(c, OP_MATCH, 0);
	rc = 0;
out:
	free(grp.jumps);
	return rc;
}

int gitglob_compile(const char *pattern, struct gitglob **out, struct err *err)
{
	*out = NULL;
	size_t len = strlen(pattern);
	if (len > GITGLOB_PATTERN_MAX)
		return err_set(err, "longer than %d bytes (GITGLOB_PATTERN_MAX)",
		               GITGLOB_PATTERN_MAX);
	/* Each pattern byte makes at most two nodes (`,` in a group: JMP + SPLIT). */
	struct gitglob *g = xcalloc(1, sizeof *g);
	g->nodes = xcalloc(2 * len + 2, sizeof *g->nodes);
	g->classes = xcalloc(len / 2 + 1, sizeof *g->classes);
	g->ranges = xcalloc(len + 1, sizeof *g->ranges);
	struct compiler c = {.p = (const unsigned char *)pattern, .g = g, .err = err};
	if (compile(&c) < 0) {
		gitglob_free(g);
		return -1;
	}
	*out = g;
	return 0;
}

void gitglob_free(struct gitglob *g)
{
	if (!g)
		return;
	free(g->nodes);
	free(g->classes);
	free(g->ranges);
	free(g);
}

/* --- matching -------------------------------------------------------------------- */

struct stateset {
	uint16_t *v;
	size_t n;
};

struct runner {
	const struct gitglob *g;
	uint32_t *mark; /* generation that last added each node */
	uint32_t gen;
	uint16_t *stack;
};

/* Adds node s and every node reachable from it without consuming. */
static void add_state(struct runner *r, struct stateset *set, uint16_t s)
{
	size_t top = 0;
	r->stack[top++] = s;
	while (top) {
		uint16_t k = r->stack[--top];
		if (r->mark[k] == r->gen)
			continue;
		r->mark[k] = r->gen;
		const struct node *nd = &r->g->nodes[k];
		switch (nd->op) {
		case OP_JMP:
			r->stack[top++] = nd->next;
			break;
		case OP_SPLIT:
			r->stack[top++] = nd->alt;
			r->stack[top++] = nd->next;
			break;
		case OP_STAR:
		case OP_DSTAR:
			set->v[set->n++] = k;
			r->stack[top++] = nd->next;
			break;
		default:
			set->v[set->n++] = k;
		}
	}
}

static int class_has(const struct gitglob *g, const struct cls *k, uint32_t cp)
{
	if (cp == '/')
		return 0;
	int in = 0;
	for (size_t i = 0; i < k->n && !in; i++)
		in = cp >= g->ranges[k->first + i][0] && cp <= g->ranges[k->first + i][1];
	return in != k->neg;
}

static int consumes(const struct gitglob *g, const struct node *nd, uint32_t cp)
{
	switch (nd->op) {
	case OP_CHAR:
		return nd->cp == cp;
	case OP_ANY:
	case OP_STAR:
		return cp != '/';
	case OP_CLASS:
		return class_has(g, &g->classes[nd->cls], cp);
	case OP_DSTAR:
		return 1;
	default:
		return 0;
	}
}

int gitglob_exec(const struct gitglob *g, const char *subject)
{
	/* Every node is pushed at most once per generation, and each push adds at most
	 * two entries: 2n + 2 bounds the stack. */
	struct runner r = {.g = g,
	                   .mark = xcalloc(g->n, sizeof(uint32_t)),
	                   .stack = xcalloc(2 * g->n + 2, sizeof(uint16_t))};
	struct stateset cur = {xcalloc(g->n, sizeof(uint16_t)), 0};
	struct stateset nxt = {xcalloc(g->n, sizeof(uint16_t)), 0};
	const unsigned char *s = (const unsigned char *)subject;
	r.gen = 1;
	add_state(&r, &cur, 0);
	while (*s && cur.n) {
		uint32_t cp;
		s += utf8_next(s, &cp);
		r.gen++;
		nxt.n = 0;
		for (size_t i = 0; i < cur.n; i++) {
			const struct node *nd = &g->nodes[cur.v[i]];
			if (!consumes(g, nd, cp))
				continue;
			int stays = nd->op == OP_STAR || nd->op == OP_DSTAR;
			add_state(&r, &nxt, stays ? cur.v[i] : nd->next);
		}
		struct stateset t = cur;
		cur = nxt;
		nxt = t;
	}
	int matched = 0;
	for (size_t i = 0; !*s && i < cur.n; i++)
		matched |= g->nodes[cur.v[i]].op == OP_MATCH;
	free(r.mark);
	free(r.stack);
	free(cur.v);
	free(nxt.v);
	return matched;
}

int gitglob_match(const char *pattern, const char *subject)
{
	struct gitglob *g;
	if (gitglob_compile(pattern, &g, NULL) < 0)
		return 0;
	int m = gitglob_exec(g, subject);
	gitglob_free(g);
	return m;
}
