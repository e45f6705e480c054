/* Unit tests for spec/buildspec: the env, artifacts, reports and cache sections,
 * version 0.1, and whole-file properties (../shared/spec/buildspec.md §2, §6–8). */
#include "bs_testutil.h"

/* --- env (spec §2.1–2.2) ---------------------------------------------------------- */

/* CODEBUILD_* names are reserved: dropped from env sections with a warning. */
static void test_codebuild_names_dropped(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "env:\n"
	                             "  variables:\n"
	                             "    CODEBUILD_BUILD_ID: mine\n"
	                             "    KEEP: 1\n"
	                             "  parameter-store:\n"
	                             "    CODEBUILD_X: /p\n"
	                             "phases: {build: {commands: [make]}}\n");
	assert_int_equal(bs->nvariables, 1);
	assert_string_equal(bs->variables[0].name, "KEEP");
	assert_int_equal(bs->nparameter_store, 0);
	assert_int_equal(bs->warnings.n, 2);
	assert_prefix(bs->warnings.v[0], "buildspec.yml:4:5: env.variables.CODEBUILD_BUILD_ID: ");
	buildspec_free(bs);
}

/* Names must be shell names; values must be scalars. */
static void test_variable_name_and_value_checked(void **state)
{
	(void)state;
	assert_prefix(bs_err("version: 0.2\nenv:\n  variables:\n    MY-VAR: x\n"
	                     "phases: {build: {commands: [make]}}\n"),
	              "buildspec.yml:4:5: env.variables: \"MY-VAR\" is not a valid variable name");
	assert_prefix(bs_err("version: 0.2\nenv:\n  variables:\n    V: {a: b}\n"
	                     "phases: {build: {commands: [make]}}\n"),
	              "buildspec.yml:4:8: env.variables.V: expected a string, found a mapping");
	assert_prefix(bs_err("version: 0.2\nenv:\n  parameter-store:\n    TOKEN:\n"
	                     "phases: {build: {commands: [make]}}\n"),
	              "buildspec.yml:4:11: env.parameter-store.TOKEN: expected a parameter name, "
	              "found null");
}

/* parameter-store and secrets-manager keep their references as written. */
static void test_parameter_and_secret_references(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "env:\n"
	                             "  parameter-store:\n"
	                             "    TOKEN: /CodeBuild/token\n"
	                             "  secrets-manager:\n"
	                             "    DB: 'prod/db:password::'\n"
	                             "phases: {build: {commands: [make]}}\n");
	assert_int_equal(bs->nparameter_store, 1);
	assert_string_equal(bs->parameter_store[0].value, "/CodeBuild/token");
	assert_string_equal(bs->secrets_manager[0].name, "DB");
	assert_string_equal(bs->secrets_manager[0].value, "prod/db:password::");
	buildspec_free(bs);
}

/* exported-variables: AWS_* cannot be exported (dropped with a warning); CODEBUILD_* can. */
static void test_exported_variables(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "env:\n"
	                             "  exported-variables:\n"
	                             "    - IMAGE_TAG\n"
	                             "    - AWS_REGION\n"
	                             "    - CODEBUILD_BUILD_NUMBER\n"
	                             "phases: {build: {commands: [make]}}\n");
	assert_int_equal(bs->exported_variables.n, 2);
	assert_string_equal(bs->exported_variables.v[0], "IMAGE_TAG");
	assert_string_equal(bs->exported_variables.v[1], "CODEBUILD_BUILD_NUMBER");
	assert_int_equal(bs->warnings.n, 1);
	assert_prefix(bs->warnings.v[0],
	              "buildspec.yml:5:7: env.exported-variables[1]: AWS_REGION");
	buildspec_free(bs);
}

/* env.shell: bash, sh (the default, NULL), /bin/sh or an absolute path; Windows refused. */
static void test_env_shell(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\nenv: {shell: bash}\nphases: {build: {}}\n");
	assert_string_equal(bs->shell, "bash");
	buildspec_free(bs);
	bs = bs_ok("version: 0.2\nenv: {shell: sh}\nphases: {build: {}}\n");
	assert_null(bs->shell);
	buildspec_free(bs);
	bs = bs_ok("version: 0.2\nenv: {shell: /usr/bin/zsh}\nphases: {build: {}}\n");
	assert_string_equal(bs->shell, "/usr/bin/zsh");
	buildspec_free(bs);
	assert_prefix(bs_err("version: 0.2\nenv:\n  shell: powershell.exe\nphases: {build: {}}\n"),
	              "buildspec.yml:3:10: env.shell: \"powershell.exe\" is a Windows shell");
	assert_contains(bs_err("version: 0.2\nenv: {shell: PWSH}\nphases: {build: {}}\n"),
	                "is a Windows shell");
	assert_contains(bs_err("version: 0.2\nenv: {shell: fish}\nphases: {build: {}}\n"),
	                "is not a shell ferry knows");
}

/* --- artifacts, reports, cache (spec §6–8) ---------------------------------------- */

/* All artifact keys land in the struct; yes/no words in any case (spec §2 [F]). */
static void test_artifacts_fields(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases: {build: {commands: [make]}}\n"
	                             "artifacts:\n"
	                             "  files:\n"
	                             "    - '**/*'\n"
	                             "  name: site-$(date +%s)\n"
	                             "  base-directory: dist\n"
	                             "  discard-paths: YES\n"
	                             "  enable-symlinks: True\n"
	                             "  exclude-paths: ['**/.*', tmp/**/*]\n");
	struct bs_artifacts *a = &bs->artifacts;
	assert_null(a->identifier);
	assert_string_equal(a->name, "site-$(date +%s)");
	assert_string_equal(a->base_directory, "dist");
	assert_true(a->discard_paths);
	assert_true(a->enable_symlinks);
	assert_int_equal(a->exclude_paths.n, 2);
	assert_int_equal(a->line, 3);
	assert_int_equal(bs->warnings.n, 0);
	buildspec_free(bs);
}

/* A yes/no field with another word is an error. */
static void test_yes_no_field_rejects_other_words(void **state)
{
	(void)state;
	assert_prefix(bs_err("version: 0.2\nphases: {build: {}}\n"
	                     "artifacts: {files: [a], discard-paths: maybe}\n"),
	              "buildspec.yml:3:40: artifacts.discard-paths: expected yes or no, found "
	              "\"maybe\"");
}

/* secondary-artifacts are parsed per identifier, each needing files. */
static void test_secondary_artifacts(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases: {build: {commands: [make]}}\n"
	                             "artifacts:\n"
	                             "  files: [main.zip]\n"
	                             "  secondary-artifacts:\n"
	                             "    BuildOutput:\n"
	                             "      files: [app/**/*]\n"
	                             "      discard-paths: no\n"
	                             "    Docs:\n"
	                             "      base-directory: docs\n"
	                             "      files: '**/*'\n");
	assert_int_equal(bs->nsecondary, 2);
	assert_string_equal(bs->secondary[0].identifier, "BuildOutput");
	assert_string_equal(bs->secondary[1].identifier, "Docs");
	assert_string_equal(bs->secondary[1].base_directory, "docs");
	buildspec_free(bs);
	assert_prefix(bs_err("version: 0.2\nphases: {build: {}}\nartifacts:\n  files: [a]\n"
	                     "  secondary-artifacts:\n    Out:\n      name: x\n"),
	              "buildspec.yml:6:5: artifacts.secondary-artifacts.Out: files is required");
}

/* secondary-artifacts without a top-level files is an error (spec §6.1, gotcha 20). */
static void test_secondary_without_files(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\n"
	                         "phases: {build: {commands: [make]}}\n"
	                         "artifacts:\n"
	                         "  secondary-artifacts:\n"
	                         "    A: {files: [a.txt]}\n");
	assert_prefix(msg, "buildspec.yml:3:1: artifacts: files is required");
}

/* Secondary artifact sets cannot nest. */
static void test_secondary_cannot_nest(void **state)
{
	(void)state;
	assert_contains(bs_err("version: 0.2\nphases: {build: {}}\nartifacts:\n  files: [a]\n"
	                       "  secondary-artifacts:\n    A:\n      files: [b]\n"
	                       "      secondary-artifacts: {B: {files: [c]}}\n"),
	                "secondary-artifacts cannot be nested");
}

/* Report groups: file-format upper-cased, JUNITXML by default, files required (spec §8). */
static void test_reports(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases: {build: {commands: [make test]}}\n"
	                             "reports:\n"
	                             "  unit:\n"
	                             "    files: ['**/*.xml']\n"
	                             "    base-directory: reports\n"
	                             "  coverage:\n"
	                             "    files: coverage.xml\n"
	                             "    file-format: coberturaxml\n"
	                             "    discard-paths: yes\n");
	assert_int_equal(bs->nreports, 2);
	assert_string_equal(bs->reports[0].name, "unit");
	assert_string_equal(bs->reports[0].file_format, "JUNITXML");
	assert_string_equal(bs->reports[1].file_format, "COBERTURAXML");
	assert_true(bs->reports[1].discard_paths);
	buildspec_free(bs);
	assert_contains(bs_err("version: 0.2\nphases: {build: {}}\n"
	                       "reports: {unit: {files: [a], file-format: JUNIT}}\n"),
	                "\"JUNIT\" is not a report format");
	assert_prefix(bs_err("version: 0.2\nphases: {build: {}}\nreports:\n  unit:\n"
	                     "    base-directory: r\n"),
	              "buildspec.yml:4:3: reports.unit: files is required");
}

/* cache: key, up to five fallback keys, restore|save, paths (spec §7). */
static void test_cache(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases: {build: {commands: [make]}}\n"
	                             "cache:\n"
	                             "  key: npm-$(codebuild-hash-files package-lock.json)\n"
	                             "  fallback-keys: [npm-]\n"
	                             "  action: restore\n"
	                             "  paths: ['/root/.npm/**/*']\n");
	assert_true(bs->cache.present);
	assert_string_equal(bs->cache.key, "npm-$(codebuild-hash-files package-lock.json)");
	assert_int_equal(bs->cache.fallback_keys.n, 1);
	assert_string_equal(bs->cache.action, "restore");
	assert_string_equal(bs->cache.paths.v[0], "/root/.npm/**/*");
	buildspec_free(bs);
	assert_contains(bs_err("version: 0.2\nphases: {build: {}}\n"
	                       "cache: {fallback-keys: [a, b, c, d, e, f]}\n"),
	                "at most 5 keys");
	assert_contains(bs_err("version: 0.2\nphases: {build: {}}\ncache: {action: both}\n"),
	                "expected restore or save");
	assert_contains(bs_err("version: 0.2\nphases: {build: {}}\ncache: {kye: a}\n"),
	                "did you mean \"key\"?");
}

/* --- version 0.1 (spec §1.3) ------------------------------------------------------ */

/* 0.1: v01 set, environment_variables.plaintext are variables, artifacts type ignored. */
static void test_version_01_mapping(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.1\n"
	                             "environment_variables:\n"
	                             "  plaintext:\n"
	                             "    JAVA_HOME: /usr/lib/jvm/java-8\n"
	                             "phases:\n"
	                             "  build:\n"
	                             "    commands: [mvn package]\n"
	                             "artifacts:\n"
	                             "  type: zip\n"
	                             "  files: [target/app.jar]\n");
	assert_true(bs->v01);
	assert_string_equal(bs->version, "0.1");
	assert_string_equal(var(bs, "JAVA_HOME"), "/usr/lib/jvm/java-8");
	assert_int_equal(bs->warnings.n, 1);
	assert_prefix(bs->warnings.v[0], "buildspec.yml:9:3: artifacts.type is ignored");
	buildspec_free(bs);
}

/* environment_variables in a 0.2 file points to the 0.2 spelling. */
static void test_v01_names_in_v02(void **state)
{
	(void)state;
	assert_prefix(bs_err("version: 0.2\nenvironment_variables: {plaintext: {A: b}}\n"
	                     "phases: {build: {}}\n"),
	              "buildspec.yml:2:1: environment_variables is version 0.1's name");
}

/* --- messages, names, loading ----------------------------------------------------- */

/* Every error starts with exactly "buildspec.yml:LINE:COL: " (STYLE.md, DESIGN principle 1). */
static void test_every_error_has_file_line_col(void **state)
{
	(void)state;
	static const char *const broken[] = {
	        "version: 0.2\nphases:\n\tbuild:\n",
	        "version: 0.2\nphases: [a]\n",
	        "version: 0.2\nphases: {build: {commands: [{a: b}]}}\n",
	        "version: 0.2\nphases: {build: {commands: [[a]]}}\n",
	        "version: 0.2\nphases: {build: {run-as: [a]}}\n",
	        "version: 0.2\nphases: {build: {on-failure: RETRY-x(}}\n",
	        "version: 0.2\nrun-as:\nphases: {build: {}}\n",
	        "version: [0.2]\nphases: {build: {}}\n",
	        "version: 2\nphases: {build: {}}\n",
	        "version: 0.2\nenv: {variables: [A]}\nphases: {build: {}}\n",
	        "version: 0.2\nenv: {exported-variables: {A: b}}\nphases: {build: {}}\n",
	        "version: 0.2\nenv: {exported-variables: [1A]}\nphases: {build: {}}\n",
	        "version: 0.2\nenv: {git-credential-helper: sometimes}\nphases: {build: {}}\n",
	        "version: 0.2\nartifacts: {files: {a: b}}\nphases: {build: {}}\n",
	        "version: 0.2\nartifacts: {files: [a], name: [x]}\nphases: {build: {}}\n",
	        "version: 0.2\nartifacts: {files: [a], secondary-artifacts: [x]}\nphases: {}\n",
	        "version: 0.2\nreports: [x]\nphases: {build: {}}\n",
	        "version: 0.2\nreports: {r: {files: a, bogus: 1}}\nphases: {build: {}}\n",
	        "version: 0.2\ncache: {paths: [[a]]}\nphases: {build: {}}\n",
	        "version: 0.2\ncache: {kye: a}\nphases: {build: {}}\n",
	        "version: 0.2\nphases: {build: {commands: \"a\\0b\"}}\n",
	        "version: 0.2\nphases: {build: {}}\n---\nversion: 0.2\n",
	        "version: 0.2\nphases: {build: {commands: *nope}}\n",
	        "version: 0.2\nphases: {build: {commands: [\"unterminated]}}\n",
	};
	regex_t rx;
	assert_int_equal(
	        regcomp(&rx, "^buildspec\\.yml:[1-9][0-9]*:[1-9][0-9]*: [^ ]", REG_EXTENDED), 0);
	for (size_t i = 0; i < sizeof broken / sizeof *broken; i++) {
		struct buildspec *bs = NULL;
		struct err err = {{0}};
		int rc = buildspec_parse(broken[i], strlen(broken[i]), "buildspec.yml", &bs, &err);
		if (rc != -1)
			fail_msg("case %zu parsed but must fail: %s", i, broken[i]);
		if (regexec(&rx, err.msg, 0, NULL, 0) != 0)
			fail_msg("case %zu: message without file:line:col: \"%s\"", i, err.msg);
		if (strchr(err.msg, '\n'))
			fail_msg("case %zu: message spans lines: \"%s\"", i, err.msg);
	}
	regfree(&rx);
}

/* The phase name helpers used by the runner's log lines (spec §3.5). */
static void test_phase_names(void **state)
{
	(void)state;
	assert_string_equal(bs_phase_type(BS_INSTALL), "INSTALL");
	assert_string_equal(bs_phase_type(BS_POST_BUILD), "POST_BUILD");
	assert_string_equal(bs_phase_key(BS_PRE_BUILD), "pre_build");
	assert_string_equal(bs_phase_key(BS_BUILD), "build");
}

/* A realistic buildspec: every section at once, run-as inherited or per phase. */
static void test_realistic_buildspec(void **state)
{
	(void)state;
	struct buildspec *bs =
	        bs_ok("version: 0.2\n"
	              "run-as: builder\n"
	              "env:\n"
	              "  shell: bash\n"
	              "  variables:\n"
	              "    IMAGE: app\n"
	              "  exported-variables: [IMAGE_TAG]\n"
	              "phases:\n"
	              "  pre_build:\n"
	              "    run-as: root\n"
	              "    commands:\n"
	              "      - IMAGE_TAG=$(git rev-parse --short HEAD)\n"
	              "  build:\n"
	              "    on-failure: CONTINUE\n"
	              "    commands:\n"
	              "      - docker build -t \"$IMAGE:$IMAGE_TAG\" .\n"
	              "    finally:\n"
	              "      - docker image prune -f\n"
	              "  post_build:\n"
	              "    commands:\n"
	              "      - printf '[{\"name\":\"app\"}]' > imagedefinitions.json\n"
	              "artifacts:\n"
	              "  files: imagedefinitions.json\n");
	assert_string_equal(bs->run_as, "builder");
	assert_string_equal(bs->phases[BS_PRE_BUILD].run_as, "root");
	assert_null(bs->phases[BS_BUILD].run_as);
	assert_false(bs->phases[BS_INSTALL].present);
	assert_int_equal(bs->phases[BS_BUILD].nfinally, 1);
	assert_string_equal(bs->phases[BS_POST_BUILD].commands[0].text,
	                    "printf '[{\"name\":\"app\"}]' > imagedefinitions.json");
	assert_int_equal(bs->warnings.n, 0);
	assert_string_equal(bs->filename, "buildspec.yml");
	buildspec_free(bs);
}

/* buildspec_load() reads a file and names it as `shown`; oversized files are refused. */
static void test_load_from_file(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	tu_write(dir, "ci/build.yml", "version: 0.2\nphases:\n  build:\n    comands: [x]\n");
	char *path = fs_join(dir, "ci/build.yml");
	struct buildspec *bs = NULL;
	struct err err;
	assert_int_equal(buildspec_load(path, "ci/build.yml", &bs, &err), -1);
	assert_prefix(err.msg, "ci/build.yml:4:5: ");
	tu_write(dir, "ci/build.yml", "version: 0.2\nphases: {build: {commands: [make]}}\n");
	assert_int_equal(buildspec_load(path, "ci/build.yml", &bs, &err), 0);
	assert_string_equal(bs->filename, "ci/build.yml");
	buildspec_free(bs);
	assert_int_equal(buildspec_parse("x", BUILDSPEC_FILE_MAX + 1, "big.yml", &bs, &err), -1);
	assert_contains(err.msg, "BUILDSPEC_FILE_MAX");
	free(path);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_codebuild_names_dropped),
	        cmocka_unit_test(test_variable_name_and_value_checked),
	        cmocka_unit_test(test_parameter_and_secret_references),
	        cmocka_unit_test(test_exported_variables),
	        cmocka_unit_test(test_env_shell),
	        cmocka_unit_test(test_artifacts_fields),
	        cmocka_unit_test(test_yes_no_field_rejects_other_words),
	        cmocka_unit_test(test_secondary_artifacts),
	        cmocka_unit_test(test_secondary_without_files),
	        cmocka_unit_test(test_secondary_cannot_nest),
	        cmocka_unit_test(test_reports),
	        cmocka_unit_test(test_cache),
	        cmocka_unit_test(test_version_01_mapping),
	        cmocka_unit_test(test_v01_names_in_v02),
	        cmocka_unit_test(test_every_error_has_file_line_col),
	        cmocka_unit_test(test_phase_names),
	        cmocka_unit_test(test_realistic_buildspec),
	        cmocka_unit_test(test_load_from_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
