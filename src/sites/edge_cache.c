/*
 * edge_cache.c — the edge's cache of hot objects: a hash table keyed by (site, path,
 * accepted encodings), an LRU list under a byte cap, TTLs checked when an object is
 * asked for (nothing runs while nobody asks), and eviction by CloudFront's invalidation
 * patterns.
 *
 * Objects are reference-counted so that an answer being copied out of one does not
 * hold the lock, and so that an invalidation never waits for a slow client: it unlinks
 * and drops the cache's reference; the last holder frees.
 */
#include "sites/edge_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define CACHE_BUCKETS_MIN 256
#define OBJECT_OVERHEAD   256 /* bytes charged per object besides its body and key */

struct edge_cache {
	pthread_mutex_t mu;
	struct edge_object **buckets;
	size_t nbuckets;
	size_t count, bytes, max_bytes;
	uint64_t gen;
	struct edge_object *lru_head, *lru_tail; /* head: most recently used */
};

static uint64_t key_hash(const char *site, int64_t release, const char *path, unsigned accept)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = site; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xffu) * 1099511628211ull;
	h = (h ^ (uint64_t)release) * 1099511628211ull;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (h ^ accept) * 1099511628211ull;
}

struct edge_cache *edge_cache_new(size_t max_bytes)
{
	struct edge_cache *c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	c->nbuckets = CACHE_BUCKETS_MIN;
	c->buckets = xcalloc(c->nbuckets, sizeof *c->buckets);
	c->max_bytes = max_bytes;
	return c;
}

static void object_free(struct edge_object *o)
{
	free(o->site);
	free(o->path);
	free(o->data);
	free(o->cache_control);
	free(o);
}

void edge_object_unref(struct edge_object *o)
{
	if (o && atomic_fetch_sub(&o->refs, 1) == 1)
		object_free(o);
}

struct edge_object *edge_object_new(const char *site, int64_t release, const char *path,
                                    unsigned accept, const struct edge_rep *rep, char *data,
                                    int64_t now_ms, int64_t ttl_ms)
{
	struct edge_object *o = xcalloc(1, sizeof *o);
	atomic_init(&o->refs, 1);
	o->site = xstrdup(site);
	o->path = xstrdup(path);
	o->accept = accept;
	o->release = release;
	o->hash = key_hash(site, release, path, accept);
	o->stored_ms = now_ms;
	o->expires_ms = now_ms + ttl_ms;
	o->rep = *rep;
	o->rep.fd = -1;
	o->data = data;
	o->rep.data = data;
	o->cache_control = rep->cache_control ? xstrdup(rep->cache_control) : NULL;
	o->rep.cache_control = o->cache_control;
	o->cost = (size_t)rep->size + strlen(site) + strlen(path) + OBJECT_OVERHEAD;
	return o;
}

/* ---- with c->mu held ---- */

static void lru_unlink(struct edge_cache *c, struct edge_object *o)
{
	if (o->lru_prev)
		o->lru_prev->lru_next = o->lru_next;
	else
		c->lru_head = o->lru_next;
	if (o->lru_next)
		o->lru_next->lru_prev = o->lru_prev;
	else
		c->lru_tail = o->lru_prev;
	o->lru_prev = o->lru_next = NULL;
}

static void lru_push_front(struct edge_cache *c, struct edge_object *o)
{
	o->lru_prev = NULL;
	o->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = o;
	c->lru_head = o;
	if (!c->lru_tail)
		c->lru_tail = o;
}

/* Unlinks o from the table and the list; the caller drops the cache's reference after
 * unlocking (freeing may be slow for a large object). */
static void unlink_object(struct edge_cache *c, struct edge_object *o)
{
	struct edge_object **pp = &c->buckets[o->hash % c->nbuckets];
	while (*pp && *pp != o)
		pp = &(*pp)->chain;
	if (*pp)
		*pp = o->chain;
	o->chain = NULL;
	lru_unlink(c, o);
	c->count--;
	c->bytes -= o->cost;
	o->linked = false;
}

static struct edge_object *find(struct edge_cache *c, const char *site, int64_t release,
                                const char *path, unsigned accept, uint64_t h)
{
	for (struct edge_object *o = c->buckets[h % c->nbuckets]; o; o = o->chain)
		if (o->hash == h && o->accept == accept && o->release == release &&
		    !strcmp(o->path, path) && !strcmp(o->site, site))
			return o;
	return NULL;
}

static void grow(struct edge_cache *c)
{
	size_t n = c->nbuckets * 2;
	struct edge_object **b = xcalloc(n, sizeof *b);
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct edge_object *o = c->buckets[i], *next; o; o = next) {
			next = o->chain;
			o->chain = b[o->hash % n];
			b[o->hash % n] = o;
		}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

/* ---- the interface ---- */

uint64_t edge_cache_gen(struct edge_cache *c)
{
	pthread_mutex_lock(&c->mu);
	uint64_t g = c->gen;
	pthread_mutex_unlock(&c->mu);
	return g;
}

struct edge_object *edge_cache_get(struct edge_cache *c, const char *site, int64_t release,
                                   const char *path, unsigned accept, int64_t now_ms)
{
	uint64_t h = key_hash(site, release, path, accept);
	struct edge_object *expired = NULL;
	pthread_mutex_lock(&c->mu);
	struct edge_object *o = find(c, site, release, path, accept, h);
	if (o && now_ms >= o->expires_ms) {
		unlink_object(c, o);
		expired = o;
		o = NULL;
	} else if (o) {
		lru_unlink(c, o);
		lru_push_front(c, o);
		atomic_fetch_add(&o->refs, 1);
	}
	pthread_mutex_unlock(&c->mu);
	edge_object_unref(expired);
	return o;
}

void edge_cache_put(struct edge_cache *c, struct edge_object *obj, uint64_t gen)
{
	struct edge_object *dropped = NULL; /* chained through lru_next once unlinked */
	pthread_mutex_lock(&c->mu);
	if (gen != c->gen || obj->cost > c->max_bytes || obj->linked) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	struct edge_object *old =
	        find(c, obj->site, obj->release, obj->path, obj->accept, obj->hash);
	if (old) {
		unlink_object(c, old);
		old->lru_next = dropped;
		dropped = old;
	}
	while (c->bytes + obj->cost > c->max_bytes && c->lru_tail) {
		struct edge_object *o = c->lru_tail;
		unlink_object(c, o);
		o->lru_next = dropped;
		dropped = o;
	}
	if (c->count + 1 > c->nbuckets)
		grow(c);
	struct edge_object **b = &c->buckets[obj->hash % c->nbuckets];
	obj->chain = *b;
	*b = obj;
	lru_push_front(c, obj);
	c->count++;
	c->bytes += obj->cost;
	obj->linked = true;
	atomic_fetch_add(&obj->refs, 1);
	pthread_mutex_unlock(&c->mu);
	while (dropped) {
		struct edge_object *next = dropped->lru_next;
		edge_object_unref(dropped);
		dropped = next;
	}
}

static bool matches(const char *path, const char *pattern)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '*')
		return !strncmp(path, pattern, n - 1);
	return !strcmp(path, pattern);
}

size_t edge_cache_invalidate(struct edge_cache *c, const char *site, const char *const *patterns,
                             size_t n)
{
	struct edge_object *dropped = NULL;
	size_t count = 0;
	pthread_mutex_lock(&c->mu);
	c->gen++;
	for (struct edge_object *o = c->lru_head, *next; o; o = next) {
		next = o->lru_next;
		if (strcmp(o->site, site))
			continue;
		for (size_t i = 0; i < n; i++)
			if (matches(o->path, patterns[i])) {
				unlink_object(c, o);
				o->lru_next = dropped;
				dropped = o;
				count++;
				break;
			}
	}
	pthread_mutex_unlock(&c->mu);
	while (dropped) {
		struct edge_object *next = dropped->lru_next;
		edge_object_unref(dropped);
		dropped = next;
	}
	return count;
}

void edge_cache_usage(struct edge_cache *c, size_t *objects, size_t *bytes)
{
	pthread_mutex_lock(&c->mu);
	*objects = c->count;
	*bytes = c->bytes;
	pthread_mutex_unlock(&c->mu);
}

void edge_cache_free(struct edge_cache *c)
{
	if (!c)
		return;
	for (struct edge_object *o = c->lru_head, *next; o; o = next) {
		next = o->lru_next;
		edge_object_unref(o);
	}
	free(c->buckets);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
