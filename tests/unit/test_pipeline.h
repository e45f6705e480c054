/*
 * test_pipeline.h — helpers shared by the pipeline declaration tests
 * (test_pipeline*.c): parse-must-succeed, parse-must-fail, fixtures, and the text of
 * a minimal valid pipeline to build cases from. Every function is static and
 * unused-tolerant, so each test file takes what it needs.
 */
#ifndef FERRY_TEST_PIPELINE_H
#define FERRY_TEST_PIPELINE_H

#include "testutil.h"

#include <limits.h>

#include "spec/pipeline.h"

#define UNUSED __attribute__((unused))

/* Lines 1-8 of most cases: a pipeline named "site" whose first stage reads the
 * CodeCommit repository "site" into the artifact Src. The next line is 9. */
#define HEAD_AND_SOURCE                                                                            \
	"name: site\n"                                                                             \
	"stages:\n"                                                                                \
	"  - name: Source\n"                                                                       \
	"    actions:\n"                                                                           \
	"      - name: Source\n"                                                                   \
	"        actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, version: "     \
	"'1'}\n"                                                                                   \
	"        configuration: {RepositoryName: site, BranchName: main}\n"                        \
	"        outputArtifacts: [{name: Src}]\n"

/* A Build stage of one CodeBuild action reading Src (6 lines). */
#define BUILD_STAGE                                                                                \
	"  - name: Build\n"                                                                        \
	"    actions:\n"                                                                           \
	"      - name: Build\n"                                                                    \
	"        actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: '1'}\n" \
	"        configuration: {ProjectName: site-build}\n"                                       \
	"        inputArtifacts: [{name: Src}]\n"

static UNUSED struct pipeline *pl_ok(const char *text)
{
	struct pipeline *p = NULL;
	struct err err = {{0}};
	if (pipeline_parse(text, strlen(text), "pipeline.yml", NULL, &p, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	return p;
}

/* The error of a parse that must fail (static storage, valid until the next call). */
static UNUSED const char *pl_err(const char *text)
{
	static struct err err;
	struct pipeline *p = NULL;
	memset(&err, 0, sizeof err);
	assert_int_equal(pipeline_parse(text, strlen(text), "pipeline.yml", NULL, &p, &err), -1);
	assert_null(p);
	return err.msg;
}

static UNUSED void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static UNUSED void assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

static UNUSED char *pl_data_dir(void)
{
	return tu_data_dir("pipeline-static-site.json");
}

/* Loads tests/unit/data/<name>, shown as <name> in messages. */
static UNUSED struct pipeline *pl_fixture(const char *name)
{
	char *dir = pl_data_dir();
	char *path = fs_join(dir, name);
	struct pipeline *p = NULL;
	struct err err = {{0}};
	if (pipeline_load(path, name, NULL, &p, &err) != 0)
		fail_msg("%s", err.msg);
	free(path);
	free(dir);
	return p;
}

static UNUSED const char *pl_fixture_err(const char *name)
{
	static struct err err;
	char *dir = pl_data_dir();
	char *path = fs_join(dir, name);
	struct pipeline *p = NULL;
	memset(&err, 0, sizeof err);
	assert_int_equal(pipeline_load(path, name, NULL, &p, &err), -1);
	assert_null(p);
	free(path);
	free(dir);
	return err.msg;
}

#endif
