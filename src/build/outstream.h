/*
 * outstream.h — turns the raw output of a build's processes into log lines, with
 * every secret value replaced by "***" before a line leaves (spec §2.1).
 *
 * Invariants:
 *  - a line is emitted only once it is complete (newline), when it grows past
 *    OUTSTREAM_LINE_MAX, or on outstream_flush();
 *  - masking happens on whole lines, so a secret split across reads is still masked;
 *    a multi-line secret is masked line by line (each of its lines is a pattern);
 *  - longer secrets are replaced first, so one that contains another is fully masked.
 *
 * Ownership: the stream copies the secrets it is given.
 */
#ifndef FERRY_OUTSTREAM_H
#define FERRY_OUTSTREAM_H

#include <stddef.h>

#include "util/logsink.h"

#define OUTSTREAM_LINE_MAX (64 << 10)

struct outstream; /* opaque */

struct outstream *outstream_new(const struct logsink *sink);
void outstream_free(struct outstream *o);

/* Adds a value to mask from now on (empty values are ignored). */
void outstream_add_secret(struct outstream *o, const char *value);

/* Raw bytes from the build's processes. */
void outstream_feed(struct outstream *o, const char *data, size_t len);

/* Emits a pending partial line. */
void outstream_flush(struct outstream *o);

/*
 * Emits what a quiet process left without a newline (a prompt, a progress dot), as
 * a line, except a tail that could be the start of a secret: that waits for more.
 */
void outstream_flush_partial(struct outstream *o);

/* Emits one whole line of ferry's own (masked too). */
void outstream_line(struct outstream *o, const char *line);

/* The masked lines emitted since the last call, at most OUTSTREAM_TAIL_MAX bytes
 * (the latest); the caller frees. Used to match on-failure RETRY patterns. */
#define OUTSTREAM_TAIL_MAX (64 << 10)
char *outstream_take_tail(struct outstream *o);

/* Returns a masked copy of `text` (caller frees). */
char *outstream_mask(const struct outstream *o, const char *text);

#endif
