/*
 * run_upload.c — UPLOAD_ARTIFACTS (reports, the primary and secondary artifact zips,
 * cache save) and the cache restore of DOWNLOAD_SOURCE.
 *
 * Values in artifact and cache fields that contain '$' are evaluated in the build's
 * final command state (spec §6.1, §7); paths are always resolved from the source
 * root, whatever directory the commands left the shell in.
 */
#include <stdlib.h>
#include <string.h>

#include "build/artifacts.h"
#include "build/cache.h"
#include "build/run.h"
#include "util/fs.h"

/* Evaluates in place every string of `ptrs` that contains '$'. */
static int expand_all(struct run *r, char **ptrs[], size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += *ptrs[i] && strchr(*ptrs[i], '$');
	if (m == 0)
		return 0;
	const char **words = xcalloc(m, sizeof(char *));
	char ***where = xcalloc(m, sizeof(char **));
	char **vals = xcalloc(m, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (*ptrs[i] && strchr(*ptrs[i], '$')) {
			words[k] = *ptrs[i];
			where[k++] = ptrs[i];
		}
	int rc = run_eval(r, words, m, vals);
	for (size_t i = 0; i < m; i++) {
		free(*where[i]);
		*where[i] = vals[i];
	}
	free(words);
	free(where);
	free(vals);
	return rc;
}

static void strv_ptrs(struct strv *sv, char ***ptrs, size_t *n)
{
	for (size_t i = 0; i < sv->n; i++)
		ptrs[(*n)++] = &sv->v[i];
}

/* Copies a set with its '$' values evaluated (name evaluated separately). */
static int expanded_copy(struct run *r, const struct bs_artifacts *in, struct bs_artifacts *out)
{
	memset(out, 0, sizeof *out);
	out->identifier = in->identifier ? xstrdup(in->identifier) : NULL;
	out->base_directory = in->base_directory ? xstrdup(in->base_directory) : NULL;
	out->name = in->name ? xstrdup(in->name) : NULL;
	out->discard_paths = in->discard_paths;
	out->enable_symlinks = in->enable_symlinks;
	for (size_t i = 0; i < in->files.n; i++)
		strv_push(&out->files, in->files.v[i]);
	for (size_t i = 0; i < in->exclude_paths.n; i++)
		strv_push(&out->exclude_paths, in->exclude_paths.v[i]);
	size_t n = 0;
	char ***ptrs = xcalloc(2 + out->files.n + out->exclude_paths.n, sizeof(char **));
	ptrs[n++] = &out->base_directory;
	ptrs[n++] = &out->name;
	strv_ptrs(&out->files, ptrs, &n);
	strv_ptrs(&out->exclude_paths, ptrs, &n);
	int rc = expand_all(r, ptrs, n);
	free(ptrs);
	return rc;
}

static void free_copy(struct bs_artifacts *a)
{
	free(a->identifier);
	free(a->base_directory);
	free(a->name);
	strv_free(&a->files);
	strv_free(&a->exclude_paths);
}

static void log_emit(void *ctx, const char *line)
{
	run_log(ctx, "%s", line);
}

static const struct logsink *sink_of(struct run *r, struct logsink *s)
{
	*s = (struct logsink){.emit = log_emit, .ctx = r};
	return s;
}

/* Returns 0, ARTIFACTS_NO_MATCH or -1 (message in err). */
static int one_artifact(struct run *r, const struct bs_artifacts *spec, struct err *err)
{
	struct bs_artifacts a;
	if (expanded_copy(r, spec, &a) < 0) {
		free_copy(&a);
		return err_set(err, "could not evaluate the artifact fields");
	}
	char *file = xasprintf("%s.zip", spec->identifier ? spec->identifier : "artifacts");
	char *zip = fs_join(r->req->artifact_dir, file);
	free(file);
	struct logsink s;
	struct artifact_result ar;
	int rc = artifacts_zip(r->src, &a, zip, sink_of(r, &s), &ar, err);
	if (rc == 0) {
		struct build_result *res = r->res;
		res->artifacts =
		        xrealloc(res->artifacts, (res->nartifacts + 1) * sizeof(*res->artifacts));
		struct build_artifact *o = &res->artifacts[res->nartifacts++];
		memset(o, 0, sizeof *o);
		o->identifier = spec->identifier ? xstrdup(spec->identifier) : NULL;
		o->path = zip;
		zip = NULL;
		o->name = a.name ? outstream_mask(r->out, a.name) : NULL;
		o->size = ar.size;
		o->nfiles = ar.nfiles;
		memcpy(o->sha256, ar.sha256, sizeof o->sha256);
		memcpy(o->md5, ar.md5, sizeof o->md5);
		run_log(r, "Created %s (%ld files, %lld bytes, sha256 %s)", o->path, o->nfiles,
		        (long long)o->size, o->sha256);
	}
	free(zip);
	free_copy(&a);
	return rc;
}

static void mask_all(struct run *r, struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		char *m = outstream_mask(r->out, sv->v[i]);
		free(sv->v[i]);
		sv->v[i] = m;
	}
}

static void collect_reports(struct run *r)
{
	const struct buildspec *bs = r->bs;
	if (bs->nreports == 0)
		return;
	struct logsink s;
	r->res->reports = xcalloc(bs->nreports, sizeof *r->res->reports);
	for (size_t i = 0; i < bs->nreports; i++) {
		struct err err;
		struct report_summary *sum = &r->res->reports[r->res->nreports];
		if (reports_collect(r->src, &bs->reports[i], r->res->project, sink_of(r, &s), sum,
		                    &err) < 0) {
			run_log(r, "Report group %s: %s", bs->reports[i].name, err.msg);
			continue;
		}
		r->res->nreports++;
		/* failure messages are test output: they may quote a secret */
		mask_all(r, &sum->failures);
		mask_all(r, &sum->problems);
		run_log(r, "Report %s: %s — %ld tests, %ld passed, %ld failed, %ld skipped (%.3fs)",
		        sum->report_group_name, sum->status, sum->total, sum->passed,
		        sum->failed + sum->errored, sum->skipped, sum->duration_seconds);
	}
}

static void cache_paths_for(struct run *r, const char **host, const char **visible)
{
	if (!strcmp(r->res->sandbox, "bubblewrap")) {
		*host = r->home_host;
		*visible = "/root";
	} else {
		*host = *visible = envmap_get(r->env, "HOME");
	}
}

/* Evaluates key and fallback keys into a copy of the cache spec. */
static struct bs_cache *cache_spec(struct run *r)
{
	const struct bs_cache *in = &r->bs->cache;
	struct bs_cache *c = xcalloc(1, sizeof *c);
	c->present = in->present;
	c->key = in->key ? xstrdup(in->key) : NULL;
	c->action = in->action ? xstrdup(in->action) : NULL;
	for (size_t i = 0; i < in->fallback_keys.n; i++)
		strv_push(&c->fallback_keys, in->fallback_keys.v[i]);
	for (size_t i = 0; i < in->paths.n; i++)
		strv_push(&c->paths, in->paths.v[i]);
	size_t n = 0;
	char ***ptrs = xcalloc(1 + c->fallback_keys.n, sizeof(char **));
	ptrs[n++] = &c->key;
	strv_ptrs(&c->fallback_keys, ptrs, &n);
	if (expand_all(r, ptrs, n) < 0)
		run_log(r, "Could not evaluate the cache key");
	free(ptrs);
	return c;
}

static void cache_spec_free(struct bs_cache *c)
{
	free(c->key);
	free(c->action);
	strv_free(&c->fallback_keys);
	strv_free(&c->paths);
	free(c);
}

static void cache_op(struct run *r, int save)
{
	if (!r->bs->cache.present || !r->req->cache_dir)
		return;
	struct bs_cache *spec = cache_spec(r);
	struct logsink s;
	struct cache_request cr = {.cache_dir = r->req->cache_dir,
	                           .src_dir = r->src,
	                           .spec = spec,
	                           .log = sink_of(r, &s)};
	cache_paths_for(r, &cr.home_host, &cr.home_visible);
	struct err err;
	if ((save ? cache_save(&cr, &err) : cache_restore(&cr, &err)) < 0)
		run_log(r, "Cache %s failed (the build goes on): %s", save ? "save" : "restore",
		        err.msg);
	cache_spec_free(spec);
}

void run_cache_restore(struct run *r)
{
	cache_op(r, 0);
}

void run_upload(struct run *r)
{
	size_t idx = run_phase_begin(r, "UPLOAD_ARTIFACTS");
	run_log(r, "Entering phase UPLOAD_ARTIFACTS");
	collect_reports(r);
	const char *status = "SUCCEEDED", *code = NULL;
	char *msg = NULL;
	const struct buildspec *bs = r->bs;
	if (bs->has_artifacts && r->req->artifact_dir) {
		struct err err;
		struct err mk;
		int rc = fs_mkdir_p(r->req->artifact_dir, 0755, &mk);
		if (rc < 0)
			err = mk;
		else
			rc = one_artifact(r, &bs->artifacts, &err);
		for (size_t i = 0; rc == 0 && i < bs->nsecondary; i++)
			rc = one_artifact(r, &bs->secondary[i], &err);
		if (rc == ARTIFACTS_NO_MATCH) {
			status = "FAILED";
			code = "CLIENT_ERROR";
			msg = xstrdup("no matching artifact paths found");
		} else if (rc < 0) {
			status = "FAILED";
			code = "CLIENT_ERROR";
			msg = xstrdup(err.msg);
		}
	} else if (bs->has_artifacts) {
		run_log(r, "Artifacts are not packaged: no artifact directory was given (-a)");
	}
	if (r->succeeding && !strcmp(status, "SUCCEEDED") && !r->stopped && !r->timed_out)
		cache_op(r, 1);
	run_phase_end(r, idx, status, code, msg);
	run_log(r, "Phase complete: UPLOAD_ARTIFACTS State: %s", status);
	run_log(r, "Phase context status code: %s Message: %s", code ? code : "", msg ? msg : "");
	free(msg);
}
