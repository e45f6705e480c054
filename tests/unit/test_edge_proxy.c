/* Unit tests for the edge's reverse proxy (sites/proxy.h, edge_proxy.c): a Host with a
 * proxy route is forwarded to a tiny upstream server run by the test on 127.0.0.1:0 —
 * method, path, query, headers and body go there, the answer comes back (streamed when
 * large), a dead upstream is a 502, a silent one a 504, and switching a route while
 * requests run never fails one. */
#include "store_testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#include "net/http_client.h"
#include "sites/edge.h"
#include "sites/proxy.h"
#include "store/sites.h"

#define WAIT_MS   5000
#define HOST      "app.test"
#define BIG_BYTES (300u << 10)
#define SLOW_MS   800

/* ---- the upstream ---- */

struct upstream {
	const char *name;
	int fd;
	unsigned port;
	pthread_t th;
	atomic_bool stop;
	atomic_int served;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

/* A header's value in a request head (case ignored), copied, or "-". */
static char *head_value(const char *head, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (!strncasecmp(line, name, n) && line[n] == ':') {
			const char *v = line + n + 1;
			while (*v == ' ')
				v++;
			return xstrndup(v, strcspn(v, "\r\n"));
		}
	}
	return xstrdup("-");
}

static void serve_one(struct upstream *u, int c)
{
	struct buf in;
	buf_init(&in, 16u << 20);
	char tmp[65536];
	char *end = NULL;
	while (!end) {
		ssize_t k = recv(c, tmp, sizeof tmp, 0);
		if (k <= 0 || buf_append(&in, tmp, (size_t)k) < 0)
			goto out;
		if (buf_append(&in, "", 1) < 0)
			goto out;
		in.len--;
		end = strstr(in.data, "\r\n\r\n");
	}
	size_t head_len = (size_t)(end - in.data) + 4;
	char *head = xstrndup(in.data, head_len);
	char *cl = head_value(head, "Content-Length");
	size_t want = strcmp(cl, "-") ? strtoul(cl, NULL, 10) : 0;
	while (in.len - head_len < want) {
		ssize_t k = recv(c, tmp, sizeof tmp, 0);
		if (k <= 0 || buf_append(&in, tmp, (size_t)k) < 0)
			break;
	}
	char method[16] = "", target[1024] = "";
	sscanf(head, "%15s %1023s", method, target);
	atomic_fetch_add(&u->served, 1);
	if (!strcmp(target, "/slow")) {
		sleep_ms(SLOW_MS);
	} else if (!strcmp(target, "/big")) { /* chunked, several chunks */
		char *h = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		                    "Transfer-Encoding: chunked\r\nX-Upstream: %s\r\n\r\n",
		                    u->name);
		send_all(c, h, strlen(h));
		free(h);
		char chunk[10000];
		for (size_t i = 0; i < sizeof chunk; i++)
			chunk[i] = (char)('a' + i % 26);
		for (size_t sent = 0; sent < BIG_BYTES; sent += sizeof chunk) {
			size_t k =
			        BIG_BYTES - sent < sizeof chunk ? BIG_BYTES - sent : sizeof chunk;
			char sz[32];
			snprintf(sz, sizeof sz, "%zx\r\n", k);
			send_all(c, sz, strlen(sz));
			send_all(c, chunk, k);
			send_all(c, "\r\n", 2);
		}
		send_all(c, "0\r\n\r\n", 5);
	} else {
		char *xff = head_value(head, "X-Forwarded-For"),
		     *xfp = head_value(head, "X-Forwarded-Proto"),
		     *xfh = head_value(head, "X-Forwarded-Host"), *via = head_value(head, "Via"),
		     *conn = head_value(head, "Connection"),
		     *auth = head_value(head, "Authorization"), *secret = head_value(head, "X-Hop"),
		     *host = head_value(head, "Host"), *tenant = head_value(head, "X-Tenant");
		char *body =
		        xasprintf("%s %s %s\nhost=%s\nxff=%s\nxfp=%s\nxfh=%s\nvia=%s\nconn=%s\n"
		                  "auth=%s\nhop=%s\ntenant=%s\nbody=%zu:%.20s\n",
		                  u->name, method, target, host, xff, xfp, xfh, via, conn, auth,
		                  secret, tenant, want, in.data + head_len);
		char *resp =
		        xasprintf("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n"
		                  "X-Upstream: %s\r\nKeep-Alive: timeout=5\r\nConnection: close\r\n"
		                  "Content-Length: %zu\r\n\r\n%s",
		                  u->name, strlen(body), body);
		send_all(c, resp, strlen(resp));
		free(resp);
		free(body);
		free(xff), free(xfp), free(xfh), free(via), free(conn), free(auth), free(secret),
		        free(host), free(tenant);
	}
	free(cl);
	free(head);
out:
	buf_free(&in);
}

static void *upstream_main(void *arg)
{
	struct upstream *u = arg;
	while (!atomic_load(&u->stop)) {
		struct pollfd p = {.fd = u->fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept(u->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(u, c);
		close(c);
	}
	return NULL;
}

static void upstream_start(struct upstream *u, const char *name)
{
	u->name = name;
	u->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(u->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(u->fd, 64), 0);
	socklen_t len = sizeof sa;
	getsockname(u->fd, (struct sockaddr *)&sa, &len);
	u->port = ntohs(sa.sin_port);
	atomic_init(&u->stop, false);
	atomic_init(&u->served, 0);
	assert_int_equal(pthread_create(&u->th, NULL, upstream_main, u), 0);
}

static void upstream_stop(struct upstream *u)
{
	atomic_store(&u->stop, true);
	pthread_join(u->th, NULL);
	close(u->fd);
}

/* ---- fixture ---- */

struct fixture {
	char *tmp, *data;
	struct store *st;
	struct edge *edge;
	struct upstream a, b;
};

static void route(struct fixture *f, unsigned port)
{
	char up[32];
	snprintf(up, sizeof up, "127.0.0.1:%u", port);
	struct err err;
	if (proxy_route_set(f->data, HOST, up, &err) < 0)
		fail_msg("proxy_route_set: %s", err.msg);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->st = tu_store_open(&f->tmp, &f->data);
	upstream_start(&f->a, "blue");
	upstream_start(&f->b, "green");
	route(f, f->a.port);
	struct err err;
	struct edge_opts o = {
	        .listen = "127.0.0.1:0", .data_dir = f->data, .proxy_timeout_ms = 400};
	if (edge_open(&o, &f->edge, &err) != 0)
		fail_msg("edge_open: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	edge_free(f->edge);
	upstream_stop(&f->a);
	upstream_stop(&f->b);
	tu_store_close(f->st, f->tmp, f->data);
	free(f);
	return 0;
}

static long req(struct fixture *f, const char *method, const char *path, const char *const *headers,
                const void *body, size_t len, struct http_reply *rep)
{
	char *url = xasprintf("http://127.0.0.1:%u%s", edge_port(f->edge), path);
	struct err err;
	struct http_call c = {.method = method,
	                      .url = url,
	                      .headers = headers,
	                      .body = body,
	                      .body_len = len,
	                      .content_type = body ? "application/octet-stream" : NULL,
	                      .timeout_ms = WAIT_MS};
	if (http_call(&c, rep, &err) < 0)
		fail_msg("%s %s: %s", method, path, err.msg);
	free(url);
	return rep->status;
}

static const char *const host_only[] = {"Host: " HOST, NULL};

static void assert_has(const char *body, const char *want)
{
	if (!strstr(body, want))
		fail_msg("expected \"%s\" in:\n%s", want, body);
}

/* ---- tests ---- */

/* Path, query, every end-to-end header and the X-Forwarded-* / Via headers reach the
 * upstream; hop-by-hop headers do not; the status and headers come back. */
static void test_get_forwards_request_and_answer(void **state)
{
	struct fixture *f = *state;
	const char *const headers[] = {"Host: App.Test:7879",
	                               "Authorization: Bearer t0k",
	                               "X-Forwarded-For: 10.1.2.3",
	                               "Connection: X-Hop",
	                               "X-Hop: secret",
	                               "X-Tenant: acme",
	                               NULL};
	struct http_reply rep;
	assert_int_equal(
	        req(f, "GET", "/a/b%20c.html?x=1&y=two%20words&z=a%2Bb", headers, NULL, 0, &rep),
	        201);
	assert_has(rep.body, "blue GET /a/b%20c.html?x=1&y=two+words&z=a%2Bb\n");
	assert_has(rep.body, "host=App.Test:7879\n");
	assert_has(rep.body, "xff=10.1.2.3, 127.0.0.1\n");
	assert_has(rep.body, "xfp=http\n");
	assert_has(rep.body, "xfh=App.Test:7879\n");
	assert_has(rep.body, "via=1.1 ferry\n");
	assert_has(rep.body, "conn=close\n");
	assert_has(rep.body, "auth=Bearer t0k\n");
	assert_has(rep.body, "hop=-\n");
	assert_has(rep.body, "tenant=acme\n"); /* any end-to-end header, not only known ones */
	assert_string_equal(http_reply_header(&rep, "X-Upstream"), "blue");
	assert_string_equal(http_reply_header(&rep, "Content-Type"), "text/plain");
	assert_string_equal(http_reply_header(&rep, "Via"), "1.1 ferry");
	assert_null(http_reply_header(&rep, "Keep-Alive"));
	http_reply_free(&rep);
}

/* A POST body (larger than the edge's site bodies) is forwarded whole. */
static void test_post_body_forwarded(void **state)
{
	struct fixture *f = *state;
	size_t n = 200000;
	char *body = xmalloc(n);
	memset(body, 'q', n);
	memcpy(body, "first-bytes", 11);
	struct http_reply rep;
	assert_int_equal(req(f, "POST", "/submit", host_only, body, n, &rep), 201);
	assert_has(rep.body, "blue POST /submit\n");
	assert_has(rep.body, "body=200000:first-bytesqqqqqqqqq\n");
	http_reply_free(&rep);
	free(body);
}

/* A large chunked answer is streamed back intact. */
static void test_large_answer_streamed(void **state)
{
	struct fixture *f = *state;
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/big", host_only, NULL, 0, &rep), 200);
	assert_int_equal(rep.len, BIG_BYTES);
	for (size_t i = 0; i < rep.len; i++)
		if (rep.body[i] != (char)('a' + (i % 10000) % 26))
			fail_msg("byte %zu differs", i);
	assert_string_equal(http_reply_header(&rep, "X-Upstream"), "blue");
	http_reply_free(&rep);
}

static void test_head_has_no_body(void **state)
{
	struct fixture *f = *state;
	struct http_reply rep;
	assert_int_equal(req(f, "HEAD", "/x", host_only, NULL, 0, &rep), 201);
	assert_int_equal(rep.len, 0);
	assert_string_equal(http_reply_header(&rep, "X-Upstream"), "blue");
	http_reply_free(&rep);
}

/* Nothing listening on the upstream's port: 502 with a short text. */
static void test_upstream_down_is_502(void **state)
{
	struct fixture *f = *state;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	socklen_t len = sizeof sa;
	getsockname(s, (struct sockaddr *)&sa, &len);
	close(s); /* a port nothing listens on */
	struct err err;
	char up[32];
	snprintf(up, sizeof up, "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(proxy_route_set(f->data, "down.test", up, &err), 0);
	const char *const headers[] = {"Host: down.test", NULL};
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/", headers, NULL, 0, &rep), 502);
	assert_has(rep.body, "502 Bad Gateway");
	assert_has(rep.body, up);
	http_reply_free(&rep);
}

/* An upstream that does not answer within the proxy timeout: 504. */
static void test_upstream_silent_is_504(void **state)
{
	struct fixture *f = *state;
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/slow", host_only, NULL, 0, &rep), 504);
	assert_has(rep.body, "504 Gateway Timeout");
	http_reply_free(&rep);
}

/* A proxy route wins over a site with the same host; without it the site answers. */
static void test_route_wins_over_site(void **state)
{
	struct fixture *f = *state;
	struct store_site s = {.name = "www", .keep = 2, .host = HOST};
	struct err err;
	assert_int_equal(store_site_create(f->st, &s, &err), 0);
	edge_sites_changed(f->edge);
	char *dir = xasprintf("%s/sites/www/releases/1", f->data);
	tu_write(dir, "index.html", "the site");
	free(dir);
	char *live = xasprintf("%s/sites/www/live", f->data);
	assert_int_equal(symlink("releases/1", live), 0);
	free(live);
	struct http_reply rep;
	assert_int_equal(req(f, "GET", "/", host_only, NULL, 0, &rep), 201);
	assert_has(rep.body, "blue GET /\n");
	http_reply_free(&rep);
	assert_int_equal(proxy_route_delete(f->data, HOST, &err), 0);
	assert_int_equal(proxy_route_delete(f->data, HOST, &err), 1);
	sleep_ms(PROXY_CHECK_MS + 50);
	assert_int_equal(req(f, "GET", "/", host_only, NULL, 0, &rep), 200);
	assert_string_equal(rep.body, "the site");
	http_reply_free(&rep);
}

struct load {
	struct fixture *f;
	atomic_bool *stop;
	int ok_a, ok_b, failed;
	char failure[256];
};

static void *load_main(void *arg)
{
	struct load *l = arg;
	char *url = xasprintf("http://127.0.0.1:%u/page", edge_port(l->f->edge));
	while (!atomic_load(l->stop)) {
		struct http_reply rep;
		struct err err;
		struct http_call c = {.url = url, .headers = host_only, .timeout_ms = WAIT_MS};
		if (http_call(&c, &rep, &err) < 0) {
			l->failed++;
			snprintf(l->failure, sizeof l->failure, "%s", err.msg);
		} else if (rep.status == 201 && !strncmp(rep.body, "blue ", 5)) {
			l->ok_a++;
		} else if (rep.status == 201 && !strncmp(rep.body, "green ", 6)) {
			l->ok_b++;
		} else {
			l->failed++;
			snprintf(l->failure, sizeof l->failure, "%ld %.200s", rep.status, rep.body);
		}
		http_reply_free(&rep);
	}
	free(url);
	return NULL;
}

/* Switching the route while requests run: each answer comes whole from the old or the
 * new upstream, none fails, and new requests go to the new one within PROXY_CHECK_MS. */
static void test_switch_under_load(void **state)
{
	struct fixture *f = *state;
	atomic_bool stop;
	atomic_init(&stop, false);
	struct load l[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		l[i] = (struct load){.f = f, .stop = &stop};
		assert_int_equal(pthread_create(&th[i], NULL, load_main, &l[i]), 0);
	}
	sleep_ms(200);
	route(f, f->b.port);
	sleep_ms(PROXY_CHECK_MS + 100);
	int served_b = atomic_load(&f->b.served), served_a = atomic_load(&f->a.served);
	sleep_ms(200);
	atomic_store(&stop, true);
	int a = 0, b = 0;
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		if (l[i].failed)
			fail_msg("%d requests failed: %s", l[i].failed, l[i].failure);
		a += l[i].ok_a;
		b += l[i].ok_b;
	}
	assert_true(a > 0);
	assert_true(b > 0);
	assert_true(atomic_load(&f->b.served) > served_b);      /* new requests: green */
	assert_true(atomic_load(&f->a.served) <= served_a + 3); /* at most those in flight */
}

/* Route names: hosts are normalised, upstreams are loopback ports only. */
static void test_route_names(void **state)
{
	struct fixture *f = *state;
	struct err err;
	assert_int_equal(proxy_route_set(f->data, "Blue.Example:8080", "localhost:9000", &err), 0);
	char *up = NULL;
	assert_int_equal(proxy_route_get(f->data, "blue.example", &up, &err), 0);
	assert_string_equal(up, "127.0.0.1:9000");
	free(up);
	assert_int_equal(proxy_route_get(f->data, "nothing.example", &up, &err), 1);
	assert_int_equal(proxy_route_set(f->data, "x.example", "10.0.0.1:80", &err), -1);
	assert_has(err.msg, "loopback only");
	assert_int_equal(proxy_route_set(f->data, "x.example", "http://127.0.0.1:80", &err), -1);
	assert_int_equal(proxy_route_set(f->data, "x.example", "127.0.0.1:70000", &err), -1);
	assert_has(err.msg, "1-65535");
	assert_int_equal(proxy_route_set(f->data, "../etc", "127.0.0.1:80", &err), -1);
	assert_int_equal(proxy_route_set(f->data, "a b", "127.0.0.1:80", &err), -1);
	assert_has(err.msg, "not allowed");
	struct proxy_route *r = NULL;
	size_t n = 0;
	assert_int_equal(proxy_route_list(f->data, &r, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].host, HOST);
	assert_string_equal(r[1].host, "blue.example");
	assert_string_equal(r[1].upstream, "127.0.0.1:9000");
	proxy_route_list_free(r, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_get_forwards_request_and_answer, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_post_body_forwarded, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_large_answer_streamed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_head_has_no_body, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_upstream_down_is_502, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_upstream_silent_is_504, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_route_wins_over_site, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_switch_under_load, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_route_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
