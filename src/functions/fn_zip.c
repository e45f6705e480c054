/*
 * fn_zip.c — a function's code as a zip: a directory zipped deterministically (so
 * CodeSha256 is stable for the same files), and the SHA-256 Lambda reports.
 *
 * Why deterministic: CodeSha256 is what tells "nothing changed" when a version is
 * published; a zip carrying each file's mtime would give a new hash for every
 * checkout of the same commit. util/zipdir.h does the zipping: entries sorted by
 * name, times fixed at 1980-01-01 (the zip epoch), modes reduced to 0644 or 0755
 * (any execute bit), symbolic links refused.
 */
#include "functions/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/zipdir.h"

int fn_zip_dir(const char *dir, const char *zip, struct err *err)
{
	return zipdir_write(dir, zip, 0, NULL, err);
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
