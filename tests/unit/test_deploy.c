/* Unit tests for the appspec deployer (actions/appspec_deploy.h, spec §9): lifecycle
 * order in-place and blue/green, Install's file_exists_behavior and permissions, hook
 * timeouts, automatic rollback, and hostile bundles refused with nothing written. */
#include "store_testutil.h"

#include <jansson.h>
#include <sys/stat.h>

#include "actions/appspec_deploy.h"
#include "sites/proxy.h"
#include "store/deployments.h"
#include "util/libarchive.h"
#include "util/timeutil.h"

struct fx {
	char *tmp, *data;
	struct store *st;
	int nzip;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	f->st = tu_store_open(&f->tmp, &f->data);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tu_store_close(f->st, f->tmp, f->data);
	free(f);
	return 0;
}

/* A zip of entries: "name", "content"; a name starting with '*' is executable, with
 * '@' a symbolic link whose target is the content. To free. */
static char *bundle(struct fx *f, const char *const *files)
{
	char *path = xasprintf("%s/bundle-%d.zip", f->tmp, f->nzip++);
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; files[i]; i += 2) {
		const char *name = files[i];
		int exec = name[0] == '*', link = name[0] == '@';
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, exec || link ? name + 1 : name);
		size_t len = link ? 0 : strlen(files[i + 1]);
		archive_entry_set_filetype(e, link ? AE_IFLNK : AE_IFREG);
		if (link)
			archive_entry_set_symlink(e, files[i + 1]);
		archive_entry_set_perm(e, exec ? 0755 : 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, files[i + 1], len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return path;
}

static char *dir_of(struct fx *f, const char *name)
{
	return xasprintf("%s/%s", f->tmp, name);
}

static void group_inplace(struct fx *f, const char *name, const char *const *targets,
                          const char *config, int rollback)
{
	json_t *arr = json_array();
	for (size_t i = 0; targets[i]; i++) {
		char *d = dir_of(f, targets[i]);
		json_array_append_new(arr, json_string(d));
		free(d);
	}
	char *text = json_dumps(arr, 0);
	json_decref(arr);
	struct store_deploy_group g = {
	        .app = "web",
	        .name = (char *)name,
	        .kind = "in-place",
	        .targets = text,
	        .config = (char *)(config ? config : "CodeDeployDefault.OneAtATime"),
	        .auto_rollback = rollback};
	struct err err;
	if (store_deploy_group_create(f->st, &g, &err) != 0)
		fail_msg("%s", err.msg);
	free(text);
}

static void group_bluegreen(struct fx *f, const char *name)
{
	char *slots = xasprintf("{\"blue\": {\"dir\": \"%s/blue\", \"port\": 9101},"
	                        " \"green\": {\"dir\": \"%s/green\", \"port\": 9102}}",
	                        f->tmp, f->tmp);
	struct store_deploy_group g = {.app = "web",
	                               .name = (char *)name,
	                               .kind = "blue-green",
	                               .slots = slots,
	                               .host = "app.test",
	                               .config = "CodeDeployDefault.AllAtOnce",
	                               .auto_rollback = 1};
	struct err err;
	if (store_deploy_group_create(f->st, &g, &err) != 0)
		fail_msg("%s", err.msg);
	free(slots);
}

/* Runs a deployment; returns whether it succeeded; *summary (to free) when asked. */
static int deploy(struct fx *f, const char *group, const char *zip, char **summary, char *id)
{
	struct deploy_req req = {.data_dir = f->data,
	                         .app = "web",
	                         .group = group,
	                         .bundle = zip,
	                         .creator = "user",
	                         .source = "test",
	                         .entries_max = 50};
	struct deploy_outcome out;
	struct err err;
	if (appspec_deploy(f->st, &req, &out, &err) != 0)
		fail_msg("%s", err.msg);
	int ok = out.succeeded;
	if (summary)
		*summary = xstrdup(out.summary);
	if (id)
		memcpy(id, out.id, STORE_DEPLOY_ID_LEN + 1);
	deploy_outcome_free(&out);
	return ok;
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

/* Every scriptable in-place event runs scripts/rec.sh, which appends
 * "<event> <tag>" to <target>.events. */
#define REC(tag)                                                                                   \
	"*scripts/rec.sh",                                                                         \
	        "#!/bin/sh\necho \"$LIFECYCLE_EVENT " tag "\" >> \"$FERRY_TARGET_ROOT.events\"\n"
#define HOOK(ev) "  " ev ":\n    - location: scripts/rec.sh\n      timeout: 10\n"
/* clang-format reflows this list differently on each pass */
// clang-format off
#define ALL_INPLACE_HOOKS                                                                          \
	HOOK("ApplicationStop") HOOK("BeforeInstall") HOOK("AfterInstall")                         \
	HOOK("ApplicationStart") HOOK("ValidateService")
// clang-format on

static const char spec_v[] = "version: 0.0\nos: linux\n"
                             "files:\n  - source: site\n    destination: /srv/app\n"
                             "hooks:\n" ALL_INPLACE_HOOKS;

/* spec §9: a first deployment has no ApplicationStop; the second runs the previous
 * revision's ApplicationStop script, then the whole order (checklist 59). */
static void test_inplace_lifecycle_order(void **state)
{
	struct fx *f = *state;
	group_inplace(f, "g", (const char *[]){"t1", NULL}, NULL, 1);
	char *v1 = bundle(f, (const char *[]){"appspec.yml", spec_v, REC("v1"), "site/index.html",
	                                      "one", NULL});
	char *v2 = bundle(f, (const char *[]){"appspec.yml", spec_v, REC("v2"), "site/index.html",
	                                      "two", NULL});
	assert_true(deploy(f, "g", v1, NULL, NULL));
	char *ev = tu_read(f->tmp, "t1.events");
	assert_string_equal(ev, "BeforeInstall v1\nAfterInstall v1\nApplicationStart v1\n"
	                        "ValidateService v1\n");
	free(ev);
	char *page = tu_read(f->tmp, "t1/srv/app/index.html");
	assert_string_equal(page, "one");
	free(page);
	assert_true(deploy(f, "g", v2, NULL, NULL));
	ev = tu_read(f->tmp, "t1.events");
	assert_string_equal(ev, "BeforeInstall v1\nAfterInstall v1\nApplicationStart v1\n"
	                        "ValidateService v1\nApplicationStop v1\nBeforeInstall v2\n"
	                        "AfterInstall v2\nApplicationStart v2\nValidateService v2\n");
	free(ev);
	page = tu_read(f->tmp, "t1/srv/app/index.html");
	assert_string_equal(page, "two");
	free(page);
	free(v1);
	free(v2);
}

/* The events are recorded per target, in order, with their statuses. */
static void test_events_are_recorded(void **state)
{
	struct fx *f = *state;
	group_inplace(f, "g", (const char *[]){"t1", "t2", NULL}, NULL, 1);
	char *v1 =
	        bundle(f, (const char *[]){"appspec.yml", spec_v, REC("v1"), "site/a", "a", NULL});
	char id[STORE_DEPLOY_ID_LEN + 1];
	char *summary = NULL;
	assert_true(deploy(f, "g", v1, &summary, id));
	assert_string_equal(summary + strlen(summary) - strlen("Succeeded (2 targets)"),
	                    "Succeeded (2 targets)");
	struct store_deploy_event *ev = NULL;
	size_t n = 0;
	struct err err;
	assert_int_equal(store_deploy_event_list(f->st, id, &ev, &n, &err), 0);
	assert_int_equal(n, 14);
	assert_string_equal(ev[0].event, "ApplicationStop");
	assert_string_equal(ev[0].status, "Skipped");
	assert_string_equal(ev[3].event, "Install");
	assert_string_equal(ev[3].status, "Succeeded");
	assert_string_equal(ev[6].event, "ValidateService");
	assert_string_equal(ev[6].script, "scripts/rec.sh");
	assert_int_equal(ev[6].exit_code, 0);
	assert_int_equal(ev[13].target, 1);
	store_deploy_event_list_free(ev, n);
	free(summary);
	free(v1);
}

/* A failing ValidateService rolls back (checklist 60): the good revision's files are
 * back, the failed one's new files are gone, and the summary says what failed. */
static void test_failed_validate_rolls_back(void **state)
{
	struct fx *f = *state;
	group_inplace(f, "g", (const char *[]){"t1", NULL}, NULL, 1);
	char id1[STORE_DEPLOY_ID_LEN + 1], id2[STORE_DEPLOY_ID_LEN + 1];
	char *v1 = bundle(
	        f, (const char *[]){"appspec.yml", spec_v, REC("v1"), "site/a.txt", "v1", NULL});
	const char *bad_spec = "version: 0.0\nos: linux\n"
	                       "files:\n  - source: site\n    destination: /srv/app\n"
	                       "hooks:\n  ValidateService:\n    - location: check.sh\n";
	char *v2 = bundle(f, (const char *[]){"appspec.yml", bad_spec, "*check.sh",
	                                      "#!/bin/sh\nexit 3\n", "site/a.txt", "v2",
	                                      "site/b.txt", "new", NULL});
	assert_true(deploy(f, "g", v1, NULL, id1));
	char *summary = NULL;
	assert_false(deploy(f, "g", v2, &summary, id2));
	assert_contains(summary, "ValidateService failed on target");
	assert_contains(summary, "check.sh");
	assert_contains(summary, "exit code 3");
	char *want = xasprintf("rolled back to deployment %s", id1);
	assert_contains(summary, want);
	free(want);
	char *a = tu_read(f->tmp, "t1/srv/app/a.txt");
	assert_string_equal(a, "v1");
	free(a);
	char *b = dir_of(f, "t1/srv/app/b.txt");
	assert_false(fs_exists(b));
	free(b);
	struct store_deployment d;
	struct err err;
	assert_int_equal(store_deployment_get(f->st, id2, &d, &err), 0);
	assert_string_equal(d.status, "Failed");
	assert_non_null(d.rolled_back_by);
	struct store_deployment rb;
	assert_int_equal(store_deployment_get(f->st, d.rolled_back_by, &rb, &err), 0);
	assert_string_equal(rb.creator, "codeDeployRollback");
	assert_string_equal(rb.status, "Succeeded");
	assert_string_equal(rb.rollback_of, id2);
	store_deployment_free(&rb);
	store_deployment_free(&d);
	free(summary);
	free(v1);
	free(v2);
}

/* A script past its timeout is killed: ScriptTimedOut, and it does not take long. */
static void test_hook_timeout(void **state)
{
	struct fx *f = *state;
	group_inplace(f, "g", (const char *[]){"t1", NULL}, NULL, 1);
	const char *slow = "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n"
	                   "    - location: slow.sh\n      timeout: 1\n";
	char *zip = bundle(f, (const char *[]){"appspec.yml", slow, "*slow.sh",
	                                       "#!/bin/sh\nsleep 30\n", NULL});
	char id[STORE_DEPLOY_ID_LEN + 1];
	char *summary = NULL;
	int64_t t0 = mono_ms();
	assert_false(deploy(f, "g", zip, &summary, id));
	assert_true(mono_ms() - t0 < 10000);
	assert_contains(summary, "failed to complete in 1 seconds");
	struct store_deploy_event *ev = NULL;
	size_t n = 0;
	struct err err;
	assert_int_equal(store_deploy_event_list(f->st, id, &ev, &n, &err), 0);
	assert_string_equal(ev[2].event, "BeforeInstall");
	assert_string_equal(ev[2].status, "Failed");
	assert_string_equal(ev[2].error_code, "ScriptTimedOut");
	assert_string_equal(ev[3].status, "Skipped");
	store_deploy_event_list_free(ev, n);
	free(summary);
	free(zip);
}

/* file_exists_behavior decides about files ferry did not install. */
static void test_file_exists_behavior(void **state)
{
	struct fx *f = *state;
	static const char *const modes[] = {"DISALLOW", "OVERWRITE", "RETAIN"};
	static const char *const expect[] = {"foreign", "bundle", "foreign"};
	for (int i = 0; i < 3; i++) {
		char gname[16], tname[16];
		snprintf(gname, sizeof gname, "g%d", i);
		snprintf(tname, sizeof tname, "t%d", i);
		group_inplace(f, gname, (const char *[]){tname, NULL}, NULL, 0);
		char *rel = xasprintf("%s/srv/app/index.html", tname);
		tu_write(f->tmp, rel, "foreign");
		char *spec = xasprintf("version: 0.0\nos: linux\nfile_exists_behavior: %s\n"
		                       "files:\n  - source: /site\n    destination: /srv/app\n",
		                       modes[i]);
		char *zip = bundle(f, (const char *[]){"appspec.yml", spec, "site/index.html",
		                                       "bundle", NULL});
		char *summary = NULL;
		int ok = deploy(f, gname, zip, &summary, NULL);
		assert_int_equal(ok, i != 0);
		if (i == 0)
			assert_contains(summary, "already exists at this location");
		char *page = tu_read(f->tmp, rel);
		assert_string_equal(page, expect[i]);
		free(page);
		free(summary);
		free(zip);
		free(spec);
		free(rel);
	}
}

/* permissions: mode applied to the installed objects the pattern selects. */
static void test_permissions_mode(void **state)
{
	struct fx *f = *state;
	group_inplace(f, "g", (const char *[]){"t1", NULL}, NULL, 1);
	const char *spec = "version: 0.0\nos: linux\n"
	                   "files:\n  - source: /site\n    destination: /srv/app\n"
	                   "permissions:\n  - object: /srv/app\n    pattern: \"*.conf\"\n"
	                   "    mode: \"0600\"\n    type: [file]\n";
	char *zip = bundle(f, (const char *[]){"appspec.yml", spec, "site/app.conf", "x",
	                                       "site/index.html", "y", NULL});
	assert_true(deploy(f, "g", zip, NULL, NULL));
	struct stat sb;
	char *p = dir_of(f, "t1/srv/app/app.conf");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	free(p);
	p = dir_of(f, "t1/srv/app/index.html");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	free(p);
	free(zip);
}

#define BG_REC(tag)                                                                                \
	"*rec.sh", "#!/bin/sh\necho \"$FERRY_SLOT $FERRY_SLOT_PORT $LIFECYCLE_EVENT " tag          \
	           "\" >> \"$FERRY_TARGET_ROOT/../bg.events\"\n"
#define BG_HOOK(ev) "  " ev ":\n    - location: rec.sh\n"
static const char spec_bg[] =
        "version: 0.0\nos: linux\nfiles:\n  - source: /www\n    destination: /srv\n"
        "hooks:\n" BG_HOOK("ApplicationStop") BG_HOOK("BeforeInstall") BG_HOOK("AfterInstall")
                BG_HOOK("ApplicationStart") BG_HOOK("ValidateService") BG_HOOK("BeforeAllowTraffic")
                        BG_HOOK("AfterAllowTraffic") BG_HOOK("BeforeBlockTraffic")
                                BG_HOOK("AfterBlockTraffic");

static char *route(struct fx *f)
{
	char *up = NULL;
	struct err err;
	assert_int_equal(proxy_route_get(f->data, "app.test", &up, &err), 0);
	return up;
}

/* spec §9 blue/green: the replacement's lifecycle through AfterAllowTraffic, then the
 * original's block-traffic events; the route moves to the replacement's port. */
static void test_bluegreen_order_and_switch(void **state)
{
	struct fx *f = *state;
	group_bluegreen(f, "bg");
	char *v1 = bundle(
	        f, (const char *[]){"appspec.yml", spec_bg, BG_REC("v1"), "www/i", "1", NULL});
	char *v2 = bundle(
	        f, (const char *[]){"appspec.yml", spec_bg, BG_REC("v2"), "www/i", "2", NULL});
	assert_true(deploy(f, "bg", v1, NULL, NULL));
	char *up = route(f);
	assert_string_equal(up, "127.0.0.1:9101");
	free(up);
	assert_true(deploy(f, "bg", v2, NULL, NULL));
	up = route(f);
	assert_string_equal(up, "127.0.0.1:9102");
	free(up);
	char *ev = tu_read(f->tmp, "bg.events");
	assert_string_equal(ev,
	                    "blue 9101 BeforeInstall v1\nblue 9101 AfterInstall v1\n"
	                    "blue 9101 ApplicationStart v1\nblue 9101 ValidateService v1\n"
	                    "blue 9101 BeforeAllowTraffic v1\nblue 9101 AfterAllowTraffic v1\n"
	                    "green 9102 BeforeInstall v2\ngreen 9102 AfterInstall v2\n"
	                    "green 9102 ApplicationStart v2\ngreen 9102 ValidateService v2\n"
	                    "green 9102 BeforeAllowTraffic v2\n"
	                    "green 9102 AfterAllowTraffic v2\n"
	                    "blue 9101 BeforeBlockTraffic v1\nblue 9101 AfterBlockTraffic v1\n");
	free(ev);
	char *page = tu_read(f->tmp, "green/srv/i");
	assert_string_equal(page, "2");
	free(page);
	free(v1);
	free(v2);
}

/* Blue/green: a failing ValidateService never moves traffic; the rollback blocks
 * traffic on the replacement and the original stays live. */
static void test_bluegreen_failure_keeps_traffic(void **state)
{
	struct fx *f = *state;
	group_bluegreen(f, "bg");
	char *v1 = bundle(
	        f, (const char *[]){"appspec.yml", spec_bg, BG_REC("v1"), "www/i", "1", NULL});
	const char *bad = "version: 0.0\nos: linux\nhooks:\n" BG_HOOK("ValidateService")
	        BG_HOOK("BeforeBlockTraffic") BG_HOOK("AfterBlockTraffic");
	char *v2 = bundle(f, (const char *[]){"appspec.yml", bad, "*rec.sh",
	                                      "#!/bin/sh\necho \"$FERRY_SLOT $LIFECYCLE_EVENT\" >> "
	                                      "\"$FERRY_TARGET_ROOT/../bad.events\"\n"
	                                      "[ \"$LIFECYCLE_EVENT\" != ValidateService ]\n",
	                                      NULL});
	assert_true(deploy(f, "bg", v1, NULL, NULL));
	char *summary = NULL;
	assert_false(deploy(f, "bg", v2, &summary, NULL));
	assert_contains(summary, "ValidateService failed on target green");
	assert_contains(summary, "rolled back");
	char *up = route(f);
	assert_string_equal(up, "127.0.0.1:9101");
	free(up);
	char *ev = tu_read(f->tmp, "bad.events");
	assert_string_equal(ev, "green ValidateService\ngreen BeforeBlockTraffic\n"
	                        "green AfterBlockTraffic\n");
	free(ev);
	struct store_deploy_group g;
	struct err err;
	assert_int_equal(store_deploy_group_get(f->st, "web", "bg", &g, &err), 0);
	assert_string_equal(g.live_slot, "blue");
	store_deploy_group_free(&g);
	free(summary);
	free(v1);
	free(v2);
}

/* Hostile bundles are refused whole, naming the entry; nothing lands outside. */
static void test_hostile_bundles_refused(void **state)
{
	struct fx *f = *state;
	group_inplace(f, "g", (const char *[]){"t1", NULL}, NULL, 1);
	const char *spec = "version: 0.0\nos: linux\n";
	char *evil = xasprintf("%s/evil", f->tmp);
	struct {
		const char *const *files;
		const char *says;
	} cases[] = {
	        {(const char *[]){"appspec.yml", spec, "../../../../evil", "x", NULL},
	         "../../../../evil"},
	        {(const char *[]){"appspec.yml", spec, evil, "x", NULL}, "is an absolute path"},
	        {(const char *[]){"appspec.yml", spec, "@link", "/etc", NULL}, "\"link\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *zip = bundle(f, cases[i].files);
		char *summary = NULL;
		assert_false(deploy(f, "g", zip, &summary, NULL));
		assert_contains(summary, "DownloadBundle failed");
		assert_contains(summary, cases[i].says);
		assert_false(fs_exists(evil));
		free(summary);
		free(zip);
	}
	/* more entries than the cap (50 in these tests) */
	const char *many[2 * 60 + 3];
	char names[60][16];
	many[0] = "appspec.yml";
	many[1] = spec;
	for (int i = 0; i < 60; i++) {
		snprintf(names[i], sizeof names[i], "f%d", i);
		many[2 + 2 * i] = names[i];
		many[3 + 2 * i] = "x";
	}
	many[2 + 2 * 60] = NULL;
	char *zip = bundle(f, many);
	char *summary = NULL;
	assert_false(deploy(f, "g", zip, &summary, NULL));
	assert_contains(summary, "more than 50 entries");
	free(summary);
	free(zip);
	free(evil);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_inplace_lifecycle_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_events_are_recorded, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_failed_validate_rolls_back, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hook_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_file_exists_behavior, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_permissions_mode, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bluegreen_order_and_switch, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bluegreen_failure_keeps_traffic, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_hostile_bundles_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
