/*
 * artifacts.c — UPLOAD_ARTIFACTS' file selection and zip (see artifacts.h, spec §6).
 *
 * Every pattern is expanded by spec/glob rooted at the source directory, prefixed with
 * the (escaped) base directory: the walk then starts inside the base directory, and
 * links from the base directory to elsewhere in the source tree stay allowed while
 * anything outside the source tree stays refused. The log lines copy CodeBuild's:
 *
 *   Expanding base directory path: build
 *   Assembling file list
 *   Expanding build
 *   Expanding file paths for base directory build
 *   Assembling file list
 *   Expanding app.js
 *   Found 3 file(s)
 *
 * CodeBuild prints "Found N file(s)" once after the patterns, not a line per path;
 * ferry prints it once after all base directories, counting the stored entries.
 * With enable-symlinks (and without discard-paths, which would break relative
 * targets) links are kept by the glob and stored as links when their target is in
 * the same base directory; see add_link().
 */
#include "build/artifacts.h"

#include "util/libarchive.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/md5.h"
#include "build/pack.h"
#include "spec/glob.h"
#include "util/buf.h"
#include "util/fs.h"

#define ARTIFACTS_HASH_CHUNK (1 << 16)

struct base {
	char *rel;  /* relative to the source directory, "." for itself */
	char *real; /* canonical absolute path */
};

struct entry {
	char *stored; /* path inside the zip */
	char *rel;    /* relative to the source directory */
	size_t base;  /* index into the bases */
};

struct job {
	const char *src; /* canonical source directory */
	const struct bs_artifacts *spec;
	const struct logsink *log;
	struct base *bases;
	size_t nbases;
	struct entry *ents;
	size_t nents, cap;
};

static void log_lines(const struct logsink *log, const struct strv *sv, const char *prefix)
{
	for (size_t i = 0; i < sv->n; i++)
		logsink_printf(log, "%s%s", prefix, sv->v[i]);
}

static int keep_links(const struct job *j)
{
	return j->spec->enable_symlinks && !j->spec->discard_paths;
}

/* ---- base directories ---- */

/* The base-directory pattern relative to src, or NULL when it points outside. */
static char *base_pattern(const char *src, const char *b)
{
	if (b[0] != '/')
		return xstrdup(b);
	if (fs_is_within(src, b))
		return xstrdup(b[strlen(src)] ? b + strlen(src) + 1 : ".");
	/* An absolute path reaching src through a link (e.g. /codebuild/output/src1). */
	char *real = realpath(b, NULL);
	char *rel = NULL;
	if (real && fs_is_within(src, real))
		rel = real[strlen(src)] ? pack_glob_escape(real + strlen(src) + 1) : xstrdup(".");
	free(real);
	return rel;
}

static void add_base(struct job *j, const char *rel)
{
	char *abs = fs_join(j->src, rel);
	char *real = realpath(abs, NULL);
	free(abs);
	if (!real || !fs_is_within(j->src, real)) {
		free(real);
		return;
	}
	j->bases = xrealloc(j->bases, (j->nbases + 1) * sizeof *j->bases);
	j->bases[j->nbases].rel = xstrdup(rel);
	j->bases[j->nbases].real = real;
	j->nbases++;
}

static int find_bases(struct job *j, struct err *err)
{
	const char *b = j->spec->base_directory ? j->spec->base_directory : ".";
	logsink_printf(j->log, "Expanding base directory path: %s", b);
	logsink_printf(j->log, "Assembling file list");
	logsink_printf(j->log, "Expanding %s", b);
	char *pat = base_pattern(j->src, b);
	if (!pat) {
		logsink_printf(j->log, "Skipping invalid file path %s", b);
		return 0;
	}
	struct strv pats = STRV_INIT;
	strv_push_owned(&pats, pat);
	struct glob_result r;
	if (glob_expand(j->src, &pats, NULL, GLOB_DIRS, &r, err) < 0) {
		strv_free(&pats);
		return -1;
	}
	log_lines(j->log, &r.warnings, "Warning: ");
	if (r.paths.n == 0)
		logsink_printf(j->log, "Skipping invalid file path %s", b);
	for (size_t i = 0; i < r.paths.n; i++)
		add_base(j, r.paths.v[i]);
	glob_result_free(&r);
	strv_free(&pats);
	return 0;
}

/* ---- file selection ---- */

/* `cut` is the length of the base directory prefix of `rel` (0 for the root). */
static void add_entry(struct job *j, const char *rel, size_t cut, size_t base)
{
	if (j->nents == j->cap) {
		j->cap = j->cap ? 2 * j->cap : 64;
		j->ents = xrealloc(j->ents, j->cap * sizeof *j->ents);
	}
	const char *stored = rel + cut;
	if (j->spec->discard_paths && strrchr(stored, '/'))
		stored = strrchr(stored, '/') + 1;
	j->ents[j->nents].stored = xstrdup(stored);
	j->ents[j->nents].rel = xstrdup(rel);
	j->ents[j->nents].base = base;
	j->nents++;
}

/* Prefixes each relative pattern with the escaped base; absolute ones are dropped
 * (they would otherwise turn into relative patterns below the base). */
static void prefixed(const char *prefix, const struct strv *in, struct strv *out)
{
	*out = (struct strv)STRV_INIT;
	for (size_t i = 0; i < in->n; i++)
		if (in->v[i][0] != '/')
			strv_pushf(out, "%s%s", prefix, in->v[i]);
}

static int expand_pattern(struct job *j, size_t bi, const char *prefix, size_t cut,
                          const char *pattern, const struct strv *excl, struct err *err)
{
	logsink_printf(j->log, "Expanding %s", pattern);
	if (pattern[0] == '/' || pattern[0] == '\0') {
		logsink_printf(j->log, "Skipping invalid file path %s", pattern);
		return 0;
	}
	struct strv pats = STRV_INIT;
	strv_pushf(&pats, "%s%s", prefix, pattern);
	unsigned flags = keep_links(j) ? GLOB_KEEP_LINKS : 0;
	struct glob_result r;
	int rc = glob_expand(j->src, &pats, excl, flags, &r, err);
	strv_free(&pats);
	if (rc < 0)
		return -1;
	log_lines(j->log, &r.warnings, "Warning: ");
	if (r.invalid.n || r.unmatched.n)
		logsink_printf(j->log, "Skipping invalid file path %s", pattern);
	for (size_t i = 0; i < r.paths.n; i++)
		add_entry(j, r.paths.v[i], cut, bi);
	glob_result_free(&r);
	return 0;
}

static int expand_base(struct job *j, size_t bi, struct err *err)
{
	const struct base *b = &j->bases[bi];
	logsink_printf(j->log, "Expanding file paths for base directory %s", b->rel);
	logsink_printf(j->log, "Assembling file list");
	char *esc = pack_glob_escape(b->rel);
	char *prefix = strcmp(b->rel, ".") ? xasprintf("%s/", esc) : xstrdup("");
	struct strv excl;
	prefixed(prefix, &j->spec->exclude_paths, &excl);
	size_t cut = strcmp(b->rel, ".") ? strlen(b->rel) + 1 : 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < j->spec->files.n; i++)
		rc = expand_pattern(j, bi, prefix, cut, j->spec->files.v[i], &excl, err);
	strv_free(&excl);
	free(prefix);
	free(esc);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->stored, y->stored);
	return c ? c : strcmp(x->rel, y->rel);
}

/* One entry per stored name: the same file found twice is kept once; two files that
 * would be stored under one name (discard-paths, several bases) keep the later one in
 * lexical path order, with a warning (spec §6.2 rule 10). */
static void resolve_collisions(struct job *j)
{
	if (j->nents > 1)
		qsort(j->ents, j->nents, sizeof *j->ents, cmp_entry);
	size_t out = 0;
	for (size_t i = 0; i < j->nents;) {
		size_t end = i + 1;
		while (end < j->nents && !strcmp(j->ents[end].stored, j->ents[i].stored))
			end++;
		const struct entry *keep = &j->ents[end - 1];
		for (size_t k = i; k + 1 < end; k++) {
			if (strcmp(j->ents[k].rel, keep->rel))
				logsink_printf(
				        j->log,
				        "Warning: %s and %s are both stored as %s; keeping %s",
				        j->ents[k].rel, keep->rel, keep->stored, keep->rel);
			free(j->ents[k].stored);
			free(j->ents[k].rel);
		}
		j->ents[out++] = *keep;
		i = end;
	}
	j->nents = out;
}

/* ---- the zip ---- */

/* With enable-symlinks: a link whose target lies in its base directory is stored as a
 * link with a relative target; a link to a file elsewhere in the source tree is stored
 * as that file; a link to a directory elsewhere is skipped with a warning. */
static int add_link(struct job *j, struct archive *a, const struct entry *e, const char *abs,
                    long *n, struct err *err)
{
	const char *root = j->bases[e->base].real;
	char *real = realpath(abs, NULL);
	struct stat st;
	int rc = 0;
	if (real && fs_is_within(root, real)) {
		char *target = pack_relative_target(root, e->stored, real);
		rc = pack_add_link(a, abs, e->stored, target, err);
		free(target);
		*n += rc == 0;
	} else if (real && stat(real, &st) == 0 && S_ISREG(st.st_mode)) {
		rc = pack_add_file(a, abs, e->stored, NULL, err);
		*n += rc == 0;
	} else {
		logsink_printf(j->log,
		               "Warning: %s: symbolic link to a directory outside the base "
		               "directory; skipped",
		               e->rel);
	}
	free(real);
	return rc;
}

static int add_one(struct job *j, struct archive *a, const struct entry *e, long *n,
                   struct err *err)
{
	char *abs = fs_join(j->src, e->rel);
	struct stat st;
	int rc;
	if (keep_links(j) && lstat(abs, &st) == 0 && S_ISLNK(st.st_mode)) {
		rc = add_link(j, a, e, abs, n, err);
	} else {
		rc = pack_add_file(a, abs, e->stored, NULL, err);
		*n += rc == 0;
	}
	free(abs);
	return rc;
}

static int write_zip(struct job *j, int fd, long *n, struct err *err)
{
	struct archive *a = archive_write_new();
	int rc = 0;
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_deflate(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		rc = err_set(err, "zip: %s", archive_error_string(a));
	for (size_t i = 0; rc == 0 && i < j->nents; i++)
		rc = add_one(j, a, &j->ents[i], n, err);
	if (archive_write_close(a) != ARCHIVE_OK && rc == 0)
		rc = err_set(err, "zip: %s", archive_error_string(a));
	archive_write_free(a);
	return rc;
}

/* Writes the zip beside `zip_path`, then renames it into place. */
static int write_atomically(struct job *j, const char *zip_path, struct artifact_result *out,
                            struct err *err)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", zip_path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		err_errno(err, "%s", tmp);
		free(tmp);
		return -1;
	}
	int rc = write_zip(j, fd, &out->nfiles, err);
	if (rc == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		rc = err_errno(err, "%s", tmp);
	close(fd);
	if (rc == 0)
		rc = artifacts_hash_file(tmp, out->sha256, out->md5, &out->size, err);
	if (rc == 0 && rename(tmp, zip_path) < 0)
		rc = err_errno(err, "rename %s", zip_path);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->nbases; i++) {
		free(j->bases[i].rel);
		free(j->bases[i].real);
	}
	for (size_t i = 0; i < j->nents; i++) {
		free(j->ents[i].stored);
		free(j->ents[i].rel);
	}
	free(j->bases);
	free(j->ents);
}

int artifacts_zip(const char *src_dir, const struct bs_artifacts *spec, const char *zip_path,
                  const struct logsink *log, struct artifact_result *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	char *src = fs_realpath(src_dir, err);
	if (!src)
		return -1;
	struct job j = {.src = src, .spec = spec, .log = log};
	int rc = find_bases(&j, err);
	for (size_t i = 0; rc == 0 && i < j.nbases; i++)
		rc = expand_base(&j, i, err);
	if (rc == 0) {
		resolve_collisions(&j);
		if (j.nbases)
			logsink_printf(log, "Found %zu file(s)", j.nents);
	}
	if (rc == 0 && j.nents == 0) {
		logsink_printf(log, "no matching artifact paths found");
		err_set(err, "no matching artifact paths found");
		rc = ARTIFACTS_NO_MATCH;
	}
	if (rc == 0) {
		logsink_printf(log, "Creating zip artifact");
		rc = write_atomically(&j, zip_path, out, err);
	}
	job_free(&j);
	free(src);
	return rc;
}

int artifacts_hash_file(const char *path, char sha256[65], char md5[33], int64_t *size,
                        struct err *err)
{
	if (sodium_init() < 0)
		return err_set(err, "libsodium could not be initialised");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, "%s", path);
	crypto_hash_sha256_state sh;
	struct md5_ctx mh;
	crypto_hash_sha256_init(&sh);
	md5_init(&mh);
	unsigned char *chunk = xmalloc(ARTIFACTS_HASH_CHUNK);
	int64_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, ARTIFACTS_HASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_errno(err, "%s", path);
			break;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&sh, chunk, (unsigned long long)n);
		md5_update(&mh, chunk, (size_t)n);
		total += n;
	}
	close(fd);
	free(chunk);
	if (rc < 0)
		return -1;
	unsigned char d256[crypto_hash_sha256_BYTES];
	uint8_t d5[16];
	crypto_hash_sha256_final(&sh, d256);
	md5_final(&mh, d5);
	md5_hex(d256, sizeof d256, sha256);
	md5_hex(d5, sizeof d5, md5);
	if (size)
		*size = total;
	return 0;
}
