/*
 * zipsafe.c — a zip from outside, checked whole, then written below a directory
 * (see zipsafe.h).
 *
 * Why it is built this way:
 *  - the zip is read twice: headers first (cheap: libarchive skips the data), so a
 *    hostile zip is refused whole before a byte of it is written; then for real,
 *    counting the bytes actually inflated, since a zip's declared sizes can lie;
 *  - libarchive's disk writer does the writing with its secure flags (no "..", no
 *    write through a symbolic link); with `unlink`, ARCHIVE_EXTRACT_UNLINK too: a
 *    site's new release starts as hard links to the live one, so a file must be
 *    replaced, never written in place;
 *  - modes are ours: a zip's modes, owners and set-id bits are never trusted.
 */
#include "util/zipsafe.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/libarchive.h"

#define ZIP_BLOCK (64 << 10)

/* ZIPSAFE_EINVALID naming the entry when it must not be written; 0 when it may. */
static int entry_refused(const char *zip, const struct zipsafe_opts *o, struct archive_entry *e,
                         struct err *err)
{
	const char *rel = archive_entry_pathname(e);
	mode_t type = archive_entry_filetype(e);
	if (!rel || !*rel) {
		err_set(err, "%s: an entry has no name; %s", zip, o->outcome);
		return ZIPSAFE_EINVALID;
	}
	char why[160];
	why[0] = '\0';
	if (rel[0] == '/')
		snprintf(why, sizeof why, "is an absolute path");
	else if (!fs_plain_relative(rel))
		snprintf(why, sizeof why,
		         "climbs out of the %s (\"..\") or has an empty or \".\" part", o->noun);
	else if (archive_entry_hardlink(e))
		snprintf(why, sizeof why, "is a hard link (links are not accepted)");
	else if (type == AE_IFLNK)
		snprintf(why, sizeof why, "is a symbolic link (links are not accepted)");
	else if (type != AE_IFREG && type != AE_IFDIR)
		snprintf(why, sizeof why,
		         "is a device, fifo or socket (only files and directories are accepted)");
	if (!why[0])
		return 0;
	err_set(err, "%s: entry \"%s\" %s; %s", zip, rel, why, o->outcome);
	return ZIPSAFE_EINVALID;
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

static int too_big(const char *zip, const struct zipsafe_opts *o, const char *rel, struct err *err)
{
	err_set(err, "%s: more than %lld bytes once extracted (at entry \"%s\"); %s", zip,
	        (long long)o->bytes_max, rel, o->outcome);
	return ZIPSAFE_EINVALID;
}

int zipsafe_check(const char *zip, const struct zipsafe_opts *o, long *entries, int64_t *bytes,
                  struct err *err)
{
	*entries = 0;
	*bytes = 0;
	struct archive *in = zip_open(zip, err);
	if (!in)
		return -1;
	struct archive_entry *e;
	int r, rc = 0;
	while (rc == 0 && (r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		if (++*entries > o->entries_max) {
			err_set(err, "%s: more than %ld entries (at entry \"%s\"); %s", zip,
			        o->entries_max, archive_entry_pathname(e), o->outcome);
			rc = ZIPSAFE_EINVALID;
			break;
		}
		rc = entry_refused(zip, o, e, err);
		if (rc == 0 && archive_entry_filetype(e) == AE_IFREG) {
			int64_t size = archive_entry_size(e);
			*bytes += size > 0 ? size : 0;
			if (*bytes > o->bytes_max)
				rc = too_big(zip, o, archive_entry_pathname(e), err);
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = err_set(err, "%s: %s", zip, archive_error_string(in));
	archive_read_free(in);
	return rc;
}

/* Copies one regular entry's data, adding to *total; ZIPSAFE_EINVALID past the cap. */
static int copy_data(struct archive *in, struct archive *disk, const char *zip,
                     const struct zipsafe_opts *o, const char *rel, int64_t *total, struct err *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
		*total += (int64_t)size;
		if (*total > o->bytes_max)
			return too_big(zip, o, rel, err);
		if (archive_write_data_block(disk, buf, size, off) < ARCHIVE_OK)
			return err_set(err, "%s: entry \"%s\": %s", zip, rel,
			               archive_error_string(disk));
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, "%s: entry \"%s\": %s", zip, rel, archive_error_string(in));
	return 0;
}

static int extract_entries(struct archive *in, struct archive *disk, const char *zip,
                           const char *root, const struct zipsafe_opts *o, struct err *err)
{
	struct archive_entry *e;
	int64_t total = 0;
	long n = 0;
	int r;
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		int rc = entry_refused(zip, o, e, err);
		if (rc)
			return rc;
		if (++n > o->entries_max) {
			err_set(err, "%s: more than %ld entries; %s", zip, o->entries_max,
			        o->outcome);
			return ZIPSAFE_EINVALID;
		}
		char *rel = xstrdup(archive_entry_pathname(e));
		int dir = archive_entry_filetype(e) == AE_IFDIR;
		int exec = o->keep_exec && (archive_entry_perm(e) & 0111);
		char *abs = fs_join(root, rel);
		archive_entry_set_pathname(e, abs);
		free(abs);
		archive_entry_set_perm(e, dir || exec ? 0755 : 0644);
		if (archive_write_header(disk, e) < ARCHIVE_WARN)
			rc = err_set(err, "%s: entry \"%s\": %s", zip, rel,
			             archive_error_string(disk));
		if (rc == 0 && !dir)
			rc = copy_data(in, disk, zip, o, rel, &total, err);
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

int zipsafe_extract(const char *zip, const char *root, const struct zipsafe_opts *o,
                    struct err *err)
{
	struct archive *in = zip_open(zip, err);
	if (!in)
		return -1;
	struct archive *disk = archive_write_disk_new();
	int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	            ARCHIVE_EXTRACT_SECURE_NODOTDOT;
	if (o->unlink)
		flags |= ARCHIVE_EXTRACT_UNLINK;
	archive_write_disk_set_options(disk, flags);
	int rc = extract_entries(in, disk, zip, root, o, err);
	if (archive_write_close(disk) != ARCHIVE_OK && rc == 0)
		rc = err_set(err, "%s: %s", root, archive_error_string(disk));
	archive_write_free(disk);
	archive_read_free(in);
	return rc;
}
