/*
 * buildspec_out.c — what a build leaves behind: `artifacts` (with
 * secondary-artifacts), `reports` and `cache` (spec §6–8).
 *
 * `files` is required in every artifact set, also when only secondary artifacts
 * are used (spec §6.1, gotcha 20); report formats are upper-cased and checked
 * against CodeBuild's list; cache fallback keys are capped at five (§7).
 */
#include "spec/buildspec_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keys of every artifact set; the primary set adds secondary-artifacts, version 0.1 type. */
static const char *const artifact_keys[] = {
        "files",     "name", "discard-paths", "base-directory", "exclude-paths", "enable-symlinks",
        "s3-prefix", NULL,
};
#define ARTIFACT_KEYS_MAX 10

static const char *const report_keys[] = {
        "files", "base-directory", "discard-paths", "file-format", NULL,
};

static const char *const report_formats[] = {
        "CUCUMBERJSON", "JUNITXML",     "NUNITXML",  "NUNIT3XML", "TESTNGXML", "VISUALSTUDIOTRX",
        "CLOVERXML",    "COBERTURAXML", "JACOCOXML", "SIMPLECOV", NULL,
};

static const char *const cache_keys[] = {"key", "fallback-keys", "action", "paths", NULL};

static int artifact_entry(struct bsctx *c, struct bs_artifacts *a, const struct ynode *k,
                          const struct ynode *v, const char *path)
{
	char kpath[BS_PATH_MAX];
	bs_path(kpath, path, k->text);
	const char *key = k->text;
	if (strcmp(key, "files") == 0)
		return bs_strlist(c, v, kpath, &a->files);
	if (strcmp(key, "exclude-paths") == 0)
		return bs_strlist(c, v, kpath, &a->exclude_paths);
	if (strcmp(key, "name") == 0)
		return bs_string(c, v, kpath, &a->name);
	if (strcmp(key, "base-directory") == 0)
		return bs_string(c, v, kpath, &a->base_directory);
	if (strcmp(key, "discard-paths") == 0)
		return bs_yesno(c, v, kpath, &a->discard_paths);
	if (strcmp(key, "enable-symlinks") == 0)
		return bs_yesno(c, v, kpath, &a->enable_symlinks);
	if (strcmp(key, "s3-prefix") == 0) {
		char *ignored = NULL;
		if (bs_string(c, v, kpath, &ignored) < 0)
			return -1;
		free(ignored);
		bs_warn(c, k, "s3-prefix is ignored: ferry keeps artifacts in its own store");
		return 0;
	}
	if (strcmp(key, "type") == 0) {
		bs_warn(c, k, "%s is ignored: a version 0.1 key; ferry always packs a zip", kpath);
		return 0;
	}
	return 0; /* secondary-artifacts: handled by the caller */
}

/* One artifact set: the primary one (identifier NULL) or a secondary one. */
static int artifact_set(struct bsctx *c, const struct ynode *k, const struct ynode *v,
                        const char *path, struct bs_artifacts *a, int secondary)
{
	const char *keys[ARTIFACT_KEYS_MAX];
	size_t nk = 0;
	for (; artifact_keys[nk]; nk++)
		keys[nk] = artifact_keys[nk];
	if (c->bs->v01)
		keys[nk++] = "type";
	if (!secondary)
		keys[nk++] = "secondary-artifacts";
	keys[nk] = NULL;
	a->line = k->line;
	a->col = k->col;
	if (bs_want_map(c, v, path) < 0)
		return -1;
	const struct ynode *nested = ytree_get(v, "secondary-artifacts");
	if (secondary && nested)
		return bs_fail(c, nested, "%s: secondary-artifacts cannot be nested", path);
	if (bs_check_keys(c, v, path, keys, "key") < 0)
		return -1;
	for (size_t i = 0; v->kind == YNODE_MAP && i + 1 < v->n; i += 2)
		if (artifact_entry(c, a, v->items[i], v->items[i + 1], path) < 0)
			return -1;
	if (!ytree_get(v, "files"))
		return bs_fail(c, k, "%s: files is required%s", path,
		               secondary ? "" : " (also when only secondary-artifacts are used)");
	return 0;
}

static int check_secondary(struct bsctx *c, const struct ynode *map)
{
	struct buildspec *bs = c->bs;
	const char *path = "artifacts.secondary-artifacts";
	if (bs_want_map(c, map, path) < 0)
		return -1;
	for (size_t i = 0; map->kind == YNODE_MAP && i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];
		char spath[BS_PATH_MAX];
		if (k->kind != YNODE_SCALAR || k->len == 0 || memchr(k->text, '\0', k->len))
			return bs_fail(c, k, "%s: an artifact set needs an identifier", path);
		bs_path(spath, path, k->text);
		bs->secondary = bs_grow(bs->secondary, bs->nsecondary, sizeof *bs->secondary);
		struct bs_artifacts *a = &bs->secondary[bs->nsecondary++];
		memset(a, 0, sizeof *a);
		a->identifier = xstrdup(k->text);
		if (artifact_set(c, k, map->items[i + 1], spath, a, 1) < 0)
			return -1;
	}
	return 0;
}

int bs_check_artifacts(struct bsctx *c, const struct ynode *key, const struct ynode *val)
{
	c->bs->has_artifacts = 1;
	if (artifact_set(c, key, val, "artifacts", &c->bs->artifacts, 0) < 0)
		return -1;
	const struct ynode *sec = ytree_get(val, "secondary-artifacts");
	return sec ? check_secondary(c, sec) : 0;
}

static int report_format(struct bsctx *c, const struct ynode *v, const char *path, char **out)
{
	char shown[BS_SHOW_MAX + 8];
	if (bs_string(c, v, path, out) < 0)
		return -1;
	for (char *p = *out; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	for (size_t i = 0; report_formats[i]; i++)
		if (strcmp(*out, report_formats[i]) == 0)
			return 0;
	const char *near = bs_suggest(*out, report_formats);
	if (near)
		return bs_fail(c, v, "%s: \"%s\" is not a report format (did you mean \"%s\"?)",
		               path, bs_show(v, shown), near);
	return bs_fail(
	        c, v,
	        "%s: \"%s\" is not a report format (known: CUCUMBERJSON, JUNITXML, NUNITXML, "
	        "NUNIT3XML, TESTNGXML, VISUALSTUDIOTRX, CLOVERXML, COBERTURAXML, JACOCOXML, "
	        "SIMPLECOV)",
	        path, bs_show(v, shown));
}

static int report_entry(struct bsctx *c, struct bs_report_group *g, const struct ynode *k,
                        const struct ynode *v, const char *path)
{
	char kpath[BS_PATH_MAX];
	bs_path(kpath, path, k->text);
	if (strcmp(k->text, "files") == 0)
		return bs_strlist(c, v, kpath, &g->files);
	if (strcmp(k->text, "base-directory") == 0)
		return bs_string(c, v, kpath, &g->base_directory);
	if (strcmp(k->text, "discard-paths") == 0)
		return bs_yesno(c, v, kpath, &g->discard_paths);
	return report_format(c, v, kpath, &g->file_format);
}

static int report_group(struct bsctx *c, const struct ynode *k, const struct ynode *v)
{
	struct buildspec *bs = c->bs;
	char path[BS_PATH_MAX];
	if (k->kind != YNODE_SCALAR || k->len == 0 || memchr(k->text, '\0', k->len))
		return bs_fail(c, k, "reports: a report group needs a name or an ARN");
	bs_path(path, "reports", k->text);
	bs->reports = bs_grow(bs->reports, bs->nreports, sizeof *bs->reports);
	struct bs_report_group *g = &bs->reports[bs->nreports++];
	memset(g, 0, sizeof *g);
	g->name = xstrdup(k->text);
	g->line = k->line;
	g->col = k->col;
	if (bs_want_map(c, v, path) < 0 || bs_check_keys(c, v, path, report_keys, "key") < 0)
		return -1;
	for (size_t i = 0; v->kind == YNODE_MAP && i + 1 < v->n; i += 2)
		if (report_entry(c, g, v->items[i], v->items[i + 1], path) < 0)
			return -1;
	if (!ytree_get(v, "files"))
		return bs_fail(c, k, "%s: files is required", path);
	if (!g->file_format)
		g->file_format = xstrdup("JUNITXML");
	return 0;
}

int bs_check_reports(struct bsctx *c, const struct ynode *val)
{
	if (bs_want_map(c, val, "reports") < 0)
		return -1;
	for (size_t i = 0; val->kind == YNODE_MAP && i + 1 < val->n; i += 2)
		if (report_group(c, val->items[i], val->items[i + 1]) < 0)
			return -1;
	return 0;
}

static int cache_action(struct bsctx *c, const struct ynode *v, char **out)
{
	char shown[BS_SHOW_MAX + 8];
	if (bs_string(c, v, "cache.action", out) < 0)
		return -1;
	for (char *p = *out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(*out, "restore") == 0 || strcmp(*out, "save") == 0)
		return 0;
	return bs_fail(c, v, "cache.action: expected restore or save, found \"%s\"",
	               bs_show(v, shown));
}

static int cache_entry(struct bsctx *c, const struct ynode *k, const struct ynode *v)
{
	struct bs_cache *ca = &c->bs->cache;
	if (strcmp(k->text, "key") == 0)
		return bs_string(c, v, "cache.key", &ca->key);
	if (strcmp(k->text, "action") == 0)
		return cache_action(c, v, &ca->action);
	if (strcmp(k->text, "paths") == 0)
		return bs_strlist(c, v, "cache.paths", &ca->paths);
	if (bs_strlist(c, v, "cache.fallback-keys", &ca->fallback_keys) < 0)
		return -1;
	if (ca->fallback_keys.n > BS_FALLBACK_KEYS_MAX)
		return bs_fail(c, v, "cache.fallback-keys: at most %d keys, found %zu",
		               BS_FALLBACK_KEYS_MAX, ca->fallback_keys.n);
	return 0;
}

int bs_check_cache(struct bsctx *c, const struct ynode *val)
{
	c->bs->cache.present = 1;
	if (bs_want_map(c, val, "cache") < 0 ||
	    bs_check_keys(c, val, "cache", cache_keys, "key") < 0)
		return -1;
	for (size_t i = 0; val->kind == YNODE_MAP && i + 1 < val->n; i += 2)
		if (cache_entry(c, val->items[i], val->items[i + 1]) < 0)
			return -1;
	return 0;
}

void bs_artifacts_free(struct bs_artifacts *a)
{
	free(a->identifier);
	strv_free(&a->files);
	strv_free(&a->exclude_paths);
	free(a->base_directory);
	free(a->name);
}
