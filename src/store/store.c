/*
 * store.c — opening ferry's database, its migrations, and build numbers.
 *
 * The schema grows only by appending to `migrations[]` below: entry i takes the
 * database from user_version i to i + 1, inside one transaction with the
 * version bump, so a crash leaves either the old schema or the new one. Entries
 * are never edited once released: a database in the field has already run them.
 *
 * Several processes may open the same data directory (the daemon and a
 * `ferry secret` command): each migration step re-reads user_version after
 * taking the write lock, so two openers never apply the same step twice.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"

/* How long a statement waits for another process's write lock before failing. */
#define STORE_BUSY_TIMEOUT_MS 5000

static const char *const migrations[] = {
        /* 1: ferry's own secret store and per-project build numbers */
        "CREATE TABLE secrets(name TEXT PRIMARY KEY, nonce BLOB NOT NULL, box BLOB NOT NULL,"
        " updated_ms INTEGER NOT NULL);"
        "CREATE TABLE build_counters(project TEXT PRIMARY KEY, last INTEGER NOT NULL);",
        /* 2: API tokens (store/token.c): a hash of each token, never the token; one
         * live token per name, revoked ones kept so they are reported as revoked */
        "CREATE TABLE tokens(id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BLOB NOT NULL UNIQUE,"
        " scopes TEXT NOT NULL, created_ms INTEGER NOT NULL, last_used_ms INTEGER,"
        " revoked_ms INTEGER);"
        "CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked_ms IS NULL;",
        /* 3: the pipeline engine (store/pipelines.c, store/executions.c). Deleting a
         * pipeline deletes its history through the foreign keys. */
        "CREATE TABLE pipelines(name TEXT PRIMARY KEY, version INTEGER NOT NULL,"
        " declaration TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
        "CREATE TABLE pipeline_versions(name TEXT NOT NULL REFERENCES pipelines(name)"
        " ON DELETE CASCADE, version INTEGER NOT NULL, declaration TEXT NOT NULL,"
        " created_ms INTEGER NOT NULL, PRIMARY KEY(name, version));"
        "CREATE TABLE executions(id TEXT PRIMARY KEY, pipeline TEXT NOT NULL"
        " REFERENCES pipelines(name) ON DELETE CASCADE, version INTEGER NOT NULL,"
        " seq INTEGER NOT NULL, status TEXT NOT NULL, status_summary TEXT,"
        " trigger_type TEXT NOT NULL, trigger_detail TEXT, variables TEXT NOT NULL,"
        " source_commit TEXT, stage TEXT, waiting INTEGER NOT NULL, wait_seq INTEGER NOT NULL,"
        " stop_mode TEXT, stop_reason TEXT, client_token TEXT, started_ms INTEGER NOT NULL,"
        " updated_ms INTEGER NOT NULL, UNIQUE(pipeline, seq));"
        "CREATE INDEX executions_status ON executions(status);"
        "CREATE TABLE stage_executions(execution_id TEXT NOT NULL REFERENCES executions(id)"
        " ON DELETE CASCADE, pipeline TEXT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL,"
        " attempt INTEGER NOT NULL, min_attempt INTEGER NOT NULL, entered_seq INTEGER NOT NULL,"
        " started_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
        " PRIMARY KEY(execution_id, stage));"
        "CREATE INDEX stage_executions_latest ON stage_executions(pipeline, stage, entered_seq);"
        "CREATE TABLE action_executions(id TEXT PRIMARY KEY, execution_id TEXT NOT NULL"
        " REFERENCES executions(id) ON DELETE CASCADE, pipeline TEXT NOT NULL,"
        " stage TEXT NOT NULL, action TEXT NOT NULL, attempt INTEGER NOT NULL,"
        " run_order INTEGER NOT NULL, status TEXT NOT NULL, summary TEXT, error_code TEXT,"
        " error_message TEXT, external_id TEXT, output_variables TEXT, resolved_config TEXT,"
        " input_artifacts TEXT, output_artifacts TEXT, revision TEXT, log_path TEXT,"
        " pid INTEGER, pid_start INTEGER, started_ms INTEGER NOT NULL,"
        " updated_ms INTEGER NOT NULL);"
        "CREATE INDEX action_executions_exec ON action_executions(execution_id, started_ms);"
        "CREATE INDEX action_executions_status ON action_executions(status);"
        "CREATE TABLE artifacts(execution_id TEXT NOT NULL REFERENCES executions(id)"
        " ON DELETE CASCADE, name TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT,"
        " size INTEGER NOT NULL, revision TEXT, action_execution_id TEXT NOT NULL,"
        " PRIMARY KEY(execution_id, name));"
        "CREATE TABLE transitions(pipeline TEXT NOT NULL REFERENCES pipelines(name)"
        " ON DELETE CASCADE, stage TEXT NOT NULL, direction TEXT NOT NULL,"
        " enabled INTEGER NOT NULL, reason TEXT, changed_by TEXT, changed_ms INTEGER NOT NULL,"
        " PRIMARY KEY(pipeline, stage, direction));"
        "CREATE TABLE trigger_events(id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL"
        " REFERENCES pipelines(name) ON DELETE CASCADE, source TEXT NOT NULL,"
        " delivery_id TEXT, ref TEXT, before TEXT, after TEXT, outcome TEXT NOT NULL,"
        " reason TEXT, execution_id TEXT, received_ms INTEGER NOT NULL,"
        " UNIQUE(pipeline, delivery_id));"
        "CREATE TABLE poll_state(pipeline TEXT NOT NULL REFERENCES pipelines(name)"
        " ON DELETE CASCADE, action TEXT NOT NULL, last_commit TEXT NOT NULL,"
        " PRIMARY KEY(pipeline, action));",
        /* 4: sites, their releases and invalidations (store/sites.c). A site's
         * `next_release` numbers releases, so a number is never handed out twice even
         * after the release is pruned; at most one release per site is live. */
        "CREATE TABLE sites(name TEXT PRIMARY KEY, host TEXT UNIQUE, index_doc TEXT NOT NULL,"
        " error_doc TEXT, spa INTEGER NOT NULL, keep INTEGER NOT NULL,"
        " visibility INTEGER NOT NULL, default_ttl INTEGER NOT NULL,"
        " next_release INTEGER NOT NULL DEFAULT 1, created_ms INTEGER NOT NULL);"
        "CREATE TABLE releases(site TEXT NOT NULL REFERENCES sites(name) ON DELETE CASCADE,"
        " number INTEGER NOT NULL, dir TEXT NOT NULL, source TEXT, revision TEXT,"
        " cache_control TEXT, files INTEGER NOT NULL, bytes INTEGER NOT NULL,"
        " live INTEGER NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY(site, number));"
        "CREATE UNIQUE INDEX releases_live ON releases(site) WHERE live = 1;"
        "CREATE TABLE invalidations(site TEXT NOT NULL REFERENCES sites(name)"
        " ON DELETE CASCADE, id TEXT NOT NULL, caller_reference TEXT NOT NULL,"
        " paths TEXT NOT NULL, status TEXT NOT NULL, created_ms INTEGER NOT NULL,"
        " PRIMARY KEY(site, id), UNIQUE(site, caller_reference));",
        /* 5: functions, versions, aliases, invocations (store/functions.c). A function's
         * row is its $LATEST; `next_version` numbers published versions, so a number is
         * never handed out twice; an alias remembers the version it pointed at before
         * (`previous`) for a rollback. */
        "CREATE TABLE functions(name TEXT PRIMARY KEY, runtime TEXT NOT NULL,"
        " handler TEXT NOT NULL, description TEXT, timeout INTEGER NOT NULL,"
        " memory INTEGER NOT NULL, env TEXT NOT NULL, code_sha TEXT NOT NULL,"
        " code_size INTEGER NOT NULL, code_dir TEXT NOT NULL, revision_id TEXT NOT NULL,"
        " modified_ms INTEGER NOT NULL, next_version INTEGER NOT NULL DEFAULT 1,"
        " created_ms INTEGER NOT NULL);"
        "CREATE TABLE function_versions(function TEXT NOT NULL REFERENCES functions(name)"
        " ON DELETE CASCADE, version INTEGER NOT NULL, runtime TEXT NOT NULL,"
        " handler TEXT NOT NULL, description TEXT, timeout INTEGER NOT NULL,"
        " memory INTEGER NOT NULL, env TEXT NOT NULL, code_sha TEXT NOT NULL,"
        " code_size INTEGER NOT NULL, code_dir TEXT NOT NULL, revision_id TEXT NOT NULL,"
        " modified_ms INTEGER NOT NULL, PRIMARY KEY(function, version));"
        "CREATE TABLE function_aliases(function TEXT NOT NULL REFERENCES functions(name)"
        " ON DELETE CASCADE, name TEXT NOT NULL, version TEXT NOT NULL, previous TEXT,"
        " description TEXT, revision_id TEXT NOT NULL, modified_ms INTEGER NOT NULL,"
        " PRIMARY KEY(function, name));"
        "CREATE TABLE invocations(request_id TEXT PRIMARY KEY, function TEXT NOT NULL"
        " REFERENCES functions(name) ON DELETE CASCADE, version TEXT NOT NULL,"
        " status TEXT NOT NULL, error_type TEXT, duration_ms INTEGER NOT NULL,"
        " started_ms INTEGER NOT NULL, log_path TEXT);"
        "CREATE INDEX invocations_function ON invocations(function, started_ms);",
        /* 6: Invoke-action jobs (store/jobs.c) */
        "CREATE TABLE jobs(id TEXT PRIMARY KEY, action_execution_id TEXT NOT NULL,"
        " execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,"
        " pipeline TEXT NOT NULL, stage TEXT NOT NULL, action TEXT NOT NULL,"
        " function_name TEXT, status TEXT NOT NULL, continuation_token TEXT,"
        " next_token TEXT, secret TEXT, data TEXT NOT NULL, summary TEXT,"
        " percent_complete INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
        " deadline_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
        "CREATE INDEX jobs_action ON jobs(action_execution_id, created_ms);",
        /* 7: appspec deployment groups and deployments (store/deployments.c) */
        "CREATE TABLE deploy_groups(app TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL"
        " UNIQUE, kind TEXT NOT NULL, targets TEXT NOT NULL, slots TEXT, host TEXT,"
        " config TEXT NOT NULL, auto_rollback INTEGER NOT NULL, live_slot TEXT,"
        " created_ms INTEGER NOT NULL, PRIMARY KEY(app, name));"
        "CREATE TABLE deployments(id TEXT PRIMARY KEY, app TEXT NOT NULL, grp TEXT NOT NULL,"
        " status TEXT NOT NULL, revision TEXT, bundle TEXT, creator TEXT NOT NULL,"
        " rollback_of TEXT, rolled_back_by TEXT, source TEXT, summary TEXT, error_code TEXT,"
        " started_ms INTEGER NOT NULL, ended_ms INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX deployments_group ON deployments(app, grp, started_ms);"
        "CREATE TABLE deploy_events(deployment_id TEXT NOT NULL REFERENCES deployments(id)"
        " ON DELETE CASCADE, target INTEGER NOT NULL, target_name TEXT NOT NULL,"
        " seq INTEGER NOT NULL, event TEXT NOT NULL, status TEXT NOT NULL, script TEXT,"
        " exit_code INTEGER, error_code TEXT, message TEXT, started_ms INTEGER NOT NULL,"
        " ended_ms INTEGER NOT NULL, PRIMARY KEY(deployment_id, target, seq));",
        /* 8: sites' purge targets (store/sites.c): caches in front of the edge told of
         * invalidations; an invalidation that purges them stays InProgress until
         * `purge_deadline_ms` at most, and keeps what went wrong in `purge_error`. */
        "CREATE TABLE site_purge_targets(site TEXT NOT NULL REFERENCES sites(name)"
        " ON DELETE CASCADE, kind TEXT NOT NULL, url TEXT NOT NULL,"
        " created_ms INTEGER NOT NULL, PRIMARY KEY(site, kind, url));"
        "ALTER TABLE invalidations ADD COLUMN purge_deadline_ms INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE invalidations ADD COLUMN purge_error TEXT;",
        /* 9: test-report summaries of a build action (store/executions.c): JSON text
         * [{name, type, total, passed, ...}] or NULL */
        "ALTER TABLE action_executions ADD COLUMN reports TEXT;",
};

#define MIGRATIONS_N ((int)(sizeof migrations / sizeof migrations[0]))

int store_sql_err(struct store *st, struct err *err, const char *what)
{
	return err_set(err, "%s: %s: %s", st->db_path, what, sqlite3_errmsg(st->db));
}

sqlite3_stmt *store_prepare(struct store *st, const char *sql, struct err *err)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_sql_err(st, err, "preparing a statement");
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

int store_begin(struct store *st, struct err *err)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_err(st, err, "starting a transaction");
	return 0;
}

int store_commit(struct store *st, struct err *err)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_sql_err(st, err, "committing");
		store_rollback(st);
		return -1;
	}
	return 0;
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_tx_begin(struct store *st, struct err *err)
{
	return store_begin(st, err);
}

int store_tx_commit(struct store *st, struct err *err)
{
	return store_commit(st, err);
}

void store_tx_rollback(struct store *st)
{
	store_rollback(st);
}

/* Runs a statement that returns one integer row (a PRAGMA or a SELECT). */
static int query_int(struct store *st, const char *sql, int64_t *out, struct err *err)
{
	sqlite3_stmt *stmt = store_prepare(st, sql, err);
	if (!stmt)
		return -1;
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		store_sql_err(st, err, sql);
		sqlite3_finalize(stmt);
		return -1;
	}
	*out = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

static int exec_const(struct store *st, const char *sql, const char *what, struct err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_err(st, err, what);
	return 0;
}

/* Applies the next pending migration, if any; *done = 1 when none was left. */
static int migrate_one(struct store *st, int *done, struct err *err)
{
	int64_t version;
	if (store_begin(st, err) < 0)
		return -1;
	if (query_int(st, "PRAGMA user_version", &version, err) < 0)
		goto fail;
	if (version > MIGRATIONS_N) {
		err_set(err,
		        "%s: the database has schema version %lld, newer than this ferry knows "
		        "(%d); run a newer ferry",
		        st->db_path, (long long)version, MIGRATIONS_N);
		goto fail;
	}
	if (version == MIGRATIONS_N) {
		*done = 1;
		return store_commit(st, err);
	}
	char what[64];
	snprintf(what, sizeof what, "migration %lld", (long long)version + 1);
	if (exec_const(st, migrations[version], what, err) < 0)
		goto fail;
	/* PRAGMA takes no bound parameters; the number is ours, never outside input. */
	char bump[64];
	snprintf(bump, sizeof bump, "PRAGMA user_version = %lld", (long long)version + 1);
	if (exec_const(st, bump, what, err) < 0)
		goto fail;
	*done = 0;
	return store_commit(st, err);
fail:
	store_rollback(st);
	return -1;
}

static int migrate(struct store *st, struct err *err)
{
	int done = 0;
	while (!done)
		if (migrate_one(st, &done, err) < 0)
			return -1;
	return 0;
}

static int configure(struct store *st, struct err *err)
{
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);

	sqlite3_stmt *stmt = store_prepare(st, "PRAGMA journal_mode = WAL", err);
	if (!stmt)
		return -1;
	int ok = sqlite3_step(stmt) == SQLITE_ROW &&
	         !strcmp((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	if (!ok)
		return err_set(
		        err, "%s: cannot switch to write-ahead logging (is the file system local?)",
		        st->db_path);
	/* FULL: a committed transaction survives power loss, not only a crash
	 * (DESIGN: every state change is committed before it is acted on). */
	if (exec_const(st, "PRAGMA synchronous = FULL", "PRAGMA synchronous", err) < 0)
		return -1;
	if (exec_const(st, "PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", err) < 0)
		return -1;
	int64_t fk = 0;
	if (query_int(st, "PRAGMA foreign_keys", &fk, err) < 0)
		return -1;
	if (fk != 1)
		return err_set(err, "%s: this SQLite cannot enforce foreign keys", st->db_path);
	return 0;
}

/* Creates the database file with mode 0600 so SQLite's -wal and -shm files,
 * which copy its mode, are private too; an existing file is left as it is — and never
 * opened here: closing any descriptor of the file drops every POSIX lock this process
 * holds on it, those of a connection already open in it too (the edge server opens
 * its own beside the engine's). Without its locks, another process's connection
 * takes the WAL for unused and deletes it, and the open connection's later commits
 * go to a deleted file. O_EXCL makes the existing case fail without a descriptor. */
static int precreate_db(const char *path, struct err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0 : err_errno(err, "%s", path);
	close(fd);
	return 0;
}

int store_open(const char *data_dir, struct store **out, struct err *err)
{
	*out = NULL;
	if (!data_dir || !*data_dir)
		return err_set(err, "store: no data directory given");
	if (sodium_init() < 0)
		return err_set(err, "store: libsodium failed to initialise");
	if (fs_mkdir_p(data_dir, 0700, err) < 0)
		return -1;

	struct store *st = xcalloc(1, sizeof *st);
	st->dir = xstrdup(data_dir);
	st->db_path = fs_join(data_dir, "ferry.db");
	if (precreate_db(st->db_path, err) < 0)
		goto fail;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
#ifdef SQLITE_OPEN_NOFOLLOW
	flags |= SQLITE_OPEN_NOFOLLOW;
#endif
	if (sqlite3_open_v2(st->db_path, &st->db, flags, NULL) != SQLITE_OK) {
		if (!st->db)
			err_set(err, "%s: cannot open: out of memory", st->db_path);
		else
			store_sql_err(st, err, "cannot open");
		goto fail;
	}
	if (configure(st, err) < 0 || migrate(st, err) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return -1;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db); /* NULL is a no-op; statements are finalized by now */
	if (st->key)
		sodium_free(st->key);
	free(st->dir);
	free(st->db_path);
	free(st);
}

int store_build_number_next(struct store *st, const char *project, int64_t *out, struct err *err)
{
	if (!project || !*project)
		return err_set(err, "build number: empty project name");
	if (store_begin(st, err) < 0)
		return -1;
	sqlite3_stmt *up = store_prepare(st,
	                                 "INSERT INTO build_counters(project, last) VALUES(?1, 1)"
	                                 " ON CONFLICT(project) DO UPDATE SET last = last + 1",
	                                 err);
	if (!up)
		goto fail;
	sqlite3_bind_text(up, 1, project, -1, SQLITE_STATIC);
	int rc = sqlite3_step(up);
	if (rc != SQLITE_DONE)
		store_sql_err(st, err, "counting builds");
	sqlite3_finalize(up);
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_stmt *get =
	        store_prepare(st, "SELECT last FROM build_counters WHERE project = ?1", err);
	if (!get)
		goto fail;
	sqlite3_bind_text(get, 1, project, -1, SQLITE_STATIC);
	rc = sqlite3_step(get);
	int64_t n = 0;
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(get, 0);
	else
		store_sql_err(st, err, "reading the build counter");
	sqlite3_finalize(get);
	if (rc != SQLITE_ROW)
		goto fail;
	if (store_commit(st, err) < 0)
		return -1;
	*out = n;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* ---- row helpers shared by the stores of src/store/ ---- */

char *store_col_text(sqlite3_stmt *stmt, int i)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);
	return t ? xstrdup((const char *)t) : NULL;
}

/* Binds text; NULL binds SQL NULL (sqlite3_bind_text does so for a NULL pointer). */
void store_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
}

/* Steps a write and finalizes it: 0, STORE_CONFLICT (a unique key is taken),
 * STORE_NOT_FOUND (the parent row is missing) or -1; `err` filled unless 0. */
int store_write_step(struct store *st, sqlite3_stmt *stmt, const char *what, struct err *err)
{
	int rc = sqlite3_step(stmt);
	int ret = 0;
	if (rc != SQLITE_DONE) {
		store_sql_err(st, err, what);
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			ret = STORE_CONFLICT;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			ret = STORE_NOT_FOUND;
		else
			ret = -1;
	}
	sqlite3_finalize(stmt);
	return ret;
}

/* Reads the one row a bound statement selects and finalizes it: 0, STORE_NOT_FOUND, -1. */
int store_row_fetch_one(struct store *st, sqlite3_stmt *stmt, store_row_fill_fn fill, void *row,
                        const char *what, struct err *err)
{
	int rc = sqlite3_step(stmt);
	int ret = 0;
	if (rc == SQLITE_ROW)
		fill(stmt, row);
	else if (rc == SQLITE_DONE)
		ret = STORE_NOT_FOUND;
	else
		ret = store_sql_err(st, err, what);
	sqlite3_finalize(stmt);
	return ret;
}

/* Reads every row a bound statement selects into a new array and finalizes it. */
int store_row_fetch_all(struct store *st, sqlite3_stmt *stmt, size_t size, store_row_fill_fn fill,
                        store_row_clear_fn clear, void **out, size_t *n, const char *what,
                        struct err *err)
{
	char *v = NULL;
	size_t len = 0;
	int rc;
	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		v = xgrow(v, len, size);
		memset(v + len * size, 0, size);
		fill(stmt, v + len * size);
		len++;
	}
	if (rc != SQLITE_DONE) {
		store_sql_err(st, err, what);
		sqlite3_finalize(stmt);
		for (size_t i = 0; i < len; i++)
			clear(v + i * size);
		free(v);
		return -1;
	}
	sqlite3_finalize(stmt);
	*out = v;
	*n = len;
	return 0;
}
