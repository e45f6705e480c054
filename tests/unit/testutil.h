/*
 * testutil.h — helpers shared by the cmocka unit tests: a fresh temporary
 * directory per test, and small file helpers that fail the test on error.
 * Include after <cmocka.h>'s prerequisites; every function is static.
 */
#ifndef FERRY_TESTUTIL_H
#define FERRY_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"

/* Makes a fresh directory under $TMPDIR (or /tmp); caller frees and removes. */
static inline char *tu_mkdtemp(void)
{
	const char *t = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/ferry-unit.XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(tmpl));
	char *real = realpath(tmpl, NULL);
	free(tmpl);
	assert_non_null(real);
	return real;
}

static inline void tu_rmdir(char *dir)
{
	struct err err;
	assert_int_equal(fs_rm_rf(dir, &err), 0);
	free(dir);
}

/* Writes `text` to dir/rel, creating parent directories. */
static inline void tu_write(const char *dir, const char *rel, const char *text)
{
	char *p = fs_join(dir, rel);
	char *slash = strrchr(p, '/');
	struct err err;
	*slash = '\0';
	assert_int_equal(fs_mkdir_p(p, 0755, &err), 0);
	*slash = '/';
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* Returns the contents of dir/rel (caller frees); fails the test when missing. */
static inline char *tu_read(const char *dir, const char *rel)
{
	char *p = fs_join(dir, rel);
	char *data = NULL;
	size_t len = 0;
	struct err err;
	int rc = fs_read_file(p, 1 << 24, &data, &len, &err);
	if (rc != 0)
		fail_msg("%s", err.msg);
	free(p);
	return data;
}

#endif
