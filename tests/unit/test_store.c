/* Unit tests for store/store: opening, migrations and build numbers. */
#include "testutil.h"

#include <sqlite3.h>

#include "store/store.h"

struct fixture {
	char *tmp;  /* removed after the test */
	char *data; /* <tmp>/data/ferry: not there until store_open() makes it */
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->tmp = tu_mkdtemp();
	f->data = fs_join(f->tmp, "data/ferry");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->data);
	tu_rmdir(f->tmp);
	free(f);
	return 0;
}

static struct store *open_ok(const char *dir)
{
	struct store *st = NULL;
	struct err err;
	if (store_open(dir, &st, &err) != 0)
		fail_msg("store_open: %s", err.msg);
	return st;
}

static int64_t next(struct store *st, const char *project)
{
	int64_t n = -1;
	struct err err;
	if (store_build_number_next(st, project, &n, &err) != 0)
		fail_msg("store_build_number_next: %s", err.msg);
	return n;
}

/* Runs one integer query on the database file behind the store's back. */
static int64_t peek_int(const char *data, const char *sql)
{
	char *path = fs_join(data, "ferry.db");
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_stmt *stmt = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	free(path);
	return v;
}

static void poke(const char *data, const char *sql)
{
	char *path = fs_join(data, "ferry.db");
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(path);
}

/* A fresh data directory is made private, and the schema is there after open. */
static void test_fresh_dir_is_created_private_and_migrated(void **state)
{
	struct fixture *f = *state;
	store_close(open_ok(f->data));
	struct stat sb;
	assert_int_equal(stat(f->data, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	char *db = fs_join(f->data, "ferry.db");
	assert_int_equal(stat(db, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);
	free(db);
	assert_true(peek_int(f->data, "PRAGMA user_version") >= 1);
	assert_int_equal(peek_int(f->data, "SELECT count(*) FROM sqlite_master WHERE name IN"
	                                   " ('secrets', 'build_counters')"),
	                 2);
}

/* The database runs in WAL mode (readers never block the daemon's writes). */
static void test_database_uses_wal(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f->data);
	char *path = fs_join(f->data, "ferry.db");
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *stmt = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	free(path);
	store_close(st);
}

/* Re-opening runs no migration twice and keeps the data. */
static void test_reopen_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f->data);
	assert_int_equal(next(st, "web"), 1);
	store_close(st);
	int64_t version = peek_int(f->data, "PRAGMA user_version");
	for (int i = 0; i < 3; i++)
		store_close(open_ok(f->data));
	assert_int_equal(peek_int(f->data, "PRAGMA user_version"), version);
	st = open_ok(f->data);
	assert_int_equal(next(st, "web"), 2);
	store_close(st);
}

/* A database from a newer ferry is refused, not downgraded or damaged. */
static void test_newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	store_close(open_ok(f->data));
	poke(f->data, "PRAGMA user_version = 999");
	struct store *st = NULL;
	struct err err;
	assert_int_equal(store_open(f->data, &st, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err.msg, "newer than this ferry knows"));
	assert_int_equal(peek_int(f->data, "PRAGMA user_version"), 999);
}

/* Build numbers count 1, 2, 3 per project, each project on its own. */
static void test_build_numbers_per_project(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f->data);
	assert_int_equal(next(st, "web"), 1);
	assert_int_equal(next(st, "web"), 2);
	assert_int_equal(next(st, "api"), 1);
	assert_int_equal(next(st, "web"), 3);
	assert_int_equal(next(st, "api"), 2);
	store_close(st);
}

/* Numbers survive a restart: a build number is never handed out twice. */
static void test_build_numbers_survive_reopen(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f->data);
	assert_int_equal(next(st, "web"), 1);
	assert_int_equal(next(st, "web"), 2);
	store_close(st);
	st = open_ok(f->data);
	assert_int_equal(next(st, "web"), 3);
	assert_int_equal(next(st, "api"), 1);
	store_close(st);
}

/* Two handles on one directory (daemon and a command) never share a number. */
static void test_build_numbers_unique_across_handles(void **state)
{
	struct fixture *f = *state;
	struct store *a = open_ok(f->data);
	struct store *b = open_ok(f->data);
	int seen[21] = {0};
	for (int i = 0; i < 10; i++) {
		int64_t x = next(a, "web"), y = next(b, "web");
		assert_in_range(x, 1, 20);
		assert_in_range(y, 1, 20);
		seen[x]++;
		seen[y]++;
	}
	for (int i = 1; i <= 20; i++)
		assert_int_equal(seen[i], 1);
	store_close(a);
	store_close(b);
}

static void test_build_number_needs_a_project(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f->data);
	int64_t n = 0;
	struct err err;
	assert_int_equal(store_build_number_next(st, "", &n, &err), -1);
	assert_non_null(strstr(err.msg, "empty project"));
	store_close(st);
}

/* A data directory path that is a file gets an error naming it. */
static void test_data_dir_that_is_a_file_is_an_error(void **state)
{
	struct fixture *f = *state;
	tu_write(f->tmp, "plain", "x");
	char *p = fs_join(f->tmp, "plain");
	struct store *st = NULL;
	struct err err;
	assert_int_equal(store_open(p, &st, &err), -1);
	assert_non_null(strstr(err.msg, p));
	free(p);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_fresh_dir_is_created_private_and_migrated),
	        T(test_database_uses_wal),
	        T(test_reopen_is_idempotent),
	        T(test_newer_schema_is_refused),
	        T(test_build_numbers_per_project),
	        T(test_build_numbers_survive_reopen),
	        T(test_build_numbers_unique_across_handles),
	        T(test_build_number_needs_a_project),
	        T(test_data_dir_that_is_a_file_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
