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

#include <limits.h>
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

/* <repo>/tests/unit/data: $FERRY_TEST_DATA, else found from the binary
 * (<repo>/build/san/tests/test_x) or the working directory (the repo, or tests/out
 * where tests/run.sh runs the tests); `probe` is a file that must be there. */
static inline char *tu_data_dir(const char *probe)
{
	const char *env = getenv("FERRY_TEST_DATA");
	if (env && *env)
		return xstrdup(env);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
	}
	char *candidates[] = {fs_join(exe, "tests/unit/data"), xstrdup("tests/unit/data"),
	                      xstrdup("../unit/data")};
	char *found = NULL;
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
		char *p = fs_join(candidates[i], probe);
		if (!found && access(p, R_OK) == 0)
			found = xstrdup(candidates[i]);
		free(p);
		free(candidates[i]);
	}
	if (!found)
		fail_msg("tests/unit/data not found: run from the repository or set "
		         "FERRY_TEST_DATA");
	return found;
}

#endif
