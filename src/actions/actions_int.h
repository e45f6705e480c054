/*
 * actions_int.h — internal to src/actions: the parsed job, the result being built,
 * and the helpers the providers share (log lines, output files, libgit2 glue).
 *
 * Invariants:
 *  - strings in `struct action_job` point into its JSON tree and live as long as it;
 *  - a provider fills the result and returns; action.c writes result.json, so a
 *    provider never writes it itself;
 *  - action_fail() and action_result_output() copy what they are given.
 *
 * Ownership: `struct action_result` owns its strings and JSON; action.c frees it.
 */
#ifndef FERRY_ACTIONS_INT_H
#define FERRY_ACTIONS_INT_H

#include <jansson.h>
#include <stdint.h>

#include "actions/git.h"
#include "util/err.h"
#include "util/libgit.h"

struct action_artifact {
	const char *name;
	const char *path;
	const char *revision; /* NULL when unknown */
};

struct action_job {
	json_t *root;
	const char *job_dir;
	const char *kind, *pipeline, *execution_id, *stage, *action;
	const char *data_dir, *work_dir;
	json_t *configuration; /* object; values are strings */
	struct action_artifact *inputs, *outputs;
	size_t ninputs, noutputs;
	json_t *source;  /* object, or NULL */
	json_t *project; /* object, or NULL */
	int sandbox;
};

struct action_result {
	int failed;
	char *summary;
	char *error_message;
	char *external_id;
	json_t *variables; /* object of strings */
	json_t *outputs;   /* array of {name, path, sha256, size, revision} */
	json_t *revision;  /* object, or NULL */
	json_t *reports;   /* array of test-report summaries (build), or NULL */
};

/* One log line on stdout, "[tag] text", flushed: stdout is the action's log. */
FERRY_PRINTF(2, 3)
void action_log(const char *tag, const char *fmt, ...);

/* Marks the result Failed (errorCode JobFailed) with `summary` as the one-line
 * summary and the error message; also logs it. Returns -1. */
FERRY_PRINTF(2, 3)
int action_fail(struct action_result *r, const char *fmt, ...);

/* Records `out` as written (the file at out->path, complete): hashes it and appends
 * {name, path, sha256, size, revision} to the result. 0, or -1 with `err`. */
FERRY_MUST_CHECK
int action_result_output(struct action_result *r, const struct action_artifact *out,
                         const char *revision, struct err *err);

/* As action_result_output(), with the hash and size already known. */
void action_result_add_output(struct action_result *r, const struct action_artifact *out,
                              const char *sha256, int64_t size, const char *revision);

/* fsync(2) of the file at `path`: its bytes are on disk before it is renamed into
 * place (a crash must not leave an artifact that is named but empty). */
FERRY_MUST_CHECK
int action_sync_file(const char *path, struct err *err);

/* Moves the finished file `from` to `to` (a rename; across file systems a copy to a
 * temporary name beside `to`, then a rename), so `to` is never seen half-written. */
FERRY_MUST_CHECK
int action_move_file(const char *from, const char *to, struct err *err);

/* A configuration value (a string), or NULL when absent or not a string. */
const char *action_config(const struct action_job *job, const char *key);

/* A string member of `obj`, or NULL when absent, null or not a string. */
const char *action_json_str(json_t *obj, const char *key);

/* The providers: fill `r` (Failed with a summary on any failure) and return 0; -1 is
 * reserved for a result that could not be made at all. */
int action_source_git(const struct action_job *job, struct action_result *r);
int action_build(const struct action_job *job, struct action_result *r);
int action_deploy_s3(const struct action_job *job, struct action_result *r);
int action_deploy_codedeploy(const struct action_job *job, struct action_result *r);
int action_invoke(const struct action_job *job, struct action_result *r);

/* ---- build inputs (build_inputs.c) ---- */

#define ACTION_INPUT_ZIP       1
#define ACTION_INPUT_CLONE_REF 2

/* What the input file at `path` is, from its first bytes: ACTION_INPUT_ZIP,
 * ACTION_INPUT_CLONE_REF, or -1 with `err` (unreadable, or neither). */
FERRY_MUST_CHECK
int action_input_kind(const char *path, struct err *err);

/* Extracts the zip at `zip` below `dest` (created), refusing unsafe members: the
 * first one stops the extraction with an error naming it. Fills *nfiles. */
FERRY_MUST_CHECK
int action_unzip(const char *zip, const char *dest, long *nfiles, struct err *err);

/* Clones the repository a CODEBUILD_CLONE_REF file names into `dest` (which must not
 * exist or be empty), full history, at its CommitId; *commit is the full id (free). */
FERRY_MUST_CHECK
int action_clone_ref(const char *path, const char *dest, char **commit, struct err *err);

/* ---- libgit2 glue (git.c) ---- */

/* Initialises libgit2 once for this process (the library counts init/shutdown). */
void agit_init(void);
void agit_shutdown(void);

/* Sets `err` to the formatted text followed by ": " and libgit2's last error
 * (when there is one). Returns -1. */
FERRY_PRINTF(2, 3)
int agit_error(struct err *err, const char *fmt, ...);

/* Opens the repository at `path` exactly (bare or not; parents are not searched). */
FERRY_MUST_CHECK
int agit_open(const char *path, git_repository **out, struct err *err);

/* The commit branch `branch` (a short name) points to: 0, 1 when there is no such
 * branch, -1 on error (an invalid name, a broken ref). `label` names the repository
 * in messages. */
FERRY_MUST_CHECK
int agit_branch_oid(git_repository *repo, const char *label, const char *branch, git_oid *out,
                    struct err *err);

/* The commit `rev` names (a full id, or anything rev-parse takes), peeled: 0, 1 when
 * it is not in the repository, -1 on error. The commit is the caller's to free. */
FERRY_MUST_CHECK
int agit_lookup_commit(git_repository *repo, const char *label, const char *rev, git_commit **out,
                       struct err *err);

/* Fills the remote callbacks every fetch and clone of ferry uses (ssh-agent
 * credentials, tried once). `attempts` must outlive the operation. */
void agit_remote_callbacks(git_remote_callbacks *cb, int *attempts);

/* "2019-10-29T03:32:21Z" for seconds since the epoch (UTC); out >= 21 bytes. */
void agit_iso8601(int64_t seconds, char *out, size_t n);

/* The first line of a commit message, at most `max` bytes, not cutting a UTF-8
 * character, trailing blanks removed; caller frees. */
char *agit_subject(const char *message, size_t max);

/* Tree of `commit` as a zip at `zip_path` (written to a temporary name beside it,
 * then renamed): regular files keep their executable bit, symbolic links stay links,
 * submodules are left out (logged); every entry carries the commit's time. Fills
 * *nfiles. 0, or -1 with `err`. (git_zip.c) */
FERRY_MUST_CHECK
int agit_zip_tree(git_repository *repo, git_commit *commit, const char *zip_path, long *nfiles,
                  struct err *err);

#endif
