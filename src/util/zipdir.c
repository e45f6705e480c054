/*
 * zipdir.c — a directory written as a zip, deterministically (see zipdir.h).
 *
 * The tree is read with scandir() and alphasort, one level at a time, so the order
 * of entries does not depend on the file system's; lstat() so that a link is seen
 * as one, and open(O_NOFOLLOW) so that one swapped in meanwhile is not followed.
 */
#include "util/zipdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/libarchive.h"

#define ZIP_EPOCH     315532800 /* 1980-01-01T00:00:00Z */
#define ZIP_DEPTH_MAX 64

struct zipdir {
	struct archive *a;
	unsigned flags;
	long files;
	struct err *err;
};

static int add_file(struct zipdir *z, const char *abs, const char *rel, const struct stat *sb)
{
	int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_errno(z->err, "%s", abs);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, rel);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, (sb->st_mode & 0111) ? 0755 : 0644);
	archive_entry_set_size(e, sb->st_size);
	archive_entry_set_mtime(e, (z->flags & ZIPDIR_KEEP_MTIME) ? sb->st_mtime : ZIP_EPOCH, 0);
	int rc = 0;
	if (archive_write_header(z->a, e) != ARCHIVE_OK)
		rc = err_set(z->err, "%s: %s", abs, archive_error_string(z->a));
	char buf[1 << 16];
	ssize_t n;
	int64_t left = sb->st_size;
	while (rc == 0 && left > 0 && (n = read(fd, buf, sizeof buf)) > 0) {
		if (n > left)
			n = (ssize_t)left;
		if (archive_write_data(z->a, buf, (size_t)n) != n)
			rc = err_set(z->err, "%s: %s", abs, archive_error_string(z->a));
		left -= n;
	}
	if (rc == 0 && left > 0)
		rc = err_set(z->err, "%s: changed while it was read", abs);
	archive_entry_free(e);
	close(fd);
	z->files += rc == 0;
	return rc;
}

static int add_tree(struct zipdir *z, const char *abs, const char *rel, int depth)
{
	if (depth > ZIP_DEPTH_MAX)
		return err_set(z->err, "%s: more than %d directories deep", abs, ZIP_DEPTH_MAX);
	struct dirent **names = NULL;
	int n = scandir(abs, &names, NULL, alphasort);
	if (n < 0)
		return err_errno(z->err, "%s", abs);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		if (rc || !strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		char *p = fs_join(abs, nm);
		char *r = *rel ? xasprintf("%s/%s", rel, nm) : xstrdup(nm);
		struct stat sb;
		if (lstat(p, &sb) < 0)
			rc = err_errno(z->err, "%s", p);
		else if (S_ISLNK(sb.st_mode) && !(z->flags & ZIPDIR_SKIP_LINKS))
			rc = err_set(z->err,
			             "%s: a symbolic link (only files and directories are zipped)",
			             p);
		else if (S_ISDIR(sb.st_mode))
			rc = add_tree(z, p, r, depth + 1);
		else if (S_ISREG(sb.st_mode))
			rc = add_file(z, p, r, &sb);
		free(p);
		free(r);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int zipdir_write(const char *dir, const char *zip, unsigned flags, long *nfiles, struct err *err)
{
	if (nfiles)
		*nfiles = 0;
	if (!fs_is_dir(dir))
		return err_set(err, "%s: not a directory", dir);
	struct zipdir z = {.a = archive_write_new(), .flags = flags, .err = err};
	archive_write_set_format_zip(z.a);
	archive_write_zip_set_compression_deflate(z.a);
	if (archive_write_open_filename(z.a, zip) != ARCHIVE_OK) {
		int rc = err_set(err, "%s: %s", zip, archive_error_string(z.a));
		archive_write_free(z.a);
		return rc;
	}
	int rc = add_tree(&z, dir, "", 0);
	if (archive_write_close(z.a) != ARCHIVE_OK && rc == 0)
		rc = err_set(err, "%s: %s", zip, archive_error_string(z.a));
	archive_write_free(z.a);
	if (nfiles)
		*nfiles = z.files;
	return rc;
}
