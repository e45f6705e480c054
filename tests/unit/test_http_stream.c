/* Unit tests for net/http's streamed and deferred answers, and for stopping a server with
 * such answers open: what the engine does when it hands log bytes or events to a waiting
 * client, or answers an API call from its own thread. */
#include "test_http_util.h"

#include <unistd.h>

/* A source of data for a pull stream, fed by a producer thread. */
struct feed {
	pthread_mutex_t mu;
	struct buf data;
	size_t off;
	bool done;
	sem_t started; /* the handler made the stream */
	sem_t idle;    /* the read callback found nothing */
	sem_t ended;   /* the end callback ran */
	enum http_stream_end how;
	struct http_stream *s;
	struct http_request *req; /* a deferred request */
	int producer_failed;
};

struct fx {
	struct http_server *srv;
	struct feed feed;
};

static ssize_t feed_read(void *ctx, char *buf, size_t max)
{
	struct feed *f = ctx;
	pthread_mutex_lock(&f->mu);
	ssize_t n;
	if (f->off < f->data.len) {
		size_t k = f->data.len - f->off < max ? f->data.len - f->off : max;
		memcpy(buf, f->data.data + f->off, k);
		f->off += k;
		n = (ssize_t)k;
	} else {
		n = f->done ? HTTP_STREAM_DONE : HTTP_STREAM_AGAIN;
	}
	pthread_mutex_unlock(&f->mu);
	if (n == HTTP_STREAM_AGAIN)
		sem_post(&f->idle);
	return n;
}

static void feed_end(void *ctx, enum http_stream_end how)
{
	struct feed *f = ctx;
	f->how = how;
	sem_post(&f->ended);
}

static void feed_add(struct feed *f, const char *s)
{
	pthread_mutex_lock(&f->mu);
	if (buf_puts(&f->data, s) < 0)
		f->producer_failed = 1;
	pthread_mutex_unlock(&f->mu);
}

static void h_feed(struct http_request *req, void *ctx)
{
	struct feed *f = ctx;
	http_response_header(req, "Cache-Control", "no-cache");
	f->s = http_respond_stream(req, 200, "text/plain", feed_read, feed_end, f);
	sem_post(&f->started);
}

static void h_pipe(struct http_request *req, void *ctx)
{
	struct feed *f = ctx;
	f->s = http_respond_pipe(req, 200, "text/event-stream");
	/* what is written before the handler returns is sent first */
	if (http_stream_write(f->s, "event: hello\n\n", 14) < 0)
		f->producer_failed = 1;
	sem_post(&f->started);
}

static void h_defer(struct http_request *req, void *ctx)
{
	struct feed *f = ctx;
	f->req = req;
	http_request_defer(req);
	sem_post(&f->started);
}

static int setup(void **state)
{
	struct fx *x = xcalloc(1, sizeof *x);
	struct feed *f = &x->feed;
	pthread_mutex_init(&f->mu, NULL);
	buf_init(&f->data, 1 << 20);
	sem_init(&f->started, 0, 0);
	sem_init(&f->idle, 0, 0);
	sem_init(&f->ended, 0, 0);
	x->srv = http_server_new(&(struct http_server_opts){.listen = "127.0.0.1:0"});
	struct err err;
	if (http_server_route(x->srv, "GET", "/feed", h_feed, f, &err) < 0 ||
	    http_server_route(x->srv, "GET", "/pipe", h_pipe, f, &err) < 0 ||
	    http_server_route(x->srv, "POST", "/defer", h_defer, f, &err) < 0 ||
	    http_server_start(x->srv, &err) < 0)
		fail_msg("%s", err.msg);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	http_server_stop(x->srv, 1000);
	http_server_free(x->srv);
	buf_free(&x->feed.data);
	pthread_mutex_destroy(&x->feed.mu);
	sem_destroy(&x->feed.started);
	sem_destroy(&x->feed.idle);
	sem_destroy(&x->feed.ended);
	free(x);
	return 0;
}

/* Collects a streamed body; with `got`, posts it at the first piece. */
struct sink {
	struct buf text;
	sem_t *got;
};

static int sink_chunk(void *ctx, const char *data, size_t len)
{
	struct sink *k = ctx;
	if (buf_append(&k->text, data, len) < 0)
		return 1;
	if (k->got)
		sem_post(k->got);
	return 0;
}

struct streamer {
	struct http_server *srv;
	const char *path;
	struct sink sink;
	int rc;
	struct err err;
	long status;
};

static void *stream_get(void *arg)
{
	struct streamer *st = arg;
	char *url = th_url(st->srv, st->path);
	struct http_reply rep;
	st->rc = http_call(&(struct http_call){.url = url,
	                                       .on_chunk = sink_chunk,
	                                       .ctx = &st->sink,
	                                       .timeout_ms = TH_WAIT_MS * 2},
	                   &rep, &st->err);
	st->status = rep.status;
	http_reply_free(&rep);
	free(url);
	return NULL;
}

/* The producer: waits until the stream has nothing to send (so each piece really wakes a
 * suspended connection), adds a piece, wakes it; then ends it. */
static void *feed_producer(void *arg)
{
	struct feed *f = arg;
	if (th_sem_wait(&f->started, TH_WAIT_MS) < 0)
		goto fail;
	for (int i = 0; i < 5; i++) {
		if (th_sem_wait(&f->idle, TH_WAIT_MS) < 0)
			goto fail;
		char line[32];
		snprintf(line, sizeof line, "piece %d\n", i);
		feed_add(f, line);
		http_stream_wake(f->s);
	}
	if (th_sem_wait(&f->idle, TH_WAIT_MS) < 0)
		goto fail;
	pthread_mutex_lock(&f->mu);
	f->done = true;
	pthread_mutex_unlock(&f->mu);
	http_stream_wake(f->s);
	http_stream_release(f->s);
	return NULL;
fail:
	f->producer_failed = 1;
	return NULL;
}

/* A pull stream woken from another thread delivers every piece, in order, then completes;
 * the end callback says so. */
static void test_stream_woken_from_thread(void **state)
{
	struct fx *x = *state;
	pthread_t producer;
	pthread_create(&producer, NULL, feed_producer, &x->feed);
	struct streamer st = {.srv = x->srv, .path = "/feed"};
	buf_init(&st.sink.text, 1 << 16);
	stream_get(&st);
	pthread_join(producer, NULL);
	assert_false(x->feed.producer_failed);
	if (st.rc < 0)
		fail_msg("%s", st.err.msg);
	assert_int_equal(st.status, 200);
	assert_string_equal(st.sink.text.data, "piece 0\npiece 1\npiece 2\npiece 3\npiece 4\n");
	assert_int_equal(th_sem_wait(&x->feed.ended, TH_WAIT_MS), 0);
	assert_int_equal(x->feed.how, HTTP_STREAM_COMPLETED);
	buf_free(&st.sink.text);
}

static void *pipe_producer(void *arg)
{
	struct feed *f = arg;
	if (th_sem_wait(&f->started, TH_WAIT_MS) < 0) {
		f->producer_failed = 1;
		return NULL;
	}
	for (int i = 0; i < 300; i++) {
		char ev[64];
		int n = snprintf(ev, sizeof ev, "data: %d\n\n", i);
		if (http_stream_write(f->s, ev, (size_t)n) < 0)
			f->producer_failed = 1;
		if (i % 50 == 0)
			usleep(2000); /* let the stream run dry now and then */
	}
	http_stream_finish(f->s);
	return NULL;
}

/* A pipe stream (server-sent events): writes from another thread arrive whole and in
 * order, after what the handler wrote, and the response completes at finish. */
static void test_pipe_stream_in_order(void **state)
{
	struct fx *x = *state;
	pthread_t producer;
	pthread_create(&producer, NULL, pipe_producer, &x->feed);
	struct streamer st = {.srv = x->srv, .path = "/pipe"};
	buf_init(&st.sink.text, 1 << 20);
	stream_get(&st);
	pthread_join(producer, NULL);
	assert_false(x->feed.producer_failed);
	if (st.rc < 0)
		fail_msg("%s", st.err.msg);
	struct buf want;
	buf_init(&want, 1 << 20);
	assert_int_equal(buf_puts(&want, "event: hello\n\n"), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(buf_printf(&want, "data: %d\n\n", i), 0);
	assert_string_equal(st.sink.text.data, want.data);
	buf_free(&want);
	buf_free(&st.sink.text);
}

/* Stopping the server with a stream open cuts the stream at once (the client sees an
 * incomplete answer, not a normal end), returns well within its deadline, and leaves the
 * producer's handle safe to use and release. */
static void test_stop_while_stream_open(void **state)
{
	struct fx *x = *state;
	sem_t got;
	sem_init(&got, 0, 0);
	struct streamer st = {.srv = x->srv, .path = "/pipe"};
	buf_init(&st.sink.text, 1 << 16);
	st.sink.got = &got;
	pthread_t client;
	pthread_create(&client, NULL, stream_get, &st);
	assert_int_equal(th_sem_wait(&x->feed.started, TH_WAIT_MS), 0);
	assert_int_equal(th_sem_wait(&got, TH_WAIT_MS), 0);

	double t0 = th_now_ms();
	http_server_stop(x->srv, 3000);
	double took = th_now_ms() - t0;
	pthread_join(client, NULL);
	assert_true(took < 2000);
	assert_int_equal(st.rc, -1);
	assert_non_null(strstr(st.err.msg, "closed the connection"));
	assert_string_equal(st.sink.text.data, "event: hello\n\n");
	assert_int_equal(http_stream_is_open(x->feed.s), 0);
	assert_int_equal(http_stream_write(x->feed.s, "late", 4), -1);
	http_stream_wake(x->feed.s);
	http_stream_release(x->feed.s);
	buf_free(&st.sink.text);
	sem_destroy(&got);
}

/* A pull stream's end callback learns that the server stopped. */
static void test_stop_ends_pull_stream(void **state)
{
	struct fx *x = *state;
	struct streamer st = {.srv = x->srv, .path = "/feed"};
	buf_init(&st.sink.text, 1 << 16);
	pthread_t client;
	pthread_create(&client, NULL, stream_get, &st);
	assert_int_equal(th_sem_wait(&x->feed.started, TH_WAIT_MS), 0);
	assert_int_equal(th_sem_wait(&x->feed.idle, TH_WAIT_MS), 0);
	http_server_stop(x->srv, 3000);
	pthread_join(client, NULL);
	assert_int_equal(th_sem_wait(&x->feed.ended, TH_WAIT_MS), 0);
	assert_int_equal(x->feed.how, HTTP_STREAM_STOPPED);
	assert_int_equal(st.rc, -1);
	http_stream_release(x->feed.s);
	buf_free(&st.sink.text);
}

/* A client that hangs up on an idle stream is noticed without any data being sent: the
 * end callback runs (the connection slot is freed) while the stream stays idle. */
static void test_hangup_on_idle_stream_is_noticed(void **state)
{
	struct fx *x = *state;
	int fd = th_connect(x->srv);
	const char *req = "GET /feed HTTP/1.1\r\nHost: t\r\n\r\n";
	th_send(fd, req, strlen(req));
	assert_int_equal(th_sem_wait(&x->feed.started, TH_WAIT_MS), 0);
	assert_int_equal(th_sem_wait(&x->feed.idle, TH_WAIT_MS), 0);
	usleep(20000); /* let it suspend */
	close(fd);
	assert_int_equal(th_sem_wait(&x->feed.ended, TH_WAIT_MS), 0);
	assert_int_equal(x->feed.how, HTTP_STREAM_CLIENT_GONE);
	assert_int_equal(http_stream_is_open(x->feed.s), 0);
	http_stream_release(x->feed.s);
}

static void *late_responder(void *arg)
{
	struct feed *f = arg;
	if (th_sem_wait(&f->started, TH_WAIT_MS) < 0) {
		f->producer_failed = 1;
		return NULL;
	}
	usleep(30000); /* the connection is suspended by now */
	http_response_header(f->req, "Location", "/executions/7");
	http_respond_json(f->req, 202, json_pack("{s:s}", "executionId", "7"));
	return NULL;
}

/* A deferred request is answered from another thread, with its headers. */
static void test_deferred_answer_from_thread(void **state)
{
	struct fx *x = *state;
	pthread_t responder;
	pthread_create(&responder, NULL, late_responder, &x->feed);
	struct http_reply rep;
	assert_int_equal(th_call(x->srv, "POST", "/defer", NULL, NULL, &rep), 202);
	pthread_join(responder, NULL);
	json_t *j = th_json(&rep);
	assert_string_equal(json_string_value(json_object_get(j, "executionId")), "7");
	assert_string_equal(http_reply_header(&rep, "Location"), "/executions/7");
	json_decref(j);
	http_reply_free(&rep);
}

struct caller {
	struct http_server *srv;
	struct http_reply rep;
	long status;
};

static void *call_defer(void *arg)
{
	struct caller *c = arg;
	char *url = th_url(c->srv, "/defer");
	struct err err;
	struct http_call call = {.method = "POST", .url = url, .timeout_ms = TH_WAIT_MS};
	c->status = http_call(&call, &c->rep, &err) < 0 ? -1 : c->rep.status;
	free(url);
	return NULL;
}

/* Stop waits for a deferred answer until its deadline, then answers 503 itself; the
 * engine's answer that comes later is dropped harmlessly. */
static void test_stop_answers_waiting_deferred_503(void **state)
{
	struct fx *x = *state;
	struct caller c = {.srv = x->srv};
	pthread_t client;
	pthread_create(&client, NULL, call_defer, &c);
	assert_int_equal(th_sem_wait(&x->feed.started, TH_WAIT_MS), 0);
	double t0 = th_now_ms();
	http_server_stop(x->srv, 200);
	double took = th_now_ms() - t0;
	pthread_join(client, NULL);
	assert_true(took >= 150 && took < 2000);
	assert_int_equal(c.status, 503);
	char *code = th_error_code(&c.rep);
	assert_string_equal(code, "unavailable");
	free(code);
	http_reply_free(&c.rep);
	http_respond_json(x->feed.req, 200, json_object()); /* too late: dropped */
}

static void *answer_soon(void *arg)
{
	struct feed *f = arg;
	usleep(100000);
	http_respond_json(f->req, 201, json_pack("{s:b}", "ok", 1));
	return NULL;
}

/* A deferred answer that comes within stop's deadline reaches the client. */
static void test_stop_lets_deferred_finish(void **state)
{
	struct fx *x = *state;
	struct caller c = {.srv = x->srv};
	pthread_t client, responder;
	pthread_create(&client, NULL, call_defer, &c);
	assert_int_equal(th_sem_wait(&x->feed.started, TH_WAIT_MS), 0);
	pthread_create(&responder, NULL, answer_soon, &x->feed);
	http_server_stop(x->srv, 3000);
	pthread_join(client, NULL);
	pthread_join(responder, NULL);
	assert_int_equal(c.status, 201);
	http_reply_free(&c.rep);
}

/* After stop, the port refuses connections. */
static void test_stopped_server_refuses(void **state)
{
	struct fx *x = *state;
	char *url = th_url(x->srv, "/feed");
	http_server_stop(x->srv, 1000);
	struct http_reply rep;
	struct err err;
	assert_int_equal(
	        http_call(&(struct http_call){.url = url, .timeout_ms = TH_WAIT_MS}, &rep, &err),
	        -1);
	assert_non_null(strstr(err.msg, "connection refused"));
	http_reply_free(&rep);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_stream_woken_from_thread, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_pipe_stream_in_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stop_while_stream_open, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stop_ends_pull_stream, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hangup_on_idle_stream_is_noticed, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_deferred_answer_from_thread, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stop_answers_waiting_deferred_503, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_stop_lets_deferred_finish, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stopped_server_refuses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
