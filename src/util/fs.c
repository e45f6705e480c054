/* fs.c — see fs.h. */
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

int fs_read_file(const char *path, size_t max, char **data, size_t *len, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, "%s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return err_errno(err, "%s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(err, "%s: is a directory", path);
	}
	struct buf b;
	buf_init(&b, max);
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_free(&b);
			close(fd);
			return err_errno(err, "%s", path);
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			buf_free(&b);
			close(fd);
			return err_set(err, "%s: larger than the limit of %zu bytes", path, max);
		}
	}
	close(fd);
	*len = b.len;
	*data = buf_detach(&b);
	return 0;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err_errno(err, "%s", tmp);
		free(tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || fs_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		err_errno(err, "%s", tmp);
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		err_errno(err, "rename %s", path);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct err *err)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			err_errno(err, "mkdir %s", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		err_errno(err, "mkdir %s", p);
		free(p);
		return -1;
	}
	free(p);
	if (!fs_is_dir(path))
		return err_set(err, "%s: exists and is not a directory", path);
	return 0;
}

static int rm_at(int dir_fd, const char *name, struct err *err, const char *shown)
{
	struct stat st;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_errno(err, "%s", shown);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
			return err_errno(err, "unlink %s", shown);
		return 0;
	}
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, "%s", shown);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_errno(err, "%s", shown);
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		rc = rm_at(dirfd(d), e->d_name, err, shown);
	}
	closedir(d);
	if (rc == 0 && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return err_errno(err, "rmdir %s", shown);
	return rc;
}

int fs_rm_rf(const char *path, struct err *err)
{
	return rm_at(AT_FDCWD, path, err, path);
}

char *fs_join(const char *a, const char *b)
{
	if (b[0] == '/')
		return xstrdup(b);
	size_t la = strlen(a);
	while (la > 1 && a[la - 1] == '/')
		la--;
	if (b[0] == '\0')
		return xstrndup(a, la);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

int fs_plain_relative(const char *rel)
{
	size_t len = strlen(rel);
	if (len && rel[len - 1] == '/')
		len--;
	if (len == 0 || rel[0] == '/')
		return 0;
	for (size_t i = 0; i < len;) {
		size_t n = 0;
		while (i + n < len && rel[i + n] != '/')
			n++;
		if (n == 0 || (n == 1 && rel[i] == '.') || (n == 2 && !strncmp(rel + i, "..", 2)))
			return 0;
		i += n + 1;
	}
	return 1;
}

int fs_is_within(const char *root, const char *path)
{
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n == 1 && root[0] == '/')
		return path[0] == '/';
	return strncmp(root, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

char *fs_realpath(const char *path, struct err *err)
{
	char *r = realpath(path, NULL);
	if (!r)
		err_errno(err, "%s", path);
	return r;
}

int fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_copy_file(const char *from, const char *to, struct err *err)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_errno(err, "%s", from);
	struct stat st;
	if (fstat(in, &st) < 0) {
		close(in);
		return err_errno(err, "%s", from);
	}
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
	if (out < 0) {
		close(in);
		return err_errno(err, "%s", to);
	}
	char chunk[65536];
	int rc = 0;
	for (;;) {
		ssize_t n = read(in, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_errno(err, "%s", from);
			break;
		}
		if (n == 0)
			break;
		if (fs_write_all(out, chunk, (size_t)n) < 0) {
			rc = err_errno(err, "%s", to);
			break;
		}
	}
	close(in);
	if (close(out) < 0 && rc == 0)
		rc = err_errno(err, "%s", to);
	return rc;
}
