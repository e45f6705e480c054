/*
 * git.h — what the engine asks of a git repository on this machine when a push
 * arrives or a pipeline is started by hand (libgit2, loaded lazily: util/libgit.h).
 *
 * Invariants:
 *  - commit ids are full lowercase hex (40 digits, 64 for SHA-256 repositories);
 *  - functions never change the repository (no fetch, no lock taken);
 *  - errors name the repository path and the ref or commit involved.
 *
 * Ownership: strv contents and char * results are the caller's.
 */
#ifndef FERRY_ACTIONS_GIT_H
#define FERRY_ACTIONS_GIT_H

#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define GIT_OID_HEX_MAX 64

/* The commit `branch` (a short name, "main") points to: 0 with `out` filled,
 * 1 when the repository has no such branch, -1 on error (not a repository, …). */
FERRY_MUST_CHECK
int git_branch_head(const char *repo, const char *branch, char out[GIT_OID_HEX_MAX + 1],
                    struct err *err);

/* The paths changed between commits `before` and `after` (both sides of renames,
 * sorted, no duplicates), appended to `out`. Returns 0, or 1 when they cannot be
 * known (before is all zeros or absent from the repository, e.g. a created branch or
 * a force-push over a commit since collected) — the caller then treats the paths as
 * unknown —, or -1 on error. At most `max` paths are appended: past it, returns 1 and appends
 * nothing. */
FERRY_MUST_CHECK
int git_changed_paths(const char *repo, const char *before, const char *after, size_t max,
                      struct strv *out, struct err *err);

/* One line about a commit, for trigger details: its subject (first line of the
 * message, at most 200 bytes). 0, or -1 when the commit is missing. */
FERRY_MUST_CHECK
int git_commit_subject(const char *repo, const char *commit, char **out, struct err *err);

#endif
