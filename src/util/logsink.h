/*
 * logsink.h — where a module sends the lines it wants a user to read.
 *
 * A module that reports progress takes a `const struct logsink *` (NULL: silent)
 * and calls logsink_printf(); the owner decides prefixes, masking and destination.
 * Lines are passed without a trailing newline.
 */
#ifndef FERRY_LOGSINK_H
#define FERRY_LOGSINK_H

#include "util/err.h"

struct logsink {
	void (*emit)(void *ctx, const char *line);
	void *ctx;
};

FERRY_PRINTF(2, 3)
void logsink_printf(const struct logsink *sink, const char *fmt, ...);

#endif
