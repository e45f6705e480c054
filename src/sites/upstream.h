/*
 * upstream.h — a minimal blocking HTTP/1.1 client for loopback peers, used on worker
 * threads of the edge: the reverse proxy's upstreams (edge_proxy.c) and the purge
 * targets of invalidations (purge.c). Not libcurl, so that the daemon never loads
 * libcurl for these (util/libcurl.h) and so that a response can be streamed back as it
 * arrives.
 *
 * One connection carries one request ("Connection: close" is the caller's to send).
 * Every wait has a deadline (poll(2)); a peer that says nothing in time is a timeout. A
 * connection can be cut from another thread with shutdown(2) on its fd (the waits then
 * end as UP_EBROKEN).
 *
 * Return codes: 0 (or a byte count), or one of the negative UP_E* below, with err saying
 * what happened and with whom.
 *
 * Ownership: a head's strings belong to it (up_head_free()).
 */
#ifndef FERRY_SITES_UPSTREAM_H
#define FERRY_SITES_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "util/err.h"

#define UP_HEAD_MAX    (64u << 10) /* bytes of a response head */
#define UP_HEADERS_MAX 100         /* header lines of a response head */
#define UP_RBUF        16384

#define UP_EBROKEN  (-1) /* reset, malformed answer, cut */
#define UP_ETIMEOUT (-2)
#define UP_EREFUSED (-3) /* connect(2) refused: nothing listens */

enum up_body { UP_BODY_NONE, UP_BODY_LENGTH, UP_BODY_CHUNKED, UP_BODY_CLOSE };

struct up_conn {
	int fd; /* -1: closed */
	char rbuf[UP_RBUF];
	size_t rlen, roff;
	enum up_body body;
	uint64_t left;    /* LENGTH: bytes left; CHUNKED: bytes left of the chunk */
	bool chunk_done;  /* CHUNKED: the last chunk was read */
	bool chunk_first; /* CHUNKED: no chunk read yet */
};

struct up_header {
	char *name, *value;
};

struct up_head {
	unsigned status;
	struct up_header *h;
	size_t n;
};

/* Connects (non-blocking, then waits up to timeout_ms). The fd is close-on-exec. */
FERRY_MUST_CHECK
int up_connect(struct up_conn *c, const struct sockaddr *sa, socklen_t salen, const char *who,
               int timeout_ms, struct err *err);
/* Sends all of data before deadline (mono_ms()). */
FERRY_MUST_CHECK
int up_send(struct up_conn *c, const void *data, size_t len, int64_t deadline, const char *who,
            struct err *err);
/* Reads the response head (1xx heads are skipped) before deadline and sets the framing of
 * the body (a HEAD request's answer, 1xx, 204 and 304 have none). */
FERRY_MUST_CHECK
int up_read_head(struct up_conn *c, bool head_request, struct up_head *h, int64_t deadline,
                 const char *who, struct err *err);
/* Up to max bytes of the (de-chunked) body; 0 at its end. Waits at most idle_ms for
 * bytes to come. */
ssize_t up_read_body(struct up_conn *c, char *out, size_t max, int idle_ms, const char *who,
                     struct err *err);
void up_close(struct up_conn *c);

/* The first value of a header (case ignored), or NULL. */
const char *up_head_get(const struct up_head *h, const char *name);
void up_head_free(struct up_head *h);

#endif
