/*
 * sites.c — sites, their releases and invalidations (see sites.h).
 *
 * Why it is built this way:
 *  - release numbers come from a counter on the site's row (`next_release`), not from
 *    MAX(number) + 1: a pruned release's number must not come back, or an edge cache
 *    keyed on (site, number) could serve an old object as new;
 *  - "one live release per site" is a partial unique index; switching therefore
 *    clears the old live row before it sets the new one, in one transaction (SQLite
 *    checks the index row by row, so a single UPDATE could trip it half-way);
 *  - deleting a site deletes its releases and invalidations through the foreign keys.
 */
#include "store/sites.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/buf.h"
#include "util/timeutil.h"

int store_site_name_check(const char *name, struct err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n < STORE_SITE_NAME_MIN || n > STORE_SITE_NAME_MAX)
		return err_set(err, "site name \"%.80s\": expected %d to %d characters",
		               name ? name : "", STORE_SITE_NAME_MIN, STORE_SITE_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && c != '.' && c != '-')
			return err_set(err,
			               "site name \"%s\": '%c' is not allowed (lower-case letters, "
			               "digits, '.' and '-', as in S3 bucket names)",
			               name, c);
		if (!alnum && (i == 0 || i == n - 1))
			return err_set(
			        err, "site name \"%s\": must start and end with a letter or digit",
			        name);
	}
	if (strstr(name, ".."))
		return err_set(err, "site name \"%s\": \"..\" is not allowed", name);
	return 0;
}

/* ---- sites ---- */

#define SITE_COLUMNS                                                                               \
	"name, host, index_doc, error_doc, spa, keep, visibility, default_ttl, created_ms"

static void site_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_site *s = row;
	s->name = store_col_text(stmt, 0);
	s->host = store_col_text(stmt, 1);
	s->index_doc = store_col_text(stmt, 2);
	s->error_doc = store_col_text(stmt, 3);
	s->spa = sqlite3_column_int(stmt, 4);
	s->keep = sqlite3_column_int(stmt, 5);
	s->visibility = sqlite3_column_int(stmt, 6);
	s->default_ttl = sqlite3_column_int(stmt, 7);
	s->created_ms = sqlite3_column_int64(stmt, 8);
}

static void site_clear(void *row)
{
	store_site_free(row);
}

static int site_check(const struct store_site *s, struct err *err)
{
	if (store_site_name_check(s->name, err) < 0)
		return -1;
	if (s->keep < 1)
		return err_set(err, "site \"%s\": keep must be at least 1", s->name);
	if (s->visibility != STORE_SITE_IMMEDIATE && s->visibility != STORE_SITE_CACHED)
		return err_set(err, "site \"%s\": unknown visibility %d", s->name, s->visibility);
	if (s->default_ttl < 0)
		return err_set(err, "site \"%s\": the TTL cannot be negative", s->name);
	return 0;
}

static void site_bind(sqlite3_stmt *stmt, const struct store_site *s)
{
	store_bind_text(stmt, 1, s->name);
	store_bind_text(stmt, 2, s->host && *s->host ? s->host : NULL);
	store_bind_text(stmt, 3, s->index_doc && *s->index_doc ? s->index_doc : "index.html");
	store_bind_text(stmt, 4, s->error_doc && *s->error_doc ? s->error_doc : NULL);
	sqlite3_bind_int(stmt, 5, s->spa != 0);
	sqlite3_bind_int(stmt, 6, s->keep);
	sqlite3_bind_int(stmt, 7, s->visibility);
	sqlite3_bind_int(stmt, 8, s->default_ttl);
}

/* After a STORE_CONFLICT: says whether the name or the host is the one taken. */
static void conflict_reason(struct store *st, const struct store_site *s, int creating,
                            struct err *err)
{
	struct store_site other;
	struct err e2;
	if (creating && store_site_get(st, s->name, &other, &e2) == 0) {
		store_site_free(&other);
		err_set(err, "site \"%s\" exists already", s->name);
		return;
	}
	err_set(err, "host \"%s\" is served by another site already", s->host ? s->host : "");
}

int store_site_create(struct store *st, const struct store_site *s, struct err *err)
{
	if (site_check(s, err) < 0)
		return -1;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO sites(" SITE_COLUMNS ") VALUES(?1, ?2, ?3,"
	                                   " ?4, ?5, ?6, ?7, ?8, ?9)",
	                                   err);
	if (!stmt)
		return -1;
	site_bind(stmt, s);
	sqlite3_bind_int64(stmt, 9, s->created_ms ? s->created_ms : wall_ms());
	int rc = store_write_step(st, stmt, "creating a site", err);
	if (rc == STORE_CONFLICT)
		conflict_reason(st, s, 1, err);
	return rc;
}

int store_site_update(struct store *st, const struct store_site *s, struct err *err)
{
	if (site_check(s, err) < 0)
		return -1;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "UPDATE sites SET host = ?2, index_doc = ?3,"
	                                   " error_doc = ?4, spa = ?5, keep = ?6, visibility = ?7,"
	                                   " default_ttl = ?8 WHERE name = ?1",
	                                   err);
	if (!stmt)
		return -1;
	site_bind(stmt, s);
	int rc = store_write_step(st, stmt, "updating a site", err);
	if (rc == STORE_CONFLICT)
		conflict_reason(st, s, 0, err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "site \"%s\" does not exist", s->name);
		return STORE_NOT_FOUND;
	}
	return rc;
}

int store_site_get(struct store *st, const char *name, struct store_site *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt =
	        store_prepare(st, "SELECT " SITE_COLUMNS " FROM sites WHERE name = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, name);
	int rc = store_row_fetch_one(st, stmt, site_fill, out, "reading a site", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "site \"%s\" does not exist", name);
	return rc;
}

int store_site_list(struct store *st, struct store_site **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt =
	        store_prepare(st, "SELECT " SITE_COLUMNS " FROM sites ORDER BY name", err);
	if (!stmt)
		return -1;
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, site_fill, site_clear, &rows, n,
	                             "listing sites", err);
	*out = rows;
	return rc;
}

int store_site_delete(struct store *st, const char *name, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st, "DELETE FROM sites WHERE name = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, name);
	int rc = store_write_step(st, stmt, "deleting a site", err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "site \"%s\" does not exist", name);
		return STORE_NOT_FOUND;
	}
	return rc;
}

void store_site_free(struct store_site *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->host);
	free(s->index_doc);
	free(s->error_doc);
	memset(s, 0, sizeof *s);
}

void store_site_list_free(struct store_site *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_site_free(&s[i]);
	free(s);
}

/* ---- releases ---- */

#define RELEASE_COLUMNS                                                                            \
	"site, number, dir, source, revision, cache_control, files, bytes, live, created_ms"

static void release_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_release *r = row;
	r->site = store_col_text(stmt, 0);
	r->number = sqlite3_column_int64(stmt, 1);
	r->dir = store_col_text(stmt, 2);
	r->source = store_col_text(stmt, 3);
	r->revision = store_col_text(stmt, 4);
	r->cache_control = store_col_text(stmt, 5);
	r->files = sqlite3_column_int64(stmt, 6);
	r->bytes = sqlite3_column_int64(stmt, 7);
	r->live = sqlite3_column_int(stmt, 8);
	r->created_ms = sqlite3_column_int64(stmt, 9);
}

static void release_free(struct store_release *r)
{
	free(r->site);
	free(r->dir);
	free(r->source);
	free(r->revision);
	free(r->cache_control);
	memset(r, 0, sizeof *r);
}

static void release_clear(void *row)
{
	release_free(row);
}

int store_release_next(struct store *st, const char *site, int64_t *out, struct err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	sqlite3_stmt *get =
	        store_prepare(st, "SELECT next_release FROM sites WHERE name = ?1", err);
	if (!get)
		goto fail;
	store_bind_text(get, 1, site);
	int rc = sqlite3_step(get);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(get, 0);
	else if (rc == SQLITE_DONE)
		err_set(err, "site \"%s\" does not exist", site);
	else
		store_sql_err(st, err, "numbering a release");
	sqlite3_finalize(get);
	if (rc != SQLITE_ROW) {
		store_rollback(st);
		return rc == SQLITE_DONE ? STORE_NOT_FOUND : -1;
	}
	sqlite3_stmt *up = store_prepare(
	        st, "UPDATE sites SET next_release = next_release + 1 WHERE name = ?1", err);
	if (!up)
		goto fail;
	store_bind_text(up, 1, site);
	if (store_write_step(st, up, "numbering a release", err) != 0)
		goto fail;
	return store_commit(st, err);
fail:
	store_rollback(st);
	return -1;
}

int store_release_add(struct store *st, const struct store_release *r, struct err *err)
{
	sqlite3_stmt *stmt =
	        store_prepare(st,
	                      "INSERT INTO releases(" RELEASE_COLUMNS ") VALUES(?1, ?2,"
	                      " ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)",
	                      err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, r->site);
	sqlite3_bind_int64(stmt, 2, r->number);
	store_bind_text(stmt, 3, r->dir);
	store_bind_text(stmt, 4, r->source);
	store_bind_text(stmt, 5, r->revision);
	store_bind_text(stmt, 6, r->cache_control);
	sqlite3_bind_int64(stmt, 7, r->files);
	sqlite3_bind_int64(stmt, 8, r->bytes);
	sqlite3_bind_int64(stmt, 9, r->created_ms ? r->created_ms : wall_ms());
	int rc = store_write_step(st, stmt, "adding a release", err);
	if (rc == STORE_CONFLICT)
		err_set(err, "site \"%s\": release %lld exists already", r->site,
		        (long long)r->number);
	else if (rc == STORE_NOT_FOUND)
		err_set(err, "site \"%s\" does not exist", r->site);
	return rc;
}

int store_release_set_live(struct store *st, const char *site, int64_t number, struct err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	sqlite3_stmt *off = store_prepare(
	        st, "UPDATE releases SET live = 0 WHERE site = ?1 AND live = 1 AND number <> ?2",
	        err);
	if (!off)
		goto fail;
	store_bind_text(off, 1, site);
	sqlite3_bind_int64(off, 2, number);
	if (store_write_step(st, off, "switching releases", err) != 0)
		goto fail;
	sqlite3_stmt *on = store_prepare(
	        st, "UPDATE releases SET live = 1 WHERE site = ?1 AND number = ?2", err);
	if (!on)
		goto fail;
	store_bind_text(on, 1, site);
	sqlite3_bind_int64(on, 2, number);
	if (store_write_step(st, on, "switching releases", err) != 0)
		goto fail;
	if (sqlite3_changes(st->db) == 0) {
		store_rollback(st);
		err_set(err, "site \"%s\": no release %lld", site, (long long)number);
		return STORE_NOT_FOUND;
	}
	return store_commit(st, err);
fail:
	store_rollback(st);
	return -1;
}

int store_release_list(struct store *st, const char *site, struct store_release **out, size_t *n,
                       struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " RELEASE_COLUMNS " FROM releases"
	                                   " WHERE site = ?1 ORDER BY number DESC",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, site);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, release_fill, release_clear, &rows, n,
	                             "listing releases", err);
	*out = rows;
	return rc;
}

int store_release_delete(struct store *st, const char *site, int64_t number, struct err *err)
{
	sqlite3_stmt *stmt =
	        store_prepare(st, "DELETE FROM releases WHERE site = ?1 AND number = ?2", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, site);
	sqlite3_bind_int64(stmt, 2, number);
	int rc = store_write_step(st, stmt, "deleting a release", err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "site \"%s\": no release %lld", site, (long long)number);
		return STORE_NOT_FOUND;
	}
	return rc;
}

void store_release_list_free(struct store_release *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_free(&r[i]);
	free(r);
}

/* ---- invalidations ---- */

#define INVALIDATION_COLUMNS                                                                       \
	"site, id, caller_reference, paths, status, created_ms, purge_deadline_ms, purge_error"

static void inv_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_invalidation *v = row;
	v->site = store_col_text(stmt, 0);
	v->id = store_col_text(stmt, 1);
	v->caller_reference = store_col_text(stmt, 2);
	v->paths = store_col_text(stmt, 3);
	v->status = store_col_text(stmt, 4);
	v->created_ms = sqlite3_column_int64(stmt, 5);
	v->purge_deadline_ms = sqlite3_column_int64(stmt, 6);
	v->purge_error = store_col_text(stmt, 7);
}

static void inv_clear(void *row)
{
	store_invalidation_free(row);
}

int store_invalidation_add(struct store *st, const struct store_invalidation *inv, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO invalidations(" INVALIDATION_COLUMNS ")"
	                                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, inv->site);
	store_bind_text(stmt, 2, inv->id);
	store_bind_text(stmt, 3, inv->caller_reference);
	store_bind_text(stmt, 4, inv->paths ? inv->paths : "[]");
	store_bind_text(stmt, 5, inv->status ? inv->status : "InProgress");
	sqlite3_bind_int64(stmt, 6, inv->created_ms ? inv->created_ms : wall_ms());
	sqlite3_bind_int64(stmt, 7, inv->purge_deadline_ms);
	store_bind_text(stmt, 8, inv->purge_error);
	int rc = store_write_step(st, stmt, "adding an invalidation", err);
	if (rc == STORE_CONFLICT)
		err_set(err, "site \"%s\": caller reference \"%s\" (or id %s) is taken already",
		        inv->site, inv->caller_reference ? inv->caller_reference : "",
		        inv->id ? inv->id : "");
	else if (rc == STORE_NOT_FOUND)
		err_set(err, "site \"%s\" does not exist", inv->site);
	return rc;
}

static int inv_get_by(struct store *st, const char *sql, const char *site, const char *key,
                      struct store_invalidation *out, const char *what, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(st, sql, err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, site);
	store_bind_text(stmt, 2, key);
	int rc = store_row_fetch_one(st, stmt, inv_fill, out, "reading an invalidation", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "site \"%s\": no invalidation with %s \"%s\"", site, what, key);
	return rc;
}

int store_invalidation_get(struct store *st, const char *site, const char *id,
                           struct store_invalidation *out, struct err *err)
{
	return inv_get_by(st,
	                  "SELECT " INVALIDATION_COLUMNS " FROM invalidations"
	                  " WHERE site = ?1 AND id = ?2",
	                  site, id, out, "id", err);
}

int store_invalidation_by_reference(struct store *st, const char *site, const char *reference,
                                    struct store_invalidation *out, struct err *err)
{
	return inv_get_by(st,
	                  "SELECT " INVALIDATION_COLUMNS " FROM invalidations"
	                  " WHERE site = ?1 AND caller_reference = ?2",
	                  site, reference, out, "caller reference", err);
}

int store_invalidation_set_status(struct store *st, const char *site, const char *id,
                                  const char *status, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st, "UPDATE invalidations SET status = ?3 WHERE site = ?1 AND id = ?2", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, site);
	store_bind_text(stmt, 2, id);
	store_bind_text(stmt, 3, status);
	int rc = store_write_step(st, stmt, "updating an invalidation", err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "site \"%s\": no invalidation with id \"%s\"", site, id);
		return STORE_NOT_FOUND;
	}
	return rc;
}

int store_invalidation_list(struct store *st, const char *site, struct store_invalidation **out,
                            size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	/* rowid breaks ties between invalidations created in the same millisecond */
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " INVALIDATION_COLUMNS " FROM invalidations"
	                                   " WHERE site = ?1 ORDER BY created_ms DESC, rowid DESC",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, site);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, inv_fill, inv_clear, &rows, n,
	                             "listing invalidations", err);
	*out = rows;
	return rc;
}

void store_invalidation_free(struct store_invalidation *inv)
{
	if (!inv)
		return;
	free(inv->site);
	free(inv->id);
	free(inv->caller_reference);
	free(inv->paths);
	free(inv->status);
	free(inv->purge_error);
	memset(inv, 0, sizeof *inv);
}

void store_invalidation_list_free(struct store_invalidation *inv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_invalidation_free(&inv[i]);
	free(inv);
}

int store_invalidation_finish(struct store *st, const char *site, const char *id,
                              const char *purge_error, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "UPDATE invalidations SET status = 'Completed',"
	                                   " purge_error = ?3 WHERE site = ?1 AND id = ?2",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, site);
	store_bind_text(stmt, 2, id);
	store_bind_text(stmt, 3, purge_error);
	int rc = store_write_step(st, stmt, "finishing an invalidation", err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "site \"%s\": no invalidation with id \"%s\"", site, id);
		return STORE_NOT_FOUND;
	}
	return rc;
}

/* ---- purge targets ---- */

static void purge_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_purge_target *t = row;
	t->site = store_col_text(stmt, 0);
	t->kind = store_col_text(stmt, 1);
	t->url = store_col_text(stmt, 2);
	t->created_ms = sqlite3_column_int64(stmt, 3);
}

static void purge_free(struct store_purge_target *t)
{
	free(t->site);
	free(t->kind);
	free(t->url);
	memset(t, 0, sizeof *t);
}

static void purge_clear(void *row)
{
	purge_free(row);
}

int store_purge_target_add(struct store *st, const struct store_purge_target *t, struct err *err)
{
	sqlite3_stmt *stmt =
	        store_prepare(st,
	                      "INSERT INTO site_purge_targets(site, kind, url, created_ms)"
	                      " VALUES(?1, ?2, ?3, ?4)",
	                      err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, t->site);
	store_bind_text(stmt, 2, t->kind);
	store_bind_text(stmt, 3, t->url);
	sqlite3_bind_int64(stmt, 4, t->created_ms ? t->created_ms : wall_ms());
	int rc = store_write_step(st, stmt, "adding a purge target", err);
	if (rc == STORE_CONFLICT)
		err_set(err, "site \"%s\" has the purge target %s=%s already", t->site, t->kind,
		        t->url);
	else if (rc == STORE_NOT_FOUND)
		err_set(err, "no site named %s", t->site);
	return rc;
}

int store_purge_target_remove(struct store *st, const char *site, const char *kind, const char *url,
                              struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st, "DELETE FROM site_purge_targets WHERE site = ?1 AND kind = ?2 AND url = ?3",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, site);
	store_bind_text(stmt, 2, kind);
	store_bind_text(stmt, 3, url);
	int rc = store_write_step(st, stmt, "removing a purge target", err);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		err_set(err, "site \"%s\" has no purge target %s=%s", site, kind, url);
		return STORE_NOT_FOUND;
	}
	return rc;
}

int store_purge_target_list(struct store *st, const char *site, struct store_purge_target **out,
                            size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt =
	        store_prepare(st,
	                      "SELECT site, kind, url, created_ms FROM site_purge_targets"
	                      " WHERE site = ?1 ORDER BY created_ms, rowid",
	                      err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, site);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, purge_fill, purge_clear, &rows, n,
	                             "listing purge targets", err);
	*out = rows;
	return rc;
}

void store_purge_target_list_free(struct store_purge_target *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		purge_free(&t[i]);
	free(t);
}
