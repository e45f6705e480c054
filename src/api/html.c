/*
 * html.c — the escaping HTML builder (html.h).
 */
#include "api/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void html_init(struct html *h)
{
	buf_init(&h->b, HTML_PAGE_MAX);
	h->too_large = 0;
}

void html_free(struct html *h)
{
	buf_free(&h->b);
}

char *html_detach(struct html *h, size_t *len)
{
	if (len)
		*len = h->b.len;
	return buf_detach(&h->b);
}

void html_rawn(struct html *h, const char *markup, size_t n)
{
	if (!h->too_large && buf_append(&h->b, markup, n) < 0)
		h->too_large = 1;
}

void html_raw(struct html *h, const char *markup)
{
	html_rawn(h, markup, strlen(markup));
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return s;
}

void html_rawf(struct html *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	html_raw(h, s);
	free(s);
}

int html_escape(struct buf *out, const char *text, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;
		switch (text[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		case '\0':
			rep = "\xef\xbf\xbd"; /* U+FFFD: a NUL is not allowed in HTML text */
			break;
		default:
			continue;
		}
		if (buf_append(out, text + from, i - from) < 0 || buf_puts(out, rep) < 0)
			return -1;
		from = i + 1;
	}
	return buf_append(out, text + from, n - from);
}

void html_textn(struct html *h, const char *text, size_t n)
{
	if (!text || h->too_large)
		return;
	if (html_escape(&h->b, text, n) < 0)
		h->too_large = 1;
}

void html_text(struct html *h, const char *text)
{
	if (text)
		html_textn(h, text, strlen(text));
}

void html_textf(struct html *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	html_text(h, s);
	free(s);
}

void html_attr(struct html *h, const char *name, const char *value)
{
	if (!value)
		return;
	html_raw(h, " ");
	html_raw(h, name);
	html_raw(h, "=\"");
	html_text(h, value);
	html_raw(h, "\"");
}

void html_attrf(struct html *h, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	html_attr(h, name, s);
	free(s);
}

void html_url(struct html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		char c[3];
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			html_rawn(h, (const char *)p, 1);
			continue;
		}
		c[0] = '%';
		c[1] = hex[*p >> 4];
		c[2] = hex[*p & 15];
		html_rawn(h, c, 3);
	}
}
