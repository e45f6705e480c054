/*
 * uuid.c — see uuid.h. getrandom() on 16 bytes does not fail once the kernel's pool
 * is ready; rand() stands in anyway rather than leave an id unset.
 */
#include "util/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void uuid4(char out[UUID_LEN + 1])
{
	unsigned char b[16];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)(rand() & 0xff);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, UUID_LEN + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	         b[15]);
}
