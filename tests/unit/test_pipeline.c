/* Unit tests for spec/pipeline: reading a declaration (the fixture in JSON and YAML,
 * bare and wrapped forms), field checks of spec §1.1, the pipeline type of §1.5,
 * pipeline variables (§1.6), `#{ns.key}` resolution (§3.1), writing JSON back.
 * Structure and providers: test_pipeline_rules.c; triggers: test_pipeline_triggers.c. */
#include "test_pipeline.h"

/* --- the fixture ----------------------------------------------------------------- */

/* get-pipeline's output with ferry's projects reads into every field. */
static void test_fixture_json_reads_everything(void **state)
{
	(void)state;
	struct pipeline *p = pl_fixture("pipeline-static-site.json");
	assert_string_equal(p->name, "static-site");
	assert_int_equal(p->type, PL_V2);
	assert_int_equal(p->execution_mode, PL_QUEUED);
	assert_int_equal(p->version, 3);
	assert_int_equal(p->nstores, 1);
	assert_string_equal(p->stores[0].location, "codepipeline-eu-west-1-123456789012");
	assert_int_equal(p->nstages, 3);

	const struct pl_action *src = pipeline_action(p, "Source", "Source");
	assert_non_null(src);
	assert_int_equal(src->provider->kind, PL_KIND_CONNECTION);
	assert_string_equal(src->git.repository, "acme/www");
	assert_string_equal(src->git.location, "/srv/git/www.git");
	assert_int_equal(src->git.location_kind, PL_REPO_PATH);
	assert_string_equal(src->git.branch, "main");
	assert_int_equal(src->git.clone_ref, 0);
	assert_int_equal(src->git.detect_changes, 1);
	assert_string_equal(src->outputs.v[0], "SourceArtifact");

	const struct pl_action *build = pipeline_action(p, "Build", "Build");
	assert_int_equal(build->provider->kind, PL_KIND_CODEBUILD);
	assert_non_null(build->project);
	assert_string_equal(build->project->buildspec, "ci/buildspec.yml");
	assert_int_equal(build->project->buildspec_inline, 0);
	assert_int_equal(build->project->timeout_minutes, 20);
	assert_int_equal(build->project->nenv, 2);
	assert_string_equal(build->project->env[1].type, "PARAMETER_STORE");
	assert_string_equal(build->project->env[0].type, "PLAINTEXT");
	assert_ptr_equal(pipeline_namespace_action(p, "BuildVariables"), build);

	const struct pl_action *link = pipeline_action(p, "Test", "LinkCheck");
	assert_int_equal(link->project->buildspec_inline, 1);
	assert_contains(link->project->buildspec, "lychee --offline public");
	const struct pl_action *lh = pipeline_action(p, "Test", "Lighthouse");
	assert_null(lh->project); /* not in projects: CodeBuild's defaults */
	assert_string_equal(pipeline_config(lh, "PrimarySource"), "SourceArtifact");
	const struct pl_action *smoke = pipeline_action(p, "Test", "Smoke");
	assert_int_equal(smoke->run_order, 2);
	assert_true(pipeline_runs_before(link, smoke));
	assert_false(pipeline_runs_before(link, lh));

	assert_int_equal(p->nvariables, 1);
	assert_string_equal(p->variables[0].default_value, "production");
	assert_int_equal(p->ntriggers, 1);
	assert_ptr_equal(p->triggers[0].source, src);
	assert_ptr_equal(pipeline_trigger_for(p, src), &p->triggers[0]);
	assert_int_equal(p->warnings.n, 1);
	assert_prefix(p->warnings.v[0], "pipeline-static-site.json:");
	assert_contains(p->warnings.v[0], "metadata is kept by the server");
	pipeline_free(p);
}

/* The YAML fixture (anchors, merge keys, block scalars) is the same pipeline. */
static void test_fixture_yaml_equals_json(void **state)
{
	(void)state;
	struct pipeline *j = pl_fixture("pipeline-static-site.json");
	struct pipeline *y = pl_fixture("pipeline-static-site.yml");
	char *tj = pipeline_to_string(j, PIPELINE_JSON_FILE);
	char *ty = pipeline_to_string(y, PIPELINE_JSON_FILE);
	assert_string_equal(ty, tj);
	free(tj);
	free(ty);
	pipeline_free(j);
	pipeline_free(y);
}

/* What is written reads back to the same text: `pipeline get` prints what was put. */
static void test_json_round_trip(void **state)
{
	(void)state;
	struct pipeline *p = pl_fixture("pipeline-static-site.json");
	char *once = pipeline_to_string(p, PIPELINE_JSON_FILE);
	struct pipeline *q = NULL;
	struct err err;
	assert_int_equal(pipeline_parse(once, strlen(once), "again.json", NULL, &q, &err), 0);
	char *twice = pipeline_to_string(q, PIPELINE_JSON_FILE);
	assert_string_equal(twice, once);
	free(once);
	free(twice);
	pipeline_free(p);
	pipeline_free(q);
}

/* Characters YAML would read as line breaks or refuse are written escaped, so that the
 * text reads back the same (found by fuzz_pipeline: a YAML "\N" came back a space). */
static void test_json_escapes_what_yaml_would_change(void **state)
{
	(void)state;
	struct pipeline *p =
	        pl_ok(HEAD_AND_SOURCE BUILD_STAGE
	              "variables: [{name: a, description: \"x\\N\\L\\P\\x80\\x7f\\uFEFF "
	              "caf\\u00e9\"}]\n");
	assert_string_equal(
	        p->variables[0].description,
	        "x\xc2\x85\xe2\x80\xa8\xe2\x80\xa9\xc2\x80\x7f\xef\xbb\xbf caf\xc3\xa9");
	char *text = pipeline_to_string(p, PIPELINE_JSON_COMPACT);
	assert_contains(text, "\"description\":\"x\\u0085\\u2028\\u2029\\u0080\\u007f\\ufeff "
	                      "caf\xc3\xa9\"");
	struct pipeline *q = pl_ok(text);
	assert_string_equal(q->variables[0].description, p->variables[0].description);
	free(text);
	pipeline_free(p);
	pipeline_free(q);
}

/* Keys come in botocore's order whatever the file's order; the configuration keeps
 * the file's. */
static void test_json_key_order(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok("stages:\n"
	                           "  - actions:\n"
	                           "      - configuration: {BranchName: main, RepositoryName: r}\n"
	                           "        outputArtifacts: [{name: Src}]\n"
	                           "        actionTypeId: {version: '1', provider: CodeCommit, "
	                           "owner: AWS, category: Source}\n"
	                           "        name: Get\n"
	                           "    name: Source\n" BUILD_STAGE "pipelineType: V1\n"
	                           "name: site\n");
	char *text = pipeline_to_string(p, PIPELINE_JSON_COMPACT);
	assert_string_equal(
	        text,
	        "{\"name\":\"site\",\"stages\":[{\"name\":\"Source\",\"actions\":[{\"name\":"
	        "\"Get\","
	        "\"actionTypeId\":{\"category\":\"Source\",\"owner\":\"AWS\",\"provider\":"
	        "\"CodeCommit\",\"version\":\"1\"},\"runOrder\":1,\"configuration\":{"
	        "\"BranchName\":"
	        "\"main\",\"RepositoryName\":\"r\"},\"outputArtifacts\":[{\"name\":\"Src\"}],"
	        "\"inputArtifacts\":[]}]},{\"name\":\"Build\",\"actions\":[{\"name\":\"Build\","
	        "\"actionTypeId\":{\"category\":\"Build\",\"owner\":\"AWS\",\"provider\":"
	        "\"CodeBuild\",\"version\":\"1\"},\"runOrder\":1,\"configuration\":{"
	        "\"ProjectName\":"
	        "\"site-build\"},\"outputArtifacts\":[],\"inputArtifacts\":[{\"name\":\"Src\"}]}]}]"
	        ","
	        "\"executionMode\":\"SUPERSEDED\",\"pipelineType\":\"V1\"}\n");
	free(text);
	pipeline_free(p);
}

/* A server-managed version is written only when set; callers stamp their own. */
static void test_json_version(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE);
	json_t *j = pipeline_to_json(p);
	assert_null(json_object_get(j, "version"));
	json_object_set_new(j, "version", json_integer(7));
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 7);
	json_decref(j);
	pipeline_free(p);
	p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE "version: 4\n");
	j = pipeline_to_json(p);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 4);
	json_decref(j);
	pipeline_free(p);
}

/* --- document forms -------------------------------------------------------------- */

/* A bare declaration may carry ferry's projects beside its keys. */
static void test_bare_declaration_with_projects(void **state)
{
	(void)state;
	struct pipeline *p =
	        pl_ok(HEAD_AND_SOURCE BUILD_STAGE
	              "projects:\n"
	              "  site-build: {buildspec: ci/build.yml, timeoutInMinutes: 15}\n");
	const struct pl_action *b = pipeline_action(p, "Build", "Build");
	assert_non_null(b->project);
	assert_string_equal(b->project->buildspec, "ci/build.yml");
	char *text = pipeline_to_string(p, PIPELINE_JSON_FILE | PIPELINE_JSON_COMPACT);
	assert_contains(text, ",\"projects\":{\"site-build\":{\"buildspec\":\"ci/build.yml\","
	                      "\"timeoutInMinutes\":15}}}");
	free(text);
	pipeline_free(p);
}

/* Wrapped, projects sit beside `pipeline`, not inside it; create-pipeline's tags are kept. */
static void test_wrapped_form(void **state)
{
	(void)state;
	const char *msg = pl_err("pipeline:\n"
	                         "  name: site\n"
	                         "  projects: {}\n");
	assert_string_equal(msg, "pipeline.yml:3:3: top level: unknown key \"projects\" (known: "
	                         "name, roleArn, artifactStore, artifactStores, stages, version, "
	                         "executionMode, pipelineType, variables, triggers)");
	msg = pl_err("pipeline: {name: site}\nmetdata: {}\n");
	assert_string_equal(msg, "pipeline.yml:2:1: top level: unknown key \"metdata\" (did you "
	                         "mean \"metadata\"? known: pipeline, metadata, tags, projects, "
	                         "notifications)");
	struct pipeline *p =
	        pl_ok("tags: [{key: team, value: web}]\n"
	              "pipeline:\n"
	              "  name: site\n"
	              "  stages:\n"
	              "  - name: Source\n"
	              "    actions:\n"
	              "      - name: Source\n"
	              "        actionTypeId: {category: Source, owner: AWS, provider: "
	              "CodeCommit, version: '1'}\n"
	              "        configuration: {RepositoryName: site, BranchName: main}\n"
	              "        outputArtifacts: [{name: Src}]\n" BUILD_STAGE);
	assert_int_equal(p->ntags, 1);
	char *text = pipeline_to_string(p, PIPELINE_JSON_FILE | PIPELINE_JSON_COMPACT);
	assert_contains(text, "\"tags\":[{\"key\":\"team\",\"value\":\"web\"}]");
	free(text);
	pipeline_free(p);
}

static void test_empty_and_non_mapping_files(void **state)
{
	(void)state;
	assert_string_equal(pl_err(""), "pipeline.yml:1:1: the file is empty (expected a pipeline "
	                                "declaration)");
	assert_string_equal(pl_err("- a\n"), "pipeline.yml:1:1: expected a pipeline declaration (a "
	                                     "mapping with name and stages), found a list");
	assert_string_equal(pl_err("pipeline: [1]\n"),
	                    "pipeline.yml:1:11: expected the pipeline declaration (a mapping with "
	                    "name and stages), found a list");
	assert_string_equal(
	        pl_err("stages: []\n"),
	        "pipeline.yml:1:9: stages: a pipeline needs at least 2 stages (a Source "
	        "stage and one more), found 0");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "name: again\n"),
	        "pipeline.yml:15:1: duplicate key \"name\" (first at line 1, column 1)");
}

/* The file is capped at PIPELINE_FILE_MAX. */
static void test_file_cap(void **state)
{
	(void)state;
	size_t n = PIPELINE_FILE_MAX + 1;
	char *big = xmalloc(n + 1);
	memset(big, ' ', n);
	big[n] = '\0';
	struct pipeline *p = NULL;
	struct err err;
	assert_int_equal(pipeline_parse(big, n, "big.json", NULL, &p, &err), -1);
	assert_string_equal(err.msg, "big.json: larger than 1048576 bytes (PIPELINE_FILE_MAX)");
	free(big);
}

/* A JSON syntax error names the line and column. */
static void test_json_syntax_error(void **state)
{
	(void)state;
	const char *msg = pl_err("{\n  \"name\": \"site\",\n  \"stages\": [,]\n}\n");
	assert_prefix(msg, "pipeline.yml:3:");
}

/* --- fields (spec §1.1) ---------------------------------------------------------- */

static void test_pipeline_name_checked(void **state)
{
	(void)state;
	assert_string_equal(pl_err("name: my site\n"),
	                    "pipeline.yml:1:7: name: \"my site\" may use only letters, digits, ., "
	                    "@, - and _");
	char text[256];
	snprintf(text, sizeof text, "name: %0101d\n", 0);
	assert_string_equal(pl_err(text),
	                    "pipeline.yml:1:7: name: at most 100 characters, found 101");
	assert_string_equal(
	        pl_err("stages: []\nname: ''\n"),
	        "pipeline.yml:1:9: stages: a pipeline needs at least 2 stages (a Source "
	        "stage and one more), found 0");
	assert_string_equal(pl_err("name: ''\n"), "pipeline.yml:1:7: name: must not be empty");
	assert_string_equal(pl_err("{stages: [{}, {}]}\n"),
	                    "pipeline.yml:1:11: stages[0].name: missing (each stage needs a name)");
}

static void test_missing_top_fields(void **state)
{
	(void)state;
	assert_string_equal(pl_err("name: site\n"),
	                    "pipeline.yml:1:1: stages: missing (a Source stage and at least one "
	                    "more)");
	assert_string_equal(pl_err("stages: [{name: a, actions: []}, {name: b, actions: []}]\n"),
	                    "pipeline.yml:1:29: stages[0].actions: a stage needs at least one "
	                    "action");
}

/* Unknown keys fail with the known ones and a likely fix. */
static void test_unknown_keys(void **state)
{
	(void)state;
	assert_string_equal(pl_err("name: site\nstage: []\n"),
	                    "pipeline.yml:2:1: top level: unknown key \"stage\" (did you mean "
	                    "\"stages\"? known: name, roleArn, artifactStore, artifactStores, "
	                    "stages, version, executionMode, pipelineType, variables, triggers, "
	                    "projects, notifications)");
	const char *msg = pl_err("name: site\n"
	                         "stages:\n"
	                         "  - name: Source\n"
	                         "    actions:\n"
	                         "      - name: Source\n"
	                         "        actionTypeID: {}\n" BUILD_STAGE);
	assert_prefix(msg, "pipeline.yml:6:9: stages[0].actions[0]: unknown key \"actionTypeID\" "
	                   "(did you mean \"actionTypeId\"?");
}

/* Each action field is checked against botocore's pattern and range. */
static void test_action_fields_checked(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE "        runOrder: 1000\n" BUILD_STAGE),
	        "pipeline.yml:9:19: stages[0].actions[0].runOrder: must be 1 to 999, found 1000");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE "        runOrder: first\n" BUILD_STAGE),
	        "pipeline.yml:9:19: stages[0].actions[0].runOrder: expected a whole number, found "
	        "\"first\"");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE "        namespace: 'Source.Vars'\n" BUILD_STAGE),
	        "pipeline.yml:9:20: stages[0].actions[0].namespace: \"Source.Vars\" may "
	        "use only letters, digits, @, - and _");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE "        timeoutInMinutes: 4\n" BUILD_STAGE),
	        "pipeline.yml:9:27: stages[0].actions[0].timeoutInMinutes: must be 5 to "
	        "86400, found 4");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE "        roleArn: arn:aws:iam::1234:role/x\n" BUILD_STAGE),
	        "pipeline.yml:9:18: stages[0].actions[0].roleArn: \"arn:aws:iam::1234:"
	        "role/x\" is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>); "
	        "ferry keeps it and never uses it");
	assert_string_equal(pl_err("name: site\n"
	                           "stages:\n"
	                           "  - name: Source\n"
	                           "    actions:\n"
	                           "      - name: Get Source\n" BUILD_STAGE),
	                    "pipeline.yml:5:15: stages[0].actions[0].name: \"Get Source\" may use "
	                    "only letters, "
	                    "digits, ., @, - and _");
	assert_string_equal(pl_err("name: site\n"
	                           "stages:\n"
	                           "  - name: Source\n"
	                           "    actions:\n"
	                           "      - name: Source\n"
	                           "        actionTypeId: {category: Source, owner: AWS, provider: "
	                           "Code.Commit, "
	                           "version: '1'}\n" BUILD_STAGE),
	                    "pipeline.yml:6:64: stages[0].actions[0].actionTypeId.provider: "
	                    "\"Code.Commit\" may "
	                    "use only letters, digits, _ and -");
	assert_string_equal(
	        pl_err("name: site\n"
	               "stages:\n"
	               "  - name: Source\n"
	               "    actions:\n"
	               "      - name: Source\n"
	               "        actionTypeId: {category: Sources, owner: AWS}\n" BUILD_STAGE),
	        "pipeline.yml:6:34: stages[0].actions[0].actionTypeId.category: \"Sources\" is not "
	        "one of Source, Build, Deploy, Test, Invoke, Approval, Compute (did you mean "
	        "\"Source\"?)");
	assert_string_equal(
	        pl_err("name: site\n"
	               "stages:\n"
	               "  - name: Source\n"
	               "    actions:\n"
	               "      - name: Source\n"
	               "        actionTypeId: {category: Source, owner: AWS, provider: "
	               "CodeCommit}\n" BUILD_STAGE),
	        "pipeline.yml:6:23: stages[0].actions[0].actionTypeId.version: missing (\"1\" for "
	        "every AWS provider)");
}

/* Configuration: a map of strings, keys 1-50, values 1-1000 characters. */
static void test_configuration_checked(void **state)
{
	(void)state;
	char text[4096], value[1002];
	memset(value, 'x', 1001);
	value[1001] = '\0';
	snprintf(text, sizeof text,
	         "name: site\n"
	         "stages:\n"
	         "  - name: Source\n"
	         "    actions:\n"
	         "      - name: Source\n"
	         "        configuration:\n"
	         "          RepositoryName: %s\n" BUILD_STAGE,
	         value);
	assert_string_equal(pl_err(text), "pipeline.yml:7:27: stages[0].actions[0].configuration."
	                                  "RepositoryName: at most 1000 characters, found 1001");
	assert_string_equal(pl_err("name: site\n"
	                           "stages:\n"
	                           "  - name: Source\n"
	                           "    actions:\n"
	                           "      - name: Source\n"
	                           "        configuration: {BranchName: }\n" BUILD_STAGE),
	                    "pipeline.yml:6:37: stages[0].actions[0].configuration.BranchName: "
	                    "expected a string, found null");
	assert_string_equal(pl_err("name: site\n"
	                           "stages:\n"
	                           "  - name: Source\n"
	                           "    actions:\n"
	                           "      - name: Source\n"
	                           "        configuration: {BranchName: [main]}\n" BUILD_STAGE),
	                    "pipeline.yml:6:37: stages[0].actions[0].configuration.BranchName: "
	                    "expected a string, found a list");
	/* JSON booleans and numbers are scalars: kept as written */
	struct pipeline *p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE);
	pipeline_free(p);
}

static void test_artifact_names_checked(void **state)
{
	(void)state;
	assert_string_equal(pl_err("name: site\n"
	                           "stages:\n"
	                           "  - name: Source\n"
	                           "    actions:\n"
	                           "      - name: Source\n"
	                           "        outputArtifacts: [{name: Source.zip}]\n" BUILD_STAGE),
	                    "pipeline.yml:6:34: stages[0].actions[0].outputArtifacts[0].name: "
	                    "\"Source.zip\" may use only letters, digits, _ and -");
	assert_string_equal(
	        pl_err("name: site\n"
	               "stages:\n"
	               "  - name: Source\n"
	               "    actions:\n"
	               "      - name: Source\n"
	               "        outputArtifacts: [{name: A}, {name: A}]\n" BUILD_STAGE),
	        "pipeline.yml:6:45: stages[0].actions[0].outputArtifacts[1].name: \"A\" "
	        "is listed twice");
	assert_string_equal(
	        pl_err("name: site\n"
	               "stages:\n"
	               "  - name: Source\n"
	               "    actions:\n"
	               "      - name: Source\n"
	               "        outputArtifacts: [{name: A, files: [x]}]\n" BUILD_STAGE),
	        "pipeline.yml:6:44: stages[0].actions[0].outputArtifacts[0].files: only "
	        "Compute actions take files, and ferry does not run Compute actions yet");
}

/* artifactStore: S3 with a bucket name; exactly one of artifactStore/artifactStores. */
static void test_artifact_stores(void **state)
{
	(void)state;
	assert_string_equal(pl_err("artifactStore: {type: S3, location: ab}\n"),
	                    "pipeline.yml:1:37: artifactStore.location: at least 3 characters, "
	                    "found 2");
	assert_string_equal(pl_err("artifactStore: {type: GCS, location: abc}\n"),
	                    "pipeline.yml:1:23: artifactStore.type: \"GCS\" is not one of S3");
	assert_string_equal(
	        pl_err("artifactStore: {type: S3, location: abc}\n"
	               "artifactStores: {eu-west-1: {type: S3, location: abc}}\n"),
	        "pipeline.yml:1:1: artifactStore: give artifactStore or artifactStores, "
	        "not both");
	struct pipeline *p =
	        pl_ok(HEAD_AND_SOURCE BUILD_STAGE
	              "artifactStores:\n"
	              "  eu-west-1: {type: S3, location: eu-bucket}\n"
	              "  us-east-1: {type: S3, location: us-bucket, encryptionKey: {id: "
	              "alias/k, type: KMS}}\n");
	assert_string_equal(pipeline_artifact_store(p, "us-east-1")->location, "us-bucket");
	assert_null(pipeline_artifact_store(p, "ap-south-1"));
	assert_int_equal(p->warnings.n, 1); /* KMS is not applied */
	pipeline_free(p);

	/* with ferry's region set, the map must hold it and actions must be in it */
	struct pipeline_opts opts = {.region = "ap-south-1"};
	struct err err;
	const char *t = HEAD_AND_SOURCE BUILD_STAGE "artifactStores: {eu-west-1: {type: S3, "
	                                            "location: eu-bucket}}\n";
	assert_int_equal(pipeline_parse(t, strlen(t), "p.yml", &opts, &p, &err), -1);
	assert_string_equal(err.msg, "p.yml:15:17: artifactStores: has no store for ferry's region "
	                             "\"ap-south-1\"");
	t = HEAD_AND_SOURCE "        region: us-east-1\n" BUILD_STAGE;
	assert_int_equal(pipeline_parse(t, strlen(t), "p.yml", &opts, &p, &err), -1);
	assert_string_equal(err.msg,
	                    "p.yml:9:17: stages[0].actions[0].region: ferry runs every "
	                    "action in its own region \"ap-south-1\"; cross-region actions "
	                    "are not supported");
}

/* roleArn and artifactStore may be left out: ferry uses neither. */
static void test_role_and_store_optional(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE);
	assert_null(p->role_arn);
	assert_null(pipeline_artifact_store(p, NULL));
	assert_int_equal(p->warnings.n, 0);
	pipeline_free(p);
}

/* Not yet: stage conditions, stage rollback, Compute fields; refused by name. */
static void test_later_features_refused(void **state)
{
	(void)state;
	assert_string_equal(pl_err(HEAD_AND_SOURCE BUILD_STAGE "    onSuccess: {conditions: []}\n"),
	                    "pipeline.yml:15:5: stages[1].onSuccess: stage conditions come in a "
	                    "later version of ferry");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "    onFailure: {result: ROLLBACK}\n"),
	        "pipeline.yml:15:25: stages[1].onFailure.result: stage rollback "
	        "(ROLLBACK) comes in a later version of ferry");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE "        commands: [make]\n" BUILD_STAGE),
	        "pipeline.yml:9:9: stages[0].actions[0].commands: only Compute actions "
	        "(provider Commands) take commands, and they come in a later version of "
	        "ferry");
}

/* onFailure RETRY (automatic retry) is kept, with its mode. */
static void test_on_failure_retry(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(
	        HEAD_AND_SOURCE BUILD_STAGE
	        "    onFailure: {result: RETRY, retryConfiguration: {retryMode: ALL_ACTIONS}}\n");
	assert_int_equal(p->stages[1].on_failure, PL_ONFAIL_RETRY);
	assert_int_equal(p->stages[1].retry_mode, PL_RETRY_ALL_ACTIONS);
	assert_int_equal(p->type, PL_V2); /* onFailure is V2-only (§1.5) */
	char *text = pipeline_to_string(p, PIPELINE_JSON_COMPACT);
	assert_contains(text, "\"onFailure\":{\"result\":\"RETRY\",\"retryConfiguration\":{"
	                      "\"retryMode\":\"ALL_ACTIONS\"}}");
	free(text);
	pipeline_free(p);
	assert_string_equal(pl_err(HEAD_AND_SOURCE BUILD_STAGE
	                           "    onFailure: {result: FAIL, retryConfiguration: "
	                           "{}}\n"),
	                    "pipeline.yml:15:51: stages[1].onFailure.retryConfiguration: only with "
	                    "result RETRY");
}

/* --- pipeline type (spec §1.5) --------------------------------------------------- */

static void test_type_inferred(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE);
	assert_int_equal(p->type, PL_V1);
	assert_int_equal(p->execution_mode, PL_SUPERSEDED);
	pipeline_free(p);
	p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE "executionMode: PARALLEL\n");
	assert_int_equal(p->type, PL_V2);
	assert_int_equal(p->execution_mode, PL_PARALLEL);
	pipeline_free(p);
	p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE "variables: [{name: env, defaultValue: prod}]\n");
	assert_int_equal(p->type, PL_V2);
	pipeline_free(p);
	/* SUPERSEDED is V1's own mode */
	p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE "executionMode: SUPERSEDED\npipelineType: V1\n");
	assert_int_equal(p->type, PL_V1);
	pipeline_free(p);
}

/* An explicit V1 with a V2-only field is refused (checklist 10). */
static void test_v1_with_v2_fields_refused(void **state)
{
	(void)state;
	assert_string_equal(pl_err(HEAD_AND_SOURCE BUILD_STAGE "pipelineType: V1\n"
	                                                       "executionMode: QUEUED\n"),
	                    "pipeline.yml:16:16: executionMode QUEUED needs pipelineType V2 (this "
	                    "pipeline says V1)");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "variables: [{name: env, defaultValue: prod}]\n"
	                                           "pipelineType: V1\n"),
	        "pipeline.yml:15:1: variables needs pipelineType V2 (this pipeline says "
	        "V1)");
	assert_string_equal(pl_err(HEAD_AND_SOURCE BUILD_STAGE "pipelineType: V3\n"),
	                    "pipeline.yml:15:15: pipelineType: \"V3\" is not one of V1, V2 (did "
	                    "you mean \"V1\"?)");
}

/* --- pipeline variables (spec §1.6) ---------------------------------------------- */

static void test_variable_declarations_checked(void **state)
{
	(void)state;
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "variables: [{name: my.var}]\n"),
	        "pipeline.yml:15:20: variables[0].name: \"my.var\" may use only letters, "
	        "digits, @, - and _");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "variables: [{name: a}, {name: a}]\n"),
	        "pipeline.yml:15:31: variables[1].name: \"a\" is already declared by "
	        "variables[0]");
	assert_string_equal(
	        pl_err(HEAD_AND_SOURCE BUILD_STAGE "variables: [{name: a, defaultValue: ''}]\n"),
	        "pipeline.yml:15:37: variables[0].defaultValue: must not be empty");
	char text[2048], desc[202];
	memset(desc, 'd', 201);
	desc[201] = '\0';
	snprintf(text, sizeof text,
	         HEAD_AND_SOURCE BUILD_STAGE "variables: [{name: a, "
	                                     "description: %s}]\n",
	         desc);
	assert_string_equal(pl_err(text), "pipeline.yml:15:36: variables[0].description: at most "
	                                  "200 characters, found 201");
}

static const char *bound(const struct pl_kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, name) == 0)
			return kv[i].value;
	return NULL;
}

/* An execution's variables: overrides win, defaults fill in (checklist 21). */
static void test_variables_bind(void **state)
{
	(void)state;
	struct pipeline *p =
	        pl_ok(HEAD_AND_SOURCE BUILD_STAGE "variables:\n"
	                                          "  - {name: env, defaultValue: prod}\n"
	                                          "  - {name: region, defaultValue: eu}\n");
	struct pl_kv *kv;
	size_t n;
	struct err err;
	assert_int_equal(pipeline_vars_bind(p, NULL, 0, &kv, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(bound(kv, n, "env"), "prod");
	pipeline_kv_free(kv, n);
	struct pl_kv given[] = {{.key = "env", .value = "staging"}};
	assert_int_equal(pipeline_vars_bind(p, given, 1, &kv, &n, &err), 0);
	assert_string_equal(bound(kv, n, "env"), "staging");
	assert_string_equal(bound(kv, n, "region"), "eu");
	pipeline_kv_free(kv, n);
	pipeline_free(p);
}

/* Undeclared, repeated, empty, or missing without a default: refused (§1.6). */
static void test_variables_bind_refusals(void **state)
{
	(void)state;
	struct pipeline *p = pl_ok(HEAD_AND_SOURCE BUILD_STAGE "variables:\n"
	                                                       "  - {name: env}\n");
	struct pl_kv *kv;
	size_t n;
	struct err err;
	assert_int_equal(pipeline_vars_bind(p, NULL, 0, &kv, &n, &err), -1);
	assert_string_equal(err.msg, "variables: \"env\" has no defaultValue, so each execution "
	                             "must give it a value");
	struct pl_kv undeclared[] = {{.key = "envv", .value = "x"}};
	assert_int_equal(pipeline_vars_bind(p, undeclared, 1, &kv, &n, &err), -1);
	assert_string_equal(err.msg, "variables[0].name: pipeline site declares no variable "
	                             "\"envv\"");
	struct pl_kv empty[] = {{.key = "env", .value = ""}};
	assert_int_equal(pipeline_vars_bind(p, empty, 1, &kv, &n, &err), -1);
	assert_string_equal(err.msg, "variables[0].value: must not be empty");
	struct pl_kv twice[] = {{.key = "env", .value = "a"}, {.key = "env", .value = "b"}};
	assert_int_equal(pipeline_vars_bind(p, twice, 2, &kv, &n, &err), -1);
	assert_string_equal(err.msg, "variables[1].name: \"env\" is given twice");
	assert_null(kv);
	pipeline_free(p);
}

/* --- #{ns.key} (spec §3.1) ------------------------------------------------------- */

static const char *lookup(void *ctx, const char *ns, const char *key)
{
	(void)ctx;
	if (strcmp(ns, "codepipeline") == 0 && strcmp(key, "PipelineExecutionId") == 0)
		return "3d0b8a36-9c1f-4f0e-a7a4-1b2c3d4e5f60";
	if (strcmp(ns, "SourceVariables") == 0 && strcmp(key, "CommitId") == 0)
		return "4f2e1d0c";
	if (strcmp(ns, "variables") == 0 && strcmp(key, "loop") == 0)
		return "#{variables.loop}";
	return NULL;
}

static char *resolved(const char *text)
{
	char *out = NULL;
	struct err err;
	if (pipeline_vars_resolve(text, lookup, NULL, &out, &err) != 0)
		fail_msg("%s", err.msg);
	return out;
}

/* References are replaced; other text, a lone `#{` included, stays (checklist 20). */
static void test_vars_resolve(void **state)
{
	(void)state;
	char *s = resolved("build-#{SourceVariables.CommitId}-#{codepipeline.PipelineExecutionId}");
	assert_string_equal(s, "build-4f2e1d0c-3d0b8a36-9c1f-4f0e-a7a4-1b2c3d4e5f60");
	free(s);
	s = resolved("#{ a.b } #{a} #{a.b.c} #{ #{#{SourceVariables.CommitId}} # {x.y}");
	assert_string_equal(s, "#{ a.b } #{a} #{a.b.c} #{ #{4f2e1d0c} # {x.y}");
	free(s);
	/* one pass: a value that looks like a reference is not resolved again */
	s = resolved("#{variables.loop}");
	assert_string_equal(s, "#{variables.loop}");
	free(s);
	s = resolved("");
	assert_string_equal(s, "");
	free(s);
}

static void test_vars_resolve_failures(void **state)
{
	(void)state;
	char *out = NULL;
	struct err err;
	assert_int_equal(pipeline_vars_resolve("v=#{BuildVars.VERSION}", lookup, NULL, &out, &err),
	                 -1);
	assert_string_equal(err.msg, "Unable to resolve variable #{BuildVars.VERSION}");
	assert_null(out);
	/* the cap on a resolved value */
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_puts(&b, "#{codepipeline.PipelineExecutionId}"), 0);
	assert_int_equal(pipeline_vars_resolve(b.data, lookup, NULL, &out, &err), -1);
	assert_string_equal(err.msg, "the resolved value is larger than 102400 bytes "
	                             "(PIPELINE_RESOLVED_MAX)");
	buf_free(&b);
}

static void test_vars_refs(void **state)
{
	(void)state;
	struct strv refs = STRV_INIT;
	pipeline_vars_refs("[{\"value\":\"#{S.CommitId}\"},#{S.CommitId}#{variables.env}#{x}",
	                   &refs);
	assert_int_equal(refs.n, 3);
	assert_string_equal(refs.v[0], "S.CommitId");
	assert_string_equal(refs.v[1], "S.CommitId");
	assert_string_equal(refs.v[2], "variables.env");
	strv_free(&refs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fixture_json_reads_everything),
	        cmocka_unit_test(test_fixture_yaml_equals_json),
	        cmocka_unit_test(test_json_round_trip),
	        cmocka_unit_test(test_json_escapes_what_yaml_would_change),
	        cmocka_unit_test(test_json_key_order),
	        cmocka_unit_test(test_json_version),
	        cmocka_unit_test(test_bare_declaration_with_projects),
	        cmocka_unit_test(test_wrapped_form),
	        cmocka_unit_test(test_empty_and_non_mapping_files),
	        cmocka_unit_test(test_file_cap),
	        cmocka_unit_test(test_json_syntax_error),
	        cmocka_unit_test(test_pipeline_name_checked),
	        cmocka_unit_test(test_missing_top_fields),
	        cmocka_unit_test(test_unknown_keys),
	        cmocka_unit_test(test_action_fields_checked),
	        cmocka_unit_test(test_configuration_checked),
	        cmocka_unit_test(test_artifact_names_checked),
	        cmocka_unit_test(test_artifact_stores),
	        cmocka_unit_test(test_role_and_store_optional),
	        cmocka_unit_test(test_later_features_refused),
	        cmocka_unit_test(test_on_failure_retry),
	        cmocka_unit_test(test_type_inferred),
	        cmocka_unit_test(test_v1_with_v2_fields_refused),
	        cmocka_unit_test(test_variable_declarations_checked),
	        cmocka_unit_test(test_variables_bind),
	        cmocka_unit_test(test_variables_bind_refusals),
	        cmocka_unit_test(test_vars_resolve),
	        cmocka_unit_test(test_vars_resolve_failures),
	        cmocka_unit_test(test_vars_refs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
