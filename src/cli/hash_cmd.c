/*
 * hash_cmd.c — `codebuild-hash-files PATTERN...` (also `ferry hash-files`): the helper
 * CodeBuild puts on PATH for cache keys, e.g. `key: npm-$(codebuild-hash-files
 * package-lock.json)` (spec §7). ferry's definition: the files the patterns select
 * below $CODEBUILD_SRC_DIR (or the current directory), sorted bytewise; SHA-256 over
 * one record per file, `path NUL sha256-hex(content) NUL`; printed as 64 hex digits.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "spec/glob.h"
#include "util/fs.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static int hash_file(const char *path, char out[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			crypto_hash_sha256_update(&st, chunk, (unsigned long long)n);
	close(fd);
	if (n < 0)
		return -1;
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, h);
	hex(h, sizeof h, out);
	return 0;
}

int cli_hash_files(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: codebuild-hash-files PATTERN...\n"
		      "Prints a SHA-256 over the files the patterns select below "
		      "$CODEBUILD_SRC_DIR.\n",
		      stderr);
		return 2;
	}
	const char *base = getenv("CODEBUILD_SRC_DIR");
	struct err err;
	char *root = fs_realpath(base && *base ? base : ".", &err);
	if (!root) {
		fprintf(stderr, "codebuild-hash-files: %s\n", err.msg);
		return 2;
	}
	struct strv patterns = STRV_INIT;
	for (int i = 1; i < argc; i++)
		strv_push(&patterns, argv[i]);
	struct glob_result g;
	int rc = glob_expand(root, &patterns, NULL, 0, &g, &err);
	strv_free(&patterns);
	if (rc < 0) {
		fprintf(stderr, "codebuild-hash-files: %s\n", err.msg);
		free(root);
		return 2;
	}
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < g.paths.n && rc == 0; i++) {
		char *p = fs_join(root, g.paths.v[i]);
		char fh[65];
		if (hash_file(p, fh) < 0) {
			fprintf(stderr, "codebuild-hash-files: %s: %s\n", p, strerror(errno));
			rc = 1;
		}
		crypto_hash_sha256_update(&st, (const unsigned char *)g.paths.v[i],
		                          strlen(g.paths.v[i]) + 1);
		crypto_hash_sha256_update(&st, (const unsigned char *)fh, sizeof fh);
		free(p);
	}
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, h);
	char out[65];
	hex(h, sizeof h, out);
	if (rc == 0)
		puts(out);
	glob_result_free(&g);
	free(root);
	return rc;
}
