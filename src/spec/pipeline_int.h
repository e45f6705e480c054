/*
 * pipeline_int.h — what the files of the pipeline declaration module share (not a
 * public header: only src/spec/pipeline*.c include it).
 *
 * Reading happens in two passes over the same ytree: pipeline_parse.c (and
 * pipeline_trigger.c, pipeline_project.c) turn each node into a struct field, checking
 * types, patterns and lengths (§1.1); pipeline_check.c then checks the structure
 * (§1.2, §1.5, §3.1) and pipeline_provider.c each action's type and configuration
 * (§4). The second pass finds its nodes again by index — arrays are built in file
 * order with nothing skipped, so stages[i] is the i-th item of the `stages` node.
 * The extensions (pipeline_project.c, pipeline_notify.c) are read after the
 * declaration, before the second pass.
 *
 * Every failure returns -1 with "FILE:LINE:COL: field.path: what was expected".
 */
#ifndef FERRY_PIPELINE_INT_H
#define FERRY_PIPELINE_INT_H

#include "spec/pipeline.h"
#include "spec/ytree.h"

#define PL_PATH_MAX 320 /* field paths in messages */
#define PL_SHOW_MAX 64  /* user text quoted in messages is cut to this */

struct plctx {
	const char *file;
	struct pipeline *p;
	struct err *err;
	const struct pipeline_opts *opts;
	const struct ynode *decl;          /* the declaration mapping */
	int bare;                          /* the file is the declaration itself (not wrapped) */
	const struct ynode *projects;      /* the `projects` value, NULL when absent */
	const struct ynode *notifications; /* the `notifications` value, NULL when absent */
	const struct ynode *v2_at;         /* the first V2-only field (§1.5), NULL when none */
	const char *v2_what;               /* its name, for messages */
};

/* --- pipeline_util.c ------------------------------------------------------------- */

/* Room for item `n` of an array whose capacity follows from its length (doubling). */
void *pl_grow(void *arr, size_t n, size_t elem);

/* "FILE:LINE:COL: " + message at node `at`; returns -1. */
FERRY_PRINTF(3, 4)
int pl_fail(struct plctx *c, const struct ynode *at, const char *fmt, ...);
FERRY_PRINTF(3, 4)
void pl_warn(struct plctx *c, const struct ynode *at, const char *fmt, ...);

/* User text, cut to PL_SHOW_MAX and with control characters and quotes replaced. */
const char *pl_show(const char *s, char buf[PL_SHOW_MAX + 8]);

/* printf into a path buffer (cut, never overflowing). */
FERRY_PRINTF(2, 3)
void pl_path(char out[PL_PATH_MAX], const char *fmt, ...);

/* A mapping's value for `key`; a null value counts as absent. */
const struct ynode *pl_get(const struct ynode *map, const char *key);

/* `n` must be a mapping (null is not accepted: a section that is there says something). */
FERRY_MUST_CHECK
int pl_want_map(struct plctx *c, const struct ynode *n, const char *path);
/* `n` must be a list with min..max items. */
FERRY_MUST_CHECK
int pl_want_list(struct plctx *c, const struct ynode *n, const char *path, size_t min, size_t max);

/* Fails at the first key of `map` not in `known` (NULL-terminated), with a suggestion. */
FERRY_MUST_CHECK
int pl_check_keys(struct plctx *c, const struct ynode *map, const char *path,
                  const char *const *known);

/* Fails naming `key` as missing from `map` ("path.key: missing (why)"). */
int pl_missing(struct plctx *c, const struct ynode *map, const char *path, const char *key,
               const char *why);

/* Characters a name may use beside ASCII letters and digits (AWS's patterns). */
#define PL_NAME_CHARS      ".@-_" /* pipeline, stage, action names */
#define PL_NAMESPACE_CHARS "@-_"  /* namespaces, variable names */
#define PL_ARTIFACT_CHARS  "_-"   /* artifact names */

/* A string of min..max characters (UTF-8 code points); when `chars` is not NULL, only
 * ASCII letters, digits and those characters. */
FERRY_MUST_CHECK
int pl_string(struct plctx *c, const struct ynode *n, const char *path, size_t min, size_t max,
              const char *chars, char **out);
/* A whole number in min..max. */
FERRY_MUST_CHECK
int pl_int(struct plctx *c, const struct ynode *n, const char *path, long min, long max, int *out);
/* One of `values` (NULL-terminated); its index in *out. */
FERRY_MUST_CHECK
int pl_enum(struct plctx *c, const struct ynode *n, const char *path, const char *const *values,
            int *out);

/* UTF-8 code points in s; (size_t)-1 when s is not valid UTF-8. */
size_t pl_utf8_len(const char *s, size_t len);
/* Replaces each byte that is not part of valid UTF-8 with '?': messages and reasons
 * end up in JSON answers, which must be valid UTF-8. */
void pl_utf8_fix(char *s);

/* The known word nearest to `word` when it is a likely typo, else NULL. */
const char *pl_suggest(const char *word, const char *const *known);

/* "a, b, c" of a NULL-terminated list, into out (cut). */
void pl_join(char *out, size_t size, const char *const *words);

/* The node of stage i / action (i, j) / an action's field (the action when absent). */
const struct ynode *pl_stage_node(const struct plctx *c, size_t i);
const struct ynode *pl_action_node(const struct plctx *c, size_t i, size_t j);
const struct ynode *pl_action_field(const struct plctx *c, const struct pl_action *a,
                                    const char *key);
/* An action's configuration value node for `key` (the action node when absent). */
const struct ynode *pl_config_node(const struct plctx *c, const struct pl_action *a,
                                   const char *key);

/* Notes a V2-only field (§1.5); the first one is kept for messages. */
void pl_v2_field(struct plctx *c, const struct ynode *at, const char *what);

/* --- pipeline_parse.c ------------------------------------------------------------ */

FERRY_MUST_CHECK
int pl_parse_decl(struct plctx *c, const struct ynode *decl);

/* --- pipeline_trigger.c ---------------------------------------------------------- */

FERRY_MUST_CHECK
int pl_parse_triggers(struct plctx *c, const struct ynode *n);
/* After the stages are in: each trigger names a CodeStarSourceConnection source action,
 * at most one trigger per action. */
FERRY_MUST_CHECK
int pl_link_triggers(struct plctx *c);
void pl_triggers_free(struct pl_trigger *t, size_t n);

/* --- pipeline_project.c ---------------------------------------------------------- */

FERRY_MUST_CHECK
int pl_parse_projects(struct plctx *c, const struct ynode *n);
void pl_projects_free(struct pl_project *p, size_t n);

/* --- pipeline_notify.c ----------------------------------------------------------- */

FERRY_MUST_CHECK
int pl_parse_notifications(struct plctx *c, const struct ynode *n);
void pl_notifications_free(struct pl_notify_rule *r, size_t n);

/* --- pipeline_provider.c --------------------------------------------------------- */

/* Finds the provider row of action (i, j) and checks actionTypeId against it, the
 * artifact counts and the configuration keys; fills a->provider, a->git, a->project. */
FERRY_MUST_CHECK
int pl_check_action_type(struct plctx *c, struct pl_action *a);

/* --- pipeline_check.c ------------------------------------------------------------ */

FERRY_MUST_CHECK
int pl_check_structure(struct plctx *c);

/* --- pipeline_vars.c ------------------------------------------------------------- */

/* A reference starting at s (s[0] == '#'): 1 with its parts' offsets and lengths filled
 * (`*end` just after the `}`), 0 when s does not start a reference. */
int pl_var_at(const char *s, size_t *ns_len, size_t *key_off, size_t *key_len, size_t *end);

#endif
