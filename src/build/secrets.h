/*
 * secrets.h — turns a buildspec's env.parameter-store and env.secrets-manager
 * references into values from ferry's secret store.
 *
 * ferry keeps one namespace of names for both kinds: `ferry secret set
 * /CodeBuild/token` serves `parameter-store: {T: /CodeBuild/token}` and `ferry
 * secret set prod/db` serves `secrets-manager: {DB: prod/db:password}`.
 *
 * Reference forms (buildspec spec §2.1):
 *  - parameter-store: the parameter name, looked up as it is;
 *  - secrets-manager: <secret-id>[:<json-key>[:<version-stage>[:<version-id>]]];
 *    a reference starting with `arn:` takes its first seven `:`-fields as the
 *    secret id. An ARN is looked up as written, then by the name it carries
 *    (`...:secret:prod/db-AbCdEf` → "prod/db-AbCdEf", then "prod/db" without the
 *    six-character suffix Secrets Manager appends), first match wins.
 *    With a json-key the stored value must be a JSON object: the key's string
 *    value is returned, any other JSON value as its compact JSON text.
 *    Empty fields count as omitted; a version-stage other than AWSCURRENT, or any
 *    version-id, is refused: ferry keeps only the current version of a secret.
 *
 * Invariants: error messages name the kind and the reference, never a value.
 *
 * Ownership: *value (NUL-terminated, *len bytes) is the caller's, to release
 * with store_secret_value_free(*value, *len), which wipes it.
 */
#ifndef FERRY_BUILD_SECRETS_H
#define FERRY_BUILD_SECRETS_H

#include <stddef.h>

#include "store/store.h"
#include "util/err.h"

/* `kind` is "parameter-store" or "secrets-manager". 0, or -1 with `err` filled
 * (e.g. `parameter-store: parameter "/x" does not exist (set it with: ferry
 * secret set /x)`). */
FERRY_MUST_CHECK
int build_secret_resolve(struct store *st, const char *kind, const char *ref, char **value,
                         size_t *len, struct err *err);

#endif
