/*
 * proxy.h — the edge's reverse-proxy routes: a Host name sent to an upstream on the
 * loopback instead of to a site (what a blue/green deployment switches between slots).
 *
 * Layout, under <data>/proxy/:
 *     <host>.route   one line: the upstream, "127.0.0.1:PORT"
 * The file is written beside its final name and renamed over it (rename(2)): a reader
 * sees the old route or the new one, never a mix nor a missing route. Any process that
 * knows the data directory may switch a route (the daemon, a deployment's action child,
 * `ferry` itself): the files are the only state, no daemon is told.
 *
 * Names:
 *  - host: a DNS name or an IPv4 address, compared case-insensitively, a ":PORT" suffix
 *    ignored (as the edge ignores the port of a Host header); 1..PROXY_HOST_MAX
 *    characters of [A-Za-z0-9.-], not starting with '.' or '-', no "..";
 *  - upstream: "127.0.0.1:PORT" or "localhost:PORT" (kept as 127.0.0.1), PORT 1..65535;
 *    anything else (another address, a scheme, a path) is refused: the edge forwards to
 *    the loopback only [F].
 *
 * The edge's view (struct proxy_table): proxy_table_lookup() looks the host up in a copy
 * held in memory; the copy is re-read when the directory's mtime or ctime changed, which
 * is checked at most once every PROXY_CHECK_MS (a stat(2), no timer: an idle edge does
 * nothing). A switch is thus seen by requests that start at most PROXY_CHECK_MS after it;
 * a request that already looked its route up finishes on the upstream it got.
 *
 * Precedence [F]: a proxy route wins over a site whose `host` is the same name.
 *
 * Forwarding (the edge, edge_proxy.c): any method; path and query; the end-to-end
 * request headers (hop-by-hop ones dropped) plus X-Forwarded-For/-Proto/-Host and Via;
 * the body up to PROXY_BODY_MAX. The answer's status, headers (hop-by-hop ones dropped)
 * and body are streamed back. Nothing listening → 502; no answer head within
 * PROXY_TIMEOUT_MS → 504; a body that stops for PROXY_TIMEOUT_MS is cut.
 *
 * Threading: proxy_route_*() may be called from any thread or process;
 * proxy_table_lookup() is thread-safe.
 *
 * Ownership: strings returned through `char **` are the caller's to free().
 */
#ifndef FERRY_SITES_PROXY_H
#define FERRY_SITES_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PROXY_DIR          "proxy" /* <data>/proxy */
#define PROXY_HOST_MAX     253
#define PROXY_UPSTREAM_MAX 32          /* "127.0.0.1:65535" and room */
#define PROXY_CHECK_MS     250         /* the edge stats the routes directory this often at most */
#define PROXY_BODY_MAX     (10u << 20) /* request body forwarded; larger: 413 */
#define PROXY_TIMEOUT_MS   30000       /* connect + request + answer head; then per read */

/* Sets (creates or switches) the route of `host` to `upstream`, atomically. 0, or -1
 * with err naming the host or upstream refused, or the file that could not be written. */
FERRY_MUST_CHECK
int proxy_route_set(const char *data_dir, const char *host, const char *upstream, struct err *err);

/* The route of `host`: 0 with *upstream ("127.0.0.1:PORT"), 1 when there is none, -1
 * with err. */
FERRY_MUST_CHECK
int proxy_route_get(const char *data_dir, const char *host, char **upstream, struct err *err);

/* Deletes the route of `host`: 0, 1 when there was none, -1 with err. */
FERRY_MUST_CHECK
int proxy_route_delete(const char *data_dir, const char *host, struct err *err);

struct proxy_route {
	char *host;     /* normalised: lower case, no port */
	char *upstream; /* "127.0.0.1:PORT" */
};

/* Every route, sorted by host. 0 or -1 with err. Free with proxy_route_list_free(). */
FERRY_MUST_CHECK
int proxy_route_list(const char *data_dir, struct proxy_route **out, size_t *n, struct err *err);
void proxy_route_list_free(struct proxy_route *routes, size_t n);

/* Checks and normalises a host name into out (lower case, port dropped; out has at
 * least PROXY_HOST_MAX + 1 bytes). 0, or -1 with err. */
FERRY_MUST_CHECK
int proxy_host_normalize(const char *host, char *out, struct err *err);

/* Checks an upstream and normalises it into out (PROXY_UPSTREAM_MAX bytes); the port
 * goes to *port when port is not NULL. 0, or -1 with err. */
FERRY_MUST_CHECK
int proxy_upstream_parse(const char *upstream, char *out, unsigned *port, struct err *err);

/* ---- the edge's in-memory copy ---- */

struct proxy_table; /* opaque */

/* A table over <data_dir>/proxy (which need not exist yet). Never fails but on memory. */
struct proxy_table *proxy_table_new(const char *data_dir);
void proxy_table_free(struct proxy_table *t);

/* The upstream of the Host header `host` (port and case ignored) copied into upstream
 * (PROXY_UPSTREAM_MAX bytes): 1 when there is a route, 0 when there is none.
 * `now_ms` is mono_ms(): the directory is stat()ed when PROXY_CHECK_MS passed since the
 * last look. */
int proxy_table_lookup(struct proxy_table *t, const char *host, char *upstream, int64_t now_ms);

/* Forgets the copy: the next lookup stats and re-reads (tests, after a switch made by
 * this process). */
void proxy_table_invalidate(struct proxy_table *t);

#endif
