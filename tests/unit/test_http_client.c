/* Unit tests for net/http_client: methods and bodies, caps, timeouts, streaming, and the
 * errors a user reads (`ferry logs`, `ferry pipeline ...` print them as they are). */
#include "test_http_util.h"

#include <unistd.h>

struct fx {
	struct http_server *srv;
	struct http_request *held; /* a deferred request nobody answers */
};

static void h_echo(struct http_request *req, void *ctx)
{
	(void)ctx;
	size_t len;
	const char *body = http_request_body(req, &len);
	http_respond_json(req, 200,
	                  json_pack("{s:s,s:s%,s:s?}", "method", http_request_method(req), "body",
	                            body, len, "type", http_request_header(req, "Content-Type")));
}

static void h_big(struct http_request *req, void *ctx)
{
	(void)ctx;
	char text[100];
	memset(text, 'b', sizeof text);
	http_respond_bytes(req, 200, "text/plain", text, sizeof text);
}

static void h_never(struct http_request *req, void *ctx)
{
	struct fx *f = ctx;
	f->held = req;
	http_request_defer(req);
}

static void h_teapot(struct http_request *req, void *ctx)
{
	(void)ctx;
	http_respond_bytes(req, 502, "text/html", "<html>\nbad gateway\n</html>", 26);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	f->srv = http_server_new(&(struct http_server_opts){.listen = "127.0.0.1:0"});
	struct err err;
	const char *methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (http_server_route(f->srv, methods[i], "/echo", h_echo, NULL, &err) < 0)
			fail_msg("%s", err.msg);
	if (http_server_route(f->srv, "GET", "/big", h_big, NULL, &err) < 0 ||
	    http_server_route(f->srv, "GET", "/never", h_never, f, &err) < 0 ||
	    http_server_route(f->srv, "GET", "/proxy", h_teapot, NULL, &err) < 0 ||
	    http_server_start(f->srv, &err) < 0)
		fail_msg("%s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	http_server_stop(f->srv, 100);
	if (f->held)
		http_respond_json(f->held, 200, NULL); /* late, dropped: releases the request */
	http_server_free(f->srv);
	free(f);
	return 0;
}

/* PUT, DELETE and PATCH carry their JSON body and content type. */
static void test_methods_with_json_body(void **state)
{
	struct fx *f = *state;
	const char *methods[] = {"POST", "PUT", "DELETE", "PATCH"};
	json_t *body = json_pack("{s:i}", "n", 1);
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		struct http_reply rep;
		assert_int_equal(th_call(f->srv, methods[i], "/echo", body, NULL, &rep), 200);
		json_t *j = th_json(&rep);
		assert_string_equal(json_string_value(json_object_get(j, "method")), methods[i]);
		assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"n\":1}");
		assert_string_equal(json_string_value(json_object_get(j, "type")),
		                    "application/json");
		json_decref(j);
		http_reply_free(&rep);
	}
	json_decref(body);
}

/* A raw body goes as given, with its content type. */
static void test_raw_body(void **state)
{
	struct fx *f = *state;
	char *url = th_url(f->srv, "/echo");
	struct http_reply rep;
	struct err err;
	assert_int_equal(http_call(&(struct http_call){.method = "POST",
	                                               .url = url,
	                                               .body = "a=1",
	                                               .body_len = 3,
	                                               .content_type = "text/x-test",
	                                               .timeout_ms = TH_WAIT_MS},
	                           &rep, &err),
	                 0);
	json_t *j = http_reply_json(&rep, url, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "body")), "a=1");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "text/x-test");
	json_decref(j);
	http_reply_free(&rep);
	free(url);
}

/* Nobody listening: the error names the URL and suggests starting the daemon. */
static void test_connection_refused_message(void **state)
{
	(void)state;
	struct http_server *s =
	        http_server_new(&(struct http_server_opts){.listen = "127.0.0.1:0"});
	struct err err;
	assert_int_equal(http_server_start(s, &err), 0);
	unsigned port = http_server_port(s);
	http_server_free(s); /* the port is closed now */
	char *url = xasprintf("http://127.0.0.1:%u/api/pipelines", port);
	struct http_reply rep;
	assert_int_equal(http_call(&(struct http_call){.url = url,
	                                               .token = "tok-SECRET",
	                                               .refused_hint = HTTP_CLIENT_HINT_SERVE},
	                           &rep, &err),
	                 -1);
	char *want = xasprintf("%s: connection refused (is `ferry serve` running?)", url);
	assert_string_equal(err.msg, want);
	http_reply_free(&rep);
	assert_int_equal(http_call(&(struct http_call){.url = url}, &rep, &err), -1);
	assert_true(strstr(err.msg, "connection refused") && !strchr(err.msg, '('));
	http_reply_free(&rep);
	free(want);
	free(url);
}

/* Credentials in the URL are not repeated in errors. */
static void test_url_credentials_hidden(void **state)
{
	(void)state;
	struct http_reply rep;
	struct err err;
	assert_int_equal(
	        http_call(&(struct http_call){.url = "http://me:pa55@127.0.0.1:1/x"}, &rep, &err),
	        -1);
	assert_null(strstr(err.msg, "pa55"));
	assert_non_null(strstr(err.msg, "http://127.0.0.1:1/x: "));
	http_reply_free(&rep);
	assert_int_equal(http_call(&(struct http_call){.url = "ftp://127.0.0.1/x"}, &rep, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "not an http:// or https:// URL"));
	http_reply_free(&rep);
}

/* An answer over the cap fails the call instead of growing without bound. */
static void test_response_cap(void **state)
{
	struct fx *f = *state;
	char *url = th_url(f->srv, "/big");
	struct http_reply rep;
	struct err err;
	assert_int_equal(http_call(&(struct http_call){.url = url,
	                                               .response_max = 10,
	                                               .timeout_ms = TH_WAIT_MS},
	                           &rep, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "the answer is larger than 10 bytes"));
	http_reply_free(&rep);
	assert_int_equal(http_call(&(struct http_call){.url = url,
	                                               .response_max = 100,
	                                               .timeout_ms = TH_WAIT_MS},
	                           &rep, &err),
	                 0);
	assert_int_equal(rep.len, 100);
	http_reply_free(&rep);
	free(url);
}

/* The total timeout is kept, and said. */
static void test_timeout(void **state)
{
	struct fx *f = *state;
	char *url = th_url(f->srv, "/never");
	struct http_reply rep;
	struct err err;
	double t0 = th_now_ms();
	assert_int_equal(http_call(&(struct http_call){.url = url, .timeout_ms = 200}, &rep, &err),
	                 -1);
	double took = th_now_ms() - t0;
	assert_true(took >= 190 && took < 3000);
	assert_non_null(strstr(err.msg, "no complete answer within 200 ms"));
	http_reply_free(&rep);
	free(url);
}

struct pieces {
	int n;
	int stop_after;
};

static int count_chunk(void *ctx, const char *data, size_t len)
{
	(void)data;
	(void)len;
	struct pieces *p = ctx;
	return ++p->n >= p->stop_after;
}

/* In streaming mode a callback may stop early (not an error); an error status is
 * collected instead of streamed, so its JSON can be read. */
static void test_streaming_stop_and_error_bodies(void **state)
{
	struct fx *f = *state;
	char *url = th_url(f->srv, "/big");
	struct pieces p = {0, 1};
	struct http_reply rep;
	struct err err;
	assert_int_equal(http_call(&(struct http_call){.url = url,
	                                               .on_chunk = count_chunk,
	                                               .ctx = &p,
	                                               .timeout_ms = TH_WAIT_MS},
	                           &rep, &err),
	                 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(rep.len, 0);
	http_reply_free(&rep);
	free(url);

	url = th_url(f->srv, "/nope");
	p = (struct pieces){0, 100};
	assert_int_equal(http_call(&(struct http_call){.url = url,
	                                               .on_chunk = count_chunk,
	                                               .ctx = &p,
	                                               .timeout_ms = TH_WAIT_MS},
	                           &rep, &err),
	                 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(rep.status, 404);
	assert_int_equal(http_reply_check(url, &rep, &err), -1);
	char *want = xasprintf("%s: 404 not_found: no such endpoint: /nope", url);
	assert_string_equal(err.msg, want);
	free(want);
	http_reply_free(&rep);
	free(url);
}

/* A non-JSON error body (a proxy's page) is quoted on one line. */
static void test_check_non_json_error(void **state)
{
	struct fx *f = *state;
	struct http_reply rep;
	assert_int_equal(th_call(f->srv, "GET", "/proxy", NULL, NULL, &rep), 502);
	struct err err;
	assert_int_equal(http_reply_check("http://x/proxy", &rep, &err), -1);
	assert_string_equal(err.msg, "http://x/proxy: 502: <html> bad gateway </html>");
	assert_null(http_reply_json(&rep, "http://x/proxy", &err));
	assert_non_null(strstr(err.msg, "http://x/proxy: the answer is not JSON"));
	http_reply_free(&rep);
	assert_int_equal(th_call(f->srv, "GET", "/big", NULL, NULL, &rep), 200);
	assert_int_equal(http_reply_check("http://x/big", &rep, &err), 0);
	http_reply_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_methods_with_json_body, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_raw_body, setup, teardown),
	        cmocka_unit_test(test_connection_refused_message),
	        cmocka_unit_test(test_url_credentials_hidden),
	        cmocka_unit_test_setup_teardown(test_response_cap, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_streaming_stop_and_error_bodies, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_check_non_json_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
