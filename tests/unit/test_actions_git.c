/* Unit tests for actions/git.h: what the engine asks of a repository when a push
 * arrives (branch heads, changed paths for file-path filters, commit subjects). */
#include "test_actions.h"

#include "actions/git.h"

struct fixture {
	char *root;
	char *repo;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->root = tu_mkdtemp();
	const char *files[] = {"docs/guide.md",
	                       "A guide long enough for rename detection to see it.\n"
	                       "Line two of the guide, unchanged by the move.\n"
	                       "Line three, also unchanged.\n",
	                       "src/app.c",
	                       "int main(void) { return 0; }\n",
	                       "old.txt",
	                       "old\n",
	                       NULL};
	f->repo = ta_repo(f->root, "repo", files);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->repo);
	tu_rmdir(f->root);
	free(f);
	return 0;
}

static char *head(struct fixture *f)
{
	return ta_git_str(f->repo, "rev-parse", "HEAD");
}

/* The head of an existing branch; 1 for a branch that does not exist. */
static void test_branch_head_is_the_commit_and_1_when_missing(void **state)
{
	struct fixture *f = *state;
	char *want = head(f);
	char got[GIT_OID_HEX_MAX + 1];
	struct err err;
	assert_int_equal(git_branch_head(f->repo, "main", got, &err), 0);
	assert_string_equal(got, want);
	assert_int_equal(git_branch_head(f->repo, "release", got, &err), 1);
	free(want);
}

/* A directory that is not a repository is an error naming it (no parent search). */
static void test_branch_head_of_a_non_repository_names_it(void **state)
{
	struct fixture *f = *state;
	char *plain = fs_join(f->repo, "src");
	char got[GIT_OID_HEX_MAX + 1];
	struct err err;
	assert_int_equal(git_branch_head(plain, "main", got, &err), -1);
	assert_non_null(strstr(err.msg, plain));
	free(plain);
}

/* A rename counts on both sides, so filters on the old or the new path match. */
static void test_changed_paths_lists_both_sides_of_a_rename(void **state)
{
	struct fixture *f = *state;
	char *before = head(f);
	char *manual = fs_join(f->repo, "manual");
	assert_int_equal(mkdir(manual, 0755), 0);
	free(manual);
	ta_git(f->repo, "mv", "docs/guide.md", "manual/guide.md");
	tu_write(f->repo, "src/app.c", "int main(void) { return 1; }\n");
	tu_write(f->repo, "new.txt", "new\n");
	ta_git(f->repo, "rm", "-q", "old.txt");
	char *after = ta_commit(f->repo, "move the guide");
	struct strv paths = STRV_INIT;
	struct err err;
	assert_int_equal(git_changed_paths(f->repo, before, after, 100, &paths, &err), 0);
	assert_int_equal(paths.n, 5);
	assert_string_equal(paths.v[0], "docs/guide.md");
	assert_string_equal(paths.v[1], "manual/guide.md");
	assert_string_equal(paths.v[2], "new.txt");
	assert_string_equal(paths.v[3], "old.txt");
	assert_string_equal(paths.v[4], "src/app.c");
	strv_free(&paths);
	free(before);
	free(after);
}

/* A created branch (before = zeros) or a before the repository does not hold
 * (force-push over a collected commit): the paths are unknown, 1. */
static void test_changed_paths_of_a_created_branch_are_unknown(void **state)
{
	struct fixture *f = *state;
	char *after = head(f);
	struct strv paths = STRV_INIT;
	struct err err;
	assert_int_equal(git_changed_paths(f->repo, "0000000000000000000000000000000000000000",
	                                   after, 100, &paths, &err),
	                 1);
	assert_int_equal(git_changed_paths(f->repo, "1234567890123456789012345678901234567890",
	                                   after, 100, &paths, &err),
	                 1);
	assert_int_equal(paths.n, 0);
	strv_free(&paths);
	free(after);
}

/* More paths than the caller's cap: unknown, and nothing appended. */
static void test_changed_paths_past_the_cap_are_unknown(void **state)
{
	struct fixture *f = *state;
	char *before = head(f);
	tu_write(f->repo, "a.txt", "a\n");
	tu_write(f->repo, "b.txt", "b\n");
	tu_write(f->repo, "c.txt", "c\n");
	char *after = ta_commit(f->repo, "three files");
	struct strv paths = STRV_INIT;
	struct err err;
	assert_int_equal(git_changed_paths(f->repo, before, after, 2, &paths, &err), 1);
	assert_int_equal(paths.n, 0);
	assert_int_equal(git_changed_paths(f->repo, before, after, 3, &paths, &err), 0);
	assert_int_equal(paths.n, 3);
	strv_free(&paths);
	free(before);
	free(after);
}

/* An `after` commit missing from the repository is an error naming it. */
static void test_changed_paths_with_a_missing_after_is_an_error(void **state)
{
	struct fixture *f = *state;
	char *before = head(f);
	struct strv paths = STRV_INIT;
	struct err err;
	const char *missing = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
	assert_int_equal(git_changed_paths(f->repo, before, missing, 100, &paths, &err), -1);
	assert_non_null(strstr(err.msg, missing));
	strv_free(&paths);
	free(before);
}

/* The subject is the first line; long subjects stop at 200 bytes, on a character. */
static void test_commit_subject_is_the_first_line(void **state)
{
	struct fixture *f = *state;
	char *id = head(f);
	char *subject = NULL;
	struct err err;
	assert_int_equal(git_commit_subject(f->repo, id, &subject, &err), 0);
	assert_string_equal(subject, "first commit");
	free(subject);
	free(id);

	char msg[512] = "x";
	for (int i = 0; i < 150; i++)
		memcpy(msg + 1 + 2 * i, "\xc3\xa9", 3); /* "é", keeps the NUL after the last */
	id = ta_commit(f->repo, msg);
	assert_int_equal(git_commit_subject(f->repo, id, &subject, &err), 0);
	assert_int_equal(strlen(subject), 199); /* "x" + 99 two-byte characters */
	free(subject);
	assert_int_equal(git_commit_subject(f->repo, "abcdefabcdefabcdefabcdefabcdefabcdefabcd",
	                                    &subject, &err),
	                 -1);
	free(id);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_branch_head_is_the_commit_and_1_when_missing),
	        T(test_branch_head_of_a_non_repository_names_it),
	        T(test_changed_paths_lists_both_sides_of_a_rename),
	        T(test_changed_paths_of_a_created_branch_are_unknown),
	        T(test_changed_paths_past_the_cap_are_unknown),
	        T(test_changed_paths_with_a_missing_after_is_an_error),
	        T(test_commit_subject_is_the_first_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
