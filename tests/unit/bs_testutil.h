/*
 * bs_testutil.h — helpers shared by the buildspec unit tests (test_buildspec*.c):
 * parse-must-succeed, parse-must-fail, and small assertions. Every function is
 * static and marked unused-tolerant, so each test file takes what it needs.
 */
#ifndef FERRY_BS_TESTUTIL_H
#define FERRY_BS_TESTUTIL_H

#include "testutil.h"

#include <regex.h>

#include "spec/buildspec.h"

static __attribute__((unused)) struct buildspec *bs_ok(const char *yaml)
{
	struct buildspec *bs = NULL;
	struct err err = {{0}};
	if (buildspec_parse(yaml, strlen(yaml), "buildspec.yml", &bs, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	return bs;
}

/* The error of a parse that must fail (static __attribute__((unused)) storage, valid until the next
 * call). */
static __attribute__((unused)) const char *bs_err(const char *yaml)
{
	static __attribute__((unused)) struct err err;
	struct buildspec *bs = NULL;
	memset(&err, 0, sizeof err);
	assert_int_equal(buildspec_parse(yaml, strlen(yaml), "buildspec.yml", &bs, &err), -1);
	assert_null(bs);
	return err.msg;
}

static __attribute__((unused)) void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static __attribute__((unused)) void assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

static __attribute__((unused)) const char *var(const struct buildspec *bs, const char *name)
{
	for (size_t i = 0; i < bs->nvariables; i++)
		if (strcmp(bs->variables[i].name, name) == 0)
			return bs->variables[i].value;
	return NULL;
}

static __attribute__((unused)) struct bs_phase_spec *build_phase(struct buildspec *bs)
{
	return &bs->phases[BS_BUILD];
}

#endif
