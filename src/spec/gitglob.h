/*
 * gitglob.h — the glob patterns of CodePipeline trigger filters (branches, tags and
 * file paths; ../shared/spec/pipeline.md §1.7): Java NIO-style globs, matched against
 * a whole string, case-sensitively. Not the buildspec globs of glob.h, where `**` is
 * a whole path component.
 *
 * Syntax:
 *  - `*`  any run of characters, possibly empty, without `/`;
 *  - `**` any run of characters, `/` included, wherever it stands: "src" "/" "**"
 *         ".c" matches src/a.c and src/x/a.c, but "src" "/" "**" "/" "*.c" needs a
 *         `/` after src and one more before the name, so it does not match src/a.c
 *         (docs/pipeline.md shows both);
 *  - `?`  one character other than `/`;
 *  - `[abc]`, `[a-z]`, `[!a-c]`: one character (never `/`) from, or with `!` first
 *         not from, the set; inside, `*`, `?`, `\`, `[` and `{` are plain characters;
 *         `-` is plain when first (after an optional `!`) or last; `^` first is a
 *         plain `^` (only `!` negates, as in Java);
 *  - `{a,b}`: one of the comma-separated sub-patterns (which may use the above);
 *         groups do not nest; outside a group `,` and `}` are plain characters;
 *  - `\x`: the character x, whatever it is.
 *
 * Invariants:
 *  - a compiled pattern matches in O(len(subject) × len(pattern)) time and
 *    O(len(pattern)) memory: no backtracking, whatever the pattern;
 *  - patterns are at most GITGLOB_PATTERN_MAX bytes; a pattern that does not compile
 *    (unclosed `[` or `{`, nested `{`, `/` in a class, a backwards or dangling range,
 *    an empty class, a trailing `\`) is refused with the reason and its position.
 *
 * Ownership: gitglob_compile() hands the caller a pattern to release with gitglob_free().
 */
#ifndef FERRY_GITGLOB_H
#define FERRY_GITGLOB_H

#include <stddef.h>

#include "util/err.h"

#define GITGLOB_PATTERN_MAX 255 /* CodePipeline's limit on a filter pattern */

struct gitglob; /* opaque */

/* Compiles `pattern`; -1 with "position N: what is wrong" in err otherwise. */
FERRY_MUST_CHECK
int gitglob_compile(const char *pattern, struct gitglob **out, struct err *err);

/* 1 when the whole `subject` matches, 0 otherwise. */
int gitglob_exec(const struct gitglob *g, const char *subject);

void gitglob_free(struct gitglob *g);

/* Compiles and matches once: 1 on a match, 0 otherwise (an invalid pattern matches
 * nothing). */
int gitglob_match(const char *pattern, const char *subject);

#endif
