/* Unit tests for spec/pipeline: V2 triggers and their git filters (spec §1.7,
 * checklist 35–37): what is accepted, and which pushes and pull requests start the
 * pipeline, with the reason when one does not. */
#include "test_pipeline.h"

/* A V2 pipeline whose CodeStarSourceConnection source follows main; trigger filter
 * lines (under gitConfiguration) start at line 20. */
#define TRIGGER(filters)                                                                           \
	"name: site\n"                                                                             \
	"pipelineType: V2\n"                                                                       \
	"stages:\n"                                                                                \
	"  - name: Source\n"                                                                       \
	"    actions:\n"                                                                           \
	"      - name: Source\n"                                                                   \
	"        actionTypeId: {category: Source, owner: AWS, provider: "                          \
	"CodeStarSourceConnection, "                                                               \
	"version: '1'}\n"                                                                          \
	"        outputArtifacts: [{name: Src}]\n"                                                 \
	"        configuration: {FullRepositoryId: acme/site, BranchName: main}\n" BUILD_STAGE     \
	"triggers:\n"                                                                              \
	"  - providerType: CodeStarSourceConnection\n"                                             \
	"    gitConfiguration:\n"                                                                  \
	"      sourceActionName: Source\n" filters

/* The answer for a push of `ref` changing the space-separated `paths` ("-" for
 * unknown); `why` gets the reason (or "" on a match), valid until the next call. */
static int pushed(const struct pipeline *p, const char *ref, const char *paths, const char **why)
{
	static char *last;
	struct strv sv = STRV_INIT;
	int unknown = strcmp(paths, "-") == 0;
	if (!unknown) {
		char *copy = xstrdup(paths);
		for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " "))
			strv_push(&sv, tok);
		free(copy);
	}
	struct pipeline_push push = {.ref = ref, .paths = unknown ? NULL : &sv};
	char *reason = NULL;
	int m = pipeline_source_push_matches(p, &p->stages[0].actions[0], &push, &reason);
	free(last);
	last = reason ? reason : xstrdup("");
	assert_int_equal(m, reason == NULL);
	strv_free(&sv);
	if (why)
		*why = last;
	return m;
}

/* --- what is accepted ------------------------------------------------------------- */

/* tags with branches, or filePaths without branches (checklist 36). */
static void test_invalid_push_combinations(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(TRIGGER("      push:\n"
	                       "        - tags: {includes: ['v*']}\n"
	                       "          branches: {includes: [main]}\n")),
	        "pipeline.yml:21:11: triggers[0].gitConfiguration.push[0]: a push filter "
	        "on tags cannot also filter on branches (a push is of a tag or of a "
	        "branch)");
	assert_string_equal(pl_err(TRIGGER("      push:\n"
	                                   "        - filePaths: {includes: ['src/**']}\n")),
	                    "pipeline.yml:21:11: triggers[0].gitConfiguration.push[0]: filePaths "
	                    "needs branches beside it");
	assert_string_equal(
	        pl_err(TRIGGER("      push:\n"
	                       "        - tags: {includes: ['v*']}\n"
	                       "          filePaths: {includes: ['src/**']}\n")),
	        "pipeline.yml:21:11: triggers[0].gitConfiguration.push[0]: a push filter "
	        "on tags cannot also filter on filePaths (a push is of a tag or of a "
	        "branch)");
	assert_string_equal(
	        pl_err(TRIGGER("      push: [{}]\n")),
	        "pipeline.yml:20:14: triggers[0].gitConfiguration.push[0]: a push filter "
	        "needs tags or branches");
	assert_string_equal(
	        pl_err(TRIGGER("      push: [{branches: {}}]\n")),
	        "pipeline.yml:20:25: triggers[0].gitConfiguration.push[0].branches: needs "
	        "includes, excludes or both");
}

static void test_filter_limits(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(TRIGGER("      push:\n"
	                       "        - branches: {includes: [a, b, c, d, e, f, g, h, "
	                       "i]}\n")),
	        "pipeline.yml:21:32: triggers[0].gitConfiguration.push[0].branches."
	        "includes: at most 8 items, found 9");
	assert_string_equal(
	        pl_err(TRIGGER("      push:\n"
	                       "        - branches: {includes: [a]}\n"
	                       "        - branches: {includes: [b]}\n"
	                       "        - branches: {includes: [c]}\n"
	                       "        - branches: {includes: [d]}\n")),
	        "pipeline.yml:21:9: triggers[0].gitConfiguration.push: at most 3 items, "
	        "found 4");
	assert_string_equal(
	        pl_err(TRIGGER("      push:\n"
	                       "        - branches: {includes: [main, 'release/[0-9']}\n")),
	        "pipeline.yml:21:39: triggers[0].gitConfiguration.push[0].branches."
	        "includes[1]: \"release/[0-9\" is not a valid glob: position 9: unclosed "
	        "\"[\"");
}

static void test_trigger_source_action(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(TRIGGER("      push: [{branches: {includes: [main]}}]\n"
	                       "  - providerType: CodeStarSourceConnection\n"
	                       "    gitConfiguration:\n"
	                       "      sourceActionName: Source\n"
	                       "      push: [{tags: {includes: ['v*']}}]\n")),
	        "pipeline.yml:23:25: triggers[1].gitConfiguration.sourceActionName: "
	        "\"Source\" already has a trigger (triggers[0]); put its filters in one "
	        "trigger");
	const char *wrong = "name: site\n"
	                    "stages:\n" /* HEAD_AND_SOURCE's CodeCommit source */
	                    "  - name: Source\n"
	                    "    actions:\n"
	                    "      - name: Source\n"
	                    "        actionTypeId: {category: Source, owner: AWS, provider: "
	                    "CodeCommit, version: '1'}\n"
	                    "        configuration: {RepositoryName: site, BranchName: main}\n"
	                    "        outputArtifacts: [{name: Src}]\n" BUILD_STAGE "triggers:\n"
	                    "  - providerType: CodeStarSourceConnection\n"
	                    "    gitConfiguration: {sourceActionName: %s, push: [{branches: "
	                    "{includes: [main]}}]}\n";
	char text[2048];
	snprintf(text, sizeof text, wrong, "Source");
	assert_string_equal(pl_err(text), "pipeline.yml:17:42: triggers[0].gitConfiguration."
	                                  "sourceActionName: triggers apply only to "
	                                  "CodeStarSourceConnection source actions; \"Source\" is "
	                                  "CodeCommit");
	snprintf(text, sizeof text, wrong, "Build");
	assert_string_equal(pl_err(text), "pipeline.yml:17:42: triggers[0].gitConfiguration."
	                                  "sourceActionName: the first stage has no action "
	                                  "\"Build\"");
}

static void test_trigger_fields(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(TRIGGER("      pullRequest: [{events: [OPEN]}]\n")),
	        "pipeline.yml:20:21: triggers[0].gitConfiguration.pullRequest[0]: a pull "
	        "request filter needs branches");
	assert_string_equal(pl_err(TRIGGER("      pullRequest: [{events: [OPEN, OPEN], branches: "
	                                   "{includes: [main]}}]\n")),
	                    "pipeline.yml:20:37: triggers[0].gitConfiguration.pullRequest[0]."
	                    "events[1]: \"OPEN\" is listed twice");
	assert_string_equal(pl_err(TRIGGER("      pullRequest: [{events: [MERGED], branches: "
	                                   "{includes: [main]}}]\n")),
	                    "pipeline.yml:20:31: triggers[0].gitConfiguration.pullRequest[0]."
	                    "events[0]: \"MERGED\" is not one of OPEN, UPDATED, CLOSED");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "triggers: [{providerType: GitHub}]\n"),
	        "pipeline.yml:15:27: triggers[0].providerType: \"GitHub\" is not one of "
	        "CodeStarSourceConnection");
	/* triggers make a pipeline V2; an explicit V1 refuses them (§1.5) */
	char *v1 = xstrdup(TRIGGER("      push: [{branches: {includes: [main]}}]\n"));
	memcpy(strstr(v1, "pipelineType: V2"), "pipelineType: V1", 16);
	assert_string_equal(pl_err(v1), "pipeline.yml:16:1: triggers needs pipelineType V2 (this "
	                                "pipeline says V1)");
	free(v1);
}

/* The fixture's trigger is kept and written back as it was. */
static void test_trigger_round_trip(void **state)
{
	(void)state;
	struct pipeline *p =
	        pl_ok(TRIGGER("      push:\n"
	                      "        - branches: {includes: [main], excludes: ['x*']}\n"
	                      "          filePaths: {excludes: ['docs/**']}\n"
	                      "      pullRequest:\n"
	                      "        - events: [CLOSED]\n"
	                      "          branches: {includes: [main]}\n"));
	char *text = pipeline_to_string(p, PIPELINE_JSON_COMPACT);
	assert_contains(text,
	                "\"triggers\":[{\"providerType\":\"CodeStarSourceConnection\","
	                "\"gitConfiguration\":{\"sourceActionName\":\"Source\",\"push\":[{"
	                "\"branches\":{\"includes\":[\"main\"],\"excludes\":[\"x*\"]},"
	                "\"filePaths\":{\"excludes\":[\"docs/**\"]}}],\"pullRequest\":[{"
	                "\"events\":[\"CLOSED\"],\"branches\":{\"includes\":[\"main\"]}}]}}]");
	assert_int_equal(p->triggers[0].pull_request[0].events, PL_PR_CLOSED);
	free(text);
	pipeline_free(p);
}

/* --- pushes ---------------------------------------------------------------------- */

/* Checklist 35: branches includes "release/" "**", excludes "release/old*". */
static void test_branch_includes_and_excludes(void **state)
{
	(void)state;
	const char *why;
	struct pipeline *p =
	        pl_ok(TRIGGER("      push:\n"
	                      "        - branches: {includes: ['release/**'], excludes: "
	                      "['release/old*']}\n"));
	assert_true(pushed(p, "refs/heads/release/1.2/x", "-", &why));
	assert_false(pushed(p, "refs/heads/release/old-1", "-", &why));
	assert_string_equal(why, "branch \"release/old-1\" is excluded by branches.excludes "
	                         "[\"release/old*\"]");
	assert_false(pushed(p, "refs/heads/main", "-", &why));
	assert_string_equal(why, "branch \"main\" is not included by branches.includes "
	                         "[\"release/**\"]");
	pipeline_free(p);
}

static void test_branch_not_included_reason(void **state)
{
	(void)state;
	const char *why;
	struct pipeline *p = pl_ok(TRIGGER("      push: [{branches: {includes: [main]}}]\n"));
	assert_false(pushed(p, "refs/heads/dev", "a.c", &why));
	assert_string_equal(why, "branch \"dev\" is not included by branches.includes [\"main\"]");
	/* excludes alone: everything else is included */
	pipeline_free(p);
	p = pl_ok(TRIGGER("      push: [{branches: {excludes: ['wip/*']}}]\n"));
	assert_true(pushed(p, "refs/heads/dev", "a.c", &why));
	assert_false(pushed(p, "refs/heads/wip/x", "a.c", &why));
	pipeline_free(p);
}

/* Checklist 37: filePaths includes "src/" "**"; a push touching only docs/a.md starts nothing. */
static void test_file_paths(void **state)
{
	(void)state;
	const char *why;
	struct pipeline *p = pl_ok(TRIGGER("      push:\n"
	                                   "        - branches: {includes: [main]}\n"
	                                   "          filePaths: {includes: ['src/**'], excludes: "
	                                   "['**.md']}\n"));
	assert_false(pushed(p, "refs/heads/main", "docs/a.md", &why));
	assert_string_equal(why, "none of the 1 changed files is included by filePaths.includes "
	                         "[\"src/**\"]");
	assert_true(pushed(p, "refs/heads/main", "docs/a.md src/a.c", &why));
	assert_false(pushed(p, "refs/heads/main", "src/README.md", &why));
	assert_string_equal(why, "every changed file that filePaths.includes takes is excluded by "
	                         "filePaths.excludes [\"**.md\"]");
	assert_true(pushed(p, "refs/heads/main", "src/README.md src/main.c", &why));
	assert_false(pushed(p, "refs/heads/main", "", &why));
	assert_string_equal(why, "the push changed no files, and filePaths needs one");
	/* unknown paths: nothing is missed */
	assert_true(pushed(p, "refs/heads/main", "-", &why));
	/* the branch is checked first */
	assert_false(pushed(p, "refs/heads/dev", "src/a.c", &why));
	assert_string_equal(why, "branch \"dev\" is not included by branches.includes [\"main\"]");
	pipeline_free(p);
}

/* The daemon diffs a push only for a trigger with filePaths: without one, the answer
 * does not depend on the changed paths. */
static void test_paths_needed_only_for_file_paths(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(TRIGGER("      push:\n"
	                                   "        - branches: {includes: [main]}\n"
	                                   "        - branches: {includes: [dev]}\n"
	                                   "          filePaths: {includes: ['src/**']}\n"));
	assert_true(pipeline_source_push_needs_paths(p, &p->stages[0].actions[0]));
	pipeline_free(p);
	p = pl_ok(TRIGGER("      push:\n"
	                  "        - branches: {includes: [main]}\n"));
	assert_false(pipeline_source_push_needs_paths(p, &p->stages[0].actions[0]));
	assert_true(pushed(p, "refs/heads/main", "-", NULL));
	pipeline_free(p);
}

/* A tag push matches tag filters only, and a branch push branch filters only. */
static void test_tags(void **state)
{
	(void)state;
	const char *why;
	struct pipeline *p = pl_ok(TRIGGER("      push: [{tags: {includes: ['v[0-9]*'], excludes: "
	                                   "['*-rc*']}}]\n"));
	assert_true(pushed(p, "refs/tags/v1.2.0", "-", &why));
	assert_false(pushed(p, "refs/tags/v1.3.0-rc1", "-", &why));
	assert_string_equal(why, "tag \"v1.3.0-rc1\" is excluded by tags.excludes [\"*-rc*\"]");
	assert_false(pushed(p, "refs/heads/v1", "-", &why));
	assert_string_equal(why, "a branch push does not match a filter on tags");
	pipeline_free(p);
	p = pl_ok(TRIGGER("      push: [{branches: {includes: ['**']}}]\n"));
	assert_false(pushed(p, "refs/tags/v1", "-", &why));
	assert_string_equal(why, "a tag push does not match a filter on branches");
	assert_false(pushed(p, "refs/pull/7/head", "-", &why));
	assert_string_equal(why, "ref \"refs/pull/7/head\" is neither a branch nor a tag");
	pipeline_free(p);
}

/* Filters are OR-ed; the reasons of each are numbered. */
static void test_filters_or(void **state)
{
	(void)state;
	const char *why;
	struct pipeline *p = pl_fixture("pipeline-static-site.json");
	assert_true(pushed(p, "refs/heads/main", "site/index.html", &why));
	assert_true(pushed(p, "refs/tags/v2.0", "-", &why));
	assert_false(pushed(p, "refs/heads/main", "README.md site/notes.md", &why));
	assert_string_equal(why,
	                    "push[0]: every changed file that filePaths.includes takes is "
	                    "excluded by filePaths.excludes [\"**.md\"]; push[1]: a branch push "
	                    "does not match a filter on tags");
	assert_false(pushed(p, "refs/heads/release/old-2", "site/a.html", &why));
	assert_string_equal(why,
	                    "push[0]: branch \"release/old-2\" is excluded by "
	                    "branches.excludes [\"release/old*\"]; push[1]: a branch push does "
	                    "not match a filter on tags");
	pipeline_free(p);
}

/* Without a trigger: a push to the source's BranchName (spec §1.7, DetectChanges). */
static void test_default_rule(void **state)
{
	(void)state;
	const char *why;
	struct pipeline *p = pl_ok(TRIGGER(""));
	assert_int_equal(p->ntriggers, 1); /* a trigger without filters: the default rule */
	assert_true(pushed(p, "refs/heads/main", "x", &why));
	pipeline_free(p);
	p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE);
	assert_true(pushed(p, "refs/heads/main", "", &why));
	assert_false(pushed(p, "refs/heads/dev", "", &why));
	assert_string_equal(why, "branch \"dev\" is not the branch \"main\" of source action "
	                         "\"Source\"");
	assert_false(pushed(p, "refs/tags/v1", "", &why));
	assert_string_equal(why, "a tag push starts a pipeline only through a trigger with a tags "
	                         "filter (source action \"Source\" follows branch \"main\")");
	pipeline_free(p);
	p = pl_ok("name: site\n"
	          "stages:\n"
	          "  - name: Source\n"
	          "    actions:\n"
	          "      - name: Source\n"
	          "        actionTypeId: {category: Source, owner: AWS, provider: "
	          "CodeStarSourceConnection, version: '1'}\n"
	          "        outputArtifacts: [{name: Src}]\n"
	          "        configuration: {FullRepositoryId: a/b, BranchName: main, DetectChanges: "
	          "'false'}\n" BUILD_STAGE);
	assert_false(pushed(p, "refs/heads/main", "", &why));
	assert_string_equal(why, "change detection is off for source action \"Source\" "
	                         "(DetectChanges false)");
	pipeline_free(p);
}

/* --- pull requests --------------------------------------------------------------- */

static int pr(const struct pipeline *p, const char *event, const char *target, char **why)
{
	struct strv paths = STRV_INIT;
	strv_push(&paths, "src/a.c");
	struct pipeline_pr ev = {.event = event, .target_branch = target, .paths = &paths};
	int m = pipeline_pr_matches(&p->triggers[0], &ev, why);
	strv_free(&paths);
	return m;
}

static void test_pull_requests(void **state)
{
	(void)state;
	char *why = NULL;
	struct pipeline *p = pl_ok(TRIGGER("      pullRequest:\n"
	                                   "        - events: [OPEN, UPDATED]\n"
	                                   "          branches: {includes: [main]}\n"));
	assert_true(pr(p, "OPEN", "main", &why));
	assert_null(why);
	assert_false(pr(p, "CLOSED", "main", &why));
	assert_string_equal(why, "pull request event \"CLOSED\" is not in events");
	free(why);
	assert_false(pr(p, "UPDATED", "dev", &why));
	assert_string_equal(why, "target branch \"dev\" is not included by branches.includes "
	                         "[\"main\"]");
	free(why);
	/* a trigger with only pull request filters starts nothing on a push */
	const char *reason;
	assert_false(pushed(p, "refs/heads/main", "-", &reason));
	assert_string_equal(reason, "the trigger of source action \"Source\" starts only on pull "
	                            "requests");
	pipeline_free(p);
	/* events absent: all three */
	p = pl_ok(TRIGGER("      pullRequest: [{branches: {includes: ['**']}}]\n"));
	assert_true(pr(p, "CLOSED", "dev", NULL));
	pipeline_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_invalid_push_combinations),
	        cmocka_unit_test(test_filter_limits),
	        cmocka_unit_test(test_trigger_source_action),
	        cmocka_unit_test(test_trigger_fields),
	        cmocka_unit_test(test_trigger_round_trip),
	        cmocka_unit_test(test_branch_includes_and_excludes),
	        cmocka_unit_test(test_branch_not_included_reason),
	        cmocka_unit_test(test_file_paths),
	        cmocka_unit_test(test_paths_needed_only_for_file_paths),
	        cmocka_unit_test(test_tags),
	        cmocka_unit_test(test_filters_or),
	        cmocka_unit_test(test_default_rule),
	        cmocka_unit_test(test_pull_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
