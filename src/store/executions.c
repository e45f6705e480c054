/*
 * executions.c — executions, stage executions, action executions and artifacts
 * (see executions.h).
 *
 * Why it is built this way:
 *  - every put is one upsert (INSERT ... ON CONFLICT(key) DO UPDATE), never REPLACE
 *    nor delete-and-insert: those delete the row first, and the delete cascades to its
 *    stage and action executions and artifacts;
 *  - each function is one statement, so it needs no transaction of its own: the
 *    engine groups a state change with store_tx_begin()/store_tx_commit();
 *  - LIMIT -1 is SQLite's "no limit", which lets one constant statement serve both.
 */
#include "store/executions.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/buf.h"

/* Runs a bound statement selecting one integer; finalizes it. */
static int query_int64(struct store *st, sqlite3_stmt *stmt, int64_t *out, const char *what,
                       struct err *err)
{
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	else
		store_sql_err(st, err, what);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* ---- executions ---- */

/* Columns, in this order, of every query that fills a store_exec. */
#define EXEC_COLUMNS                                                                               \
	"id, pipeline, version, seq, status, status_summary, trigger_type, trigger_detail,"        \
	" variables, source_commit, stage, waiting, wait_seq, stop_mode, stop_reason,"             \
	" client_token, started_ms, updated_ms"

static void exec_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_exec *e = row;
	e->id = store_col_text(stmt, 0);
	e->pipeline = store_col_text(stmt, 1);
	e->version = sqlite3_column_int(stmt, 2);
	e->seq = sqlite3_column_int64(stmt, 3);
	e->status = store_col_text(stmt, 4);
	e->status_summary = store_col_text(stmt, 5);
	e->trigger_type = store_col_text(stmt, 6);
	e->trigger_detail = store_col_text(stmt, 7);
	e->variables = store_col_text(stmt, 8);
	e->source_commit = store_col_text(stmt, 9);
	e->stage = store_col_text(stmt, 10);
	e->waiting = sqlite3_column_int(stmt, 11);
	e->wait_seq = sqlite3_column_int64(stmt, 12);
	e->stop_mode = store_col_text(stmt, 13);
	e->stop_reason = store_col_text(stmt, 14);
	e->client_token = store_col_text(stmt, 15);
	e->started_ms = sqlite3_column_int64(stmt, 16);
	e->updated_ms = sqlite3_column_int64(stmt, 17);
}

static void exec_clear(void *row)
{
	store_exec_free(row);
}

int store_exec_put(struct store *st, const struct store_exec *e, struct err *err)
{
	/* id and pipeline never change; every other column is the caller's latest word. */
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "INSERT INTO executions(" EXEC_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
	        " ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
	        " ON CONFLICT(id) DO UPDATE SET version = excluded.version, seq = excluded.seq,"
	        " status = excluded.status, status_summary = excluded.status_summary,"
	        " trigger_type = excluded.trigger_type, trigger_detail = excluded.trigger_detail,"
	        " variables = excluded.variables, source_commit = excluded.source_commit,"
	        " stage = excluded.stage, waiting = excluded.waiting, wait_seq = excluded.wait_seq,"
	        " stop_mode = excluded.stop_mode, stop_reason = excluded.stop_reason,"
	        " client_token = excluded.client_token, started_ms = excluded.started_ms,"
	        " updated_ms = excluded.updated_ms",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, e->id);
	store_bind_text(stmt, 2, e->pipeline);
	sqlite3_bind_int(stmt, 3, e->version);
	sqlite3_bind_int64(stmt, 4, e->seq);
	store_bind_text(stmt, 5, e->status);
	store_bind_text(stmt, 6, e->status_summary);
	store_bind_text(stmt, 7, e->trigger_type);
	store_bind_text(stmt, 8, e->trigger_detail);
	store_bind_text(stmt, 9, e->variables ? e->variables : "[]");
	store_bind_text(stmt, 10, e->source_commit);
	store_bind_text(stmt, 11, e->stage);
	sqlite3_bind_int(stmt, 12, e->waiting != 0);
	sqlite3_bind_int64(stmt, 13, e->wait_seq);
	store_bind_text(stmt, 14, e->stop_mode);
	store_bind_text(stmt, 15, e->stop_reason);
	store_bind_text(stmt, 16, e->client_token);
	sqlite3_bind_int64(stmt, 17, e->started_ms);
	sqlite3_bind_int64(stmt, 18, e->updated_ms);
	int rc = store_write_step(st, stmt, "storing an execution", err);
	if (rc == STORE_CONFLICT)
		err_set(err, "pipeline \"%s\": execution number %lld is taken already", e->pipeline,
		        (long long)e->seq);
	else if (rc == STORE_NOT_FOUND)
		err_set(err, "no pipeline named \"%s\"", e->pipeline);
	return rc;
}

int store_exec_get(struct store *st, const char *id, struct store_exec *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt =
	        store_prepare(st, "SELECT " EXEC_COLUMNS " FROM executions WHERE id = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, id);
	int rc = store_row_fetch_one(st, stmt, exec_fill, out, "reading an execution", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no execution with id \"%s\"", id);
	return rc;
}

int store_exec_list(struct store *st, const char *pipeline, int64_t before_seq, int limit,
                    struct store_exec **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " EXEC_COLUMNS " FROM executions"
	                                   " WHERE pipeline = ?1 AND (?2 <= 0 OR seq < ?2)"
	                                   " ORDER BY seq DESC LIMIT ?3",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	sqlite3_bind_int64(stmt, 2, before_seq);
	sqlite3_bind_int(stmt, 3, limit > 0 ? limit : -1);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, exec_fill, exec_clear, &rows, n,
	                             "listing executions", err);
	*out = rows;
	return rc;
}

int store_exec_list_active(struct store *st, struct store_exec **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " EXEC_COLUMNS " FROM executions"
	                                   " WHERE status IN ('InProgress', 'Stopping')"
	                                   " ORDER BY pipeline, seq",
	                                   err);
	if (!stmt)
		return -1;
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, exec_fill, exec_clear, &rows, n,
	                             "listing active executions", err);
	*out = rows;
	return rc;
}

int store_exec_by_token(struct store *st, const char *pipeline, const char *client_token,
                        struct store_exec *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " EXEC_COLUMNS " FROM executions"
	                                   " WHERE pipeline = ?1 AND client_token = ?2"
	                                   " ORDER BY seq DESC LIMIT 1",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	store_bind_text(stmt, 2, client_token);
	int rc = store_row_fetch_one(st, stmt, exec_fill, out, "looking an execution up", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "pipeline \"%s\": no execution started with this client token",
		        pipeline);
	return rc;
}

int store_exec_next_seq(struct store *st, const char *pipeline, int64_t *out, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st, "SELECT COALESCE(MAX(seq), 0) + 1 FROM executions WHERE pipeline = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	return query_int64(st, stmt, out, "numbering an execution", err);
}

void store_exec_free(struct store_exec *e)
{
	if (!e)
		return;
	free(e->id);
	free(e->pipeline);
	free(e->status);
	free(e->status_summary);
	free(e->trigger_type);
	free(e->trigger_detail);
	free(e->variables);
	free(e->source_commit);
	free(e->stage);
	free(e->stop_mode);
	free(e->stop_reason);
	free(e->client_token);
	memset(e, 0, sizeof *e);
}

void store_exec_list_free(struct store_exec *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_exec_free(&e[i]);
	free(e);
}

/* ---- stage executions ---- */

#define STAGE_COLUMNS                                                                              \
	"execution_id, pipeline, stage, status, attempt, min_attempt, entered_seq, started_ms,"    \
	" updated_ms"

static void stage_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_stage *s = row;
	s->execution_id = store_col_text(stmt, 0);
	s->pipeline = store_col_text(stmt, 1);
	s->stage = store_col_text(stmt, 2);
	s->status = store_col_text(stmt, 3);
	s->attempt = sqlite3_column_int(stmt, 4);
	s->min_attempt = sqlite3_column_int(stmt, 5);
	s->entered_seq = sqlite3_column_int64(stmt, 6);
	s->started_ms = sqlite3_column_int64(stmt, 7);
	s->updated_ms = sqlite3_column_int64(stmt, 8);
}

static void stage_clear(void *row)
{
	store_stage_free(row);
}

int store_stage_put(struct store *st, const struct store_stage *s, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "INSERT INTO stage_executions(" STAGE_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	        " ?8, ?9) ON CONFLICT(execution_id, stage) DO UPDATE SET status = excluded.status,"
	        " attempt = excluded.attempt, min_attempt = excluded.min_attempt,"
	        " entered_seq = excluded.entered_seq, started_ms = excluded.started_ms,"
	        " updated_ms = excluded.updated_ms",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, s->execution_id);
	store_bind_text(stmt, 2, s->pipeline);
	store_bind_text(stmt, 3, s->stage);
	store_bind_text(stmt, 4, s->status);
	sqlite3_bind_int(stmt, 5, s->attempt);
	sqlite3_bind_int(stmt, 6, s->min_attempt);
	sqlite3_bind_int64(stmt, 7, s->entered_seq);
	sqlite3_bind_int64(stmt, 8, s->started_ms);
	sqlite3_bind_int64(stmt, 9, s->updated_ms);
	int rc = store_write_step(st, stmt, "storing a stage execution", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no execution with id \"%s\"", s->execution_id);
	return rc;
}

int store_stage_list(struct store *st, const char *execution_id, struct store_stage **out,
                     size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " STAGE_COLUMNS " FROM stage_executions"
	                                   " WHERE execution_id = ?1 ORDER BY entered_seq, rowid",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, execution_id);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, stage_fill, stage_clear, &rows, n,
	                             "listing stage executions", err);
	*out = rows;
	return rc;
}

int store_stage_latest(struct store *st, const char *pipeline, const char *stage,
                       struct store_stage *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " STAGE_COLUMNS " FROM stage_executions"
	                                   " WHERE pipeline = ?1 AND stage = ?2"
	                                   " ORDER BY entered_seq DESC LIMIT 1",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	store_bind_text(stmt, 2, stage);
	int rc = store_row_fetch_one(st, stmt, stage_fill, out, "reading a stage execution", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "pipeline \"%s\": stage \"%s\" never ran", pipeline, stage);
	return rc;
}

int store_stage_max_seq(struct store *st, const char *pipeline, int64_t *out, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "SELECT COALESCE(MAX(entered_seq), 0) FROM stage_executions WHERE pipeline = ?1",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	return query_int64(st, stmt, out, "reading stage order", err);
}

void store_stage_free(struct store_stage *s)
{
	if (!s)
		return;
	free(s->execution_id);
	free(s->pipeline);
	free(s->stage);
	free(s->status);
	memset(s, 0, sizeof *s);
}

void store_stage_list_free(struct store_stage *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_stage_free(&s[i]);
	free(s);
}

/* ---- action executions ---- */

#define ACTION_COLUMNS                                                                             \
	"id, execution_id, pipeline, stage, action, attempt, run_order, status, summary,"          \
	" error_code, error_message, external_id, output_variables, resolved_config,"              \
	" input_artifacts, output_artifacts, revision, log_path, pid, pid_start, started_ms,"      \
	" updated_ms, reports"

static void action_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_action *a = row;
	a->id = store_col_text(stmt, 0);
	a->execution_id = store_col_text(stmt, 1);
	a->pipeline = store_col_text(stmt, 2);
	a->stage = store_col_text(stmt, 3);
	a->action = store_col_text(stmt, 4);
	a->attempt = sqlite3_column_int(stmt, 5);
	a->run_order = sqlite3_column_int(stmt, 6);
	a->status = store_col_text(stmt, 7);
	a->summary = store_col_text(stmt, 8);
	a->error_code = store_col_text(stmt, 9);
	a->error_message = store_col_text(stmt, 10);
	a->external_id = store_col_text(stmt, 11);
	a->output_variables = store_col_text(stmt, 12);
	a->resolved_config = store_col_text(stmt, 13);
	a->input_artifacts = store_col_text(stmt, 14);
	a->output_artifacts = store_col_text(stmt, 15);
	a->revision = store_col_text(stmt, 16);
	a->log_path = store_col_text(stmt, 17);
	a->pid = sqlite3_column_int64(stmt, 18); /* NULL reads as 0 */
	a->pid_start = sqlite3_column_int64(stmt, 19);
	a->started_ms = sqlite3_column_int64(stmt, 20);
	a->updated_ms = sqlite3_column_int64(stmt, 21);
	a->reports = store_col_text(stmt, 22);
}

static void action_clear(void *row)
{
	store_action_free(row);
}

int store_action_put(struct store *st, const struct store_action *a, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "INSERT INTO action_executions(" ACTION_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
	        " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"
	        " ON CONFLICT(id) DO UPDATE SET stage = excluded.stage, action = excluded.action,"
	        " attempt = excluded.attempt, run_order = excluded.run_order,"
	        " status = excluded.status, summary = excluded.summary,"
	        " error_code = excluded.error_code, error_message = excluded.error_message,"
	        " external_id = excluded.external_id, output_variables = excluded.output_variables,"
	        " resolved_config = excluded.resolved_config,"
	        " input_artifacts = excluded.input_artifacts,"
	        " output_artifacts = excluded.output_artifacts, revision = excluded.revision,"
	        " log_path = excluded.log_path, pid = excluded.pid, pid_start = excluded.pid_start,"
	        " started_ms = excluded.started_ms, updated_ms = excluded.updated_ms,"
	        " reports = excluded.reports",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, a->id);
	store_bind_text(stmt, 2, a->execution_id);
	store_bind_text(stmt, 3, a->pipeline);
	store_bind_text(stmt, 4, a->stage);
	store_bind_text(stmt, 5, a->action);
	sqlite3_bind_int(stmt, 6, a->attempt);
	sqlite3_bind_int(stmt, 7, a->run_order);
	store_bind_text(stmt, 8, a->status);
	store_bind_text(stmt, 9, a->summary);
	store_bind_text(stmt, 10, a->error_code);
	store_bind_text(stmt, 11, a->error_message);
	store_bind_text(stmt, 12, a->external_id);
	store_bind_text(stmt, 13, a->output_variables);
	store_bind_text(stmt, 14, a->resolved_config);
	store_bind_text(stmt, 15, a->input_artifacts);
	store_bind_text(stmt, 16, a->output_artifacts);
	store_bind_text(stmt, 17, a->revision);
	store_bind_text(stmt, 18, a->log_path);
	sqlite3_bind_int64(stmt, 19, a->pid);
	sqlite3_bind_int64(stmt, 20, a->pid_start);
	sqlite3_bind_int64(stmt, 21, a->started_ms);
	sqlite3_bind_int64(stmt, 22, a->updated_ms);
	store_bind_text(stmt, 23, a->reports);
	int rc = store_write_step(st, stmt, "storing an action execution", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no execution with id \"%s\"", a->execution_id);
	return rc;
}

int store_action_get(struct store *st, const char *id, struct store_action *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(
	        st, "SELECT " ACTION_COLUMNS " FROM action_executions WHERE id = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, id);
	int rc =
	        store_row_fetch_one(st, stmt, action_fill, out, "reading an action execution", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no action execution with id \"%s\"", id);
	return rc;
}

int store_action_list(struct store *st, const char *pipeline, const char *execution_id, int limit,
                      struct store_action **out, size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt;
	if (execution_id)
		stmt = store_prepare(st,
		                     "SELECT " ACTION_COLUMNS " FROM action_executions"
		                     " WHERE execution_id = ?2 AND (?1 IS NULL OR pipeline = ?1)"
		                     " ORDER BY started_ms, rowid LIMIT ?3",
		                     err);
	else
		stmt = store_prepare(st,
		                     "SELECT " ACTION_COLUMNS " FROM action_executions"
		                     " WHERE pipeline = ?1 ORDER BY started_ms DESC, rowid DESC"
		                     " LIMIT ?3",
		                     err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, pipeline);
	if (execution_id)
		store_bind_text(stmt, 2, execution_id);
	sqlite3_bind_int(stmt, 3, limit > 0 ? limit : -1);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, action_fill, action_clear, &rows, n,
	                             "listing action executions", err);
	*out = rows;
	return rc;
}

int store_action_list_running(struct store *st, struct store_action **out, size_t *n,
                              struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt =
	        store_prepare(st,
	                      "SELECT " ACTION_COLUMNS " FROM action_executions"
	                      " WHERE status = 'InProgress' ORDER BY started_ms, rowid",
	                      err);
	if (!stmt)
		return -1;
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, action_fill, action_clear, &rows, n,
	                             "listing running action executions", err);
	*out = rows;
	return rc;
}

void store_action_free(struct store_action *a)
{
	if (!a)
		return;
	free(a->id);
	free(a->execution_id);
	free(a->pipeline);
	free(a->stage);
	free(a->action);
	free(a->status);
	free(a->summary);
	free(a->error_code);
	free(a->error_message);
	free(a->external_id);
	free(a->output_variables);
	free(a->resolved_config);
	free(a->input_artifacts);
	free(a->output_artifacts);
	free(a->revision);
	free(a->log_path);
	free(a->reports);
	memset(a, 0, sizeof *a);
}

void store_action_list_free(struct store_action *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_action_free(&a[i]);
	free(a);
}

/* ---- artifacts ---- */

#define ARTIFACT_COLUMNS "execution_id, name, path, sha256, size, revision, action_execution_id"

static void artifact_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_artifact *a = row;
	a->execution_id = store_col_text(stmt, 0);
	a->name = store_col_text(stmt, 1);
	a->path = store_col_text(stmt, 2);
	a->sha256 = store_col_text(stmt, 3);
	a->size = sqlite3_column_int64(stmt, 4);
	a->revision = store_col_text(stmt, 5);
	a->action_execution_id = store_col_text(stmt, 6);
}

static void artifact_clear(void *row)
{
	struct store_artifact *a = row;
	free(a->execution_id);
	free(a->name);
	free(a->path);
	free(a->sha256);
	free(a->revision);
	free(a->action_execution_id);
}

int store_artifact_put(struct store *st, const struct store_artifact *a, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "INSERT INTO artifacts(" ARTIFACT_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	        " ON CONFLICT(execution_id, name) DO UPDATE SET path = excluded.path,"
	        " sha256 = excluded.sha256, size = excluded.size, revision = excluded.revision,"
	        " action_execution_id = excluded.action_execution_id",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, a->execution_id);
	store_bind_text(stmt, 2, a->name);
	store_bind_text(stmt, 3, a->path);
	store_bind_text(stmt, 4, a->sha256);
	sqlite3_bind_int64(stmt, 5, a->size);
	store_bind_text(stmt, 6, a->revision);
	store_bind_text(stmt, 7, a->action_execution_id);
	int rc = store_write_step(st, stmt, "storing an artifact", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no execution with id \"%s\"", a->execution_id);
	return rc;
}

int store_artifact_list(struct store *st, const char *execution_id, struct store_artifact **out,
                        size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	/* rowid: the order they were first stored (an upsert keeps a row's rowid). */
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " ARTIFACT_COLUMNS " FROM artifacts"
	                                   " WHERE execution_id = ?1 ORDER BY rowid",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, execution_id);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, artifact_fill, artifact_clear, &rows,
	                             n, "listing artifacts", err);
	*out = rows;
	return rc;
}

int store_artifact_delete(struct store *st, const char *execution_id, struct err *err)
{
	sqlite3_stmt *stmt =
	        store_prepare(st, "DELETE FROM artifacts WHERE execution_id = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, execution_id);
	return store_write_step(st, stmt, "forgetting artifacts", err);
}

void store_artifact_list_free(struct store_artifact *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		artifact_clear(&a[i]);
	free(a);
}
