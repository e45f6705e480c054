/*
 * md5.h — MD5 (RFC 1321), only for the artifact checksum CodeBuild records as
 * `codebuild-content-md5`. Not for anything security-relevant: use SHA-256 there.
 *
 * Usage: md5_init(), md5_update() any number of times, md5_final() once.
 * A context holds no heap memory.
 */
#ifndef FERRY_MD5_H
#define FERRY_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5_ctx {
	uint32_t state[4];
	uint64_t nbytes;   /* total length fed so far */
	uint8_t block[64]; /* partial block waiting for more input */
};

void md5_init(struct md5_ctx *c);
void md5_update(struct md5_ctx *c, const void *data, size_t len);
void md5_final(struct md5_ctx *c, uint8_t digest[16]);

/* Lowercase hex of a digest of `n` bytes into `out` (2n + 1 bytes). */
void md5_hex(const uint8_t *digest, size_t n, char *out);

#endif
