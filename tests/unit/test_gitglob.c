/* Unit tests for spec/gitglob: the globs of CodePipeline trigger filters
 * (../shared/spec/pipeline.md §1.7, checklist 35 and 38). */
#include "testutil.h"

#include "spec/gitglob.h"

static void yes(const char *pattern, const char *s)
{
	if (!gitglob_match(pattern, s))
		fail_msg("\"%s\" should match \"%s\"", pattern, s);
}

static void no(const char *pattern, const char *s)
{
	if (gitglob_match(pattern, s))
		fail_msg("\"%s\" should not match \"%s\"", pattern, s);
}

/* The compile error of an invalid pattern (static storage). */
static const char *bad(const char *pattern)
{
	static struct err err;
	struct gitglob *g = NULL;
	if (gitglob_compile(pattern, &g, &err) == 0) {
		gitglob_free(g);
		fail_msg("\"%s\" should not compile", pattern);
	}
	assert_null(g);
	return err.msg;
}

/* Every example of spec §1.7 and checklist 38. */
static void test_spec_examples(void **state)
{
	(void)state;
	yes("*.java", "Main.java");
	no("*.java", "src/Main.java");
	yes("*.{java,class}", "Main.class");
	yes("*.{java,class}", "Main.java");
	no("*.{java,class}", "Main.jar");
	yes("foo.?", "foo.c");
	no("foo.?", "foo.cc");
	no("foo.?", "foo.");
	yes("src/**/*.c", "src/lib/a.c");
	yes("src/**/*.c", "src/lib/deep/a.c");
	yes("release-v*", "release-v1.2");
	no("release-v*", "release-v1/x");
	yes("feature/**", "feature/login/form");
	yes("*.{js,ts}", "a.ts");
	no("dir/*", "dir/x/y");
	yes("dir/*", "dir/x");
	yes("dir/**", "dir/x/y");
	yes("[!a]x", "bx");
	no("[!a]x", "ax");
}

/* `*` stays inside one segment; `**` crosses `/`, anywhere it stands (Java NIO). */
static void test_star_and_double_star(void **state)
{
	(void)state;
	yes("**", "");
	yes("**", "any/path/at/all");
	yes("*", "");
	no("*", "a/b");
	yes("src/**.c", "src/a.c");
	yes("src/**.c", "src/x/y/a.c");
	/* "src/ ** / *.c" needs a directory between src and the file, as in Java */
	no("src/**/*.c", "src/a.c");
	no("dir/**", "dir");
	yes("a*b*c", "aXbYc");
	no("a*b*c", "aXb/Yc");
	yes("***", "a/b");
}

/* `?` is one character, never `/`, and one code point for non-ASCII text. */
static void test_question_mark(void **state)
{
	(void)state;
	no("a?b", "a/b");
	yes("caf?", "café");
	no("caf??", "café");
	yes("?", "\xff"); /* a byte that is not UTF-8 is one character */
}

/* Classes: ranges, `!`, plain `-` first or last, `^` plain, never `/`. */
static void test_classes(void **state)
{
	(void)state;
	yes("[abc]", "b");
	no("[abc]", "d");
	yes("[a-z]x", "qx");
	no("[a-z]x", "Qx");
	yes("[!a-c]", "d");
	no("[!a-c]", "b");
	no("[!a-c]", "/");
	yes("[-a]", "-");
	yes("[!-a]", "b");
	no("[!-a]", "-");
	yes("[a-]", "-");
	yes("[^a]", "^"); /* only `!` negates */
	yes("[^a]", "a");
	yes("[*?\\]", "*");
	yes("[*?\\]", "\\");
	yes("[[]", "[");
	yes("[é-ë]", "ê");
	yes("v[0-9].[0-9]", "v1.2");
}

/* Groups: alternatives may hold wildcards; `,` and `}` are plain outside a group. */
static void test_groups(void **state)
{
	(void)state;
	yes("{main,release/*}", "release/1.0");
	no("{main,release/*}", "release/1.0/x");
	yes("{,pre-}release", "release");
	yes("{,pre-}release", "pre-release");
	yes("{}x", "x");
	yes("a,b", "a,b");
	yes("a}", "a}");
	yes("{a,b}{c,d}{e,f}", "bcf");
	no("{a,b}{c,d}{e,f}", "bce1");
}

/* `\` makes the next character plain. */
static void test_escapes(void **state)
{
	(void)state;
	yes("\\*", "*");
	no("\\*", "a");
	yes("a\\{b", "a{b");
	yes("\\[x]", "[x]");
	yes("\\\\", "\\");
}

/* Whole-string, case-sensitive matching. */
static void test_anchored_and_case_sensitive(void **state)
{
	(void)state;
	no("main", "main2");
	no("main", "xmain");
	no("Main", "main");
	yes("", "");
	no("", "a");
}

/* Invalid patterns are refused with a position. */
static void test_invalid_patterns(void **state)
{
	(void)state;
	assert_string_equal(bad("release/[0-9"), "position 9: unclosed \"[\"");
	assert_string_equal(bad("{a,{b}}"),
	                    "position 4: \"{\" inside \"{...}\" (groups do not nest)");
	assert_string_equal(bad("src/{a,b"), "position 5: unclosed \"{\"");
	assert_string_equal(bad("a\\"), "position 2: \"\\\" at the end escapes nothing");
	assert_string_equal(bad("[a/b]"),
	                    "position 3: \"/\" inside \"[...]\" (a class matches one character of "
	                    "a name)");
	assert_string_equal(bad("[z-a]"), "position 3: the range ends before it starts");
	assert_string_equal(bad("[a-c-e]"), "position 5: \"-\" with no start of a range");
	assert_string_equal(bad("[]"), "position 1: empty \"[]\" matches nothing");
	assert_string_equal(bad("[!]"), "position 1: empty \"[]\" matches nothing");
	char longp[GITGLOB_PATTERN_MAX + 2];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	assert_string_equal(bad(longp), "longer than 255 bytes (GITGLOB_PATTERN_MAX)");
	/* an invalid pattern matches nothing */
	no("release/[0-9", "release/[0-9");
}

/* A compiled pattern is reusable and matches in linear time: many stars against a long
 * near-miss would take exponential time with backtracking (this test would hang). */
static void test_no_backtracking_blowup(void **state)
{
	(void)state;
	const char *pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
	char subject[4097];
	memset(subject, 'a', sizeof subject - 1);
	subject[sizeof subject - 1] = '\0';
	struct gitglob *g;
	struct err err;
	assert_int_equal(gitglob_compile(pattern, &g, &err), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(gitglob_exec(g, subject), 0);
	subject[sizeof subject - 2] = 'b';
	assert_int_equal(gitglob_exec(g, subject), 1);
	gitglob_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_spec_examples),
	        cmocka_unit_test(test_star_and_double_star),
	        cmocka_unit_test(test_question_mark),
	        cmocka_unit_test(test_classes),
	        cmocka_unit_test(test_groups),
	        cmocka_unit_test(test_escapes),
	        cmocka_unit_test(test_anchored_and_case_sensitive),
	        cmocka_unit_test(test_invalid_patterns),
	        cmocka_unit_test(test_no_backtracking_blowup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
