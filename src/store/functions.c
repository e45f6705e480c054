/*
 * functions.c — functions, their versions, aliases and invocations (see functions.h).
 *
 * Why it is built this way:
 *  - version numbers come from a counter on the function's row (`next_version`), not
 *    from MAX(version) + 1, so a number is never handed out twice;
 *  - publishing reads $LATEST, compares it with the newest version and writes the
 *    new one in one transaction: two publishes at once never both write, nor number
 *    the same code twice;
 *  - deleting a function deletes everything of it through the foreign keys.
 */
#include "store/functions.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/timeutil.h"

int store_fn_name_check(const char *name, struct err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > STORE_FN_NAME_MAX)
		return err_set(err, "function name \"%.80s\": expected 1 to %d characters",
		               name ? name : "", STORE_FN_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return err_set(
			        err,
			        "function name \"%s\": '%c' is not allowed (letters, digits, "
			        "'-' and '_', as in Lambda)",
			        name, c);
	}
	return 0;
}

/* ---- configurations ---- */

#define FN_COLUMNS                                                                                 \
	"runtime, handler, description, timeout, memory, env, code_sha, code_size, code_dir,"      \
	" revision_id, modified_ms"

static void fn_fill_common(sqlite3_stmt *stmt, struct store_fn *f)
{
	f->name = store_col_text(stmt, 0);
	f->version = store_col_text(stmt, 1);
	f->runtime = store_col_text(stmt, 2);
	f->handler = store_col_text(stmt, 3);
	f->description = store_col_text(stmt, 4);
	f->timeout = sqlite3_column_int(stmt, 5);
	f->memory = sqlite3_column_int(stmt, 6);
	f->env = store_col_text(stmt, 7);
	f->code_sha = store_col_text(stmt, 8);
	f->code_size = sqlite3_column_int64(stmt, 9);
	f->code_dir = store_col_text(stmt, 10);
	f->revision_id = store_col_text(stmt, 11);
	f->modified_ms = sqlite3_column_int64(stmt, 12);
}

static void fn_fill(sqlite3_stmt *stmt, void *row)
{
	fn_fill_common(stmt, row);
}

static void fn_clear(void *row)
{
	store_fn_free(row);
}

static void fn_bind(sqlite3_stmt *stmt, const struct store_fn *f)
{
	store_bind_text(stmt, 1, f->name);
	store_bind_text(stmt, 2, f->runtime);
	store_bind_text(stmt, 3, f->handler);
	store_bind_text(stmt, 4, f->description && *f->description ? f->description : NULL);
	sqlite3_bind_int(stmt, 5, f->timeout);
	sqlite3_bind_int(stmt, 6, f->memory);
	store_bind_text(stmt, 7, f->env ? f->env : "{}");
	store_bind_text(stmt, 8, f->code_sha);
	sqlite3_bind_int64(stmt, 9, f->code_size);
	store_bind_text(stmt, 10, f->code_dir);
	store_bind_text(stmt, 11, f->revision_id);
	sqlite3_bind_int64(stmt, 12, f->modified_ms ? f->modified_ms : wall_ms());
}

int store_fn_create(struct store *st, const struct store_fn *f, struct err *err)
{
	if (store_fn_name_check(f->name, err) < 0)
		return -1;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO functions(name, " FN_COLUMNS
	                                   ", created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	                                   " ?9, ?10, ?11, ?12, ?12)",
	                                   err);
	if (!stmt)
		return -1;
	fn_bind(stmt, f);
	int rc = store_write_step(st, stmt, "creating a function", err);
	if (rc == STORE_CONFLICT)
		err_set(err, "function \"%s\" exists already", f->name);
	return rc;
}

int store_fn_update(struct store *st, const struct store_fn *f, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "UPDATE functions SET runtime = ?2, handler = ?3, description = ?4, timeout = ?5,"
	        " memory = ?6, env = ?7, code_sha = ?8, code_size = ?9, code_dir = ?10,"
	        " revision_id = ?11, modified_ms = ?12 WHERE name = ?1",
	        err);
	if (!stmt)
		return -1;
	fn_bind(stmt, f);
	int rc = store_write_step(st, stmt, "updating a function", err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "function \"%s\" does not exist", f->name);
		return STORE_NOT_FOUND;
	}
	return rc;
}

/* 1 when `s` is a version number ("1", "42"), with its value. */
static int version_number(const char *s, int64_t *out)
{
	if (!s || !*s || *s == '0' || strlen(s) > 12)
		return 0;
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 1;
}

int store_fn_get(struct store *st, const char *name, const char *version, struct store_fn *out,
                 struct err *err)
{
	memset(out, 0, sizeof *out);
	int latest = !version || !strcmp(version, "$LATEST");
	int64_t num = 0;
	if (!latest && !version_number(version, &num)) {
		err_set(err, "function \"%s\": \"%s\" is not a version (\"$LATEST\" or a number)",
		        name, version);
		return STORE_NOT_FOUND;
	}
	sqlite3_stmt *stmt =
	        latest ? store_prepare(st,
	                               "SELECT name, '$LATEST', " FN_COLUMNS
	                               " FROM functions WHERE name = ?1",
	                               err)
	               : store_prepare(st,
	                               "SELECT function, CAST(version AS TEXT), " FN_COLUMNS
	                               " FROM function_versions WHERE function = ?1"
	                               " AND version = ?2",
	                               err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, name);
	if (!latest)
		sqlite3_bind_int64(stmt, 2, num);
	int rc = store_row_fetch_one(st, stmt, fn_fill, out, "reading a function", err);
	if (rc == STORE_NOT_FOUND) {
		if (latest)
			err_set(err, "function \"%s\" does not exist", name);
		else
			err_set(err, "function \"%s\" has no version %s", name, version);
	}
	return rc;
}

int store_fn_list(struct store *st, struct store_fn **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(
	        st, "SELECT name, '$LATEST', " FN_COLUMNS " FROM functions ORDER BY name", err);
	if (!stmt)
		return -1;
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, fn_fill, fn_clear, &rows, n,
	                             "listing functions", err);
	*out = rows;
	return rc;
}

int store_fn_versions(struct store *st, const char *name, struct store_fn **out, size_t *n,
                      struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT function, CAST(version AS TEXT), " FN_COLUMNS
	                                   " FROM function_versions WHERE function = ?1"
	                                   " ORDER BY version",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, name);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, fn_fill, fn_clear, &rows, n,
	                             "listing a function's versions", err);
	*out = rows;
	return rc;
}

int store_fn_delete(struct store *st, const char *name, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st, "DELETE FROM functions WHERE name = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, name);
	int rc = store_write_step(st, stmt, "deleting a function", err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "function \"%s\" does not exist", name);
		return STORE_NOT_FOUND;
	}
	return rc;
}

static int same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* 1 when version `v` runs exactly what $LATEST `f` runs. */
static int same_config(const struct store_fn *f, const struct store_fn *v)
{
	return same_str(f->code_sha, v->code_sha) && same_str(f->runtime, v->runtime) &&
	       same_str(f->handler, v->handler) && f->timeout == v->timeout &&
	       f->memory == v->memory && same_str(f->env, v->env);
}

/* The newest version into *out: 0, STORE_NOT_FOUND (none yet), -1. */
static int newest_version(struct store *st, const char *name, struct store_fn *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT function, CAST(version AS TEXT), " FN_COLUMNS
	                                   " FROM function_versions WHERE function = ?1"
	                                   " ORDER BY version DESC LIMIT 1",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, name);
	return store_row_fetch_one(st, stmt, fn_fill, out, "reading a function's versions", err);
}

static int next_version(struct store *st, const char *name, int64_t *out, struct err *err)
{
	sqlite3_stmt *get =
	        store_prepare(st, "SELECT next_version FROM functions WHERE name = ?1", err);
	if (!get)
		return -1;
	store_bind_text(get, 1, name);
	int rc = sqlite3_step(get);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(get, 0);
	else
		store_sql_err(st, err, "numbering a version");
	sqlite3_finalize(get);
	if (rc != SQLITE_ROW)
		return -1;
	sqlite3_stmt *up = store_prepare(
	        st, "UPDATE functions SET next_version = next_version + 1 WHERE name = ?1", err);
	if (!up)
		return -1;
	store_bind_text(up, 1, name);
	return store_write_step(st, up, "numbering a version", err);
}

int store_fn_publish(struct store *st, const char *name, const char *description,
                     const char *code_dir, const char *revision_id, int64_t *version, int *created,
                     struct err *err)
{
	*version = 0;
	*created = 0;
	if (store_begin(st, err) < 0)
		return -1;
	struct store_fn f, v;
	memset(&v, 0, sizeof v);
	int rc = store_fn_get(st, name, NULL, &f, err);
	if (rc != 0)
		goto out;
	rc = newest_version(st, name, &v, err);
	if (rc == 0 && same_config(&f, &v)) {
		(void)version_number(v.version, version);
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = next_version(st, name, version, err);
	if (rc != 0)
		goto out;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO function_versions(function, " FN_COLUMNS
	                                   ", version) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	                                   " ?10, ?11, ?12, ?13)",
	                                   err);
	if (!stmt) {
		rc = -1;
		goto out;
	}
	free(f.description);
	f.description = xstrdup(description ? description : "");
	if (code_dir) {
		free(f.code_dir);
		f.code_dir = xstrdup(code_dir);
	}
	free(f.revision_id);
	f.revision_id = xstrdup(revision_id);
	f.modified_ms = wall_ms();
	fn_bind(stmt, &f);
	sqlite3_bind_int64(stmt, 13, *version);
	rc = store_write_step(st, stmt, "publishing a version", err);
	if (rc == 0)
		*created = 1;
out:
	store_fn_free(&f);
	store_fn_free(&v);
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st, err);
}

void store_fn_free(struct store_fn *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->version);
	free(f->runtime);
	free(f->handler);
	free(f->description);
	free(f->env);
	free(f->code_sha);
	free(f->code_dir);
	free(f->revision_id);
	memset(f, 0, sizeof *f);
}

void store_fn_list_free(struct store_fn *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_fn_free(&f[i]);
	free(f);
}

/* ---- aliases ---- */

#define ALIAS_COLUMNS "function, name, version, previous, description, revision_id, modified_ms"

static void alias_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_alias *a = row;
	a->function = store_col_text(stmt, 0);
	a->name = store_col_text(stmt, 1);
	a->version = store_col_text(stmt, 2);
	a->previous = store_col_text(stmt, 3);
	a->description = store_col_text(stmt, 4);
	a->revision_id = store_col_text(stmt, 5);
	a->modified_ms = sqlite3_column_int64(stmt, 6);
}

static void alias_clear(void *row)
{
	store_alias_free(row);
}

int store_alias_put(struct store *st, const struct store_alias *a, int create, struct err *err)
{
	int64_t num = 0;
	if (!version_number(a->version, &num))
		return err_set(err, "alias \"%s\": \"%s\" is not a published version number",
		               a->name, a->version ? a->version : "");
	if (store_begin(st, err) < 0)
		return -1;
	struct store_fn v;
	struct store_alias old;
	memset(&old, 0, sizeof old);
	int rc = store_fn_get(st, a->function, a->version, &v, err);
	store_fn_free(&v);
	if (rc != 0)
		goto out;
	rc = store_alias_get(st, a->function, a->name, &old, err);
	if (rc == 0 && create) {
		rc = STORE_CONFLICT;
		err_set(err, "function \"%s\" has an alias \"%s\" already (pointing at version %s)",
		        a->function, a->name, old.version);
		goto out;
	}
	if (rc == STORE_NOT_FOUND && create)
		rc = 0;
	if (rc != 0)
		goto out;
	/* a move remembers where it came from; staying put keeps the older memory */
	const char *previous = !create && strcmp(old.version, a->version) ? old.version
	                       : !create                                  ? old.previous
	                                                                  : NULL;
	const char *desc = a->description ? a->description : old.description;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT OR REPLACE INTO function_aliases(" ALIAS_COLUMNS
	                                   ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                                   err);
	if (!stmt) {
		rc = -1;
		goto out;
	}
	store_bind_text(stmt, 1, a->function);
	store_bind_text(stmt, 2, a->name);
	store_bind_text(stmt, 3, a->version);
	store_bind_text(stmt, 4, previous);
	store_bind_text(stmt, 5, desc && *desc ? desc : NULL);
	store_bind_text(stmt, 6, a->revision_id);
	sqlite3_bind_int64(stmt, 7, wall_ms());
	rc = store_write_step(st, stmt, "writing an alias", err);
out:
	store_alias_free(&old);
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st, err);
}

int store_alias_get(struct store *st, const char *function, const char *name,
                    struct store_alias *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " ALIAS_COLUMNS " FROM function_aliases"
	                                   " WHERE function = ?1 AND name = ?2",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, function);
	store_bind_text(stmt, 2, name);
	int rc = store_row_fetch_one(st, stmt, alias_fill, out, "reading an alias", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "function \"%s\" has no alias \"%s\"", function, name);
	return rc;
}

int store_alias_list(struct store *st, const char *function, struct store_alias **out, size_t *n,
                     struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " ALIAS_COLUMNS " FROM function_aliases"
	                                   " WHERE function = ?1 ORDER BY name",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, function);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, alias_fill, alias_clear, &rows, n,
	                             "listing aliases", err);
	*out = rows;
	return rc;
}

int store_alias_delete(struct store *st, const char *function, const char *name, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st, "DELETE FROM function_aliases WHERE function = ?1 AND name = ?2", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, function);
	store_bind_text(stmt, 2, name);
	int rc = store_write_step(st, stmt, "deleting an alias", err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "function \"%s\" has no alias \"%s\"", function, name);
		return STORE_NOT_FOUND;
	}
	return rc;
}

void store_alias_free(struct store_alias *a)
{
	if (!a)
		return;
	free(a->function);
	free(a->name);
	free(a->version);
	free(a->previous);
	free(a->description);
	free(a->revision_id);
	memset(a, 0, sizeof *a);
}

void store_alias_list_free(struct store_alias *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_alias_free(&a[i]);
	free(a);
}

/* ---- invocations ---- */

#define INV_COLUMNS                                                                                \
	"request_id, function, version, status, error_type, duration_ms, started_ms, log_path"

static void inv_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_invocation *i = row;
	i->request_id = store_col_text(stmt, 0);
	i->function = store_col_text(stmt, 1);
	i->version = store_col_text(stmt, 2);
	i->status = store_col_text(stmt, 3);
	i->error_type = store_col_text(stmt, 4);
	i->duration_ms = sqlite3_column_int64(stmt, 5);
	i->started_ms = sqlite3_column_int64(stmt, 6);
	i->log_path = store_col_text(stmt, 7);
}

static void inv_clear(void *row)
{
	store_invocation_free(row);
}

/* The log paths of the function's invocations past the newest `keep`, then their rows
 * deleted (inside the caller's transaction). */
static int prune(struct store *st, const char *function, int keep, struct strv *pruned,
                 struct err *err)
{
	static const char old_sql[] = "SELECT log_path FROM invocations WHERE function = ?1"
	                              " ORDER BY started_ms DESC, rowid DESC LIMIT -1 OFFSET ?2";
	sqlite3_stmt *sel = store_prepare(st, old_sql, err);
	if (!sel)
		return -1;
	store_bind_text(sel, 1, function);
	sqlite3_bind_int(sel, 2, keep);
	int rc;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW)
		if (sqlite3_column_text(sel, 0))
			strv_push(pruned, (const char *)sqlite3_column_text(sel, 0));
	sqlite3_finalize(sel);
	if (rc != SQLITE_DONE)
		return store_sql_err(st, err, "pruning invocations");
	sqlite3_stmt *del = store_prepare(
	        st,
	        "DELETE FROM invocations WHERE rowid IN (SELECT rowid FROM invocations"
	        " WHERE function = ?1 ORDER BY started_ms DESC, rowid DESC LIMIT -1 OFFSET ?2)",
	        err);
	if (!del)
		return -1;
	store_bind_text(del, 1, function);
	sqlite3_bind_int(del, 2, keep);
	return store_write_step(st, del, "pruning invocations", err);
}

int store_invocation_add(struct store *st, const struct store_invocation *inv, int keep,
                         struct strv *pruned, struct err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO invocations(" INV_COLUMNS
	                                   ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	                                   err);
	int rc = -1;
	if (stmt) {
		store_bind_text(stmt, 1, inv->request_id);
		store_bind_text(stmt, 2, inv->function);
		store_bind_text(stmt, 3, inv->version);
		store_bind_text(stmt, 4, inv->status);
		store_bind_text(stmt, 5, inv->error_type);
		sqlite3_bind_int64(stmt, 6, inv->duration_ms);
		sqlite3_bind_int64(stmt, 7, inv->started_ms);
		store_bind_text(stmt, 8, inv->log_path);
		rc = store_write_step(st, stmt, "recording an invocation", err);
	}
	if (rc == 0 && keep > 0)
		rc = prune(st, inv->function, keep, pruned, err);
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st, err);
}

int store_invocation_get(struct store *st, const char *function, const char *request_id,
                         struct store_invocation *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt =
	        request_id ? store_prepare(st,
	                                   "SELECT " INV_COLUMNS " FROM invocations"
	                                   " WHERE function = ?1 AND request_id = ?2",
	                                   err)
	                   : store_prepare(st,
	                                   "SELECT " INV_COLUMNS " FROM invocations"
	                                   " WHERE function = ?1"
	                                   " ORDER BY started_ms DESC, rowid DESC LIMIT 1",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, function);
	if (request_id)
		store_bind_text(stmt, 2, request_id);
	int rc = store_row_fetch_one(st, stmt, inv_fill, out, "reading an invocation", err);
	if (rc == STORE_NOT_FOUND) {
		if (request_id)
			err_set(err, "function \"%s\" has no invocation %s", function, request_id);
		else
			err_set(err, "function \"%s\" has no invocations yet", function);
	}
	return rc;
}

int store_invocation_list(struct store *st, const char *function, int limit,
                          struct store_invocation **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " INV_COLUMNS " FROM invocations"
	                                   " WHERE function = ?1"
	                                   " ORDER BY started_ms DESC, rowid DESC LIMIT ?2",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, function);
	sqlite3_bind_int(stmt, 2, limit > 0 ? limit : 100);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, inv_fill, inv_clear, &rows, n,
	                             "listing invocations", err);
	*out = rows;
	return rc;
}

void store_invocation_free(struct store_invocation *inv)
{
	if (!inv)
		return;
	free(inv->request_id);
	free(inv->function);
	free(inv->version);
	free(inv->status);
	free(inv->error_type);
	free(inv->log_path);
	memset(inv, 0, sizeof *inv);
}

void store_invocation_list_free(struct store_invocation *inv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_invocation_free(&inv[i]);
	free(inv);
}
