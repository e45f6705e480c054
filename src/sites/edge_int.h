/*
 * edge_int.h — what the files of the edge share (not for other modules): the object
 * cache (edge_cache.c) and the HTTP details of serving files (edge_http.c).
 *
 * Cache locking: one mutex per cache guards its table, its LRU list and its generation;
 * an object's bytes never change once it is in, and a reference (edge_object_unref())
 * keeps an evicted object alive for the answer being made from it.
 */
#ifndef FERRY_SITES_EDGE_INT_H
#define FERRY_SITES_EDGE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define EDGE_ETAG_MAX 64

/* Encodings a client accepts (bits), part of the cache key. */
enum {
	EDGE_ACCEPT_GZIP = 1 << 0,
	EDGE_ACCEPT_BR = 1 << 1,
};

/* What an answer with a body is made of, from a file or from memory. */
struct edge_rep {
	unsigned status;              /* 200, or 404 for the site's error document */
	const char *content_type;     /* static */
	const char *content_encoding; /* "br", "gzip", NULL (static) */
	const char *cache_control;    /* NULL: none */
	char etag[EDGE_ETAG_MAX];     /* "\"...\"" */
	int64_t mtime_s;
	uint64_t size;
	int fd;           /* the file, or -1 */
	const char *data; /* the bytes when fd is -1 */
};

/* ---- edge_cache.c ---- */

struct edge_object {
	atomic_int refs;
	char *site, *path;
	unsigned accept; /* EDGE_ACCEPT_* bits of the key */
	int64_t release; /* part of the key: the release it was read from (0: any) */
	uint64_t hash;
	int64_t stored_ms, expires_ms; /* mono_ms() */
	size_t cost;                   /* bytes charged against the cap */
	struct edge_rep rep;           /* fd -1; data, cache_control owned */
	char *data;
	char *cache_control;
	bool linked;
	struct edge_object *chain, *lru_prev, *lru_next;
};

struct edge_cache;

struct edge_cache *edge_cache_new(size_t max_bytes);
void edge_cache_free(struct edge_cache *c);

/* Changes whenever an invalidation runs: a filler notes it before reading the release,
 * and edge_cache_put() keeps nothing when it moved meanwhile. */
uint64_t edge_cache_gen(struct edge_cache *c);

/* A referenced unexpired object, or NULL (an expired one is dropped). */
struct edge_object *edge_cache_get(struct edge_cache *c, const char *site, int64_t release,
                                   const char *path, unsigned accept, int64_t now_ms);

/* A new object (one reference, the caller's) holding a copy of rep and taking `data`. */
struct edge_object *edge_object_new(const char *site, int64_t release, const char *path,
                                    unsigned accept, const struct edge_rep *rep, char *data,
                                    int64_t now_ms, int64_t ttl_ms);
/* Adds obj (the cache takes a reference of its own) unless `gen` is stale or obj is
 * larger than the cap; replaces an object of the same key; evicts from the LRU end. */
void edge_cache_put(struct edge_cache *c, struct edge_object *obj, uint64_t gen);
void edge_object_unref(struct edge_object *obj);

/* Evicts the objects of `site` that match any pattern (decoded; '*' last: prefix). */
size_t edge_cache_invalidate(struct edge_cache *c, const char *site, const char *const *patterns,
                             size_t n);
/* Objects and bytes held (tests, logs). */
void edge_cache_usage(struct edge_cache *c, size_t *objects, size_t *bytes);

/* ---- edge.c ---- */

/* Opens `rel` below dirfd one component at a time with O_NOFOLLOW, never through a
 * symbolic link nor "." or "..": the fallback for kernels without openat2(). -1 with
 * errno. */
int edge_open_walk(int dirfd, const char *rel, int flags);

/* ---- edge_proxy.c: forwarding to proxy routes' upstreams (sites/proxy.h) ---- */

struct http_request;
struct logsink;
struct edge_proxy;

/* timeout_ms 0: PROXY_TIMEOUT_MS. */
struct edge_proxy *edge_proxy_new(const struct logsink *log, int timeout_ms);
/* Forwards req (in its handler, on the server's thread) to upstream "127.0.0.1:PORT";
 * answers it, now or from a worker thread. */
void edge_proxy_forward(struct edge_proxy *p, struct http_request *req, const char *upstream);
/* Refuses new requests, cuts the upstream connections and waits for the workers. */
void edge_proxy_stop(struct edge_proxy *p);
void edge_proxy_free(struct edge_proxy *p);

/* ---- edge.c: the purger of the edge's invalidations (sites/purge.h) ---- */

struct edge;
struct purger *edge_purger(struct edge *g);

/* ---- edge_http.c ---- */

/* The Content-Type for a file name (by its extension; application/octet-stream). */
const char *edge_content_type(const char *name);
/* EDGE_ACCEPT_* bits from an Accept-Encoding value (NULL: none). */
unsigned edge_accept_encoding(const char *value);
/* "Sun, 06 Nov 1994 08:49:37 GMT"; out >= 30 bytes. */
void edge_http_date(int64_t epoch_s, char *out, size_t n);
/* An IMF-fixdate; -1 when `s` is not one. */
int edge_parse_http_date(const char *s, int64_t *out);
/* Whether an If-None-Match value matches etag (weak comparison, "*"). */
bool edge_etag_matches(const char *if_none_match, const char *etag);

enum edge_range {
	EDGE_RANGE_NONE,          /* no usable Range: the whole object */
	EDGE_RANGE_OK,            /* [*first, *last] */
	EDGE_RANGE_UNSATISFIABLE, /* 416 */
};
/* One "bytes=" range of an object of `size` bytes; several ranges, another unit or a
 * malformed value: NONE. */
enum edge_range edge_parse_range(const char *value, uint64_t size, uint64_t *first, uint64_t *last);

/* Seconds a response may be cached for (CloudFront with a minimum TTL of 0):
 * s-maxage, else max-age, else default_ttl; 0 for no-store, no-cache, private. */
int64_t edge_ttl(const char *cache_control, int64_t default_ttl);

/* Percent-decodes s once into a new string; malformed escapes are kept as they are. */
char *edge_pct_decode(const char *s);

#endif
