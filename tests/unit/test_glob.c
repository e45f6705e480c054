/* Unit tests for spec/glob: CodeBuild's path patterns (buildspec.md §6.2). */
#include "testutil.h"

#include <errno.h>
#include <time.h>
#include <sys/wait.h>

#include "spec/glob.h"

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE      ((const char *const *)NULL)

static void strv_from(struct strv *sv, const char *const *items)
{
	*sv = (struct strv)STRV_INIT;
	for (; items && *items; items++)
		strv_push(sv, *items);
}

static char *joined(const struct strv *sv)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < sv->n; i++)
		assert_int_equal(buf_printf(&b, "%s%s", i ? " " : "", sv->v[i]), 0);
	return buf_detach(&b);
}

/* Expands and returns the paths space-separated; `r` keeps the full result. */
static char *expand_into(const char *root, const char *const *pats, const char *const *excl,
                         unsigned flags, struct glob_result *r)
{
	struct strv p, e;
	struct err err;
	strv_from(&p, pats);
	strv_from(&e, excl);
	int rc = glob_expand(root, &p, &e, flags, r, &err);
	if (rc != 0)
		fail_msg("glob_expand: %s", err.msg);
	strv_free(&p);
	strv_free(&e);
	return joined(&r->paths);
}

static void assert_expands(const char *root, const char *const *pats, const char *const *excl,
                           const char *want)
{
	struct glob_result r;
	char *got = expand_into(root, pats, excl, 0, &r);
	assert_string_equal(got, want);
	free(got);
	glob_result_free(&r);
}

static int has_warning(const struct glob_result *r, const char *part)
{
	for (size_t i = 0; i < r->warnings.n; i++)
		if (strstr(r->warnings.v[i], part))
			return 1;
	return 0;
}

static void mklink(const char *dir, const char *target, const char *rel)
{
	char *p = fs_join(dir, rel);
	if (symlink(target, p) != 0)
		fail_msg("symlink %s -> %s: %s", p, target, strerror(errno));
	free(p);
}

/* The source tree of buildspec.md §6.3. */
static int setup_tree(void **state)
{
	char *d = tu_mkdtemp();
	tu_write(d, "README.md", "readme\n");
	tu_write(d, ".env", "X=1\n");
	tu_write(d, "src/app.c", "int main;\n");
	tu_write(d, "build/app", "ELF\n");
	tu_write(d, "build/.hidden", "h\n");
	tu_write(d, "build/lib/libx.so", "so\n");
	tu_write(d, "docs/guide/index.html", "<html>\n");
	*state = d;
	return 0;
}

static int teardown_tree(void **state)
{
	tu_rmdir(*state);
	return 0;
}

/* ---- glob_match ---- */

/* §6.2 rule 1: `*` stays within one component; `?` is one character. */
static void test_match_star_within_component(void **state)
{
	(void)state;
	assert_true(glob_match("*.c", "app.c"));
	assert_false(glob_match("*.c", "src/app.c"));
	assert_true(glob_match("src/*.c", "src/app.c"));
	assert_true(glob_match("src/ap?.c", "src/app.c"));
	assert_false(glob_match("src/ap?.c", "src/ap.c"));
	assert_true(glob_match("*", "a"));
}

/* §6.2 rule 1: character classes, ranges and negation. */
static void test_match_classes(void **state)
{
	(void)state;
	assert_true(glob_match("file[0-9].txt", "file7.txt"));
	assert_false(glob_match("file[0-9].txt", "filex.txt"));
	assert_true(glob_match("file[!0-9].txt", "filex.txt"));
	assert_false(glob_match("file[!0-9].txt", "file1.txt"));
	assert_true(glob_match("[]x]", "]"));
	assert_true(glob_match("a[", "a[")); /* an unclosed [ is literal */
	assert_true(glob_match("\\*", "*"));
	assert_false(glob_match("\\*", "x"));
}

/* §6.2 rule 2: `**` is zero or more directories, so `**` + `*` includes top-level files. */
static void test_match_doublestar_zero_or_more(void **state)
{
	(void)state;
	assert_true(glob_match("**/*", "README.md"));
	assert_true(glob_match("**/*", "docs/guide/index.html"));
	assert_true(glob_match("a/**/b", "a/b"));
	assert_true(glob_match("a/**/b", "a/x/y/b"));
	assert_false(glob_match("a/**/b", "a/x/y/c"));
	assert_true(glob_match("**/x/**/*", "p/x/q/r"));
	assert_true(glob_match("dir/**", "dir/a/b")); /* trailing ** = everything below */
	assert_false(glob_match("dir/**", "other/a"));
}

/* §6.2 rule 3: leading dots are not special (AWS documents `**` + `/.*` exclusions). */
static void test_match_leading_dots_not_special(void **state)
{
	(void)state;
	assert_true(glob_match("*", ".env"));
	assert_true(glob_match("**/*", "build/.hidden"));
	assert_true(glob_match("**/.*", ".env"));
	assert_true(glob_match("**/.*", "build/.hidden"));
	assert_false(glob_match("**/.*", "build/app"));
	assert_true(glob_match("**/.*/**/*", ".git/objects/ab"));
}

/* Patterns with `..` or absolute paths never match anything. */
static void test_match_refuses_escapes(void **state)
{
	(void)state;
	assert_false(glob_match("../x", "x"));
	assert_false(glob_match("/etc/passwd", "etc/passwd"));
	assert_false(glob_match("", ""));
	assert_true(glob_match("./build/app", "build/app"));
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Found with fuzz_glob (an input past its -timeout): an unclosed '[' is literal, but
 * each one was scanned to the end of the component again at every try of a `*`, so
 * `*` + 1500 of them took seconds against a 3000-character name (cubic time); now it
 * is well within a second. */
static void test_match_unclosed_brackets_fast(void **state)
{
	(void)state;
	char pat[1503], name[3001];
	pat[0] = '*';
	memset(pat + 1, '[', 1500);
	strcpy(pat + 1501, "x");
	memset(name, '[', 3000);
	name[3000] = '\0';
	double t0 = now();
	assert_false(glob_match(pat, name));
	name[2999] = 'x';
	assert_true(glob_match(pat, name));
	assert_true(now() - t0 < 1.0);
	assert_true(glob_match("a[b[c", "a[b[c"));
	assert_true(glob_match("*[[x", "ab[[x"));
	assert_false(glob_match("*[[x", "ab[x"));
}

/* ---- glob_expand: §6.3 ---- */

/* Checklist 34: `**` + `*` includes top-level, nested and dot files (§6.3 row 1). */
static void test_expand_all_files(void **state)
{
	assert_expands(*state, LIST("**/*"), NONE,
	               ".env README.md build/.hidden build/app build/lib/libx.so "
	               "docs/guide/index.html src/app.c");
}

/* §6.3 row 2: a one-level wildcard under build selects files directly inside it only. */
static void test_expand_dir_star_not_deeper(void **state)
{
	assert_expands(*state, LIST("build/*"), NONE, "build/.hidden build/app");
}

/* §6.3 row 3: build, then `**`, then a wildcard selects everything below build. */
static void test_expand_dir_doublestar(void **state)
{
	assert_expands(*state, LIST("build/**/*"), NONE,
	               "build/.hidden build/app build/lib/libx.so");
}

/* Checklist 37 / §6.3 row 7: exclusion of `**` + `/.*` drops every dot-file. */
static void test_expand_exclude_dotfiles(void **state)
{
	assert_expands(*state, LIST("**/*"), LIST("**/.*"),
	               "README.md build/app build/lib/libx.so docs/guide/index.html src/app.c");
}

/* §6.2 rule 7: a file selected by several patterns appears once; output is sorted. */
static void test_expand_union_sorted_unique(void **state)
{
	assert_expands(*state, LIST("src/app.c", "**/*.c", "README.md"), NONE,
	               "README.md src/app.c");
}

/* §6.3 last row: a pattern matching nothing is reported as unmatched. */
static void test_expand_unmatched_reported(void **state)
{
	struct glob_result r;
	char *got = expand_into(*state, LIST("missing.txt", "README.md"), NONE, 0, &r);
	assert_string_equal(got, "README.md");
	assert_int_equal(r.unmatched.n, 1);
	assert_string_equal(r.unmatched.v[0], "missing.txt");
	free(got);
	glob_result_free(&r);
}

/* §6.2 rule 5: a literal directory selects its contents recursively, with a warning. */
static void test_expand_literal_dir_recursive(void **state)
{
	struct glob_result r;
	char *got = expand_into(*state, LIST("build"), NONE, 0, &r);
	assert_string_equal(got, "build/.hidden build/app build/lib/libx.so");
	assert_true(has_warning(&r, "names a directory"));
	free(got);
	glob_result_free(&r);
}

/* §6.2 rule 4: a wildcard matching a directory selects nothing inside it. */
static void test_expand_star_does_not_take_dirs(void **state)
{
	assert_expands(*state, LIST("*"), NONE, ".env README.md");
}

/* GLOB_DIRS (base-directory globs): directories matched, files ignored. */
static void test_expand_dirs_flag(void **state)
{
	char *d = *state;
	tu_write(d, "my-build-1/f1", "1");
	tu_write(d, "my-build-2/f2", "2");
	tu_write(d, "my-build.txt", "x");
	struct glob_result r;
	char *got = expand_into(d, LIST("my-build*"), NONE, GLOB_DIRS, &r);
	assert_string_equal(got, "my-build-1 my-build-2");
	free(got);
	glob_result_free(&r);
	got = expand_into(d, LIST("."), NONE, GLOB_DIRS, &r);
	assert_string_equal(got, ".");
	free(got);
	glob_result_free(&r);
}

/* ---- glob_expand: hostile input ---- */

/* Traversal patterns are refused into `invalid` and yield nothing (DESIGN principle 4). */
static void test_expand_refuses_traversal_patterns(void **state)
{
	char *d = *state;
	char *inner = fs_join(d, "build");
	struct glob_result r;
	char *got = expand_into(
	        inner, LIST("../README.md", "/etc/passwd", "a/../../x", "lib/../../.env", ""), NONE,
	        0, &r);
	assert_string_equal(got, "");
	assert_int_equal(r.invalid.n, 5);
	assert_int_equal(r.unmatched.n, 0);
	free(got);
	glob_result_free(&r);
	free(inner);
}

/* A link to /etc is neither followed nor emitted, whatever the pattern. */
static void test_expand_link_to_etc_not_followed(void **state)
{
	char *d = *state;
	mklink(d, "/etc", "etc");
	mklink(d, "/etc/passwd", "pw");
	struct glob_result r;
	char *got = expand_into(d, LIST("etc/passwd", "etc/*", "pw", "**/*"), NONE, 0, &r);
	assert_null(strstr(got, "etc"));
	assert_null(strstr(got, "pw"));
	assert_true(has_warning(&r, "outside"));
	free(got);
	glob_result_free(&r);
	got = expand_into(d, LIST("**/*"), NONE, GLOB_KEEP_LINKS, &r);
	assert_null(strstr(got, "etc"));
	assert_null(strstr(got, "pw"));
	free(got);
	glob_result_free(&r);
}

/* A relative link climbing out of the root (`../..`) is refused like an absolute one. */
static void test_expand_relative_link_out_not_followed(void **state)
{
	char *d = *state;
	char *inner = fs_join(d, "build");
	mklink(inner, "../..", "up");
	mklink(inner, "../README.md", "readme");
	struct glob_result r;
	char *got = expand_into(inner, LIST("**/*", "up/**/*", "readme"), NONE, 0, &r);
	assert_string_equal(got, ".hidden app lib/libx.so");
	assert_true(has_warning(&r, "up: symbolic link"));
	free(got);
	glob_result_free(&r);
	free(inner);
}

/* §6.2 rule 8: a symlinked directory inside the root is followed. */
static void test_expand_follows_inside_dir_link(void **state)
{
	char *d = *state;
	mklink(d, "build/lib", "current");
	assert_expands(d, LIST("current/*"), NONE, "current/libx.so");
	assert_expands(d, LIST("**/libx.so"), NONE, "build/lib/libx.so current/libx.so");
}

/* §6.2 rule 8: link loops are broken, the walk ends, each real file is found. */
static void test_expand_link_loop_terminates(void **state)
{
	char *d = *state;
	mklink(d, "..", "build/lib/up");
	mklink(d, ".", "docs/self");
	mklink(d, "b", "a");
	mklink(d, "a", "b");
	struct glob_result r;
	char *got = expand_into(d, LIST("**/libx.so", "a", "b/*"), NONE, 0, &r);
	assert_string_equal(got, "build/lib/libx.so");
	assert_true(has_warning(&r, "build/lib/up: symbolic link loop"));
	assert_true(has_warning(&r, "a: broken symbolic link"));
	free(got);
	glob_result_free(&r);
}

/* GLOB_KEEP_LINKS: a link inside the tree is emitted as itself, not followed. */
static void test_expand_keep_links(void **state)
{
	char *d = *state;
	mklink(d, "build/lib", "current");
	mklink(d, "app", "build/run");
	struct glob_result r;
	char *got = expand_into(d, LIST("current", "build/*"), NONE, GLOB_KEEP_LINKS, &r);
	assert_string_equal(got, "build/.hidden build/app build/run current");
	free(got);
	glob_result_free(&r);
}

/* Expands the .so files below build where the root itself cannot be listed (0711):
 * succeeds only if the walk starts at the literal prefix instead of reading the root. */
static int expand_with_unlistable_root(const char *d)
{
	struct strv p = STRV_INIT;
	struct glob_result r;
	struct err err;
	strv_push(&p, "build/**/*.so");
	int rc = glob_expand(d, &p, NULL, 0, &r, &err);
	strv_free(&p);
	if (rc != 0)
		return 1;
	int ok = r.paths.n == 1 && strcmp(r.paths.v[0], "build/lib/libx.so") == 0 &&
	         r.warnings.n == 0;
	glob_result_free(&r);
	return ok ? 0 : 2;
}

/* Efficiency: the walk starts at the longest literal prefix; the root is not read.
 * As root (who reads anything) the check runs in a child that dropped to nobody. */
static void test_expand_starts_at_literal_prefix(void **state)
{
	char *d = *state;
	assert_int_equal(chmod(d, 0711), 0);
	if (geteuid() != 0) {
		assert_int_equal(expand_with_unlistable_root(d), 0);
		assert_int_equal(chmod(d, 0700), 0);
		return;
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		_exit(expand_with_unlistable_root(d));
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(d, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Special files (a FIFO would block the zip writer) are skipped with a warning. */
static void test_expand_skips_fifo(void **state)
{
	char *d = *state;
	char *p = fs_join(d, "build/pipe");
	assert_int_equal(mkfifo(p, 0644), 0);
	struct glob_result r;
	char *got = expand_into(d, LIST("build/*"), NONE, 0, &r);
	assert_string_equal(got, "build/.hidden build/app");
	assert_true(has_warning(&r, "not a regular file"));
	free(got);
	glob_result_free(&r);
	free(p);
}

/* The root must be absolute; a missing root is an error, not an empty match. */
static void test_expand_bad_root(void **state)
{
	(void)state;
	struct strv p = STRV_INIT;
	struct glob_result r;
	struct err err;
	strv_push(&p, "**/*");
	assert_int_equal(glob_expand("relative", &p, NULL, 0, &r, &err), -1);
	assert_int_equal(glob_expand("/nonexistent/ferry-x", &p, NULL, 0, &r, &err), -1);
	strv_free(&p);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_tree, teardown_tree)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_match_star_within_component),
	        cmocka_unit_test(test_match_classes),
	        cmocka_unit_test(test_match_doublestar_zero_or_more),
	        cmocka_unit_test(test_match_leading_dots_not_special),
	        cmocka_unit_test(test_match_refuses_escapes),
	        cmocka_unit_test(test_match_unclosed_brackets_fast),
	        T(test_expand_all_files),
	        T(test_expand_dir_star_not_deeper),
	        T(test_expand_dir_doublestar),
	        T(test_expand_exclude_dotfiles),
	        T(test_expand_union_sorted_unique),
	        T(test_expand_unmatched_reported),
	        T(test_expand_literal_dir_recursive),
	        T(test_expand_star_does_not_take_dirs),
	        T(test_expand_dirs_flag),
	        T(test_expand_refuses_traversal_patterns),
	        T(test_expand_link_to_etc_not_followed),
	        T(test_expand_relative_link_out_not_followed),
	        T(test_expand_follows_inside_dir_link),
	        T(test_expand_link_loop_terminates),
	        T(test_expand_keep_links),
	        T(test_expand_starts_at_literal_prefix),
	        T(test_expand_skips_fifo),
	        cmocka_unit_test(test_expand_bad_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
