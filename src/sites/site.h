/*
 * site.h — a site's releases on disk, and switching between them atomically.
 *
 * Layout, under <data>/sites/<site>/:
 *     releases/<number>/   the files of release <number> (never changed once published)
 *     releases/<number>.meta.json   {"cacheControl": ..., "revision": ..., ...}
 *     live -> releases/<number>     a symlink, replaced with rename(2): the switch
 * A reader (the edge server) resolves `live` once per request (site_live_open()) and
 * serves everything of that request from the directory it got, so it never sees a mix
 * of two releases, nor a missing file while a deploy or rollback switches.
 *
 * Publishing a deploy (S3 Deploy action semantics, spec §4.4):
 *  - Extract true: a new release = the live release's files (hard links, so it costs
 *    no copy) with the zip's entries written under the deployment path (ObjectKey,
 *    "" for the root) — objects not in the zip are kept, as on S3;
 *  - Extract false: the same, with the zip itself stored as the one file ObjectKey.
 * A zip is refused whole, with the entry named and nothing published, when an entry
 * is absolute, climbs out (".."), is a link (symlinks and hard links are not
 * published), a device or fifo, or when it has more than SITE_ENTRIES_MAX entries or
 * SITE_BYTES_MAX bytes once extracted.
 *
 * Invariants: the live release is always complete; older releases past the site's
 * `keep` are deleted only after the switch; rollback is a switch to a kept release.
 */
#ifndef FERRY_SITES_SITE_H
#define FERRY_SITES_SITE_H

#include <stdint.h>

#include "store/sites.h"
#include "util/err.h"

#define SITE_ENTRIES_MAX 100000
#define SITE_BYTES_MAX   (4LL << 30)

struct site_deploy {
	const char *site;
	const char *zip;           /* the input artifact */
	int extract;               /* Extract */
	const char *object_key;    /* ObjectKey: deployment path (extract) or the file's key */
	const char *cache_control; /* CacheControl, NULL: none */
	const char *revision;      /* the commit it came from, NULL: unknown */
	const char *source;        /* "pipeline P execution E action A" */
};

/* Publishes a new release and makes it live. *number_out gets its number. Errors name
 * the zip entry or the site. */
FERRY_MUST_CHECK
int site_deploy(struct store *st, const char *data_dir, const struct site_deploy *d,
                int64_t *number_out, struct err *err);

/* Makes a kept release live again (number 0: the one before the live one), as a new
 * switch recorded on the site. */
FERRY_MUST_CHECK
int site_rollback(struct store *st, const char *data_dir, const char *site, int64_t number,
                  int64_t *number_out, struct err *err);

/* The live release's directory, opened (O_DIRECTORY|O_PATH): the fd a request serves
 * from. -1 with err when the site has no live release. *number_out gets its number. */
int site_live_open(const char *data_dir, const char *site, int64_t *number_out, struct err *err);

#endif
