/*
 * edge.c — the edge server: which site a request is for, which file of its live release
 * answers it (index documents, redirects, SPA fallback, error document, precompressed
 * siblings), and the answer itself (conditional requests, ranges, headers), from the
 * release on disk or from the cache (edge_cache.c) for CloudFront-like sites.
 *
 * Everything here but edge_open/stop/free, edge_invalidate() and edge_sites_changed()
 * runs on the HTTP server's one thread: the site table and the store connection are
 * that thread's alone, without locks. A request's files are opened relative to the live
 * release's directory fd, resolved once per request, so a deploy switching `live`
 * in the middle of a request changes nothing for it.
 */
#include "sites/edge.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/http.h"
#include "sites/edge_int.h"
#include "sites/proxy.h"
#include "sites/purge.h"
#include "sites/site.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

/* request bodies: up to PROXY_BODY_MAX, for proxy routes; a site ignores them */
#define EDGE_META_MAX      (64 << 10) /* releases/<n>.meta.json */
#define EDGE_PATH_MAX      4096       /* bytes of a decoded request path */
#define TEXT_PLAIN         "text/plain; charset=utf-8"
#define EDGE_RESOLVE_TRIES 3 /* live releases tried for one request */
/* How long an object read from an immediate site's live release is kept: it cannot
 * go stale (releases never change), this only frees what is no longer asked for */
#define EDGE_RELEASE_OBJECT_TTL_S 600

/* What the edge remembers of a release's meta.json, per site. */
struct edge_meta {
	int64_t release; /* 0: nothing read yet */
	char *cache_control;
};

struct edge {
	char *data_dir;
	const struct logsink *log;
	struct http_server *srv;
	struct edge_cache *cache;
	size_t object_max;
	/* the HTTP thread's alone */
	struct store *st;
	struct store_site *sites;
	struct edge_meta *meta; /* parallel to sites */
	size_t nsites;
	int64_t sites_read_ms; /* mono_ms(); 0: never */
	atomic_bool sites_stale;
	bool stopped;
	struct proxy_table *routes; /* proxy routes (sites/proxy.h) */
	struct edge_proxy *proxy;
	struct purger *purger; /* invalidations' purge targets (sites/purge.h) */
};

/* ---- small answers ---- */

FERRY_PRINTF(3, 4)
static void text(struct http_request *req, unsigned status, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : (size_t)n >= sizeof msg ? sizeof msg - 1 : (size_t)n;
	http_respond_bytes(req, status, TEXT_PLAIN, msg, len);
}

static void redirect(struct http_request *req, const char *to)
{
	if (http_response_header(req, "Location", to) < 0) {
		text(req, 404, "404 Not Found\n");
		return;
	}
	text(req, 302, "302 Found: %s\n", to);
}

/* ---- site settings ---- */

static void sites_free(struct edge *g)
{
	for (size_t i = 0; i < g->nsites; i++)
		free(g->meta[i].cache_control);
	free(g->meta);
	store_site_list_free(g->sites, g->nsites);
	g->sites = NULL;
	g->meta = NULL;
	g->nsites = 0;
}

static const struct store_site *site_named(const struct store_site *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].name, name))
			return &s[i];
	return NULL;
}

/* Re-reads the sites when stale. Cached objects of a site that went away, or whose
 * visibility changed, are dropped: they would otherwise come back if it returned. On a
 * store error the sites read last stay in use. */
static int sites_refresh(struct edge *g, struct err *err)
{
	int64_t now = mono_ms();
	bool stale = atomic_exchange(&g->sites_stale, false);
	if (!stale && g->sites_read_ms && now - g->sites_read_ms < EDGE_SITES_TTL_MS)
		return 0;
	struct store_site *sites = NULL;
	size_t n = 0;
	if (store_site_list(g->st, &sites, &n, err) < 0) {
		if (stale)
			atomic_store(&g->sites_stale, true);
		return -1;
	}
	struct edge_meta *meta = xcalloc(n ? n : 1, sizeof *meta);
	for (size_t i = 0; i < g->nsites; i++) {
		const struct store_site *old = &g->sites[i];
		const struct store_site *now_s = site_named(sites, n, old->name);
		if (!now_s || now_s->visibility != old->visibility ||
		    now_s->created_ms != old->created_ms) {
			const char *all = "/*";
			edge_cache_invalidate(g->cache, old->name, &all, 1);
		} else { /* the release meta stays valid: releases never change */
			size_t j = (size_t)(now_s - sites);
			meta[j] = g->meta[i];
			g->meta[i].cache_control = NULL;
		}
	}
	sites_free(g);
	g->sites = sites;
	g->meta = meta;
	g->nsites = n;
	g->sites_read_ms = now;
	return 0;
}

/* The Cache-Control of a site's release (NULL: none); read once per release. */
static const char *release_cache_control(struct edge *g, size_t site, int64_t release)
{
	struct edge_meta *m = &g->meta[site];
	if (m->release == release)
		return m->cache_control;
	free(m->cache_control);
	m->cache_control = NULL;
	m->release = release;
	char *path = xasprintf("%s/sites/%s/releases/%lld.meta.json", g->data_dir,
	                       g->sites[site].name, (long long)release);
	char *data = NULL;
	size_t len = 0;
	struct err err;
	if (!fs_exists(path)) {
		/* a release without meta has no Cache-Control */
	} else if (fs_read_file(path, EDGE_META_MAX, &data, &len, &err) == 0) {
		json_t *j = json_loadb(data, len, 0, NULL);
		const char *cc = json_string_value(json_object_get(j, "cacheControl"));
		if (cc && *cc && !strpbrk(cc, "\r\n"))
			m->cache_control = xstrdup(cc);
		json_decref(j);
	} else {
		logsink_printf(g->log, "edge: %s", err.msg);
	}
	free(data);
	free(path);
	return m->cache_control;
}

/* ---- which site, which path ---- */

/* The site a request is for, by Host, else by its first segment (*first = 1). */
static ssize_t route_site(struct edge *g, struct http_request *req, size_t *first)
{
	const char *host = http_request_header(req, "Host");
	if (host && *host) {
		size_t len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
		for (size_t i = 0; i < g->nsites; i++) {
			const char *h = g->sites[i].host;
			if (h && strlen(h) == len && !strncasecmp(h, host, len)) {
				*first = 0;
				return (ssize_t)i;
			}
		}
	}
	if (http_request_segment_count(req) == 0)
		return -1;
	const char *seg = http_request_segment(req, 0);
	for (size_t i = 0; i < g->nsites; i++)
		if (!strcmp(g->sites[i].name, seg)) {
			*first = 1;
			return (ssize_t)i;
		}
	return -1;
}

/* The site's path of a request ("/", "/a/b.html", "/dir/"), decoded; NULL when a
 * segment holds a '/' (an encoded slash) or an empty segment is not the last. */
static char *site_path(struct http_request *req, size_t first)
{
	size_t n = http_request_segment_count(req);
	struct buf b;
	buf_init(&b, EDGE_PATH_MAX);
	int rc = 0;
	for (size_t i = first; i < n && rc == 0; i++) {
		const char *seg = http_request_segment(req, i);
		if (strchr(seg, '/') || (!*seg && i + 1 < n))
			rc = -1;
		else
			rc = buf_puts(&b, "/") < 0 || buf_puts(&b, seg) < 0 ? -1 : 0;
	}
	if (rc == 0 && b.len == 0)
		rc = buf_puts(&b, "/");
	if (rc < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* ---- files, beneath the release ---- */

int edge_open_walk(int dirfd, const char *rel, int flags)
{
	char *copy = xstrdup(rel), *save = NULL;
	int cur = dirfd, fd = -1;
	char *comp = strtok_r(copy, "/", &save);
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		if (!strcmp(comp, "..") || !strcmp(comp, ".")) {
			if (cur != dirfd)
				close(cur);
			errno = ENOENT;
			fd = -1;
			break;
		}
		int f = next ? O_PATH | O_DIRECTORY : flags;
		fd = openat(cur, comp, f | O_NOFOLLOW | O_CLOEXEC);
		if (cur != dirfd) {
			int e = errno;
			close(cur);
			errno = e;
		}
		if (fd < 0 || !next)
			break;
		cur = fd;
		fd = -1;
		comp = next;
	}
	free(copy);
	return fd;
}

static int open_beneath(int dirfd, const char *rel, int flags)
{
	static atomic_bool no_openat2;
	if (!*rel) {
		errno = ENOENT;
		return -1;
	}
#ifdef SYS_openat2
	if (!atomic_load(&no_openat2)) {
		struct open_how how = {.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		                                  RESOLVE_NO_MAGICLINKS};
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return (int)fd;
		atomic_store(&no_openat2, true); /* old kernel, or a seccomp filter */
	}
#endif
	return edge_open_walk(dirfd, rel, flags);
}

enum found { FOUND_FILE, FOUND_DIR, FOUND_NOTHING, FOUND_ERROR };

/* A regular file `rel` of the release (FOUND_FILE, *fd and *st set), a directory, or
 * nothing there (missing, a link, a device: all the same to a visitor). */
static enum found open_file(int dirfd, const char *rel, int *fd, struct stat *st)
{
	*fd = open_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK);
	if (*fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EXDEV ||
		                       errno == ENAMETOOLONG || errno == EACCES || errno == EPERM ||
		                       errno == ENXIO
		               ? FOUND_NOTHING
		               : FOUND_ERROR;
	if (fstat(*fd, st) < 0) {
		close(*fd);
		return FOUND_ERROR;
	}
	if (S_ISREG(st->st_mode))
		return FOUND_FILE;
	close(*fd);
	*fd = -1;
	return S_ISDIR(st->st_mode) ? FOUND_DIR : FOUND_NOTHING;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static void rep_from_stat(struct edge_rep *rep, int fd, const struct stat *st)
{
	rep->fd = fd;
	rep->size = (uint64_t)st->st_size;
	rep->mtime_s = (int64_t)st->st_mtim.tv_sec;
	snprintf(rep->etag, sizeof rep->etag, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
	         (unsigned long long)st->st_size,
	         (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
	                 (unsigned long long)st->st_mtim.tv_nsec);
}

/* The answer for file `rel` (open as fd): itself, or its .br/.gz sibling. */
static void choose_variant(int dirfd, const char *rel, int fd, const struct stat *st,
                           unsigned accept, struct edge_rep *rep)
{
	rep->content_type = edge_content_type(rel);
	rep->content_encoding = NULL;
	rep_from_stat(rep, fd, st);
	if (!accept || ends_with(rel, ".gz") || ends_with(rel, ".br"))
		return;
	static const struct {
		unsigned bit;
		const char *suffix, *coding;
	} variants[] = {{EDGE_ACCEPT_BR, ".br", "br"}, {EDGE_ACCEPT_GZIP, ".gz", "gzip"}};
	for (size_t i = 0; i < 2; i++) {
		if (!(accept & variants[i].bit))
			continue;
		char *name = xasprintf("%s%s", rel, variants[i].suffix);
		int vfd;
		struct stat vst;
		enum found f = open_file(dirfd, name, &vfd, &vst);
		free(name);
		if (f == FOUND_FILE) {
			close(fd);
			rep_from_stat(rep, vfd, &vst);
			rep->content_encoding = variants[i].coding;
			return;
		}
	}
}

enum lookup { LOOKUP_FILE, LOOKUP_REDIRECT, LOOKUP_NOT_FOUND, LOOKUP_ERROR, LOOKUP_NO_RELEASE };

/* Which file answers `path` in the release at dirfd (see edge.h, "Serving"); *missing
 * tells that the file the path names is not there (a fallback may answer). */
static enum lookup lookup(const struct store_site *site, int dirfd, const char *path,
                          unsigned accept, struct edge_rep *rep, bool *missing)
{
	const char *rel = path + 1;
	const char *index = site->index_doc && *site->index_doc ? site->index_doc : "index.html";
	bool slash = !*rel || ends_with(rel, "/");
	char *name = slash ? xasprintf("%s%s", rel, index) : xstrdup(rel);
	int fd;
	struct stat st;
	enum found f = open_file(dirfd, name, &fd, &st);
	enum lookup r = LOOKUP_NOT_FOUND;
	rep->status = 200;
	if (f == FOUND_FILE) {
		choose_variant(dirfd, name, fd, &st, accept, rep);
		r = LOOKUP_FILE;
	} else if (f == FOUND_DIR && !slash) {
		r = LOOKUP_REDIRECT;
	} else if (f == FOUND_ERROR) {
		r = LOOKUP_ERROR;
	}
	free(name);
	*missing = r == LOOKUP_NOT_FOUND;
	if (r != LOOKUP_NOT_FOUND)
		return r;
	const char *last = strrchr(path, '/') + 1;
	if (site->spa && !strchr(last, '.') && open_file(dirfd, index, &fd, &st) == FOUND_FILE) {
		choose_variant(dirfd, index, fd, &st, accept, rep);
		return LOOKUP_FILE;
	}
	if (site->error_doc && *site->error_doc &&
	    open_file(dirfd, site->error_doc, &fd, &st) == FOUND_FILE) {
		rep->status = 404;
		rep->content_type = edge_content_type(site->error_doc);
		rep->content_encoding = NULL;
		rep_from_stat(rep, fd, &st);
		return LOOKUP_FILE;
	}
	return LOOKUP_NOT_FOUND;
}

/* ---- answering with an object ---- */

static bool not_modified(struct http_request *req, const struct edge_rep *rep)
{
	const char *inm = http_request_header(req, "If-None-Match");
	if (inm)
		return edge_etag_matches(inm, rep->etag);
	int64_t t;
	const char *ims = http_request_header(req, "If-Modified-Since");
	return ims && edge_parse_http_date(ims, &t) == 0 && rep->mtime_s <= t;
}

/* Whether a Range may be honoured: no If-Range, or one naming this very object. */
static bool if_range_holds(struct http_request *req, const struct edge_rep *rep)
{
	const char *ir = http_request_header(req, "If-Range");
	if (!ir)
		return true;
	if (ir[0] == '"')
		return !strcmp(ir, rep->etag);
	int64_t t;
	return edge_parse_http_date(ir, &t) == 0 && t == rep->mtime_s;
}

static void send_body(struct http_request *req, unsigned status, struct edge_rep *rep, uint64_t off,
                      uint64_t len)
{
	if (rep->content_encoding)
		http_response_header(req, "Content-Encoding", rep->content_encoding);
	if (rep->fd >= 0) {
		http_respond_file(req, status, rep->content_type, rep->fd, off, len);
		rep->fd = -1;
	} else {
		http_respond_bytes(req, status, rep->content_type, rep->data + off, (size_t)len);
	}
}

static void drop_fd(struct edge_rep *rep)
{
	if (rep->fd >= 0)
		close(rep->fd);
	rep->fd = -1;
}

/* Answers with rep (takes its fd): 304, 206, 416 or its own status. */
static void respond(struct http_request *req, struct edge_rep *rep)
{
	if (rep->cache_control)
		http_response_header(req, "Cache-Control", rep->cache_control);
	http_response_header(req, "Vary", "Accept-Encoding");
	if (rep->status != 200) {
		send_body(req, rep->status, rep, 0, rep->size);
		return;
	}
	char date[40];
	edge_http_date(rep->mtime_s, date, sizeof date);
	http_response_header(req, "ETag", rep->etag);
	http_response_header(req, "Last-Modified", date);
	http_response_header(req, "Accept-Ranges", "bytes");
	if (not_modified(req, rep)) {
		drop_fd(rep);
		http_respond_bytes(req, 304, NULL, NULL, 0);
		return;
	}
	const char *range = http_request_header(req, "Range");
	uint64_t first = 0, last = 0;
	char cr[80];
	switch (range && if_range_holds(req, rep)
	                ? edge_parse_range(range, rep->size, &first, &last)
	                : EDGE_RANGE_NONE) {
	case EDGE_RANGE_OK:
		snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)first,
		         (unsigned long long)last, (unsigned long long)rep->size);
		http_response_header(req, "Content-Range", cr);
		send_body(req, 206, rep, first, last - first + 1);
		return;
	case EDGE_RANGE_UNSATISFIABLE:
		drop_fd(rep);
		snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)rep->size);
		http_response_header(req, "Content-Range", cr);
		text(req, 416, "416 Range Not Satisfiable\n");
		return;
	case EDGE_RANGE_NONE:
		break;
	}
	send_body(req, 200, rep, 0, rep->size);
}

static char *read_all(int fd, uint64_t size)
{
	char *data = xmalloc(size ? size : 1);
	uint64_t off = 0;
	while (off < size) {
		ssize_t n = pread(fd, data + off, size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(data);
			return NULL;
		}
		off += (uint64_t)n;
	}
	return data;
}

static void respond_cached(struct http_request *req, struct edge_object *o, int64_t now)
{
	char age[24];
	snprintf(age, sizeof age, "%lld", (long long)((now - o->stored_ms) / 1000));
	http_response_header(req, "X-Cache", "Hit from ferry");
	http_response_header(req, "Age", age);
	struct edge_rep rep = o->rep;
	respond(req, &rep);
}

/* ---- a request ---- */

/* lookup() in the live release. A file missing from a release that stopped being live
 * meanwhile (and may be being pruned) is looked for again in the new one (site.h,
 * "Readers"). */
static enum lookup resolve(struct edge *g, const struct store_site *site, const char *path,
                           unsigned accept, struct edge_rep *rep, int64_t *release)
{
	for (int attempt = 0;; attempt++) {
		struct err err;
		int dirfd = site_live_open(g->data_dir, site->name, release, &err);
		if (dirfd < 0)
			return LOOKUP_NO_RELEASE;
		bool missing = false;
		enum lookup l = lookup(site, dirfd, path, accept, rep, &missing);
		close(dirfd);
		int64_t live = 0;
		if (!missing || attempt == EDGE_RESOLVE_TRIES - 1 ||
		    site_live_number(g->data_dir, site->name, &live) < 0 || live == *release)
			return l;
		drop_fd(rep);
	}
}

static void serve_site(struct edge *g, struct http_request *req, size_t si, const char *path)
{
	const struct store_site *site = &g->sites[si];
	unsigned accept = edge_accept_encoding(http_request_header(req, "Accept-Encoding"));
	bool cached = site->visibility == STORE_SITE_CACHED;
	int64_t now = mono_ms();
	uint64_t gen = edge_cache_gen(g->cache); /* before the release is looked at */
	int64_t live = 0;
	if (cached) {
		struct edge_object *o = edge_cache_get(g->cache, site->name, 0, path, accept, now);
		if (o) {
			respond_cached(req, o, now);
			edge_object_unref(o);
			return;
		}
		http_response_header(req, "X-Cache", "Miss from ferry");
	} else if (site_live_number(g->data_dir, site->name, &live) == 0) {
		/* immediate: a release never changes, so what was read from the live one
		 * stays right while it is live; a deploy makes it another key */
		struct edge_object *o =
		        edge_cache_get(g->cache, site->name, live, path, accept, now);
		if (o) {
			struct edge_rep from_memory = o->rep;
			respond(req, &from_memory);
			edge_object_unref(o);
			return;
		}
	}
	int64_t release = 0;
	struct edge_rep rep = {.fd = -1};
	enum lookup l = resolve(g, site, path, accept, &rep, &release);
	if (l == LOOKUP_NO_RELEASE) {
		text(req, 404, "404 Not Found: site %s has no live release yet\n", site->name);
		return;
	}
	if (l == LOOKUP_REDIRECT) {
		char *to = xasprintf("%s/", http_request_path(req));
		redirect(req, to);
		free(to);
		return;
	}
	if (l == LOOKUP_NOT_FOUND) {
		text(req, 404, "404 Not Found\n");
		return;
	}
	if (l == LOOKUP_ERROR) {
		logsink_printf(g->log, "edge: %s %s: %s", site->name, path, strerror(errno));
		text(req, 500, "500 Internal Server Error\n");
		return;
	}
	rep.cache_control = release_cache_control(g, si, release);
	int64_t ttl = 0;
	if (rep.status == 200 && rep.size <= g->object_max)
		ttl = cached            ? edge_ttl(rep.cache_control, g->sites[si].default_ttl)
		      : release == live ? EDGE_RELEASE_OBJECT_TTL_S
		                        : 0;
	char *data = ttl > 0 ? read_all(rep.fd, rep.size) : NULL;
	if (!data) {
		respond(req, &rep);
		return;
	}
	drop_fd(&rep);
	struct edge_object *o = edge_object_new(g->sites[si].name, cached ? 0 : release, path,
	                                        accept, &rep, data, now, ttl * 1000);
	edge_cache_put(g->cache, o, gen);
	struct edge_rep from_memory = o->rep;
	respond(req, &from_memory);
	edge_object_unref(o);
}

static void serve(struct http_request *req, void *ctx)
{
	struct edge *g = ctx;
	const char *method = http_request_method(req);
	char upstream[PROXY_UPSTREAM_MAX];
	if (proxy_table_lookup(g->routes, http_request_header(req, "Host"), upstream, mono_ms())) {
		edge_proxy_forward(g->proxy, req, upstream);
		return;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		http_response_header(req, "Allow", "GET, HEAD");
		text(req, 405, "405 Method Not Allowed: the edge serves GET and HEAD\n");
		return;
	}
	struct err err;
	if (sites_refresh(g, &err) < 0) {
		logsink_printf(g->log, "edge: reading the sites: %s", err.msg);
		if (!g->sites_read_ms) {
			text(req, 503, "503 Service Unavailable: the sites cannot be read\n");
			return;
		}
	}
	size_t first = 0;
	ssize_t si = route_site(g, req, &first);
	if (si < 0) {
		text(req, 404, "404 Not Found: no site answers to this host or path\n");
		return;
	}
	if (first == 1 && http_request_segment_count(req) == 1) {
		char *to = xasprintf("%s/", http_request_path(req));
		redirect(req, to);
		free(to);
		return;
	}
	char *path = site_path(req, first);
	if (!path) {
		text(req, 400, "400 Bad Request: empty or encoded-slash path segment\n");
		return;
	}
	serve_site(g, req, (size_t)si, path);
	free(path);
}

/* ---- life ---- */

int edge_open(const struct edge_opts *opts, struct edge **out, struct err *err)
{
	*out = NULL;
	if (!opts || !opts->data_dir || !*opts->data_dir)
		return err_set(err, "edge: no data directory given");
	struct edge *g = xcalloc(1, sizeof *g);
	g->data_dir = xstrdup(opts->data_dir);
	g->log = opts->log;
	g->object_max = opts->object_max ? opts->object_max : EDGE_OBJECT_MAX_DEFAULT;
	g->cache = edge_cache_new(opts->cache_max ? opts->cache_max : EDGE_CACHE_MAX_DEFAULT);
	atomic_init(&g->sites_stale, false);
	g->routes = proxy_table_new(g->data_dir);
	g->proxy = edge_proxy_new(opts->log, opts->proxy_timeout_ms);
	g->purger = purger_new(g->data_dir, opts->log);
	if (store_open(g->data_dir, &g->st, err) < 0) {
		err_prefix(err, "edge");
		goto fail;
	}
	const char *listen = opts->listen ? opts->listen : EDGE_LISTEN_DEFAULT;
	g->srv = http_server_new(
	        &(struct http_server_opts){.listen = listen, .log = opts->access_log});
	if (http_server_fallback(g->srv, serve, g, PROXY_BODY_MAX, err) < 0 ||
	    http_server_start(g->srv, err) < 0)
		goto fail;
	*out = g;
	return 0;
fail:
	edge_free(g);
	return -1;
}

unsigned edge_port(const struct edge *g)
{
	return g && g->srv ? http_server_port(g->srv) : 0;
}

size_t edge_invalidate(struct edge *g, const char *site, const char *const *paths, size_t n)
{
	if (!g)
		return 0;
	char **decoded = xcalloc(n ? n : 1, sizeof *decoded);
	for (size_t i = 0; i < n; i++)
		decoded[i] = edge_pct_decode(paths[i]);
	size_t count = edge_cache_invalidate(g->cache, site, (const char *const *)decoded, n);
	for (size_t i = 0; i < n; i++)
		free(decoded[i]);
	free(decoded);
	return count;
}

struct purger *edge_purger(struct edge *g)
{
	return g->purger;
}

void edge_sites_changed(struct edge *g)
{
	if (g)
		atomic_store(&g->sites_stale, true);
}

void edge_stop(struct edge *g)
{
	if (!g || g->stopped)
		return;
	g->stopped = true;
	if (g->srv)
		http_server_stop(g->srv, EDGE_STOP_DEADLINE_MS);
	edge_proxy_stop(g->proxy); /* after: its workers answer requests the server ended */
}

void edge_free(struct edge *g)
{
	if (!g)
		return;
	edge_stop(g);
	http_server_free(g->srv);
	edge_proxy_free(g->proxy);
	purger_free(g->purger);
	proxy_table_free(g->routes);
	sites_free(g);
	store_close(g->st);
	edge_cache_free(g->cache);
	free(g->data_dir);
	free(g);
}
