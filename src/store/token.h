/*
 * token.h — API tokens: bearer tokens with scopes, of which the store keeps only a hash.
 *
 * A token is "ferry_" followed by 43 base64url characters (32 random bytes). It is
 * shown once, when created; the database holds BLAKE2b-256 of it, so a copy of
 * ferry.db (a backup, a bug report) lets nobody call the API.
 *
 * Scopes, and what each implies:
 *   read     see pipelines, executions, logs
 *   start    read + start, retry, stop executions, enable/disable transitions
 *   approve  read + answer approval gates
 *   admin    everything: the above, pipelines' definitions, tokens, secrets
 * A token holds a set of them; a request needs every scope it names to be held or
 * implied (store_token_scopes_effective()).
 *
 * Invariants:
 *  - store_token_check() looks a token up by its hash: the time it takes depends on
 *    the token's length, never on which of its bytes are right; a token longer than
 *    STORE_TOKEN_MAX is unknown without being hashed;
 *  - a revoked token stays in the table (so it is reported as revoked, not unknown)
 *    and never works again; at most one live token has a given name;
 *  - tokens and their hashes never appear in error messages;
 *  - <data>/admin.token is created once, complete (written to a temporary file,
 *    then linked into place, mode 0600), while the database's write lock is held,
 *    so two daemons starting at once cannot both make one.
 *
 * Ownership: a token returned in `*token_out` is the caller's, to release with
 * store_token_free() (which wipes it). Lists are the caller's to free().
 */
#ifndef FERRY_TOKEN_H
#define FERRY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

#define STORE_TOKEN_PREFIX      "ferry_"
#define STORE_TOKEN_LEN         49  /* "ferry_" + 43 characters */
#define STORE_TOKEN_MAX         256 /* bytes of a presented token that are looked at */
#define STORE_TOKEN_ID_LEN      16  /* hex digits */
#define STORE_TOKEN_NAME_MAX    64
#define STORE_TOKEN_SCOPES_TEXT 32    /* "read,start,approve,admin" + NUL fits */
#define STORE_TOKEN_TOUCH_MS    60000 /* last_used_ms is written at most this often */
#define STORE_TOKEN_ADMIN_FILE  "admin.token"
#define STORE_TOKEN_ADMIN_NAME  "admin.token" /* the name of the token in that file */

enum store_scope {
	STORE_SCOPE_READ = 1 << 0,
	STORE_SCOPE_START = 1 << 1,
	STORE_SCOPE_APPROVE = 1 << 2,
	STORE_SCOPE_ADMIN = 1 << 3,
};
#define STORE_SCOPE_ALL                                                                            \
	(STORE_SCOPE_READ | STORE_SCOPE_START | STORE_SCOPE_APPROVE | STORE_SCOPE_ADMIN)

/* What store_token_check() found (-1 is an error of the store itself). */
enum store_token_status {
	STORE_TOKEN_OK = 0,
	STORE_TOKEN_UNKNOWN = 1,   /* no such token: answer 401 */
	STORE_TOKEN_REVOKED = 2,   /* answer 401 */
	STORE_TOKEN_FORBIDDEN = 3, /* a real token without the scope: answer 403 */
};

struct store_token_info {
	char id[STORE_TOKEN_ID_LEN + 1];
	char name[STORE_TOKEN_NAME_MAX + 1];
	unsigned scopes;      /* as granted (enum store_scope bits) */
	int64_t created_ms;   /* Unix epoch milliseconds */
	int64_t last_used_ms; /* 0: never used */
	int64_t revoked_ms;   /* 0: live */
};

/* Parses "read,start" (commas and/or spaces between names) into scope bits. */
FERRY_MUST_CHECK
int store_token_scopes_parse(const char *text, unsigned *out, struct err *err);

/* "read,start": the granted names, in the order read, start, approve, admin. */
void store_token_scopes_format(unsigned scopes, char out[STORE_TOKEN_SCOPES_TEXT]);

/* The scopes `granted` holds once implications are applied. */
unsigned store_token_scopes_effective(unsigned granted);

/*
 * Creates a token called `name` (1..STORE_TOKEN_NAME_MAX of [A-Za-z0-9._@:+-], not
 * looking like an id) with `scopes` (non-empty). Fills `id_out` and *token_out.
 */
FERRY_MUST_CHECK
int store_token_create(struct store *st, const char *name, unsigned scopes, char **token_out,
                       char id_out[STORE_TOKEN_ID_LEN + 1], struct err *err);

/*
 * Checks a presented token (the part after "Bearer ") against `required` (scope
 * bits, all needed; 0 asks only who it is). Returns an enum store_token_status, or
 * -1 when the store failed. `out` (may be NULL) is filled for OK, REVOKED and
 * FORBIDDEN, so an answer can name the token and the scope it lacks.
 */
FERRY_MUST_CHECK
int store_token_check(struct store *st, const char *token, unsigned required,
                      struct store_token_info *out, struct err *err);

/* As store_token_check(), for the token with this id (store_token_info.id): for a
 * holder that proved the token once and keeps only its id (a web UI session). */
FERRY_MUST_CHECK
int store_token_check_id(struct store *st, const char *id, unsigned required,
                         struct store_token_info *out, struct err *err);

/* Every token, revoked ones included, oldest first. */
FERRY_MUST_CHECK
int store_token_list(struct store *st, struct store_token_info **items, size_t *n, struct err *err);

/*
 * Revokes the token with id `id_or_name`, else the live token of that name: 0 (with
 * `out`, may be NULL, filled), STORE_NOT_FOUND (also when it is revoked already), -1.
 */
FERRY_MUST_CHECK
int store_token_revoke(struct store *st, const char *id_or_name, struct store_token_info *out,
                       struct err *err);

/*
 * At the daemon's start: when <data_dir>/admin.token (data_dir NULL: the store's
 * directory) is missing, creates an admin token named STORE_TOKEN_ADMIN_NAME, writes
 * it there with mode 0600 and returns 0 with *token_out. When the file exists it is
 * left alone and 1 is returned with *token_out NULL — unless it holds a token the
 * database has never seen (a start interrupted between writing the file and
 * committing, or a database restored from an older backup): then it is replaced as
 * if missing. Deleting the file and restarting therefore makes a new admin token;
 * the previous live token of that name is revoked.
 */
FERRY_MUST_CHECK
int store_token_ensure_admin_file(struct store *st, const char *data_dir, char **token_out,
                                  struct err *err);

/* Wipes and frees a token string; NULL is fine. */
void store_token_free(char *token);

#endif
