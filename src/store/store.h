/*
 * store.h — ferry's durable state: one SQLite database (WAL) in the data directory,
 * migrated with PRAGMA user_version. All SQL of ferry lives in src/store/.
 *
 * Invariants:
 *  - store_open() creates the data directory (mode 0700) and database on first use
 *    and applies every pending migration in one transaction each;
 *  - secrets are encrypted at rest (libsodium secretbox) with a key kept in
 *    <data>/secret.key (mode 0600, created on first use); values never appear in
 *    SQL text, logs or error messages;
 *  - build numbers are per project, start at 1, and are never reused.
 *
 * Ownership: returned `char *` and arrays are the caller's to free() (secret values
 * with store_secret_value_free(), which wipes them first).
 */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct store; /* opaque */

FERRY_MUST_CHECK
int store_open(const char *data_dir, struct store **out, struct err *err);
void store_close(struct store *st);

/* Allocates the next build number of `project` (1, 2, 3, ...). */
FERRY_MUST_CHECK
int store_build_number_next(struct store *st, const char *project, int64_t *out, struct err *err);

#define STORE_NOT_FOUND 1
#define STORE_CONFLICT  2 /* a unique key is taken (a replayed delivery id, ...) */

/* A transaction grouping several changes (the engine commits each state change as one).
 * store_tx_begin() takes the write lock now; calls made in between join it. */
FERRY_MUST_CHECK int store_tx_begin(struct store *st, struct err *err);
FERRY_MUST_CHECK int store_tx_commit(struct store *st, struct err *err);
void store_tx_rollback(struct store *st);
#define SECRET_VALUE_MAX (64 << 10)
#define SECRET_NAME_MAX  512

/* Creates or replaces a secret. Names: 1..SECRET_NAME_MAX printable bytes, no spaces. */
FERRY_MUST_CHECK
int store_secret_set(struct store *st, const char *name, const char *value, size_t len,
                     struct err *err);

/* 0 with *value (NUL-terminated, *len bytes), STORE_NOT_FOUND, or -1. */
FERRY_MUST_CHECK
int store_secret_get(struct store *st, const char *name, char **value, size_t *len,
                     struct err *err);

struct store_secret_info {
	char *name;
	int64_t updated_ms;
};

FERRY_MUST_CHECK
int store_secret_list(struct store *st, struct store_secret_info **items, size_t *n,
                      struct err *err);
void store_secret_list_free(struct store_secret_info *items, size_t n);

/* 0, STORE_NOT_FOUND or -1. */
FERRY_MUST_CHECK
int store_secret_delete(struct store *st, const char *name, struct err *err);

void store_secret_value_free(char *value, size_t len);

#endif
