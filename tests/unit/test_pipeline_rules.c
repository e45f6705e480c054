/* Unit tests for spec/pipeline: structural validation (spec §1.2), action types and
 * their configuration (§4.1–4.3), git sources, the projects extension, and the
 * `#{ns.key}` references a declaration may make (§3.1). */
#include "test_pipeline.h"

/* A CodeCommit source whose configuration lines start at line 9. */
#define COMMIT_SOURCE(cfg)                                                                         \
	"name: site\n"                                                                             \
	"stages:\n"                                                                                \
	"  - name: Source\n"                                                                       \
	"    actions:\n"                                                                           \
	"      - name: Source\n"                                                                   \
	"        actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, version: "     \
	"'1'}\n"                                                                                   \
	"        outputArtifacts: [{name: Src}]\n"                                                 \
	"        configuration:\n" cfg BUILD_STAGE

/* A CodeStarSourceConnection source whose configuration lines start at line 10. */
#define CONNECTION_SOURCE(cfg)                                                                     \
	"name: site\n"                                                                             \
	"stages:\n"                                                                                \
	"  - name: Source\n"                                                                       \
	"    actions:\n"                                                                           \
	"      - name: Source\n"                                                                   \
	"        actionTypeId: {category: Source, owner: AWS, provider: "                          \
	"CodeStarSourceConnection, "                                                               \
	"version: '1'}\n"                                                                          \
	"        outputArtifacts: [{name: Src}]\n"                                                 \
	"        namespace: SourceVariables\n"                                                     \
	"        configuration:\n" cfg BUILD_STAGE

/* A CodeBuild action reading Src, configuration lines from line 15. */
#define BUILD_WITH(cfg)                                                                            \
	HEAD_AND_SOURCE                                                                            \
	"  - name: Build\n"                                                                        \
	"    actions:\n"                                                                           \
	"      - name: Build\n"                                                                    \
	"        actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: '1'}\n" \
	"        inputArtifacts: [{name: Src}]\n"                                                  \
	"        configuration:\n" cfg

/* `n` stages (the first a source), each with `per` CodeBuild actions after the first. */
static char *many(size_t nstages, size_t per)
{
	struct buf b;
	buf_init(&b, 1 << 22);
	assert_int_equal(buf_puts(&b, HEAD_AND_SOURCE), 0);
	for (size_t s = 1; s < nstages; s++) {
		assert_int_equal(buf_printf(&b, "  - name: S%zu\n    actions:\n", s), 0);
		for (size_t a = 0; a < per; a++)
			assert_int_equal(
			        buf_printf(&b,
			                   "      - {name: A%zu, actionTypeId: {category: "
			                   "Build, owner: AWS, provider: CodeBuild, version: "
			                   "'1'}, configuration: {ProjectName: p%zu}, "
			                   "inputArtifacts: [{name: Src}]}\n",
			                   a, a),
			        0);
	}
	return buf_detach(&b);
}

/* --- counts (§1.2.1) --------------------------------------------------------------- */

/* One stage is not a pipeline (checklist 1). */
static void test_one_stage_refused(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE),
	        "pipeline.yml:3:3: stages: a pipeline needs at least 2 stages (a Source "
	        "stage and one more), found 1");
}

static void test_stage_and_action_limits(void **state)
{
	(void)state;
	char *t = many(51, 1);
	assert_string_equal(pl_err(t), "pipeline.yml:3:3: stages: a pipeline holds at most 50 "
	                               "stages, found 51");
	free(t);
	t = many(2, 51);
	assert_string_equal(pl_err(t), "pipeline.yml:11:7: stages[1].actions: a stage holds at "
	                               "most 50 actions, found 51");
	free(t);
	t = many(12, 50);
	assert_string_equal(pl_err(t), "pipeline.yml:3:3: stages: a pipeline holds at most 500 "
	                               "actions, found 551");
	free(t);
	t = many(11, 49); /* 491 actions: fine */
	struct pipeline *p = pl_ok(t);
	pipeline_free(p);
	free(t);
}

/* --- where Source actions go (§1.2.2) ------------------------------------------------ */

static void test_first_stage_only_sources(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE
	               "      - name: Lint\n"
	               "        actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, "
	               "version: '1'}\n" BUILD_STAGE),
	        "pipeline.yml:10:34: stages[0].actions[1].actionTypeId.category: the first stage "
	        "holds only Source actions, found Build");
}

/* A Source action outside the first stage (checklist 1). */
static void test_source_outside_first_stage(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE
	               "      - name: Again\n"
	               "        actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, "
	               "version: '1'}\n"),
	        "pipeline.yml:16:34: stages[1].actions[1].actionTypeId.category: Source actions "
	        "belong in the first stage only");
}

/* --- names (§1.2.4) ---------------------------------------------------------------- */

static void test_duplicate_names(void **state)
{
	(void)state;
	assert_string_equal(pl_err(HEAD_AND_SOURCE BUILD_STAGE BUILD_STAGE),
	                    "pipeline.yml:15:11: stages[2].name: \"Build\" is already the name of "
	                    "stages[1]");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE
	               "      - name: Build\n"
	               "        actionTypeId: {category: Test, owner: AWS, provider: CodeBuild, "
	               "version: '1'}\n"),
	        "pipeline.yml:15:15: stages[1].actions[1].name: \"Build\" is already the name of "
	        "stages[1].actions[0]");
	/* the same action name in two stages is fine */
	struct pipeline *p = pl_ok(HEAD_AND_SOURCE
	                           "  - name: Test\n"
	                           "    actions:\n"
	                           "      - name: Source\n"
	                           "        actionTypeId: {category: Test, owner: AWS, provider: "
	                           "CodeBuild, version: '1'}\n"
	                           "        configuration: {ProjectName: site-test}\n"
	                           "        inputArtifacts: [{name: Src}]\n");
	pipeline_free(p);
}

/* --- artifacts (§1.2.5–7) ------------------------------------------------------------ */

static void test_input_must_be_produced(void **state)
{
	(void)state;
	assert_string_equal(pl_err(HEAD_AND_SOURCE
	                           "  - name: Build\n"
	                           "    actions:\n"
	                           "      - name: Build\n"
	                           "        actionTypeId: {category: Build, owner: AWS, provider: "
	                           "CodeBuild, version: '1'}\n"
	                           "        configuration: {ProjectName: site-build}\n"
	                           "        inputArtifacts: [{name: Source}]\n"),
	                    "pipeline.yml:14:33: stages[1].actions[0].inputArtifacts[0].name: no "
	                    "action has \"Source\" in its outputArtifacts");
}

/* An artifact produced only by a later stage (checklist 2). */
static void test_input_produced_later(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE
	               "  - name: Build\n"
	               "    actions:\n"
	               "      - name: Build\n"
	               "        actionTypeId: {category: Build, owner: AWS, provider: "
	               "CodeBuild, version: '1'}\n"
	               "        configuration: {ProjectName: site-build, PrimarySource: "
	               "Src}\n"
	               "        inputArtifacts: [{name: Src}, {name: Report}]\n"
	               "  - name: Test\n"
	               "    actions:\n"
	               "      - name: Test\n"
	               "        actionTypeId: {category: Test, owner: AWS, provider: "
	               "CodeBuild, version: '1'}\n"
	               "        configuration: {ProjectName: site-test}\n"
	               "        inputArtifacts: [{name: Src}]\n"
	               "        outputArtifacts: [{name: Report}]\n"),
	        "pipeline.yml:14:46: stages[1].actions[0].inputArtifacts[1].name: "
	        "\"Report\" is produced by stages[2].actions[0] (\"Test\"), which does not "
	        "run before this action");
}

/* Actions of one runOrder run together: they cannot feed each other (§1.3). */
static void test_input_from_same_run_order(void **state)
{
	(void)state;
	const char *stage = "  - name: Build\n"
	                    "    actions:\n"
	                    "      - name: Compile\n"
	                    "        actionTypeId: {category: Build, owner: AWS, provider: "
	                    "CodeBuild, version: '1'}\n"
	                    "        configuration: {ProjectName: site-build}\n"
	                    "        inputArtifacts: [{name: Src}]\n"
	                    "        outputArtifacts: [{name: Bin}]\n"
	                    "      - name: Package\n"
	                    "        actionTypeId: {category: Build, owner: AWS, provider: "
	                    "CodeBuild, version: '1'}\n"
	                    "        configuration: {ProjectName: site-build}\n"
	                    "        inputArtifacts: [{name: Bin}]\n"
	                    "        runOrder: %d\n";
	char text[2048];
	snprintf(text, sizeof text, "%s" HEAD_AND_SOURCE, "");
	size_t n = strlen(text);
	snprintf(text + n, sizeof text - n, stage, 1);
	assert_string_equal(pl_err(text), "pipeline.yml:19:33: stages[1].actions[1].inputArtifacts["
	                                  "0].name: \"Bin\" is produced by stages[1].actions[0] "
	                                  "(\"Compile\"), which does not run before this action");
	snprintf(text + n, sizeof text - n, stage, 2);
	struct pipeline *p = pl_ok(text);
	pipeline_free(p);
}

static void test_output_names_unique(void **state)
{
	(void)state;
	assert_string_equal(pl_err(HEAD_AND_SOURCE BUILD_STAGE "        outputArtifacts: [{name: "
	                                                       "Src}]\n"),
	                    "pipeline.yml:15:34: stages[1].actions[0].outputArtifacts[0].name: "
	                    "\"Src\" is already an output of stages[0].actions[0] (\"Source\") "
	                    "(output artifact names are unique in a pipeline)");
}

/* Each provider's artifact counts (§4.1). */
static void test_artifact_counts(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE
	               "  - name: Build\n"
	               "    actions:\n"
	               "      - name: Build\n"
	               "        actionTypeId: {category: Build, owner: AWS, provider: "
	               "CodeBuild, version: '1'}\n"
	               "        configuration: {ProjectName: site-build}\n"),
	        "pipeline.yml:11:9: stages[1].actions[0].inputArtifacts: Build CodeBuild "
	        "takes 1 to 5 input artifacts, found 0");
	assert_string_equal(
	        pl_err("name: site\n"
	               "stages:\n"
	               "  - name: Source\n"
	               "    actions:\n"
	               "      - name: Source\n"
	               "        actionTypeId: {category: Source, owner: AWS, provider: "
	               "CodeCommit, version: '1'}\n"
	               "        configuration: {RepositoryName: site, BranchName: main}\n"
	               "        outputArtifacts: []\n" BUILD_STAGE),
	        "pipeline.yml:8:26: stages[0].actions[0].outputArtifacts: Source "
	        "CodeCommit takes exactly 1 output artifact, found 0");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE
	               "  - name: Build\n"
	               "    actions:\n"
	               "      - name: Build\n"
	               "        actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, "
	               "version: '1'}\n"
	               "        configuration: {ProjectName: site-build, PrimarySource: Src}\n"
	               "        inputArtifacts: [{name: Src}]\n"
	               "        outputArtifacts: [{name: a}, {name: b}, {name: c}, {name: d}, "
	               "{name: e}, {name: f}]\n"),
	        "pipeline.yml:15:26: stages[1].actions[0].outputArtifacts: Build CodeBuild takes 0 "
	        "to 5 output artifacts, found 6");
}

/* --- namespaces (§1.2.8) --------------------------------------------------------- */

static void test_namespaces(void **state)
{
	(void)state;
	assert_string_equal(pl_err(HEAD_AND_SOURCE "        namespace: variables\n" BUILD_STAGE),
	                    "pipeline.yml:9:20: stages[0].actions[0].namespace: \"variables\" is "
	                    "reserved (codepipeline and variables are built-in namespaces)");
	assert_string_equal(pl_err(HEAD_AND_SOURCE "        namespace: Src\n" BUILD_STAGE),
	                    "pipeline.yml:9:20: stages[0].actions[0].namespace: \"Src\" is also an "
	                    "artifact name (an output of stages[0].actions[0] (\"Source\")); a "
	                    "namespace must differ from every artifact name");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE "        namespace: Vars\n" BUILD_STAGE
	                               "        namespace: Vars\n"),
	        "pipeline.yml:16:20: stages[1].actions[0].namespace: \"Vars\" is already "
	        "the namespace of stages[0].actions[0] (\"Source\")");
}

/* --- action types (§4.1) ---------------------------------------------------------- */

#define ACTION_TYPE(cat, owner, prov, ver)                                                         \
	HEAD_AND_SOURCE                                                                            \
	"  - name: Deploy\n"                                                                       \
	"    actions:\n"                                                                           \
	"      - name: Upload\n"                                                                   \
	"        inputArtifacts: [{name: Src}]\n"                                                  \
	"        actionTypeId:\n"                                                                  \
	"          category: " cat "\n"                                                            \
	"          owner: " owner "\n"                                                             \
	"          provider: " prov "\n"                                                           \
	"          version: '" ver "'\n"

/* The STYLE.md example: an unknown provider lists the known ones. */
static void test_unknown_provider(void **state)
{
	(void)state;
	assert_string_equal(pl_err(ACTION_TYPE("Deploy", "AWS", "CodeStarX", "1")),
	                    "pipeline.yml:16:21: stages[1].actions[0].actionTypeId.provider: "
	                    "\"CodeStarX\" is not a provider ferry knows (known: CodeCommit, "
	                    "CodeStarSourceConnection, CodeBuild, S3, CodeDeploy, Lambda, Manual, "
	                    "Commands)");
}

/* Known AWS providers that come later are refused with stage, action and provider. */
static void test_later_providers_refused(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(ACTION_TYPE("Deploy", "AWS", "Lambda", "1")),
	        "pipeline.yml:16:21: stages[1].actions[0].actionTypeId.provider: Deploy "
	        "Lambda actions come in a later version of ferry (stage \"Deploy\", "
	        "action \"Upload\"); this version runs Source CodeCommit, Source "
	        "CodeStarSourceConnection, Build CodeBuild, Test CodeBuild, Deploy S3, "
	        "Deploy CodeDeploy, Invoke Lambda, Approval Manual");
}

/* The seeds' static-site pipeline ends with an S3 deploy, which ferry runs (§4.4). */
static void test_s3_deploy_accepted(void **state)
{
	(void)state;
	struct pipeline *p = pl_fixture("pipeline-static-site-deploy.json");
	assert_non_null(p);
	pipeline_free(p);
}

static void test_action_type_mismatches(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(ACTION_TYPE("Build", "AWS", "Lambda", "1")),
	        "pipeline.yml:14:21: stages[1].actions[0].actionTypeId.category: Lambda "
	        "is a Deploy or Invoke provider, not Build");
	assert_string_equal(
	        pl_err(ACTION_TYPE("Build", "ThirdParty", "CodeBuild", "1")),
	        "pipeline.yml:15:18: stages[1].actions[0].actionTypeId.owner: CodeBuild "
	        "actions are owned by AWS, found ThirdParty");
	assert_string_equal(pl_err(ACTION_TYPE("Build", "AWS", "CodeBuild", "2")),
	                    "pipeline.yml:17:20: stages[1].actions[0].actionTypeId.version: ferry "
	                    "knows version 1 of CodeBuild, found \"2\"");
}

/* --- configuration keys (§4.2, §4.3) ------------------------------------------------ */

static void test_required_and_unknown_keys(void **state)
{
	(void)state;
	assert_string_equal(pl_err(COMMIT_SOURCE("          RepositoryName: site\n")),
	                    "pipeline.yml:9:11: stages[0].actions[0].configuration.BranchName: "
	                    "missing (CodeCommit actions need it)");
	assert_string_equal(
	        pl_err(COMMIT_SOURCE("          RepositoryName: site\n"
	                             "          Branch: main\n")),
	        "pipeline.yml:10:11: stages[0].actions[0].configuration: unknown key "
	        "\"Branch\" (did you mean \"BranchName\"? known: RepositoryName, "
	        "BranchName, PollForSourceChanges, OutputArtifactFormat, RepositoryUrl)");
	assert_string_equal(pl_err(BUILD_WITH("          Project: p\n")),
	                    "pipeline.yml:15:11: stages[1].actions[0].configuration: unknown key "
	                    "\"Project\" (did you mean \"ProjectName\"? known: ProjectName, "
	                    "PrimarySource, EnvironmentVariables, BatchEnabled, CombineArtifacts)");
	assert_string_equal(pl_err(HEAD_AND_SOURCE
	                           "  - name: Build\n"
	                           "    actions:\n"
	                           "      - name: Build\n"
	                           "        actionTypeId: {category: Build, owner: AWS, provider: "
	                           "CodeBuild, version: '1'}\n"
	                           "        inputArtifacts: [{name: Src}]\n"),
	                    "pipeline.yml:11:9: stages[1].actions[0].configuration.ProjectName: "
	                    "missing (CodeBuild actions need it)");
}

static void test_source_key_values(void **state)
{
	(void)state;
	assert_string_equal(pl_err(COMMIT_SOURCE("          RepositoryName: site\n"
	                                         "          BranchName: main\n"
	                                         "          PollForSourceChanges: no\n")),
	                    "pipeline.yml:11:33: stages[0].actions[0].configuration."
	                    "PollForSourceChanges: expected true or false, found \"no\"");
	assert_string_equal(pl_err(COMMIT_SOURCE("          RepositoryName: site\n"
	                                         "          BranchName: main\n"
	                                         "          OutputArtifactFormat: ZIP\n")),
	                    "pipeline.yml:11:33: stages[0].actions[0].configuration."
	                    "OutputArtifactFormat: \"ZIP\" is not one of CODE_ZIP, "
	                    "CODEBUILD_CLONE_REF");
	assert_string_equal(pl_err(COMMIT_SOURCE("          RepositoryName: site\n"
	                                         "          BranchName: feature..x\n")),
	                    "pipeline.yml:10:23: stages[0].actions[0].configuration.BranchName: "
	                    "\"feature..x\" is not a valid git branch name");
	assert_string_equal(pl_err(COMMIT_SOURCE("          RepositoryName: site\n"
	                                         "          BranchName: '#{variables.branch}'\n")),
	                    "pipeline.yml:10:23: stages[0].actions[0].configuration.BranchName: "
	                    "must not use #{...} variables: a source's repository and branch are "
	                    "fixed when the pipeline is put");
}

/* Where a git source fetches from (docs/pipeline.md, "Git sources"). */
static void test_git_locations(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		enum pl_repo_kind kind;
	} ok[] = {
	        {"site", PL_REPO_NAME},
	        {"acme/site", PL_REPO_NAME},
	        {"/srv/git/site.git", PL_REPO_PATH},
	        {"https://git.example.com/acme/site.git", PL_REPO_URL},
	        {"ssh://git@git.example.com:2222/acme/site.git", PL_REPO_URL},
	        {"git@github.com:acme/site.git", PL_REPO_URL},
	        {"file:///srv/git/site.git", PL_REPO_URL},
	};
	char text[2048];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(text, sizeof text,
		         COMMIT_SOURCE("          RepositoryName: site\n"
		                       "          BranchName: main\n"
		                       "          RepositoryUrl: '%s'\n"),
		         ok[i].value);
		struct pipeline *p = pl_ok(text);
		const struct pl_action *src = &p->stages[0].actions[0];
		assert_string_equal(src->git.location, ok[i].value);
		assert_int_equal(src->git.location_kind, ok[i].kind);
		assert_string_equal(src->git.repository, "site");
		assert_int_equal(src->git.poll, 1);
		pipeline_free(p);
	}
	/* without RepositoryUrl, RepositoryName is the location */
	struct pipeline *p = pl_ok(COMMIT_SOURCE("          RepositoryName: /srv/git/site.git\n"
	                                         "          BranchName: main\n"
	                                         "          PollForSourceChanges: 'false'\n"
	                                         "          OutputArtifactFormat: "
	                                         "CODEBUILD_CLONE_REF\n"));
	assert_int_equal(p->stages[0].actions[0].git.location_kind, PL_REPO_PATH);
	assert_int_equal(p->stages[0].actions[0].git.poll, 0);
	assert_int_equal(p->stages[0].actions[0].git.detect_changes, 1);
	assert_int_equal(p->stages[0].actions[0].git.clone_ref, 1);
	pipeline_free(p);
}

static void test_git_locations_refused(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(COMMIT_SOURCE(
	                "          RepositoryName: site\n"
	                "          BranchName: main\n"
	                "          RepositoryUrl: https://bot:s3cret@git.example.com/a\n")),
	        "pipeline.yml:11:26: stages[0].actions[0].configuration.RepositoryUrl: "
	        "\"https://bot:s3cret@git.example.com/a\": a URL must not carry a password (it "
	        "would "
	        "show in every answer about the pipeline); use a git credential helper or an SSH "
	        "key");
	assert_string_equal(
	        pl_err(COMMIT_SOURCE("          RepositoryName: ftp://h/site\n"
	                             "          BranchName: main\n")),
	        "pipeline.yml:9:27: stages[0].actions[0].configuration.RepositoryName: "
	        "\"ftp://h/site\": a URL's scheme must be https, http, ssh, git or file");
	assert_string_equal(pl_err(COMMIT_SOURCE("          RepositoryName: ./site\n"
	                                         "          BranchName: main\n")),
	                    "pipeline.yml:9:27: stages[0].actions[0].configuration.RepositoryName: "
	                    "\"./site\": expected a repository name (\"site\", \"acme/site\"), an "
	                    "absolute path or a URL");
}

/* CodeStarSourceConnection: FullRepositoryId owner/repo; ConnectionArn optional in ferry. */
static void test_connection_source(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(CONNECTION_SOURCE("          FullRepositoryId: acme/site\n"
	                                             "          BranchName: main\n"
	                                             "          DetectChanges: 'false'\n"));
	const struct pl_action *src = &p->stages[0].actions[0];
	assert_int_equal(src->git.location_kind, PL_REPO_NAME);
	assert_string_equal(src->git.location, "acme/site");
	assert_null(src->git.connection_arn);
	assert_int_equal(src->git.detect_changes, 0);
	pipeline_free(p);
	assert_string_equal(pl_err(CONNECTION_SOURCE("          FullRepositoryId: site\n"
	                                             "          BranchName: main\n")),
	                    "pipeline.yml:10:29: stages[0].actions[0].configuration."
	                    "FullRepositoryId: expected owner/repository, found \"site\"");
	assert_string_equal(pl_err(CONNECTION_SOURCE("          FullRepositoryId: acme/site\n"
	                                             "          BranchName: main\n"
	                                             "          ConnectionArn: github\n")),
	                    "pipeline.yml:12:26: stages[0].actions[0].configuration.ConnectionArn: "
	                    "expected an ARN (arn:aws:codestar-connections:...), found \"github\"; "
	                    "ferry does not need it, it may be left out");
}

static void test_codebuild_keys(void **state)
{
	(void)state;
	assert_string_equal(pl_err(BUILD_WITH("          ProjectName: my project\n")),
	                    "pipeline.yml:15:24: stages[1].actions[0].configuration.ProjectName: "
	                    "\"my project\" is not a CodeBuild project name (2 to 255 letters, "
	                    "digits, - and _, starting with a letter or digit)");
	assert_string_equal(pl_err(BUILD_WITH("          ProjectName: p1\n"
	                                      "          PrimarySource: Source\n")),
	                    "pipeline.yml:16:26: stages[1].actions[0].configuration.PrimarySource: "
	                    "\"Source\" is not one of the action's input artifacts");
	assert_string_equal(pl_err(BUILD_WITH("          ProjectName: p1\n"
	                                      "          CombineArtifacts: 'true'\n")),
	                    "pipeline.yml:16:29: stages[1].actions[0].configuration."
	                    "CombineArtifacts: only with BatchEnabled true");
	struct pipeline *p = pl_ok(BUILD_WITH("          ProjectName: p1\n"
	                                      "          BatchEnabled: 'true'\n"));
	assert_int_equal(p->warnings.n, 1);
	assert_string_equal(p->warnings.v[0], "pipeline.yml:16:25: BatchEnabled is ignored: ferry "
	                                      "runs the buildspec as one build");
	pipeline_free(p);
}

/* With two inputs, PrimarySource names the one in $CODEBUILD_SRC_DIR (§4.3). */
static void test_primary_source_required(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(CONNECTION_SOURCE(
	                "          FullRepositoryId: acme/site\n"
	                "          BranchName: main\n") "        outputArtifacts: [{name: Out}]\n"
	                                                "  - name: Test\n"
	                                                "    actions:\n"
	                                                "      - name: Test\n"
	                                                "        actionTypeId: {category: Test, "
	                                                "owner: AWS, provider: "
	                                                "CodeBuild, version: '1'}\n"
	                                                "        inputArtifacts: [{name: Src}, "
	                                                "{name: Out}]\n"
	                                                "        configuration: {ProjectName: "
	                                                "site-test}\n"),
	        "pipeline.yml:24:24: stages[2].actions[0].configuration.PrimarySource: "
	        "missing (required with more than one input artifact: it names the one "
	        "extracted into $CODEBUILD_SRC_DIR)");
}

static void test_environment_variables_json(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(BUILD_WITH("          ProjectName: p1\n"
	                          "          EnvironmentVariables: '[{\"name\": \"A\"'\n")),
	        "pipeline.yml:16:33: stages[1].actions[0].configuration."
	        "EnvironmentVariables: not valid JSON ('}' expected near end of "
	        "file at character 13)");
	assert_string_equal(
	        pl_err(BUILD_WITH("          ProjectName: p1\n"
	                          "          EnvironmentVariables: '[{\"name\": \"A\", \"value\": "
	                          "\"x\", \"type\": \"SECRET\"}]'\n")),
	        "pipeline.yml:16:33: "
	        "stages[1].actions[0].configuration.EnvironmentVariables[0].type: "
	        "expected PLAINTEXT, PARAMETER_STORE or SECRETS_MANAGER");
	assert_string_equal(
	        pl_err(BUILD_WITH("          ProjectName: p1\n"
	                          "          EnvironmentVariables: '[{\"name\": \"A\"}]'\n")),
	        "pipeline.yml:16:33: stages[1].actions[0].configuration."
	        "EnvironmentVariables[0]: needs a name and a value");
	assert_string_equal(pl_err(BUILD_WITH("          ProjectName: p1\n"
	                                      "          EnvironmentVariables: '{}'\n")),
	                    "pipeline.yml:16:33: stages[1].actions[0].configuration."
	                    "EnvironmentVariables: expected a JSON list of {\"name\", \"value\", "
	                    "\"type\"}");
}

/* --- references (§3.1) ------------------------------------------------------------ */

#define REF_PIPELINE(value)                                                                        \
	CONNECTION_SOURCE("          FullRepositoryId: acme/site\n"                                \
	                  "          BranchName: main\n")                                          \
	"        outputArtifacts: [{name: Out}]\n"                                                 \
	"        namespace: BuildVars\n"                                                           \
	"  - name: Test\n"                                                                         \
	"    actions:\n"                                                                           \
	"      - name: Test\n"                                                                     \
	"        actionTypeId: {category: Test, owner: AWS, provider: CodeBuild, version: '1'}\n"  \
	"        inputArtifacts: [{name: Out}]\n"                                                  \
	"        configuration:\n"                                                                 \
	"          ProjectName: site-test\n"                                                       \
	"          EnvironmentVariables: '" value "'\n"                                            \
	"variables: [{name: env, defaultValue: prod}]\n"

/* What runs before may be named: earlier stages, the pipeline's variables, the execution. */
static void test_references_accepted(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(REF_PIPELINE(
	        "[{\"name\":\"V\",\"value\":\"#{BuildVars.VERSION}-#{SourceVariables.CommitId}\"},"
	        "{\"name\":\"E\",\"value\":\"#{variables.env}@#{codepipeline.PipelineExecutionId}"
	        "\"}]"));
	pipeline_free(p);
}

/* A reference to a later action's namespace (checklist 22). */
static void test_reference_to_later_namespace(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(CONNECTION_SOURCE(
	                "          FullRepositoryId: acme/site\n"
	                "          BranchName: main\n") "  - name: Test\n"
	                                                "    actions:\n"
	                                                "      - name: Test\n"
	                                                "        actionTypeId: {category: Test, "
	                                                "owner: AWS, provider: CodeBuild, "
	                                                "version: '1'}\n"
	                                                "        inputArtifacts: [{name: Src}]\n"
	                                                "        configuration: {ProjectName: "
	                                                "'p-#{BuildVars.X}'}\n"
	                                                "  - name: Late\n"
	                                                "    actions:\n"
	                                                "      - name: Late\n"
	                                                "        actionTypeId: {category: Test, "
	                                                "owner: AWS, provider: CodeBuild, "
	                                                "version: '1'}\n"
	                                                "        inputArtifacts: [{name: Src}]\n"
	                                                "        configuration: {ProjectName: "
	                                                "site-test}\n"
	                                                "        namespace: BuildVars\n"),
	        "pipeline.yml:23:38: stages[2].actions[0].configuration.ProjectName: "
	        "#{BuildVars.X}: namespace \"BuildVars\" belongs to stages[3].actions[0] "
	        "(\"Late\"), "
	        "which does not run before this action");
}

static void test_reference_errors(void **state)
{
	(void)state;
	assert_string_equal(pl_err(REF_PIPELINE("[{\"name\":\"V\",\"value\":\"#{Nope.X}\"}]")),
	                    "pipeline.yml:27:33: stages[2].actions[0].configuration."
	                    "EnvironmentVariables: #{Nope.X}: no action declares the namespace "
	                    "\"Nope\"");
	assert_string_equal(
	        pl_err(REF_PIPELINE("[{\"name\":\"V\",\"value\":\"#{variables.envv}\"}]")),
	        "pipeline.yml:27:33: stages[2].actions[0].configuration."
	        "EnvironmentVariables: #{variables.envv}: no pipeline variable \"envv\" "
	        "is declared in variables");
	assert_string_equal(
	        pl_err(REF_PIPELINE("[{\"name\":\"V\",\"value\":\"#{codepipeline.Id}\"}]")),
	        "pipeline.yml:27:33: stages[2].actions[0].configuration."
	        "EnvironmentVariables: #{codepipeline.Id}: the codepipeline namespace has "
	        "only PipelineExecutionId");
	assert_string_equal(
	        pl_err(REF_PIPELINE(
	                "[{\"name\":\"V\",\"value\":\"#{SourceVariables.CommitSha}\"}]")),
	        "pipeline.yml:27:33: stages[2].actions[0].configuration.EnvironmentVariables: "
	        "#{SourceVariables.CommitSha}: Source CodeStarSourceConnection actions emit "
	        "AuthorDate, BranchName, CommitId, CommitMessage, ConnectionArn, "
	        "FullRepositoryName");
}

/* --- projects (docs/pipeline.md, "Build projects") --------------------------------- */

static void test_projects_checked(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE
	               "projects:\n"
	               "  site-build: {buildspec: ../ci/buildspec.yml}\n"),
	        "pipeline.yml:16:27: projects.site-build.buildspec: must stay inside the "
	        "source (no \"..\")");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "projects:\n"
	                                           "  site-build: {timeoutInMinutes: 3000}\n"),
	        "pipeline.yml:16:34: projects.site-build.timeoutInMinutes: must be 5 to "
	        "2160, found 3000");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "projects:\n"
	                                           "  site-build: {image: node:20}\n"),
	        "pipeline.yml:16:16: projects.site-build: unknown key \"image\" (known: "
	        "buildspec, environmentVariables, timeoutInMinutes)");
	assert_string_equal(pl_err(HEAD_AND_SOURCE BUILD_STAGE
	                           "projects:\n"
	                           "  site-build:\n"
	                           "    environmentVariables:\n"
	                           "      - {name: A, value: '1'}\n"
	                           "      - {name: A, value: '2', type: PLAINTEXT}\n"),
	                    "pipeline.yml:19:16: projects.site-build.environmentVariables[1].name: "
	                    "\"A\" is already set by projects.site-build.environmentVariables[0]");
	assert_string_equal(pl_err(HEAD_AND_SOURCE BUILD_STAGE
	                           "projects:\n"
	                           "  site-build:\n"
	                           "    environmentVariables:\n"
	                           "      - {name: A, value: x, type: SECRET}\n"),
	                    "pipeline.yml:18:35: projects.site-build.environmentVariables[0].type: "
	                    "\"SECRET\" is not one of PLAINTEXT, PARAMETER_STORE, SECRETS_MANAGER "
	                    "(did you mean \"SECRETS_MANAGER\"?)");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "projects:\n"
	                                           "  site-build:\n"
	                                           "    buildspec: |\n"
	                                           "      version: 0.2\n"
	                                           "      phases: {build: {comands: [make]}}\n"),
	        "pipeline.yml:17:16: projects.site-build.buildspec: the inline buildspec "
	        "is not valid: buildspec:2:18: phases.build: unknown key \"comands\" (did "
	        "you mean \"commands\"? known: run-as, on-failure, runtime-versions, "
	        "commands, finally)");
}

/* A project no action names is probably a misspelt ProjectName: warned. */
static void test_unused_project_warned(void **state)
{
	(void)state;
	struct pipeline *p =
	        pl_ok(HEAD_AND_SOURCE BUILD_STAGE "projects:\n"
	                                          "  site-buidl: {timeoutInMinutes: 10}\n"
	                                          "  site-build:\n");
	assert_null(pipeline_project(p, "site-build")->buildspec);
	assert_ptr_equal(p->stages[1].actions[0].project, pipeline_project(p, "site-build"));
	assert_int_equal(p->warnings.n, 1);
	assert_string_equal(p->warnings.v[0],
	                    "pipeline.yml:16:3: projects.site-buidl: no CodeBuild "
	                    "action has this ProjectName");
	pipeline_free(p);
}

/* timeoutInMinutes of a CodeBuild action means nothing (the project's limit counts). */
static void test_action_timeout_warned(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE "        timeoutInMinutes: 30\n");
	assert_int_equal(p->warnings.n, 1);
	assert_prefix(p->warnings.v[0], "pipeline.yml:15:27: stages[1].actions[0].timeoutInMinutes "
	                                "is ignored");
	pipeline_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_one_stage_refused),
	        cmocka_unit_test(test_stage_and_action_limits),
	        cmocka_unit_test(test_first_stage_only_sources),
	        cmocka_unit_test(test_source_outside_first_stage),
	        cmocka_unit_test(test_duplicate_names),
	        cmocka_unit_test(test_input_must_be_produced),
	        cmocka_unit_test(test_input_produced_later),
	        cmocka_unit_test(test_input_from_same_run_order),
	        cmocka_unit_test(test_output_names_unique),
	        cmocka_unit_test(test_artifact_counts),
	        cmocka_unit_test(test_namespaces),
	        cmocka_unit_test(test_unknown_provider),
	        cmocka_unit_test(test_later_providers_refused),
	        cmocka_unit_test(test_s3_deploy_accepted),
	        cmocka_unit_test(test_action_type_mismatches),
	        cmocka_unit_test(test_required_and_unknown_keys),
	        cmocka_unit_test(test_source_key_values),
	        cmocka_unit_test(test_git_locations),
	        cmocka_unit_test(test_git_locations_refused),
	        cmocka_unit_test(test_connection_source),
	        cmocka_unit_test(test_codebuild_keys),
	        cmocka_unit_test(test_primary_source_required),
	        cmocka_unit_test(test_environment_variables_json),
	        cmocka_unit_test(test_references_accepted),
	        cmocka_unit_test(test_reference_to_later_namespace),
	        cmocka_unit_test(test_reference_errors),
	        cmocka_unit_test(test_projects_checked),
	        cmocka_unit_test(test_unused_project_warned),
	        cmocka_unit_test(test_action_timeout_warned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
