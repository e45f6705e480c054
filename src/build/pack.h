/*
 * pack.h — internal to src/build: putting files and symbolic links from a directory
 * tree into a libarchive writer (the artifact zip, the cache tar).
 *
 * Invariants:
 *  - a file entry carries the file's permission bits and mtime, and exactly the
 *    bytes of its size at open time (a file that shrinks meanwhile is an error);
 *  - link targets produced by pack_relative_target() are relative, so a tree stays
 *    valid wherever it is extracted.
 *
 * Ownership: returned `char *` are the caller's to free().
 */
#ifndef FERRY_PACK_H
#define FERRY_PACK_H

#include <stdint.h>

#include "util/err.h"

struct archive;
struct archive_entry;

/* Adds the regular file at `abs` (links followed) as `stored`; adds its size to *bytes. */
FERRY_MUST_CHECK
int pack_add_file(struct archive *a, const char *abs, const char *stored, int64_t *bytes,
                  struct err *err);

/* Adds a symbolic link `stored` -> `target`, with the mtime of the link at `abs`. */
FERRY_MUST_CHECK
int pack_add_link(struct archive *a, const char *abs, const char *stored, const char *target,
                  struct err *err);

/* The relative target that a link stored at `link_rel` (relative to `root`) needs to
 * reach `target_abs`, a canonical path at or below the canonical `root`. */
char *pack_relative_target(const char *root, const char *link_rel, const char *target_abs);

/* Backslash-escapes glob wildcards so `s` is matched literally by spec/glob. */
char *pack_glob_escape(const char *s);

/*
 * Extraction that cannot leave its tree (the semantics of libarchive's
 * ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | _NODOTDOT | _SYMLINKS, without re-walking
 * the absolute path from "/" for every member): each directory is opened relative to
 * its parent with O_NOFOLLOW, so a symbolic link on the way — already there or made
 * by an earlier member — stops the member; names that are absolute or hold `..`, `.`
 * or empty components are refused; a link whose target would leave the tree is
 * refused. Only regular files (mode kept, minus set-id bits; mtime kept) and symbolic
 * links are written; an existing non-directory is replaced, a directory never is.
 * The parent directory of the previous member stays open, so members in tar order
 * cost one open each.
 */
struct pack_extract;

struct pack_extract *pack_extract_new(void);
void pack_extract_free(struct pack_extract *x);

/* Writes the member whose header was just read from `in` as `rel` below the
 * directory `root_fd` (O_PATH is enough). Returns 1 when written, 0 when refused or
 * failed for this member only (*why says why, to free), -1 when reading `in` failed. */
FERRY_MUST_CHECK
int pack_extract_member(struct pack_extract *x, int root_fd, struct archive *in,
                        struct archive_entry *e, const char *rel, char **why, struct err *err);

#endif
