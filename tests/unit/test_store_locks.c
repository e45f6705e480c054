/*
 * test_store_locks.c — two stores open in one process (the daemon's engine and its
 * edge server) and another process reading the same database: commits made after
 * the second open must still reach the database. Opening the second store once
 * closed a descriptor of ferry.db, which dropped the first connection's locks; the
 * other process then took the WAL for unused and deleted it, and later commits were
 * lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "testutil.h"

/* In another program (a fresh SQLite, not a fork of ours): open the database, read
 * it, close it — the last user, it thinks, when our connections hold no lock. */
static void read_from_another_process(const char *db_path)
{
	char *cmd = xasprintf("python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); "
	                      "d.execute(\"SELECT count(*) FROM build_counters\").fetchall(); "
	                      "d.close()' '%s'",
	                      db_path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void commits_after_a_second_open_survive_another_process(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *db_path = fs_join(dir, "ferry.db");
	struct store *engine = NULL, *edge = NULL;
	struct err err;
	assert_int_equal(store_open(dir, &engine, &err), 0);
	int64_t n = 0;
	assert_int_equal(store_build_number_next(engine, "site", &n, &err), 0);
	assert_int_equal(store_open(dir, &edge, &err), 0); /* the edge's connection */
	read_from_another_process(db_path);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_build_number_next(engine, "site", &n, &err), 0);
	assert_int_equal(n, 4);
	/* a fresh connection sees every commit */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(
	        sqlite3_prepare_v2(db, "SELECT last FROM build_counters WHERE project = 'site'", -1,
	                           &st, NULL),
	        SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 4);
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_close(edge);
	store_close(engine);
	free(db_path);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(commits_after_a_second_open_survive_another_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
