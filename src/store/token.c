/*
 * token.c — API tokens (see token.h): created from libsodium's random bytes, kept as
 * BLAKE2b-256 hashes, checked by looking the hash up.
 *
 * Why it is built this way:
 *  - a token carries 256 random bits, so a fast unsalted hash is enough: nobody can
 *    search that space, and a fixed hash lets the check be one indexed lookup; the
 *    hash is keyed with a context string so it matches no other use of BLAKE2b;
 *  - the lookup compares hashes, not tokens: an attacker timing it learns how many
 *    leading bytes of a hash matched, which says nothing about any token;
 *  - last_used_ms is written at most once a minute per token: every API call would
 *    otherwise be a synchronous write (PRAGMA synchronous = FULL);
 *  - the admin file is linked into place while BEGIN IMMEDIATE holds the database's
 *    write lock and before COMMIT: a crash in between leaves a file whose token the
 *    database never saw, which the next start recognises and replaces, instead of a
 *    live admin token that no file holds.
 */
#include "store/token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define TOKEN_RANDOM_BYTES 32
#define HASH_BYTES         32

_Static_assert(sizeof STORE_TOKEN_PREFIX - 1 +
                               sodium_base64_ENCODED_LEN(TOKEN_RANDOM_BYTES,
                                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) -
                               1 ==
                       STORE_TOKEN_LEN,
               "STORE_TOKEN_LEN matches the encoding");

static const char hash_key[] = "ferry api token v1";

static const struct {
	const char *name;
	unsigned bit;
} scope_names[] = {
        {"read", STORE_SCOPE_READ},
        {"start", STORE_SCOPE_START},
        {"approve", STORE_SCOPE_APPROVE},
        {"admin", STORE_SCOPE_ADMIN},
};

#define SCOPES_N (sizeof scope_names / sizeof scope_names[0])

/* ---- scopes ---- */

int store_token_scopes_parse(const char *text, unsigned *out, struct err *err)
{
	*out = 0;
	const char *s = text ? text : "";
	while (*s) {
		size_t n = strcspn(s, ", ");
		if (n == 0) {
			s++;
			continue;
		}
		size_t i = 0;
		while (i < SCOPES_N &&
		       !(strlen(scope_names[i].name) == n && !strncmp(scope_names[i].name, s, n)))
			i++;
		if (i == SCOPES_N)
			return err_set(err,
			               "token scope \"%.*s\" is not one ferry knows (known: read, "
			               "start, approve, admin)",
			               (int)(n > 40 ? 40 : n), s);
		*out |= scope_names[i].bit;
		s += n;
	}
	if (!*out)
		return err_set(err, "no token scope given (known: read, start, approve, admin)");
	return 0;
}

void store_token_scopes_format(unsigned scopes, char out[STORE_TOKEN_SCOPES_TEXT])
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < SCOPES_N; i++) {
		if (!(scopes & scope_names[i].bit))
			continue;
		int n = snprintf(out + len, STORE_TOKEN_SCOPES_TEXT - len, "%s%s", len ? "," : "",
		                 scope_names[i].name);
		if (n > 0)
			len += (size_t)n;
	}
}

unsigned store_token_scopes_effective(unsigned granted)
{
	unsigned s = granted & STORE_SCOPE_ALL;
	if (s & STORE_SCOPE_ADMIN)
		s |= STORE_SCOPE_ALL;
	if (s & (STORE_SCOPE_START | STORE_SCOPE_APPROVE))
		s |= STORE_SCOPE_READ;
	return s;
}

/* ---- tokens' names, hashes and rows ---- */

static int is_id(const char *s)
{
	return strlen(s) == STORE_TOKEN_ID_LEN &&
	       strspn(s, "0123456789abcdef") == STORE_TOKEN_ID_LEN;
}

static int name_check(const char *name, struct err *err)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                              "0123456789._@:+-";
	if (!name || !*name)
		return err_set(err, "token name is empty");
	size_t n = strnlen(name, STORE_TOKEN_NAME_MAX + 1);
	if (n > STORE_TOKEN_NAME_MAX)
		return err_set(err, "token name \"%.40s...\" is longer than %d bytes", name,
		               STORE_TOKEN_NAME_MAX);
	size_t ok = strspn(name, allowed);
	if (ok < n)
		return err_set(err,
		               "token name \"%.*s...\" has a character other than letters, digits "
		               "and ._@:+- at position %zu",
		               (int)ok, name, ok + 1);
	if (is_id(name))
		return err_set(err, "token name \"%s\" looks like a token id; choose another",
		               name);
	return 0;
}

static void token_hash(const char *token, size_t len, unsigned char out[HASH_BYTES])
{
	crypto_generichash(out, HASH_BYTES, (const unsigned char *)token, len,
	                   (const unsigned char *)hash_key, sizeof hash_key - 1);
}

/* Columns, in this order, of every query that fills a store_token_info. */
#define INFO_COLUMNS "id, name, scopes, created_ms, last_used_ms, revoked_ms"

static void info_from_row(sqlite3_stmt *stmt, struct store_token_info *out)
{
	memset(out, 0, sizeof *out);
	const char *id = (const char *)sqlite3_column_text(stmt, 0);
	const char *name = (const char *)sqlite3_column_text(stmt, 1);
	const char *scopes = (const char *)sqlite3_column_text(stmt, 2);
	snprintf(out->id, sizeof out->id, "%s", id ? id : "");
	snprintf(out->name, sizeof out->name, "%s", name ? name : "");
	/* A scope name this ferry does not know grants nothing (a newer ferry's row). */
	unsigned bits = 0;
	if (store_token_scopes_parse(scopes, &bits, NULL) < 0)
		bits = 0;
	out->scopes = bits;
	out->created_ms = sqlite3_column_int64(stmt, 3);
	out->last_used_ms = sqlite3_column_int64(stmt, 4); /* NULL reads as 0 */
	out->revoked_ms = sqlite3_column_int64(stmt, 5);
}

/* Inserts a new token; the caller handles transactions. */
static int token_insert(struct store *st, const char *name, unsigned scopes, char **token_out,
                        char id_out[STORE_TOKEN_ID_LEN + 1], struct err *err)
{
	unsigned char raw[TOKEN_RANDOM_BYTES];
	unsigned char id_raw[STORE_TOKEN_ID_LEN / 2];
	unsigned char hash[HASH_BYTES];
	char *token = xmalloc(STORE_TOKEN_LEN + 1);
	char id[STORE_TOKEN_ID_LEN + 1];

	randombytes_buf(raw, sizeof raw);
	randombytes_buf(id_raw, sizeof id_raw);
	memcpy(token, STORE_TOKEN_PREFIX, sizeof STORE_TOKEN_PREFIX - 1);
	sodium_bin2base64(token + sizeof STORE_TOKEN_PREFIX - 1,
	                  STORE_TOKEN_LEN + 1 - (sizeof STORE_TOKEN_PREFIX - 1), raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, id_raw, sizeof id_raw);
	token_hash(token, STORE_TOKEN_LEN, hash);
	char scope_text[STORE_TOKEN_SCOPES_TEXT];
	store_token_scopes_format(scopes, scope_text);

	int rc = -1;
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "INSERT INTO tokens(id, name, hash, scopes, created_ms) VALUES(?1, ?2, ?3, ?4, ?5)",
	        err);
	if (!stmt)
		goto out;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 3, hash, (int)sizeof hash, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, scope_text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, wall_ms());
	int step = sqlite3_step(stmt);
	if (step == SQLITE_DONE)
		rc = 0;
	else if (step == SQLITE_CONSTRAINT_UNIQUE)
		err_set(err,
		        "a live token named \"%s\" exists already (revoke it first, or choose "
		        "another name)",
		        name);
	else
		store_sql_err(st, err, "storing a token");
	sqlite3_finalize(stmt);
out:
	if (rc == 0) {
		*token_out = token;
		memcpy(id_out, id, sizeof id);
	} else {
		store_token_free(token);
	}
	return rc;
}

int store_token_create(struct store *st, const char *name, unsigned scopes, char **token_out,
                       char id_out[STORE_TOKEN_ID_LEN + 1], struct err *err)
{
	*token_out = NULL;
	id_out[0] = '\0';
	if (name_check(name, err) < 0)
		return -1;
	if (!scopes || (scopes & ~(unsigned)STORE_SCOPE_ALL))
		return err_set(err, "token \"%s\": no valid scope given", name);
	return token_insert(st, name, scopes, token_out, id_out, err);
}

/* Looks a token up by its hash (a blob) or its id (text): STORE_TOKEN_OK with `out`
 * (REVOKED and FORBIDDEN are the caller's to decide), STORE_TOKEN_UNKNOWN, or -1. */
static int token_find_by(struct store *st, const unsigned char *hash, const char *id,
                         struct store_token_info *out, struct err *err)
{
	sqlite3_stmt *stmt =
	        store_prepare(st,
	                      hash ? "SELECT " INFO_COLUMNS " FROM tokens WHERE hash = ?1"
	                           : "SELECT " INFO_COLUMNS " FROM tokens WHERE id = ?1",
	                      err);
	if (!stmt)
		return -1;
	if (hash)
		sqlite3_bind_blob(stmt, 1, hash, HASH_BYTES, SQLITE_STATIC);
	else
		sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		info_from_row(stmt, out);
		rc = STORE_TOKEN_OK;
	} else if (rc == SQLITE_DONE) {
		rc = STORE_TOKEN_UNKNOWN;
	} else {
		rc = store_sql_err(st, err, "looking a token up");
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* Records a use, at most once per STORE_TOKEN_TOUCH_MS; failing to is not fatal. */
static void token_touch(struct store *st, struct store_token_info *info)
{
	int64_t now = wall_ms();
	if (info->last_used_ms && now - info->last_used_ms < STORE_TOKEN_TOUCH_MS &&
	    now >= info->last_used_ms)
		return;
	sqlite3_stmt *stmt =
	        store_prepare(st, "UPDATE tokens SET last_used_ms = ?1 WHERE id = ?2", NULL);
	if (!stmt)
		return;
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_text(stmt, 2, info->id, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_DONE)
		info->last_used_ms = now;
	sqlite3_finalize(stmt);
}

/* What a found token may do: REVOKED, FORBIDDEN (lacks `required`), or OK (its use
 * recorded); `out` gets it either way. */
static int token_judge(struct store *st, struct store_token_info *info, unsigned required,
                       struct store_token_info *out)
{
	int rc = STORE_TOKEN_OK;
	if (info->revoked_ms)
		rc = STORE_TOKEN_REVOKED;
	else if ((store_token_scopes_effective(info->scopes) & required) != required)
		rc = STORE_TOKEN_FORBIDDEN;
	else
		token_touch(st, info);
	if (out)
		*out = *info;
	return rc;
}

int store_token_check_id(struct store *st, const char *id, unsigned required,
                         struct store_token_info *out, struct err *err)
{
	struct store_token_info info;
	if (out)
		memset(out, 0, sizeof *out);
	if (!id || strlen(id) > STORE_TOKEN_ID_LEN)
		return STORE_TOKEN_UNKNOWN;
	int rc = token_find_by(st, NULL, id, &info, err);
	return rc == STORE_TOKEN_OK ? token_judge(st, &info, required, out) : rc;
}

int store_token_check(struct store *st, const char *token, unsigned required,
                      struct store_token_info *out, struct err *err)
{
	struct store_token_info info;
	if (out)
		memset(out, 0, sizeof *out);
	if (!token)
		return STORE_TOKEN_UNKNOWN;
	size_t len = strnlen(token, STORE_TOKEN_MAX + 1);
	if (len == 0 || len > STORE_TOKEN_MAX)
		return STORE_TOKEN_UNKNOWN;
	unsigned char hash[HASH_BYTES];
	token_hash(token, len, hash);
	int rc = token_find_by(st, hash, NULL, &info, err);
	return rc == STORE_TOKEN_OK ? token_judge(st, &info, required, out) : rc;
}

int store_token_list(struct store *st, struct store_token_info **items, size_t *n, struct err *err)
{
	*items = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(
	        st, "SELECT " INFO_COLUMNS " FROM tokens ORDER BY created_ms, rowid", err);
	if (!stmt)
		return -1;
	struct store_token_info *v = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		info_from_row(stmt, &v[len++]);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_sql_err(st, err, "listing tokens");
	}
	*items = v;
	*n = len;
	return 0;
}

/* Finds by id, else by live name: 0 with `out`, STORE_NOT_FOUND, or -1. */
static int token_find_named(struct store *st, const char *id_or_name, struct store_token_info *out,
                            struct err *err)
{
	static const char *const queries[] = {
	        "SELECT " INFO_COLUMNS " FROM tokens WHERE id = ?1",
	        "SELECT " INFO_COLUMNS " FROM tokens WHERE name = ?1 AND revoked_ms IS NULL",
	};
	for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
		sqlite3_stmt *stmt = store_prepare(st, queries[q], err);
		if (!stmt)
			return -1;
		sqlite3_bind_text(stmt, 1, id_or_name, -1, SQLITE_STATIC);
		int rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			info_from_row(stmt, out);
		else if (rc != SQLITE_DONE)
			store_sql_err(st, err, "looking a token up");
		sqlite3_finalize(stmt);
		if (rc == SQLITE_ROW)
			return 0;
		if (rc != SQLITE_DONE)
			return -1;
	}
	return STORE_NOT_FOUND;
}

static int token_set_revoked(struct store *st, const char *id, int64_t when, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st, "UPDATE tokens SET revoked_ms = ?1 WHERE id = ?2 AND revoked_ms IS NULL", err);
	if (!stmt)
		return -1;
	sqlite3_bind_int64(stmt, 1, when);
	sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : store_sql_err(st, err, "revoking a token");
	sqlite3_finalize(stmt);
	return rc;
}

int store_token_revoke(struct store *st, const char *id_or_name, struct store_token_info *out,
                       struct err *err)
{
	struct store_token_info info;
	if (out)
		memset(out, 0, sizeof *out);
	if (!id_or_name || !*id_or_name)
		return err_set(err, "no token id or name given");
	if (strnlen(id_or_name, STORE_TOKEN_NAME_MAX + 1) > STORE_TOKEN_NAME_MAX) {
		err_set(err, "no token with id or name \"%.40s...\"", id_or_name);
		return STORE_NOT_FOUND;
	}
	if (store_begin(st, err) < 0)
		return -1;
	int rc = token_find_named(st, id_or_name, &info, err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no live token with id or name \"%s\"", id_or_name);
	if (rc == 0 && info.revoked_ms) {
		err_set(err, "token %s (%s) is revoked already", info.id, info.name);
		rc = STORE_NOT_FOUND;
	}
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	info.revoked_ms = wall_ms();
	if (token_set_revoked(st, info.id, info.revoked_ms, err) < 0) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st, err) < 0)
		return -1;
	if (out)
		*out = info;
	return 0;
}

void store_token_free(char *token)
{
	if (!token)
		return;
	sodium_memzero(token, strlen(token));
	free(token);
}

/* ---- the admin token file ---- */

/* Reads an existing token file: 0 with *token, 1 when there is none, -1. */
static int admin_file_read(const char *path, char **token, struct err *err)
{
	*token = NULL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 && errno == ELOOP)
		return err_set(err, "%s: is a symbolic link; refusing to use it", path);
	if (fd < 0)
		return err_errno(err, "%s", path);
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return err_set(err, "%s: not a regular file", path);
	}
	char buf[STORE_TOKEN_MAX + 2];
	size_t len = 0;
	while (len < sizeof buf) {
		ssize_t n = read(fd, buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = err_errno(err, "%s: reading", path);
			close(fd);
			sodium_memzero(buf, sizeof buf);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	*token = xstrndup(buf, len < sizeof buf ? len : sizeof buf - 1);
	sodium_memzero(buf, sizeof buf);
	return 0;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Writes `token` and a newline to a new private file beside `path`; *tmp_out names it. */
static int admin_file_write_tmp(const char *dir, const char *token, char **tmp_out, struct err *err)
{
	char *tmp = NULL;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 8; tries++) {
		free(tmp);
		tmp = xasprintf("%s/.%s.%08x", dir, STORE_TOKEN_ADMIN_FILE,
		                (unsigned)randombytes_random());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err_errno(err, "%s", tmp);
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0600) < 0 || fs_write_all(fd, token, strlen(token)) < 0 ||
	    fs_write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		err_errno(err, "%s", tmp);
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	*tmp_out = tmp;
	return 0;
}

/* Revokes live tokens with the admin file's name (a deleted file's, or an orphan's). */
static int admin_revoke_previous(struct store *st, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st, "UPDATE tokens SET revoked_ms = ?1 WHERE name = ?2 AND revoked_ms IS NULL",
	        err);
	if (!stmt)
		return -1;
	sqlite3_bind_int64(stmt, 1, wall_ms());
	sqlite3_bind_text(stmt, 2, STORE_TOKEN_ADMIN_NAME, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt) == SQLITE_DONE
	                 ? 0
	                 : store_sql_err(st, err, "revoking the previous admin token");
	sqlite3_finalize(stmt);
	return rc;
}

/* Under the write lock: 1 when the file exists and holds a token the database knows,
 * 0 when a new one must be made (*replace set when a stale file is there), -1. */
static int admin_file_state(struct store *st, const char *path, int *replace, struct err *err)
{
	char *existing = NULL;
	*replace = 0;
	int rc = admin_file_read(path, &existing, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	struct store_token_info info;
	size_t len = strlen(existing);
	rc = STORE_TOKEN_UNKNOWN;
	if (len && len <= STORE_TOKEN_MAX) {
		unsigned char hash[HASH_BYTES];
		token_hash(existing, len, hash);
		rc = token_find_by(st, hash, NULL, &info, err);
	}
	store_token_free(existing);
	if (rc < 0)
		return -1;
	if (rc == STORE_TOKEN_OK)
		return 1;
	*replace = 1;
	return 0;
}

int store_token_ensure_admin_file(struct store *st, const char *data_dir, char **token_out,
                                  struct err *err)
{
	*token_out = NULL;
	const char *dir = data_dir ? data_dir : st->dir;
	char *path = fs_join(dir, STORE_TOKEN_ADMIN_FILE);
	char *tmp = NULL, *token = NULL;
	char id[STORE_TOKEN_ID_LEN + 1];
	int replace = 0, linked = 0, rc = -1;

	if (store_begin(st, err) < 0)
		goto out;
	int state = admin_file_state(st, path, &replace, err);
	if (state != 0) {
		store_rollback(st);
		rc = state;
		goto out;
	}
	if (admin_revoke_previous(st, err) < 0 ||
	    token_insert(st, STORE_TOKEN_ADMIN_NAME, STORE_SCOPE_ADMIN, &token, id, err) < 0 ||
	    admin_file_write_tmp(dir, token, &tmp, err) < 0)
		goto fail;
	if (replace) {
		if (rename(tmp, path) < 0) {
			err_errno(err, "%s: replacing a stale admin token file", path);
			goto fail;
		}
	} else if (link(tmp, path) < 0) {
		if (errno == EEXIST) { /* someone other than ferry made it just now */
			store_rollback(st);
			rc = 1;
			goto out;
		}
		err_errno(err, "%s: creating the admin token file", path);
		goto fail;
	}
	linked = 1;
	if (store_commit(st, err) < 0)
		goto out;
	fsync_dir(dir);
	*token_out = token;
	token = NULL;
	rc = 0;
	goto out;
fail:
	store_rollback(st);
out:
	if (rc < 0 && linked)
		unlink(path); /* its token was never committed */
	if (tmp) {
		unlink(tmp); /* after link() or a failure; gone already after rename() */
		free(tmp);
	}
	store_token_free(token);
	free(path);
	return rc;
}
