/*
 * site_int.h — internal to src/sites: checking and extracting a deploy's zip, and
 * the trees of releases (hard-link copies, counts).
 *
 * Invariants:
 *  - a zip passes site_zip_check() before anything of it is written; the extraction
 *    checks every entry again (the file is the caller's, but a check costs nothing);
 *  - what is written is only regular files (0644) and directories (0755): no links,
 *    devices, set-id bits or modes from the zip.
 */
#ifndef FERRY_SITES_SITE_INT_H
#define FERRY_SITES_SITE_INT_H

#include <stdint.h>

#include "util/err.h"

/* Reads every entry's header: SITE_EINVALID naming the first entry that is refused
 * (absolute, "..", a link, a device, too many, too big), -1 when the zip cannot be
 * read, else 0 with the entry count and declared bytes. */
FERRY_MUST_CHECK
int site_zip_check(const char *zip, long *entries, int64_t *bytes, struct err *err);

/* Writes the zip's entries below `root` (a canonical absolute directory), replacing
 * files in the way (unlinked first: they are hard links shared with older releases).
 * SITE_EINVALID for a refused entry or more than SITE_BYTES_MAX bytes, -1 else. */
FERRY_MUST_CHECK
int site_zip_extract(const char *zip, const char *root, struct err *err);

/* Recreates the tree under directory fd `src` in directory fd `dst`: directories are
 * made, regular files hard-linked (copied where the file system refuses a link);
 * anything else is skipped. `what` names `src` in errors. */
FERRY_MUST_CHECK
int site_tree_link(int src, int dst, const char *what, struct err *err);

/* Regular files and their bytes under directory fd `dir`. */
FERRY_MUST_CHECK
int site_tree_count(int dir, int64_t *files, int64_t *bytes, struct err *err);

#endif
