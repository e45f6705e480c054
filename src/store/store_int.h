/*
 * store_int.h — what the files of src/store/ share and nothing outside may use:
 * the store's struct, and small helpers around SQLite's calls that turn its
 * failures into ferry errors.
 *
 * Invariants:
 *  - a `struct store` is used by one thread at a time (the daemon's loop thread,
 *    or a command); SQLite's own locking covers other processes;
 *  - `key` is NULL until the first secret operation that needs it, then 32 bytes
 *    from sodium_malloc() (guarded, locked, wiped by sodium_free());
 *  - every statement is prepared from a constant string and takes its values
 *    only through bound parameters.
 */
#ifndef FERRY_STORE_INT_H
#define FERRY_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

struct store {
	sqlite3 *db;
	char *dir;     /* the data directory, as given to store_open() */
	char *db_path; /* <dir>/ferry.db */
	unsigned char *key;
};

/* Fills `err` with "<db path>: <what>: <SQLite's message>"; returns -1. */
int store_sql_err(struct store *st, struct err *err, const char *what);

/* Prepares a constant statement; NULL with `err` filled on failure. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, struct err *err);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout). */
FERRY_MUST_CHECK int store_begin(struct store *st, struct err *err);
FERRY_MUST_CHECK int store_commit(struct store *st, struct err *err);
/* Rolls back when a transaction is open; never fails the caller. */
void store_rollback(struct store *st);

#endif
