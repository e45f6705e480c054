/* outstream.c — see outstream.h. */
#include "build/outstream.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct outstream {
	const struct logsink *sink;
	struct strv secrets; /* longest first */
	struct buf pending;
	struct buf tail; /* latest masked lines, for on-failure RETRY */
};

struct outstream *outstream_new(const struct logsink *sink)
{
	struct outstream *o = xcalloc(1, sizeof *o);
	o->sink = sink;
	buf_init(&o->pending, OUTSTREAM_LINE_MAX + 65536);
	buf_init(&o->tail, 2 * OUTSTREAM_TAIL_MAX + OUTSTREAM_LINE_MAX);
	return o;
}

void outstream_free(struct outstream *o)
{
	if (!o)
		return;
	outstream_flush(o);
	for (size_t i = 0; i < o->secrets.n; i++) /* wipe: these are secret values */
		memset(o->secrets.v[i], 0, strlen(o->secrets.v[i]));
	strv_free(&o->secrets);
	buf_free(&o->pending);
	buf_free(&o->tail);
	free(o);
}

static int by_length_desc(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

static void add_pattern(struct outstream *o, const char *s, size_t n)
{
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n == 0)
		return;
	char *p = xstrndup(s, n);
	if (strv_contains(&o->secrets, p)) {
		free(p);
		return;
	}
	strv_push_owned(&o->secrets, p);
	qsort(o->secrets.v, o->secrets.n, sizeof(char *), by_length_desc);
}

void outstream_add_secret(struct outstream *o, const char *value)
{
	if (!value || !*value)
		return;
	if (!strchr(value, '\n')) {
		add_pattern(o, value, strlen(value));
		return;
	}
	for (const char *p = value; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		add_pattern(o, p, n);
		p += n + (nl ? 1 : 0);
	}
}

char *outstream_mask(const struct outstream *o, const char *text)
{
	char *cur = xstrdup(text);
	for (size_t i = 0; i < o->secrets.n; i++) {
		const char *s = o->secrets.v[i];
		size_t sl = strlen(s);
		if (!strstr(cur, s))
			continue;
		struct buf b;
		buf_init(&b, (size_t)-1 / 2);
		const char *p = cur;
		for (const char *hit = strstr(p, s); hit; hit = strstr(p, s)) {
			if (buf_append(&b, p, (size_t)(hit - p)) < 0 || buf_puts(&b, "***") < 0)
				abort();
			p = hit + sl;
		}
		if (buf_puts(&b, p) < 0)
			abort();
		free(cur);
		cur = buf_detach(&b);
	}
	return cur;
}

static void keep_tail(struct outstream *o, const char *line)
{
	size_t n = strlen(line);
	if (n > OUTSTREAM_TAIL_MAX) {
		line += n - OUTSTREAM_TAIL_MAX;
		n = OUTSTREAM_TAIL_MAX;
	}
	if (o->tail.len + n + 1 > 2 * OUTSTREAM_TAIL_MAX)
		buf_consume(&o->tail, o->tail.len - OUTSTREAM_TAIL_MAX);
	if (buf_append(&o->tail, line, n) < 0 || buf_append(&o->tail, "\n", 1) < 0)
		abort(); /* cannot happen: bounded above */
}

char *outstream_take_tail(struct outstream *o)
{
	if (o->tail.len > OUTSTREAM_TAIL_MAX)
		buf_consume(&o->tail, o->tail.len - OUTSTREAM_TAIL_MAX);
	return buf_detach(&o->tail);
}

void outstream_line(struct outstream *o, const char *line)
{
	char *m = o->secrets.n ? outstream_mask(o, line) : NULL;
	keep_tail(o, m ? m : line);
	if (o->sink && o->sink->emit)
		o->sink->emit(o->sink->ctx, m ? m : line);
	free(m);
}

static void emit_n(struct outstream *o, const char *s, size_t n)
{
	char *line = xstrndup(s, n);
	outstream_line(o, line);
	free(line);
}

void outstream_feed(struct outstream *o, const char *data, size_t len)
{
	while (len) {
		size_t room = OUTSTREAM_LINE_MAX - o->pending.len;
		size_t take = len < room ? len : room;
		if (buf_append(&o->pending, data, take) < 0)
			abort(); /* cannot happen: bounded by OUTSTREAM_LINE_MAX */
		data += take;
		len -= take;
		const char *start = o->pending.data;
		const char *end = start + o->pending.len;
		const char *nl;
		while ((nl = memchr(start, '\n', (size_t)(end - start)))) {
			emit_n(o, start, (size_t)(nl - start));
			start = nl + 1;
		}
		buf_consume(&o->pending, (size_t)(start - o->pending.data));
		if (o->pending.len >= OUTSTREAM_LINE_MAX)
			outstream_flush(o);
	}
}

/* Length of the longest suffix of `text` that is a proper prefix of a secret. */
static size_t secret_prefix_suffix(const struct outstream *o, const char *text, size_t len)
{
	size_t best = 0;
	for (size_t i = 0; i < o->secrets.n; i++) {
		const char *s = o->secrets.v[i];
		size_t sl = strlen(s);
		for (size_t k = sl - 1 < len ? sl - 1 : len; k > best; k--) {
			if (!memcmp(text + len - k, s, k)) {
				best = k;
				break;
			}
		}
	}
	return best;
}

void outstream_flush_partial(struct outstream *o)
{
	if (o->pending.len == 0)
		return;
	if (o->secrets.n == 0) {
		outstream_flush(o);
		return;
	}
	/* complete secrets are masked first; only a possible start of one is held */
	char *masked = outstream_mask(o, o->pending.data);
	size_t len = strlen(masked);
	size_t hold = secret_prefix_suffix(o, masked, len);
	if (hold < len) {
		char *head = xstrndup(masked, len - hold);
		keep_tail(o, head);
		if (o->sink && o->sink->emit)
			o->sink->emit(o->sink->ctx, head);
		free(head);
		buf_reset(&o->pending);
		if (buf_append(&o->pending, masked + len - hold, hold) < 0)
			abort(); /* cannot happen: smaller than what was there */
	}
	free(masked);
}

void outstream_flush(struct outstream *o)
{
	if (o->pending.len == 0)
		return;
	emit_n(o, o->pending.data, o->pending.len);
	buf_reset(&o->pending);
}
