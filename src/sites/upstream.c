/*
 * upstream.c — the loopback HTTP/1.1 client of the edge's worker threads (upstream.h).
 */
#include "sites/upstream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/timeutil.h"

/* Waits for `events` on c->fd until deadline: 0, UP_ETIMEOUT, UP_EBROKEN. */
static int wait_fd(struct up_conn *c, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return UP_ETIMEOUT;
		struct pollfd p = {.fd = c->fd, .events = events};
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return UP_EBROKEN;
		if (n > 0)
			return 0; /* readable, writable, or an error the next call reports */
	}
}

int up_connect(struct up_conn *c, const struct sockaddr *sa, socklen_t salen, const char *who,
               int timeout_ms, struct err *err)
{
	memset(c, 0, sizeof *c);
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err_errno(err, "%s: socket", who);
		return UP_EBROKEN;
	}
	if (connect(c->fd, sa, salen) == 0)
		return 0;
	if (errno == ECONNREFUSED) {
		err_set(err, "%s: connection refused", who);
		return UP_EREFUSED;
	}
	if (errno != EINPROGRESS) {
		err_errno(err, "%s: connect", who);
		return UP_EBROKEN;
	}
	int rc = wait_fd(c, POLLOUT, mono_ms() + timeout_ms);
	if (rc == UP_ETIMEOUT) {
		err_set(err, "%s: no connection after %d ms", who, timeout_ms);
		return rc;
	}
	int soerr = 0;
	socklen_t len = sizeof soerr;
	if (rc < 0 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
		err_errno(err, "%s: connect", who);
		return UP_EBROKEN;
	}
	if (soerr == ECONNREFUSED) {
		err_set(err, "%s: connection refused", who);
		return UP_EREFUSED;
	}
	if (soerr) {
		errno = soerr;
		err_errno(err, "%s: connect", who);
		return UP_EBROKEN;
	}
	return 0;
}

int up_send(struct up_conn *c, const void *data, size_t len, int64_t deadline, const char *who,
            struct err *err)
{
	const char *p = data;
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(c, POLLOUT, deadline);
			if (rc == UP_ETIMEOUT) {
				err_set(err, "%s: timed out sending the request", who);
				return rc;
			}
			if (rc == 0)
				continue;
		}
		err_errno(err, "%s: sending the request", who);
		return UP_EBROKEN;
	}
	return 0;
}

/* More bytes into rbuf (after compacting it): >0, 0 at EOF, or UP_E*. */
static ssize_t fill(struct up_conn *c, int64_t deadline)
{
	if (c->roff) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	if (c->rlen == sizeof c->rbuf)
		return UP_EBROKEN;
	for (;;) {
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
		if (n >= 0) {
			c->rlen += (size_t)n;
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return UP_EBROKEN;
		int rc = wait_fd(c, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
}

/* One line (CRLF or LF ended, without it) appended to head, NUL-terminated; *line points
 * at it in head (valid until head grows). */
static int read_line(struct up_conn *c, char **line, struct buf *head, int64_t deadline)
{
	size_t from = head->len;
	for (;;) {
		char *start = c->rbuf + c->roff;
		size_t avail = c->rlen - c->roff;
		char *nl = memchr(start, '\n', avail);
		size_t take = nl ? (size_t)(nl - start) : avail;
		if (buf_append(head, start, take) < 0)
			return UP_EBROKEN;
		c->roff += take;
		if (nl) {
			c->roff++;
			if (head->len > from && head->data[head->len - 1] == '\r')
				head->len--;
			if (buf_append(head, "", 1) < 0)
				return UP_EBROKEN;
			*line = head->data + from;
			return 0;
		}
		ssize_t n = fill(c, deadline);
		if (n == 0)
			return UP_EBROKEN;
		if (n < 0)
			return (int)n;
	}
}

void up_head_free(struct up_head *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->h[i].name);
		free(h->h[i].value);
	}
	free(h->h);
	memset(h, 0, sizeof *h);
}

const char *up_head_get(const struct up_head *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcasecmp(h->h[i].name, name))
			return h->h[i].value;
	return NULL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* One head: status line and header lines. */
static int read_one_head(struct up_conn *c, struct up_head *h, int64_t deadline, const char *who,
                         struct err *err)
{
	struct buf head;
	buf_init(&head, UP_HEAD_MAX);
	char *line = NULL;
	int rc = read_line(c, &line, &head, deadline);
	unsigned status = 0;
	if (rc == 0 && (strncmp(line, "HTTP/1.", 7) || strlen(line) < 12 || line[8] != ' ' ||
	                sscanf(line + 9, "%3u", &status) != 1 || status < 100 || status > 599))
		rc = UP_EBROKEN;
	h->status = status;
	while (rc == 0) {
		buf_reset(&head);
		rc = read_line(c, &line, &head, deadline);
		if (rc < 0 || !*line)
			break;
		char *colon = strchr(line, ':');
		if (!colon || colon == line || h->n == UP_HEADERS_MAX) {
			rc = UP_EBROKEN;
			break;
		}
		*colon = '\0';
		h->h = xrealloc(h->h, (h->n + 1) * sizeof *h->h);
		h->h[h->n++] = (struct up_header){xstrdup(line), xstrdup(trim(colon + 1))};
	}
	buf_free(&head);
	if (rc == UP_ETIMEOUT)
		err_set(err, "%s: no answer in time", who);
	else if (rc < 0)
		err_set(err, "%s: no valid HTTP answer (malformed, too large, or cut)", who);
	return rc;
}

int up_read_head(struct up_conn *c, bool head_request, struct up_head *h, int64_t deadline,
                 const char *who, struct err *err)
{
	memset(h, 0, sizeof *h);
	for (;;) {
		int rc = read_one_head(c, h, deadline, who, err);
		if (rc < 0) {
			up_head_free(h);
			return rc;
		}
		if (h->status >= 200 || h->status == 101)
			break;
		up_head_free(h); /* 100 Continue, 103 Early Hints */
	}
	const char *te = up_head_get(h, "Transfer-Encoding");
	const char *cl = up_head_get(h, "Content-Length");
	c->body = UP_BODY_CLOSE;
	if (head_request || h->status == 204 || h->status == 304 || h->status < 200) {
		c->body = UP_BODY_NONE;
	} else if (te && strcasestr(te, "chunked")) {
		c->body = UP_BODY_CHUNKED;
		c->chunk_first = true;
	} else if (cl) {
		char *end = NULL;
		errno = 0;
		unsigned long long v = strtoull(cl, &end, 10);
		if (errno || end == cl || *trim(end) || *cl == '-') {
			err_set(err, "%s: Content-Length \"%.40s\" is not a number", who, cl);
			up_head_free(h);
			return UP_EBROKEN;
		}
		c->body = v ? UP_BODY_LENGTH : UP_BODY_NONE;
		c->left = v;
	}
	return 0;
}

/* Raw bytes of the stream: from rbuf, else a recv. */
static ssize_t raw_read(struct up_conn *c, char *out, size_t max, int idle_ms)
{
	if (c->roff == c->rlen) {
		c->roff = c->rlen = 0;
		ssize_t n = fill(c, mono_ms() + idle_ms);
		if (n <= 0)
			return n;
	}
	size_t k = c->rlen - c->roff < max ? c->rlen - c->roff : max;
	memcpy(out, c->rbuf + c->roff, k);
	c->roff += k;
	return (ssize_t)k;
}

/* The next chunk's size line (after the CRLF that ends the chunk before). */
static int chunk_start(struct up_conn *c, int idle_ms)
{
	struct buf line;
	buf_init(&line, 4096);
	char *l = NULL;
	int64_t deadline = mono_ms() + idle_ms;
	int rc = 0;
	if (!c->chunk_first) { /* the CRLF after the previous chunk's data */
		rc = read_line(c, &l, &line, deadline);
		if (rc == 0 && *l)
			rc = UP_EBROKEN;
		buf_reset(&line);
	}
	c->chunk_first = false;
	if (rc == 0)
		rc = read_line(c, &l, &line, deadline);
	if (rc == 0) {
		char *end = NULL;
		errno = 0;
		unsigned long long v = strtoull(l, &end, 16);
		if (errno || end == l || (*end && *end != ';' && *end != ' '))
			rc = UP_EBROKEN;
		c->left = v;
		if (rc == 0 && v == 0) { /* trailers, up to the empty line */
			c->chunk_done = true;
			do {
				buf_reset(&line);
				rc = read_line(c, &l, &line, deadline);
			} while (rc == 0 && *l);
		}
	}
	buf_free(&line);
	return rc;
}

ssize_t up_read_body(struct up_conn *c, char *out, size_t max, int idle_ms, const char *who,
                     struct err *err)
{
	ssize_t n = 0;
	switch (c->body) {
	case UP_BODY_NONE:
		return 0;
	case UP_BODY_CLOSE:
		n = raw_read(c, out, max, idle_ms);
		break;
	case UP_BODY_LENGTH:
		if (!c->left)
			return 0;
		n = raw_read(c, out, c->left < max ? (size_t)c->left : max, idle_ms);
		if (n == 0)
			n = UP_EBROKEN; /* closed before Content-Length bytes */
		if (n > 0)
			c->left -= (uint64_t)n;
		break;
	case UP_BODY_CHUNKED:
		if (!c->left && !c->chunk_done) {
			int rc = chunk_start(c, idle_ms);
			if (rc < 0) {
				n = rc;
				break;
			}
		}
		if (c->chunk_done)
			return 0;
		n = raw_read(c, out, c->left < max ? (size_t)c->left : max, idle_ms);
		if (n == 0)
			n = UP_EBROKEN;
		if (n > 0)
			c->left -= (uint64_t)n;
		break;
	}
	if (n == UP_ETIMEOUT)
		err_set(err, "%s: nothing more of the answer in %d ms", who, idle_ms);
	else if (n < 0)
		err_set(err, "%s: the answer was cut or malformed", who);
	return n;
}

void up_close(struct up_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
