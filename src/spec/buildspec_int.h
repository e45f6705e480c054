/*
 * buildspec_int.h — what the files of the buildspec checker share (not a public
 * header: only src/spec/buildspec*.c include it).
 *
 * Every check reads one ytree node, fills one field of `struct buildspec`, and on
 * failure returns -1 with "FILE:LINE:COL: field.path: what was expected" in c->err.
 * Warnings are collected with their position and sorted into file order at the end.
 */
#ifndef FERRY_BUILDSPEC_INT_H
#define FERRY_BUILDSPEC_INT_H

#include "spec/buildspec.h"
#include "spec/ytree.h"

#define BS_PATH_MAX          256 /* field paths in messages ("phases.build.commands[2]") */
#define BS_SHOW_MAX          48  /* user text quoted in messages is cut to this */
#define BS_FALLBACK_KEYS_MAX 5

struct bs_warning {
	int line, col;
	size_t seq; /* keeps warnings at one position in the order they were noted */
	char *msg;
};

struct bsctx {
	const char *file;
	struct buildspec *bs;
	struct err *err;
	struct bs_warning *warns;
	size_t nwarns;
};

/* Room for item `n` of an array whose capacity follows from its length (doubling). */
void *bs_grow(void *arr, size_t n, size_t elem);

/* "FILE:LINE:COL: " + message, at node `at`; returns -1. */
FERRY_PRINTF(3, 4)
int bs_fail(struct bsctx *c, const struct ynode *at, const char *fmt, ...);
/* Notes a warning at node `at` (kept in file order). */
FERRY_PRINTF(3, 4)
void bs_warn(struct bsctx *c, const struct ynode *at, const char *fmt, ...);

/* A scalar's text, cut and with control characters replaced, for messages. */
const char *bs_show(const struct ynode *n, char buf[BS_SHOW_MAX + 8]);

/* "parent.key" into out (or "key" when parent is empty). */
void bs_path(char out[BS_PATH_MAX], const char *parent, const char *key);

/* The known word nearest to `word` when it is a likely typo, else NULL. */
const char *bs_suggest(const char *word, const char *const *known);

/* Fails at the first key of `map` not in `known` (NULL-terminated), in file order;
 * `what` names the entries in the message ("key", "phase"). */
FERRY_MUST_CHECK
int bs_check_keys(struct bsctx *c, const struct ynode *map, const char *path,
                  const char *const *known, const char *what);

/* A section must be a mapping; null (an empty section) is accepted as an empty one. */
FERRY_MUST_CHECK
int bs_want_map(struct bsctx *c, const struct ynode *n, const char *path);

/* A string field: any scalar, kept as written; null, lists and mappings fail. */
FERRY_MUST_CHECK
int bs_string(struct bsctx *c, const struct ynode *n, const char *path, char **out);

/* A list of strings (a single scalar is a one-item list; null items are skipped). */
FERRY_MUST_CHECK
int bs_strlist(struct bsctx *c, const struct ynode *n, const char *path, struct strv *out);

/* yes|no|true|false, case-insensitively. */
FERRY_MUST_CHECK
int bs_yesno(struct bsctx *c, const struct ynode *n, const char *path, int *out);

/* [A-Za-z_][A-Za-z0-9_]* */
int bs_valid_name(const char *s);

/* Sections checked in buildspec_env.c and buildspec_out.c. */
FERRY_MUST_CHECK
int bs_check_env(struct bsctx *c, const struct ynode *env);
FERRY_MUST_CHECK
int bs_check_v01_env(struct bsctx *c, const struct ynode *env);
FERRY_MUST_CHECK
int bs_check_artifacts(struct bsctx *c, const struct ynode *key, const struct ynode *val);
FERRY_MUST_CHECK
int bs_check_reports(struct bsctx *c, const struct ynode *val);
FERRY_MUST_CHECK
int bs_check_cache(struct bsctx *c, const struct ynode *val);

void bs_vars_free(struct bs_var *v, size_t n);
void bs_artifacts_free(struct bs_artifacts *a);

#endif
