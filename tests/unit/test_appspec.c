/* Unit tests for spec/appspec: the appspec.yml 0.0 format of spec §9, checked into
 * structs; every error names appspec.yml:LINE and the field. */
#include "testutil.h"

#include "spec/appspec.h"

static struct appspec *parse_ok(const char *text)
{
	struct appspec *as = NULL;
	struct err err;
	if (appspec_parse(text, strlen(text), "appspec.yml", &as, &err) != 0)
		fail_msg("%s", err.msg);
	return as;
}

/* The message of a refused appspec (static buffer). */
static const char *parse_err(const char *text)
{
	static struct err err;
	struct appspec *as = NULL;
	assert_int_equal(appspec_parse(text, strlen(text), "appspec.yml", &as, &err), -1);
	assert_null(as);
	return err.msg;
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

/* A full EC2 appspec as AWS documents it parses into every field. */
static void test_full_appspec_parses(void **state)
{
	(void)state;
	struct appspec *as = parse_ok("version: 0.0\n"
	                              "os: linux\n"
	                              "files:\n"
	                              "  - source: /\n"
	                              "    destination: /srv/app/\n"
	                              "  - source: config/app.conf\n"
	                              "    destination: /etc/app\n"
	                              "file_exists_behavior: OVERWRITE\n"
	                              "permissions:\n"
	                              "  - object: /srv/app\n"
	                              "    pattern: \"*.sh\"\n"
	                              "    except: [keep.sh]\n"
	                              "    mode: 755\n"
	                              "    type: [file]\n"
	                              "hooks:\n"
	                              "  BeforeInstall:\n"
	                              "    - location: scripts/prep.sh\n"
	                              "      timeout: 300\n"
	                              "      runas: root\n"
	                              "  ValidateService:\n"
	                              "    - location: /scripts/check.sh\n");
	assert_string_equal(as->version, "0.0");
	assert_int_equal(as->nfiles, 2);
	assert_string_equal(as->files[0].source, "");
	assert_string_equal(as->files[0].destination, "/srv/app");
	assert_string_equal(as->files[1].source, "config/app.conf");
	assert_int_equal(as->file_exists, AS_EXISTS_OVERWRITE);
	assert_int_equal(as->npermissions, 1);
	assert_int_equal(as->permissions[0].mode, 0755);
	assert_int_equal(as->permissions[0].types, AS_TYPE_FILE);
	assert_string_equal(as->permissions[0].except.v[0], "keep.sh");
	assert_int_equal(as->nhooks[AS_BEFORE_INSTALL], 1);
	assert_int_equal(as->hooks[AS_BEFORE_INSTALL][0].timeout, 300);
	assert_string_equal(as->hooks[AS_BEFORE_INSTALL][0].runas, "root");
	assert_string_equal(as->hooks[AS_VALIDATE_SERVICE][0].location, "scripts/check.sh");
	assert_int_equal(as->hooks[AS_VALIDATE_SERVICE][0].timeout, 3600);
	appspec_free(as);
}

/* JSON is YAML: an appspec written as JSON is accepted. */
static void test_json_appspec_parses(void **state)
{
	(void)state;
	struct appspec *as = parse_ok("{\"version\": 0.0, \"os\": \"linux\", \"hooks\": "
	                              "{\"AfterInstall\": [{\"location\": \"a.sh\"}]}}");
	assert_int_equal(as->nhooks[AS_AFTER_INSTALL], 1);
	appspec_free(as);
}

static void test_windows_is_refused(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.0\nos: windows\n"),
	                "appspec.yml:2:5: os: windows is not supported by ferry");
}

static void test_only_version_0_0(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.2\nos: linux\n"), "appspec.yml:1:10: version:");
	assert_contains(parse_err("os: linux\n"), "version: missing");
}

/* A misspelt event gets a suggestion, with its line. */
static void test_unknown_event_suggests(void **state)
{
	(void)state;
	const char *msg = parse_err("version: 0.0\nos: linux\nhooks:\n  AfterInstal:\n"
	                            "    - location: a.sh\n");
	assert_contains(msg, "appspec.yml:4:3: hooks: unknown lifecycle event \"AfterInstal\"");
	assert_contains(msg, "did you mean \"AfterInstall\"");
}

static void test_agent_events_cannot_have_scripts(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.0\nos: linux\nhooks:\n  Install:\n"
	                          "    - location: a.sh\n"),
	                "appspec.yml:4:3: hooks: Install is run by ferry itself");
}

static void test_unknown_top_key_suggests(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.0\nos: linux\nfile:\n  - source: /\n"),
	                "appspec.yml:3:1: appspec: unknown key \"file\" (did you mean \"files\"?");
}

static void test_destination_must_be_absolute(void **state)
{
	(void)state;
	assert_contains(
	        parse_err("version: 0.0\nos: linux\nfiles:\n  - source: /\n"
	                  "    destination: srv/app\n"),
	        "appspec.yml:5:18: files[0].destination: \"srv/app\" is not an absolute path");
}

static void test_dotdot_is_refused(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n"
	                          "    - location: ../../bin/evil\n"),
	                "appspec.yml:5:17: hooks.BeforeInstall[0].location:");
	assert_contains(parse_err("version: 0.0\nos: linux\nfiles:\n  - source: a/../..\n"
	                          "    destination: /x\n"),
	                "files[0].source:");
}

static void test_timeouts_are_bounded(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n"
	                          "    - location: a.sh\n      timeout: 4000\n"),
	                "appspec.yml:6:16: hooks.BeforeInstall[0].timeout: 4000 is not a number");
	/* per event, the timeouts add up to at most 3600 */
	assert_contains(parse_err("version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n"
	                          "    - location: a.sh\n      timeout: 3000\n"
	                          "    - location: b.sh\n      timeout: 601\n"),
	                "appspec.yml:7:7: hooks.BeforeInstall[1]: the timeouts of BeforeInstall "
	                "add up to 3601 seconds");
}

static void test_mode_must_be_octal(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.0\nos: linux\npermissions:\n  - object: /srv\n"
	                          "    mode: u+x\n"),
	                "appspec.yml:5:11: permissions[0].mode: \"u+x\" is not an octal mode");
}

static void test_bad_file_exists_behavior(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.0\nos: linux\nfile_exists_behavior: MERGE\n"),
	                "appspec.yml:3:23: file_exists_behavior: \"MERGE\" is not DISALLOW");
}

static void test_acls_are_a_warning(void **state)
{
	(void)state;
	struct appspec *as = parse_ok("version: 0.0\nos: linux\npermissions:\n  - object: /srv\n"
	                              "    acls: [\"u:bob:rw\"]\n");
	assert_int_equal(as->warnings.n, 1);
	assert_contains(as->warnings.v[0], "appspec.yml:5:11: permissions[0].acls");
	appspec_free(as);
}

static void test_ecs_appspec_is_refused(void **state)
{
	(void)state;
	assert_contains(parse_err("version: 0.0\nResources:\n  - Target: {}\n"),
	                "appspec.yml:3:3: Resources: an ECS or Lambda appspec");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_full_appspec_parses),
	        cmocka_unit_test(test_json_appspec_parses),
	        cmocka_unit_test(test_windows_is_refused),
	        cmocka_unit_test(test_only_version_0_0),
	        cmocka_unit_test(test_unknown_event_suggests),
	        cmocka_unit_test(test_agent_events_cannot_have_scripts),
	        cmocka_unit_test(test_unknown_top_key_suggests),
	        cmocka_unit_test(test_destination_must_be_absolute),
	        cmocka_unit_test(test_dotdot_is_refused),
	        cmocka_unit_test(test_timeouts_are_bounded),
	        cmocka_unit_test(test_mode_must_be_octal),
	        cmocka_unit_test(test_bad_file_exists_behavior),
	        cmocka_unit_test(test_acls_are_a_warning),
	        cmocka_unit_test(test_ecs_appspec_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
