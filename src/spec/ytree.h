/*
 * ytree.h — a YAML (and JSON) document as a tree of nodes that remember where
 * they came from, built with libyaml.
 *
 * Invariants:
 *  - scalars keep their source text exactly as written (after YAML unescaping of
 *    quoted styles): no YAML-1.1 coercion, `NO` stays "NO", `1.20` stays "1.20";
 *  - every node has a 1-based line and column;
 *  - mappings keep key order; a duplicate key is a parse error;
 *  - aliases are expanded (bounded: a document that expands past YTREE_NODES_MAX
 *    nodes is refused); only the first document of a stream is used, more than
 *    one document is an error; an empty document gives a NULL-kind root;
 *  - errors read "FILE:LINE:COLUMN: message" (libyaml's problem text included).
 *
 * Ownership: ytree_parse() hands the caller a tree to release with ytree_free().
 */
#ifndef FERRY_YTREE_H
#define FERRY_YTREE_H

#include <stddef.h>

#include "util/err.h"

#define YTREE_NODES_MAX 200000
#define YTREE_DEPTH_MAX 64

enum ynode_kind {
	YNODE_NULL,   /* empty document, `~`, `null`, or an empty plain value */
	YNODE_SCALAR, /* any other scalar, plain or quoted */
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	enum ynode_kind kind;
	int line; /* 1-based */
	int col;  /* 1-based */
	/* scalar text (NUL-terminated, may contain NULs from escapes: use len) */
	char *text;
	size_t len;
	int quoted; /* written quoted or as a block scalar (| or >) */
	/* sequences: items[0..n); mappings: items[2i] is a key, items[2i+1] its value */
	struct ynode **items;
	size_t n;
};

FERRY_MUST_CHECK
int ytree_parse(const char *text, size_t len, const char *filename, struct ynode **root,
                struct err *err);
void ytree_free(struct ynode *root);

/* Mapping lookup by key text; NULL when absent or when `map` is not a mapping. */
const struct ynode *ytree_get(const struct ynode *map, const char *key);

/* "a mapping", "a list", "a string", "null" — for error messages. */
const char *ytree_kind_name(const struct ynode *n);

#endif
