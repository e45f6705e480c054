/*
 * http_route.c — the request head, decoded (path segments, query), and the route table.
 *
 * Paths are split on '/' *before* percent-decoding, so an encoded slash stays inside its
 * segment, and "." or ".." (however encoded) are refused rather than interpreted: ferry
 * never maps a URL path onto the file system through this layer. When several routes
 * match a path, the most specific wins, segment by segment from the left: a literal
 * beats a {name}, which beats a {rest...}; registration order does not matter.
 */
#include "net/http_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- pool ---- */

#define POOL_BLOCK_MIN 2048

void *pool_alloc(struct pool *p, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct pool_block *b = p->head;
	if (!b || b->size - b->used < n) {
		size_t size = n > POOL_BLOCK_MIN ? n : POOL_BLOCK_MIN;
		if (p->total + size > HTTP_REQUEST_POOL_MAX)
			return NULL;
		b = xmalloc(sizeof *b + size);
		b->size = size;
		b->used = 0;
		b->next = p->head;
		p->head = b;
		p->total += size;
	}
	void *r = b->data + b->used;
	b->used += n;
	return r;
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
	char *r = pool_alloc(p, n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

void pool_free(struct pool *p)
{
	while (p->head) {
		struct pool_block *next = p->head->next;
		free(p->head);
		p->head = next;
	}
	p->total = 0;
}

/* ---- decoding the request head ---- */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into the pool ('+' is a space in a query). NULL with a message
 * on a malformed escape, an encoded NUL, or an exhausted pool. */
static char *pct_decode(struct pool *p, const char *s, size_t n, bool plus_is_space,
                        const char *what, struct err *err)
{
	char *out = pool_alloc(p, n + 1);
	if (!out) {
		err_set(err, "request line too long");
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 1 < n ? hex_digit((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				err_set(err, "%s: malformed %%-escape", what);
				return NULL;
			}
			c = hi * 16 + lo;
			if (c == 0) {
				err_set(err, "%s: %%00 is not allowed", what);
				return NULL;
			}
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

struct query_walk {
	struct http_request *req;
	struct err *err;
	int failed;
};

static enum MHD_Result on_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
	(void)kind;
	struct query_walk *w = cls;
	struct http_request *req = w->req;
	if (req->nquery == HTTP_QUERY_MAX) {
		w->failed = err_set(w->err, "more than %d query parameters", HTTP_QUERY_MAX);
		return MHD_NO;
	}
	const char *k = pct_decode(&req->pool, key, strlen(key), true, "query", w->err);
	const char *v = k ? pct_decode(&req->pool, value ? value : "", value ? strlen(value) : 0,
	                               true, "query", w->err)
	                  : NULL;
	if (!k || !v) {
		w->failed = -1;
		return MHD_NO;
	}
	req->query[req->nquery++] = (struct kv){k, v};
	return MHD_YES;
}

int request_decode(struct http_request *req, struct MHD_Connection *conn, struct err *err)
{
	const char *path = req->path;
	if (path[0] != '/')
		return err_set(err, "request target must start with /");
	size_t n = 0;
	if (path[1] != '\0')
		for (const char *p = path; *p; p++)
			n += *p == '/';
	if (n > HTTP_SEGMENTS_MAX)
		return err_set(err, "path has more than %d segments", HTTP_SEGMENTS_MAX);
	req->segs = pool_alloc(&req->pool, (n ? n : 1) * sizeof *req->segs);
	if (!req->segs)
		return err_set(err, "request line too long");
	const char *p = path + 1;
	for (size_t i = 0; i < n; i++) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *seg = pct_decode(&req->pool, p, len, false, "path", err);
		if (!seg)
			return -1;
		if (!strcmp(seg, ".") || !strcmp(seg, ".."))
			return err_set(err, "path: a \"%s\" segment is not allowed", seg);
		req->segs[i] = seg;
		p += len + 1;
	}
	req->nseg = n;
	if (conn) {
		struct query_walk w = {req, err, 0};
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_query_arg, &w);
		if (w.failed)
			return -1;
	}
	return 0;
}

/* ---- routes ---- */

static bool valid_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static int compile_seg(struct route_seg *seg, const char *s, size_t n, const char *pattern,
                       struct err *err)
{
	if (n == 0)
		return err_set(err, "route %s: empty segment", pattern);
	if (s[0] == '{') {
		if (s[n - 1] != '}')
			return err_set(err, "route %s: unclosed {", pattern);
		const char *name = s + 1;
		size_t len = n - 2;
		seg->kind = SEG_PARAM;
		if (len > 3 && !memcmp(name + len - 3, "...", 3)) {
			seg->kind = SEG_REST;
			len -= 3;
		}
		if (!valid_name(name, len))
			return err_set(err, "route %s: parameter names are letters, digits and _",
			               pattern);
		seg->text = xstrndup(name, len);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] == '{' || s[i] == '}' || s[i] == '%')
			return err_set(err, "route %s: a literal segment has '%c'", pattern, s[i]);
	seg->kind = SEG_LITERAL;
	seg->text = xstrndup(s, n);
	return 0;
}

int route_compile(struct route *r, const struct http_route *spec, struct err *err)
{
	memset(r, 0, sizeof *r);
	const char *m = spec->method, *pat = spec->pattern;
	if (!m || !*m || !pat || !spec->handler)
		return err_set(err, "route: method, pattern and handler are required");
	for (const char *c = m; *c; c++)
		if (!isupper((unsigned char)*c))
			return err_set(err, "route %s %s: the method must be upper case", m, pat);
	if (pat[0] != '/')
		return err_set(err, "route %s: a pattern starts with /", pat);
	size_t n = 0;
	if (pat[1] != '\0')
		for (const char *c = pat; *c; c++)
			n += *c == '/';
	r->segs = xcalloc(n ? n : 1, sizeof *r->segs);
	r->nseg = n;
	size_t nparams = 0;
	const char *p = pat + 1;
	for (size_t i = 0; i < n; i++) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (compile_seg(&r->segs[i], p, len, pat, err) < 0)
			goto fail;
		if (r->segs[i].kind == SEG_REST && i + 1 != n) {
			err_set(err, "route %s: {%s...} must be the last segment", pat,
			        r->segs[i].text);
			goto fail;
		}
		if (r->segs[i].kind != SEG_LITERAL) {
			for (size_t j = 0; j < i; j++)
				if (r->segs[j].kind != SEG_LITERAL &&
				    !strcmp(r->segs[j].text, r->segs[i].text)) {
					err_set(err, "route %s: {%s} appears twice", pat,
					        r->segs[i].text);
					goto fail;
				}
			if (++nparams > HTTP_PARAMS_MAX) {
				err_set(err, "route %s: more than %d parameters", pat,
				        HTTP_PARAMS_MAX);
				goto fail;
			}
		}
		p += len + 1;
	}
	r->method = xstrdup(m);
	r->pattern = xstrdup(pat);
	r->handler = spec->handler;
	r->ctx = spec->ctx;
	r->body_max = spec->body_max ? spec->body_max : HTTP_BODY_MAX_DEFAULT;
	return 0;
fail:
	route_free(r);
	return -1;
}

void route_free(struct route *r)
{
	for (size_t i = 0; r->segs && i < r->nseg; i++)
		free(r->segs[i].text);
	free(r->segs);
	free(r->method);
	free(r->pattern);
	memset(r, 0, sizeof *r);
}

/* Whether r's pattern matches req's path; with `fill`, stores the parameters in req. */
static bool match_path(const struct route *r, struct http_request *req, bool fill)
{
	size_t np = 0;
	for (size_t i = 0; i < r->nseg; i++) {
		const struct route_seg *s = &r->segs[i];
		if (s->kind == SEG_REST) {
			if (i >= req->nseg)
				return false;
			size_t len = 0;
			for (size_t j = i; j < req->nseg; j++) {
				if (!*req->segs[j])
					return false;
				len += strlen(req->segs[j]) + 1;
			}
			if (!fill)
				return true;
			char *v = pool_alloc(&req->pool, len);
			if (!v)
				return false;
			size_t o = 0;
			for (size_t j = i; j < req->nseg; j++) {
				size_t l = strlen(req->segs[j]);
				memcpy(v + o, req->segs[j], l);
				o += l;
				v[o++] = '/';
			}
			v[o - 1] = '\0';
			req->params[np++] = (struct kv){s->text, v};
			req->nparams = np;
			return true;
		}
		if (i >= req->nseg)
			return false;
		const char *seg = req->segs[i];
		if (s->kind == SEG_LITERAL) {
			if (strcmp(seg, s->text))
				return false;
		} else {
			if (!*seg)
				return false;
			if (fill)
				req->params[np++] = (struct kv){s->text, seg};
		}
	}
	if (r->nseg != req->nseg)
		return false;
	if (fill)
		req->nparams = np;
	return true;
}

/* >0 when a is more specific than b (see the top of the file). */
static int specificity_cmp(const struct route *a, const struct route *b)
{
	for (size_t i = 0; i < a->nseg && i < b->nseg; i++) {
		/* SEG_LITERAL < SEG_PARAM < SEG_REST in the enum: smaller is more specific */
		if (a->segs[i].kind != b->segs[i].kind)
			return (int)b->segs[i].kind - (int)a->segs[i].kind;
	}
	return 0;
}

static void allow_add(char *allow, size_t size, const char *method)
{
	size_t mlen = strlen(method), len = strlen(allow);
	for (const char *p = allow; (p = strstr(p, method)); p += mlen) {
		bool starts = p == allow || p[-1] == ' ';
		bool ends = p[mlen] == ',' || p[mlen] == '\0';
		if (starts && ends)
			return;
	}
	if (len + mlen + 3 > size)
		return;
	if (len) {
		memcpy(allow + len, ", ", 2);
		len += 2;
	}
	memcpy(allow + len, method, mlen + 1);
}

const struct route *router_find(struct http_server *srv, struct http_request *req, char *allow,
                                size_t allow_size)
{
	const struct route *best = NULL;
	int best_method = 0;
	bool head = !strcmp(req->method, "HEAD");
	allow[0] = '\0';
	for (size_t i = 0; i < srv->nroutes; i++) {
		const struct route *r = &srv->routes[i];
		if (!match_path(r, req, false))
			continue;
		allow_add(allow, allow_size, r->method);
		if (!strcmp(r->method, "GET"))
			allow_add(allow, allow_size, "HEAD");
		/* 2: the method itself; 1: GET standing in for HEAD */
		int m = !strcmp(r->method, req->method) ? 2 : head && !strcmp(r->method, "GET");
		if (!m)
			continue;
		int cmp = best ? specificity_cmp(r, best) : 1;
		if (cmp > 0 || (cmp == 0 && m > best_method)) {
			best = r;
			best_method = m;
		}
	}
	if (best && !match_path(best, req, true))
		return NULL; /* the pool ran out while copying a {rest...} */
	return best;
}
