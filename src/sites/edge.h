/*
 * edge.h — the edge server (ferry's CloudFront analog): serves the live release of every
 * site over HTTP on a listen address of its own, keeps hot objects in memory with
 * CloudFront's rules for the sites that ask for it, and takes invalidations with
 * CloudFront's semantics (spec §10).
 *
 * Serving:
 *  - a Host with a proxy route (sites/proxy.h) is forwarded to its upstream, whatever
 *    the method: a proxy route wins over a site with the same host [F];
 *  - the site is the one whose `host` is the request's Host (port ignored, case
 *    ignored), else the one named by the first path segment: /<site>/... (/<site> is
 *    redirected to /<site>/); anything else is 404;
 *  - a request resolves the site's live release once (site_live_open()) and opens all it
 *    serves relative to that directory, beneath it and through no symbolic link
 *    (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, else a component walk with
 *    O_NOFOLLOW): a request never mixes two releases and never leaves its release;
 *  - GET and HEAD (other methods: 405); Content-Type by extension; ETag (inode, size,
 *    mtime: a file a deploy kept, hard-linked, keeps its ETag), Last-Modified;
 *    If-None-Match, else If-Modified-Since → 304; one byte range (206; unsatisfiable:
 *    416; several ranges or a stale If-Range: the whole object); a precompressed
 *    sibling (x.br, then x.gz) when Accept-Encoding allows it, with Content-Encoding;
 *    Vary: Accept-Encoding on every object; the release's Cache-Control
 *    (releases/<n>.meta.json "cacheControl"); the index document for "/" and ".../";
 *    a directory named without its slash → 302 to it with the slash (as S3 website
 *    hosting); site.spa: a path whose last segment has no '.' and names nothing gets
 *    the index document, 200; site.error_doc: what a 404 shows; a file is sent with
 *    sendfile, or with its headers in one write when it is at most 32 KiB;
 *  - errors of the edge itself are short text/plain answers.
 *
 * Immediate sites (STORE_SITE_IMMEDIATE, the default): every request looks up which
 * release is live (one readlink of `live`) and answers from it, so a deploy is visible
 * at once. What was read from a release is
 * kept in the object cache below keyed by that release's number too: releases never
 * change, so such a copy is always right while its release is live, and a deploy or
 * rollback makes the next request miss. No X-Cache or Age header: that is not caching
 * a client can observe. These copies leave the cache by LRU, or 10 minutes after they
 * were read (then the file is read again).
 *
 * Cache (sites with visibility STORE_SITE_CACHED, CloudFront-like):
 *  - key: site, percent-decoded path (the query is ignored), and which of br/gzip the
 *    client accepts; the first GET or HEAD of a 200 object of at most opts.object_max
 *    bytes copies it in; later requests get the copy ("X-Cache: Hit from ferry", with
 *    Age), whatever release is live by then, until its TTL passes (Cache-Control
 *    s-maxage, else max-age, else site.default_ttl; no-store, no-cache, private or a
 *    TTL of 0: not cached) or an invalidation evicts it;
 *  - at most opts.cache_max bytes, the least recently used object evicted first;
 *  - expiry is checked when an object is asked for: no timer runs, idle costs nothing;
 *  - an object read while an invalidation runs is served but not kept, so that an
 *    invalidation that completed never leaves an older copy behind.
 *
 * Site settings come from the store, through a connection of the edge's own that only
 * its HTTP thread uses; they are re-read at most EDGE_SITES_TTL_MS after the last read,
 * and on the next request after edge_sites_changed().
 *
 * Threading: edge_port(), edge_invalidate() and edge_sites_changed() are thread-safe;
 * edge_open(), edge_stop() and edge_free() belong to the thread that owns the edge. The
 * edge_invalidation_*() functions run on the thread that owns `st` (the daemon's loop).
 *
 * Ownership: the edge copies opts' strings; opts->log and opts->access_log must outlive
 * it. store_invalidation results are the caller's (store_invalidation_free(),
 * store_invalidation_list_free()).
 */
#ifndef FERRY_SITES_EDGE_H
#define FERRY_SITES_EDGE_H

#include <stddef.h>
#include <stdint.h>

#include "store/sites.h"
#include "util/err.h"
#include "util/logsink.h"

#define EDGE_LISTEN_DEFAULT     "127.0.0.1:7879"
#define EDGE_URL_FILE           "edge.url"  /* <data>/edge.url, written by `ferry serve` */
#define EDGE_CACHE_MAX_DEFAULT  (64u << 20) /* bytes of cached objects */
#define EDGE_OBJECT_MAX_DEFAULT (1u << 20)  /* larger objects are never cached */
#define EDGE_SITES_TTL_MS       1000        /* site settings are re-read this often at most */
#define EDGE_STOP_DEADLINE_MS   1000        /* requests in flight get at edge_stop() */
#define EDGE_TTL_MAX_S          (365 * 24 * 3600)

struct edge; /* opaque */

struct edge_opts {
	const char *listen;               /* "ADDR:PORT" (port 0: any); NULL: the default */
	const char *data_dir;             /* the daemon's: its store and sites/ */
	const struct logsink *log;        /* the edge's errors (thread-safe); NULL: silent */
	const struct logsink *access_log; /* a line per request; NULL: none */
	size_t cache_max;                 /* 0: EDGE_CACHE_MAX_DEFAULT */
	size_t object_max;                /* 0: EDGE_OBJECT_MAX_DEFAULT */
	int proxy_timeout_ms;             /* proxy routes (sites/proxy.h); 0: PROXY_TIMEOUT_MS */
};

/* Opens the store, binds opts->listen and serves. Fails naming the address ("listen
 * 127.0.0.1:7879: address already in use") or the store. */
FERRY_MUST_CHECK
int edge_open(const struct edge_opts *opts, struct edge **out, struct err *err);

/* The port listened on (the kernel's pick for port 0). */
unsigned edge_port(const struct edge *g);

/* Evicts the cached objects of `site` that match any of `paths` now (CloudFront path
 * rules, spec §10: "/a/b.html" matches itself; a last '*' matches by prefix, as in
 * "/a/b*", so that '/' then '*' is everything;
 * both sides compared percent-decoded). Returns how many objects went. NULL edge: 0. */
size_t edge_invalidate(struct edge *g, const char *site, const char *const *paths, size_t n);

/* Site settings changed (created, updated, deleted): the next request re-reads them. */
void edge_sites_changed(struct edge *g);

/* Stops accepting and waits up to EDGE_STOP_DEADLINE_MS for requests in flight.
 * Idempotent; NULL is fine. */
void edge_stop(struct edge *g);

/* Stops if needed and frees. NULL is fine. */
void edge_free(struct edge *g);

/* ---- invalidations (CloudFront's semantics, spec §7.4 and §10) ---- */

#define EDGE_INV_PATHS_MAX 3000 /* paths in one batch; more → BatchTooLarge */
#define EDGE_INV_PATH_MAX  4000 /* characters of one path */
#define EDGE_INV_REF_MAX   128  /* characters of a CallerReference */
#define EDGE_INV_ID_LEN    14   /* [A-Z0-9] */
#define EDGE_INV_SETTLE_MS 1000 /* an InProgress row older than this reads Completed */

#define EDGE_INV_IN_PROGRESS "InProgress"
#define EDGE_INV_COMPLETED   "Completed"

/* Why an invalidation call failed: the HTTP status and CloudFront's error code that go
 * with it (InvalidArgument 400, BatchTooLarge 413, InvalidationBatchAlreadyExists 409,
 * NoSuchDistribution 404, NoSuchInvalidation 404, InternalError 500), and a message. */
struct edge_inv_err {
	unsigned status;
	const char *code;
	struct err err;
};

/* Checks a batch: 1..EDGE_INV_PATHS_MAX paths, each starting with '/', at most
 * EDGE_INV_PATH_MAX characters, no control characters, '*' only as its last character.
 * 0, or -1 with e naming the path. */
FERRY_MUST_CHECK
int edge_invalidation_check(const char *const *paths, size_t n, struct edge_inv_err *e);

/* Creates an invalidation of `site`: checks the batch, records it InProgress, evicts the
 * matching objects from `g` (NULL: no edge runs), records it Completed. Returns 0 with
 * *out the new one (status InProgress, as CloudFront's 201 says); 1 when the caller
 * reference was used before with the same paths (in any order): *out is that one and
 * nothing else happens; -1 with e (a reference used with other paths:
 * InvalidationBatchAlreadyExists). caller_reference NULL: one is made up. */
FERRY_MUST_CHECK
int edge_invalidation_create(struct store *st, struct edge *g, const char *site,
                             const char *const *paths, size_t n, const char *caller_reference,
                             struct store_invalidation *out, struct edge_inv_err *e);

/* One invalidation; 0 or -1 with e (NoSuchDistribution, NoSuchInvalidation). */
FERRY_MUST_CHECK
int edge_invalidation_get(struct store *st, const char *site, const char *id,
                          struct store_invalidation *out, struct edge_inv_err *e);

/* The site's invalidations, newest first; 0 or -1 with e. */
FERRY_MUST_CHECK
int edge_invalidation_list(struct store *st, const char *site, struct store_invalidation **out,
                           size_t *n, struct edge_inv_err *e);

#endif
