/*
 * deployments.c — deployment groups, deployments and lifecycle events (see
 * deployments.h).
 *
 * Why it is built this way:
 *  - the deployer runs in a child process with its own connection: every change is
 *    one short statement, so the daemon's reads (`ferry deploy get` while a
 *    deployment runs) see each event as it happens;
 *  - deleting a group deletes its deployments, whose events go through the foreign
 *    key; nothing on disk is touched here.
 */
#include "store/deployments.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/buf.h"
#include "util/timeutil.h"
#include "util/uuid.h"

int store_deploy_name_check(const char *what, const char *name, struct err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > STORE_DEPLOY_NAME_MAX)
		return err_set(err, "%s \"%.100s\": expected 1 to %d characters", what,
		               name ? name : "", STORE_DEPLOY_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (!ok)
			return err_set(err,
			               "%s \"%s\": '%c' is not allowed (letters, digits, '.', '_' "
			               "and '-')",
			               what, name, c);
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return err_set(err, "%s \"%s\": not a name", what, name);
	return 0;
}

/* ---- groups ---- */

#define GROUP_COLUMNS                                                                              \
	"app, name, id, kind, targets, slots, host, config, auto_rollback, live_slot, created_ms"

static void group_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_deploy_group *g = row;
	g->app = store_col_text(stmt, 0);
	g->name = store_col_text(stmt, 1);
	g->id = store_col_text(stmt, 2);
	g->kind = store_col_text(stmt, 3);
	g->targets = store_col_text(stmt, 4);
	g->slots = store_col_text(stmt, 5);
	g->host = store_col_text(stmt, 6);
	g->config = store_col_text(stmt, 7);
	g->auto_rollback = sqlite3_column_int(stmt, 8);
	g->live_slot = store_col_text(stmt, 9);
	g->created_ms = sqlite3_column_int64(stmt, 10);
}

static void group_clear(void *row)
{
	store_deploy_group_free(row);
}

int store_deploy_group_create(struct store *st, const struct store_deploy_group *g, struct err *err)
{
	if (store_deploy_name_check("application name", g->app, err) < 0 ||
	    store_deploy_name_check("deployment group name", g->name, err) < 0)
		return -1;
	char id[37];
	uuid4(id);
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO deploy_groups(" GROUP_COLUMNS
	                                   ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, g->app);
	store_bind_text(stmt, 2, g->name);
	store_bind_text(stmt, 3, g->id ? g->id : id);
	store_bind_text(stmt, 4, g->kind);
	store_bind_text(stmt, 5, g->targets ? g->targets : "[]");
	store_bind_text(stmt, 6, g->slots);
	store_bind_text(stmt, 7, g->host);
	store_bind_text(stmt, 8, g->config);
	sqlite3_bind_int(stmt, 9, g->auto_rollback != 0);
	store_bind_text(stmt, 10, g->live_slot);
	sqlite3_bind_int64(stmt, 11, g->created_ms ? g->created_ms : wall_ms());
	int rc = store_write_step(st, stmt, "creating a deployment group", err);
	if (rc == STORE_CONFLICT)
		err_set(err, "deployment group \"%s\" of application \"%s\" exists already",
		        g->name, g->app);
	return rc;
}

int store_deploy_group_get(struct store *st, const char *app, const char *name,
                           struct store_deploy_group *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(
	        st, "SELECT " GROUP_COLUMNS " FROM deploy_groups WHERE app = ?1 AND name = ?2",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, app);
	store_bind_text(stmt, 2, name);
	int rc = store_row_fetch_one(st, stmt, group_fill, out, "reading a deployment group", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err,
		        "deployment group \"%s\" of application \"%s\" does not exist (ferry "
		        "deploy "
		        "group create %s %s ...)",
		        name, app, app, name);
	return rc;
}

int store_deploy_group_list(struct store *st, const char *app, struct store_deploy_group **out,
                            size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " GROUP_COLUMNS " FROM deploy_groups"
	                                   " WHERE ?1 IS NULL OR app = ?1 ORDER BY app, name",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, app);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, group_fill, group_clear, &rows, n,
	                             "listing deployment groups", err);
	*out = rows;
	return rc;
}

int store_deploy_group_delete(struct store *st, const char *app, const char *name, struct err *err)
{
	if (store_begin(st, err) < 0)
		return -1;
	sqlite3_stmt *stmt =
	        store_prepare(st, "DELETE FROM deployments WHERE app = ?1 AND grp = ?2", err);
	int rc = -1;
	if (stmt) {
		store_bind_text(stmt, 1, app);
		store_bind_text(stmt, 2, name);
		rc = store_write_step(st, stmt, "deleting a group's deployments", err);
	}
	if (rc == 0) {
		stmt = store_prepare(st, "DELETE FROM deploy_groups WHERE app = ?1 AND name = ?2",
		                     err);
		rc = -1;
		if (stmt) {
			store_bind_text(stmt, 1, app);
			store_bind_text(stmt, 2, name);
			rc = store_write_step(st, stmt, "deleting a deployment group", err);
		}
		if (rc == 0 && sqlite3_changes(st->db) == 0) {
			err_set(err, "deployment group \"%s\" of application \"%s\" does not exist",
			        name, app);
			rc = STORE_NOT_FOUND;
		}
	}
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st, err);
}

int store_deploy_group_set_live(struct store *st, const char *app, const char *name,
                                const char *slot, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st, "UPDATE deploy_groups SET live_slot = ?3 WHERE app = ?1 AND name = ?2", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, app);
	store_bind_text(stmt, 2, name);
	store_bind_text(stmt, 3, slot);
	return store_write_step(st, stmt, "recording the live slot", err);
}

void store_deploy_group_free(struct store_deploy_group *g)
{
	if (!g)
		return;
	free(g->app);
	free(g->name);
	free(g->id);
	free(g->kind);
	free(g->targets);
	free(g->slots);
	free(g->host);
	free(g->config);
	free(g->live_slot);
	memset(g, 0, sizeof *g);
}

void store_deploy_group_list_free(struct store_deploy_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_deploy_group_free(&g[i]);
	free(g);
}

/* ---- deployments ---- */

#define DEPLOYMENT_COLUMNS                                                                         \
	"id, app, grp, status, revision, bundle, creator, rollback_of, rolled_back_by, source,"    \
	" summary, error_code, started_ms, ended_ms"

void store_deployment_new_id(char out[STORE_DEPLOY_ID_LEN + 1])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	out[0] = 'd';
	out[1] = '-';
	for (int i = 2; i < STORE_DEPLOY_ID_LEN; i++)
		out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
	out[STORE_DEPLOY_ID_LEN] = '\0';
}

static void deployment_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_deployment *d = row;
	d->id = store_col_text(stmt, 0);
	d->app = store_col_text(stmt, 1);
	d->group = store_col_text(stmt, 2);
	d->status = store_col_text(stmt, 3);
	d->revision = store_col_text(stmt, 4);
	d->bundle = store_col_text(stmt, 5);
	d->creator = store_col_text(stmt, 6);
	d->rollback_of = store_col_text(stmt, 7);
	d->rolled_back_by = store_col_text(stmt, 8);
	d->source = store_col_text(stmt, 9);
	d->summary = store_col_text(stmt, 10);
	d->error_code = store_col_text(stmt, 11);
	d->started_ms = sqlite3_column_int64(stmt, 12);
	d->ended_ms = sqlite3_column_int64(stmt, 13);
}

static void deployment_clear(void *row)
{
	store_deployment_free(row);
}

int store_deployment_add(struct store *st, const struct store_deployment *d, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT INTO deployments(" DEPLOYMENT_COLUMNS
	                                   ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	                                   " ?12, ?13, ?14) ON CONFLICT(id) DO UPDATE SET"
	                                   " status = excluded.status,"
	                                   " revision = excluded.revision,"
	                                   " bundle = excluded.bundle,"
	                                   " source = COALESCE(excluded.source, source)",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, d->id);
	store_bind_text(stmt, 2, d->app);
	store_bind_text(stmt, 3, d->group);
	store_bind_text(stmt, 4, d->status ? d->status : "Created");
	store_bind_text(stmt, 5, d->revision);
	store_bind_text(stmt, 6, d->bundle);
	store_bind_text(stmt, 7, d->creator ? d->creator : "user");
	store_bind_text(stmt, 8, d->rollback_of);
	store_bind_text(stmt, 9, d->rolled_back_by);
	store_bind_text(stmt, 10, d->source);
	store_bind_text(stmt, 11, d->summary);
	store_bind_text(stmt, 12, d->error_code);
	sqlite3_bind_int64(stmt, 13, d->started_ms ? d->started_ms : wall_ms());
	sqlite3_bind_int64(stmt, 14, d->ended_ms);
	return store_write_step(st, stmt, "recording a deployment", err);
}

int store_deployment_get(struct store *st, const char *id, struct store_deployment *out,
                         struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(
	        st, "SELECT " DEPLOYMENT_COLUMNS " FROM deployments WHERE id = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, id);
	int rc = store_row_fetch_one(st, stmt, deployment_fill, out, "reading a deployment", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "deployment \"%s\" does not exist", id);
	return rc;
}

int store_deployment_list(struct store *st, const char *app, const char *group, int limit,
                          struct store_deployment **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "SELECT " DEPLOYMENT_COLUMNS " FROM deployments WHERE (?1 IS NULL OR app = ?1)"
	        " AND (?2 IS NULL OR grp = ?2) ORDER BY started_ms DESC, rowid DESC LIMIT ?3",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, app);
	store_bind_text(stmt, 2, group);
	sqlite3_bind_int(stmt, 3, limit > 0 ? limit : 100);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, deployment_fill, deployment_clear,
	                             &rows, n, "listing deployments", err);
	*out = rows;
	return rc;
}

int store_deployment_set_status(struct store *st, const char *id, const char *status, int ended,
                                const char *summary, const char *error_code, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "UPDATE deployments SET status = ?2, ended_ms = CASE WHEN ?3 THEN ?4 ELSE"
	        " ended_ms END, summary = COALESCE(?5, summary), error_code = COALESCE(?6,"
	        " error_code) WHERE id = ?1",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, id);
	store_bind_text(stmt, 2, status);
	sqlite3_bind_int(stmt, 3, ended != 0);
	sqlite3_bind_int64(stmt, 4, wall_ms());
	store_bind_text(stmt, 5, summary);
	store_bind_text(stmt, 6, error_code);
	return store_write_step(st, stmt, "updating a deployment", err);
}

int store_deployment_set_rolled_back_by(struct store *st, const char *id, const char *by,
                                        struct err *err)
{
	sqlite3_stmt *stmt =
	        store_prepare(st, "UPDATE deployments SET rolled_back_by = ?2 WHERE id = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, id);
	store_bind_text(stmt, 2, by);
	return store_write_step(st, stmt, "updating a deployment", err);
}

int store_deployment_last_good(struct store *st, const char *app, const char *group,
                               struct store_deployment *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " DEPLOYMENT_COLUMNS " FROM deployments"
	                                   " WHERE app = ?1 AND grp = ?2 AND status = 'Succeeded'"
	                                   " ORDER BY ended_ms DESC, rowid DESC LIMIT 1",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, app);
	store_bind_text(stmt, 2, group);
	return store_row_fetch_one(st, stmt, deployment_fill, out, "reading a deployment", err);
}

void store_deployment_free(struct store_deployment *d)
{
	if (!d)
		return;
	free(d->id);
	free(d->app);
	free(d->group);
	free(d->status);
	free(d->revision);
	free(d->bundle);
	free(d->creator);
	free(d->rollback_of);
	free(d->rolled_back_by);
	free(d->source);
	free(d->summary);
	free(d->error_code);
	memset(d, 0, sizeof *d);
}

void store_deployment_list_free(struct store_deployment *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_deployment_free(&d[i]);
	free(d);
}

/* ---- lifecycle events ---- */

#define EVENT_COLUMNS                                                                              \
	"deployment_id, target, target_name, seq, event, status, script, exit_code, error_code,"   \
	" message, started_ms, ended_ms"

static void event_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_deploy_event *ev = row;
	ev->deployment_id = store_col_text(stmt, 0);
	ev->target = sqlite3_column_int(stmt, 1);
	ev->target_name = store_col_text(stmt, 2);
	ev->seq = sqlite3_column_int(stmt, 3);
	ev->event = store_col_text(stmt, 4);
	ev->status = store_col_text(stmt, 5);
	ev->script = store_col_text(stmt, 6);
	ev->exit_code =
	        sqlite3_column_type(stmt, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, 7);
	ev->error_code = store_col_text(stmt, 8);
	ev->message = store_col_text(stmt, 9);
	ev->started_ms = sqlite3_column_int64(stmt, 10);
	ev->ended_ms = sqlite3_column_int64(stmt, 11);
}

static void event_clear(void *row)
{
	struct store_deploy_event *ev = row;
	free(ev->deployment_id);
	free(ev->target_name);
	free(ev->event);
	free(ev->status);
	free(ev->script);
	free(ev->error_code);
	free(ev->message);
	memset(ev, 0, sizeof *ev);
}

int store_deploy_event_put(struct store *st, const struct store_deploy_event *ev, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "INSERT OR REPLACE INTO deploy_events(" EVENT_COLUMNS
	                                   ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	                                   " ?12)",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, ev->deployment_id);
	sqlite3_bind_int(stmt, 2, ev->target);
	store_bind_text(stmt, 3, ev->target_name);
	sqlite3_bind_int(stmt, 4, ev->seq);
	store_bind_text(stmt, 5, ev->event);
	store_bind_text(stmt, 6, ev->status);
	store_bind_text(stmt, 7, ev->script);
	if (ev->exit_code >= 0)
		sqlite3_bind_int(stmt, 8, ev->exit_code);
	else
		sqlite3_bind_null(stmt, 8);
	store_bind_text(stmt, 9, ev->error_code);
	store_bind_text(stmt, 10, ev->message);
	sqlite3_bind_int64(stmt, 11, ev->started_ms);
	sqlite3_bind_int64(stmt, 12, ev->ended_ms);
	return store_write_step(st, stmt, "recording a lifecycle event", err);
}

int store_deploy_event_list(struct store *st, const char *deployment_id,
                            struct store_deploy_event **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " EVENT_COLUMNS " FROM deploy_events"
	                                   " WHERE deployment_id = ?1 ORDER BY target, seq",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, deployment_id);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, event_fill, event_clear, &rows, n,
	                             "listing lifecycle events", err);
	*out = rows;
	return rc;
}

void store_deploy_event_list_free(struct store_deploy_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		event_clear(&ev[i]);
	free(ev);
}
