/*
 * glob.c — CodeBuild path patterns (see glob.h and buildspec.md §6.2).
 *
 * A pattern is parsed into components. While walking, the positions of the pattern
 * that can still match below a directory form a bitmask (at most GLOB_COMPONENTS_MAX
 * components), so each directory is read at most once per pattern however many `**`
 * it holds, and a directory is entered only when some position can still match in
 * it. The walk starts at the pattern's longest literal prefix: `node_modules/x/` followed by `*`
 * never reads the rest of the tree.
 *
 * Security: everything is opened relative to directory descriptors; real directories
 * with O_NOFOLLOW, symbolic links only after realpath() showed their target inside
 * the root. A directory already on the current descent (same device and inode) is
 * not entered again, which breaks link loops.
 */
#include "spec/glob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

#define GLOB_COMPONENTS_MAX 64
#define GLOB_DEPTH_MAX      256
#define GLOB_PATH_MAX       (1 << 16)
#define GLOB_WARNINGS_MAX   100 /* distinct warnings kept; the rest are only counted */

struct pat {
	char *comp[GLOB_COMPONENTS_MAX];
	size_t n;
	size_t nlit;    /* leading components without wildcards */
	uint64_t dstar; /* bit i set: comp[i] is `**` */
};

/* ---- component matching ---- */

/* Matches one character class at `p` (which points at '['). Returns 1/0 and sets
 * *end past the ']'; returns -1 when the class is not closed (then '[' is literal). */
static int match_class(const char *p, unsigned char c, const char **end)
{
	const char *q = p + 1;
	int neg = 0, hit = 0;
	if (*q == '!' || *q == '^') {
		neg = 1;
		q++;
	}
	for (int first = 1; *q != ']' || first; first = 0) {
		if (*q == '\0')
			return -1;
		if (*q == '\\' && q[1])
			q++;
		unsigned char lo = (unsigned char)*q, hi = lo;
		if (q[1] == '-' && q[2] && q[2] != ']') {
			q += 2;
			if (*q == '\\' && q[1])
				q++;
			hi = (unsigned char)*q;
		}
		if (c >= lo && c <= hi)
			hit = 1;
		q++;
	}
	*end = q + 1;
	return hit ^ neg;
}

/* Matches the single pattern element at `p` against `c`; *next is set past it.
 * *unclosed is the leftmost '[' found not closed: when a class is not closed, no later
 * one in the component is either, so a '[' at or after it is literal without another
 * scan to the end (which made `*` and many unclosed '[' cubic in the length). */
static int match_one(const char *p, unsigned char c, const char **next, const char **unclosed)
{
	if (*p == '?') {
		*next = p + 1;
		return 1;
	}
	if (*p == '[' && p < *unclosed) {
		int r = match_class(p, c, next);
		if (r >= 0)
			return r;
		*unclosed = p;
	}
	if (*p == '\\' && p[1])
		p++;
	*next = p + 1;
	return (unsigned char)*p == c;
}

/* fnmatch-like match of one path component; no character is special in `s`. */
static int comp_match(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL, *unclosed = p + strlen(p);
	while (*s) {
		const char *next;
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*p && match_one(p, (unsigned char)*s, &next, &unclosed)) {
			p = next;
			s++;
			continue;
		}
		if (!star_p)
			return 0;
		p = star_p;
		s = ++star_s;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static int comp_is_literal_n(const char *c, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (c[i] == '\\' && i + 1 < len)
			i++;
		else if (c[i] == '*' || c[i] == '?' || c[i] == '[')
			return 0;
	}
	return 1;
}

static int comp_is_literal(const char *c)
{
	return comp_is_literal_n(c, strlen(c));
}

/* The file name a literal component stands for (backslash escapes removed). */
static char *comp_unescape(const char *c, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	for (size_t i = 0; i < len; i++) {
		if (c[i] == '\\' && i + 1 < len)
			i++;
		*o++ = c[i];
	}
	*o = '\0';
	return out;
}

/* ---- patterns ---- */

static void pat_free(struct pat *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->comp[i]);
	p->n = 0;
}

static int pat_push(struct pat *p, const char *c, size_t len)
{
	int dstar = len == 2 && c[0] == '*' && c[1] == '*';
	if (dstar && p->n && (p->dstar >> (p->n - 1) & 1))
		return 0; /* `**` / `**` is one `**` */
	if (p->n >= GLOB_COMPONENTS_MAX - 1)
		return -1; /* one slot stays free for the `*` after a trailing `**` */
	if (dstar)
		p->dstar |= UINT64_C(1) << p->n;
	p->comp[p->n++] = xstrndup(c, len);
	return 0;
}

/* Parses `s`; -1 when it is refused (empty, absolute, `..`, too many components). */
static int pat_parse(const char *s, struct pat *p)
{
	memset(p, 0, sizeof *p);
	if (s[0] == '\0' || s[0] == '/')
		return -1;
	for (const char *q = s; *q;) {
		const char *e = strchr(q, '/');
		size_t len = e ? (size_t)(e - q) : strlen(q);
		char *lit = comp_is_literal_n(q, len) ? comp_unescape(q, len) : NULL;
		int skip = len == 0 || (lit && strcmp(lit, ".") == 0);
		int dotdot = lit && strcmp(lit, "..") == 0;
		free(lit);
		if (dotdot || (!skip && pat_push(p, q, len) < 0)) {
			pat_free(p);
			return -1;
		}
		q += len + (e != NULL);
	}
	/* A trailing `**` means everything below, as `**` + `*`. */
	if (p->n && (p->dstar >> (p->n - 1) & 1))
		p->comp[p->n++] = xstrdup("*");
	while (p->nlit < p->n && comp_is_literal(p->comp[p->nlit]))
		p->nlit++;
	return 0;
}

/* Adds, for each active `**`, the position after it (zero directories). */
static uint64_t closure(const struct pat *p, uint64_t set)
{
	for (size_t i = 0; i + 1 < p->n; i++)
		if ((set >> i & 1) && (p->dstar >> i & 1))
			set |= UINT64_C(1) << (i + 1);
	return set;
}

/* Consumes one path component `name` from the positions in `set`. Returns the
 * positions active below `name` (if it is a directory); *final is 1 when `name`
 * completes the pattern. */
static uint64_t step(const struct pat *p, uint64_t set, const char *name, int *final)
{
	uint64_t next = 0;
	*final = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (!(set >> i & 1))
			continue;
		if (p->dstar >> i & 1) {
			next |= UINT64_C(1) << i;
			continue;
		}
		if (!comp_match(p->comp[i], name))
			continue;
		if (i + 1 == p->n)
			*final = 1;
		else
			next |= UINT64_C(1) << (i + 1);
	}
	return closure(p, next);
}

static int pat_match(const struct pat *p, const char *path)
{
	if (p->n == 0)
		return 0;
	uint64_t set = closure(p, 1);
	int final = 0, any = 0;
	for (const char *q = path; *q;) {
		const char *e = strchr(q, '/');
		size_t len = e ? (size_t)(e - q) : strlen(q);
		if (len && !(len == 1 && *q == '.')) {
			if (any && !set)
				return 0;
			char *name = xstrndup(q, len);
			set = step(p, set, name, &final);
			free(name);
			any = 1;
		}
		q += len + (e != NULL);
	}
	return any && final;
}

int glob_match(const char *pattern, const char *path)
{
	struct pat p;
	if (pat_parse(pattern, &p) < 0)
		return 0;
	int r = pat_match(&p, path);
	pat_free(&p);
	return r;
}

/* ---- the walk ---- */

struct walk {
	const char *root;
	unsigned flags;
	const struct pat *pat;
	const char *pattern; /* as written, for warnings */
	struct strv *hits;
	struct strv *warnings;
	size_t warnings_dropped;
	size_t visited;
	struct buf rel; /* directory being read, relative to root ("" at the root) */
	struct {
		dev_t dev;
		ino_t ino;
	} anc[GLOB_DEPTH_MAX + 1];
	size_t nanc;
	struct err *err;
};

enum kind { K_NONE, K_FILE, K_DIR, K_LINK_FILE, K_LINK_DIR };

FERRY_PRINTF(2, 3)
static void warn(struct walk *w, const char *fmt, ...)
{
	struct buf b;
	buf_init(&b, 4096);
	va_list ap;
	va_start(ap, fmt);
	int rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *s = buf_detach(&b);
	if (rc < 0 || strv_contains(w->warnings, s)) {
		free(s);
	} else if (w->warnings->n >= GLOB_WARNINGS_MAX) {
		w->warnings_dropped++;
		free(s);
	} else {
		strv_push_owned(w->warnings, s);
	}
}

static char *child_rel(const struct walk *w, const char *name)
{
	return w->rel.len ? xasprintf("%s/%s", w->rel.data, name) : xstrdup(name);
}

/* What a symbolic link at `rel` resolves to, refusing targets outside the root. */
static enum kind link_kind(struct walk *w, const char *rel)
{
	char *abs = fs_join(w->root, rel);
	char *real = realpath(abs, NULL);
	enum kind k = K_NONE;
	struct stat st;
	if (!real)
		warn(w, "%s: broken symbolic link; skipped", rel);
	else if (!fs_is_within(w->root, real))
		warn(w, "%s: symbolic link to %s, outside %s; not followed", rel, real, w->root);
	else if (stat(real, &st) < 0)
		warn(w, "%s: symbolic link target unreadable; skipped", rel);
	else if (S_ISDIR(st.st_mode))
		k = K_LINK_DIR;
	else if (S_ISREG(st.st_mode))
		k = K_LINK_FILE;
	else
		warn(w, "%s: symbolic link to something that is not a file; skipped", rel);
	free(real);
	free(abs);
	return k;
}

static enum kind entry_kind(struct walk *w, int dfd, const char *name, unsigned char dtype)
{
	struct stat st;
	if (dtype == DT_UNKNOWN) {
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return K_NONE;
		dtype = S_ISREG(st.st_mode)   ? DT_REG
		        : S_ISDIR(st.st_mode) ? DT_DIR
		        : S_ISLNK(st.st_mode) ? DT_LNK
		                              : DT_FIFO;
	}
	if (dtype == DT_REG)
		return K_FILE;
	if (dtype == DT_DIR)
		return K_DIR;
	char *rel = child_rel(w, name);
	enum kind k = K_NONE;
	if (dtype == DT_LNK)
		k = link_kind(w, rel);
	else
		warn(w, "%s: not a regular file (device, socket or pipe); skipped", rel);
	free(rel);
	return k;
}

static void emit(struct walk *w, const char *name)
{
	strv_push_owned(w->hits,
	                name ? child_rel(w, name) : xstrdup(w->rel.len ? w->rel.data : "."));
}

static int walk_dir(struct walk *w, int fd, uint64_t set);

/* Opens dfd/name and pushes it on the descent: 0 entered, 1 not entered (a warning
 * says why). `mode` is O_RDONLY to read the directory, O_PATH to only pass through it (a literal
 * prefix needs search permission, not read permission). */
static int enter(struct walk *w, int dfd, const char *name, int follow, int mode, int *out_fd)
{
	char *rel = child_rel(w, name);
	int rc = 1;
	int fd = -1;
	struct stat st;
	if (w->nanc > GLOB_DEPTH_MAX || strlen(rel) >= GLOB_PATH_MAX) {
		warn(w, "%s: too deep; not searched", rel);
		goto out;
	}
	fd = openat(dfd, name, mode | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0 || fstat(fd, &st) < 0) {
		warn(w, "%s: %s; not searched", rel, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < w->nanc; i++) {
		if (w->anc[i].dev == st.st_dev && w->anc[i].ino == st.st_ino) {
			warn(w, "%s: symbolic link loop; not followed again", rel);
			goto out;
		}
	}
	w->anc[w->nanc].dev = st.st_dev;
	w->anc[w->nanc].ino = st.st_ino;
	w->nanc++;
	buf_reset(&w->rel);
	if (buf_puts(&w->rel, rel) < 0)
		abort(); /* cannot happen: length checked above */
	*out_fd = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(rel);
	return rc;
}

static void leave(struct walk *w, size_t old_len)
{
	w->nanc--;
	w->rel.len = old_len;
	if (w->rel.data)
		w->rel.data[old_len] = '\0';
}

static int descend(struct walk *w, int dfd, const char *name, int follow, uint64_t set)
{
	size_t old = w->rel.len;
	int fd;
	if (enter(w, dfd, name, follow, O_RDONLY, &fd) != 0)
		return 0;
	int rc = walk_dir(w, fd, set);
	leave(w, old);
	return rc;
}

static int visit(struct walk *w, int dfd, const char *name, unsigned char dtype, uint64_t set)
{
	int final;
	uint64_t next = step(w->pat, set, name, &final);
	if (!final && !next)
		return 0;
	enum kind k = entry_kind(w, dfd, name, dtype);
	int is_link = k == K_LINK_FILE || k == K_LINK_DIR;
	int is_dir = k == K_DIR || k == K_LINK_DIR;
	if (k == K_NONE)
		return 0;
	if (is_link && (w->flags & GLOB_KEEP_LINKS) && !(w->flags & GLOB_DIRS)) {
		if (final)
			emit(w, name);
		return 0;
	}
	if (final && is_dir == !!(w->flags & GLOB_DIRS))
		emit(w, name);
	if (is_dir && next)
		return descend(w, dfd, name, is_link, next);
	return 0;
}

/* Reopens an O_PATH descriptor for reading (closing it); -1 (with a warning) when
 * the directory cannot be read. */
static int reopen_readable(struct walk *w, int fd)
{
	int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(fd);
	if (rfd < 0)
		warn(w, "%s: %s; not searched", w->rel.len ? w->rel.data : ".", strerror(errno));
	return rfd;
}

static int walk_dir(struct walk *w, int fd, uint64_t set)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_errno(w->err, "%s/%s", w->root, w->rel.len ? w->rel.data : "");
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (++w->visited > GLOB_ENTRIES_MAX) {
			rc = err_set(w->err, "%s: more than %d entries to search; stopped", w->root,
			             GLOB_ENTRIES_MAX);
			break;
		}
		rc = visit(w, dirfd(d), e->d_name, e->d_type, set);
	}
	closedir(d);
	return rc;
}

/* A pattern naming a directory literally selects every file below it (§6.2 rule 5). */
static int walk_literal_dir(struct walk *w, int dfd, const char *name, int follow)
{
	struct pat all;
	if (pat_parse("**/*", &all) < 0)
		abort();
	warn(w, "%s: names a directory; every file below it is selected", w->pattern);
	const struct pat *saved = w->pat;
	w->pat = &all;
	int rc;
	if (name) {
		rc = descend(w, dfd, name, follow, closure(&all, 1));
	} else {
		int fd = reopen_readable(w, dfd);
		rc = fd < 0 ? 0 : walk_dir(w, fd, closure(&all, 1));
	}
	w->pat = saved;
	pat_free(&all);
	return rc;
}

/* The last component of a pattern without wildcards. Owns nothing. */
static int visit_literal(struct walk *w, int dfd, const char *name)
{
	enum kind k = entry_kind(w, dfd, name, DT_UNKNOWN);
	int is_link = k == K_LINK_FILE || k == K_LINK_DIR;
	int is_dir = k == K_DIR || k == K_LINK_DIR;
	if (k == K_NONE)
		return 0;
	if (w->flags & GLOB_DIRS) {
		if (is_dir)
			emit(w, name);
		return 0;
	}
	if (!is_dir || (is_link && (w->flags & GLOB_KEEP_LINKS))) {
		emit(w, name);
		return 0;
	}
	return walk_literal_dir(w, dfd, name, is_link);
}

/* Steps from dfd into the literal directory `name`; returns the new descriptor
 * (dfd closed), -1 on no match (dfd closed). */
static int enter_literal(struct walk *w, int dfd, const char *name)
{
	enum kind k = entry_kind(w, dfd, name, DT_UNKNOWN);
	int fd = -1;
	if (k == K_DIR || k == K_LINK_DIR) {
		if (enter(w, dfd, name, k == K_LINK_DIR, O_PATH, &fd) != 0)
			fd = -1;
	}
	close(dfd);
	return fd;
}

static int expand_one(struct walk *w)
{
	const struct pat *p = w->pat;
	int fd = open(w->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return err_errno(w->err, "%s", w->root);
	}
	w->anc[0].dev = st.st_dev;
	w->anc[0].ino = st.st_ino;
	w->nanc = 1;
	buf_reset(&w->rel);
	if (p->n == 0) { /* "." */
		if (w->flags & GLOB_DIRS) {
			emit(w, NULL);
			close(fd);
			return 0;
		}
		return walk_literal_dir(w, fd, NULL, 0);
	}
	size_t ndirs = p->nlit < p->n ? p->nlit : p->n - 1;
	for (size_t i = 0; i < ndirs && fd >= 0; i++) {
		char *lit = comp_unescape(p->comp[i], strlen(p->comp[i]));
		fd = enter_literal(w, fd, lit);
		free(lit);
	}
	if (fd < 0)
		return 0;
	if (p->nlit < p->n) {
		fd = reopen_readable(w, fd);
		return fd < 0 ? 0 : walk_dir(w, fd, closure(p, UINT64_C(1) << p->nlit));
	}
	char *lit = comp_unescape(p->comp[p->n - 1], strlen(p->comp[p->n - 1]));
	int rc = visit_literal(w, fd, lit);
	free(lit);
	close(fd);
	return rc;
}

/* ---- results ---- */

static void dedupe_sorted(struct strv *sv)
{
	size_t j = 0;
	for (size_t i = 0; i < sv->n; i++) {
		if (j && strcmp(sv->v[j - 1], sv->v[i]) == 0)
			free(sv->v[i]);
		else
			sv->v[j++] = sv->v[i];
	}
	sv->n = j;
	if (sv->v)
		sv->v[j] = NULL;
}

static void apply_excludes(struct strv *paths, const struct pat *ex, size_t nex)
{
	size_t j = 0;
	for (size_t i = 0; i < paths->n; i++) {
		int drop = 0;
		for (size_t k = 0; k < nex && !drop; k++)
			drop = pat_match(&ex[k], paths->v[i]);
		if (drop)
			free(paths->v[i]);
		else
			paths->v[j++] = paths->v[i];
	}
	paths->n = j;
	if (paths->v)
		paths->v[j] = NULL;
}

static size_t parse_excludes(const struct strv *excludes, struct pat **out, struct strv *invalid)
{
	size_t n = 0, cap = excludes ? excludes->n : 0;
	*out = xcalloc(cap ? cap : 1, sizeof **out);
	for (size_t i = 0; i < cap; i++) {
		if (pat_parse(excludes->v[i], &(*out)[n]) < 0)
			strv_push(invalid, excludes->v[i]);
		else
			n++;
	}
	return n;
}

static int expand_patterns(struct walk *w, const struct strv *patterns, struct glob_result *out)
{
	for (size_t i = 0; patterns && i < patterns->n; i++) {
		struct pat p;
		if (pat_parse(patterns->v[i], &p) < 0) {
			strv_push(&out->invalid, patterns->v[i]);
			continue;
		}
		size_t before = out->paths.n;
		w->pat = &p;
		w->pattern = patterns->v[i];
		int rc = expand_one(w);
		pat_free(&p);
		if (rc < 0)
			return -1;
		if (out->paths.n == before)
			strv_push(&out->unmatched, patterns->v[i]);
	}
	return 0;
}

int glob_expand(const char *root, const struct strv *patterns, const struct strv *excludes,
                unsigned flags, struct glob_result *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	if (root[0] != '/')
		return err_set(err, "%s: glob root must be an absolute path", root);
	struct walk *w = xcalloc(1, sizeof *w);
	w->root = root;
	w->flags = flags;
	w->hits = &out->paths;
	w->warnings = &out->warnings;
	w->err = err;
	buf_init(&w->rel, GLOB_PATH_MAX);
	int rc = expand_patterns(w, patterns, out);
	if (w->warnings_dropped)
		strv_pushf(&out->warnings, "(%zu more warnings not shown)", w->warnings_dropped);
	buf_free(&w->rel);
	free(w);
	if (rc < 0) {
		glob_result_free(out);
		return -1;
	}
	struct pat *ex;
	size_t nex = parse_excludes(excludes, &ex, &out->invalid);
	apply_excludes(&out->paths, ex, nex);
	for (size_t i = 0; i < nex; i++)
		pat_free(&ex[i]);
	free(ex);
	strv_sort(&out->paths);
	dedupe_sorted(&out->paths);
	return 0;
}

void glob_result_free(struct glob_result *r)
{
	strv_free(&r->paths);
	strv_free(&r->unmatched);
	strv_free(&r->invalid);
	strv_free(&r->warnings);
}
