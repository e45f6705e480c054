/* Unit tests for store/sites: sites' settings, release numbering that never reuses a
 * number, one live release per site, invalidations' caller-reference idempotency,
 * and deletion cascading to a site's rows. */
#include "store_testutil.h"

#include "store/sites.h"

static int create(struct store_fixture *f, const char *name, const char *host, struct err *err)
{
	struct store_site s = {.name = (char *)name, .host = (char *)host, .keep = 3};
	return store_site_create(f->st, &s, err);
}

static void add_release(struct store_fixture *f, const char *site, int64_t n)
{
	struct store_release r = {.site = (char *)site, .number = n, .dir = "/x", .files = 1};
	struct err err;
	if (store_release_add(f->st, &r, &err) != 0)
		fail_msg("store_release_add: %s", err.msg);
}

/* Names are S3 bucket names: they become directory names. */
static void test_site_names_checked(void **state)
{
	(void)state;
	struct err err;
	assert_int_equal(store_site_name_check("my-site.example", &err), 0);
	assert_int_equal(store_site_name_check("ab", &err), -1);
	assert_int_equal(store_site_name_check("...", &err), -1);
	assert_int_equal(store_site_name_check("a/b/c", &err), -1);
	assert_non_null(strstr(err.msg, "'/' is not allowed"));
	assert_int_equal(store_site_name_check("Upper", &err), -1);
	assert_int_equal(store_site_name_check("a..b", &err), -1);
	assert_int_equal(store_site_name_check("-abc", &err), -1);
}

static void test_create_get_update_list(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(create(f, "web", "www.example.com", &err), 0);
	assert_int_equal(create(f, "docs", NULL, &err), 0);
	assert_int_equal(create(f, "web", NULL, &err), STORE_CONFLICT);
	assert_string_equal(err.msg, "site \"web\" exists already");
	assert_int_equal(create(f, "other", "www.example.com", &err), STORE_CONFLICT);
	assert_string_equal(err.msg, "host \"www.example.com\" is served by another site already");
	struct store_site s;
	assert_int_equal(store_site_get(f->st, "web", &s, &err), 0);
	assert_string_equal(s.index_doc, "index.html");
	assert_null(s.error_doc);
	assert_int_equal(s.keep, 3);
	s.keep = 7;
	s.spa = 1;
	s.visibility = STORE_SITE_CACHED;
	assert_int_equal(store_site_update(f->st, &s, &err), 0);
	store_site_free(&s);
	assert_int_equal(store_site_get(f->st, "web", &s, &err), 0);
	assert_int_equal(s.keep, 7);
	assert_int_equal(s.spa, 1);
	assert_int_equal(s.visibility, STORE_SITE_CACHED);
	store_site_free(&s);
	struct store_site *all = NULL;
	size_t n = 0;
	assert_int_equal(store_site_list(f->st, &all, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].name, "docs");
	assert_string_equal(all[1].name, "web");
	store_site_list_free(all, n);
	struct store_site missing = {.name = "nope", .keep = 1};
	assert_int_equal(store_site_update(f->st, &missing, &err), STORE_NOT_FOUND);
	assert_int_equal(store_site_get(f->st, "nope", &s, &err), STORE_NOT_FOUND);
}

/* Numbers are reserved, never handed out twice, even after a release is deleted. */
static void test_release_numbers_never_reused(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(create(f, "web", NULL, &err), 0);
	int64_t n = 0;
	assert_int_equal(store_release_next(f->st, "web", &n, &err), 0);
	assert_int_equal(n, 1);
	add_release(f, "web", 1);
	assert_int_equal(store_release_next(f->st, "web", &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_release_delete(f->st, "web", 1, &err), 0);
	assert_int_equal(store_release_next(f->st, "web", &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_release_next(f->st, "nope", &n, &err), STORE_NOT_FOUND);
	assert_int_equal(store_release_delete(f->st, "web", 1, &err), STORE_NOT_FOUND);
}

static void test_one_live_release(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(create(f, "web", NULL, &err), 0);
	for (int64_t i = 1; i <= 3; i++)
		add_release(f, "web", i);
	assert_int_equal(store_release_set_live(f->st, "web", 2, &err), 0);
	assert_int_equal(store_release_set_live(f->st, "web", 3, &err), 0);
	assert_int_equal(store_release_set_live(f->st, "web", 9, &err), STORE_NOT_FOUND);
	struct store_release *r = NULL;
	size_t n = 0;
	assert_int_equal(store_release_list(f->st, "web", &r, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].number, 3); /* newest first */
	assert_int_equal(r[0].live, 1);   /* 9 did not exist: 3 stayed live */
	assert_int_equal(r[1].live, 0);
	assert_int_equal(r[2].live, 0);
	store_release_list_free(r, n);
}

static struct store_invalidation inv_row(const char *id, const char *ref)
{
	return (struct store_invalidation){.site = "web",
	                                   .id = (char *)id,
	                                   .caller_reference = (char *)ref,
	                                   .paths = "[\"/*\"]"};
}

static void test_invalidations(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(create(f, "web", NULL, &err), 0);
	struct store_invalidation a = inv_row("I2J0I21PCUYOIK", "deploy-1");
	struct store_invalidation b = inv_row("IAAAAAAAAAAAAA", "deploy-2");
	assert_int_equal(store_invalidation_add(f->st, &a, &err), 0);
	assert_int_equal(store_invalidation_add(f->st, &b, &err), 0);
	struct store_invalidation again = inv_row("IBBBBBBBBBBBBB", "deploy-1");
	assert_int_equal(store_invalidation_add(f->st, &again, &err), STORE_CONFLICT);
	struct store_invalidation got;
	assert_int_equal(store_invalidation_by_reference(f->st, "web", "deploy-1", &got, &err), 0);
	assert_string_equal(got.id, "I2J0I21PCUYOIK");
	assert_string_equal(got.status, "InProgress");
	assert_string_equal(got.paths, "[\"/*\"]");
	store_invalidation_free(&got);
	assert_int_equal(
	        store_invalidation_set_status(f->st, "web", "I2J0I21PCUYOIK", "Completed", &err),
	        0);
	assert_int_equal(store_invalidation_get(f->st, "web", "I2J0I21PCUYOIK", &got, &err), 0);
	assert_string_equal(got.status, "Completed");
	store_invalidation_free(&got);
	assert_int_equal(store_invalidation_get(f->st, "web", "NOPE", &got, &err), STORE_NOT_FOUND);
	struct store_invalidation *all = NULL;
	size_t n = 0;
	assert_int_equal(store_invalidation_list(f->st, "web", &all, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].id, "IAAAAAAAAAAAAA"); /* newest first */
	store_invalidation_list_free(all, n);
}

static void test_delete_cascades(void **state)
{
	struct store_fixture *f = *state;
	struct err err;
	assert_int_equal(create(f, "web", NULL, &err), 0);
	add_release(f, "web", 1);
	struct store_invalidation a = inv_row("I2J0I21PCUYOIK", "r");
	assert_int_equal(store_invalidation_add(f->st, &a, &err), 0);
	assert_int_equal(store_site_delete(f->st, "web", &err), 0);
	assert_int_equal(store_site_delete(f->st, "web", &err), STORE_NOT_FOUND);
	assert_int_equal(create(f, "web", NULL, &err), 0);
	struct store_release *r = NULL;
	size_t n = 5;
	assert_int_equal(store_release_list(f->st, "web", &r, &n, &err), 0);
	assert_int_equal(n, 0);
	store_release_list_free(r, n);
	struct store_invalidation *all = NULL;
	assert_int_equal(store_invalidation_list(f->st, "web", &all, &n, &err), 0);
	assert_int_equal(n, 0);
	store_invalidation_list_free(all, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_site_names_checked),
	        cmocka_unit_test_setup_teardown(test_create_get_update_list, tu_store_setup,
	                                        tu_store_teardown),
	        cmocka_unit_test_setup_teardown(test_release_numbers_never_reused, tu_store_setup,
	                                        tu_store_teardown),
	        cmocka_unit_test_setup_teardown(test_one_live_release, tu_store_setup,
	                                        tu_store_teardown),
	        cmocka_unit_test_setup_teardown(test_invalidations, tu_store_setup,
	                                        tu_store_teardown),
	        cmocka_unit_test_setup_teardown(test_delete_cascades, tu_store_setup,
	                                        tu_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
