/*
 * site_zip.c — a deploy's zip, checked then written into a new release; and the
 * trees of releases: hard-link copies and counts (see site_int.h).
 *
 * Why it is built this way:
 *  - the zip is read twice: headers first (cheap: libarchive skips the data), so a
 *    hostile zip is refused whole before a byte of it is written; then for real,
 *    counting the bytes actually inflated, since a zip's declared sizes can lie;
 *  - libarchive's disk writer does the writing with its secure flags (no "..", no
 *    write through a symbolic link) and ARCHIVE_EXTRACT_UNLINK: a new release starts
 *    as hard links to the live one, so a file must be replaced, never written in
 *    place, or the live (immutable) release would change under its readers;
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
#include "util/libarchive.h"

#define ZIP_BLOCK (64 << 10)

/* SITE_EINVALID naming `rel` when the entry must not be published; 0 when it may. */
static int entry_refused(const char *zip, struct archive_entry *e, struct err *err)
{
	const char *rel = archive_entry_pathname(e);
	mode_t type = archive_entry_filetype(e);
	if (!rel || !*rel) {
		err_set(err, "%s: an entry has no name; nothing is published", zip);
		return SITE_EINVALID;
	}
	const char *why = NULL;
	if (rel[0] == '/')
		why = "is an absolute path";
	else if (!fs_plain_relative(rel))
		why = "climbs out of the site (\"..\") or has an empty or \".\" part";
	else if (archive_entry_hardlink(e))
		why = "is a hard link (links are not published)";
	else if (type == AE_IFLNK)
		why = "is a symbolic link (links are not published)";
	else if (type != AE_IFREG && type != AE_IFDIR)
		why = "is a device, fifo or socket (only files and directories are published)";
	if (!why)
		return 0;
	err_set(err, "%s: entry \"%s\" %s; nothing is published", zip, rel, why);
	return SITE_EINVALID;
}

static struct archive *zip_open(const char *zip, struct err *err)
{
	struct archive *in = archive_read_new();
	archive_read_support_format_zip(in);
	if (archive_read_open_filename(in, zip, ZIP_BLOCK) != ARCHIVE_OK) {
		err_set(err, "%s: not a readable zip: %s", zip, archive_error_string(in));
		archive_read_free(in);
		return NULL;
	}
	return in;
}

int site_zip_check(const char *zip, long *entries, int64_t *bytes, struct err *err)
{
	*entries = 0;
	*bytes = 0;
	struct archive *in = zip_open(zip, err);
	if (!in)
		return -1;
	struct archive_entry *e;
	int r, rc = 0;
	while (rc == 0 && (r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		if (++*entries > SITE_ENTRIES_MAX) {
			err_set(err,
			        "%s: more than %d entries (at entry \"%s\"); nothing is published",
			        zip, SITE_ENTRIES_MAX, archive_entry_pathname(e));
			rc = SITE_EINVALID;
			break;
		}
		rc = entry_refused(zip, e, err);
		if (rc == 0 && archive_entry_filetype(e) == AE_IFREG) {
			int64_t size = archive_entry_size(e);
			*bytes += size > 0 ? size : 0;
			if (*bytes > SITE_BYTES_MAX) {
				err_set(err,
				        "%s: more than %lld bytes once extracted (at entry "
				        "\"%s\"); "
				        "nothing is published",
				        zip, (long long)SITE_BYTES_MAX, archive_entry_pathname(e));
				rc = SITE_EINVALID;
			}
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = err_set(err, "%s: %s", zip, archive_error_string(in));
	archive_read_free(in);
	return rc;
}

/* Copies one regular entry's data, adding to *total; SITE_EINVALID past the cap. */
static int copy_data(struct archive *in, struct archive *disk, const char *zip, const char *rel,
                     int64_t *total, struct err *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
		*total += (int64_t)size;
		if (*total > SITE_BYTES_MAX) {
			err_set(err,
			        "%s: more than %lld bytes once extracted (at entry \"%s\"); "
			        "nothing "
			        "is published",
			        zip, (long long)SITE_BYTES_MAX, rel);
			return SITE_EINVALID;
		}
		if (archive_write_data_block(disk, buf, size, off) < ARCHIVE_OK)
			return err_set(err, "%s: entry \"%s\": %s", zip, rel,
			               archive_error_string(disk));
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, "%s: entry \"%s\": %s", zip, rel, archive_error_string(in));
	return 0;
}

static int extract_entries(struct archive *in, struct archive *disk, const char *zip,
                           const char *root, struct err *err)
{
	struct archive_entry *e;
	int64_t total = 0;
	long n = 0;
	int r;
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		int rc = entry_refused(zip, e, err);
		if (rc)
			return rc;
		if (++n > SITE_ENTRIES_MAX) {
			err_set(err, "%s: more than %d entries; nothing is published", zip,
			        SITE_ENTRIES_MAX);
			return SITE_EINVALID;
		}
		char *rel = xstrdup(archive_entry_pathname(e));
		int dir = archive_entry_filetype(e) == AE_IFDIR;
		char *abs = fs_join(root, rel);
		archive_entry_set_pathname(e, abs);
		free(abs);
		archive_entry_set_perm(e, dir ? 0755 : 0644);
		if (archive_write_header(disk, e) < ARCHIVE_WARN)
			rc = err_set(err, "%s: entry \"%s\": %s", zip, rel,
			             archive_error_string(disk));
		if (rc == 0 && !dir)
			rc = copy_data(in, disk, zip, rel, &total, err);
		if (rc == 0 && archive_write_finish_entry(disk) < ARCHIVE_WARN)
			rc = err_set(err, "%s: entry \"%s\": %s", zip, rel,
			             archive_error_string(disk));
		free(rel);
		if (rc)
			return rc;
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, "%s: %s", zip, archive_error_string(in));
	return 0;
}

int site_zip_extract(const char *zip, const char *root, struct err *err)
{
	struct archive *in = zip_open(zip, err);
	if (!in)
		return -1;
	struct archive *disk = archive_write_disk_new();
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_UNLINK |
	                                             ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	                                             ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	int rc = extract_entries(in, disk, zip, root, err);
	if (archive_write_close(disk) != ARCHIVE_OK && rc == 0)
		rc = err_set(err, "%s: %s", root, archive_error_string(disk));
	archive_write_free(disk);
	archive_read_free(in);
	return rc;
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
