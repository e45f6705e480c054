/*
 * env.h — an ordered environment (NAME → value) with CodeBuild's layering
 * (../shared/spec/buildspec.md §5.3): a later set of the same name wins.
 *
 * Ownership: the map owns copies of everything put into it.
 */
#ifndef FERRY_BUILD_ENV_H
#define FERRY_BUILD_ENV_H

#include "util/buf.h"
#include "util/err.h"

struct envmap; /* opaque */

struct envmap *envmap_new(void);
void envmap_free(struct envmap *m);
void envmap_set(struct envmap *m, const char *name, const char *value);
/* "NAME=value"; returns -1 (with err naming `origin`) when there is no '='/name. */
FERRY_MUST_CHECK
int envmap_put(struct envmap *m, const char *kv, const char *origin, struct err *err);
const char *envmap_get(const struct envmap *m, const char *name);
/* Appends "NAME=value" for every entry, in insertion order. */
void envmap_export(const struct envmap *m, struct strv *out);

/* 1 when `name` is a valid shell variable name. */
int env_valid_name(const char *name);

#endif
