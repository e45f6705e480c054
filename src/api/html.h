/*
 * html.h — an HTML builder for the pages the daemon renders (api/ui_*.c): trusted
 * markup is appended as is, everything else goes through an escaping call.
 *
 * Invariants:
 *  - html_text() and html_attr() escape & < > " ' (so a commit message holding
 *    "<script>" is shown as text, never run); attributes are always double-quoted;
 *  - html_url() percent-encodes a path segment or query value, so a name cannot
 *    break out of the URL it is put into;
 *  - a page never grows past its cap (HTML_PAGE_MAX): once an append would pass it the
 *    page is marked too_large and further appends are dropped, so a caller checks once
 *    at the end instead of after each append.
 *
 * Ownership: the builder owns its text; html_detach() hands it over (free()).
 */
#ifndef FERRY_API_HTML_H
#define FERRY_API_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define HTML_PAGE_MAX (16u << 20)

struct html {
	struct buf b;
	int too_large;
};

void html_init(struct html *h);
void html_free(struct html *h);
/* The text (never NULL); the builder is empty afterwards. */
char *html_detach(struct html *h, size_t *len);

/* Trusted markup, appended as is (literals of the page's own code). */
void html_raw(struct html *h, const char *markup);
void html_rawn(struct html *h, const char *markup, size_t n);
FERRY_PRINTF(2, 3) void html_rawf(struct html *h, const char *fmt, ...);
/* Text, escaped; NULL appends nothing. */
void html_text(struct html *h, const char *text);
void html_textn(struct html *h, const char *text, size_t n);
FERRY_PRINTF(2, 3) void html_textf(struct html *h, const char *fmt, ...);
/* ` name="value"`, value escaped; NULL value: nothing. */
void html_attr(struct html *h, const char *name, const char *value);
FERRY_PRINTF(3, 4) void html_attrf(struct html *h, const char *name, const char *fmt, ...);
/* Percent-encodes `s` for a path segment or query value (unreserved characters kept). */
void html_url(struct html *h, const char *s);

/* Escapes text into `out` (for code that builds with a struct buf); -1 past its cap. */
FERRY_MUST_CHECK int html_escape(struct buf *out, const char *text, size_t n);

#endif
