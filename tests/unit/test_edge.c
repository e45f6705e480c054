/* Unit tests for sites/edge: the edge server serving sites' live releases (built by hand
 * here, following site.h's layout) as a static web host and CDN would — content types,
 * validators, ranges, precompressed variants, index documents, SPA fallback, error
 * pages, no way out of a release — and its CloudFront-like cache with invalidations
 * (spec §10). */
#include "store_testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#include "net/http_client.h"
#include "sites/edge.h"
#include "sites/edge_int.h"
#include "store/sites.h"
#include "store/store.h"

#define WAIT_MS 5000

struct fixture {
	char *tmp;
	char *data;
	struct store *st;
	struct edge *edge;
	size_t object_max;
};

struct site_opts {
	const char *host, *error_doc;
	int spa, cached, default_ttl;
};

static void add_site(struct fixture *f, const char *name, const struct site_opts *o)
{
	struct store_site s = {.name = (char *)name,
	                       .keep = 5,
	                       .host = o ? (char *)o->host : NULL,
	                       .error_doc = o ? (char *)o->error_doc : NULL,
	                       .spa = o ? o->spa : 0,
	                       .visibility = o && o->cached ? STORE_SITE_CACHED : 0,
	                       .default_ttl = o ? o->default_ttl : 0};
	struct err err;
	if (store_site_create(f->st, &s, &err) != 0)
		fail_msg("store_site_create: %s", err.msg);
	edge_sites_changed(f->edge);
}

/* Writes a file of release n of a site. */
static void put(struct fixture *f, const char *site, int n, const char *rel, const char *text)
{
	char *dir = xasprintf("%s/sites/%s/releases/%d", f->data, site, n);
	tu_write(dir, rel, text);
	free(dir);
}

static void meta(struct fixture *f, const char *site, int n, const char *cache_control)
{
	char *dir = xasprintf("%s/sites/%s/releases", f->data, site);
	char *name = xasprintf("%d.meta.json", n);
	char *json = xasprintf("{\"number\": %d, \"cacheControl\": \"%s\"}", n, cache_control);
	tu_write(dir, name, json);
	free(json);
	free(name);
	free(dir);
}

/* `live` -> releases/<n>, switched with rename as site.c does. */
static void go_live(struct fixture *f, const char *site, int n)
{
	char *tmp = xasprintf("%s/sites/%s/live.tmp", f->data, site);
	char *live = xasprintf("%s/sites/%s/live", f->data, site);
	char *target = xasprintf("releases/%d", n);
	unlink(tmp);
	assert_int_equal(symlink(target, tmp), 0);
	assert_int_equal(rename(tmp, live), 0);
	free(tmp);
	free(live);
	free(target);
}

static void start_edge(struct fixture *f)
{
	struct err err;
	struct edge_opts o = {
	        .listen = "127.0.0.1:0", .data_dir = f->data, .object_max = f->object_max};
	if (edge_open(&o, &f->edge, &err) != 0)
		fail_msg("edge_open: %s", err.msg);
	assert_true(edge_port(f->edge) > 0);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->st = tu_store_open(&f->tmp, &f->data);
	add_site(f, "www", NULL);
	put(f, "www", 1, "index.html", "<h1>home</h1>");
	put(f, "www", 1, "style.css", "body{}");
	put(f, "www", 1, "digits.txt", "0123456789");
	put(f, "www", 1, "docs/index.html", "docs");
	go_live(f, "www", 1);
	start_edge(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	edge_free(f->edge);
	tu_store_close(f->st, f->tmp, f->data);
	free(f);
	return 0;
}

/* One request; returns the status; the reply is the caller's. Extra headers: "Name: v". */
static long req(struct fixture *f, const char *method, const char *path, const char *const *headers,
                struct http_reply *rep)
{
	char *url = xasprintf("http://127.0.0.1:%u%s", edge_port(f->edge), path);
	struct err err;
	struct http_call c = {
	        .method = method, .url = url, .headers = headers, .timeout_ms = WAIT_MS};
	if (http_call(&c, rep, &err) < 0)
		fail_msg("%s", err.msg);
	free(url);
	return rep->status;
}

/* The body of a GET that must answer 200. */
static char *get_ok(struct fixture *f, const char *path)
{
	struct http_reply rep;
	long st = req(f, "GET", path, NULL, &rep);
	if (st != 200)
		fail_msg("GET %s: %ld %s", path, st, rep.body);
	char *body = xstrdup(rep.body);
	http_reply_free(&rep);
	return body;
}

static void assert_body(struct fixture *f, const char *path, const char *want)
{
	char *got = get_ok(f, path);
	assert_string_equal(got, want);
	free(got);
}

static void assert_header(const struct http_reply *rep, const char *name, const char *want)
{
	const char *v = http_reply_header(rep, name);
	if (!v)
		fail_msg("no %s header", name);
	assert_string_equal(v, want);
}

/* A request sent as is (curl would tidy its path); returns what came back. */
static char *raw(struct fixture *f, const char *request)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(edge_port(f->edge))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(send(fd, request, strlen(request), MSG_NOSIGNAL),
	                 (ssize_t)strlen(request));
	struct buf b;
	buf_init(&b, 1 << 20);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, WAIT_MS) <= 0)
			break;
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof tmp, 0);
		if (n <= 0)
			break;
		assert_int_equal(buf_append(&b, tmp, (size_t)n), 0);
	}
	close(fd);
	return buf_detach(&b);
}

/* ---- serving ---- */

static void test_content_types(void **state)
{
	struct fixture *f = *state;
	static const char *const cases[][2] = {
	        {"a.html", "text/html; charset=utf-8"},
	        {"a.css", "text/css; charset=utf-8"},
	        {"a.js", "text/javascript; charset=utf-8"},
	        {"a.mjs", "text/javascript; charset=utf-8"},
	        {"a.json", "application/json"},
	        {"a.svg", "image/svg+xml"},
	        {"a.png", "image/png"},
	        {"a.JPG", "image/jpeg"},
	        {"a.webp", "image/webp"},
	        {"a.ico", "image/x-icon"},
	        {"a.wasm", "application/wasm"},
	        {"a.woff2", "font/woff2"},
	        {"a.js.map", "application/json"},
	        {"a.pdf", "application/pdf"},
	        {"a.mp4", "video/mp4"},
	        {"a.unknownext", "application/octet-stream"},
	        {"Makefile", "application/octet-stream"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		put(f, "www", 1, cases[i][0], "x");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path = xasprintf("/www/%s", cases[i][0]);
		struct http_reply rep;
		assert_int_equal(req(f, "GET", path, NULL, &rep), 200);
		assert_header(&rep, "Content-Type", cases[i][1]);
		http_reply_free(&rep);
		free(path);
	}
}

/* A site answers to its Host (port and case ignored), at the root. */
static void test_host_header(void **state)
{
	struct fixture *f = *state;
	add_site(f, "blog", &(struct site_opts){.host = "blog.example.test"});
	put(f, "blog", 1, "index.html", "blog home");
	go_live(f, "blog", 1);
	struct http_reply rep;
	assert_int_equal(
	        req(f, "GET", "/", (const char *[]){"Host: Blog.Example.Test:80", NULL}, &rep),
	        200);
	assert_string_equal(rep.body, "blog home");
	http_reply_free(&rep);
	assert_body(f, "/blog/", "blog home"); /* by path prefix too */
	assert_int_equal(req(f, "GET", "/nosuchsite/", NULL, &rep), 404);
	http_reply_free(&rep);
}

static void test_etag_if_none_match(void **state)
{
	struct fixture *f = *state;
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/www/style.css", NULL, &rep), 200);
	char *etag = xstrdup(http_reply_header(&rep, "ETag"));
	assert_true(etag[0] == '"');
	http_reply_free(&rep);

	char *h = xasprintf("If-None-Match: \"other\", %s", etag);
	assert_int_equal(req(f, "GET", "/www/style.css", (const char *[]){h, NULL}, &rep), 304);
	assert_int_equal(rep.len, 0);
	assert_header(&rep, "ETag", etag);
	http_reply_free(&rep);
	free(h);
	h = xasprintf("If-None-Match: W/%s", etag); /* weak comparison */
	assert_int_equal(req(f, "GET", "/www/style.css", (const char *[]){h, NULL}, &rep), 304);
	http_reply_free(&rep);
	free(h);
	assert_int_equal(req(f, "GET", "/www/style.css",
	                     (const char *[]){"If-None-Match: \"nope\"", NULL}, &rep),
	                 200);
	assert_string_equal(rep.body, "body{}");
	http_reply_free(&rep);

	/* a new version of the file is a new ETag */
	put(f, "www", 2, "style.css", "body{color:red}");
	go_live(f, "www", 2);
	h = xasprintf("If-None-Match: %s", etag);
	assert_int_equal(req(f, "GET", "/www/style.css", (const char *[]){h, NULL}, &rep), 200);
	assert_string_not_equal(http_reply_header(&rep, "ETag"), etag);
	http_reply_free(&rep);
	free(h);
	free(etag);
}

static void test_last_modified_if_modified_since(void **state)
{
	struct fixture *f = *state;
	char *p = xasprintf("%s/sites/www/releases/1/style.css", f->data);
	struct timespec t[2] = {{.tv_sec = 1700000000}, {.tv_sec = 1700000000}};
	assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
	free(p);
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/www/style.css", NULL, &rep), 200);
	assert_header(&rep, "Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT");
	http_reply_free(&rep);
	assert_int_equal(
	        req(f, "GET", "/www/style.css",
	            (const char *[]){"If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT", NULL},
	            &rep),
	        304);
	http_reply_free(&rep);
	assert_int_equal(
	        req(f, "GET", "/www/style.css",
	            (const char *[]){"If-Modified-Since: Mon, 13 Nov 2023 00:00:00 GMT", NULL},
	            &rep),
	        200);
	http_reply_free(&rep);
	/* If-None-Match wins over If-Modified-Since */
	assert_int_equal(
	        req(f, "GET", "/www/style.css",
	            (const char *[]){"If-None-Match: \"x\"",
	                             "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT", NULL},
	            &rep),
	        200);
	http_reply_free(&rep);
}

static void check_range(struct fixture *f, const char *range, long status, const char *body,
                        const char *content_range)
{
	char *h = xasprintf("Range: %s", range);
	struct http_reply rep;
	long st = req(f, "GET", "/www/digits.txt", (const char *[]){h, NULL}, &rep);
	if (st != status)
		fail_msg("%s: %ld, expected %ld", range, st, status);
	if (body)
		assert_string_equal(rep.body, body);
	if (content_range)
		assert_header(&rep, "Content-Range", content_range);
	else
		assert_null(http_reply_header(&rep, "Content-Range"));
	http_reply_free(&rep);
	free(h);
}

static void test_range(void **state)
{
	struct fixture *f = *state;
	check_range(f, "bytes=0-3", 206, "0123", "bytes 0-3/10");
	check_range(f, "bytes=7-", 206, "789", "bytes 7-9/10");
	check_range(f, "bytes=-2", 206, "89", "bytes 8-9/10");
	check_range(f, "bytes=5-100", 206, "56789", "bytes 5-9/10");
	check_range(f, "bytes=10-", 416, NULL, "bytes */10");
	check_range(f, "bytes=0-1,4-5", 200, "0123456789", NULL); /* several: the whole */
	check_range(f, "lines=1-2", 200, "0123456789", NULL);
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/www/digits.txt", NULL, &rep), 200);
	assert_header(&rep, "Accept-Ranges", "bytes");
	char *ir = xasprintf("If-Range: %s", http_reply_header(&rep, "ETag"));
	http_reply_free(&rep);
	assert_int_equal(req(f, "GET", "/www/digits.txt",
	                     (const char *[]){"Range: bytes=1-2", ir, NULL}, &rep),
	                 206);
	http_reply_free(&rep);
	free(ir);
	assert_int_equal(req(f, "GET", "/www/digits.txt",
	                     (const char *[]){"Range: bytes=1-2", "If-Range: \"old\"", NULL}, &rep),
	                 200);
	assert_string_equal(rep.body, "0123456789");
	http_reply_free(&rep);
}

static void test_head(void **state)
{
	struct fixture *f = *state;
	struct http_reply rep;
	assert_int_equal(req(f, "HEAD", "/www/digits.txt", NULL, &rep), 200);
	assert_int_equal(rep.len, 0);
	assert_header(&rep, "Content-Length", "10");
	assert_header(&rep, "Content-Type", "text/plain; charset=utf-8");
	assert_non_null(http_reply_header(&rep, "ETag"));
	http_reply_free(&rep);
	assert_int_equal(req(f, "POST", "/www/digits.txt", NULL, &rep), 405);
	assert_header(&rep, "Allow", "GET, HEAD");
	http_reply_free(&rep);
}

static void check_encoding(struct fixture *f, const char *accept, const char *body,
                           const char *coding)
{
	char *h = xasprintf("Accept-Encoding: %s", accept);
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/www/app.js", (const char *[]){h, NULL}, &rep), 200);
	assert_string_equal(rep.body, body);
	assert_header(&rep, "Content-Type", "text/javascript; charset=utf-8");
	assert_header(&rep, "Vary", "Accept-Encoding");
	if (coding)
		assert_header(&rep, "Content-Encoding", coding);
	else
		assert_null(http_reply_header(&rep, "Content-Encoding"));
	http_reply_free(&rep);
	free(h);
}

static void test_precompressed(void **state)
{
	struct fixture *f = *state;
	put(f, "www", 1, "app.js", "plain");
	put(f, "www", 1, "app.js.gz", "gzipped");
	put(f, "www", 1, "app.js.br", "brotli");
	check_encoding(f, "gzip, deflate, br", "brotli", "br");
	check_encoding(f, "gzip", "gzipped", "gzip");
	check_encoding(f, "br;q=0, gzip;q=0.8", "gzipped", "gzip");
	check_encoding(f, "gzip;q=0", "plain", NULL);
	check_encoding(f, "identity", "plain", NULL);
	/* no sibling: the file itself, whatever is accepted */
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/www/style.css",
	                     (const char *[]){"Accept-Encoding: gzip, br", NULL}, &rep),
	                 200);
	assert_string_equal(rep.body, "body{}");
	assert_null(http_reply_header(&rep, "Content-Encoding"));
	http_reply_free(&rep);
}

static void test_index_and_redirect(void **state)
{
	struct fixture *f = *state;
	assert_body(f, "/www/", "<h1>home</h1>");
	assert_body(f, "/www/docs/", "docs");
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/www/docs", NULL, &rep), 302);
	assert_header(&rep, "Location", "/www/docs/");
	http_reply_free(&rep);
	assert_int_equal(req(f, "GET", "/www", NULL, &rep), 302);
	assert_header(&rep, "Location", "/www/");
	http_reply_free(&rep);
	assert_int_equal(req(f, "GET", "/www/index.html/", NULL, &rep), 404);
	http_reply_free(&rep);
	assert_int_equal(req(f, "GET", "/www/missing", NULL, &rep), 404);
	http_reply_free(&rep);
}

static void test_spa_fallback(void **state)
{
	struct fixture *f = *state;
	add_site(f, "app", &(struct site_opts){.spa = 1});
	put(f, "app", 1, "index.html", "spa shell");
	put(f, "app", 1, "main.js", "js");
	go_live(f, "app", 1);
	assert_body(f, "/app/users/42/edit", "spa shell");
	assert_body(f, "/app/main.js", "js");
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/app/missing.png", NULL, &rep), 404);
	http_reply_free(&rep);
}

static void test_custom_404(void **state)
{
	struct fixture *f = *state;
	add_site(f, "err", &(struct site_opts){.error_doc = "404.html"});
	put(f, "err", 1, "404.html", "<p>lost</p>");
	go_live(f, "err", 1);
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/err/nothing/here.html", NULL, &rep), 404);
	assert_string_equal(rep.body, "<p>lost</p>");
	assert_header(&rep, "Content-Type", "text/html; charset=utf-8");
	http_reply_free(&rep);
}

static void test_cache_control_from_meta(void **state)
{
	struct fixture *f = *state;
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/www/style.css", NULL, &rep), 200);
	assert_null(http_reply_header(&rep, "Cache-Control"));
	http_reply_free(&rep);
	put(f, "www", 2, "style.css", "v2");
	meta(f, "www", 2, "public, max-age=600");
	go_live(f, "www", 2);
	assert_int_equal(req(f, "GET", "/www/style.css", NULL, &rep), 200);
	assert_header(&rep, "Cache-Control", "public, max-age=600");
	http_reply_free(&rep);
}

static void assert_refused(struct fixture *f, const char *path)
{
	char *r =
	        xasprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	char *answer = raw(f, r);
	if (strncmp(answer, "HTTP/1.1 400", 12) && strncmp(answer, "HTTP/1.1 404", 12))
		fail_msg("GET %s: %.60s", path, answer);
	if (strstr(answer, "SECRET"))
		fail_msg("GET %s leaked the file outside the release", path);
	free(answer);
	free(r);
}

/* Nothing outside the live release is reachable: dot segments however spelled, encoded
 * slashes, symbolic links inside a release pointing out. */
static void test_no_way_out(void **state)
{
	struct fixture *f = *state;
	tu_write(f->data, "sites/www/secret.txt", "SECRET");
	tu_write(f->data, "sites/www/releases/secret.txt", "SECRET");
	char *rel = xasprintf("%s/sites/www/releases/1", f->data);
	char *out = xasprintf("%s/sites/www/secret.txt", f->data);
	char *link = fs_join(rel, "link.txt");
	char *dlink = fs_join(rel, "up");
	assert_int_equal(symlink(out, link), 0);
	assert_int_equal(symlink("..", dlink), 0);
	assert_refused(f, "/www/../secret.txt");
	assert_refused(f, "/www/%2e%2e/secret.txt");
	assert_refused(f, "/www/docs/%2E%2E/%2e%2e/secret.txt");
	assert_refused(f, "/www/..%2fsecret.txt");
	assert_refused(f, "/www/docs%2f..%2f..%2fsecret.txt");
	assert_refused(f, "/www/link.txt");
	assert_refused(f, "/www/up/secret.txt");
	assert_refused(f, "/www/up/");
	assert_refused(f, "//www/secret.txt");
	assert_refused(f, "/www//etc/passwd");
	char *ok = raw(f, "GET /www/digits.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strstr(ok, "0123456789") != NULL);
	free(ok);
	free(rel);
	free(out);
	free(link);
	free(dlink);
}

/* ---- the cache ---- */

/* A deploy to a CloudFront-like site is not served until an invalidation (§10). */
static void test_cached_needs_invalidation(void **state)
{
	struct fixture *f = *state;
	add_site(f, "cdn", &(struct site_opts){.cached = 1, .default_ttl = 3600});
	put(f, "cdn", 1, "v.txt", "one");
	put(f, "cdn", 1, "img/a.txt", "a1");
	put(f, "cdn", 1, "b.txt", "b1");
	go_live(f, "cdn", 1);
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/cdn/v.txt", NULL, &rep), 200);
	assert_header(&rep, "X-Cache", "Miss from ferry");
	http_reply_free(&rep);
	assert_body(f, "/cdn/img/a.txt", "a1");
	assert_body(f, "/cdn/b.txt", "b1");

	put(f, "cdn", 2, "v.txt", "two");
	put(f, "cdn", 2, "img/a.txt", "a2");
	put(f, "cdn", 2, "b.txt", "b2");
	go_live(f, "cdn", 2);
	assert_int_equal(req(f, "GET", "/cdn/v.txt", NULL, &rep), 200);
	assert_string_equal(rep.body, "one");
	assert_header(&rep, "X-Cache", "Hit from ferry");
	assert_non_null(http_reply_header(&rep, "Age"));
	http_reply_free(&rep);

	const char *one[] = {"/v.txt"};
	assert_int_equal(edge_invalidate(f->edge, "cdn", one, 1), 1);
	assert_body(f, "/cdn/v.txt", "two");
	assert_body(f, "/cdn/img/a.txt", "a1");

	const char *prefix[] = {"/img/*"};
	edge_invalidate(f->edge, "cdn", prefix, 1);
	assert_body(f, "/cdn/img/a.txt", "a2");
	assert_body(f, "/cdn/b.txt", "b1");

	put(f, "cdn", 3, "v.txt", "three");
	put(f, "cdn", 3, "b.txt", "b3");
	go_live(f, "cdn", 3);
	assert_body(f, "/cdn/v.txt", "two");
	const char *all[] = {"/*"};
	assert_true(edge_invalidate(f->edge, "cdn", all, 1) >= 2);
	assert_body(f, "/cdn/v.txt", "three");
	assert_body(f, "/cdn/b.txt", "b3");
}

/* The default: a deploy is served at once. */
static void test_immediate_sees_deploy(void **state)
{
	struct fixture *f = *state;
	assert_body(f, "/www/style.css", "body{}");
	assert_body(f, "/www/style.css", "body{}");
	put(f, "www", 2, "style.css", "new");
	go_live(f, "www", 2);
	assert_body(f, "/www/style.css", "new");
}

/* Conditional and range requests are answered from a cached copy too; objects that must
 * not be cached (no-store, or larger than the limit) are served live. */
static void test_cached_rules(void **state)
{
	struct fixture *f = *state;
	edge_free(f->edge);
	f->object_max = 8;
	start_edge(f);
	add_site(f, "cdn", &(struct site_opts){.cached = 1, .default_ttl = 3600});
	put(f, "cdn", 1, "small.txt", "abcdef");
	put(f, "cdn", 1, "large.txt", "0123456789");
	go_live(f, "cdn", 1);
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/cdn/small.txt", NULL, &rep), 200);
	char *inm = xasprintf("If-None-Match: %s", http_reply_header(&rep, "ETag"));
	http_reply_free(&rep);
	assert_int_equal(req(f, "GET", "/cdn/small.txt", (const char *[]){inm, NULL}, &rep), 304);
	assert_header(&rep, "X-Cache", "Hit from ferry");
	http_reply_free(&rep);
	free(inm);
	assert_int_equal(
	        req(f, "GET", "/cdn/small.txt", (const char *[]){"Range: bytes=2-3", NULL}, &rep),
	        206);
	assert_string_equal(rep.body, "cd");
	http_reply_free(&rep);
	assert_body(f, "/cdn/large.txt", "0123456789");

	put(f, "cdn", 2, "small.txt", "ABCDEF");
	put(f, "cdn", 2, "large.txt", "9876543210");
	go_live(f, "cdn", 2);
	assert_body(f, "/cdn/small.txt", "abcdef");     /* cached */
	assert_body(f, "/cdn/large.txt", "9876543210"); /* too large to be cached */

	put(f, "cdn", 3, "small.txt", "nostore");
	meta(f, "cdn", 3, "no-store");
	go_live(f, "cdn", 3);
	const char *all[] = {"/*"};
	edge_invalidate(f->edge, "cdn", all, 1);
	assert_body(f, "/cdn/small.txt", "nostore");
	put(f, "cdn", 4, "small.txt", "v4");
	meta(f, "cdn", 4, "no-store");
	go_live(f, "cdn", 4);
	assert_body(f, "/cdn/small.txt", "v4");
}

/* ---- invalidations ---- */

static void check_refused(const char *const *paths, size_t n, unsigned status, const char *code)
{
	struct edge_inv_err e = {0};
	assert_int_equal(edge_invalidation_check(paths, n, &e), -1);
	assert_int_equal(e.status, status);
	assert_string_equal(e.code, code);
	assert_true(strlen(e.err.msg) > 0);
}

static void test_invalidation_path_rules(void **state)
{
	(void)state;
	struct edge_inv_err e = {0};
	const char *good[] = {"/*", "/images/*", "/images/image*", "/a b.html", "/index.html"};
	assert_int_equal(edge_invalidation_check(good, 5, &e), 0);
	check_refused((const char *[]){"index.html"}, 1, 400, "InvalidArgument");
	check_refused((const char *[]){"/a*/b"}, 1, 400, "InvalidArgument");
	check_refused((const char *[]){"*"}, 1, 400, "InvalidArgument");
	check_refused((const char *[]){"/a\nb"}, 1, 400, "InvalidArgument");
	check_refused(NULL, 0, 400, "InvalidArgument");
	char *longp = xmalloc(EDGE_INV_PATH_MAX + 2);
	longp[0] = '/';
	memset(longp + 1, 'a', EDGE_INV_PATH_MAX);
	longp[EDGE_INV_PATH_MAX + 1] = '\0';
	check_refused((const char *[]){longp}, 1, 400, "InvalidArgument");
	free(longp);
	const char **many = xcalloc(EDGE_INV_PATHS_MAX + 1, sizeof *many);
	for (size_t i = 0; i <= EDGE_INV_PATHS_MAX; i++)
		many[i] = "/x";
	assert_int_equal(edge_invalidation_check(many, EDGE_INV_PATHS_MAX, &e), 0);
	check_refused(many, EDGE_INV_PATHS_MAX + 1, 413, "BatchTooLarge");
	free(many);
}

static bool valid_id(const char *id)
{
	if (strlen(id) != EDGE_INV_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

/* Created InProgress, evicting at once; Completed from the next read; a replay with the
 * same CallerReference and paths gives the same invalidation, other paths a 409. */
static void test_invalidation_create(void **state)
{
	struct fixture *f = *state;
	add_site(f, "cdn", &(struct site_opts){.cached = 1, .default_ttl = 3600});
	put(f, "cdn", 1, "v.txt", "one");
	go_live(f, "cdn", 1);
	assert_body(f, "/cdn/v.txt", "one");
	put(f, "cdn", 2, "v.txt", "two");
	go_live(f, "cdn", 2);

	struct store_invalidation inv;
	struct edge_inv_err e = {0};
	const char *paths[] = {"/v.txt", "/img/*"};
	assert_int_equal(
	        edge_invalidation_create(f->st, f->edge, "cdn", paths, 2, "ref-1", &inv, &e), 0);
	assert_true(valid_id(inv.id));
	assert_string_equal(inv.status, "InProgress");
	assert_string_equal(inv.caller_reference, "ref-1");
	assert_string_equal(inv.paths, "[\"/v.txt\",\"/img/*\"]");
	char *id = xstrdup(inv.id);
	store_invalidation_free(&inv);
	assert_body(f, "/cdn/v.txt", "two");

	assert_int_equal(edge_invalidation_get(f->st, "cdn", id, &inv, &e), 0);
	assert_string_equal(inv.status, "Completed");
	store_invalidation_free(&inv);

	const char *same[] = {"/img/*", "/v.txt"};
	assert_int_equal(
	        edge_invalidation_create(f->st, f->edge, "cdn", same, 2, "ref-1", &inv, &e), 1);
	assert_string_equal(inv.id, id);
	store_invalidation_free(&inv);

	const char *other[] = {"/other.txt"};
	assert_int_equal(
	        edge_invalidation_create(f->st, f->edge, "cdn", other, 1, "ref-1", &inv, &e), -1);
	assert_int_equal(e.status, 409);
	assert_string_equal(e.code, "InvalidationBatchAlreadyExists");

	/* without a reference: always a new one */
	assert_int_equal(edge_invalidation_create(f->st, NULL, "cdn", other, 1, NULL, &inv, &e), 0);
	assert_string_not_equal(inv.id, id);
	assert_non_null(inv.caller_reference);
	store_invalidation_free(&inv);

	struct store_invalidation *list = NULL;
	size_t n = 0;
	assert_int_equal(edge_invalidation_list(f->st, "cdn", &list, &n, &e), 0);
	assert_int_equal(n, 2);
	store_invalidation_list_free(list, n);

	assert_int_equal(edge_invalidation_get(f->st, "cdn", "NOSUCHID000000", &inv, &e), -1);
	assert_string_equal(e.code, "NoSuchInvalidation");
	assert_int_equal(e.status, 404);
	assert_int_equal(edge_invalidation_create(f->st, f->edge, "nope", other, 1, NULL, &inv, &e),
	                 -1);
	assert_string_equal(e.code, "NoSuchDistribution");
	const char *bad[] = {"v.txt"};
	assert_int_equal(edge_invalidation_create(f->st, f->edge, "cdn", bad, 1, NULL, &inv, &e),
	                 -1);
	assert_string_equal(e.code, "InvalidArgument");
	free(id);
}

/* Invalidation paths are compared after one percent-decoding of both sides. */
static void test_invalidation_decoded(void **state)
{
	struct fixture *f = *state;
	add_site(f, "cdn", &(struct site_opts){.cached = 1, .default_ttl = 3600});
	put(f, "cdn", 1, "a b.txt", "one");
	go_live(f, "cdn", 1);
	assert_body(f, "/cdn/a%20b.txt", "one");
	put(f, "cdn", 2, "a b.txt", "two");
	go_live(f, "cdn", 2);
	assert_body(f, "/cdn/a%20b.txt", "one");
	const char *p[] = {"/a%20b.txt"};
	assert_int_equal(edge_invalidate(f->edge, "cdn", p, 1), 1);
	assert_body(f, "/cdn/a%20b.txt", "two");
}

/* The cache keeps at most its byte cap, dropping the least recently used first. */
static void test_cache_lru(void **state)
{
	(void)state;
	struct edge_cache *c = edge_cache_new(3 * (100 + 256 + 8));
	struct edge_rep rep = {.status = 200, .size = 100, .fd = -1};
	const char *names[] = {"/a", "/b", "/c", "/d"};
	for (int i = 0; i < 3; i++) {
		struct edge_object *o =
		        edge_object_new("lru", 0, names[i], 0, &rep, xcalloc(1, 100), 0, 60000);
		edge_cache_put(c, o, edge_cache_gen(c));
		edge_object_unref(o);
	}
	size_t n, bytes;
	edge_cache_usage(c, &n, &bytes);
	assert_int_equal(n, 3);
	edge_object_unref(edge_cache_get(c, "lru", 0, "/a", 0, 1)); /* /a is used: /b is oldest */
	struct edge_object *o =
	        edge_object_new("lru", 0, names[3], 0, &rep, xcalloc(1, 100), 0, 60000);
	edge_cache_put(c, o, edge_cache_gen(c));
	edge_object_unref(o);
	assert_null(edge_cache_get(c, "lru", 0, "/b", 0, 1));
	o = edge_cache_get(c, "lru", 0, "/a", 0, 1);
	assert_non_null(o);
	edge_object_unref(o);
	assert_null(edge_cache_get(c, "lru", 0, "/a", 0, 60000)); /* expired */
	/* a filler that started before an invalidation keeps nothing */
	uint64_t gen = edge_cache_gen(c);
	const char *all[] = {"/*"};
	edge_cache_invalidate(c, "lru", all, 1);
	o = edge_object_new("lru", 0, "/e", 0, &rep, xcalloc(1, 100), 0, 60000);
	edge_cache_put(c, o, gen);
	edge_object_unref(o);
	assert_null(edge_cache_get(c, "lru", 0, "/e", 0, 1));
	edge_cache_usage(c, &n, &bytes);
	assert_int_equal(n, 0);
	assert_int_equal(bytes, 0);
	edge_cache_free(c);
}

/* The component walk used where openat2() is missing stays beneath and follows no link. */
static void test_open_walk(void **state)
{
	struct fixture *f = *state;
	char *rel = xasprintf("%s/sites/www/releases/1", f->data);
	tu_write(f->data, "sites/www/secret.txt", "SECRET");
	char *link = fs_join(rel, "docs/out.txt");
	assert_int_equal(symlink("../../../secret.txt", link), 0);
	char *dlink = fs_join(rel, "up");
	assert_int_equal(symlink("..", dlink), 0);
	int dirfd = open(rel, O_PATH | O_DIRECTORY);
	assert_true(dirfd >= 0);
	int fd = edge_open_walk(dirfd, "docs/index.html", O_RDONLY);
	assert_true(fd >= 0);
	char buf[16] = {0};
	assert_int_equal(read(fd, buf, sizeof buf - 1), 4);
	assert_string_equal(buf, "docs");
	close(fd);
	static const char *const refused[] = {"docs/out.txt", "up/secret.txt", "../secret.txt",
	                                      "docs/../../secret.txt", "up"};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		errno = 0;
		fd = edge_open_walk(dirfd, refused[i], O_RDONLY);
		if (fd >= 0)
			fail_msg("%s opened", refused[i]);
		assert_true(errno == ELOOP || errno == ENOTDIR || errno == ENOENT);
	}
	close(dirfd);
	free(rel);
	free(link);
	free(dlink);
}

/* ---- the HTTP details, directly ---- */

static void test_http_helpers(void **state)
{
	(void)state;
	assert_int_equal(edge_ttl("max-age=60", 5), 60);
	assert_int_equal(edge_ttl("public, max-age=60, s-maxage=300", 5), 300);
	assert_int_equal(edge_ttl(NULL, 5), 5);
	assert_int_equal(edge_ttl("public", 86400), 86400);
	assert_int_equal(edge_ttl("no-store", 5), 0);
	assert_int_equal(edge_ttl("private, max-age=60", 5), 0);
	assert_int_equal(edge_ttl("no-cache", 5), 0);
	assert_int_equal(edge_ttl("max-age=0", 5), 0);
	assert_int_equal(edge_accept_encoding("gzip, deflate, br"),
	                 EDGE_ACCEPT_GZIP | EDGE_ACCEPT_BR);
	assert_int_equal(edge_accept_encoding("br;q=0, gzip"), EDGE_ACCEPT_GZIP);
	assert_int_equal(edge_accept_encoding("*"), EDGE_ACCEPT_GZIP | EDGE_ACCEPT_BR);
	assert_int_equal(edge_accept_encoding("*, br;q=0.0"), EDGE_ACCEPT_GZIP);
	assert_int_equal(edge_accept_encoding("brotli, gzipx"), 0);
	assert_int_equal(edge_accept_encoding(NULL), 0);
	int64_t t = 0;
	assert_int_equal(edge_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
	assert_int_equal(t, 784111777);
	char d[40];
	edge_http_date(784111777, d, sizeof d);
	assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	assert_int_equal(edge_parse_http_date("yesterday", &t), -1);
	uint64_t a, b;
	assert_int_equal(edge_parse_range("bytes=-20", 10, &a, &b), EDGE_RANGE_OK);
	assert_true(a == 0 && b == 9);
	assert_int_equal(edge_parse_range("bytes=-0", 10, &a, &b), EDGE_RANGE_UNSATISFIABLE);
	assert_int_equal(edge_parse_range("bytes=0-", 0, &a, &b), EDGE_RANGE_UNSATISFIABLE);
	assert_int_equal(edge_parse_range("bytes=5-2", 10, &a, &b), EDGE_RANGE_NONE);
	assert_int_equal(edge_parse_range("bytes=x", 10, &a, &b), EDGE_RANGE_NONE);
	assert_true(edge_etag_matches("*", "\"a\""));
	assert_true(edge_etag_matches("\"b\", W/\"a\"", "\"a\""));
	assert_false(edge_etag_matches("\"ab\"", "\"a\""));
	char *s = edge_pct_decode("/a%20b%zz%2Fc%00");
	assert_string_equal(s, "/a b%zz/c%00");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_content_types, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_host_header, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_etag_if_none_match, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_last_modified_if_modified_since, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_range, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_precompressed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_index_and_redirect, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_spa_fallback, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_custom_404, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cache_control_from_meta, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_no_way_out, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cached_needs_invalidation, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_immediate_sees_deploy, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cached_rules, setup, teardown),
	        cmocka_unit_test(test_invalidation_path_rules),
	        cmocka_unit_test_setup_teardown(test_invalidation_create, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_invalidation_decoded, setup, teardown),
	        cmocka_unit_test(test_cache_lru),
	        cmocka_unit_test_setup_teardown(test_open_walk, setup, teardown),
	        cmocka_unit_test(test_http_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
