/*
 * site_zip.c — a deploy's zip, checked then written into a new release; and the
 * trees of releases: hard-link copies and counts (see site_int.h).
 *
 * Why it is built this way:
 *  - the zip's checks and its safe extraction are util/zipsafe.c's, shared with
 *    functions and deployments; here only the site's limits are set, with `unlink`:
 *    a new release starts as hard links to the live one, so a file must be replaced,
 *    never written in place, or the live (immutable) release would change under its
 *    readers;
 *  - modes are ours (0644 files, 0755 directories): the files are served, not run.
 */
#include "sites/site_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sites/site.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/zipsafe.h"

_Static_assert(ZIPSAFE_EINVALID == SITE_EINVALID, "a refused zip is SITE_EINVALID to callers");

/* The rules every deploy's zip follows (the checks themselves: util/zipsafe.h). */
static const struct zipsafe_opts site_zip_opts = {
        .noun = "site",
        .outcome = "nothing is published",
        .entries_max = SITE_ENTRIES_MAX,
        .bytes_max = SITE_BYTES_MAX,
        .unlink = 1,
};

int site_zip_check(const char *zip, long *entries, int64_t *bytes, struct err *err)
{
	return zipsafe_check(zip, &site_zip_opts, entries, bytes, err);
}

int site_zip_extract(const char *zip, const char *root, struct err *err)
{
	return zipsafe_extract(zip, root, &site_zip_opts, err);
}

/* ---- trees ---- */

/* A copy of regular file `name` from directory fd `src` to `dst` (where a link is
 * refused: another file system, or the inode's link count at its limit). */
static int copy_at(int src, int dst, const char *name, struct err *err)
{
	int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return err_errno(err, "%s", name);
	int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return err_errno(err, "%s", name);
	}
	char buf[1 << 16];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (fs_write_all(out, buf, (size_t)n) < 0) {
			rc = err_errno(err, "%s", name);
			break;
		}
	if (n < 0 && rc == 0)
		rc = err_errno(err, "%s", name);
	close(in);
	close(out);
	return rc;
}

int site_tree_link(int src, int dst, const char *what, struct err *err)
{
	int fd = dup(src);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, "%s", what);
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		struct stat sb;
		if (fstatat(src, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = err_errno(err, "%s/%s", what, name);
		} else if (S_ISDIR(sb.st_mode)) {
			char *sub = xasprintf("%s/%s", what, name);
			int s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = -1;
			if (s2 < 0 || (mkdirat(dst, name, 0755) < 0 && errno != EEXIST) ||
			    (d2 = openat(dst, name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				rc = err_errno(err, "%s", sub);
			else
				rc = site_tree_link(s2, d2, sub, err);
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
			free(sub);
		} else if (S_ISREG(sb.st_mode)) {
			if (linkat(src, name, dst, name, 0) < 0) {
				if (errno == EXDEV || errno == EMLINK || errno == EPERM)
					rc = copy_at(src, dst, name, err);
				else
					rc = err_errno(err, "%s/%s: linking", what, name);
			}
		}
	}
	if (rc == 0 && errno)
		rc = err_errno(err, "%s", what);
	closedir(d);
	return rc;
}

int site_tree_count(int dir, int64_t *files, int64_t *bytes, struct err *err)
{
	int fd = dup(dir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_errno(err, "counting a release's files");
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat sb;
		if (fstatat(dir, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = err_errno(err, "%s", de->d_name);
		} else if (S_ISDIR(sb.st_mode)) {
			int sub = openat(dir, de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = err_errno(err, "%s", de->d_name);
			} else {
				rc = site_tree_count(sub, files, bytes, err);
				close(sub);
			}
		} else if (S_ISREG(sb.st_mode)) {
			(*files)++;
			*bytes += sb.st_size;
		}
	}
	if (rc == 0 && errno)
		rc = err_errno(err, "counting a release's files");
	closedir(d);
	return rc;
}
