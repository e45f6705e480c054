/* Unit tests for spec/buildspec: a buildspec.yml checked into struct buildspec
 * (../shared/spec/buildspec.md §1–2, checklist items named per test). */
#include "testutil.h"

#include <regex.h>

#include "spec/buildspec.h"

static struct buildspec *bs_ok(const char *yaml)
{
	struct buildspec *bs = NULL;
	struct err err = {{0}};
	if (buildspec_parse(yaml, strlen(yaml), "buildspec.yml", &bs, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	return bs;
}

/* The error of a parse that must fail (static storage, valid until the next call). */
static const char *bs_err(const char *yaml)
{
	static struct err err;
	struct buildspec *bs = NULL;
	memset(&err, 0, sizeof err);
	assert_int_equal(buildspec_parse(yaml, strlen(yaml), "buildspec.yml", &bs, &err), -1);
	assert_null(bs);
	return err.msg;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void assert_prefix(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

static const char *var(const struct buildspec *bs, const char *name)
{
	for (size_t i = 0; i < bs->nvariables; i++)
		if (strcmp(bs->variables[i].name, name) == 0)
			return bs->variables[i].value;
	return NULL;
}

static struct bs_phase_spec *build_phase(struct buildspec *bs)
{
	return &bs->phases[BS_BUILD];
}

/* --- YAML-level behaviour users run into (spec §1.2, §11) ------------------------ */

/* A tab-indented buildspec fails with the parser's message and line:col (checklist 4). */
static void test_tab_indentation_fails_with_position(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\nphases:\n\tbuild:\n\t\tcommands: [make]\n");
	assert_prefix(msg, "buildspec.yml:3:1: ");
	assert_contains(msg, "found character that cannot start any token");
}

/* Unquoted `echo a: b` is a mapping, refused with CodeBuild's Commands[i] (checklist 5). */
static void test_unquoted_colon_command_names_commands_index(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\n"
	                         "phases:\n"
	                         "  build:\n"
	                         "    commands:\n"
	                         "      - echo a: b\n");
	assert_prefix(msg,
	              "buildspec.yml:5:9: phases.build.commands[0]: expected a string, found a "
	              "mapping");
	assert_contains(msg, "Commands[0]");
	assert_contains(msg, "quote the command");
}

/* The index in the message is the item's own: the third command is Commands[2]. */
static void test_mapping_command_index_is_item_index(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\n"
	                         "phases:\n"
	                         "  post_build:\n"
	                         "    finally:\n"
	                         "      - make\n"
	                         "      - 'ok: quoted'\n"
	                         "      - curl -H Accept: json\n");
	assert_prefix(msg, "buildspec.yml:7:9: phases.post_build.finally[2]: ");
	assert_contains(msg, "Finally[2]");
}

/* YAML 1.1 booleans are not converted: FLAG: NO is "NO" (checklist 6, gotcha 14). */
static void test_flag_no_stays_no(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "env:\n"
	                             "  variables:\n"
	                             "    FLAG: NO\n"
	                             "    ON: yes\n"
	                             "phases: {build: {commands: [echo $FLAG]}}\n");
	assert_string_equal(var(bs, "FLAG"), "NO");
	assert_string_equal(var(bs, "ON"), "yes");
	buildspec_free(bs);
}

/* Numbers keep their text: 1.20 is not 1.2 (spec §1.2). */
static void test_number_text_kept(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "env: {variables: {GO: 1.20, PY: 3.10, N: 007}}\n"
	                             "phases: {build: {commands: [go version]}}\n");
	assert_string_equal(var(bs, "GO"), "1.20");
	assert_string_equal(var(bs, "PY"), "3.10");
	assert_string_equal(var(bs, "N"), "007");
	buildspec_free(bs);
}

/* Variable values are literal: `$PATH:/x` is kept as written (checklist 7). */
static void test_variable_value_literal(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "env:\n"
	                             "  variables:\n"
	                             "    P: $PATH:/x\n"
	                             "phases: {build: {commands: [echo $P]}}\n");
	assert_string_equal(var(bs, "P"), "$PATH:/x");
	assert_int_equal(bs->variables[0].line, 4);
	assert_int_equal(bs->variables[0].col, 5);
	buildspec_free(bs);
}

/* A single scalar where a list is expected is a one-item list (checklist 9). */
static void test_scalar_lists_are_one_item(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases:\n"
	                             "  build:\n"
	                             "    commands: 'echo hi'\n"
	                             "artifacts:\n"
	                             "  files: x.txt\n");
	assert_int_equal(build_phase(bs)->ncommands, 1);
	assert_string_equal(build_phase(bs)->commands[0].text, "echo hi");
	assert_int_equal(bs->artifacts.files.n, 1);
	assert_string_equal(bs->artifacts.files.v[0], "x.txt");
	assert_true(bs->has_artifacts);
	buildspec_free(bs);
}

/* A `- |` item is one command, its lines verbatim (spec §4.3). */
static void test_block_command_verbatim(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases:\n"
	                             "  build:\n"
	                             "    commands:\n"
	                             "      - |\n"
	                             "        set -e\n"
	                             "        make: all\n"
	                             "      - echo done\n");
	assert_int_equal(build_phase(bs)->ncommands, 2);
	assert_string_equal(build_phase(bs)->commands[0].text, "set -e\nmake: all\n");
	assert_int_equal(build_phase(bs)->commands[1].line, 8);
	buildspec_free(bs);
}

/* A null item (`- ` with nothing) is an empty command, with a warning (spec §1.2 [F]). */
static void test_null_command_item_warns(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases:\n"
	                             "  build:\n"
	                             "    commands:\n"
	                             "      - make\n"
	                             "      -\n");
	assert_int_equal(build_phase(bs)->ncommands, 2);
	assert_string_equal(build_phase(bs)->commands[1].text, "");
	assert_int_equal(bs->warnings.n, 1);
	assert_prefix(bs->warnings.v[0],
	              "buildspec.yml:6:8: phases.build.commands[1]: empty command");
	buildspec_free(bs);
}

/* JSON buildspecs (as CDK writes them) parse like YAML ones (spec §1.2). */
static void test_json_buildspec(void **state)
{
	(void)state;
	struct buildspec *bs =
	        bs_ok("{\n"
	              "  \"version\": \"0.2\",\n"
	              "  \"phases\": {\n"
	              "    \"install\": {\"commands\": [\"npm ci\"]},\n"
	              "    \"build\": {\"commands\": [\"npx cdk synth\"]}\n"
	              "  },\n"
	              "  \"artifacts\": {\"base-directory\": \"cdk.out\", \"files\": "
	              "\"**/*\"}\n"
	              "}\n");
	assert_string_equal(bs->version, "0.2");
	assert_string_equal(bs->phases[BS_INSTALL].commands[0].text, "npm ci");
	assert_string_equal(build_phase(bs)->commands[0].text, "npx cdk synth");
	assert_string_equal(bs->artifacts.base_directory, "cdk.out");
	assert_string_equal(bs->artifacts.files.v[0], "**/*");
	buildspec_free(bs);
}

/* --- keys, phases and versions ---------------------------------------------------- */

/* An unknown key is an error naming its path, with the nearest known key (ferry's rule). */
static void test_unknown_key_suggests(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\n"
	                         "phases:\n"
	                         "  build:\n"
	                         "    comands:\n"
	                         "      - make\n");
	assert_prefix(msg, "buildspec.yml:4:5: phases.build: unknown key \"comands\" (did you mean "
	                   "\"commands\"?");
}

/* Far from any known key, the message lists the known ones instead. */
static void test_unknown_top_key_lists_known(void **state)
{
	(void)state;
	const char *msg =
	        bs_err("version: 0.2\ndeploy: yes\nphases: {build: {commands: [make]}}\n");
	assert_prefix(msg, "buildspec.yml:2:1: top level: unknown key \"deploy\" (known: version,");
}

/* Only the four phases exist (spec §2.3). */
static void test_unknown_phase(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\nphases:\n  deploy:\n    commands: [make]\n");
	assert_string_equal(msg, "buildspec.yml:3:3: phases: unknown phase \"deploy\" (known: "
	                         "install, pre_build, build, post_build)");
	assert_contains(bs_err("version: 0.2\nphases:\n  pre-build: {commands: [x]}\n"),
	                "did you mean \"pre_build\"?");
}

/* A version other than 0.2/0.1 is an error naming its line (spec §1.3). */
static void test_wrong_version(void **state)
{
	(void)state;
	const char *msg = bs_err("# ci\nversion: 0.3\nphases: {build: {commands: [make]}}\n");
	assert_prefix(msg, "buildspec.yml:2:10: version: \"0.3\" is not a buildspec version");
}

/* A buildspec without version is refused (spec §1.3). */
static void test_missing_version(void **state)
{
	(void)state;
	const char *msg = bs_err("phases:\n  build:\n    commands: [make]\n");
	assert_prefix(msg, "buildspec.yml:1:1: version: missing");
}

/* version may be the number 0.2 or the string "0.2" (spec §1.2). */
static void test_version_number_or_string(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: \"0.2\"\nphases: {build: {commands: [make]}}\n");
	assert_string_equal(bs->version, "0.2");
	assert_false(bs->v01);
	buildspec_free(bs);
}

/* phases is required (spec §2 table). */
static void test_missing_phases(void **state)
{
	(void)state;
	assert_prefix(bs_err("version: 0.2\n"), "buildspec.yml:1:1: phases: missing");
	assert_prefix(bs_err(""), "buildspec.yml:1:1: the buildspec is empty");
	assert_prefix(bs_err("- version\n"), "buildspec.yml:1:1: expected a mapping");
}

/* A key written twice is an error at the second one. */
static void test_duplicate_key(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\n"
	                         "phases:\n"
	                         "  build:\n"
	                         "    commands: [a]\n"
	                         "  build:\n"
	                         "    commands: [b]\n");
	assert_string_equal(msg, "buildspec.yml:5:3: duplicate key \"build\" (first at line 3, "
	                         "column 3)");
}

/* A billion-laughs alias bomb is refused instead of eating memory (DESIGN principle 4). */
static void test_alias_bomb_refused(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\n"
	                         "x: &a [l, l, l, l, l, l, l, l, l, l]\n"
	                         "y: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                         "z: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                         "w: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                         "v: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                         "u: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                         "t: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                         "phases: {build: {commands: *g}}\n");
	assert_prefix(msg, "buildspec.yml:");
	assert_contains(msg, "YTREE_NODES_MAX");
}

/* Anchors shared between phases work (aliases are copies). */
static void test_aliases_shared_between_phases(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases:\n"
	                             "  install:\n"
	                             "    commands: &setup [npm ci, npm run lint]\n"
	                             "  build:\n"
	                             "    commands: *setup\n");
	assert_int_equal(build_phase(bs)->ncommands, 2);
	assert_string_equal(build_phase(bs)->commands[1].text, "npm run lint");
	buildspec_free(bs);
}

/* A phase may hold only finally (real buildspecs do; spec §2.3). */
static void test_phase_with_only_finally(void **state)
{
	(void)state;
	struct buildspec *bs =
	        bs_ok("version: 0.2\nphases:\n  post_build:\n    finally: [rm -rf tmp]\n");
	assert_true(bs->phases[BS_POST_BUILD].present);
	assert_false(bs->phases[BS_BUILD].present);
	assert_int_equal(bs->phases[BS_POST_BUILD].ncommands, 0);
	assert_int_equal(bs->phases[BS_POST_BUILD].nfinally, 1);
	buildspec_free(bs);
}

/* commands as a mapping gets the type message of STYLE.md. */
static void test_commands_mapping_type_error(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\n"
	                         "phases:\n"
	                         "  build:\n"
	                         "    commands:\n"
	                         "      echo: hi\n");
	assert_prefix(msg, "buildspec.yml:5:7: phases.build.commands: expected a list of strings, "
	                   "found a mapping");
}

/* --- on-failure (spec §2.3) ------------------------------------------------------- */

static struct buildspec *with_on_failure(const char *value)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "version: 0.2\nphases:\n  build:\n    on-failure: %s\n    commands: [make]\n",
	         value);
	return bs_ok(yaml);
}

static const char *on_failure_err(const char *value)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
	         "version: 0.2\nphases:\n  build:\n    on-failure: %s\n    commands: [make]\n",
	         value);
	return bs_err(yaml);
}

/* ABORT and CONTINUE, any case. */
static void test_on_failure_abort_continue(void **state)
{
	(void)state;
	struct buildspec *bs = with_on_failure("ABORT");
	assert_int_equal(build_phase(bs)->on_failure, BS_ONFAIL_ABORT);
	buildspec_free(bs);
	bs = with_on_failure("continue");
	assert_int_equal(build_phase(bs)->on_failure, BS_ONFAIL_CONTINUE);
	buildspec_free(bs);
	bs = bs_ok("version: 0.2\nphases: {build: {commands: [make]}}\n");
	assert_int_equal(build_phase(bs)->on_failure, BS_ONFAIL_DEFAULT);
	buildspec_free(bs);
}

/* RETRY alone: 3 retries, any message. */
static void test_on_failure_retry_default(void **state)
{
	(void)state;
	struct buildspec *bs = with_on_failure("RETRY");
	assert_int_equal(build_phase(bs)->on_failure, BS_ONFAIL_RETRY);
	assert_int_equal(build_phase(bs)->retry_count, 3);
	assert_null(build_phase(bs)->retry_regex);
	buildspec_free(bs);
}

/* RETRY-<count>, RETRY-<regex>, and AWS's own `Retry-` spelling. */
static void test_on_failure_retry_count_or_regex(void **state)
{
	(void)state;
	struct buildspec *bs = with_on_failure("RETRY-0");
	assert_int_equal(build_phase(bs)->retry_count, 0);
	assert_null(build_phase(bs)->retry_regex);
	buildspec_free(bs);
	bs = with_on_failure("Retry-100");
	assert_int_equal(build_phase(bs)->retry_count, 100);
	buildspec_free(bs);
	bs = with_on_failure("RETRY-.*throttl.*");
	assert_int_equal(build_phase(bs)->retry_count, 3);
	assert_string_equal(build_phase(bs)->retry_regex, ".*throttl.*");
	buildspec_free(bs);
	bs = with_on_failure("RETRY-5abc");
	assert_int_equal(build_phase(bs)->retry_count, 3);
	assert_string_equal(build_phase(bs)->retry_regex, "5abc");
	buildspec_free(bs);
}

/* RETRY-<count>-<regex>: digits then `-`, the rest is the regex (even with more dashes). */
static void test_on_failure_retry_count_and_regex(void **state)
{
	(void)state;
	struct buildspec *bs = with_on_failure("RETRY-5-.*timeout.*");
	assert_int_equal(build_phase(bs)->on_failure, BS_ONFAIL_RETRY);
	assert_int_equal(build_phase(bs)->retry_count, 5);
	assert_string_equal(build_phase(bs)->retry_regex, ".*timeout.*");
	buildspec_free(bs);
	bs = with_on_failure("RETRY-2-exit-status-[0-9]+");
	assert_int_equal(build_phase(bs)->retry_count, 2);
	assert_string_equal(build_phase(bs)->retry_regex, "exit-status-[0-9]+");
	buildspec_free(bs);
}

/* A count over 100, a regex that does not compile, other words: errors at the value. */
static void test_on_failure_errors(void **state)
{
	(void)state;
	assert_prefix(on_failure_err("RETRY-101"), "buildspec.yml:4:17: phases.build.on-failure: "
	                                           "a retry count is at most 100");
	assert_prefix(on_failure_err("RETRY-99999999999999999999999"),
	              "buildspec.yml:4:17: phases.build.on-failure: a retry count");
	assert_contains(on_failure_err("RETRY-5-(unclosed"), "the retry regex does not compile");
	assert_contains(on_failure_err("RETRY-5-"), "the regex after RETRY- is empty");
	assert_contains(on_failure_err("RETRY-a{99}{99}{99}"), "too large");
	assert_contains(on_failure_err("STOP"), "expected ABORT, CONTINUE, RETRY");
	assert_contains(on_failure_err("RETRYING"), "expected ABORT, CONTINUE, RETRY");
}

/* --- ignored keys and warnings ---------------------------------------------------- */

/* runtime-versions is accepted in install with a warning saying why (spec §2.3). */
static void test_runtime_versions_warns(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "phases:\n"
	                             "  install:\n"
	                             "    runtime-versions:\n"
	                             "      nodejs: 18\n"
	                             "      python: 3.10\n"
	                             "    commands: [npm ci]\n");
	assert_int_equal(bs->warnings.n, 1);
	assert_string_equal(bs->warnings.v[0], "buildspec.yml:4:5: runtime-versions is ignored: "
	                                       "ferry runs on this machine's tools");
	buildspec_free(bs);
}

/* runtime-versions outside install is an error (spec §2.3: install only). */
static void test_runtime_versions_outside_install(void **state)
{
	(void)state;
	const char *msg = bs_err("version: 0.2\n"
	                         "phases:\n"
	                         "  build:\n"
	                         "    runtime-versions: {java: corretto17}\n");
	assert_prefix(msg, "buildspec.yml:4:5: phases.build.runtime-versions: runtime-versions is "
	                   "allowed only in the install phase");
}

/* proxy, batch, s3-prefix, git-credential-helper: accepted, each with a warning, in file order. */
static void test_ignored_keys_warn_in_file_order(void **state)
{
	(void)state;
	struct buildspec *bs = bs_ok("version: 0.2\n"
	                             "artifacts:\n"
	                             "  files: ['**/*']\n"
	                             "  s3-prefix: out\n"
	                             "proxy: {upload-artifacts: no, logs: no}\n"
	                             "batch: {fast-fail: false}\n"
	                             "env:\n"
	                             "  git-credential-helper: Yes\n"
	                             "phases: {build: {commands: [make]}}\n");
	assert_int_equal(bs->warnings.n, 4);
	assert_prefix(bs->warnings.v[0], "buildspec.yml:4:3: s3-prefix is ignored");
	assert_prefix(bs->warnings.v[1], "buildspec.yml:5:1: proxy is ignored");
	assert_prefix(bs->warnings.v[2], "buildspec.yml:6:1: batch is ignored");
	assert_prefix(bs->warnings.v[3], "buildspec.yml:8:3: git-credential-helper is ignored");
	buildspec_free(bs);
}

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
	        cmocka_unit_test(test_tab_indentation_fails_with_position),
	        cmocka_unit_test(test_unquoted_colon_command_names_commands_index),
	        cmocka_unit_test(test_mapping_command_index_is_item_index),
	        cmocka_unit_test(test_flag_no_stays_no),
	        cmocka_unit_test(test_number_text_kept),
	        cmocka_unit_test(test_variable_value_literal),
	        cmocka_unit_test(test_scalar_lists_are_one_item),
	        cmocka_unit_test(test_block_command_verbatim),
	        cmocka_unit_test(test_null_command_item_warns),
	        cmocka_unit_test(test_json_buildspec),
	        cmocka_unit_test(test_unknown_key_suggests),
	        cmocka_unit_test(test_unknown_top_key_lists_known),
	        cmocka_unit_test(test_unknown_phase),
	        cmocka_unit_test(test_wrong_version),
	        cmocka_unit_test(test_missing_version),
	        cmocka_unit_test(test_version_number_or_string),
	        cmocka_unit_test(test_missing_phases),
	        cmocka_unit_test(test_duplicate_key),
	        cmocka_unit_test(test_alias_bomb_refused),
	        cmocka_unit_test(test_aliases_shared_between_phases),
	        cmocka_unit_test(test_phase_with_only_finally),
	        cmocka_unit_test(test_commands_mapping_type_error),
	        cmocka_unit_test(test_on_failure_abort_continue),
	        cmocka_unit_test(test_on_failure_retry_default),
	        cmocka_unit_test(test_on_failure_retry_count_or_regex),
	        cmocka_unit_test(test_on_failure_retry_count_and_regex),
	        cmocka_unit_test(test_on_failure_errors),
	        cmocka_unit_test(test_runtime_versions_warns),
	        cmocka_unit_test(test_runtime_versions_outside_install),
	        cmocka_unit_test(test_ignored_keys_warn_in_file_order),
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
