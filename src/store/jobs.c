/*
 * jobs.c — Invoke-action jobs (see jobs.h).
 *
 * Why it is built this way:
 *  - a put is one upsert, like the execution rows: the engine records a job's change
 *    in the same transaction as the action's, or alone, and never deletes a row to
 *    rewrite it;
 *  - rows hang off the execution (not the action row) so that a job can be recorded
 *    in the transaction that creates its action row, whatever the order of the puts.
 */
#include "store/jobs.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/buf.h"
#include "util/timeutil.h"

#define JOB_COLUMNS                                                                                \
	"id, action_execution_id, execution_id, pipeline, stage, action, function_name, status,"   \
	" continuation_token, next_token, secret, data, summary, percent_complete, created_ms,"    \
	" deadline_ms, updated_ms"

int store_job_is_open(const char *status)
{
	return status &&
	       (!strcmp(status, STORE_JOB_CREATED) || !strcmp(status, STORE_JOB_IN_PROGRESS));
}

static void job_fill(sqlite3_stmt *stmt, void *row)
{
	struct store_job *j = row;
	j->id = store_col_text(stmt, 0);
	j->action_execution_id = store_col_text(stmt, 1);
	j->execution_id = store_col_text(stmt, 2);
	j->pipeline = store_col_text(stmt, 3);
	j->stage = store_col_text(stmt, 4);
	j->action = store_col_text(stmt, 5);
	j->function_name = store_col_text(stmt, 6);
	j->status = store_col_text(stmt, 7);
	j->continuation_token = store_col_text(stmt, 8);
	j->next_token = store_col_text(stmt, 9);
	j->secret = store_col_text(stmt, 10);
	j->data = store_col_text(stmt, 11);
	j->summary = store_col_text(stmt, 12);
	j->percent_complete = sqlite3_column_int(stmt, 13);
	j->created_ms = sqlite3_column_int64(stmt, 14);
	j->deadline_ms = sqlite3_column_int64(stmt, 15);
	j->updated_ms = sqlite3_column_int64(stmt, 16);
}

static void job_clear(void *row)
{
	store_job_free(row);
}

int store_job_put(struct store *st, const struct store_job *j, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(
	        st,
	        "INSERT INTO jobs(" JOB_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	        " ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
	        " ON CONFLICT(id) DO UPDATE SET status = excluded.status,"
	        " continuation_token = excluded.continuation_token,"
	        " next_token = excluded.next_token, secret = excluded.secret,"
	        " data = excluded.data, summary = excluded.summary,"
	        " percent_complete = excluded.percent_complete,"
	        " deadline_ms = excluded.deadline_ms, updated_ms = excluded.updated_ms",
	        err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, j->id);
	store_bind_text(stmt, 2, j->action_execution_id);
	store_bind_text(stmt, 3, j->execution_id);
	store_bind_text(stmt, 4, j->pipeline);
	store_bind_text(stmt, 5, j->stage);
	store_bind_text(stmt, 6, j->action);
	store_bind_text(stmt, 7, j->function_name);
	store_bind_text(stmt, 8, j->status ? j->status : STORE_JOB_CREATED);
	store_bind_text(stmt, 9, j->continuation_token);
	store_bind_text(stmt, 10, j->next_token);
	store_bind_text(stmt, 11, j->secret);
	store_bind_text(stmt, 12, j->data ? j->data : "{}");
	store_bind_text(stmt, 13, j->summary);
	sqlite3_bind_int(stmt, 14, j->percent_complete);
	sqlite3_bind_int64(stmt, 15, j->created_ms ? j->created_ms : wall_ms());
	sqlite3_bind_int64(stmt, 16, j->deadline_ms);
	sqlite3_bind_int64(stmt, 17, j->updated_ms ? j->updated_ms : wall_ms());
	int rc = store_write_step(st, stmt, "storing a job", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "job %s: no execution with id \"%s\"", j->id ? j->id : "",
		        j->execution_id ? j->execution_id : "");
	return rc;
}

int store_job_get(struct store *st, const char *id, struct store_job *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt =
	        store_prepare(st, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1", err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, id);
	int rc = store_row_fetch_one(st, stmt, job_fill, out, "reading a job", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "no job with id \"%s\"", id);
	return rc;
}

int store_job_latest(struct store *st, const char *action_execution_id, struct store_job *out,
                     struct err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " JOB_COLUMNS " FROM jobs"
	                                   " WHERE action_execution_id = ?1"
	                                   " ORDER BY created_ms DESC, rowid DESC LIMIT 1",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, action_execution_id);
	int rc = store_row_fetch_one(st, stmt, job_fill, out, "reading a job", err);
	if (rc == STORE_NOT_FOUND)
		err_set(err, "action execution %s has no job", action_execution_id);
	return rc;
}

int store_job_list(struct store *st, const char *action_execution_id, struct store_job **out,
                   size_t *n, struct err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(st,
	                                   "SELECT " JOB_COLUMNS " FROM jobs"
	                                   " WHERE action_execution_id = ?1"
	                                   " ORDER BY created_ms, rowid",
	                                   err);
	if (!stmt)
		return -1;
	store_bind_text(stmt, 1, action_execution_id);
	void *rows;
	int rc = store_row_fetch_all(st, stmt, sizeof **out, job_fill, job_clear, &rows, n,
	                             "listing jobs", err);
	*out = rows;
	return rc;
}

void store_job_free(struct store_job *j)
{
	if (!j)
		return;
	free(j->id);
	free(j->action_execution_id);
	free(j->execution_id);
	free(j->pipeline);
	free(j->stage);
	free(j->action);
	free(j->function_name);
	free(j->status);
	free(j->continuation_token);
	free(j->next_token);
	free(j->secret);
	free(j->data);
	free(j->summary);
	memset(j, 0, sizeof *j);
}

void store_job_list_free(struct store_job *j, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_job_free(&j[i]);
	free(j);
}
