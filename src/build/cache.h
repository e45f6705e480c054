/*
 * cache.h — the local build cache for buildspec `cache.paths`
 * (../shared/spec/buildspec.md §7), kept in ferry's data directory.
 *
 * Layout: <cache_dir>/<version>/keys/<key>.tar and <cache_dir>/<version>/default.tar
 * (no key), where <version> is a hash of the `paths` list (different paths never
 * share entries) and <key> is the key %XX-escaped (a key may be "default" too).
 *
 * Invariants:
 *  - an entry created under a key is immutable; the keyless entry is replaced by
 *    each save; saves are atomic (temporary file + rename);
 *  - restore looks for the exact key, then each fallback key as a prefix (newest
 *    entry wins), then nothing; action "save" never restores, "restore" never saves;
 *  - relative patterns are rooted at `src_dir`; absolute patterns below
 *    `home_visible` (e.g. anything under /root/.m2) are mapped to `home_host`;
 *    other absolute patterns are skipped with a log line;
 *  - restore never writes outside `src_dir` or `home_host` (the semantics of
 *    libarchive's secure extract flags, see build/pack.h).
 */
#ifndef FERRY_CACHE_H
#define FERRY_CACHE_H

#include "spec/buildspec.h"
#include "util/err.h"
#include "util/logsink.h"

struct cache_request {
	const char *cache_dir;       /* per source location, created on demand */
	const char *src_dir;         /* canonical */
	const struct bs_cache *spec; /* key/fallback keys already evaluated */
	const char *home_host;       /* may be NULL: absolute patterns then skipped */
	const char *home_visible;    /* what the build sees as $HOME, e.g. "/root" */
	const struct logsink *log;
};

/* Returns 0 (restored or nothing to restore: logged), -1 on error. */
FERRY_MUST_CHECK
int cache_restore(const struct cache_request *req, struct err *err);

/* Returns 0 (saved, or skipped with a log line), -1 on error. */
FERRY_MUST_CHECK
int cache_save(const struct cache_request *req, struct err *err);

#endif
