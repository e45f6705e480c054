/* Unit tests for util/buf and util/fs: the capped buffer and path helpers. */
#include "testutil.h"

/* A buffer refuses to grow past its cap and keeps what it had. */
static void test_buf_cap_refuses_and_keeps_content(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345"), 0);
	assert_int_equal(buf_puts(&b, "6789"), -1);
	assert_string_equal(b.data, "12345");
	assert_int_equal(buf_puts(&b, "678"), 0);
	assert_string_equal(b.data, "12345678");
	buf_free(&b);
}

/* Shell quoting survives single quotes (used to hand values to the build shell). */
static void test_shell_quote_escapes_single_quotes(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(buf_shell_quote(&b, "it's"), 0);
	assert_string_equal(b.data, "'it'\\''s'");
	buf_free(&b);
}

/* Containment is by whole path components: /a/bc is not inside /a/b. */
static void test_is_within_by_component(void **state)
{
	(void)state;
	assert_true(fs_is_within("/a/b", "/a/b"));
	assert_true(fs_is_within("/a/b", "/a/b/c"));
	assert_false(fs_is_within("/a/b", "/a/bc"));
	assert_false(fs_is_within("/a/b", "/a"));
	assert_true(fs_is_within("/", "/x"));
}

/* An atomic write replaces the file and leaves no temporary behind. */
static void test_write_atomic_replaces(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	char *p = fs_join(d, "f.txt");
	struct err err;
	assert_int_equal(fs_write_atomic(p, "one", 3, 0644, &err), 0);
	assert_int_equal(fs_write_atomic(p, "two", 3, 0600, &err), 0);
	char *c = tu_read(d, "f.txt");
	assert_string_equal(c, "two");
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(c);
	free(p);
	tu_rmdir(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_buf_cap_refuses_and_keeps_content),
	        cmocka_unit_test(test_shell_quote_escapes_single_quotes),
	        cmocka_unit_test(test_is_within_by_component),
	        cmocka_unit_test(test_write_atomic_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
