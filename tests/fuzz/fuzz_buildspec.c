/*
 * fuzz_buildspec.c — libFuzzer driver for the buildspec parser (YAML/JSON tree and
 * the checks on top of it): any bytes must give a buildspec or an error with a
 * "FILE:LINE:COL: " prefix, never a crash, a leak or an unbounded allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/buildspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "LINE:COL: " with both numbers at least 1. */
static int has_line_col(const char *s)
{
	for (int field = 0; field < 2; field++) {
		if (*s < '1' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s++ != ':')
			return 0;
	}
	return *s == ' ';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buildspec *bs = NULL;
	struct err err;
	if (buildspec_parse((const char *)data, size, "buildspec.yml", &bs, &err) == 0) {
		for (size_t i = 0; i < bs->warnings.n; i++) {
			const char *w = bs->warnings.v[i];
			if (strncmp(w, "buildspec.yml:", 14) != 0 || !has_line_col(w + 14) ||
			    strchr(w, '\n'))
				abort();
		}
		buildspec_free(bs);
		return 0;
	}
	/* The contract: a failed parse leaves nothing behind and says where. */
	if (bs != NULL || strncmp(err.msg, "buildspec.yml:", 14) != 0)
		abort();
	if (size <= BUILDSPEC_FILE_MAX && !has_line_col(err.msg + 14))
		abort();
	if (strchr(err.msg, '\n'))
		abort(); /* messages are one line */
	return 0;
}
