/*
 * proxy.c — proxy routes on disk (<data>/proxy/<host>.route) and the edge's copy of
 * them (proxy.h states the contract).
 *
 * The copy is re-read whole when the directory changed: a route file is only ever
 * renamed into place or unlinked, and both change the directory's mtime. Timestamps
 * are coarse (a kernel tick), so two switches within one tick leave the same mtime: a
 * directory whose mtime is less than PROXY_RACY_NS older than the moment it was read is
 * read again at the next check, until it is older than that (git's "racily clean" rule).
 */
#include "sites/proxy.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"

#define PROXY_SUFFIX     ".route"
#define PROXY_FILE_MAX   256
#define PROXY_ROUTES_MAX 4096               /* routes the edge keeps in memory */
#define PROXY_RACY_NS    (2 * 1000000000LL) /* see above */

int proxy_host_normalize(const char *host, char *out, struct err *err)
{
	if (!host || !*host)
		return err_set(err, "host: empty; expected a name such as www.example.test");
	size_t len = strcspn(host, ":");
	if (host[len] == ':') { /* a port, ignored as the edge ignores it */
		const char *p = host + len + 1;
		if (!*p || strspn(p, "0123456789") != strlen(p))
			return err_set(err, "host \"%.300s\": expected NAME or NAME:PORT", host);
	}
	if (len > PROXY_HOST_MAX)
		return err_set(err, "host: %zu characters, more than %d", len, PROXY_HOST_MAX);
	if (host[0] == '.' || host[0] == '-' || host[len - 1] == '.')
		return err_set(err,
		               "host \"%.*s\": must not start with '.' or '-' nor end with '.'",
		               (int)len, host);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];
		if (!isalnum(c) && c != '.' && c != '-')
			return err_set(
			        err,
			        "host \"%.*s\": '%c' is not allowed (letters, digits, '.', '-')",
			        (int)len, host, isprint(c) ? c : '?');
		if (c == '.' && host[i + 1] == '.')
			return err_set(err, "host \"%.*s\": empty label (\"..\")", (int)len, host);
		out[i] = (char)tolower(c);
	}
	out[len] = '\0';
	return 0;
}

int proxy_upstream_parse(const char *upstream, char *out, unsigned *port, struct err *err)
{
	if (!upstream || !*upstream)
		return err_set(err, "upstream: empty; expected 127.0.0.1:PORT");
	const char *colon = strrchr(upstream, ':');
	if (!colon)
		return err_set(err, "upstream \"%.200s\": expected 127.0.0.1:PORT", upstream);
	size_t hlen = (size_t)(colon - upstream);
	bool v4 = hlen == 9 && !strncmp(upstream, "127.0.0.1", 9);
	bool local = hlen == 9 && !strncasecmp(upstream, "localhost", 9);
	if (!v4 && !local)
		return err_set(err,
		               "upstream \"%.200s\": the edge forwards to the loopback only "
		               "(127.0.0.1:PORT or localhost:PORT)",
		               upstream);
	const char *p = colon + 1;
	unsigned long v = 0;
	size_t digits = strspn(p, "0123456789");
	if (!digits || p[digits] || digits > 5)
		return err_set(err, "upstream \"%.200s\": the port must be a number 1-65535",
		               upstream);
	v = strtoul(p, NULL, 10);
	if (v < 1 || v > 65535)
		return err_set(err, "upstream \"%.200s\": the port must be a number 1-65535",
		               upstream);
	snprintf(out, PROXY_UPSTREAM_MAX, "127.0.0.1:%lu", v);
	if (port)
		*port = (unsigned)v;
	return 0;
}

static char *route_path(const char *data_dir, const char *host)
{
	return xasprintf("%s/" PROXY_DIR "/%s" PROXY_SUFFIX, data_dir, host);
}

int proxy_route_set(const char *data_dir, const char *host, const char *upstream, struct err *err)
{
	char h[PROXY_HOST_MAX + 1], up[PROXY_UPSTREAM_MAX];
	if (proxy_host_normalize(host, h, err) < 0 ||
	    proxy_upstream_parse(upstream, up, NULL, err) < 0)
		return -1;
	char *dir = xasprintf("%s/" PROXY_DIR, data_dir);
	char *path = route_path(data_dir, h);
	char line[PROXY_UPSTREAM_MAX + 2];
	int n = snprintf(line, sizeof line, "%s\n", up);
	int rc = fs_mkdir_p(dir, 0755, err);
	if (rc == 0)
		rc = fs_write_atomic(path, line, (size_t)n, 0644, err);
	if (rc < 0)
		err_prefix(err, "proxy route %s", h);
	free(dir);
	free(path);
	return rc < 0 ? -1 : 0;
}

/* The upstream in a route file: 0, 1 (no such file), -1. */
static int read_route(const char *path, char *up, struct err *err)
{
	char *data = NULL;
	size_t len = 0;
	if (!fs_exists(path))
		return 1;
	if (fs_read_file(path, PROXY_FILE_MAX, &data, &len, err) < 0)
		return errno == ENOENT ? 1 : -1;
	data[strcspn(data, "\r\n")] = '\0';
	int rc = proxy_upstream_parse(data, up, NULL, err);
	if (rc < 0)
		err_prefix(err, "%s", path);
	free(data);
	return rc;
}

int proxy_route_get(const char *data_dir, const char *host, char **upstream, struct err *err)
{
	*upstream = NULL;
	char h[PROXY_HOST_MAX + 1], up[PROXY_UPSTREAM_MAX];
	if (proxy_host_normalize(host, h, err) < 0)
		return -1;
	char *path = route_path(data_dir, h);
	int rc = read_route(path, up, err);
	free(path);
	if (rc == 0)
		*upstream = xstrdup(up);
	return rc;
}

int proxy_route_delete(const char *data_dir, const char *host, struct err *err)
{
	char h[PROXY_HOST_MAX + 1];
	if (proxy_host_normalize(host, h, err) < 0)
		return -1;
	char *path = route_path(data_dir, h);
	int rc = 0;
	if (unlink(path) < 0)
		rc = errno == ENOENT ? 1 : err_errno(err, "proxy route %s: removing %s", h, path);
	free(path);
	return rc;
}

static int cmp_route(const void *a, const void *b)
{
	return strcmp(((const struct proxy_route *)a)->host, ((const struct proxy_route *)b)->host);
}

/* Reads every route of dir; a file that is not a valid route is skipped (logged by no
 * one: `ferry` refuses to write one). */
static int read_all(const char *dir_path, struct proxy_route **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir_path);
	if (!d)
		return errno == ENOENT ? 0 : err_errno(err, "proxy routes: %s", dir_path);
	struct proxy_route *r = NULL;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) && *n < PROXY_ROUTES_MAX) {
		size_t len = strlen(e->d_name), sl = strlen(PROXY_SUFFIX);
		if (len <= sl || strcmp(e->d_name + len - sl, PROXY_SUFFIX) || e->d_name[0] == '.')
			continue;
		char h[PROXY_HOST_MAX + 1], up[PROXY_UPSTREAM_MAX];
		char *name = xstrndup(e->d_name, len - sl);
		char *path = xasprintf("%s/%s", dir_path, e->d_name);
		struct err ignored;
		if (proxy_host_normalize(name, h, &ignored) == 0 && !strcmp(h, name) &&
		    read_route(path, up, &ignored) == 0) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				r = xrealloc(r, cap * sizeof *r);
			}
			r[(*n)++] = (struct proxy_route){xstrdup(h), xstrdup(up)};
		}
		free(name);
		free(path);
	}
	closedir(d);
	if (*n)
		qsort(r, *n, sizeof *r, cmp_route);
	*out = r;
	return 0;
}

int proxy_route_list(const char *data_dir, struct proxy_route **out, size_t *n, struct err *err)
{
	char *dir = xasprintf("%s/" PROXY_DIR, data_dir);
	int rc = read_all(dir, out, n, err);
	free(dir);
	return rc;
}

void proxy_route_list_free(struct proxy_route *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(routes[i].host);
		free(routes[i].upstream);
	}
	free(routes);
}

/* ---- the edge's copy ---- */

struct proxy_table {
	char *dir;
	pthread_mutex_t mu;
	struct proxy_route *routes; /* sorted by host */
	size_t n;
	bool loaded;
	int64_t checked_ms;    /* mono_ms() of the last stat */
	struct timespec mtime; /* of the directory when read */
	struct timespec ctime;
	bool exists;
	bool racy; /* read within PROXY_RACY_NS of its mtime: read again next time */
};

struct proxy_table *proxy_table_new(const char *data_dir)
{
	struct proxy_table *t = xcalloc(1, sizeof *t);
	t->dir = xasprintf("%s/" PROXY_DIR, data_dir);
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void proxy_table_free(struct proxy_table *t)
{
	if (!t)
		return;
	proxy_route_list_free(t->routes, t->n);
	pthread_mutex_destroy(&t->mu);
	free(t->dir);
	free(t);
}

static bool same_ts(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* With t->mu held: re-reads the routes when the directory changed. */
static void refresh_locked(struct proxy_table *t, int64_t now_ms)
{
	if (t->loaded && now_ms - t->checked_ms < PROXY_CHECK_MS)
		return;
	t->checked_ms = now_ms;
	struct stat st;
	bool exists = stat(t->dir, &st) == 0;
	if (t->loaded && !t->racy && exists == t->exists &&
	    (!exists || (same_ts(&st.st_mtim, &t->mtime) && same_ts(&st.st_ctim, &t->ctime))))
		return;
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	struct proxy_route *routes = NULL;
	size_t n = 0;
	struct err err;
	if (exists && read_all(t->dir, &routes, &n, &err) < 0)
		return; /* keep what was read last; try again at the next check */
	proxy_route_list_free(t->routes, t->n);
	t->routes = routes;
	t->n = n;
	t->loaded = true;
	t->exists = exists;
	if (exists) {
		t->mtime = st.st_mtim;
		t->ctime = st.st_ctim;
		t->racy = ts_ns(&wall) - ts_ns(&st.st_mtim) < PROXY_RACY_NS ||
		          ts_ns(&wall) - ts_ns(&st.st_ctim) < PROXY_RACY_NS;
	} else {
		t->racy = false;
	}
}

int proxy_table_lookup(struct proxy_table *t, const char *host, char *upstream, int64_t now_ms)
{
	if (!t || !host || !*host)
		return 0;
	char h[PROXY_HOST_MAX + 1];
	struct err err;
	if (proxy_host_normalize(host, h, &err) < 0)
		return 0;
	pthread_mutex_lock(&t->mu);
	refresh_locked(t, now_ms);
	int found = 0;
	if (t->n) {
		struct proxy_route key = {.host = h};
		const struct proxy_route *r =
		        bsearch(&key, t->routes, t->n, sizeof *t->routes, cmp_route);
		if (r) {
			snprintf(upstream, PROXY_UPSTREAM_MAX, "%s", r->upstream);
			found = 1;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return found;
}

void proxy_table_invalidate(struct proxy_table *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->loaded = false;
	pthread_mutex_unlock(&t->mu);
}
