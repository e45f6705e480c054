/*
 * buf.h — growable byte buffers with a hard cap, and string vectors.
 *
 * Invariants:
 *  - `data` is always NUL-terminated when non-NULL (the NUL is not counted in `len`);
 *  - a buffer never grows past `max` bytes; an append that would is refused with
 *    -1 and the buffer is left as it was (callers name the cap in their error);
 *  - a zeroed `struct buf` is not usable: start with buf_init().
 *
 * Ownership: the buffer owns `data`; buf_detach() hands it to the caller (free()).
 * A `struct strv` owns its strings and its array; strv_free() releases both.
 */
#ifndef FERRY_BUF_H
#define FERRY_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util/err.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps the memory */
FERRY_MUST_CHECK int buf_append(struct buf *b, const void *data, size_t len);
FERRY_MUST_CHECK int buf_puts(struct buf *b, const char *s);
FERRY_MUST_CHECK FERRY_PRINTF(2, 3) int buf_printf(struct buf *b, const char *fmt, ...);
FERRY_MUST_CHECK int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Returns the NUL-terminated contents (never NULL) and resets the buffer. */
char *buf_detach(struct buf *b);

/* Appends `s` as one single-quoted shell word ('it'\''s'). */
FERRY_MUST_CHECK int buf_shell_quote(struct buf *b, const char *s);

struct strv {
	char **v; /* NULL-terminated */
	size_t n;
	size_t cap;
};

#define STRV_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Appends a copy of s (aborts on out-of-memory, like every allocation here). */
void strv_push(struct strv *sv, const char *s);
void strv_pushf(struct strv *sv, const char *fmt, ...) FERRY_PRINTF(2, 3);
/* Takes ownership of s. */
void strv_push_owned(struct strv *sv, char *s);
int strv_contains(const struct strv *sv, const char *s);
void strv_sort(struct strv *sv);
void strv_free(struct strv *sv);

/* Grows an array being filled one element at a time: call before storing element
 * `n` (0-based); capacity doubles from 4, so appends are amortised O(1). */
void *xgrow(void *arr, size_t n, size_t elem);

/* Allocation helpers that abort with a message on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) FERRY_PRINTF(1, 2);

#endif
