/*
 * http_stream.c — streamed responses, woken from any thread, and the hang-up watcher.
 *
 * A stream is a libmicrohttpd response whose content callback asks the stream's read
 * function for bytes. When it has none, the connection is suspended right there (the
 * one place besides the request handler where libmicrohttpd allows it) and costs
 * nothing until http_stream_wake() resumes it. The `woken` flag closes the race where
 * data arrives between "read found nothing" and "suspend": the callback reads again
 * instead of suspending.
 *
 * libmicrohttpd does not watch a suspended connection, so a client that goes away
 * from an idle stream (a closed browser tab on a quiet pipeline) would hold its
 * connection slot until the next event. The watcher thread registers each suspended
 * stream's socket for EPOLLRDHUP (one-shot) and cuts the stream on a hang-up. It keys
 * streams by id, never by pointer, because an event may arrive for a stream that has
 * just been resumed and freed.
 */
#include "net/http_int.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define HTTP_STREAM_BLOCK  (16u << 10) /* most bytes asked of a read callback at once */
#define WATCH_EVENTS_BATCH 16

/* ---- hang-up watcher ---- */

static void watch_add_locked(struct http_stream *s)
{
	struct http_server *srv = s->srv;
	if (srv->watch_fd < 0 || s->watched_fd >= 0)
		return;
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLONESHOT, .data.u64 = s->id};
	if (epoll_ctl(srv->watch_fd, EPOLL_CTL_ADD, ci->connect_fd, &ev) == 0)
		s->watched_fd = ci->connect_fd;
}

/* While the stream is still suspended, so the socket is certainly open and still its. */
static void watch_del_locked(struct http_stream *s)
{
	if (s->watched_fd < 0)
		return;
	epoll_ctl(s->srv->watch_fd, EPOLL_CTL_DEL, s->watched_fd, NULL);
	s->watched_fd = -1;
}

static void wake_locked(struct http_stream *s)
{
	if (s->ended || !s->conn)
		return;
	if (s->suspended) {
		s->suspended = false;
		watch_del_locked(s);
		MHD_resume_connection(s->conn);
	} else {
		s->woken = true;
	}
}

static void *watcher_main(void *arg)
{
	struct http_server *srv = arg;
	struct epoll_event evs[WATCH_EVENTS_BATCH];
	for (;;) {
		int n = epoll_wait(srv->watch_fd, evs, WATCH_EVENTS_BATCH, -1);
		if (n < 0 && errno != EINTR)
			return NULL;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == 0)
				return NULL; /* watcher_stop() */
			pthread_mutex_lock(&srv->mu);
			for (struct http_stream *s = srv->streams; s; s = s->next)
				if (s->id == evs[i].data.u64) {
					if (s->suspended) {
						s->gone = true;
						wake_locked(s);
					}
					break;
				}
			pthread_mutex_unlock(&srv->mu);
		}
	}
}

int watcher_start(struct http_server *srv, struct err *err)
{
	srv->watch_fd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->watch_fd < 0)
		return err_errno(err, "http: epoll_create1");
	srv->watch_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	if (srv->watch_wake_fd < 0 ||
	    epoll_ctl(srv->watch_fd, EPOLL_CTL_ADD, srv->watch_wake_fd, &ev) < 0) {
		err_errno(err, "http: eventfd");
		goto fail;
	}
	/* signals are for the daemon's main thread, not for this one */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&srv->watcher, NULL, watcher_main, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		err_errno(err, "http: starting the watcher thread");
		goto fail;
	}
	srv->watcher_running = true;
	return 0;
fail:
	if (srv->watch_wake_fd >= 0)
		close(srv->watch_wake_fd);
	close(srv->watch_fd);
	srv->watch_fd = srv->watch_wake_fd = -1;
	return -1;
}

void watcher_stop(struct http_server *srv)
{
	if (srv->watcher_running) {
		uint64_t one = 1;
		if (write(srv->watch_wake_fd, &one, sizeof one) < 0) {
			/* an eventfd write fails only at its counter's limit: it is awake anyway */
		}
		pthread_join(srv->watcher, NULL);
		srv->watcher_running = false;
	}
	if (srv->watch_fd >= 0)
		close(srv->watch_fd);
	if (srv->watch_wake_fd >= 0)
		close(srv->watch_wake_fd);
	srv->watch_fd = srv->watch_wake_fd = -1;
}

/* ---- libmicrohttpd's callbacks ---- */

static ssize_t stream_content(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct http_stream *s = cls;
	struct http_server *srv = s->srv;
	pthread_mutex_lock(&srv->mu);
	for (;;) {
		if (s->gone || s->aborted || s->done) {
			pthread_mutex_unlock(&srv->mu);
			return s->done ? MHD_CONTENT_READER_END_OF_STREAM
			               : MHD_CONTENT_READER_END_WITH_ERROR;
		}
		bool was_stopping = s->stopping;
		s->woken = false;
		pthread_mutex_unlock(&srv->mu);
		ssize_t n = s->read(s->ctx, buf, max);
		pthread_mutex_lock(&srv->mu);
		if (n > 0 && (size_t)n <= max) {
			pthread_mutex_unlock(&srv->mu);
			return n;
		}
		if (n == HTTP_STREAM_DONE) {
			s->done = true;
			continue;
		}
		if (n != HTTP_STREAM_AGAIN && n != 0) {
			s->aborted = true;
			continue;
		}
		if (was_stopping) {
			/* it had its chance to hand over what was ready */
			s->aborted = true;
			continue;
		}
		if (s->woken || s->stopping)
			continue;
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		watch_add_locked(s);
		pthread_mutex_unlock(&srv->mu);
		return 0;
	}
}

static void stream_unref(struct http_stream *s)
{
	if (atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	buf_free(&s->pipe);
	free(s);
}

/* The response is destroyed: the connection is done with the stream. */
static void stream_free_cb(void *cls)
{
	struct http_stream *s = cls;
	struct http_server *srv = s->srv;
	pthread_mutex_lock(&srv->mu);
	if (s->conn) {
		if (s->prev)
			s->prev->next = s->next;
		else
			srv->streams = s->next;
		if (s->next)
			s->next->prev = s->prev;
		s->prev = s->next = NULL;
	}
	watch_del_locked(s);
	enum http_stream_end how = s->done                     ? HTTP_STREAM_COMPLETED
	                           : s->stopping || s->aborted ? HTTP_STREAM_STOPPED
	                                                       : HTTP_STREAM_CLIENT_GONE;
	if (s->gone)
		how = HTTP_STREAM_CLIENT_GONE;
	s->ended = true;
	s->conn = NULL;
	pthread_mutex_unlock(&srv->mu);
	if (s->end)
		s->end(s->ctx, how);
	stream_unref(s);
}

void streams_stop_locked(struct http_server *srv)
{
	for (struct http_stream *s = srv->streams; s; s = s->next) {
		s->stopping = true;
		wake_locked(s);
	}
}

/* ---- creating streams ---- */

static ssize_t pipe_read(void *ctx, char *buf, size_t max)
{
	struct http_stream *s = ctx;
	pthread_mutex_lock(&s->srv->mu);
	size_t avail = s->pipe.len - s->pipe_off;
	ssize_t n = s->pipe_finished ? HTTP_STREAM_DONE : HTTP_STREAM_AGAIN;
	if (avail) {
		n = (ssize_t)(avail < max ? avail : max);
		memcpy(buf, s->pipe.data + s->pipe_off, (size_t)n);
		s->pipe_off += (size_t)n;
		if (s->pipe_off == s->pipe.len) {
			buf_reset(&s->pipe);
			s->pipe_off = 0;
		}
	}
	pthread_mutex_unlock(&s->srv->mu);
	return n;
}

static struct http_stream *stream_new(struct http_request *req, unsigned status,
                                      const char *content_type, http_stream_read_fn *read,
                                      http_stream_end_fn *end, void *ctx)
{
	struct http_server *srv = req->srv;
	struct http_stream *s = xcalloc(1, sizeof *s);
	s->srv = srv;
	s->read = read;
	s->end = end;
	s->ctx = ctx;
	if (!read) { /* a pipe: the stream is its own context */
		s->is_pipe = true;
		s->read = pipe_read;
		s->ctx = s;
	}
	s->watched_fd = -1;
	buf_init(&s->pipe, HTTP_STREAM_PIPE_MAX);
	atomic_init(&s->refs, 2);
	struct MHD_Response *r = MHD_create_response_from_callback(
	        MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK, stream_content, s, stream_free_cb);
	if (!r) {
		atomic_store(&s->refs, 1);
		s->ended = true;
		request_answer(req, 500, NULL);
		if (end)
			end(ctx, HTTP_STREAM_STOPPED);
		return s;
	}
	if (content_type)
		MHD_add_response_header(r, "Content-Type", content_type);
	/* proxies (nginx) must not hold back what is streamed */
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	pthread_mutex_lock(&srv->mu);
	if (req->conn && req->state == REQ_OPEN) {
		s->conn = req->conn;
		s->id = ++srv->next_stream_id;
		s->stopping = srv->stopping;
		s->next = srv->streams;
		if (srv->streams)
			srv->streams->prev = s;
		srv->streams = s;
	}
	pthread_mutex_unlock(&srv->mu);
	/* refused (answered already, connection gone): destroying r calls stream_free_cb(),
	 * which reports the end and drops the response's reference */
	request_answer(req, status, r);
	return s;
}

struct http_stream *http_respond_stream(struct http_request *req, unsigned status,
                                        const char *content_type, http_stream_read_fn *read,
                                        http_stream_end_fn *end, void *ctx)
{
	return stream_new(req, status, content_type, read, end, ctx);
}

struct http_stream *http_respond_pipe(struct http_request *req, unsigned status,
                                      const char *content_type)
{
	return stream_new(req, status, content_type, NULL, NULL, NULL);
}

/* ---- the producer's side ---- */

void http_stream_wake(struct http_stream *s)
{
	pthread_mutex_lock(&s->srv->mu);
	wake_locked(s);
	pthread_mutex_unlock(&s->srv->mu);
}

int http_stream_write(struct http_stream *s, const void *data, size_t len)
{
	int rc = -1;
	pthread_mutex_lock(&s->srv->mu);
	if (!s->is_pipe || s->ended || s->gone || s->stopping || s->aborted || s->pipe_finished)
		goto out;
	if (s->pipe_off) {
		buf_consume(&s->pipe, s->pipe_off);
		s->pipe_off = 0;
	}
	if (buf_append(&s->pipe, data, len) < 0) {
		/* HTTP_STREAM_PIPE_MAX behind: the client reads too slowly to follow */
		s->gone = true;
		wake_locked(s);
		goto out;
	}
	wake_locked(s);
	rc = 0;
out:
	pthread_mutex_unlock(&s->srv->mu);
	return rc;
}

void http_stream_finish(struct http_stream *s)
{
	pthread_mutex_lock(&s->srv->mu);
	s->pipe_finished = true;
	wake_locked(s);
	pthread_mutex_unlock(&s->srv->mu);
	stream_unref(s);
}

int http_stream_is_open(struct http_stream *s)
{
	pthread_mutex_lock(&s->srv->mu);
	int open = !s->ended;
	pthread_mutex_unlock(&s->srv->mu);
	return open;
}

void http_stream_release(struct http_stream *s)
{
	if (s)
		stream_unref(s);
}
