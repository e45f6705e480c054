/*
 * secret.c — ferry's secret store: values sealed with libsodium's secretbox
 * (XSalsa20-Poly1305) under a key that lives beside the database in
 * <data>/secret.key, never inside it.
 *
 * Why it is built this way:
 *  - a copy of ferry.db (a backup, a bug report) reveals names and times only;
 *  - each value is sealed under a key derived from the master key and its name,
 *    so a box moved to another name's row fails to open rather than handing a
 *    build the wrong secret;
 *  - the key file is created once, complete, by linking a finished temporary
 *    file into place: a concurrent reader sees no key or the whole key, and two
 *    processes racing to create it end up sharing the winner's;
 *  - a key file that group or others can read or write, that is not ours, or
 *    that is a symbolic link is refused (as ssh refuses a loose private key):
 *    silently using it would mean every secret was already exposed.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define KEY_FILE  "secret.key"
#define KEY_BYTES crypto_secretbox_KEYBYTES

/* Domain separation for the per-name key; the NUL ends it before the name. */
static const char name_key_context[] = "ferry secret v1";

_Static_assert(KEY_BYTES == crypto_generichash_BYTES, "per-name keys come from generichash");

static int name_check(const char *name, struct err *err)
{
	if (!name || !*name)
		return err_set(err, "secret name is empty");
	size_t n = strnlen(name, SECRET_NAME_MAX + 1);
	if (n > SECRET_NAME_MAX)
		return err_set(err, "secret name \"%.40s...\" is longer than %d bytes", name,
		               SECRET_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c > 0x20 && c < 0x7f)
			continue;
		/* Only the bytes before `i` are known printable, so only they are shown. */
		if (c == ' ')
			return err_set(
			        err,
			        "secret name \"%.*s...\" has a space at position %zu; names are "
			        "printable ASCII without spaces",
			        (int)i, name, i + 1);
		return err_set(err,
		               "secret name \"%.*s...\" has byte 0x%02x at position %zu; names are "
		               "printable ASCII without spaces",
		               (int)i, name, c, i + 1);
	}
	return 0;
}

static void name_key(const unsigned char *master, const char *name, unsigned char out[KEY_BYTES])
{
	crypto_generichash_state s;
	crypto_generichash_init(&s, master, KEY_BYTES, KEY_BYTES);
	crypto_generichash_update(&s, (const unsigned char *)name_key_context,
	                          sizeof name_key_context);
	crypto_generichash_update(&s, (const unsigned char *)name, strlen(name));
	crypto_generichash_final(&s, out, KEY_BYTES);
	sodium_memzero(&s, sizeof s);
}

static int read_all(int fd, unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
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

/* Creates <dir>/secret.key unless it exists; losing a race to another process is fine. */
static int key_create(struct store *st, const char *path, struct err *err)
{
	unsigned char *key = sodium_malloc(KEY_BYTES);
	if (!key)
		return err_set(err, "%s: out of memory", path);
	randombytes_buf(key, KEY_BYTES);
	char *tmp = NULL;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 8; tries++) {
		free(tmp);
		tmp = xasprintf("%s/.%s.%08x", st->dir, KEY_FILE, (unsigned)randombytes_random());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	int rc = -1;
	if (fd < 0) {
		err_errno(err, "%s", tmp);
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || fs_write_all(fd, key, KEY_BYTES) < 0 || fsync(fd) < 0) {
		err_errno(err, "%s", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	/* link() never replaces an existing file: the first creator wins. */
	if (link(tmp, path) < 0 && errno != EEXIST) {
		err_errno(err, "%s: creating the key file", path);
		unlink(tmp);
		goto out;
	}
	unlink(tmp);
	fsync_dir(st->dir);
	rc = 0;
out:
	sodium_free(key);
	free(tmp);
	return rc;
}

/* 0 with st->key loaded, 1 when the file does not exist, -1 on error. */
static int key_load(struct store *st, const char *path, struct err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 && errno == ELOOP)
		return err_set(err, "%s: is a symbolic link; refusing to use it as the secrets key",
		               path);
	if (fd < 0)
		return err_errno(err, "%s", path);
	struct stat sb;
	int rc = -1;
	if (fstat(fd, &sb) < 0) {
		err_errno(err, "%s", path);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		err_set(err, "%s: not a regular file", path);
		goto out;
	}
	if (sb.st_uid != geteuid()) {
		err_set(err,
		        "%s: owned by uid %ld, not by the user running ferry (uid %ld); refusing "
		        "it",
		        path, (long)sb.st_uid, (long)geteuid());
		goto out;
	}
	if (sb.st_mode & 077) {
		err_set(err,
		        "%s: mode %04o lets group or others read or change the secrets key; "
		        "refusing "
		        "it (if nobody else could have read it, fix with: chmod 600 %s; otherwise "
		        "treat every stored secret as exposed)",
		        path, (unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	if (sb.st_size != KEY_BYTES) {
		err_set(err, "%s: holds %lld bytes, a key is %d", path, (long long)sb.st_size,
		        KEY_BYTES);
		goto out;
	}
	unsigned char *key = sodium_malloc(KEY_BYTES);
	if (!key) {
		err_set(err, "%s: out of memory", path);
		goto out;
	}
	if (read_all(fd, key, KEY_BYTES) < 0) {
		err_errno(err, "%s: reading", path);
		sodium_free(key);
		goto out;
	}
	sodium_mprotect_readonly(key);
	st->key = key;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Makes st->key available; `create` says whether a missing key file may be made. */
static int key_get(struct store *st, int create, struct err *err)
{
	if (st->key)
		return 0;
	char *path = fs_join(st->dir, KEY_FILE);
	int rc = key_load(st, path, err);
	if (rc == 1 && create) {
		rc = key_create(st, path, err);
		if (rc == 0)
			rc = key_load(st, path, err);
		if (rc == 1)
			rc = err_set(err, "%s: vanished right after it was created", path);
	} else if (rc == 1) {
		rc = err_set(err,
		             "%s: missing, so the stored secrets cannot be decrypted (restore it "
		             "from a backup, or set the secrets again)",
		             path);
	}
	free(path);
	return rc;
}

int store_secret_set(struct store *st, const char *name, const char *value, size_t len,
                     struct err *err)
{
	if (name_check(name, err) < 0)
		return -1;
	if (len == 0)
		return err_set(err, "secret \"%s\": the value is empty", name);
	if (len > SECRET_VALUE_MAX)
		return err_set(err,
		               "secret \"%s\": the value is %zu bytes, more than the limit of %d",
		               name, len, SECRET_VALUE_MAX);
	if (key_get(st, 1, err) < 0)
		return -1;

	unsigned char nonce[crypto_secretbox_NONCEBYTES];
	unsigned char k[KEY_BYTES];
	size_t box_len = len + crypto_secretbox_MACBYTES;
	unsigned char *box = xmalloc(box_len);
	randombytes_buf(nonce, sizeof nonce);
	name_key(st->key, name, k);
	crypto_secretbox_easy(box, (const unsigned char *)value, len, nonce, k);
	sodium_memzero(k, sizeof k);

	int rc = -1;
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "INSERT INTO secrets(name, nonce, box, updated_ms) VALUES(?1, ?2, ?3, ?4)"
	        " ON CONFLICT(name) DO UPDATE SET nonce = excluded.nonce, box = excluded.box,"
	        " updated_ms = excluded.updated_ms",
	        err);
	if (!stmt)
		goto out;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 2, nonce, (int)sizeof nonce, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 3, box, (int)box_len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, wall_ms());
	if (sqlite3_step(stmt) == SQLITE_DONE)
		rc = 0;
	else
		store_sql_err(st, err, "storing a secret");
	sqlite3_finalize(stmt);
out:
	free(box);
	return rc;
}

int store_secret_get(struct store *st, const char *name, char **value, size_t *len, struct err *err)
{
	*value = NULL;
	*len = 0;
	if (name_check(name, err) < 0)
		return -1;
	sqlite3_stmt *stmt =
	        store_prepare(st, "SELECT nonce, box FROM secrets WHERE name = ?1", err);
	if (!stmt)
		return -1;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(stmt);
		err_set(err, "no secret named \"%s\"", name);
		return STORE_NOT_FOUND;
	}
	if (rc != SQLITE_ROW) {
		store_sql_err(st, err, "reading a secret");
		sqlite3_finalize(stmt);
		return -1;
	}
	const unsigned char *nonce = sqlite3_column_blob(stmt, 0);
	int nonce_len = sqlite3_column_bytes(stmt, 0);
	const unsigned char *box = sqlite3_column_blob(stmt, 1);
	size_t box_len = (size_t)sqlite3_column_bytes(stmt, 1);
	rc = -1;
	if (nonce_len != crypto_secretbox_NONCEBYTES || box_len <= crypto_secretbox_MACBYTES ||
	    box_len > SECRET_VALUE_MAX + crypto_secretbox_MACBYTES) {
		err_set(err, "%s: secret \"%s\" is damaged (wrong sizes)", st->db_path, name);
		goto out;
	}
	if (key_get(st, 0, err) < 0)
		goto out;
	size_t plain_len = box_len - crypto_secretbox_MACBYTES;
	unsigned char *plain = xmalloc(plain_len + 1);
	unsigned char k[KEY_BYTES];
	name_key(st->key, name, k);
	int opened = crypto_secretbox_open_easy(plain, box, box_len, nonce, k);
	sodium_memzero(k, sizeof k);
	if (opened != 0) {
		store_secret_value_free((char *)plain, plain_len);
		err_set(err,
		        "%s: secret \"%s\" cannot be decrypted: secret.key is not the key it was "
		        "stored with, or the row was changed",
		        st->db_path, name);
		goto out;
	}
	plain[plain_len] = '\0';
	*value = (char *)plain;
	*len = plain_len;
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}

int store_secret_list(struct store *st, struct store_secret_info **items, size_t *n,
                      struct err *err)
{
	*items = NULL;
	*n = 0;
	sqlite3_stmt *stmt =
	        store_prepare(st, "SELECT name, updated_ms FROM secrets ORDER BY name", err);
	if (!stmt)
		return -1;
	struct store_secret_info *v = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[len].name = xstrdup((const char *)sqlite3_column_text(stmt, 0));
		v[len].updated_ms = sqlite3_column_int64(stmt, 1);
		len++;
	}
	if (rc != SQLITE_DONE) {
		store_sql_err(st, err, "listing secrets");
		sqlite3_finalize(stmt);
		store_secret_list_free(v, len);
		return -1;
	}
	sqlite3_finalize(stmt);
	*items = v;
	*n = len;
	return 0;
}

void store_secret_list_free(struct store_secret_info *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i].name);
	free(items);
}

int store_secret_delete(struct store *st, const char *name, struct err *err)
{
	if (name_check(name, err) < 0)
		return -1;
	sqlite3_stmt *stmt = store_prepare(st, "DELETE FROM secrets WHERE name = ?1", err);
	if (!stmt)
		return -1;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		store_sql_err(st, err, "deleting a secret");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	if (sqlite3_changes(st->db) == 0) {
		err_set(err, "no secret named \"%s\"", name);
		return STORE_NOT_FOUND;
	}
	return 0;
}

void store_secret_value_free(char *value, size_t len)
{
	if (!value)
		return;
	sodium_memzero(value, len + 1); /* the value and its terminating NUL */
	free(value);
}
