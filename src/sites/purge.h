/*
 * purge.h — telling the caches in front of the edge (purge targets: Varnish) about an
 * invalidation, so that a site behind Varnish is invalidated end to end.
 *
 * What is sent, for each path of the invalidation and each target, by the site's URL
 * forms (the prefix form "/<site>/...", and the bare path when the site has a host):
 *  - a path without '*': `PURGE <url>`;
 *  - a path ending in '*': `BAN /` with `X-Ferry-Ban: ^<url without the *>` (a regular
 *    expression on the URL, metacharacters as [.] classes so no backslash is needed);
 * each with `X-Ferry-Site: <site>`, and `X-Ferry-Host: <host>` for the bare-path form
 * (the Host header is the target's own). contrib/varnish/ferry.vcl turns both into
 * bans on the URL (and host) of cached objects, so every variant goes. Paths are sent
 * percent-encoded as given; bytes a URL cannot hold raw (space, '"', '<', '>', '\\', '^',
 * '`', '{', '|', '}', non-ASCII) are percent-encoded.
 *
 * Targets are on the loopback only [F]: "http://127.0.0.1:PORT", "http://localhost:PORT"
 * or "http://[::1]:PORT", no path; anything else is refused when it is configured.
 *
 * Success [F]: every request answered 2xx. A request that fails (refused, timed out,
 * another status) is tried PURGE_ATTEMPTS times in all, PURGE_BACKOFF_MS apart, each
 * within PURGE_TRY_TIMEOUT_MS, and the whole purge stops at PURGE_DEADLINE_MS; then the
 * invalidation is still Completed, with purgeError saying the first failure and how many
 * requests failed.
 *
 * The purger runs purges on worker threads of the daemon (no child, no libcurl: the
 * loopback client is sites/upstream.h); each opens a store connection of its own and
 * records the end (store_invalidation_finish()). An idle purger has no thread.
 */
#ifndef FERRY_SITES_PURGE_H
#define FERRY_SITES_PURGE_H

#include <stddef.h>
#include <stdint.h>

#include "store/sites.h"
#include "util/err.h"
#include "util/logsink.h"

#define PURGE_KIND_VARNISH   STORE_PURGE_VARNISH
#define PURGE_ATTEMPTS       3
#define PURGE_BACKOFF_MS     300
#define PURGE_TRY_TIMEOUT_MS 5000
#define PURGE_DEADLINE_MS    60000 /* an invalidation stays InProgress this long at most */
#define PURGE_URL_MAX        200
#define PURGE_TARGETS_MAX    16 /* per site */

/* Checks a target ("varnish", URL) and writes its normal form to norm (PURGE_URL_MAX
 * bytes: "http://127.0.0.1:6081"). 0, or -1 with err. */
FERRY_MUST_CHECK
int purge_target_check(const char *kind, const char *url, char *norm, struct err *err);

/* Splits "KIND=URL" ("varnish=http://127.0.0.1:6081") and checks it. */
FERRY_MUST_CHECK
int purge_target_parse(const char *spec, char *kind, size_t kind_size, char *norm, struct err *err);

struct purge_batch {
	const char *site;
	const char *host; /* the site's host, NULL: none */
	const char *const *paths;
	size_t npaths;
	const struct store_purge_target *targets;
	size_t ntargets;
	int64_t deadline_ms;     /* mono_ms(); 0: PURGE_DEADLINE_MS from now */
	int try_timeout_ms;      /* 0: PURGE_TRY_TIMEOUT_MS */
	const _Atomic int *stop; /* nonzero: give up now; NULL: never */
};

/* Sends the batch synchronously. 0 when every request got a 2xx; -1 with err naming the
 * first failure ("varnish http://127.0.0.1:6081: PURGE /www/index.html: 405") and how
 * many requests failed. */
FERRY_MUST_CHECK
int purge_send(const struct purge_batch *b, struct err *err);

/* ---- the daemon's purger ---- */

struct purger; /* opaque */

struct purger *purger_new(const char *data_dir, const struct logsink *log);
/* Purges invalidation `id` of `site` on a worker thread (copies everything), then
 * records it Completed, with the error if any. When no thread can be started, records
 * it Completed with that error at once. */
void purger_start(struct purger *p, const char *site, const char *host, const char *id,
                  const char *const *paths, size_t n, const struct store_purge_target *targets,
                  size_t ntargets, int64_t deadline_ms);
/* Asks running purges to give up and waits for them. NULL is fine. */
void purger_free(struct purger *p);

#endif
