/* pack.c — see pack.h. */
#include "build/pack.h"

#include "util/libarchive.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

#define PACK_CHUNK (1 << 16)

static int copy_data(struct archive *a, int fd, const char *abs, int64_t size, struct err *err)
{
	char *chunk = xmalloc(PACK_CHUNK);
	int64_t left = size;
	int rc = 0;
	while (left > 0) {
		size_t want = left < PACK_CHUNK ? (size_t)left : PACK_CHUNK;
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_errno(err, "%s", abs);
			break;
		}
		if (n == 0) {
			rc = err_set(err, "%s: file shrank while being archived", abs);
			break;
		}
		if (archive_write_data(a, chunk, (size_t)n) != n) {
			rc = err_set(err, "%s: %s", abs, archive_error_string(a));
			break;
		}
		left -= n;
	}
	free(chunk);
	return rc;
}

int pack_add_file(struct archive *a, const char *abs, const char *stored, int64_t *bytes,
                  struct err *err)
{
	int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		err_errno(err, "%s", abs);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, "%s: not a regular file", abs);
	}
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, stored);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, st.st_mode & 07777);
	archive_entry_set_size(e, st.st_size);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	int rc = 0;
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = err_set(err, "%s: %s", stored, archive_error_string(a));
	else
		rc = copy_data(a, fd, abs, st.st_size, err);
	archive_entry_free(e);
	close(fd);
	if (rc == 0 && bytes)
		*bytes += st.st_size;
	return rc;
}

int pack_add_link(struct archive *a, const char *abs, const char *stored, const char *target,
                  struct err *err)
{
	struct stat st;
	if (lstat(abs, &st) < 0)
		return err_errno(err, "%s", abs);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, stored);
	archive_entry_set_filetype(e, AE_IFLNK);
	archive_entry_set_perm(e, 0777);
	archive_entry_set_symlink(e, target);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	int rc = 0;
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = err_set(err, "%s: %s", stored, archive_error_string(a));
	archive_entry_free(e);
	return rc;
}

static void split(const char *s, struct strv *out)
{
	for (const char *p = s; *p;) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len)
			strv_push_owned(out, xstrndup(p, len));
		p += len + (e != NULL);
	}
}

char *pack_relative_target(const char *root, const char *link_rel, const char *target_abs)
{
	size_t rl = strlen(root);
	struct strv dir = STRV_INIT, tgt = STRV_INIT;
	split(link_rel, &dir);
	if (dir.n)
		free(dir.v[--dir.n]); /* the link's own name */
	split(target_abs + (rl > 1 ? rl : 0), &tgt);
	size_t common = 0;
	while (common < dir.n && common < tgt.n && !strcmp(dir.v[common], tgt.v[common]))
		common++;
	struct buf b;
	buf_init(&b, 1 << 16);
	int rc = 0;
	for (size_t i = common; i < dir.n; i++)
		rc |= buf_puts(&b, i + 1 < dir.n || common < tgt.n ? "../" : "..");
	for (size_t i = common; i < tgt.n; i++)
		rc |= buf_printf(&b, "%s%s", tgt.v[i], i + 1 < tgt.n ? "/" : "");
	strv_free(&dir);
	strv_free(&tgt);
	if (rc < 0 || b.len == 0) {
		buf_free(&b);
		return xstrdup(".");
	}
	return buf_detach(&b);
}

char *pack_glob_escape(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += strchr("*?[]\\", *p) ? 2 : 1;
	char *out = xmalloc(n + 1), *o = out;
	for (const char *p = s; *p; p++) {
		if (strchr("*?[]\\", *p))
			*o++ = '\\';
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* ---- extraction ---- */

struct pack_extract {
	int root_fd;  /* the tree the cached directory belongs to */
	char *parent; /* relative path of the cached directory */
	int fd;       /* O_PATH descriptor of it, or -1 */
};

struct pack_extract *pack_extract_new(void)
{
	struct pack_extract *x = xcalloc(1, sizeof *x);
	x->fd = -1;
	return x;
}

void pack_extract_free(struct pack_extract *x)
{
	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	free(x->parent);
	free(x);
}

/* 1 when every component of `rel` is a plain name (no "", ".", ".."). */
static int plain_relative(const char *rel)
{
	if (!*rel || *rel == '/')
		return 0;
	for (const char *p = rel;;) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!p[len])
			return 1;
		p += len + 1;
	}
}

/* 1 when a link stored at `rel` with `target` resolves (lexically) inside the tree. */
static int target_stays_inside(const char *rel, const char *target)
{
	if (!*target || *target == '/')
		return 0;
	long depth = 0;
	for (const char *p = rel; (p = strchr(p, '/')); p++)
		depth++;
	for (const char *p = target; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			depth--;
		else if (len && !(len == 1 && p[0] == '.'))
			depth++;
		if (depth < 0)
			return 0;
		p += len + (p[len] == '/');
	}
	return 1;
}

/* Opens (creating as needed) the directory `parent` below root_fd, refusing links. */
static int open_parent(int root_fd, const char *parent, char **why)
{
	int fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (const char *p = parent; fd >= 0 && *p;) {
		size_t len = strcspn(p, "/");
		char *name = xstrndup(p, len);
		if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST)
			*why = xasprintf("cannot create directory %.*s: %s",
			                 (int)(p - parent + len), parent, strerror(errno));
		int next =
		        *why ? -1 : openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && !*why)
			*why = xasprintf(
			        "%.*s is not a directory (a symbolic link?); not extracted "
			        "through it",
			        (int)(p - parent + len), parent);
		free(name);
		close(fd);
		fd = next;
		p += len + (p[len] == '/');
	}
	if (fd < 0 && !*why)
		*why = xasprintf("cannot open the extraction root: %s", strerror(errno));
	return fd;
}

static int cached_parent(struct pack_extract *x, int root_fd, const char *parent, char **why)
{
	if (x->fd >= 0 && x->root_fd == root_fd && !strcmp(x->parent, parent))
		return x->fd;
	if (x->fd >= 0)
		close(x->fd);
	free(x->parent);
	x->parent = xstrdup(parent);
	x->root_fd = root_fd;
	x->fd = open_parent(root_fd, parent, why);
	return x->fd;
}

/* Makes room for `name`: a non-directory is removed, a directory refuses the member. */
static int clear_slot(int dfd, const char *name, char **why)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		*why = xasprintf("a directory is in the way");
		return -1;
	}
	if (unlinkat(dfd, name, 0) < 0) {
		*why = xasprintf("cannot replace it: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Copies the member's data; -1 with `err` when the archive cannot be read (fatal),
 * -2 with `why` when writing failed. */
static int write_data(struct archive *in, int fd, char **why, struct err *err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK) {
		for (size_t done = 0; done < len;) {
			ssize_t n =
			        pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				*why = xasprintf("write: %s", strerror(errno));
				return -2;
			}
			done += (size_t)n;
		}
	}
	return r == ARCHIVE_EOF ? 0 : err_set(err, "%s", archive_error_string(in));
}

static int extract_file(int dfd, const char *name, struct archive *in, struct archive_entry *e,
                        char **why, struct err *err)
{
	if (clear_slot(dfd, name, why) < 0)
		return 0;
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*why = xasprintf("%s", strerror(errno));
		return 0;
	}
	int rc = write_data(in, fd, why, err);
	struct timespec t[2] = {{archive_entry_mtime(e), 0}, {archive_entry_mtime(e), 0}};
	if (rc == 0 && (ftruncate(fd, archive_entry_size(e)) < 0 ||
	                fchmod(fd, archive_entry_perm(e) & 01777) < 0 || futimens(fd, t) < 0)) {
		*why = xasprintf("%s", strerror(errno));
		rc = -2;
	}
	close(fd);
	if (rc == -2)
		unlinkat(dfd, name, 0); /* no half-written file left behind */
	if (rc == -1)
		return -1;
	return rc == 0;
}

static int extract_link(int dfd, const char *name, const char *rel, struct archive_entry *e,
                        char **why)
{
	const char *target = archive_entry_symlink(e);
	if (!target || !target_stays_inside(rel, target)) {
		*why = xasprintf("symbolic link to %s leaves the tree",
		                 target ? target : "nothing");
		return 0;
	}
	if (clear_slot(dfd, name, why) < 0)
		return 0;
	struct timespec t[2] = {{archive_entry_mtime(e), 0}, {archive_entry_mtime(e), 0}};
	if (symlinkat(target, dfd, name) < 0) {
		*why = xasprintf("%s", strerror(errno));
		return 0;
	}
	utimensat(dfd, name, t, AT_SYMLINK_NOFOLLOW); /* cosmetic: a failure changes nothing */
	return 1;
}

int pack_extract_member(struct pack_extract *x, int root_fd, struct archive *in,
                        struct archive_entry *e, const char *rel, char **why, struct err *err)
{
	*why = NULL;
	mode_t type = archive_entry_filetype(e);
	if (!plain_relative(rel)) {
		*why = xasprintf("unsafe name");
		return 0;
	}
	if ((type != AE_IFREG && type != AE_IFLNK) || archive_entry_hardlink(e)) {
		*why = xasprintf("not a regular file or symbolic link");
		return 0;
	}
	const char *slash = strrchr(rel, '/');
	char *parent = slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
	const char *name = slash ? slash + 1 : rel;
	int dfd = cached_parent(x, root_fd, parent, why);
	free(parent);
	if (dfd < 0)
		return 0;
	if (type == AE_IFLNK)
		return extract_link(dfd, name, rel, e, why);
	return extract_file(dfd, name, in, e, why, err);
}
