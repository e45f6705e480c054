/*
 * artifacts.h — builds one artifact zip from a buildspec `artifacts` block
 * (../shared/spec/buildspec.md §6), as UPLOAD_ARTIFACTS does.
 *
 * Invariants:
 *  - paths are resolved from `src_dir`, never from where the commands cd'd to;
 *  - nothing outside `src_dir` enters the zip: base-directory and patterns that
 *    escape it are skipped ("Skipping invalid file path ..."), links pointing out are
 *    neither followed nor stored; with enable-symlinks, links inside the tree are
 *    stored as links; otherwise links are followed;
 *  - entries keep the file's permission bits (zip external attributes) and mtime;
 *    entry order is sorted, so equal inputs give equal entry lists;
 *  - the zip is written to a temporary name and renamed: no partial zip is left;
 *  - progress is logged with CodeBuild's lines: "Expanding base directory path: b",
 *    "Assembling file list", "Expanding <pattern>", "Found N file(s)",
 *    "Skipping invalid file path <pattern>", "Creating zip artifact".
 *
 * Ownership: nothing returned needs freeing.
 */
#ifndef FERRY_ARTIFACTS_H
#define FERRY_ARTIFACTS_H

#include <stdint.h>

#include "spec/buildspec.h"
#include "util/err.h"
#include "util/logsink.h"

#define ARTIFACTS_NO_MATCH 1 /* return value: the union of all patterns was empty */

struct artifact_result {
	int64_t size;    /* bytes of the zip */
	char sha256[65]; /* lowercase hex */
	char md5[33];    /* lowercase hex */
	long nfiles;     /* entries stored (files and links) */
};

/*
 * `spec` holds already-expanded values ($VAR substituted by the caller).
 * Returns 0 with `zip_path` written, ARTIFACTS_NO_MATCH (nothing written, log says
 * "no matching artifact paths found"), or -1 with `err` set.
 */
FERRY_MUST_CHECK
int artifacts_zip(const char *src_dir, const struct bs_artifacts *spec, const char *zip_path,
                  const struct logsink *log, struct artifact_result *out, struct err *err);

/* sha256 and md5 of a file, lowercase hex (helper shared with the result writer). */
FERRY_MUST_CHECK
int artifacts_hash_file(const char *path, char sha256[65], char md5[33], int64_t *size,
                        struct err *err);

#endif
