/*
 * test_functions.c — the function registry (functions/registry.h): versions are
 * immutable, publishing with nothing changed gives the same version, aliases move and
 * roll back, CodeSha256 is stable for the same files, hostile zips are refused whole.
 */
#include "store_testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>

#include "functions/registry.h"
#include "util/libarchive.h"

struct fixture {
	struct store_fixture s;
	char *src; /* a function's source directory */
	int zips;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->s.st = tu_store_open(&f->s.tmp, &f->s.data);
	f->src = fs_join(f->s.tmp, "src");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->src);
	tu_store_close(f->s.st, f->s.tmp, f->s.data);
	free(f);
	return 0;
}

/* A zip of `index.js` returning `text`. */
static char *zip_returning(struct fixture *f, const char *text)
{
	char *js = xasprintf("exports.handler = async () => \"%s\";\n", text);
	tu_write(f->src, "index.js", js);
	free(js);
	char *zip = xasprintf("%s/code%d.zip", f->s.tmp, f->zips++);
	struct err err;
	if (fn_zip_dir(f->src, zip, &err) < 0)
		fail_msg("%s", err.msg);
	return zip;
}

static void create(struct fixture *f, const char *name, const char *zip)
{
	struct store_fn out;
	struct err err;
	struct fn_config c = {.name = name, .runtime = "nodejs20.x", .handler = "index.handler"};
	if (fn_create(f->s.st, f->s.data, &c, zip, &out, &err) != 0)
		fail_msg("fn_create: %s", err.msg);
	store_fn_free(&out);
}

static char *publish(struct fixture *f, const char *name, int *created)
{
	struct store_fn v;
	struct err err;
	int c = 0;
	if (fn_publish(f->s.st, name, NULL, &v, &c, &err) != 0)
		fail_msg("fn_publish: %s", err.msg);
	if (created)
		*created = c;
	char *num = xstrdup(v.version);
	store_fn_free(&v);
	return num;
}

static void update_code(struct fixture *f, const char *name, const char *zip)
{
	struct store_fn out;
	struct err err;
	if (fn_update_code(f->s.st, f->s.data, name, zip, &out, &err) != 0)
		fail_msg("fn_update_code: %s", err.msg);
	store_fn_free(&out);
}

/* Spec §7.3: versions are "1","2",…; publishing with nothing changed returns the last. */
static void test_publish_numbers_versions_and_repeats_when_unchanged(void **state)
{
	struct fixture *f = *state;
	char *z1 = zip_returning(f, "one");
	create(f, "hello", z1);
	int created = 0;
	char *v1 = publish(f, "hello", &created);
	assert_string_equal(v1, "1");
	assert_int_equal(created, 1);
	char *again = publish(f, "hello", &created);
	assert_string_equal(again, "1");
	assert_int_equal(created, 0);
	char *z2 = zip_returning(f, "two");
	update_code(f, "hello", z2);
	char *v2 = publish(f, "hello", NULL);
	assert_string_equal(v2, "2");
	free(z1);
	free(z2);
	free(v1);
	free(again);
	free(v2);
}

/* A version keeps its code and configuration when $LATEST changes afterwards. */
static void test_versions_are_immutable(void **state)
{
	struct fixture *f = *state;
	char *z1 = zip_returning(f, "one");
	create(f, "keep", z1);
	char *v1 = publish(f, "keep", NULL);
	struct store_fn before;
	struct err err;
	assert_int_equal(store_fn_get(f->s.st, "keep", "1", &before, &err), 0);
	char *z2 = zip_returning(f, "two");
	update_code(f, "keep", z2);
	struct fn_config c = {.name = "keep", .timeout = 9, .handler = "other.handler"};
	struct store_fn out;
	assert_int_equal(fn_update_config(f->s.st, f->s.data, &c, &out, &err), 0);
	store_fn_free(&out);
	struct store_fn after;
	assert_int_equal(store_fn_get(f->s.st, "keep", "1", &after, &err), 0);
	assert_string_equal(after.code_sha, before.code_sha);
	assert_string_equal(after.handler, "index.handler");
	assert_int_equal(after.timeout, 3);
	char *js = tu_read(after.code_dir, "index.js");
	assert_non_null(strstr(js, "\"one\""));
	free(js);
	store_fn_free(&before);
	store_fn_free(&after);
	free(z1);
	free(z2);
	free(v1);
}

/* CodeSha256 is the base64 SHA-256 of the zip, and the same files zip the same. */
static void test_code_sha_stable_for_the_same_files(void **state)
{
	struct fixture *f = *state;
	char *a = zip_returning(f, "same");
	/* another mtime and mode: a zip carrying mtimes would differ */
	char *js = fs_join(f->src, "index.js");
	struct timespec old[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
	assert_int_equal(utimensat(AT_FDCWD, js, old, 0), 0);
	assert_int_equal(chmod(js, 0600), 0);
	free(js);
	char *b = xasprintf("%s/again.zip", f->s.tmp);
	struct err zerr;
	assert_int_equal(fn_zip_dir(f->src, b, &zerr), 0);
	char a64[64], ahex[65], b64[64], bhex[65];
	int64_t as, bs;
	struct err err;
	assert_int_equal(fn_sha256_file(a, a64, ahex, &as, &err), 0);
	assert_int_equal(fn_sha256_file(b, b64, bhex, &bs, &err), 0);
	assert_string_equal(a64, b64);
	assert_int_equal(strlen(a64), 44);
	create(f, "sha", a);
	struct store_fn fn;
	assert_int_equal(store_fn_get(f->s.st, "sha", NULL, &fn, &err), 0);
	assert_string_equal(fn.code_sha, a64);
	assert_int_equal(fn.code_size, as);
	store_fn_free(&fn);
	free(a);
	free(b);
}

static void put_alias(struct fixture *f, const char *alias, const char *version, int create_it,
                      int rollback, char **now, char **prev)
{
	struct store_alias a;
	struct err err;
	struct fn_alias_req r = {.function = "web",
	                         .alias = alias,
	                         .version = version,
	                         .create = create_it,
	                         .rollback = rollback};
	if (fn_alias_put(f->s.st, &r, &a, &err) != 0)
		fail_msg("fn_alias_put: %s", err.msg);
	*now = xstrdup(a.version);
	*prev = a.previous ? xstrdup(a.previous) : NULL;
	store_alias_free(&a);
}

/* An alias moves to v2 (a deploy) and back to v1 (`--rollback`), resolving each time. */
static void test_alias_move_and_rollback(void **state)
{
	struct fixture *f = *state;
	char *z1 = zip_returning(f, "one");
	create(f, "web", z1);
	free(publish(f, "web", NULL));
	char *z2 = zip_returning(f, "two");
	update_code(f, "web", z2);
	free(publish(f, "web", NULL));
	char *now, *prev;
	put_alias(f, "live", "1", 1, 0, &now, &prev);
	assert_string_equal(now, "1");
	assert_null(prev);
	free(now);
	put_alias(f, "live", "2", 0, 0, &now, &prev);
	assert_string_equal(now, "2");
	assert_string_equal(prev, "1");
	free(now);
	free(prev);
	put_alias(f, "live", NULL, 0, 1, &now, &prev);
	assert_string_equal(now, "1");
	assert_string_equal(prev, "2");
	free(now);
	free(prev);
	struct store_fn r;
	char *exec = NULL, *arn = NULL;
	struct err err;
	assert_int_equal(fn_resolve(f->s.st, "web:live", NULL, &r, &exec, &arn, &err), 0);
	assert_string_equal(exec, "1");
	assert_non_null(strstr(arn, ":function:web:live"));
	char *js = tu_read(r.code_dir, "index.js");
	assert_non_null(strstr(js, "\"one\""));
	free(js);
	store_fn_free(&r);
	free(exec);
	free(arn);
	/* a duplicate create is a conflict, as CreateAlias's 409 */
	struct store_alias a;
	struct fn_alias_req dup = {.function = "web", .alias = "live", .version = "2", .create = 1};
	assert_int_equal(fn_alias_put(f->s.st, &dup, &a, &err), FN_ECONFLICT);
	free(z1);
	free(z2);
}

/* A zip with an entry climbing out is refused with the entry named; nothing written. */
static void test_zip_slip_refused_with_entry_named(void **state)
{
	struct fixture *f = *state;
	char *zip = xasprintf("%s/evil.zip", f->s.tmp);
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	assert_int_equal(archive_write_open_filename(a, zip), ARCHIVE_OK);
	const char *names[] = {"index.js", "../../escaped.js"};
	for (size_t i = 0; i < 2; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 1);
		assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
		assert_int_equal(archive_write_data(a, "x", 1), 1);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	struct store_fn out;
	struct err err;
	struct fn_config c = {.name = "evil", .runtime = "nodejs20.x", .handler = "index.handler"};
	assert_int_equal(fn_create(f->s.st, f->s.data, &c, zip, &out, &err), FN_EINVALID);
	assert_non_null(strstr(err.msg, "entry \"../../escaped.js\" climbs out"));
	char *code = xasprintf("%s/functions/evil/code", f->s.data);
	char *escaped = xasprintf("%s/functions/escaped.js", f->s.data);
	assert_false(fs_exists(escaped));
	/* no code directory but (at most) an empty one */
	char *listing = NULL;
	if (fs_exists(code)) {
		DIR *d = opendir(code);
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				listing = xstrdup(de->d_name);
		closedir(d);
	}
	assert_null(listing);
	assert_int_equal(store_fn_get(f->s.st, "evil", NULL, &out, &err), STORE_NOT_FOUND);
	free(code);
	free(escaped);
	free(zip);
}

/* Reserved variables cannot be set by a function (spec §8). */
static void test_reserved_variables_refused(void **state)
{
	struct fixture *f = *state;
	char *zip = zip_returning(f, "env");
	json_t *env = json_pack("{s:s}", "AWS_REGION", "eu-west-1");
	struct fn_config c = {
	        .name = "env", .runtime = "nodejs20.x", .handler = "index.handler", .env = env};
	struct store_fn out;
	struct err err;
	assert_int_equal(fn_create(f->s.st, f->s.data, &c, zip, &out, &err), FN_EINVALID);
	assert_non_null(strstr(err.msg, "Environment.Variables.AWS_REGION: a reserved key"));
	json_decref(env);
	free(zip);
}

/* Only the newest `keep` invocations stay; the pruned ones' log paths are handed back. */
static void test_invocations_pruned_past_keep(void **state)
{
	struct fixture *f = *state;
	char *zip = zip_returning(f, "log");
	create(f, "busy", zip);
	struct err err;
	struct strv pruned = STRV_INIT;
	for (int i = 1; i <= 4; i++) {
		char id[8], log[16];
		snprintf(id, sizeof id, "r%d", i);
		snprintf(log, sizeof log, "/logs/r%d.log", i);
		struct store_invocation inv = {.request_id = id,
		                               .function = "busy",
		                               .version = "$LATEST",
		                               .status = "Succeeded",
		                               .duration_ms = 1,
		                               .started_ms = 1000 + i,
		                               .log_path = log};
		assert_int_equal(store_invocation_add(f->s.st, &inv, 2, &pruned, &err), 0);
	}
	assert_int_equal(pruned.n, 2);
	assert_string_equal(pruned.v[0], "/logs/r1.log");
	assert_string_equal(pruned.v[1], "/logs/r2.log");
	struct store_invocation *list = NULL;
	size_t n = 0;
	assert_int_equal(store_invocation_list(f->s.st, "busy", 10, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].request_id, "r4");
	store_invocation_list_free(list, n);
	strv_free(&pruned);
	free(zip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(
	                test_publish_numbers_versions_and_repeats_when_unchanged, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_versions_are_immutable, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_code_sha_stable_for_the_same_files, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_alias_move_and_rollback, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_zip_slip_refused_with_entry_named, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_reserved_variables_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_invocations_pruned_past_keep, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
