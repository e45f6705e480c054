/*
 * zipdir.h — a directory written as a zip, the same way wherever ferry zips one: a
 * function's code (functions/registry.h), `ferry fn --dir`, `ferry site deploy DIR`
 * and `ferry deploy push DIR`.
 *
 * The zip is deterministic: entries sorted by path (bytewise, depth first), no
 * directory entries, owners or set-id bits, modes reduced to 0755 for a file with
 * any execute bit (a function's `bootstrap`, a deployment's hook script) and 0644
 * otherwise, times fixed at 1980-01-01 (the zip epoch) unless ZIPDIR_KEEP_MTIME. So
 * the same files give the same bytes (a function's CodeSha256 tells "nothing
 * changed" by it). Devices, fifos and sockets are always left out.
 */
#ifndef FERRY_ZIPDIR_H
#define FERRY_ZIPDIR_H

#include "util/err.h"

enum {
	ZIPDIR_KEEP_MTIME = 1 << 0, /* entries carry each file's mtime (a site's Last-Modified) */
	ZIPDIR_SKIP_LINKS = 1 << 1, /* symbolic links are left out; else one is refused, named */
};

/* Writes the regular files under `dir` to the zip file `zip` (created or truncated).
 * *nfiles (may be NULL) gets their count. 0, or -1 with err naming the path. */
FERRY_MUST_CHECK
int zipdir_write(const char *dir, const char *zip, unsigned flags, long *nfiles, struct err *err);

#endif
