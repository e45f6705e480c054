/*
 * fuzz_glob.c — libFuzzer driver for glob_match() (spec/glob.c, buildspec.md §6.2): the
 * artifact, cache and report patterns come from the buildspec. Any pattern and path
 * must give an answer quickly, without a crash or a leak, and the answers must agree
 * with properties of the semantics that are cheap to state:
 *
 *  - a pattern without `*?[\` matches exactly the paths equal to it once empty and
 *    `.` components are dropped on both sides (none if it is empty, absolute, has a
 *    `..` component or more than GLOB_LITERAL_MAX components);
 *  - the path with every character but `/` backslash-escaped, used as a pattern,
 *    matches the path under the same conditions;
 *  - `*` matches a path of one component, `**` (alone or followed by a `*`
 *    component) any non-empty path;
 *  - empty and `.` path components are ignored;
 *  - when P matches S, `**` + `/P` matches S and `q/S`, and `q/P` matches `q/S`.
 *
 * Input: pattern and path split at the first NUL byte or, when there is none, at the
 * first newline (so seeds can be text files); one trailing newline of the path is
 * dropped in that case.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Components a pattern may have (glob.c keeps one of its 64 slots for a trailing `**`). */
#define GLOB_LITERAL_MAX 63

/* `s` with empty and `.` components dropped, joined by '/'; *n counts them and
 * *dotdot says whether one is `..`. */
static char *normalize(const char *s, size_t *n, int *dotdot)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	*n = 0;
	*dotdot = 0;
	for (const char *q = s; *q;) {
		size_t len = strcspn(q, "/");
		if (len && !(len == 1 && q[0] == '.')) {
			if (*n)
				*o++ = '/';
			memcpy(o, q, len);
			o += len;
			++*n;
			*dotdot |= len == 2 && q[0] == '.' && q[1] == '.';
		}
		q += len + (q[len] == '/');
	}
	*o = '\0';
	return out;
}

/* Whether glob.c accepts a literal pattern `raw` with n components after normalizing. */
static int accepted(const char *raw, size_t n, int dotdot)
{
	return raw[0] != '\0' && raw[0] != '/' && !dotdot && n >= 1 && n <= GLOB_LITERAL_MAX;
}

static char *escape_all(const char *s)
{
	char *out = xmalloc(2 * strlen(s) + 1), *o = out;
	for (; *s; s++) {
		if (*s != '/')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static void expect(int got, int want)
{
	if (got != want)
		abort();
}

static void check(const char *pat, const char *path)
{
	int m = glob_match(pat, path);
	size_t pn, sn;
	int pdd, sdd;
	char *np = normalize(pat, &pn, &pdd), *ns = normalize(path, &sn, &sdd);

	if (!strpbrk(pat, "*?[\\"))
		expect(m, accepted(pat, pn, pdd) && !strcmp(np, ns));

	char *esc = escape_all(path);
	expect(glob_match(esc, path), accepted(path, sn, sdd));
	free(esc);

	expect(glob_match("*", path), sn == 1);
	expect(glob_match("**", path), sn >= 1);
	expect(glob_match("**/*", path), sn >= 1);

	char *dotted = xasprintf("./%s/./", path);
	expect(glob_match(pat, dotted), m);
	free(dotted);

	size_t slashes = 0;
	for (const char *q = pat; *q; q++)
		slashes += *q == '/';
	if (m && slashes < GLOB_LITERAL_MAX - 4) {
		char *any = xasprintf("**/%s", pat), *q_pat = xasprintf("q/%s", pat);
		char *q_path = xasprintf("q/%s", path);
		expect(glob_match(any, path), 1);
		expect(glob_match(any, q_path), 1);
		expect(glob_match(q_pat, q_path), 1);
		free(any);
		free(q_pat);
		free(q_path);
	}
	free(np);
	free(ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, '\0', size);
	int nl = 0;
	if (!sep) {
		sep = memchr(data, '\n', size);
		nl = 1;
	}
	size_t plen = sep ? (size_t)(sep - data) : size;
	char *pat = xstrndup((const char *)data, plen);
	char *path = sep ? xstrndup((const char *)sep + 1, size - plen - 1) : xstrdup("");
	size_t len = strlen(path);
	if (nl && len && path[len - 1] == '\n')
		path[len - 1] = '\0';
	check(pat, path);
	free(pat);
	free(path);
	return 0;
}
