/*
 * glob.h — CodeBuild's path patterns (../shared/spec/buildspec.md §6.2): matching a
 * relative path, and expanding patterns below a root directory.
 *
 * Semantics: patterns split on '/'; `*` matches a run of non-'/' characters, `?` one,
 * `[...]` a class (`[!...]` negated); a component that is exactly `**` matches zero or
 * more whole directories; leading dots are NOT special. Only non-directories are
 * emitted; a pattern naming a directory literally selects its contents recursively
 * (noted in `warnings`).
 *
 * Invariants of glob_expand() (the artifact, cache and report collectors rely on them):
 *  - nothing outside `root` is ever emitted: patterns that are absolute or contain a
 *    `..` component are skipped (listed in `invalid`), and a symbolic link whose
 *    target resolves outside `root` is not followed and not emitted (noted in
 *    `warnings`) — with GLOB_KEEP_LINKS, a link inside the tree is emitted as itself;
 *  - symlinked directories inside the root are followed once; loops are broken;
 *  - `paths` is sorted bytewise with no duplicates; each is relative to `root`;
 *  - the walk is bounded by GLOB_ENTRIES_MAX visited entries (an error past it).
 *
 * Ownership: a glob_result owns its strvs; release with glob_result_free().
 */
#ifndef FERRY_GLOB_H
#define FERRY_GLOB_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

#define GLOB_ENTRIES_MAX 2000000

enum {
	GLOB_KEEP_LINKS = 1 << 0, /* emit symlinks (to inside the root) as paths, don't follow */
	GLOB_DIRS = 1 << 1,       /* emit the directories a pattern matches instead of files
	                             (base-directory globs); a literal directory is emitted as
	                             itself, "." names the root */
};

/* 1 when the relative `path` matches `pattern`, 0 otherwise. */
int glob_match(const char *pattern, const char *path);

struct glob_result {
	struct strv paths;     /* matched, relative to root, sorted, unique */
	struct strv unmatched; /* patterns that matched nothing */
	struct strv invalid;   /* patterns refused (absolute, `..`, empty) */
	struct strv warnings;  /* human-readable notes (links out of the tree, literal dirs) */
};

/* Expands `patterns` below `root` (an absolute, canonical directory), then removes
 * every path matched by one of `excludes`. */
FERRY_MUST_CHECK
int glob_expand(const char *root, const struct strv *patterns, const struct strv *excludes,
                unsigned flags, struct glob_result *out, struct err *err);

void glob_result_free(struct glob_result *r);

#endif
