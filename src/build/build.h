/*
 * build.h — ferry's CodeBuild-compatible runner: runs one buildspec against a source
 * directory and reports what CodeBuild would record (../shared/spec/buildspec.md).
 * `ferry build` is a thin layer over this; the pipeline engine calls it directly.
 *
 * Invariants:
 *  - build_run() always fills the result, even when it returns -1 (a FAULT);
 *  - phases are recorded in CodeBuild's order SUBMITTED … COMPLETED; a skipped phase
 *    has no record; COMPLETED has no status;
 *  - every line passed to `log` has had every secret value replaced by "***";
 *  - when build_run() returns, no process the build started is left running and the
 *    build's private files (scripts, sandbox home) are removed;
 *  - nothing outside `src_dir` enters an artifact.
 *
 * Ownership: the request is borrowed for the call; the result owns its memory and is
 * released with build_result_free().
 */
#ifndef FERRY_BUILD_H
#define FERRY_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "build/reports.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/logsink.h"

enum build_status {
	BUILD_SUCCEEDED,
	BUILD_FAILED,
	BUILD_FAULT,
	BUILD_TIMED_OUT,
	BUILD_STOPPED,
	BUILD_IN_PROGRESS,
};

/* "SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED", "IN_PROGRESS" */
const char *build_status_name(enum build_status s);

enum build_sandbox {
	BUILD_SANDBOX_AUTO, /* bubblewrap when installed, else none */
	BUILD_SANDBOX_NONE,
};

/*
 * Resolves env.parameter-store (kind "parameter-store") and env.secrets-manager
 * (kind "secrets-manager") references. Returns 0 with a value to free(), or -1 with
 * a message saying what is missing.
 */
typedef int (*build_secret_fn)(void *ctx, const char *kind, const char *ref, char **value,
                               size_t *len, struct err *err);

struct build_request {
	const char *src_dir;             /* required: CODEBUILD_SRC_DIR */
	const char *buildspec;           /* path, relative to src_dir; NULL: "buildspec.yml" */
	const char *buildspec_text;      /* an inline buildspec instead of a file (optional) */
	const char *artifact_dir;        /* where the zips go; NULL: artifacts are not packaged */
	const char *project;             /* NULL: the source directory's name */
	int64_t build_number;            /* CODEBUILD_BUILD_NUMBER (0 → 1) */
	const char *initiator;           /* CODEBUILD_INITIATOR; NULL: "ferry" */
	const char *const *base_env;     /* the "image" environment, NAME=value */
	const char *const *project_env;  /* project-level variables (ENV_FILE), NAME=value */
	const char *const *override_env; /* start-time overrides (--env), NAME=value */
	int timeout_seconds;             /* 0 → 3600 (CodeBuild's 60 minutes) */
	enum build_sandbox sandbox;
	const char *hidden_dir;        /* never visible inside the sandbox (ferry's data dir) */
	const char *const *extra_dirs; /* NULL-terminated, may be NULL: more directories the
	                                  build may use at their own paths, even inside
	                                  hidden_dir (a pipeline's secondary sources) */
	const char *cache_dir;         /* this source location's cache; NULL: no cache */
	const char *work_dir; /* parent of the build's private files; NULL: $TMPDIR or /tmp */
	build_secret_fn resolve_secret;
	void *secret_ctx;
	const struct logsink *log; /* the build log, line by line, secrets masked */
	int stop_fd;               /* readable → stop the build (STOPPED); -1: none */
};

struct build_phase {
	char type[24];   /* "INSTALL", … */
	char status[16]; /* "" for COMPLETED */
	int64_t start_ms, end_ms;
	char *context_code; /* NULL when none */
	char *context_message;
};

struct build_artifact {
	char *identifier; /* NULL for the primary artifact */
	char *path;       /* the zip written */
	char *name;       /* the evaluated `name`, or NULL */
	int64_t size;
	char sha256[65];
	char md5[33];
	long nfiles;
};

/* An attempt that on-failure RETRY started over (spec §3.3). */
struct build_attempt {
	char phase[24]; /* the phase that failed */
	char *message;  /* its context message */
};

struct build_variable {
	char *name;
	char *value;
};

struct build_result {
	enum build_status status;
	int input_error; /* the buildspec or request was unusable: nothing ran */
	char *build_id;  /* "<project>:<uuid>" */
	char *project;
	int64_t build_number;
	char *initiator;
	int64_t start_ms, end_ms;
	char *src_dir;
	char *buildspec_path;
	char *source_version;          /* branch or commit when src_dir is a git work tree */
	char *resolved_source_version; /* commit id, or NULL */
	const char *sandbox;           /* "bubblewrap" or "none" */
	char *shell;
	int timeout_minutes;
	struct build_phase *phases;
	size_t nphases;
	struct build_variable *exported;
	size_t nexported;
	struct build_artifact *artifacts;
	size_t nartifacts;
	struct report_summary *reports;
	size_t nreports;
	struct build_attempt *retried; /* earlier attempts, oldest first */
	size_t nretried;
	struct strv warnings;
	int worker_starts; /* shells started (the model's cost; see shell.h) */
};

/* Runs the build. Returns 0 when the result is final, -1 on a FAULT (result filled). */
int build_run(const struct build_request *req, struct build_result *res);

void build_result_free(struct build_result *res);

/* The result as JSON (CodeBuild's Build field names where they exist); caller frees. */
char *build_result_json(const struct build_result *res);

#endif
