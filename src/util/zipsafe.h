/*
 * zipsafe.h — checking a zip from outside and writing it below a directory without
 * anything of it landing elsewhere: what a site's deploy, a function's code and a
 * deployment's bundle share.
 *
 * An entry is refused — the whole zip, with the entry named and nothing written —
 * when it is absolute, climbs out ("..", or an empty or "." part), is a link
 * (symbolic or hard), a device, fifo or socket, or when the zip has more than
 * `entries_max` entries or more than `bytes_max` bytes once inflated (declared sizes
 * are checked first; the bytes actually inflated are counted while writing, since a
 * zip's declared sizes can lie).
 *
 * Writing goes through libarchive's disk writer with its secure flags (no "..", no
 * write through a symbolic link). Modes are ours, never the zip's: directories 0755,
 * files 0644, or 0755 when `keep_exec` is set and the entry has an execute bit (a
 * function's `bootstrap`). No set-id bits, owners or links are ever written.
 *
 * Return codes: 0, ZIPSAFE_EINVALID (the zip is refused: err names the entry and why,
 * followed by `outcome`), -1 (it cannot be read or written).
 */
#ifndef FERRY_ZIPSAFE_H
#define FERRY_ZIPSAFE_H

#include <stdint.h>

#include "util/err.h"

#define ZIPSAFE_EINVALID 3

struct zipsafe_opts {
	const char *noun;    /* what the zip becomes, in "climbs out of the <noun>": "site" */
	const char *outcome; /* appended to a refusal: "nothing is published" */
	long entries_max;
	int64_t bytes_max;
	int keep_exec; /* files with an execute bit are written 0755 */
	int unlink;    /* files in the way are unlinked first, never written in place
	                  (they may be hard links shared with an immutable tree) */
};

/* Reads every entry's header: ZIPSAFE_EINVALID naming the first refused entry, -1
 * when the zip cannot be read, else 0 with the entry count and declared bytes. */
FERRY_MUST_CHECK
int zipsafe_check(const char *zip, const struct zipsafe_opts *o, long *entries, int64_t *bytes,
                  struct err *err);

/* Writes the zip's entries below `root` (an existing canonical absolute directory),
 * checking each entry again as it goes. Call zipsafe_check() first so that a refused
 * zip writes nothing. */
FERRY_MUST_CHECK
int zipsafe_extract(const char *zip, const char *root, const struct zipsafe_opts *o,
                    struct err *err);

#endif
