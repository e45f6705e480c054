/*
 * test_zipdir.c — a directory zipped by util/zipdir.h (functions' code, `ferry site
 * deploy DIR`, `ferry deploy push DIR`): scripts keep their execute bit once
 * unzipped, the same files give the same bytes, links are refused or left out.
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "util/zipdir.h"
#include "util/zipsafe.h"

static int setup(void **state)
{
	*state = tu_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	tu_rmdir(*state);
	return 0;
}

/* A tree with an executable hook script, a plain file and a nested one. */
static char *make_tree(const char *tmp)
{
	char *src = fs_join(tmp, "src");
	tu_write(src, "scripts/start.sh", "#!/bin/sh\necho started\n");
	tu_write(src, "index.html", "<h1>hi</h1>\n");
	tu_write(src, "a/b/c.txt", "deep\n");
	char *sh = fs_join(src, "scripts/start.sh");
	assert_int_equal(chmod(sh, 0700), 0);
	free(sh);
	return src;
}

static mode_t mode_of(const char *dir, const char *rel)
{
	char *p = fs_join(dir, rel);
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	free(p);
	return sb.st_mode & 07777;
}

/* A deployment's hook script is still executable once its zipped directory is
 * written out; other files are 0644. */
static void test_zipped_directory_keeps_a_scripts_execute_bit(void **state)
{
	const char *tmp = *state;
	char *src = make_tree(tmp);
	char *zip = fs_join(tmp, "bundle.zip");
	long n = 0;
	struct err err;
	assert_int_equal(zipdir_write(src, zip, ZIPDIR_KEEP_MTIME | ZIPDIR_SKIP_LINKS, &n, &err),
	                 0);
	assert_int_equal(n, 3);
	char *out = fs_join(tmp, "out");
	assert_int_equal(fs_mkdir_p(out, 0755, &err), 0);
	const struct zipsafe_opts o = {.noun = "test",
	                               .outcome = "nothing written",
	                               .entries_max = 100,
	                               .bytes_max = 1 << 20,
	                               .keep_exec = 1};
	long entries;
	int64_t bytes;
	assert_int_equal(zipsafe_check(zip, &o, &entries, &bytes, &err), 0);
	assert_int_equal(zipsafe_extract(zip, out, &o, &err), 0);
	assert_int_equal(mode_of(out, "scripts/start.sh"), 0755);
	assert_int_equal(mode_of(out, "index.html"), 0644);
	char *deep = tu_read(out, "a/b/c.txt");
	assert_string_equal(deep, "deep\n");
	free(deep);
	free(out);
	free(zip);
	free(src);
}

static char *zip_bytes(const char *src, const char *zip, unsigned flags, size_t *len)
{
	struct err err;
	assert_int_equal(zipdir_write(src, zip, flags, NULL, &err), 0);
	char *data = NULL;
	assert_int_equal(fs_read_file(zip, 1 << 20, &data, len, &err), 0);
	return data;
}

/* Without ZIPDIR_KEEP_MTIME the same files zip to the same bytes, whatever their
 * mtimes and exact modes (a function's CodeSha256 stays put). */
static void test_same_files_zip_to_the_same_bytes(void **state)
{
	const char *tmp = *state;
	char *src = make_tree(tmp);
	char *zip = fs_join(tmp, "a.zip");
	size_t la, lb;
	char *a = zip_bytes(src, zip, 0, &la);
	char *p = fs_join(src, "index.html");
	struct timespec old[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	assert_int_equal(chmod(p, 0600), 0);
	free(p);
	char *b = zip_bytes(src, zip, 0, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	free(zip);
	free(src);
}

/* A symbolic link is refused, named, unless links are to be left out. */
static void test_symbolic_link_refused_or_left_out(void **state)
{
	const char *tmp = *state;
	char *src = make_tree(tmp);
	char *link = fs_join(src, "passwd");
	assert_int_equal(symlink("/etc/passwd", link), 0);
	char *zip = fs_join(tmp, "l.zip");
	struct err err;
	assert_int_equal(zipdir_write(src, zip, 0, NULL, &err), -1);
	assert_non_null(strstr(err.msg, link));
	assert_non_null(strstr(err.msg, "symbolic link"));
	long n = 0;
	assert_int_equal(zipdir_write(src, zip, ZIPDIR_SKIP_LINKS, &n, &err), 0);
	assert_int_equal(n, 3);
	free(zip);
	free(link);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_zipped_directory_keeps_a_scripts_execute_bit,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_same_files_zip_to_the_same_bytes, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_symbolic_link_refused_or_left_out, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
