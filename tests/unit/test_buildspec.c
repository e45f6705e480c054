/* Unit tests for spec/buildspec: YAML behaviour, keys, phases, versions, on-failure
 * and ignored keys (../shared/spec/buildspec.md §1–2, checklist items named per test).
 * The env, artifacts, reports and cache sections are in test_buildspec_sections.c. */
#include "bs_testutil.h"

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
