/*
 * ui_ansi.c — terminal output to HTML for the live log panes: SGR colours (the 16
 * basic ones, and the first 16 of the 256-colour palette) and bold/faint/italic/
 * underline become <span class="fgN bgN bold …">; every other escape sequence and
 * control character is dropped; all text is escaped. A byte-by-byte state machine, so
 * a sequence split between two reads of the log is understood.
 */
#include "api/ui_int.h"

#include <string.h>

void ui_ansi_init(struct ui_ansi *a)
{
	memset(a, 0, sizeof *a);
	a->fg = a->bg = -1;
}

static int styled(const struct ui_ansi *a)
{
	return a->fg >= 0 || a->bg >= 0 || a->bold || a->faint || a->italic || a->underline;
}

static int close_span(struct ui_ansi *a, struct buf *out)
{
	if (!a->open)
		return 0;
	a->open = 0;
	return buf_puts(out, "</span>");
}

static int open_span(struct ui_ansi *a, struct buf *out)
{
	if (a->open || !styled(a))
		return 0;
	a->open = 1;
	char cls[96];
	size_t n = 0;
	cls[0] = '\0';
#define ADD(...) n += (size_t)snprintf(cls + n, sizeof cls - n, __VA_ARGS__)
	if (a->fg >= 0)
		ADD(" fg%d", a->fg);
	if (a->bg >= 0)
		ADD(" bg%d", a->bg);
	if (a->bold)
		ADD(" bold");
	if (a->faint)
		ADD(" faint");
	if (a->italic)
		ADD(" italic");
	if (a->underline)
		ADD(" uline");
#undef ADD
	return buf_printf(out, "<span class=\"%s\">", cls + 1);
}

/* Applies "1;31" and the like (empty: reset). */
static void sgr(struct ui_ansi *a)
{
	long v[16];
	size_t nv = 0;
	const char *p = a->params;
	for (;;) {
		long x = 0;
		while (*p >= '0' && *p <= '9') {
			if (x < 100000)
				x = x * 10 + (*p - '0');
			p++;
		}
		if (nv < 16)
			v[nv++] = x;
		if (*p != ';' && *p != ':')
			break;
		p++;
	}
	for (size_t i = 0; i < nv; i++) {
		long c = v[i];
		if (c == 0) {
			int open = a->open;
			ui_ansi_init(a);
			a->open = open;
		} else if (c == 1) {
			a->bold = 1;
		} else if (c == 2) {
			a->faint = 1;
		} else if (c == 3) {
			a->italic = 1;
		} else if (c == 4) {
			a->underline = 1;
		} else if (c == 22) {
			a->bold = a->faint = 0;
		} else if (c == 23) {
			a->italic = 0;
		} else if (c == 24) {
			a->underline = 0;
		} else if (c >= 30 && c <= 37) {
			a->fg = (int)(c - 30);
		} else if (c == 39) {
			a->fg = -1;
		} else if (c >= 40 && c <= 47) {
			a->bg = (int)(c - 40);
		} else if (c == 49) {
			a->bg = -1;
		} else if (c >= 90 && c <= 97) {
			a->fg = (int)(c - 90 + 8);
		} else if (c >= 100 && c <= 107) {
			a->bg = (int)(c - 100 + 8);
		} else if ((c == 38 || c == 48) && i + 1 < nv) {
			/* 38;5;N (palette) or 38;2;R;G;B (true colour: not shown) */
			int *slot = c == 38 ? &a->fg : &a->bg;
			if (v[i + 1] == 5 && i + 2 < nv) {
				if (v[i + 2] < 16)
					*slot = (int)v[i + 2];
				i += 2;
			} else if (v[i + 1] == 2) {
				i += 4;
			} else {
				i += 1;
			}
		}
	}
}

int ui_ansi_feed(struct ui_ansi *a, const char *in, size_t n, struct buf *out)
{
	size_t run = 0; /* start of plain text not yet written */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (a->esc == 0) {
			if (c >= 0x20 || c == '\n' || c == '\t')
				continue;
			/* a control byte: write the text before it */
			if (i > run &&
			    (open_span(a, out) < 0 || html_escape(out, in + run, i - run) < 0))
				return -1;
			run = i + 1;
			if (c == 0x1b)
				a->esc = 1;
			continue;
		}
		run = i + 1;
		if (a->esc == 1) {
			a->esc = c == '[' ? 2 : c == ']' ? 3 : 0;
			a->nparams = 0;
			a->params[0] = '\0';
		} else if (a->esc == 2) {
			if (c >= 0x30 && c <= 0x3f) {
				if (a->nparams + 1 < sizeof a->params) {
					a->params[a->nparams++] = (char)c;
					a->params[a->nparams] = '\0';
				}
			} else if (c >= 0x40 && c <= 0x7e) {
				a->esc = 0;
				if (c == 'm') {
					if (close_span(a, out) < 0)
						return -1;
					sgr(a);
				}
			} else if (c < 0x20 || c > 0x7e) {
				a->esc = 0; /* not a sequence after all */
			}
		} else if (a->esc == 3) { /* OSC: up to BEL or ESC \ */
			if (c == 0x07)
				a->esc = 0;
			else if (c == 0x1b)
				a->esc = 4;
		} else {
			a->esc = 0;
		}
	}
	if (a->esc == 0 && n > run &&
	    (open_span(a, out) < 0 || html_escape(out, in + run, n - run) < 0))
		return -1;
	return 0;
}

int ui_ansi_end(struct ui_ansi *a, struct buf *out)
{
	return close_span(a, out);
}
