/*
 * fn_zip.c — a function's code as a zip: a directory zipped deterministically (so
 * CodeSha256 is stable for the same files), and the SHA-256 Lambda reports.
 *
 * Why deterministic: CodeSha256 is what tells "nothing changed" when a version is
 * published; a zip carrying each file's mtime would give a new hash for every
 * checkout of the same commit. Entries are sorted by name, times fixed at
 * 1980-01-01 (the zip epoch), modes reduced to 0644 or 0755 (any execute bit).
 */
#include "functions/registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/libarchive.h"

#define ZIP_EPOCH     315532800 /* 1980-01-01T00:00:00Z */
#define ZIP_DEPTH_MAX 64

static int add_file(struct archive *a, const char *abs, const char *rel, const struct stat *sb,
                    struct err *err)
{
	int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, "%s", abs);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, rel);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, (sb->st_mode & 0111) ? 0755 : 0644);
	archive_entry_set_size(e, sb->st_size);
	archive_entry_set_mtime(e, ZIP_EPOCH, 0);
	int rc = 0;
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = err_set(err, "%s: %s", abs, archive_error_string(a));
	char buf[1 << 16];
	ssize_t n;
	int64_t left = sb->st_size;
	while (rc == 0 && left > 0 && (n = read(fd, buf, sizeof buf)) > 0) {
		if (n > left)
			n = (ssize_t)left;
		if (archive_write_data(a, buf, (size_t)n) != n)
			rc = err_set(err, "%s: %s", abs, archive_error_string(a));
		left -= n;
	}
	if (rc == 0 && left > 0)
		rc = err_set(err, "%s: changed while it was read", abs);
	archive_entry_free(e);
	close(fd);
	return rc;
}

static int add_tree(struct archive *a, const char *abs, const char *rel, int depth, struct err *err)
{
	if (depth > ZIP_DEPTH_MAX)
		return err_set(err, "%s: more than %d directories deep", abs, ZIP_DEPTH_MAX);
	struct dirent **names = NULL;
	int n = scandir(abs, &names, NULL, alphasort);
	if (n < 0)
		return err_errno(err, "%s", abs);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		if (rc || !strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		char *p = fs_join(abs, nm);
		char *r = *rel ? xasprintf("%s/%s", rel, nm) : xstrdup(nm);
		struct stat sb;
		if (lstat(p, &sb) < 0)
			rc = err_errno(err, "%s", p);
		else if (S_ISLNK(sb.st_mode))
			rc = err_set(err, "%s: a symbolic link (function code holds files only)",
			             p);
		else if (S_ISDIR(sb.st_mode))
			rc = add_tree(a, p, r, depth + 1, err);
		else if (S_ISREG(sb.st_mode))
			rc = add_file(a, p, r, &sb, err);
		free(p);
		free(r);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int fn_zip_dir(const char *dir, const char *zip, struct err *err)
{
	if (!fs_is_dir(dir))
		return err_set(err, "%s: not a directory", dir);
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	archive_write_zip_set_compression_deflate(a);
	if (archive_write_open_filename(a, zip) != ARCHIVE_OK) {
		int rc = err_set(err, "%s: %s", zip, archive_error_string(a));
		archive_write_free(a);
		return rc;
	}
	int rc = add_tree(a, dir, "", 0, err);
	if (archive_write_close(a) != ARCHIVE_OK && rc == 0)
		rc = err_set(err, "%s: %s", zip, archive_error_string(a));
	archive_write_free(a);
	return rc;
}

int fn_sha256_file(const char *path, char b64[64], char hex[65], int64_t *size, struct err *err)
{
	if (sodium_init() < 0)
		return err_set(err, "libsodium failed to initialise");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, "%s", path);
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	unsigned char buf[1 << 16];
	ssize_t n;
	*size = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
		*size += n;
	}
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return err_errno(err, "%s", path);
	}
	unsigned char sum[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&h, sum);
	sodium_bin2base64(b64, 64, sum, sizeof sum, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2hex(hex, 65, sum, sizeof sum);
	return 0;
}
