/*
 * buildspec.h — a CodeBuild buildspec (version 0.2, and 0.1 mapped onto it) parsed
 * and checked into plain C structs. See ../shared/spec/buildspec.md §1–2.
 *
 * Invariants:
 *  - buildspec_parse() either returns a complete, checked buildspec or fails with
 *    "FILE:LINE:COLUMN: field.path: what was expected" and nothing allocated;
 *  - every string-typed value is the scalar's source text (no bool/number coercion);
 *    a single scalar where a list is expected is a one-item list;
 *  - keys AWS defines that ferry does not act on locally (runtime-versions, proxy,
 *    batch, s3-prefix, git-credential-helper) are accepted and noted in `warnings`;
 *    any other unknown key, unknown phase, wrong type or wrong version is an error;
 *  - `yes/no/true/false` fields accept those words case-insensitively;
 *  - CODEBUILD_* names in env sections are dropped with a warning (reserved).
 *
 * Ownership: the caller frees the result with buildspec_free(); everything inside
 * is owned by the struct. The struct is read-only data for the runner.
 */
#ifndef FERRY_BUILDSPEC_H
#define FERRY_BUILDSPEC_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/* Caps on what a buildspec may hold (named in errors). */
#define BUILDSPEC_FILE_MAX (1 << 20)

enum bs_phase { BS_INSTALL, BS_PRE_BUILD, BS_BUILD, BS_POST_BUILD, BS_PHASE_COUNT };

enum bs_on_failure {
	BS_ONFAIL_DEFAULT, /* no on-failure key */
	BS_ONFAIL_ABORT,
	BS_ONFAIL_CONTINUE,
	BS_ONFAIL_RETRY,
};

struct bs_command {
	char *text; /* verbatim (multi-line for `- |`); "" for a null item */
	int line, col;
};

struct bs_phase_spec {
	int present;  /* the phase key exists in the file */
	char *run_as; /* NULL: inherit the top-level run-as */
	enum bs_on_failure on_failure;
	int retry_count;   /* RETRY forms: 0..100 (default 3) */
	char *retry_regex; /* RETRY forms: NULL means ".*" */
	struct bs_command *commands;
	size_t ncommands;
	struct bs_command *finally;
	size_t nfinally;
};

struct bs_var {
	char *name;
	char *value; /* variables: the literal value; parameter-store/secrets-manager: the reference
	              */
	int line, col;
};

struct bs_artifacts {
	char *identifier; /* NULL for the primary set; the secondary-artifacts key otherwise */
	struct strv files;
	struct strv exclude_paths;
	char *base_directory; /* NULL when absent */
	char *name;           /* NULL when absent */
	int discard_paths;
	int enable_symlinks;
	int line, col;
};

struct bs_report_group {
	char *name; /* the reports key: a group name or an ARN */
	struct strv files;
	char *base_directory;
	char *file_format; /* upper-cased; "JUNITXML" when absent */
	int discard_paths;
	int line, col;
};

struct bs_cache {
	int present;
	char *key;
	struct strv fallback_keys;
	char *action; /* NULL (restore and save), "restore" or "save" */
	struct strv paths;
};

struct buildspec {
	char *filename; /* as shown in messages */
	char *version;  /* "0.2" or "0.1" */
	int v01;        /* version 0.1: no state carried between commands */
	char *shell;    /* NULL (sh) or "bash" or "/bin/sh" or another Linux path */
	char *run_as;
	struct bs_var *variables;
	size_t nvariables;
	struct bs_var *parameter_store;
	size_t nparameter_store;
	struct bs_var *secrets_manager;
	size_t nsecrets_manager;
	struct strv exported_variables;
	struct bs_phase_spec phases[BS_PHASE_COUNT];
	int has_artifacts;
	struct bs_artifacts artifacts;
	struct bs_artifacts *secondary;
	size_t nsecondary;
	struct bs_report_group *reports;
	size_t nreports;
	struct bs_cache cache;
	struct strv warnings; /* "FILE:LINE:COL: message", in file order */
};

FERRY_MUST_CHECK
int buildspec_parse(const char *text, size_t len, const char *filename, struct buildspec **out,
                    struct err *err);

/* Reads and parses a file (capped at BUILDSPEC_FILE_MAX); `shown` names it in messages. */
FERRY_MUST_CHECK
int buildspec_load(const char *path, const char *shown, struct buildspec **out, struct err *err);

void buildspec_free(struct buildspec *bs);

/* "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD" */
const char *bs_phase_type(enum bs_phase p);
/* "install", "pre_build", "build", "post_build" */
const char *bs_phase_key(enum bs_phase p);

#endif
