/*
 * fs.h — files and paths: capped reads, atomic writes, recursive mkdir/remove,
 * joining and containment checks.
 *
 * Invariants:
 *  - fs_write_atomic() writes a temporary file beside the target, fsyncs it and
 *    renames it into place: a reader sees the old or the new content, never a mix;
 *  - fs_read_file() refuses files larger than `max` with an error naming the path;
 *  - fs_rm_rf() never follows symbolic links out of the tree it removes.
 *
 * Ownership: returned `char *` are the caller's to free().
 */
#ifndef FERRY_FS_H
#define FERRY_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

FERRY_MUST_CHECK
int fs_read_file(const char *path, size_t max, char **data, size_t *len, struct err *err);

/* write(2) until all of `data` is written (retrying on EINTR); -1 with errno. */
FERRY_MUST_CHECK
int fs_write_all(int fd, const void *data, size_t len);

FERRY_MUST_CHECK
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err *err);

FERRY_MUST_CHECK
int fs_mkdir_p(const char *path, mode_t mode, struct err *err);

/* Removes a file or a whole tree; a missing path is not an error. */
FERRY_MUST_CHECK
int fs_rm_rf(const char *path, struct err *err);

/* "a" + "/" + "b" (b absolute → b). */
char *fs_join(const char *a, const char *b);

/* 1 when `rel` is relative and each of its parts is a plain name (not "", "." or
 * ".."): the check every member name of an archive passes before it is written.
 * A directory's one trailing slash is allowed. */
int fs_plain_relative(const char *rel);

/* 1 when `path` equals `root` or lies below it (both canonical absolute paths). */
int fs_is_within(const char *root, const char *path);

/* realpath() that returns NULL with an error naming the path. */
char *fs_realpath(const char *path, struct err *err);

/* 1 if the path exists (lstat), 0 otherwise. */
int fs_exists(const char *path);
int fs_is_dir(const char *path);

/* Copies a regular file, keeping its mode. */
FERRY_MUST_CHECK
int fs_copy_file(const char *from, const char *to, struct err *err);

#endif
