/*
 * pipelines.c — pipeline declarations and their versions, stage transitions,
 * trigger events and polling state (see pipelines.h).
 *
 * Why it is built this way:
 *  - puts are upserts (INSERT ... ON CONFLICT DO UPDATE), never REPLACE: REPLACE
 *    deletes the old row first, and the delete cascades through the foreign keys to
 *    every execution of the pipeline;
 *  - a function needing several statements opens its own transaction only when the
 *    caller holds none (sqlite3_get_autocommit); inside the caller's, it joins it and
 *    the caller rolls back on failure — SQLite has no nested BEGIN;
 *  - extended result codes are on (store.c), so a taken unique key is told apart from
 *    a missing parent row (SQLITE_CONSTRAINT_FOREIGNKEY) and from real failures.
 */
#include "store/pipelines.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/buf.h"
#include "util/timeutil.h"

/* Opens a transaction unless the caller holds one; *own = 1 when this one did. */
static int tx_enter(struct store *st, int *own, struct err *err)
{
	*own = sqlite3_get_autocommit(st->db) != 0;
	return *own ? store_begin(st, err) : 0;
}

/* Ends what tx_enter() began: commits when `rc` is 0, rolls back otherwise. */
static int tx_leave(struct store *st, int own, int rc, struct err *err)
{
	if (!own)
		return rc;
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st, err) < 0 ? -1 : 0;
}

/* ---- pipelines ---- */

/* Columns, in this order, of every query that fills a store_pipeline. */
#define PIPELINE_COLUMNS "name, version, declaration, created_ms, updated_ms"

static void pipeline_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_pipeline *p = row;
	p->name = store_col_text(stmt, 0);
	p->version = sqlite3_column_int(stmt, 1);
	p->declaration = store_col_text(stmt, 2);
	p->created_ms = sqlite3_column_int64(stmt, 3);
	p->updated_ms = sqlite3_column_int64(stmt, 4);
}

static void pipeline_clear(void *row)
{
	store_pipeline_free(row);
}

static int version_insert(struct store *st, const struct store_pipeline *p, struct err *err)
{
	sqlite3_stmt *stmt =
	        store_prepare(st,
	                      "INSERT INTO pipeline_versions(name, version, declaration,"
	                      " created_ms) VALUES(?1, ?2, ?3, ?4)",
	                      err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, p->name);
	sqlite3_bind_int(stmt, 2, p->version);
	store_bind_text(stmt, 3, p->declaration);
	sqlite3_bind_int64(stmt, 4, p->updated_ms);
	return store_write_step(st, stmt, "storing a pipeline version", err) == 0 ? 0 : -1;
}

static int pipeline_insert(struct store *st, struct store_pipeline *p, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO pipelines(" PIPELINE_COLUMNS ")"
	                                   " VALUES(?1, 1, ?2, ?3, ?4)",
	                                   err);
	if (!stmt)
		return -1;
	if (!p->created_ms)
		p->created_ms = p->updated_ms;
	store_bind_text(stmt, 1, p->name);
	store_bind_text(stmt, 2, p->declaration);
	sqlite3_bind_int64(stmt, 3, p->created_ms);
	sqlite3_bind_int64(stmt, 4, p->updated_ms);
	int rc = store_write_step(st, stmt, "storing a pipeline", err);
	if (rc == STORE_CONFLICT)
		err_set(err, "a pipeline named \"%s\" exists already", p->name);
	if (rc != 0)
		return rc;
	p->version = 1;
	return version_insert(st, p, err);
}

static int pipeline_update(struct store *st, struct store_pipeline *p, struct err *err)
{
	sqlite3_stmt *get =
	        store_prepare(st, "SELECT version, created_ms FROM pipelines WHERE name = ?1", err);
	if (!get)
		return -1;
	store_bind_text(get, 1, p->name);
	int rc = sqlite3_step(get);
	int version = 0;
	if (rc == SQLITE_ROW) {
		version = sqlite3_column_int(get, 0);
		p->created_ms = sqlite3_column_int64(get, 1);
	} else if (rc == SQLITE_DONE) {
		err_set(err, "no pipeline named \"%s\"", p->name);
	} else {
		store_sql_err(st, err, "reading a pipeline's version");
	}
	sqlite3_finalize(get);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? STORE_NOT_FOUND : -1;

	sqlite3_stmt *up = store_prepare(st,
	                                 "UPDATE pipelines SET version = ?2, declaration = ?3,"
	                                 " updated_ms = ?4 WHERE name = ?1",
	                                 err);
	if (!up)
		return -1;
	store_bind_text(up, 1, p->name);
	sqlite3_bind_int(up, 2, version + 1);
	store_bind_text(up, 3, p->declaration);
	sqlite3_bind_int64(up, 4, p->updated_ms);
	if (store_write_step(st, up, "updating a pipeline", err) != 0)
		return -1;
	p->version = version + 1;
	return version_insert(st, p, err);
}

int store_pipeline_save(struct store *st, struct store_pipeline *p, int update, struct err *err)
{
	if (!p->name || !*p->name)
		return err_set(err, "pipeline: empty name");
	if (!p->declaration)
		return err_set(err, "pipeline \"%s\": no declaration", p->name);
	if (!p->updated_ms)
		p->updated_ms = wall_ms();
	int own;
	if (tx_enter(st, &own, err) < 0)
		return -1;
	int rc = update ? pipeline_update(st, p, err) : pipeline_insert(st, p, err);
	return tx_leave(st, own, rc, err);
}

int store_pipeline_get(struct store *st, const char *name, int version, struct store_pipeline *out,
                       struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt;
	if (version <= 0) {
		stmt = store_prepare(
		        st, "SELECT " PIPELINE_COLUMNS " FROM pipelines WHERE name = ?1", err);
	} else {
		/* An old version's updated_ms is when that version was stored. */
		stmt = store_prepare(st,
		                     "SELECT v.name, v.version, v.declaration, p.created_ms,"
		                     " v.created_ms FROM pipeline_versions v"
		                     " JOIN pipelines p ON p.name = v.name"
		                     " WHERE v.name = ?1 AND v.version = ?2",
		                     err);
	}
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, name);
	if (version > 0)
		sqlite3_bind_int(stmt, 2, version);
	int rc = store_row_fetch_one(st, stmt, pipeline_fill, out, "reading a pipeline", err);
	if (rc == STORE_NOT_FOUND && version > 0)
		err_set(err, "pipeline \"%s\" has no version %d", name, version);
	else if (rc == STORE_NOT_FOUND)
		err_set(err, "no pipeline named \"%s\"", name);
	return rc;
}

int store_pipeline_list(struct store *st, struct store_pipeline **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt =
	        store_prepare(st, "SELECT " PIPELINE_COLUMNS " FROM pipelines ORDER BY name", err);
	if (!stmt)
		return -1;
	void *rows = NULL;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, pipeline_fill, pipeline_clear, &rows,
	                             n, "listing pipelines", err);
	*out = rows;
	return rc;
}

int store_pipeline_delete(struct store *st, const char *name, struct err *err)
{
	/* One statement: the foreign keys' ON DELETE CASCADE removes the history with it. */
	sqlite3_stmt *stmt = store_prepare(st, "DELETE FROM pipelines WHERE name = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, name);
	if (store_write_step(st, stmt, "deleting a pipeline", err) != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		err_set(err, "no pipeline named \"%s\"", name);
		return STORE_NOT_FOUND;
	}
	return 0;
}

void store_pipeline_free(struct store_pipeline *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->declaration);
	memset(p, 0, sizeof *p);
}

void store_pipeline_list_free(struct store_pipeline *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_pipeline_free(&p[i]);
	free(p);
}

/* ---- transitions ---- */

#define TRANSITION_COLUMNS "pipeline, stage, direction, enabled, reason, changed_by, changed_ms"

static void transition_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_transition *t = row;
	t->pipeline = store_col_text(stmt, 0);
	t->stage = store_col_text(stmt, 1);
	t->direction = store_col_text(stmt, 2);
	t->enabled = sqlite3_column_int(stmt, 3);
	t->reason = store_col_text(stmt, 4);
	t->changed_by = store_col_text(stmt, 5);
	t->changed_ms = sqlite3_column_int64(stmt, 6);
}

static void transition_clear(void *row)
{
	struct store_transition *t = row;
	free(t->pipeline);
	free(t->stage);
	free(t->direction);
	free(t->reason);
	free(t->changed_by);
}

int store_transition_put(struct store *st, const struct store_transition *t, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "INSERT INTO transitions(" TRANSITION_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	        " ON CONFLICT(pipeline, stage, direction) DO UPDATE SET enabled = excluded.enabled,"
	        " reason = excluded.reason, changed_by = excluded.changed_by,"
	        " changed_ms = excluded.changed_ms",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, t->pipeline);
	store_bind_text(stmt, 2, t->stage);
	store_bind_text(stmt, 3, t->direction);
	sqlite3_bind_int(stmt, 4, t->enabled != 0);
	store_bind_text(stmt, 5, t->reason);
	store_bind_text(stmt, 6, t->changed_by);
	sqlite3_bind_int64(stmt, 7, t->changed_ms ? t->changed_ms : wall_ms());
	int rc = store_write_step(st, stmt, "storing a stage transition", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no pipeline named \"%s\"", t->pipeline);
	return rc;
}

int store_transition_list(struct store *st, const char *pipeline, struct store_transition **out,
                          size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " TRANSITION_COLUMNS " FROM transitions"
	                                   " WHERE pipeline = ?1 ORDER BY stage, direction",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	void *rows = NULL;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, transition_fill, transition_clear,
	                             &rows, n, "listing stage transitions", err);
	*out = rows;
	return rc;
}

void store_transition_list_free(struct store_transition *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		transition_clear(&t[i]);
	free(t);
}

/* ---- trigger events ---- */

/* "before" and "after" are SQL keywords: quoted so no parser version misreads them. */
#define TRIGGER_COLUMNS                                                                            \
	"id, pipeline, source, delivery_id, ref, \"before\", \"after\", outcome, reason,"          \
	" execution_id, received_ms"

static void trigger_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_trigger_event *ev = row;
	ev->id = sqlite3_column_int64(stmt, 0);
	ev->pipeline = store_col_text(stmt, 1);
	ev->source = store_col_text(stmt, 2);
	ev->delivery_id = store_col_text(stmt, 3);
	ev->ref = store_col_text(stmt, 4);
	ev->before = store_col_text(stmt, 5);
	ev->after = store_col_text(stmt, 6);
	ev->outcome = store_col_text(stmt, 7);
	ev->reason = store_col_text(stmt, 8);
	ev->execution_id = store_col_text(stmt, 9);
	ev->received_ms = sqlite3_column_int64(stmt, 10);
}

static void trigger_clear(void *row)
{
	struct store_trigger_event *ev = row;
	free(ev->pipeline);
	free(ev->source);
	free(ev->delivery_id);
	free(ev->ref);
	free(ev->before);
	free(ev->after);
	free(ev->outcome);
	free(ev->reason);
	free(ev->execution_id);
}

int store_trigger_insert(struct store *st, struct store_trigger_event *ev, struct err *err)
{
	sqlite3_stmt *stmt =
	        store_prepare(st,
	                      "INSERT INTO trigger_events(pipeline, source, delivery_id,"
	                      " ref, \"before\", \"after\", outcome, reason,"
	                      " execution_id, received_ms)"
	                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	                      err);
	if (!stmt)
		return -1;
	if (!ev->received_ms)
		ev->received_ms = wall_ms();
	store_bind_text(stmt, 1, ev->pipeline);
	store_bind_text(stmt, 2, ev->source);
	store_bind_text(stmt, 3, ev->delivery_id);
	store_bind_text(stmt, 4, ev->ref);
	store_bind_text(stmt, 5, ev->before);
	store_bind_text(stmt, 6, ev->after);
	store_bind_text(stmt, 7, ev->outcome);
	store_bind_text(stmt, 8, ev->reason);
	store_bind_text(stmt, 9, ev->execution_id);
	sqlite3_bind_int64(stmt, 10, ev->received_ms);
	int rc = store_write_step(st, stmt, "recording a trigger event", err);
	if (rc == STORE_CONFLICT)
		err_set(err, "pipeline \"%s\": delivery %s was received already", ev->pipeline,
		        ev->delivery_id ? ev->delivery_id : "(none)");
	else if (rc == STORE_NOT_FOUND)
		err_set(err, "no pipeline named \"%s\"", ev->pipeline);
	if (rc == 0)
		ev->id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

int store_trigger_update(struct store *st, int64_t id, const char *outcome, const char *reason,
                         const char *execution_id, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "UPDATE trigger_events SET outcome = ?2, reason = ?3,"
	                                   " execution_id = ?4 WHERE id = ?1",
	                                   err);
	if (!stmt)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	store_bind_text(stmt, 2, outcome);
	store_bind_text(stmt, 3, reason);
	store_bind_text(stmt, 4, execution_id);
	return store_write_step(st, stmt, "updating a trigger event", err);
}

int store_trigger_list(struct store *st, const char *pipeline, int limit,
                       struct store_trigger_event **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	/* LIMIT -1 is no limit; ids grow with arrival, so they order ties in received_ms. */
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " TRIGGER_COLUMNS " FROM trigger_events"
	                                   " WHERE pipeline = ?1 ORDER BY id DESC LIMIT ?2",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	sqlite3_bind_int(stmt, 2, limit > 0 ? limit : -1);
	void *rows = NULL;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, trigger_fill, trigger_clear, &rows, n,
	                             "listing trigger events", err);
	*out = rows;
	return rc;
}

void store_trigger_list_free(struct store_trigger_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		trigger_clear(&ev[i]);
	free(ev);
}

/* ---- polling state ---- */

int store_poll_get(struct store *st, const char *pipeline, const char *action, char **commit,
                   struct err *err)
{
	*commit = NULL;
	sqlite3_stmt *stmt = store_prepare(
	        st, "SELECT last_commit FROM poll_state WHERE pipeline = ?1 AND action = ?2", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	store_bind_text(stmt, 2, action);
	int rc = sqlite3_step(stmt);
	int ret = 0;
	if (rc == SQLITE_ROW) {
		*commit = store_col_text(stmt, 0);
	} else if (rc == SQLITE_DONE) {
		err_set(err, "pipeline \"%s\": action \"%s\" was never polled", pipeline, action);
		ret = STORE_NOT_FOUND;
	} else {
		ret = store_sql_err(st, err, "reading polling state");
	}
	sqlite3_finalize(stmt);
	return ret;
}

int store_poll_set(struct store *st, const char *pipeline, const char *action, const char *commit,
                   struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO poll_state(pipeline, action, last_commit)"
	                                   " VALUES(?1, ?2, ?3) ON CONFLICT(pipeline, action)"
	                                   " DO UPDATE SET last_commit = excluded.last_commit",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	store_bind_text(stmt, 2, action);
	store_bind_text(stmt, 3, commit);
	int rc = store_write_step(st, stmt, "storing polling state", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no pipeline named \"%s\"", pipeline);
	return rc;
}
