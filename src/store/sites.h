/*
 * sites.h — the stored side of sites (ferry's S3 bucket + CloudFront distribution
 * analog): each site's settings, its releases, and its invalidations. The files of a
 * release live on disk (src/sites/site.h); this is their index.
 *
 * Invariants:
 *  - site names are 3–63 of [a-z0-9.-] (S3's bucket names): they name directories;
 *  - a site has at most one live release (`live`); release numbers grow by one per
 *    site and are never reused;
 *  - invalidation ids are unique per site; (site, caller_reference) is unique.
 *
 * Ownership: row strings are the caller's; *_free() frees one row's fields,
 * *_list_free() every row's and the array.
 */
#ifndef FERRY_STORE_SITES_H
#define FERRY_STORE_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum store_site_visibility {
	STORE_SITE_IMMEDIATE = 0, /* a deploy is served at once (default) */
	STORE_SITE_CACHED = 1,    /* CloudFront-like: cached objects are served until an
	                             invalidation or their TTL expires */
};

struct store_site {
	char *name;
	char *host;      /* Host header it answers to, NULL: path prefix /<name>/ only */
	char *index_doc; /* "index.html" */
	char *error_doc; /* custom 404 page, NULL: none */
	int spa;         /* unknown paths without an extension get index_doc (200) */
	int keep;        /* releases kept for rollback (>= 1) */
	int visibility;  /* enum store_site_visibility */
	int default_ttl; /* seconds a cached object lives without Cache-Control (CACHED mode) */
	int64_t created_ms;
};

#define STORE_SITE_NAME_MIN 3
#define STORE_SITE_NAME_MAX 63

/* 0 when `name` is a valid site name (3–63 of [a-z0-9.-], starting and ending with a
 * letter or digit, no "..", as S3's bucket names); -1 with `err` saying why. */
FERRY_MUST_CHECK int store_site_name_check(const char *name, struct err *err);

/* 0, STORE_CONFLICT (name or host taken; err says which), -1. */
FERRY_MUST_CHECK int store_site_create(struct store *st, const struct store_site *s,
                                       struct err *err);
/* Replaces the settings (not the name). 0, STORE_NOT_FOUND, STORE_CONFLICT (host
 * taken), -1. */
FERRY_MUST_CHECK int store_site_update(struct store *st, const struct store_site *s,
                                       struct err *err);
/* 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK
int store_site_get(struct store *st, const char *name, struct store_site *out, struct err *err);
/* By name. */
FERRY_MUST_CHECK
int store_site_list(struct store *st, struct store_site **out, size_t *n, struct err *err);
/* Deletes the site with its releases and invalidations. 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK int store_site_delete(struct store *st, const char *name, struct err *err);
void store_site_free(struct store_site *s);
void store_site_list_free(struct store_site *s, size_t n);

struct store_release {
	char *site;
	int64_t number; /* 1, 2, ... per site */
	char *dir;      /* its directory (absolute) */
	char *source;   /* what it came from: "pipeline P execution E action A", "rollback to 3",
	                   "cli" */
	char *revision; /* commit id when known, NULL */
	char *cache_control; /* CacheControl of the deploy, NULL: none */
	int64_t files, bytes;
	int live; /* 1: the one served */
	int64_t created_ms;
};

/* The next release number of `site` (1 for the first), reserved: never handed out again. */
FERRY_MUST_CHECK
int store_release_next(struct store *st, const char *site, int64_t *out, struct err *err);
/* Inserts (live 0). */
FERRY_MUST_CHECK
int store_release_add(struct store *st, const struct store_release *r, struct err *err);
/* Marks `number` live and every other release of the site not live, in one transaction. */
FERRY_MUST_CHECK
int store_release_set_live(struct store *st, const char *site, int64_t number, struct err *err);
/* Newest first. */
FERRY_MUST_CHECK
int store_release_list(struct store *st, const char *site, struct store_release **out, size_t *n,
                       struct err *err);
FERRY_MUST_CHECK
int store_release_delete(struct store *st, const char *site, int64_t number, struct err *err);
void store_release_list_free(struct store_release *r, size_t n);

struct store_invalidation {
	char *site;
	char *id; /* 14 characters of [A-Z0-9], like CloudFront's */
	char *caller_reference;
	char *paths;  /* JSON array of the paths */
	char *status; /* "InProgress" or "Completed" */
	int64_t created_ms;
	int64_t purge_deadline_ms; /* purge targets are told until then at most; 0: none */
	char *purge_error;         /* what went wrong telling them, NULL: nothing */
};

/* 0, STORE_CONFLICT (caller reference taken: look it up with _by_reference), -1. */
FERRY_MUST_CHECK
int store_invalidation_add(struct store *st, const struct store_invalidation *inv, struct err *err);
FERRY_MUST_CHECK
int store_invalidation_get(struct store *st, const char *site, const char *id,
                           struct store_invalidation *out, struct err *err);
FERRY_MUST_CHECK
int store_invalidation_by_reference(struct store *st, const char *site, const char *reference,
                                    struct store_invalidation *out, struct err *err);
FERRY_MUST_CHECK
int store_invalidation_set_status(struct store *st, const char *site, const char *id,
                                  const char *status, struct err *err);
/* Newest first. */
FERRY_MUST_CHECK
int store_invalidation_list(struct store *st, const char *site, struct store_invalidation **out,
                            size_t *n, struct err *err);
/* Records the end of an invalidation's purge: status Completed, and purge_error (NULL:
 * every purge target answered). 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK
int store_invalidation_finish(struct store *st, const char *site, const char *id,
                              const char *purge_error, struct err *err);
void store_invalidation_free(struct store_invalidation *inv);
void store_invalidation_list_free(struct store_invalidation *inv, size_t n);

/* ---- purge targets: caches in front of the edge that invalidations are sent to ---- */

#define STORE_PURGE_VARNISH "varnish"

struct store_purge_target {
	char *site;
	char *kind; /* STORE_PURGE_VARNISH */
	char *url;  /* "http://127.0.0.1:6081" */
	int64_t created_ms;
};

/* 0, STORE_CONFLICT (the site has it already), STORE_NOT_FOUND (no such site), -1. */
FERRY_MUST_CHECK
int store_purge_target_add(struct store *st, const struct store_purge_target *t, struct err *err);
/* 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK
int store_purge_target_remove(struct store *st, const char *site, const char *kind, const char *url,
                              struct err *err);
/* The site's targets, oldest first. */
FERRY_MUST_CHECK
int store_purge_target_list(struct store *st, const char *site, struct store_purge_target **out,
                            size_t *n, struct err *err);
void store_purge_target_list_free(struct store_purge_target *t, size_t n);

#endif
