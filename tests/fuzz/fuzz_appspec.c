/*
 * fuzz_appspec.c — libFuzzer driver for the appspec.yml parser (YAML/JSON tree and the
 * checks on top of it): any bytes must give an appspec or a one-line error starting
 * "appspec.yml:LINE:COL: ", never a crash, a leak or an unbounded allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/appspec.h"

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
	struct appspec *as = NULL;
	struct err err;
	if (appspec_parse((const char *)data, size, "appspec.yml", &as, &err) == 0) {
		/* the invariants the deployer relies on */
		for (size_t i = 0; i < as->nfiles; i++)
			if (as->files[i].destination[0] != '/' || strstr(as->files[i].source, ".."))
				abort();
		for (int e = 0; e < AS_EVENT_COUNT; e++) {
			int total = 0;
			for (size_t i = 0; i < as->nhooks[e]; i++)
				total += as->hooks[e][i].timeout;
			if (total > APPSPEC_TIMEOUT_MAX)
				abort();
		}
		appspec_free(as);
		return 0;
	}
	if (as != NULL || strncmp(err.msg, "appspec.yml:", 12) != 0)
		abort();
	if (size <= APPSPEC_FILE_MAX && !has_line_col(err.msg + 12))
		abort();
	if (strchr(err.msg, '\n'))
		abort();
	return 0;
}
