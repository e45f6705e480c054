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
 * Rollback makes a kept release live again by publishing a copy of it (hard links)
 * as a new release, "rollback to N": numbers only grow and the live release is
 * always the newest, so a release that stopped being live never becomes live again.
 *
 * Readers: site_live_open() gives the live release's directory and its number. A
 * release is deleted (pruned) only once it is past the site's `keep` and not live;
 * a reader that started on it just before a switch may then find a file missing:
 * when a file is missing, a reader compares site_live_number() with the number it
 * got; if they differ it starts over on the new live release, else the file is truly
 * not there (the live release never changes).
 *
 * One deploy or rollback of a site at a time: they take <data>/sites/<site>/.lock
 * (flock), across processes (the daemon, pipeline actions).
 *
 * Durability: the new tree is flushed (syncfs) before it is renamed into place and
 * the switch is fsynced before the store records it; a crash in between leaves disk
 * and store to be reconciled by the next deploy or rollback (the disk's `live` wins).
 *
 * Invariants: the live release is always complete; older releases past the site's
 * `keep` are deleted only after the switch, never the live one.
 *
 * Return codes: 0, SITE_ENOTFOUND (no such site or release), SITE_EBUSY (another
 * deploy or rollback of the site holds the lock), SITE_EINVALID (the zip, the
 * ObjectKey or the release asked for is refused), or -1 (anything else); `err` says
 * which site, entry or release.
 */
#ifndef FERRY_SITES_SITE_H
#define FERRY_SITES_SITE_H

#include <stdint.h>

#include "store/sites.h"
#include "util/err.h"

#define SITE_ENTRIES_MAX  100000
#define SITE_BYTES_MAX    (4LL << 30)
#define SITE_LOCK_WAIT_MS (10 * 60 * 1000) /* a deploy waits this long for another one */

#define SITE_ENOTFOUND 1
#define SITE_EBUSY     2
#define SITE_EINVALID  3

struct site_deploy {
	const char *site;
	const char *zip;           /* the input artifact */
	int extract;               /* Extract */
	const char *object_key;    /* ObjectKey: deployment path (extract) or the file's key */
	const char *cache_control; /* CacheControl, NULL: none */
	const char *revision;      /* the commit it came from, NULL: unknown */
	const char *source;        /* "pipeline P execution E action A" */
	int wait;                  /* 1: wait up to SITE_LOCK_WAIT_MS for a deploy or rollback
	                              of the site in progress; 0: SITE_EBUSY at once (what the
	                              daemon's loop must do) */
};

/* Publishes a new release and makes it live. *number_out gets its number. Errors name
 * the zip entry or the site. */
FERRY_MUST_CHECK
int site_deploy(struct store *st, const char *data_dir, const struct site_deploy *d,
                int64_t *number_out, struct err *err);

/* Makes a kept release live again (number 0: the newest kept one before the live
 * one), published as a new release "rollback to N" (*number_out: its number). Never
 * waits for the lock (SITE_EBUSY). */
FERRY_MUST_CHECK
int site_rollback(struct store *st, const char *data_dir, const char *site, int64_t number,
                  int64_t *number_out, struct err *err);

/* The live release's directory, opened (O_DIRECTORY|O_PATH): the fd a request serves
 * from. -1 with err when the site has no live release. *number_out gets its number. */
int site_live_open(const char *data_dir, const char *site, int64_t *number_out, struct err *err);

/* The live release's number (readlink of `live`): 0, or -1 when there is none. */
int site_live_number(const char *data_dir, const char *site, int64_t *number_out);

/* Deletes the site: its rows (store_site_delete()) and then its directory, under its
 * lock (a deploy waiting for it then finds no site). 0, SITE_ENOTFOUND, SITE_EBUSY
 * (nothing deleted) or -1. */
FERRY_MUST_CHECK
int site_remove(struct store *st, const char *data_dir, const char *site, struct err *err);

#endif
