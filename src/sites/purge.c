/*
 * purge.c — purge targets: checking them, sending an invalidation's PURGE and BAN
 * requests, and the daemon's worker threads that do it (purge.h).
 */
#include "sites/purge.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sites/upstream.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeutil.h"

#define PURGE_STACK (256u << 10)

int purge_target_check(const char *kind, const char *url, char *norm, struct err *err)
{
	if (!kind || strcmp(kind, PURGE_KIND_VARNISH))
		return err_set(err,
		               "purge target kind \"%.40s\" is not one ferry knows (known: %s)",
		               kind ? kind : "", PURGE_KIND_VARNISH);
	if (!url || strncmp(url, "http://", 7))
		return err_set(
		        err,
		        "purge target \"%.200s\": expected http://127.0.0.1:PORT (plain HTTP "
		        "on the loopback)",
		        url ? url : "");
	const char *h = url + 7;
	const char *hosts[] = {"127.0.0.1:", "localhost:", "[::1]:"};
	const char *canon[] = {"127.0.0.1", "127.0.0.1", "[::1]"};
	size_t which = 3;
	for (size_t i = 0; i < 3; i++)
		if (!strncasecmp(h, hosts[i], strlen(hosts[i])))
			which = i;
	if (which == 3)
		return err_set(err,
		               "purge target \"%.200s\": ferry sends purges to the loopback only "
		               "(127.0.0.1, localhost or [::1]) [F]",
		               url);
	const char *p = h + strlen(hosts[which]);
	size_t digits = strspn(p, "0123456789");
	unsigned long port = digits && digits <= 5 ? strtoul(p, NULL, 10) : 0;
	const char *rest = p + digits;
	if (port < 1 || port > 65535)
		return err_set(err, "purge target \"%.200s\": the port must be a number 1-65535",
		               url);
	if (*rest && strcmp(rest, "/"))
		return err_set(err,
		               "purge target \"%.200s\": no path, query or user is allowed after "
		               "the port",
		               url);
	snprintf(norm, PURGE_URL_MAX, "http://%s:%lu", canon[which], port);
	return 0;
}

int purge_target_parse(const char *spec, char *kind, size_t kind_size, char *norm, struct err *err)
{
	const char *eq = spec ? strchr(spec, '=') : NULL;
	if (!eq || (size_t)(eq - spec) >= kind_size)
		return err_set(err,
		               "purge target \"%.200s\": expected KIND=URL, e.g. "
		               "varnish=http://127.0.0.1:6081",
		               spec ? spec : "");
	snprintf(kind, kind_size, "%.*s", (int)(eq - spec), spec);
	return purge_target_check(kind, eq + 1, norm, err);
}

/* ---- requests ---- */

static bool url_raw_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"<>\\^`{|}", c);
}

static int put_url(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((url_raw_ok(*p) ? buf_append(b, p, 1) : buf_printf(b, "%%%02X", *p)) < 0)
			return -1;
	return 0;
}

/* A regular expression matching URLs that start with `prefix` (already URL-safe). */
static int put_regex_prefix(struct buf *b, const char *prefix)
{
	if (buf_puts(b, "^") < 0)
		return -1;
	for (const char *p = prefix; *p; p++) {
		int rc = strchr(".+?()[]$*", *p) ? buf_printf(b, "[%c]", *p) : buf_append(b, p, 1);
		if (rc < 0)
			return -1;
	}
	return 0;
}

struct target_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char authority[64];
};

static void target_addr(const char *url, struct target_addr *t)
{
	memset(t, 0, sizeof *t);
	const char *h = url + 7;
	snprintf(t->authority, sizeof t->authority, "%s", h);
	if (h[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((uint16_t)strtoul(strrchr(h, ':') + 1, NULL, 10));
		t->len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&t->sa;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4->sin_port = htons((uint16_t)strtoul(strrchr(h, ':') + 1, NULL, 10));
		t->len = sizeof *s4;
	}
}

/* One request, once: its status, or a negative UP_E* with err. */
static int one_request(const struct target_addr *t, const char *request, int timeout_ms,
                       const char *who, struct err *err)
{
	struct up_conn c;
	int64_t deadline = mono_ms() + timeout_ms;
	int rc = up_connect(&c, (const struct sockaddr *)&t->sa, t->len, who, timeout_ms, err);
	if (rc == 0)
		rc = up_send(&c, request, strlen(request), deadline, who, err);
	struct up_head h;
	if (rc == 0)
		rc = up_read_head(&c, false, &h, deadline, who, err);
	if (rc == 0) {
		char sink[4096];
		int left = (int)(deadline - mono_ms());
		while (left > 0 && up_read_body(&c, sink, sizeof sink, left, who, err) > 0)
			left = (int)(deadline - mono_ms());
		rc = (int)h.status;
		up_head_free(&h);
	}
	up_close(&c);
	return rc;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static bool stopped(const struct purge_batch *b, int64_t deadline)
{
	return (b->stop && atomic_load(b->stop)) || mono_ms() >= deadline;
}

/* Sends `request` with retries; 0 on a 2xx, else -1 with err. */
static int send_with_retries(const struct purge_batch *b, const struct target_addr *t,
                             const char *request, const char *what, int64_t deadline,
                             struct err *err)
{
	int timeout = b->try_timeout_ms > 0 ? b->try_timeout_ms : PURGE_TRY_TIMEOUT_MS;
	for (int attempt = 1;; attempt++) {
		struct err e;
		int st = one_request(t, request, timeout, what, &e);
		if (st >= 200 && st < 300)
			return 0;
		if (st > 0)
			err_set(err, "%s: %d", what, st);
		else
			err_set(err, "%s", e.msg);
		if (attempt >= PURGE_ATTEMPTS || stopped(b, deadline))
			return -1;
		sleep_ms(PURGE_BACKOFF_MS * attempt);
	}
}

int purge_send(const struct purge_batch *b, struct err *err)
{
	int64_t deadline = b->deadline_ms ? b->deadline_ms : mono_ms() + PURGE_DEADLINE_MS;
	size_t failed = 0, total = 0;
	struct err first = {{0}};
	for (size_t ti = 0; ti < b->ntargets; ti++) {
		struct target_addr t;
		target_addr(b->targets[ti].url, &t);
		for (size_t pi = 0; pi < b->npaths; pi++) {
			/* the prefix form always; the bare form when the site has a host */
			for (int form = 0; form < (b->host ? 2 : 1); form++) {
				const char *path = b->paths[pi];
				size_t len = strlen(path);
				bool wild = len && path[len - 1] == '*';
				struct buf url, req;
				buf_init(&url, 4 * len + 256);
				buf_init(&req, 8 * len + 1024);
				char *bare = xstrndup(path, wild ? len - 1 : len);
				int rc = form == 0 ? buf_printf(&url, "/%s", b->site) : 0;
				if (rc == 0)
					rc = put_url(&url, bare);
				free(bare);
				if (rc == 0 && buf_append(&url, "", 1) < 0)
					rc = -1;
				char *what = NULL;
				if (rc == 0 && wild) {
					rc = buf_printf(
					             &req,
					             "BAN / HTTP/1.1\r\nHost: %s\r\nX-Ferry-Ban: ",
					             t.authority) < 0 ||
					                     put_regex_prefix(&req, url.data) < 0
					             ? -1
					             : 0;
					what = xasprintf("%s %s: BAN ^%s", b->targets[ti].kind,
					                 b->targets[ti].url, url.data);
				} else if (rc == 0) {
					rc = buf_printf(&req, "PURGE %s HTTP/1.1\r\nHost: %s",
					                url.data, t.authority);
					what = xasprintf("%s %s: PURGE %s", b->targets[ti].kind,
					                 b->targets[ti].url, url.data);
				}
				if (rc == 0)
					rc = buf_printf(&req, "\r\nX-Ferry-Site: %s\r\n", b->site);
				if (rc == 0 && form == 1)
					rc = buf_printf(&req, "X-Ferry-Host: %s\r\n", b->host);
				if (rc == 0)
					rc = buf_puts(
					        &req,
					        "Content-Length: 0\r\nConnection: close\r\n\r\n");
				if (rc == 0 && buf_append(&req, "", 1) < 0)
					rc = -1;
				total++;
				struct err e;
				if (rc < 0)
					err_set(&e, "%s: the path is too long to send",
					        b->paths[pi]);
				else if (stopped(b, deadline))
					rc = err_set(&e,
					             "%s: not sent (stopped, or past the deadline)",
					             what);
				else
					rc = send_with_retries(b, &t, req.data, what, deadline, &e);
				if (rc < 0 && failed++ == 0)
					first = e;
				free(what);
				buf_free(&url);
				buf_free(&req);
			}
		}
	}
	if (!failed)
		return 0;
	return err_set(err, "%zu of %zu purge requests failed; first: %s", failed, total,
	               first.msg);
}

/* ---- the purger ---- */

struct purger {
	char *data_dir;
	const struct logsink *log;
	pthread_mutex_t mu;
	pthread_cond_t idle;
	unsigned running;
	_Atomic int stop;
};

struct purge_job {
	struct purger *p;
	char *site, *host, *id;
	char **paths;
	size_t n;
	struct store_purge_target *targets;
	size_t ntargets;
	int64_t deadline_ms;
};

struct purger *purger_new(const char *data_dir, const struct logsink *log)
{
	struct purger *p = xcalloc(1, sizeof *p);
	p->data_dir = xstrdup(data_dir);
	p->log = log;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->idle, NULL);
	atomic_init(&p->stop, 0);
	return p;
}

static void job_free(struct purge_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->paths[i]);
	free(j->paths);
	store_purge_target_list_free(j->targets, j->ntargets);
	free(j->site);
	free(j->host);
	free(j->id);
	free(j);
}

/* Records the end with its own store connection. */
static void finish(struct purger *p, const char *site, const char *id, const char *error)
{
	struct store *st = NULL;
	struct err err;
	if (store_open(p->data_dir, &st, &err) < 0 ||
	    store_invalidation_finish(st, site, id, error, &err) < 0)
		logsink_printf(p->log, "purge: site %s invalidation %s: recording its end: %s",
		               site, id, err.msg);
	store_close(st);
}

static void *purge_main(void *arg)
{
	struct purge_job *j = arg;
	struct purger *p = j->p;
	struct purge_batch b = {.site = j->site,
	                        .host = j->host,
	                        .paths = (const char *const *)j->paths,
	                        .npaths = j->n,
	                        .targets = j->targets,
	                        .ntargets = j->ntargets,
	                        .deadline_ms = j->deadline_ms,
	                        .stop = &p->stop};
	struct err err;
	int rc = purge_send(&b, &err);
	if (rc < 0)
		logsink_printf(p->log, "purge: site %s invalidation %s: %s", j->site, j->id,
		               err.msg);
	finish(p, j->site, j->id, rc < 0 ? err.msg : NULL);
	job_free(j);
	pthread_mutex_lock(&p->mu);
	if (--p->running == 0)
		pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

void purger_start(struct purger *p, const char *site, const char *host, const char *id,
                  const char *const *paths, size_t n, const struct store_purge_target *targets,
                  size_t ntargets, int64_t deadline_ms)
{
	struct purge_job *j = xcalloc(1, sizeof *j);
	j->p = p;
	j->site = xstrdup(site);
	j->host = host ? xstrdup(host) : NULL;
	j->id = xstrdup(id);
	j->paths = xcalloc(n ? n : 1, sizeof *j->paths);
	for (size_t i = 0; i < n; i++)
		j->paths[i] = xstrdup(paths[i]);
	j->n = n;
	j->targets = xcalloc(ntargets ? ntargets : 1, sizeof *j->targets);
	for (size_t i = 0; i < ntargets; i++)
		j->targets[i] = (struct store_purge_target){
		        xstrdup(targets[i].site), xstrdup(targets[i].kind), xstrdup(targets[i].url),
		        targets[i].created_ms};
	j->ntargets = ntargets;
	j->deadline_ms = deadline_ms;
	pthread_mutex_lock(&p->mu);
	p->running++;
	pthread_mutex_unlock(&p->mu);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, PURGE_STACK);
	pthread_t t;
	int rc = pthread_create(&t, &attr, purge_main, j);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return;
	finish(p, site, id, "no thread could be started to send the purges");
	job_free(j);
	pthread_mutex_lock(&p->mu);
	if (--p->running == 0)
		pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->mu);
}

void purger_free(struct purger *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	pthread_mutex_lock(&p->mu);
	while (p->running)
		pthread_cond_wait(&p->idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->idle);
	free(p->data_dir);
	free(p);
}
