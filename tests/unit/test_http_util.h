/*
 * test_http_util.h — helpers for the HTTP tests: a server on 127.0.0.1 port 0 in the test
 * process, driven with net/http_client; a captured log; bounded waits; a raw socket for
 * what curl would not send. Every wait has a deadline, so a bug fails a test instead of
 * hanging it. Handlers run on the server's thread: they record, the test thread asserts.
 */
#ifndef FERRY_TEST_HTTP_UTIL_H
#define FERRY_TEST_HTTP_UTIL_H

#include "testutil.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/socket.h>
#include <time.h>

#include "net/http.h"
#include "net/http_client.h"

#define TH_WAIT_MS 5000 /* the longest any test waits for anything */

struct th_log {
	pthread_mutex_t mu;
	struct buf text;
};

static inline void th_log_emit(void *ctx, const char *line)
{
	struct th_log *l = ctx;
	pthread_mutex_lock(&l->mu);
	/* past the cap the log is cut; tests look at the first lines */
	int rc = buf_puts(&l->text, line);
	if (rc == 0)
		rc = buf_puts(&l->text, "\n");
	(void)rc;
	pthread_mutex_unlock(&l->mu);
}

/* Whether the captured log contains s. */
static inline int th_log_has(struct th_log *l, const char *s)
{
	pthread_mutex_lock(&l->mu);
	int r = l->text.data && strstr(l->text.data, s) != NULL;
	pthread_mutex_unlock(&l->mu);
	return r;
}

static inline double th_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Waits for a post on s, at most ms; 0 on success, -1 on timeout. */
static inline int th_sem_wait(sem_t *s, unsigned ms)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(s, &t) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static inline char *th_url(struct http_server *srv, const char *path)
{
	return xasprintf("http://127.0.0.1:%u%s", http_server_port(srv), path);
}

/* One call that must get an answer; returns its status; the reply is the caller's. */
static inline long th_call(struct http_server *srv, const char *method, const char *path,
                           const json_t *json, const char *token, struct http_reply *rep)
{
	char *url = th_url(srv, path);
	struct err err;
	struct http_call c = {.method = method,
	                      .url = url,
	                      .json = json,
	                      .token = token,
	                      .timeout_ms = TH_WAIT_MS};
	if (http_call(&c, rep, &err) < 0)
		fail_msg("%s", err.msg);
	free(url);
	return rep->status;
}

static inline json_t *th_json(const struct http_reply *rep)
{
	json_t *j = json_loadb(rep->body, rep->len, 0, NULL);
	if (!j)
		fail_msg("not JSON: %s", rep->body);
	return j;
}

/* The "code" of a {"error": {"code", "message"}} body, checking the shape. */
static inline char *th_error_code(const struct http_reply *rep)
{
	json_t *j = th_json(rep);
	json_t *e = json_object_get(j, "error");
	assert_true(json_is_object(e));
	assert_int_equal(json_object_size(e), 2);
	assert_true(json_is_string(json_object_get(e, "message")));
	assert_true(strlen(json_string_value(json_object_get(e, "message"))) > 0);
	char *code = xstrdup(json_string_value(json_object_get(e, "code")));
	json_decref(j);
	return code;
}

/* A raw TCP connection to the server, for requests curl would not make. */
static inline int th_connect(struct http_server *srv)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(http_server_port(srv))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

static inline void th_send(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* Reads what arrives until the peer closes or `until` appears, within TH_WAIT_MS. */
static inline char *th_recv(int fd, const char *until)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	double end = th_now_ms() + TH_WAIT_MS;
	for (;;) {
		if (until && b.data && strstr(b.data, until))
			break;
		int left = (int)(end - th_now_ms());
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof tmp, 0);
		if (n <= 0)
			break;
		assert_int_equal(buf_append(&b, tmp, (size_t)n), 0);
	}
	return buf_detach(&b);
}

#endif
