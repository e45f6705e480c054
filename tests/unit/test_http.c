/* Unit tests for net/http: routing, the request object, error shapes, limits, listening.
 * A real server on 127.0.0.1 port 0, driven with net/http_client. */
#include "test_http_util.h"

#include <fcntl.h>
#include <unistd.h>

struct fx {
	struct http_server *srv;
	struct th_log log;
	struct logsink sink;
};

static void h_hello(struct http_request *req, void *ctx)
{
	(void)ctx;
	http_respond_json(req, 200, json_pack("{s:s}", "hello", "world"));
}

static void h_execution(struct http_request *req, void *ctx)
{
	(void)ctx;
	http_respond_json(req, 200,
	                  json_pack("{s:s,s:s,s:s}", "route", "execution", "name",
	                            http_request_param(req, "name"), "id",
	                            http_request_param(req, "id")));
}

static void h_pipeline(struct http_request *req, void *ctx)
{
	http_respond_json(req, 200,
	                  json_pack("{s:s,s:s?}", "route", (const char *)ctx, "name",
	                            http_request_param(req, "name")));
}

static void h_files(struct http_request *req, void *ctx)
{
	(void)ctx;
	http_respond_json(req, 200, json_pack("{s:s}", "path", http_request_param(req, "path")));
}

/* Echoes what the request object says about the request. */
static void h_echo(struct http_request *req, void *ctx)
{
	(void)ctx;
	json_t *q = json_array();
	for (size_t i = 0; i < http_request_query_count(req); i++) {
		const char *v;
		const char *n = http_request_query_at(req, i, &v);
		json_array_append_new(q, json_pack("[s,s]", n, v));
	}
	size_t len;
	const char *body = http_request_body(req, &len);
	const char *token = NULL;
	int bearer = http_request_bearer(req, &token);
	http_response_header(req, "X-Echo", "yes");
	http_respond_json(req, 200,
	                  json_pack("{s:s,s:s,s:I,s:s,s:s?,s:s?,s:o,s:i,s:s?,s:s}", "method",
	                            http_request_method(req), "path", http_request_path(req), "len",
	                            (json_int_t)len, "body", body, "x_test",
	                            http_request_header(req, "x-TEST"), "first_a",
	                            http_request_query(req, "a"), "query", q, "bearer", bearer,
	                            "token", bearer == 1 ? token : NULL, "remote",
	                            http_request_remote(req)));
}

static void h_silent(struct http_request *req, void *ctx)
{
	(void)req;
	(void)ctx;
}

static void h_twice(struct http_request *req, void *ctx)
{
	(void)ctx;
	http_respond_bytes(req, 200, "text/plain", "first", 5);
	http_respond_bytes(req, 201, "text/plain", "second", 6);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	pthread_mutex_init(&f->log.mu, NULL);
	buf_init(&f->log.text, 1 << 20);
	f->sink = (struct logsink){th_log_emit, &f->log};
	f->srv = http_server_new(
	        &(struct http_server_opts){.listen = "127.0.0.1:0", .log = &f->sink});
	struct err err;
	struct http_route echo = {"POST", "/echo", h_echo, NULL, 1024};
	if (http_server_route(f->srv, "GET", "/hello", h_hello, NULL, &err) < 0 ||
	    http_server_route(f->srv, "GET", "/api/pipelines/{name}/executions/{id}", h_execution,
	                      NULL, &err) < 0 ||
	    http_server_route(f->srv, "GET", "/api/pipelines/{name}", h_pipeline, "pipeline",
	                      &err) < 0 ||
	    http_server_route(f->srv, "GET", "/api/pipelines/_special", h_pipeline, "special",
	                      &err) < 0 ||
	    http_server_route(f->srv, "DELETE", "/api/pipelines/{name}", h_pipeline, "delete",
	                      &err) < 0 ||
	    http_server_route(f->srv, "GET", "/files/{path...}", h_files, NULL, &err) < 0 ||
	    http_server_route(f->srv, "GET", "/silent", h_silent, NULL, &err) < 0 ||
	    http_server_route(f->srv, "GET", "/twice", h_twice, NULL, &err) < 0 ||
	    http_server_add_route(f->srv, &echo, &err) < 0 || http_server_start(f->srv, &err) < 0)
		fail_msg("%s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	http_server_stop(f->srv, 1000);
	http_server_free(f->srv);
	buf_free(&f->log.text);
	pthread_mutex_destroy(&f->log.mu);
	free(f);
	return 0;
}

/* {name} segments reach the handler percent-decoded. */
static void test_route_params_decoded(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(
	        th_call(f->srv, "GET", "/api/pipelines/my%20app/executions/42", NULL, NULL, &rep),
	        200);
	json_t *j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "route")), "execution");
	assert_string_equal(json_string_value(json_object_get(j, "name")), "my app");
	assert_string_equal(json_string_value(json_object_get(j, "id")), "42");
	assert_string_equal(http_reply_header(&rep, "content-type"), "application/json");
	json_decref(j);
	http_reply_free(&rep);
}

/* An encoded slash stays inside its segment: the path is split before decoding. */
static void test_encoded_slash_is_one_segment(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "GET", "/api/pipelines/a%2Fb", NULL, NULL, &rep), 200);
	json_t *j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "a/b");
	json_decref(j);
	http_reply_free(&rep);
}

/* A literal segment beats a {name} whatever the order of registration. */
static void test_literal_beats_param(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "GET", "/api/pipelines/_special", NULL, NULL, &rep), 200);
	json_t *j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "route")), "special");
	json_decref(j);
	http_reply_free(&rep);
	assert_int_equal(th_call(f->srv, "DELETE", "/api/pipelines/x", NULL, NULL, &rep), 200);
	j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "route")), "delete");
	json_decref(j);
	http_reply_free(&rep);
}

/* {rest...} takes the remaining segments; "." and ".." are refused, however encoded. */
static void test_rest_param_and_dot_segments(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "GET", "/files/css/site.css", NULL, NULL, &rep), 200);
	json_t *j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "path")), "css/site.css");
	json_decref(j);
	http_reply_free(&rep);
	assert_int_equal(th_call(f->srv, "GET", "/files/%2e%2e/etc/passwd", NULL, NULL, &rep), 400);
	char *code = th_error_code(&rep);
	assert_string_equal(code, "bad_request");
	free(code);
	http_reply_free(&rep);
	assert_int_equal(th_call(f->srv, "GET", "/files/a%zz", NULL, NULL, &rep), 400);
	http_reply_free(&rep);
}

/* Unknown paths: 404 with the JSON error shape. */
static void test_unknown_path_404_json(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "GET", "/nope", NULL, NULL, &rep), 404);
	char *code = th_error_code(&rep);
	assert_string_equal(code, "not_found");
	free(code);
	http_reply_free(&rep);
	/* one segment too many is unknown too */
	assert_int_equal(th_call(f->srv, "GET", "/hello/x", NULL, NULL, &rep), 404);
	http_reply_free(&rep);
}

/* A known path with another method: 405, JSON, and Allow lists what would work. */
static void test_wrong_method_405_with_allow(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "PUT", "/api/pipelines/x", NULL, NULL, &rep), 405);
	char *code = th_error_code(&rep);
	assert_string_equal(code, "method_not_allowed");
	free(code);
	assert_string_equal(http_reply_header(&rep, "Allow"), "GET, HEAD, DELETE");
	http_reply_free(&rep);
}

/* HEAD is answered by the GET route, without a body. */
static void test_head_uses_get(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "HEAD", "/hello", NULL, NULL, &rep), 200);
	assert_int_equal(rep.len, 0);
	http_reply_free(&rep);
}

/* The handler sees the query (decoded, in order, repeated names kept) and headers by any
 * case; the extra header it sets is sent. */
static void test_query_and_headers(void **state)
{
	struct fx *f = *state;
	char *url = th_url(f->srv, "/echo?a=1&b=x%20y&a=2&flag&plus=a+b");
	const char *hdrs[] = {"X-Test: Value 1", NULL};
	struct http_reply rep;
	struct err err;
	assert_int_equal(http_call(&(struct http_call){.method = "POST",
	                                               .url = url,
	                                               .headers = hdrs,
	                                               .timeout_ms = TH_WAIT_MS},
	                           &rep, &err),
	                 0);
	assert_int_equal(rep.status, 200);
	json_t *j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "x_test")), "Value 1");
	assert_string_equal(json_string_value(json_object_get(j, "first_a")), "1");
	assert_string_equal(json_string_value(json_object_get(j, "path")), "/echo");
	assert_string_equal(json_string_value(json_object_get(j, "remote")), "127.0.0.1");
	char *q = json_dumps(json_object_get(j, "query"), JSON_COMPACT);
	assert_string_equal(q, "[[\"a\",\"1\"],[\"b\",\"x y\"],[\"a\",\"2\"],[\"flag\",\"\"],"
	                       "[\"plus\",\"a b\"]]");
	free(q);
	assert_string_equal(http_reply_header(&rep, "x-echo"), "yes");
	json_decref(j);
	http_reply_free(&rep);
	free(url);
}

/* A JSON body under the route's cap arrives whole. */
static void test_body_under_cap_arrives(void **state)
{
	struct fx *f = *state;
	json_t *body = json_pack("{s:s}", "k", "value");
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "POST", "/echo", body, NULL, &rep), 200);
	json_t *j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"k\":\"value\"}");
	json_decref(j);
	json_decref(body);
	http_reply_free(&rep);
}

/* Over the route's cap (1 KiB here) by Content-Length: 413 with the JSON shape. */
static void test_body_over_cap_413(void **state)
{
	struct fx *f = *state;
	char big[2048];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	json_t *body = json_pack("{s:s}", "k", big);
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "POST", "/echo", body, NULL, &rep), 413);
	char *code = th_error_code(&rep);
	assert_string_equal(code, "body_too_large");
	free(code);
	json_decref(body);
	http_reply_free(&rep);
}

/* A huge declared body is refused from its head alone: the answer comes while the client
 * has sent none of it. */
static void test_body_cap_answers_before_reading(void **state)
{
	struct fx *f = *state;
	int fd = th_connect(f->srv);
	const char *head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 104857600\r\n"
	                   "Content-Type: application/json\r\n\r\n";
	th_send(fd, head, strlen(head));
	char *answer = th_recv(fd, "}}");
	assert_true(strncmp(answer, "HTTP/1.1 413", 12) == 0);
	assert_non_null(strstr(answer, "\"body_too_large\""));
	free(answer);
	close(fd);
}

/* A chunked body (no Content-Length) is cut at the cap too. */
static void test_chunked_body_over_cap_413(void **state)
{
	struct fx *f = *state;
	int fd = th_connect(f->srv);
	const char *head = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
	th_send(fd, head, strlen(head));
	char chunk[600 + 16];
	int n = snprintf(chunk, sizeof chunk, "%x\r\n", 600);
	memset(chunk + n, 'y', 600);
	memcpy(chunk + n + 600, "\r\n", 2);
	th_send(fd, chunk, (size_t)n + 602);
	th_send(fd, chunk, (size_t)n + 602);
	th_send(fd, "0\r\n\r\n", 5);
	char *answer = th_recv(fd, "}}");
	assert_true(strncmp(answer, "HTTP/1.1 413", 12) == 0);
	assert_non_null(strstr(answer, "\"body_too_large\""));
	free(answer);
	close(fd);
}

/* A chunked body that goes on far past the cap is not read to its end: the connection is
 * cut. */
static void test_endless_chunked_body_cut(void **state)
{
	struct fx *f = *state;
	int fd = th_connect(f->srv);
	const char *head = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
	th_send(fd, head, strlen(head));
	size_t size = 64 << 10;
	char *chunk = xmalloc(size + 16);
	int n = snprintf(chunk, 16, "%zx\r\n", size);
	memset(chunk + n, 'z', size);
	memcpy(chunk + n + size, "\r\n", 2);
	bool cut = false;
	for (int i = 0; i < 64 && !cut; i++) /* 4 MiB at most */
		cut = send(fd, chunk, (size_t)n + size + 2, MSG_NOSIGNAL) < 0;
	char *answer = th_recv(fd, NULL);
	assert_true(cut || answer[0] == '\0');
	free(answer);
	free(chunk);
	close(fd);
}

/* A request head over the headers cap is refused and never reaches a handler. */
static void test_header_cap(void **state)
{
	struct fx *f = *state;
	size_t n = 64 << 10;
	char *line = xmalloc(n + 16);
	memcpy(line, "X-Big: ", 7);
	memset(line + 7, 'a', n);
	line[7 + n] = '\0';
	const char *hdrs[] = {line, NULL};
	char *url = th_url(f->srv, "/echo");
	struct http_reply rep;
	struct err err;
	int rc = http_call(
	        &(struct http_call){
	                .method = "POST", .url = url, .headers = hdrs, .timeout_ms = TH_WAIT_MS},
	        &rep, &err);
	/* libmicrohttpd answers 431, or cuts the connection while the head still arrives */
	if (rc == 0)
		assert_int_equal(rep.status, 431);
	http_reply_free(&rep);
	free(url);
	free(line);
}

/* The bearer token is parsed, not judged (RFC 6750 token68 syntax). */
static void test_bearer_parsing(void **state)
{
	(void)state;
	const char *t;
	size_t len;
	assert_int_equal(http_parse_bearer(NULL, &t, &len), 0);
	assert_int_equal(http_parse_bearer("Bearer abc.DEF-12_~+/==", &t, &len), 1);
	assert_int_equal(len, 16);
	assert_memory_equal(t, "abc.DEF-12_~+/==", 16);
	assert_int_equal(http_parse_bearer("bearer   tok  ", &t, &len), 1);
	assert_int_equal(len, 3);
	assert_int_equal(http_parse_bearer("Basic dXNlcjpwYXNz", &t, &len), -1);
	assert_int_equal(http_parse_bearer("Bearer", &t, &len), -1);
	assert_int_equal(http_parse_bearer("Bearer a b", &t, &len), -1);
	assert_int_equal(http_parse_bearer("Bearertoken", &t, &len), -1);
}

/* The token reaches the handler; no log line contains it, whatever the answer. */
static void test_bearer_reaches_handler_never_the_log(void **state)
{
	struct fx *f = *state;
	const char *secret = "s3cr3t-T0ken.xyz";
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "POST", "/echo?x=1", NULL, secret, &rep), 200);
	json_t *j = th_json(&rep);
	assert_int_equal(json_integer_value(json_object_get(j, "bearer")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "token")), secret);
	json_decref(j);
	http_reply_free(&rep);
	assert_int_equal(th_call(f->srv, "GET", "/nope", NULL, secret, &rep), 404);
	http_reply_free(&rep);
	assert_int_equal(th_call(f->srv, "PUT", "/hello", NULL, secret, &rep), 405);
	http_reply_free(&rep);
	/* the log is written when a request completes, which may trail the answer a little */
	for (int i = 0; i < 100 && !th_log_has(&f->log, "\"PUT /hello\" 405"); i++)
		usleep(10000);
	assert_true(th_log_has(&f->log, "127.0.0.1 \"POST /echo\" 200"));
	assert_true(th_log_has(&f->log, "\"PUT /hello\" 405"));
	assert_false(th_log_has(&f->log, secret));
	assert_false(th_log_has(&f->log, "x=1"));
}

/* A handler that forgets to answer yields 500, not a hung client; a second answer is
 * dropped. */
static void test_handler_without_answer_500(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "GET", "/silent", NULL, NULL, &rep), 500);
	char *code = th_error_code(&rep);
	assert_string_equal(code, "internal");
	free(code);
	http_reply_free(&rep);
	assert_int_equal(th_call(f->srv, "GET", "/twice", NULL, NULL, &rep), 200);
	assert_string_equal(rep.body, "first");
	http_reply_free(&rep);
}

/* Route patterns are checked when added. */
static void test_route_registration_errors(void **state)
{
	(void)state;
	struct http_server *srv =
	        http_server_new(&(struct http_server_opts){.listen = "127.0.0.1:0"});
	struct err err;
	assert_int_equal(http_server_route(srv, "GET", "/a/{x}", h_hello, NULL, &err), 0);
	assert_int_equal(http_server_route(srv, "GET", "/a/{y}", h_hello, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "already taken"));
	assert_int_equal(http_server_route(srv, "GET", "a", h_hello, NULL, &err), -1);
	assert_int_equal(http_server_route(srv, "GET", "/a//b", h_hello, NULL, &err), -1);
	assert_int_equal(http_server_route(srv, "GET", "/{x}/{x}", h_hello, NULL, &err), -1);
	assert_int_equal(http_server_route(srv, "GET", "/{p...}/x", h_hello, NULL, &err), -1);
	assert_int_equal(http_server_route(srv, "get", "/b", h_hello, NULL, &err), -1);
	assert_int_equal(http_server_route(srv, "GET", "/b{", h_hello, NULL, &err), -1);
	assert_int_equal(http_server_route(srv, "GET", "/", h_hello, NULL, &err), 0);
	http_server_free(srv);
}

/* Two servers asking for port 0 get two different ports; the second on a taken port is
 * refused with a clear message. */
static void test_port_zero_and_address_in_use(void **state)
{
	struct fx *f = *state;
	struct err err;
	struct http_server *b =
	        http_server_new(&(struct http_server_opts){.listen = "127.0.0.1:0"});
	assert_int_equal(http_server_start(b, &err), 0);
	assert_true(http_server_port(f->srv) > 0);
	assert_true(http_server_port(b) > 0);
	assert_int_not_equal(http_server_port(f->srv), http_server_port(b));
	http_server_free(b);

	char *at = xasprintf("127.0.0.1:%u", http_server_port(f->srv));
	struct http_server *c = http_server_new(&(struct http_server_opts){.listen = at});
	assert_int_equal(http_server_start(c, &err), -1);
	char *want = xasprintf("listen %s: address already in use", at);
	assert_non_null(strstr(err.msg, want));
	http_server_free(c);
	free(want);
	free(at);
}

/* Listen addresses are checked. */
static void test_listen_address_errors(void **state)
{
	(void)state;
	const char *bad[] = {"8080",           "127.0.0.1", "127.0.0.1:99999", "::1:80",
	                     "example.com:80", "[::1]80",   "127.0.0.1:-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct err err;
		struct http_server *s =
		        http_server_new(&(struct http_server_opts){.listen = bad[i]});
		assert_int_equal(http_server_start(s, &err), -1);
		assert_non_null(strstr(err.msg, bad[i]));
		http_server_free(s);
	}
}

/* [::1] works where the machine has IPv6 loopback. */
static void test_ipv6_loopback(void **state)
{
	(void)state;
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int ok = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof a) == 0;
	if (probe >= 0)
		close(probe);
	if (!ok)
		skip();
	struct http_server *s = http_server_new(&(struct http_server_opts){.listen = "[::1]:0"});
	struct err err;
	assert_int_equal(http_server_route(s, "GET", "/echo", h_echo, NULL, &err), 0);
	assert_int_equal(http_server_start(s, &err), 0);
	char *url = xasprintf("http://[::1]:%u/echo", http_server_port(s));
	struct http_reply rep;
	assert_int_equal(
	        http_call(&(struct http_call){.url = url, .timeout_ms = TH_WAIT_MS}, &rep, &err),
	        0);
	assert_int_equal(rep.status, 200);
	json_t *j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "remote")), "::1");
	json_decref(j);
	http_reply_free(&rep);
	free(url);
	http_server_stop(s, 1000);
	http_server_free(s);
}

/* Keep-alive: several requests over one connection each get their answer. */
static void test_keep_alive_pipelined(void **state)
{
	struct fx *f = *state;
	int fd = th_connect(f->srv);
	const char *reqs = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
	                   "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
	                   "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	th_send(fd, reqs, strlen(reqs));
	char *all = th_recv(fd, NULL);
	const char *p = strstr(all, "HTTP/1.1 200");
	assert_non_null(p);
	p = strstr(p + 1, "HTTP/1.1 404");
	assert_non_null(p);
	assert_non_null(strstr(p + 1, "HTTP/1.1 200"));
	free(all);
	close(fd);
}

/* A connection that sends nothing for the per-connection timeout is closed. */
static void test_idle_connection_times_out(void **state)
{
	(void)state;
	struct http_server *s = http_server_new(
	        &(struct http_server_opts){.listen = "127.0.0.1:0", .timeout_s = 1});
	struct err err;
	assert_int_equal(http_server_route(s, "GET", "/hello", h_hello, NULL, &err), 0);
	assert_int_equal(http_server_start(s, &err), 0);
	int fd = th_connect(s);
	th_send(fd, "GET /hello HTTP/1.1\r\n", 21); /* and never the rest */
	double t0 = th_now_ms();
	char *got = th_recv(fd, NULL);
	double took = th_now_ms() - t0;
	assert_true(took > 500 && took < 4000);
	assert_null(strstr(got, "200"));
	free(got);
	close(fd);
	http_server_free(s);
}

/* Past the connection limit a client is not served until a slot frees. */
static void test_connection_limit(void **state)
{
	(void)state;
	struct http_server *s = http_server_new(
	        &(struct http_server_opts){.listen = "127.0.0.1:0", .connections_max = 2});
	struct err err;
	assert_int_equal(http_server_route(s, "GET", "/hello", h_hello, NULL, &err), 0);
	assert_int_equal(http_server_start(s, &err), 0);
	int a = th_connect(s), b = th_connect(s);
	const char *req = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";
	th_send(a, req, strlen(req)); /* make sure both are accepted and counted */
	th_send(b, req, strlen(req));
	char *ra = th_recv(a, "}"), *rb = th_recv(b, "}");
	assert_non_null(strstr(ra, "200 OK"));
	assert_non_null(strstr(rb, "200 OK"));
	int c = th_connect(s);
	send(c, req, strlen(req), MSG_NOSIGNAL);
	struct pollfd p = {.fd = c, .events = POLLIN};
	char buf[64] = "";
	if (poll(&p, 1, 500) == 1)
		assert_true(recv(c, buf, sizeof buf - 1, 0) <= 0); /* closed, not answered */
	free(ra);
	free(rb);
	close(a);
	close(b);
	close(c);
	http_server_free(s);
}

static void h_file(struct http_request *req, void *ctx)
{
	int fd = open(ctx, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		http_respond_error(req, 404, HTTP_ERR_NOT_FOUND, "no file");
		return;
	}
	http_respond_file(req, 200, "text/plain", fd, 2, 5);
}

/* A file range is served from its descriptor. */
static void test_respond_file_range(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	tu_write(dir, "log.txt", "0123456789");
	char *path = fs_join(dir, "log.txt");
	struct http_server *s =
	        http_server_new(&(struct http_server_opts){.listen = "127.0.0.1:0"});
	struct err err;
	assert_int_equal(http_server_route(s, "GET", "/log", h_file, path, &err), 0);
	assert_int_equal(http_server_start(s, &err), 0);
	struct http_reply rep;
	assert_int_equal(th_call(s, "GET", "/log", NULL, NULL, &rep), 200);
	assert_string_equal(rep.body, "23456");
	assert_string_equal(http_reply_header(&rep, "Content-Type"), "text/plain");
	http_reply_free(&rep);
	http_server_free(s);
	free(path);
	tu_rmdir(dir);
}

static void h_fallback(struct http_request *req, void *ctx)
{
	(void)ctx;
	json_t *segs = json_array();
	for (size_t i = 0; i < http_request_segment_count(req); i++)
		json_array_append_new(segs, json_string(http_request_segment(req, i)));
	http_respond_json(req, 200,
	                  json_pack("{s:s,s:s,s:o}", "method", http_request_method(req), "path",
	                            http_request_path(req), "segments", segs));
}

/* A fallback takes every request no route matches (any method, "/", a trailing slash),
 * routes still win, and ".." is refused before it. */
static void test_fallback_route(void **state)
{
	(void)state;
	struct http_server *s =
	        http_server_new(&(struct http_server_opts){.listen = "127.0.0.1:0"});
	struct err err;
	assert_int_equal(http_server_route(s, "GET", "/hello", h_hello, NULL, &err), 0);
	assert_int_equal(http_server_fallback(s, h_fallback, NULL, 0, &err), 0);
	assert_int_equal(http_server_fallback(s, h_fallback, NULL, 0, &err), -1);
	assert_int_equal(http_server_start(s, &err), 0);
	struct http_reply rep;
	static const char *const cases[][3] = {
	        {"GET", "/", "[]"},
	        {"GET", "/site/dir/", "[\"site\",\"dir\",\"\"]"},
	        {"DELETE", "/a%20b", "[\"a b\"]"},
	};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(th_call(s, cases[i][0], cases[i][1], NULL, NULL, &rep), 200);
		json_t *j = th_json(&rep);
		assert_string_equal(json_string_value(json_object_get(j, "method")), cases[i][0]);
		char *segs = json_dumps(json_object_get(j, "segments"), JSON_COMPACT);
		assert_string_equal(segs, cases[i][2]);
		free(segs);
		json_decref(j);
		http_reply_free(&rep);
	}
	assert_int_equal(th_call(s, "GET", "/hello", NULL, NULL, &rep), 200);
	assert_non_null(strstr(rep.body, "world"));
	http_reply_free(&rep);
	int fd = th_connect(s);
	const char *dots = "GET /a/%2e%2e/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	th_send(fd, dots, strlen(dots));
	char *answer = th_recv(fd, NULL);
	assert_int_equal(strncmp(answer, "HTTP/1.1 400", 12), 0);
	free(answer);
	close(fd);
	http_server_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_route_params_decoded, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_encoded_slash_is_one_segment, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_literal_beats_param, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rest_param_and_dot_segments, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unknown_path_404_json, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_wrong_method_405_with_allow, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_head_uses_get, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_query_and_headers, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_body_under_cap_arrives, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_body_over_cap_413, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_body_cap_answers_before_reading, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_chunked_body_over_cap_413, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_endless_chunked_body_cut, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_header_cap, setup, teardown),
	        cmocka_unit_test(test_bearer_parsing),
	        cmocka_unit_test_setup_teardown(test_bearer_reaches_handler_never_the_log, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_handler_without_answer_500, setup, teardown),
	        cmocka_unit_test(test_route_registration_errors),
	        cmocka_unit_test_setup_teardown(test_port_zero_and_address_in_use, setup, teardown),
	        cmocka_unit_test(test_listen_address_errors),
	        cmocka_unit_test(test_ipv6_loopback),
	        cmocka_unit_test_setup_teardown(test_keep_alive_pipelined, setup, teardown),
	        cmocka_unit_test(test_idle_connection_times_out),
	        cmocka_unit_test(test_connection_limit),
	        cmocka_unit_test(test_respond_file_range),
	        cmocka_unit_test(test_fallback_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
