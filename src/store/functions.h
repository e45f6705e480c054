/*
 * functions.h — the stored side of functions (ferry's Lambda analog): each function's
 * $LATEST configuration, its published versions, its aliases and its recent
 * invocations. The code itself lives on disk (functions/registry.h); rows name its
 * directory.
 *
 * Invariants:
 *  - function names are 1–64 of [A-Za-z0-9_-] (Lambda's): they name directories;
 *  - published versions are numbered 1, 2, ... per function, never reused, and never
 *    change once written; the function's own row is $LATEST;
 *  - an alias names a published version (never $LATEST) and remembers the version it
 *    pointed at before the last move (`previous`), for a rollback;
 *  - at most `keep` invocations per function are kept: adding one prunes the oldest.
 *
 * Ownership: row strings are the caller's; *_free() frees one row's fields,
 * *_list_free() every row's and the array.
 */
#ifndef FERRY_STORE_FUNCTIONS_H
#define FERRY_STORE_FUNCTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"

#define STORE_FN_NAME_MAX 64

/* One configuration: a function's $LATEST or one of its versions. */
struct store_fn {
	char *name;
	char *version; /* "$LATEST" or "1", "2", ... (read only: set by the store) */
	char *runtime; /* "nodejs20.x", "python3.11", "provided.al2023" */
	char *handler;
	char *description;
	int timeout; /* seconds */
	int memory;  /* MB */
	char *env;   /* Environment.Variables as a JSON object's text */
	char *code_sha;
	int64_t code_size;
	char *code_dir; /* the unpacked code (absolute) */
	char *revision_id;
	int64_t modified_ms;
};

/* 0 when `name` is a valid function name; -1 with `err` saying why. */
FERRY_MUST_CHECK int store_fn_name_check(const char *name, struct err *err);

/* 0, STORE_CONFLICT (the name is taken), -1. */
FERRY_MUST_CHECK int store_fn_create(struct store *st, const struct store_fn *f, struct err *err);
/* Replaces $LATEST's configuration and code. 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK int store_fn_update(struct store *st, const struct store_fn *f, struct err *err);
/* `version` NULL or "$LATEST": the function's row; else that published version.
 * 0, STORE_NOT_FOUND (err names the function or version), -1. */
FERRY_MUST_CHECK int store_fn_get(struct store *st, const char *name, const char *version,
                                  struct store_fn *out, struct err *err);
/* Every function's $LATEST, by name. */
FERRY_MUST_CHECK int store_fn_list(struct store *st, struct store_fn **out, size_t *n,
                                   struct err *err);
/* Published versions, oldest first. */
FERRY_MUST_CHECK int store_fn_versions(struct store *st, const char *name, struct store_fn **out,
                                       size_t *n, struct err *err);
/* Deletes the function with its versions, aliases and invocations. 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK int store_fn_delete(struct store *st, const char *name, struct err *err);

/* Publishes $LATEST as a new version, or, when neither its code nor its configuration
 * changed since the newest version, gives that version. `code_dir` is where the new
 * version's code will be (the caller moves it there); NULL: $LATEST's. *version is
 * the number; *created 1 when a new version was written. 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK int store_fn_publish(struct store *st, const char *name, const char *description,
                                      const char *code_dir, const char *revision_id,
                                      int64_t *version, int *created, struct err *err);

void store_fn_free(struct store_fn *f);
void store_fn_list_free(struct store_fn *f, size_t n);

struct store_alias {
	char *function;
	char *name;
	char *version;  /* "3" */
	char *previous; /* the version before the last move, NULL: none */
	char *description;
	char *revision_id;
	int64_t modified_ms;
};

/* Creates (create = 1: STORE_CONFLICT when it exists) or moves an alias (create = 0:
 * STORE_NOT_FOUND when it does not exist). A move to another version records the
 * version it leaves as `previous`; description NULL keeps the old one. The version
 * must exist (STORE_NOT_FOUND naming it). */
FERRY_MUST_CHECK int store_alias_put(struct store *st, const struct store_alias *a, int create,
                                     struct err *err);
FERRY_MUST_CHECK int store_alias_get(struct store *st, const char *function, const char *name,
                                     struct store_alias *out, struct err *err);
/* By name. */
FERRY_MUST_CHECK int store_alias_list(struct store *st, const char *function,
                                      struct store_alias **out, size_t *n, struct err *err);
FERRY_MUST_CHECK int store_alias_delete(struct store *st, const char *function, const char *name,
                                        struct err *err);
void store_alias_free(struct store_alias *a);
void store_alias_list_free(struct store_alias *a, size_t n);

struct store_invocation {
	char *request_id;
	char *function;
	char *version; /* the executed version */
	char *status;  /* "Succeeded", "Failed" (the handler failed), "TimedOut" */
	char *error_type;
	int64_t duration_ms;
	int64_t started_ms;
	char *log_path;
};

/* Records an invocation and prunes the function's oldest past `keep`: the pruned
 * rows' log paths are pushed on `pruned` (the caller deletes the files). */
FERRY_MUST_CHECK int store_invocation_add(struct store *st, const struct store_invocation *inv,
                                          int keep, struct strv *pruned, struct err *err);
/* `request_id` NULL: the function's newest. 0, STORE_NOT_FOUND, -1. */
FERRY_MUST_CHECK int store_invocation_get(struct store *st, const char *function,
                                          const char *request_id, struct store_invocation *out,
                                          struct err *err);
/* Newest first, at most `limit`. */
FERRY_MUST_CHECK int store_invocation_list(struct store *st, const char *function, int limit,
                                           struct store_invocation **out, size_t *n,
                                           struct err *err);
void store_invocation_free(struct store_invocation *inv);
void store_invocation_list_free(struct store_invocation *inv, size_t n);

#endif
