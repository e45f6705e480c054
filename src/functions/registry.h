/*
 * registry.h — functions (ferry's Lambda analog): creating them from a zip, changing
 * their code and configuration, publishing immutable versions, and aliases that point
 * at versions (moving one is a deploy; moving it back, a rollback).
 *
 * Layout, under <data>/functions/<name>/:
 *     code/<sha256 hex>/   the unpacked code of one zip (never changed once written;
 *                          $LATEST and the versions that run the same zip share it)
 *     logs/<request id>.log   invocation logs (fn.h)
 * A zip is checked whole before anything of it is written (util/zipsafe.h: absolute
 * paths, "..", links, devices refused with the entry named), unpacked beside its place
 * and renamed into it. Code directories no configuration names any more are deleted
 * after an update.
 *
 * CodeSha256 is the base64 of the SHA-256 of the zip, as Lambda's; a directory is
 * zipped first, deterministically (names sorted, fixed times, modes 0644/0755), so the
 * same files always give the same CodeSha256.
 *
 * JSON: fn_config_json() and fn_alias_json() give Lambda's FunctionConfiguration and
 * AliasConfiguration shapes (spec §7.3), which the native API uses as they are.
 *
 * Return codes: 0, FN_ENOTFOUND (no such function, version or alias), FN_ECONFLICT
 * (exists already), FN_EINVALID (a bad name, runtime, handler, setting or zip), -1
 * (anything else); `err` names the function and the field or entry.
 *
 * Registry operations are quick file and store work: the daemon runs them on its loop.
 */
#ifndef FERRY_FUNCTIONS_REGISTRY_H
#define FERRY_FUNCTIONS_REGISTRY_H

#include <jansson.h>
#include <stdint.h>

#include "store/functions.h"
#include "util/err.h"

#define FN_ENOTFOUND 1
#define FN_ECONFLICT 2
#define FN_EINVALID  3

#define FN_ZIP_MAX         (50LL << 20)  /* an uploaded zip (Lambda's direct upload cap) */
#define FN_UNZIPPED_MAX    (250LL << 20) /* its files once unpacked (Lambda's) */
#define FN_ENTRIES_MAX     20000
#define FN_TIMEOUT_DEFAULT 3
#define FN_TIMEOUT_MAX     900
#define FN_MEMORY_DEFAULT  128
#define FN_MEMORY_MIN      128
#define FN_MEMORY_MAX      10240
#define FN_ENV_MAX         4096 /* bytes of Environment.Variables (Lambda's 4 KB) */

#define FN_ACCOUNT "000000000000"
#define FN_REGION  "us-east-1"

/* What create and update-configuration take. Unset members keep the current value
 * (update) or take the default (create). */
struct fn_config {
	const char *name;
	const char *runtime;     /* NULL: keep */
	const char *handler;     /* NULL: keep */
	const char *description; /* NULL: keep */
	int timeout;             /* seconds; 0: keep / FN_TIMEOUT_DEFAULT */
	int memory;              /* MB; 0: keep / FN_MEMORY_DEFAULT */
	const json_t *env;       /* an object of strings; NULL: keep / none */
};

/* Creates the function from the zip at `zip`. *out gets its $LATEST (free with
 * store_fn_free()). */
FERRY_MUST_CHECK
int fn_create(struct store *st, const char *data_dir, const struct fn_config *c, const char *zip,
              struct store_fn *out, struct err *err);

/* Replaces $LATEST's code (new RevisionId). */
FERRY_MUST_CHECK
int fn_update_code(struct store *st, const char *data_dir, const char *name, const char *zip,
                   struct store_fn *out, struct err *err);

/* Changes $LATEST's configuration (new RevisionId). */
FERRY_MUST_CHECK
int fn_update_config(struct store *st, const char *data_dir, const struct fn_config *c,
                     struct store_fn *out, struct err *err);

/* Publishes $LATEST as version N (or gives the newest version when nothing changed
 * since it; *created tells which). *out gets that version. */
FERRY_MUST_CHECK
int fn_publish(struct store *st, const char *name, const char *description, struct store_fn *out,
               int *created, struct err *err);

/* Creates alias `alias` → `version` (create = 1), or moves it (create = 0; version
 * NULL with rollback = 1: back to the version it pointed at before its last move).
 * *out gets the alias. */
struct fn_alias_req {
	const char *function;
	const char *alias;
	const char *version;
	const char *description; /* NULL: keep */
	int create;
	int rollback;
};
FERRY_MUST_CHECK
int fn_alias_put(struct store *st, const struct fn_alias_req *r, struct store_alias *out,
                 struct err *err);

/* Deletes the function's rows, then its directory (code and logs). */
FERRY_MUST_CHECK
int fn_delete(struct store *st, const char *data_dir, const char *name, struct err *err);

/* Resolves `qualifier` (NULL/"$LATEST", a version number or an alias name) to the
 * configuration it runs; "name:qualifier" in `name` works too. *executed gets
 * "$LATEST" or the version number (to free). */
FERRY_MUST_CHECK
int fn_resolve(struct store *st, const char *name, const char *qualifier, struct store_fn *out,
               char **executed, char **arn, struct err *err);

/* Zips the files under `dir` into `zip`, deterministically (see above). Symbolic
 * links are refused, naming them. */
FERRY_MUST_CHECK
int fn_zip_dir(const char *dir, const char *zip, struct err *err);

/* The base64 SHA-256 of a file (Lambda's CodeSha256) and its hex form (65 bytes). */
FERRY_MUST_CHECK
int fn_sha256_file(const char *path, char b64[64], char hex[65], int64_t *size, struct err *err);

/* The function's ARN, with ":qualifier" when not NULL. To free. */
char *fn_arn(const char *name, const char *qualifier);

/* Lambda's FunctionConfiguration of a row. */
json_t *fn_config_json(const struct store_fn *f);
/* Lambda's AliasConfiguration (plus "PreviousVersion", ferry's). */
json_t *fn_alias_json(const struct store_alias *a);

/* A fresh UUID (RevisionId, request ids). */
void fn_uuid(char out[37]);

/* 1 when ferry runs `runtime` (nodejs18.x..22.x, python3.8..3.13, provided[.al2|.al2023]). */
int fn_runtime_known(const char *runtime);

#endif
