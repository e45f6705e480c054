/*
 * ytree.c — builds a struct ynode tree from libyaml's event stream.
 *
 * Why events rather than libyaml's document loader: the loader shares aliased
 * nodes and has no hook to stop an alias bomb early; here every alias becomes an
 * owned copy, counted against YTREE_NODES_MAX and YTREE_TEXT_MAX as it is made.
 *
 * Anchors point at nodes of the tree under construction. A node an anchor may
 * name is never changed or freed before the parse ends: a mapping's `<<` merge
 * copies what it takes and parks the merge source in the graveyard instead.
 */
#include "spec/ytree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/buf.h"

#define YTREE_TEXT_MAX    (32u << 20) /* scalar bytes, after alias expansion */
#define YTREE_ANCHORS_MAX 1024

struct anchor {
	char *name;
	struct ynode *node;
};

struct builder {
	const char *file;
	const char *text;
	size_t len;
	struct ynode *root;
	struct ynode *stack[YTREE_DEPTH_MAX]; /* open sequences and mappings */
	char *stack_anchor[YTREE_DEPTH_MAX];  /* registered when the node closes */
	int depth;
	struct anchor *anchors;
	size_t nanchors;
	struct ynode **grave; /* nodes out of the tree that anchors may still name */
	size_t ngrave;
	size_t nodes;
	size_t bytes;
	int docs;
	struct err *err;
};

static void node_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->items[i]);
	free(n->items);
	free(n->text);
	free(n);
}

void ytree_free(struct ynode *root)
{
	node_free(root);
}

const struct ynode *ytree_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP)
		return NULL;
	size_t klen = strlen(key);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];
		if (k->text && k->len == klen && memcmp(k->text, key, klen) == 0)
			return map->items[i + 1];
	}
	return NULL;
}

const char *ytree_kind_name(const struct ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case YNODE_NULL:
		return "null";
	case YNODE_SCALAR:
		return "a string";
	case YNODE_SEQ:
		return "a list";
	case YNODE_MAP:
		return "a mapping";
	}
	return "?";
}

FERRY_PRINTF(4, 5)
static int fail_at(struct builder *b, size_t line, size_t col, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(b->err, "%s:%zu:%zu: %s", b->file, line, col, msg);
}

#define FAIL(b, mark, ...) fail_at((b), (mark).line + 1, (mark).column + 1, __VA_ARGS__)

/* Items arrays grow by doubling; their capacity is implied by their length. */
static size_t items_cap(size_t n)
{
	if (n == 0)
		return 0;
	size_t cap = 4;
	while (cap < n)
		cap *= 2;
	return cap;
}

static void push_item(struct ynode *parent, struct ynode *child)
{
	if (parent->n == items_cap(parent->n))
		parent->items =
		        xrealloc(parent->items, items_cap(parent->n + 1) * sizeof *parent->items);
	parent->items[parent->n++] = child;
}

static void bury(struct builder *b, struct ynode *n)
{
	if (b->ngrave == items_cap(b->ngrave))
		b->grave = xrealloc(b->grave, items_cap(b->ngrave + 1) * sizeof *b->grave);
	b->grave[b->ngrave++] = n;
}

static struct ynode *new_node(struct builder *b, enum ynode_kind kind, yaml_mark_t m)
{
	if (b->nodes >= YTREE_NODES_MAX) {
		FAIL(b, m,
		     "the document expands past %d nodes (YTREE_NODES_MAX); aliases nested too "
		     "deep?",
		     YTREE_NODES_MAX);
		return NULL;
	}
	b->nodes++;
	struct ynode *n = xcalloc(1, sizeof *n);
	n->kind = kind;
	n->line = (int)m.line + 1;
	n->col = (int)m.column + 1;
	return n;
}

static int count_text(struct builder *b, size_t len, yaml_mark_t m)
{
	if (len > YTREE_TEXT_MAX - b->bytes)
		return FAIL(b, m, "the document expands past %u bytes of text (YTREE_TEXT_MAX)",
		            YTREE_TEXT_MAX);
	b->bytes += len;
	return 0;
}

/* Deep copy for an alias; `level` is the nesting the copy would have as a container. */
static struct ynode *copy_node(struct builder *b, const struct ynode *src, int level, yaml_mark_t m)
{
	if ((src->kind == YNODE_SEQ || src->kind == YNODE_MAP) && level > YTREE_DEPTH_MAX) {
		FAIL(b, m, "nesting deeper than %d levels (YTREE_DEPTH_MAX)", YTREE_DEPTH_MAX);
		return NULL;
	}
	struct ynode *n = new_node(b, src->kind, m);
	if (!n)
		return NULL;
	n->line = src->line;
	n->col = src->col;
	n->quoted = src->quoted;
	if (src->text) {
		if (count_text(b, src->len, m) < 0) {
			node_free(n);
			return NULL;
		}
		n->text = xmalloc(src->len + 1);
		memcpy(n->text, src->text, src->len + 1);
		n->len = src->len;
	}
	if (src->n)
		n->items = xmalloc(items_cap(src->n) * sizeof *n->items);
	for (size_t i = 0; i < src->n; i++) {
		struct ynode *c = copy_node(b, src->items[i], level + 1, m);
		if (!c) {
			node_free(n);
			return NULL;
		}
		n->items[n->n++] = c;
	}
	return n;
}

static int is_container(const struct ynode *n)
{
	return n->kind == YNODE_SEQ || n->kind == YNODE_MAP;
}

/* Hands a new node to the open container (or makes it the root); frees it on error. */
static int attach(struct builder *b, struct ynode *n, yaml_mark_t m)
{
	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	struct ynode *parent = b->stack[b->depth - 1];
	if (parent->kind == YNODE_MAP && parent->n % 2 == 0 && is_container(n)) {
		const char *kind = ytree_kind_name(n);
		node_free(n);
		return FAIL(b, m, "a mapping key must be a plain value, found %s", kind);
	}
	push_item(parent, n);
	return 0;
}

static int add_anchor(struct builder *b, const char *name, struct ynode *n, yaml_mark_t m)
{
	if (!name)
		return 0;
	if (b->nanchors >= YTREE_ANCHORS_MAX)
		return FAIL(b, m, "more than %d anchors (YTREE_ANCHORS_MAX)", YTREE_ANCHORS_MAX);
	if (b->nanchors == items_cap(b->nanchors))
		b->anchors = xrealloc(b->anchors, items_cap(b->nanchors + 1) * sizeof *b->anchors);
	b->anchors[b->nanchors].name = xstrdup(name);
	b->anchors[b->nanchors].node = n;
	b->nanchors++;
	return 0;
}

/* Plain `~`, `null`, `Null`, `NULL` and the empty plain value are null (YAML core schema). */
static int is_null_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
		return 0;
	return ev->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	yaml_mark_t m = ev->start_mark;
	struct ynode *n = new_node(b, is_null_scalar(ev) ? YNODE_NULL : YNODE_SCALAR, m);
	if (!n)
		return -1;
	if (count_text(b, ev->data.scalar.length, m) < 0) {
		node_free(n);
		return -1;
	}
	n->len = ev->data.scalar.length;
	n->text = xmalloc(n->len + 1);
	memcpy(n->text, ev->data.scalar.value, n->len);
	n->text[n->len] = '\0';
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (attach(b, n, m) < 0)
		return -1;
	return add_anchor(b, (const char *)ev->data.scalar.anchor, n, m);
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	yaml_mark_t m = ev->start_mark;
	for (size_t i = b->nanchors; i-- > 0;) {
		if (strcmp(b->anchors[i].name, name) != 0)
			continue;
		struct ynode *n = copy_node(b, b->anchors[i].node, b->depth + 1, m);
		if (!n)
			return -1;
		n->line = (int)m.line + 1;
		n->col = (int)m.column + 1;
		return attach(b, n, m);
	}
	return FAIL(b, m,
	            "unknown anchor \"%s\" (an alias must come after its anchor's whole node)",
	            name);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum ynode_kind kind)
{
	yaml_mark_t m = ev->start_mark;
	if (b->depth >= YTREE_DEPTH_MAX)
		return FAIL(b, m, "nesting deeper than %d levels (YTREE_DEPTH_MAX)",
		            YTREE_DEPTH_MAX);
	struct ynode *n = new_node(b, kind, m);
	if (!n)
		return -1;
	if (attach(b, n, m) < 0)
		return -1;
	const yaml_char_t *anchor =
	        kind == YNODE_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	b->stack_anchor[b->depth] = anchor ? xstrdup((const char *)anchor) : NULL;
	b->stack[b->depth++] = n;
	return 0;
}

struct keyref {
	struct ynode *key;
	size_t pos; /* order of appearance */
	int prio;   /* 0: written in the mapping; 1+: from the n-th merge source */
	struct ynode *val;
};

static int keyref_cmp(const void *pa, const void *pb)
{
	const struct keyref *a = pa, *b = pb;
	size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
	int c = memcmp(a->key->text, b->key->text, n);
	if (c)
		return c;
	if (a->key->len != b->key->len)
		return a->key->len < b->key->len ? -1 : 1;
	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int keyref_pos_cmp(const void *pa, const void *pb)
{
	const struct keyref *a = pa, *b = pb;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int same_key(const struct keyref *a, const struct keyref *b)
{
	return a->key->len == b->key->len && memcmp(a->key->text, b->key->text, a->key->len) == 0;
}

/* A key as shown in a message: one line, cut short. */
static const char *show_key(const struct ynode *k, char *buf, size_t size)
{
	size_t n = 0;
	for (; n < k->len && n + 4 < size; n++) {
		unsigned char ch = (unsigned char)k->text[n];
		buf[n] = ch < 0x20 || ch == 0x7f || ch == '"' ? '?' : (char)ch;
	}
	if (n < k->len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* Sorting makes the check O(n log n): a hostile file may hold 100k keys. */
static int check_duplicates(struct builder *b, const struct ynode *map)
{
	size_t nk = map->n / 2;
	if (nk < 2)
		return 0;
	struct keyref *refs = xcalloc(nk, sizeof *refs);
	for (size_t i = 0; i < nk; i++)
		refs[i] = (struct keyref){map->items[2 * i], i, 0, NULL};
	qsort(refs, nk, sizeof *refs, keyref_cmp);
	const struct keyref *dup = NULL, *first = NULL;
	for (size_t i = 1; i < nk; i++) {
		if (same_key(&refs[i - 1], &refs[i]) && (!dup || refs[i].pos < dup->pos)) {
			dup = &refs[i];
			first = &refs[i - 1];
		}
	}
	int rc = 0;
	char shown[64];
	if (dup)
		rc = fail_at(b, (size_t)dup->key->line, (size_t)dup->key->col,
		             "duplicate key \"%s\" (first at line %d, column %d)",
		             show_key(dup->key, shown, sizeof shown), first->key->line,
		             first->key->col);
	free(refs);
	return rc;
}

static int is_merge_key(const struct ynode *k)
{
	return k->kind == YNODE_SCALAR && !k->quoted && strcmp(k->text, "<<") == 0;
}

static void add_ref(struct keyref **refs, size_t *n, struct keyref r)
{
	if (*n == items_cap(*n))
		*refs = xrealloc(*refs, items_cap(*n + 1) * sizeof **refs);
	(*refs)[(*n)++] = r;
}

/* Collects the mapping's own pairs (prio 0) and its merge sources' pairs (prio 1+). */
static int collect_merge(struct builder *b, const struct ynode *map, struct keyref **refs,
                         size_t *nrefs)
{
	int prio = 0;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		struct ynode *k = map->items[i], *v = map->items[i + 1];
		if (!is_merge_key(k)) {
			add_ref(refs, nrefs, (struct keyref){k, *nrefs, 0, v});
			continue;
		}
		size_t nsrc = v->kind == YNODE_SEQ ? v->n : 1;
		for (size_t s = 0; s < nsrc; s++) {
			const struct ynode *src = v->kind == YNODE_SEQ ? v->items[s] : v;
			if (src->kind != YNODE_MAP)
				return fail_at(
				        b, (size_t)src->line, (size_t)src->col,
				        "a merge (<<) takes a mapping or a list of mappings, "
				        "found %s",
				        ytree_kind_name(src));
			prio++;
			for (size_t j = 0; j + 1 < src->n; j += 2)
				add_ref(refs, nrefs,
				        (struct keyref){src->items[j], *nrefs, prio,
				                        src->items[j + 1]});
		}
	}
	return 0;
}

/* Rebuilds `map` with its `<<` merges applied: keys written in the mapping win, then
 * earlier merge sources; merged pairs are copies, merge sources go to the graveyard. */
static int apply_merge(struct builder *b, struct ynode *map, yaml_mark_t m)
{
	struct keyref *refs = NULL;
	size_t n = 0, kept = 0;
	int rc = collect_merge(b, map, &refs, &n);
	if (rc == 0 && n)
		qsort(refs, n, sizeof *refs, keyref_cmp);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (i > 0 && same_key(&refs[i - 1], &refs[i]))
			continue;
		struct keyref r = refs[i];
		if (r.prio > 0) {
			struct ynode *k = copy_node(b, r.key, b->depth + 2, m);
			r.val = k ? copy_node(b, r.val, b->depth + 2, m) : NULL;
			r.key = k;
			if (!k || !r.val) {
				node_free(k);
				rc = -1;
			}
		}
		if (rc == 0)
			refs[kept++] = r;
	}
	if (rc < 0) {
		for (size_t i = 0; i < kept; i++)
			if (refs[i].prio > 0) {
				node_free(refs[i].key);
				node_free(refs[i].val);
			}
		free(refs);
		return -1;
	}
	if (kept) /* `<<: {}` merges nothing: refs may be NULL, which qsort must not get */
		qsort(refs, kept, sizeof *refs, keyref_pos_cmp);
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (is_merge_key(map->items[i])) {
			bury(b, map->items[i]);
			bury(b, map->items[i + 1]);
		}
	free(map->items);
	map->items = kept ? xmalloc(items_cap(2 * kept) * sizeof *map->items) : NULL;
	map->n = 0;
	for (size_t i = 0; i < kept; i++) {
		map->items[map->n++] = refs[i].key;
		map->items[map->n++] = refs[i].val;
	}
	free(refs);
	return 0;
}

static int on_end(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n = b->stack[--b->depth];
	char *anchor = b->stack_anchor[b->depth];
	b->stack_anchor[b->depth] = NULL;
	int rc = 0;
	if (n->kind == YNODE_MAP) {
		rc = check_duplicates(b, n);
		int merge = 0;
		for (size_t i = 0; rc == 0 && i + 1 < n->n; i += 2)
			merge |= is_merge_key(n->items[i]);
		if (rc == 0 && merge)
			rc = apply_merge(b, n, ev->start_mark);
	}
	if (rc == 0)
		rc = add_anchor(b, anchor, n, ev->start_mark);
	free(anchor);
	return rc;
}

/* Where a reader error (bad UTF-8, control character) sits, from its byte offset. */
static void offset_to_linecol(const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* A tab in a line's indentation is the usual cause of "cannot start any token". */
static int line_has_tab_indent(const char *text, size_t len, size_t line0)
{
	size_t i = 0;
	for (size_t l = 0; l < line0 && i < len; i++)
		if (text[i] == '\n')
			l++;
	for (; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
		if (text[i] == '\t')
			return 1;
	return 0;
}

static int parser_fail(struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	if (p->error == YAML_MEMORY_ERROR)
		return err_set(b->err, "%s: out of memory while reading YAML", b->file);
	if (p->error == YAML_READER_ERROR) {
		size_t line, col;
		offset_to_linecol(b->text, b->len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			return fail_at(b, line, col, "%s (byte 0x%02x)", problem,
			               (unsigned)p->problem_value & 0xff);
		return fail_at(b, line, col, "%s", problem);
	}
	yaml_mark_t pm = p->problem_mark, cm = p->context_mark;
	const char *hint = "";
	if (line_has_tab_indent(b->text, b->len, pm.line))
		hint = "; this line is indented with a tab: YAML indentation must use spaces";
	if (!p->context)
		return FAIL(b, pm, "%s%s", problem, hint);
	if (cm.line == pm.line && cm.column == pm.column)
		return FAIL(b, pm, "%s (%s)%s", problem, p->context, hint);
	return FAIL(b, pm, "%s (%s that started at line %zu, column %zu)%s", problem, p->context,
	            cm.line + 1, cm.column + 1, hint);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->docs++ > 0)
			return FAIL(
			        b, ev->start_mark,
			        "a second YAML document starts here; a file holds one document");
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, YNODE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, YNODE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b, ev);
	default:
		return 0;
	}
}

static void builder_release(struct builder *b)
{
	for (int i = 0; i < b->depth; i++)
		free(b->stack_anchor[i]);
	for (size_t i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	for (size_t i = 0; i < b->ngrave; i++)
		node_free(b->grave[i]);
	free(b->grave);
}

static int run_parser(struct builder *b)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return err_set(b->err, "%s: out of memory while reading YAML", b->file);
	yaml_parser_set_input_string(&p, (const unsigned char *)b->text, b->len);
	int rc = 0, done = 0;
	while (rc == 0 && !done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = parser_fail(b, &p);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

int ytree_parse(const char *text, size_t len, const char *filename, struct ynode **root,
                struct err *err)
{
	struct builder b = {0};
	b.file = filename ? filename : "-";
	b.text = text ? text : "";
	b.len = text ? len : 0;
	b.err = err;
	*root = NULL;
	int rc = run_parser(&b);
	builder_release(&b);
	if (rc < 0) {
		node_free(b.root);
		return -1;
	}
	if (!b.root) {
		yaml_mark_t start = {0, 0, 0};
		b.root = new_node(&b, YNODE_NULL, start);
		b.root->text = xstrdup("");
	}
	*root = b.root;
	return 0;
}
