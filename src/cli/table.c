/*
 * table.c — what the client commands print for people: aligned tables, times and
 * durations from the API's epoch seconds, indented JSON.
 */
#include "cli/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/output.h"

void cli_table_init(struct cli_table *t, size_t ncols)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
}

void cli_table_row(struct cli_table *t, const char *const *cells)
{
	for (size_t i = 0; i < t->ncols; i++)
		strv_push(&t->cells, cells[i] ? cells[i] : "-");
}

/* Characters of a UTF-8 string (continuation bytes do not count). */
static size_t width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

char *cli_table_render(const struct cli_table *t)
{
	struct buf b;
	buf_init(&b, CLI_TEXT_MAX);
	size_t nrows = t->ncols ? t->cells.n / t->ncols : 0;
	size_t *w = xcalloc(t->ncols ? t->ncols : 1, sizeof *w);
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t n = width(t->cells.v[r * t->ncols + c]);
			w[c] = n > w[c] ? n : w[c];
		}
	for (size_t r = 0; r < nrows; r++) {
		size_t line_start = b.len;
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells.v[r * t->ncols + c];
			if (buf_puts(&b, cell) < 0)
				abort();
			if (c + 1 == t->ncols)
				break;
			for (size_t k = width(cell); k < w[c] + 2; k++)
				if (buf_append(&b, " ", 1) < 0)
					abort();
		}
		while (b.len > line_start && b.data[b.len - 1] == ' ')
			b.len--;
		if (buf_append(&b, "\n", 1) < 0)
			abort();
	}
	free(w);
	return buf_detach(&b);
}

void cli_table_print(const struct cli_table *t)
{
	char *s = cli_table_render(t);
	fputs(s, stdout);
	free(s);
}

void cli_table_free(struct cli_table *t)
{
	strv_free(&t->cells);
}

void cli_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		free(s);
	}
}

const char *cli_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

void cli_time(const json_t *seconds, char *out, size_t n)
{
	if (!json_is_number(seconds)) {
		snprintf(out, n, "-");
		return;
	}
	time_t t = (time_t)json_number_value(seconds);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, n, "-");
}

void cli_elapsed(const json_t *from, const json_t *to, char *out, size_t n)
{
	if (!json_is_number(from) || !json_is_number(to)) {
		snprintf(out, n, "-");
		return;
	}
	double d = json_number_value(to) - json_number_value(from);
	cli_duration(d > 0 ? (int64_t)(d * 1000.0 + 0.5) : 0, out, n);
}
