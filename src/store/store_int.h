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

/* Row helpers (store.c) for the modules that read and write rows. */
typedef void (*store_row_fill_fn)(sqlite3_stmt *stmt, void *row);
typedef void (*store_row_clear_fn)(void *row);

/* A copy of a text column, NULL for SQL NULL. */
char *store_col_text(sqlite3_stmt *stmt, int i);
/* Binds text (borrowed until the statement is stepped); NULL binds SQL NULL. */
void store_bind_text(sqlite3_stmt *stmt, int i, const char *s);
/* Steps a write and finalizes it: 0, STORE_CONFLICT (a unique key is taken),
 * STORE_NOT_FOUND (a parent row is missing) or -1; `err` filled unless 0. */
int store_write_step(struct store *st, sqlite3_stmt *stmt, const char *what, struct err *err);
/* Reads the one row a bound statement selects and finalizes it: 0, STORE_NOT_FOUND, -1. */
int store_row_fetch_one(struct store *st, sqlite3_stmt *stmt, store_row_fill_fn fill, void *row,
                        const char *what, struct err *err);
/* Reads every row a bound statement selects into a new array and finalizes it. */
int store_row_fetch_all(struct store *st, sqlite3_stmt *stmt, size_t size, store_row_fill_fn fill,
                        store_row_clear_fn clear, void **out, size_t *n, const char *what,
                        struct err *err);

#endif
