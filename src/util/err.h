/*
 * err.h — how ferry reports failures: an int return plus a reason in a
 * caller-provided `struct err`.
 *
 * Invariants:
 *  - a function that fails returns -1 (or NULL) and has filled `err->msg` with
 *    one line that says where (file:line:col, field path, or path) and what;
 *  - `err` may be NULL when the caller does not want the reason;
 *  - err_set() never allocates and truncates overlong messages.
 */
#ifndef FERRY_ERR_H
#define FERRY_ERR_H

#include <stdarg.h>

#define FERRY_MUST_CHECK   __attribute__((warn_unused_result))
#define FERRY_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define ERR_MSG_MAX 1024

struct err {
	char msg[ERR_MSG_MAX];
};

/* Sets the message; always returns -1 so callers can `return err_set(...)`. */
FERRY_PRINTF(2, 3)
int err_set(struct err *err, const char *fmt, ...);

/* As err_set(), appending ": strerror(errno)" for the current errno. */
FERRY_PRINTF(2, 3)
int err_errno(struct err *err, const char *fmt, ...);

/* Prefixes the current message with "prefix: " (for adding context). */
FERRY_PRINTF(2, 3)
int err_prefix(struct err *err, const char *fmt, ...);

#endif
