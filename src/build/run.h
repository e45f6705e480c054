/*
 * run.h — the state of one build while build_run() executes it, shared by the
 * runner's files (run.c: lifecycle and phases; run_setup.c: provisioning, source
 * and environment; run_upload.c: artifacts, reports, cache). Not for other modules.
 */
#ifndef FERRY_BUILD_RUN_H
#define FERRY_BUILD_RUN_H

#include "build/build.h"
#include "build/env.h"
#include "build/outstream.h"
#include "build/shell.h"
#include "spec/buildspec.h"

struct run {
	const struct build_request *req;
	struct build_result *res;
	struct buildspec *bs;
	struct outstream *out;
	struct shell *sh;
	struct envmap *env;
	char *src;       /* canonical source directory */
	char *work;      /* the build's private directory (removed at the end) */
	char *ctl;       /* work/ctl: scripts and fifos */
	char *home_host; /* work/home: $HOME inside the sandbox */
	const char *home_visible;
	int succeeding; /* CODEBUILD_BUILD_SUCCEEDING */
	int retry;      /* a phase failed with on-failure RETRY and its pattern matched */
	char *shell_path;
	int is_bash;
	int stopped, timed_out, faulted;
	int64_t deadline_ms;
	struct shell_hooks hooks;
};

/* One "[Container] <stamp> message" line into the build log. */
void run_log(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens a phase record (IN_PROGRESS); returns its index. */
size_t run_phase_begin(struct run *r, const char *type);
/* Closes it with a status and an optional context (code and message may be NULL). */
void run_phase_end(struct run *r, size_t idx, const char *status, const char *code,
                   const char *message);

/* PROVISIONING and DOWNLOAD_SOURCE; 0 when the command phases may run. */
int run_setup(struct run *r);

/* Ends the build's processes and starts a fresh shell in the initial state (RETRY). */
FERRY_MUST_CHECK
int run_restart_shell(struct run *r, struct err *err);

/* Evaluates strings containing '$' in the build's current state (values to free). */
FERRY_MUST_CHECK
int run_eval(struct run *r, const char *const *words, size_t n, char **values);

/* UPLOAD_ARTIFACTS: reports, artifacts, cache save. */
void run_upload(struct run *r);

/* Cache restore (in DOWNLOAD_SOURCE). */
void run_cache_restore(struct run *r);

#endif
