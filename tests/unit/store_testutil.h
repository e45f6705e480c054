/*
 * store_testutil.h — a fresh store for the unit tests that need one: opened in
 * <tmp>/data of a new temporary directory, closed and removed after. Either the
 * fixture as a whole (struct store_fixture with its cmocka setup and teardown) or,
 * for a test's own fixture, the opening and closing alone. Every function is static.
 */
#ifndef FERRY_STORE_TESTUTIL_H
#define FERRY_STORE_TESTUTIL_H

#include "testutil.h"

#include "store/store.h"

/* Opens a store in <*tmp>/data, *tmp a fresh directory; *data gets that path when
 * `data` is not NULL. Fails the test when it cannot. */
static inline struct store *tu_store_open(char **tmp, char **data)
{
	*tmp = tu_mkdtemp();
	char *dir = fs_join(*tmp, "data");
	struct store *st = NULL;
	struct err err;
	if (store_open(dir, &st, &err) != 0)
		fail_msg("store_open: %s", err.msg);
	if (data)
		*data = dir;
	else
		free(dir);
	return st;
}

/* Closes what tu_store_open() opened and removes the directory; frees tmp and data. */
static inline void tu_store_close(struct store *st, char *tmp, char *data)
{
	store_close(st);
	free(data);
	tu_rmdir(tmp);
}

struct store_fixture {
	char *tmp;
	char *data; /* <tmp>/data */
	struct store *st;
};

static __attribute__((unused)) int tu_store_setup(void **state)
{
	struct store_fixture *f = xcalloc(1, sizeof *f);
	f->st = tu_store_open(&f->tmp, &f->data);
	*state = f;
	return 0;
}

static __attribute__((unused)) int tu_store_teardown(void **state)
{
	struct store_fixture *f = *state;
	tu_store_close(f->st, f->tmp, f->data);
	free(f);
	return 0;
}

#endif
