/* Unit tests for sites/site: releases published from zips (S3 Deploy semantics, spec
 * §4.4), numbered, pruned past `keep`, rolled back; hostile zips refused whole; and
 * readers that never see a missing file or a mix of two releases while deploys and
 * rollbacks switch `live` under them. Also the deploy_s3 action's result.json. */
#include "store_testutil.h"

#include "test_actions.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "sites/site.h"
#include "store/sites.h"
#include "store/store.h"

struct fixture {
	char *tmp;
	char *data;
	struct store *st;
	int nzip;
};

static void add_site(struct fixture *f, const char *name, int keep)
{
	struct store_site s = {.name = (char *)name, .keep = keep};
	struct err err;
	if (store_site_create(f->st, &s, &err) != 0)
		fail_msg("store_site_create: %s", err.msg);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->st = tu_store_open(&f->tmp, &f->data);
	add_site(f, "web", 3);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tu_store_close(f->st, f->tmp, f->data);
	free(f);
	return 0;
}

/* A zip of (name, content) pairs in the fixture's directory; to free. */
static char *zip_of(struct fixture *f, const char *const *files)
{
	char *path = xasprintf("%s/in-%d.zip", f->tmp, f->nzip++);
	ta_zip_write(path, files);
	return path;
}

static int deploy_opts(struct fixture *f, const char *zip, int extract, const char *key, int64_t *n,
                       struct err *err)
{
	struct site_deploy d = {.site = "web",
	                        .zip = zip,
	                        .extract = extract,
	                        .object_key = key,
	                        .cache_control = "max-age=60",
	                        .source = "test"};
	return site_deploy(f->st, f->data, &d, n, err);
}

/* Deploys the files; returns the release number. */
static int64_t deploy(struct fixture *f, const char *const *files)
{
	char *zip = zip_of(f, files);
	int64_t n = 0;
	struct err err;
	if (deploy_opts(f, zip, 1, "", &n, &err) != 0)
		fail_msg("site_deploy: %s", err.msg);
	free(zip);
	return n;
}

/* The live release's file `rel` (NULL when missing); *number its release. To free. */
static char *live_read(struct fixture *f, const char *rel, int64_t *number)
{
	struct err err;
	int64_t n = 0;
	int dir = site_live_open(f->data, "web", &n, &err);
	if (dir < 0)
		fail_msg("site_live_open: %s", err.msg);
	if (number)
		*number = n;
	int fd = openat(dir, rel, O_RDONLY | O_CLOEXEC);
	close(dir);
	if (fd < 0)
		return NULL;
	char buf[4096];
	ssize_t len = read(fd, buf, sizeof buf - 1);
	close(fd);
	assert_true(len >= 0);
	buf[len] = '\0';
	return xstrdup(buf);
}

static void assert_live(struct fixture *f, const char *rel, const char *want)
{
	char *got = live_read(f, rel, NULL);
	if (!got)
		fail_msg("%s is missing from the live release", rel);
	assert_string_equal(got, want);
	free(got);
}

/* The releases' numbers, newest first, as "4 3* 2" (* marks the live one). */
static char *releases_text(struct fixture *f)
{
	struct store_release *r = NULL;
	size_t n = 0;
	struct err err;
	if (store_release_list(f->st, "web", &r, &n, &err) != 0)
		fail_msg("store_release_list: %s", err.msg);
	struct buf b;
	buf_init(&b, 4096);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "%s%lld%s", i ? " " : "", (long long)r[i].number,
		                            r[i].live ? "*" : ""),
		                 0);
	store_release_list_free(r, n);
	char *s = buf_detach(&b);
	return s ? s : xstrdup("");
}

static void assert_releases(struct fixture *f, const char *want)
{
	char *got = releases_text(f);
	assert_string_equal(got, want);
	free(got);
}

static int release_dir_exists(struct fixture *f, int64_t n)
{
	char *p = xasprintf("%s/sites/web/releases/%lld", f->data, (long long)n);
	int e = fs_exists(p);
	free(p);
	return e;
}

/* Each deploy is a new release, made live; files not in the zip are kept (S3). */
static void test_deploy_numbers_releases(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(deploy(f, (const char *[]){"index.html", "v1", "a/b.txt", "b1", NULL}), 1);
	assert_live(f, "index.html", "v1");
	assert_int_equal(deploy(f, (const char *[]){"index.html", "v2", NULL}), 2);
	assert_live(f, "index.html", "v2");
	assert_live(f, "a/b.txt", "b1");
	assert_releases(f, "2* 1");
	/* release 1 is immutable: the new index.html replaced a link, not its content */
	char *old = xasprintf("%s/sites/web/releases/1", f->data);
	char *v1 = tu_read(old, "index.html");
	assert_string_equal(v1, "v1");
	free(v1);
	free(old);
	struct store_release *r = NULL;
	size_t n = 0;
	struct err err;
	assert_int_equal(store_release_list(f->st, "web", &r, &n, &err), 0);
	assert_int_equal(r[0].files, 2);
	assert_string_equal(r[0].cache_control, "max-age=60");
	assert_string_equal(r[0].source, "test");
	store_release_list_free(r, n);
}

/* Releases past `keep` are deleted after the switch; numbers are never reused. */
static void test_keep_prunes_old_releases(void **state)
{
	struct fixture *f = *state;
	for (int i = 1; i <= 5; i++)
		deploy(f, (const char *[]){"index.html", "v", NULL});
	assert_releases(f, "5* 4 3");
	assert_false(release_dir_exists(f, 1));
	assert_false(release_dir_exists(f, 2));
	assert_true(release_dir_exists(f, 3));
	assert_int_equal(deploy(f, (const char *[]){"index.html", "v", NULL}), 6);
}

/* A rollback publishes a copy of a kept release as a new, live one. */
static void test_rollback(void **state)
{
	struct fixture *f = *state;
	deploy(f, (const char *[]){"index.html", "v1", NULL});
	deploy(f, (const char *[]){"index.html", "v2", "new.html", "n", NULL});
	int64_t n = 0;
	struct err err;
	assert_int_equal(site_rollback(f->st, f->data, "web", 0, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_live(f, "index.html", "v1");
	assert_null(live_read(f, "new.html", NULL));
	assert_int_equal(site_rollback(f->st, f->data, "web", 2, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_live(f, "index.html", "v2");
	assert_releases(f, "4* 3 2");
	struct store_release *r = NULL;
	size_t nr = 0;
	assert_int_equal(store_release_list(f->st, "web", &r, &nr, &err), 0);
	assert_string_equal(r[0].source, "rollback to 2");
	assert_string_equal(r[1].source, "rollback to 1");
	store_release_list_free(r, nr);
	/* release 1 was pruned; 4 is live */
	assert_int_equal(site_rollback(f->st, f->data, "web", 1, &n, &err), SITE_ENOTFOUND);
	assert_non_null(strstr(err.msg, "release 1 is not kept"));
	assert_int_equal(site_rollback(f->st, f->data, "web", 4, &n, &err), SITE_EINVALID);
	assert_non_null(strstr(err.msg, "release 4 is live already"));
	assert_releases(f, "4* 3 2");
}

/* ObjectKey is the deployment path: the zip lands under it, the rest stays. */
static void test_object_key_prefix_keeps_other_files(void **state)
{
	struct fixture *f = *state;
	deploy(f, (const char *[]){"index.html", "root", NULL});
	char *zip = zip_of(f, (const char *[]){"index.html", "docs", "img/a.txt", "a", NULL});
	int64_t n = 0;
	struct err err;
	assert_int_equal(deploy_opts(f, zip, 1, "/docs/", &n, &err), 0);
	assert_live(f, "index.html", "root");
	assert_live(f, "docs/index.html", "docs");
	assert_live(f, "docs/img/a.txt", "a");
	assert_int_equal(deploy_opts(f, zip, 1, "../up", &n, &err), SITE_EINVALID);
	assert_non_null(strstr(err.msg, "ObjectKey \"../up\""));
	free(zip);
}

/* Extract false: the zip itself is stored as the one file ObjectKey. */
static void test_extract_false_stores_the_zip(void **state)
{
	struct fixture *f = *state;
	deploy(f, (const char *[]){"index.html", "root", NULL});
	char *zip = zip_of(f, (const char *[]){"a.txt", "a", NULL});
	int64_t n = 0;
	struct err err;
	assert_int_equal(deploy_opts(f, zip, 0, "bundles/site.zip", &n, &err), 0);
	char *dir = xasprintf("%s/sites/web/live", f->data);
	char *a = fs_join(dir, "bundles/site.zip"), *want = NULL, *got = NULL;
	size_t la = 0, lb = 0;
	assert_int_equal(fs_read_file(a, 1 << 20, &got, &la, &err), 0);
	assert_int_equal(fs_read_file(zip, 1 << 20, &want, &lb, &err), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(got, want, la);
	assert_live(f, "index.html", "root");
	assert_null(live_read(f, "a.txt", NULL));
	assert_int_equal(deploy_opts(f, zip, 0, "", &n, &err), SITE_EINVALID);
	assert_non_null(strstr(err.msg, "ObjectKey is required"));
	free(got);
	free(want);
	free(a);
	free(dir);
	free(zip);
}

/* ---- hostile zips ---- */

enum { E_FILE, E_SYMLINK, E_HARDLINK };

struct entry {
	const char *name;
	int kind;
	const char *data; /* content, or link target */
};

static char *zip_entries(struct fixture *f, const struct entry *e, size_t n)
{
	char *path = xasprintf("%s/hostile-%d.zip", f->tmp, f->nzip++);
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_perm(ae, 0644);
		if (e[i].kind == E_SYMLINK) {
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, e[i].data);
		} else {
			archive_entry_set_filetype(ae, AE_IFREG);
			if (e[i].kind == E_HARDLINK)
				archive_entry_set_hardlink(ae, e[i].data);
			archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
		}
		assert_true(archive_write_header(a, ae) >= ARCHIVE_WARN);
		if (e[i].kind == E_FILE)
			assert_int_equal(archive_write_data(a, e[i].data, strlen(e[i].data)),
			                 (la_ssize_t)strlen(e[i].data));
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return path;
}

/* Refused with SITE_EINVALID, the entry named; the live release is untouched and
 * nothing was written outside it. */
static void assert_refused(struct fixture *f, const struct entry *e, size_t n, const char *named)
{
	char *zip = zip_entries(f, e, n);
	int64_t num = 0, live = 0;
	struct err err;
	int rc = deploy_opts(f, zip, 1, "", &num, &err);
	if (rc != SITE_EINVALID)
		fail_msg("%s: deployed (rc %d): %s", named, rc, rc ? err.msg : "");
	if (!strstr(err.msg, named))
		fail_msg("the error does not name %s: %s", named, err.msg);
	assert_live(f, "index.html", "safe");
	char *got = live_read(f, "index.html", &live);
	free(got);
	assert_int_equal(live, 1);
	assert_releases(f, "1*");
	char *evil = fs_join(f->tmp, "evil.txt");
	assert_false(fs_exists(evil));
	free(evil);
	free(zip);
}

static void test_hostile_zips_refused(void **state)
{
	struct fixture *f = *state;
	deploy(f, (const char *[]){"index.html", "safe", NULL});
	char *abs = fs_join(f->tmp, "evil.txt");
	char *up = xstrdup("../../../../evil.txt");
	assert_refused(f, (struct entry[]){{"ok.txt", E_FILE, "x"}, {up, E_FILE, "evil"}}, 2,
	               "\"../../../../evil.txt\" climbs out");
	assert_refused(f, (struct entry[]){{abs, E_FILE, "evil"}}, 1, "is an absolute path");
	assert_refused(f, (struct entry[]){{"link", E_SYMLINK, abs}}, 1,
	               "\"link\" is a symbolic link");
	free(abs);
	free(up);
}

/* A zip cannot carry a hard link: libarchive writes one as an empty regular entry.
 * What is published from it is a file of its own, linked to nothing (site_zip.c
 * still refuses a hard-link entry should a reader ever report one). */
static void test_hard_link_entry_is_not_linked(void **state)
{
	struct fixture *f = *state;
	char *zip = zip_entries(
	        f, (struct entry[]){{"index.html", E_FILE, "x"}, {"again.html", E_HARDLINK, ""}},
	        2);
	int64_t n = 0;
	struct err err;
	if (deploy_opts(f, zip, 1, "", &n, &err) != 0)
		fail_msg("site_deploy: %s", err.msg);
	char *dir = xasprintf("%s/sites/web/releases/%lld", f->data, (long long)n);
	char *a = fs_join(dir, "index.html"), *b = fs_join(dir, "again.html");
	struct stat sa, sb;
	assert_int_equal(lstat(a, &sa), 0);
	assert_int_equal(lstat(b, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_nlink, 1);
	assert_true(sa.st_ino != sb.st_ino);
	assert_int_equal(sb.st_size, 0);
	free(a);
	free(b);
	free(dir);
	free(zip);
}

/* More than SITE_ENTRIES_MAX entries: refused before anything is written. */
static void test_too_many_entries_refused(void **state)
{
	struct fixture *f = *state;
	deploy(f, (const char *[]){"index.html", "safe", NULL});
	size_t n = SITE_ENTRIES_MAX + 1;
	struct entry *e = xcalloc(n, sizeof *e);
	char **names = xcalloc(n, sizeof *names);
	for (size_t i = 0; i < n; i++) {
		names[i] = xasprintf("f%zu", i);
		e[i] = (struct entry){names[i], E_FILE, ""};
	}
	assert_refused(f, e, n, "more than 100000 entries");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(e);
}

static void test_unknown_site(void **state)
{
	struct fixture *f = *state;
	char *zip = zip_of(f, (const char *[]){"a", "b", NULL});
	struct site_deploy d = {.site = "nope", .zip = zip, .extract = 1};
	int64_t n = 0;
	struct err err;
	assert_int_equal(site_deploy(f->st, f->data, &d, &n, &err), SITE_ENOTFOUND);
	assert_string_equal(err.msg, "site nope does not exist (ferry site create nope)");
	free(zip);
}

/* ---- readers during switches ---- */

struct reader {
	struct fixture *f;
	atomic_int stop;
	long reads, retries;
	char failure[ERR_MSG_MAX + 64];
};

/* Reads a.txt and b.txt from one resolution of `live`, as the edge serves a request. */
static int read_pair(struct reader *r, char *a, char *b, size_t size)
{
	for (;;) {
		int64_t n = 0, now = 0;
		struct err err;
		int dir = site_live_open(r->f->data, "web", &n, &err);
		if (dir < 0) {
			snprintf(r->failure, sizeof r->failure, "site_live_open: %s", err.msg);
			return -1;
		}
		int missing = 0;
		const char *names[2] = {"a.txt", "b.txt"};
		char *out[2] = {a, b};
		for (int i = 0; i < 2 && !missing; i++) {
			int fd = openat(dir, names[i], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				missing = 1;
				break;
			}
			ssize_t len = read(fd, out[i], size - 1);
			close(fd);
			out[i][len > 0 ? len : 0] = '\0';
		}
		close(dir);
		if (!missing)
			return 0;
		/* site.h: a missing file in a release no longer live: start over */
		if (site_live_number(r->f->data, "web", &now) == 0 && now != n) {
			r->retries++;
			continue;
		}
		snprintf(r->failure, sizeof r->failure, "a file is missing from live release %lld",
		         (long long)n);
		return -1;
	}
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	char a[64], b[64];
	while (!atomic_load(&r->stop)) {
		if (read_pair(r, a, b, sizeof a) < 0)
			return NULL;
		if (strcmp(a, b) || strncmp(a, "release-", 8)) {
			snprintf(r->failure, sizeof r->failure, "a mix: a.txt \"%s\", b.txt \"%s\"",
			         a, b);
			return NULL;
		}
		r->reads++;
	}
	return NULL;
}

static void test_readers_never_see_a_mix_or_a_hole(void **state)
{
	struct fixture *f = *state;
	/* keep 2: every switch prunes, so readers do run into pruned releases */
	struct store_site s = {.name = "web", .keep = 2};
	struct err err;
	assert_int_equal(store_site_update(f->st, &s, &err), 0);
	deploy(f, (const char *[]){"a.txt", "release-0", "b.txt", "release-0", NULL});
	struct reader r = {.f = f};
	atomic_init(&r.stop, 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
	for (int i = 1; i <= 50 && !r.failure[0]; i++) {
		if (i % 3 == 0) {
			int64_t n = 0;
			if (site_rollback(f->st, f->data, "web", 0, &n, &err) != 0)
				fail_msg("site_rollback: %s", err.msg);
		} else {
			char marker[32];
			snprintf(marker, sizeof marker, "release-%d", i);
			deploy(f, (const char *[]){"a.txt", marker, "b.txt", marker, NULL});
		}
	}
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	if (r.failure[0])
		fail_msg("%s (after %ld good reads)", r.failure, r.reads);
	assert_true(r.reads > 0);
	print_message("%ld reads, %ld restarted on a pruned release\n", r.reads, r.retries);
}

/* ---- the deploy_s3 action ---- */

static json_t *run_deploy_job(struct fixture *f, const char *site, const char *zip)
{
	char *job_dir = fs_join(f->tmp, "job");
	char *text = xasprintf(
	        "{\"kind\": \"deploy_s3\", \"pipeline\": \"p\", \"executionId\": \"e1\","
	        " \"stage\": \"Deploy\", \"action\": \"Upload\", \"dataDir\": \"%s\","
	        " \"workDir\": \"%s/work\", \"configuration\": {},"
	        " \"inputs\": [{\"name\": \"out\", \"path\": \"%s\", \"revision\": \"abc123\"}],"
	        " \"outputs\": [],"
	        " \"deploy\": {\"site\": \"%s\", \"extract\": true, \"objectKey\": \"\","
	        " \"cacheControl\": \"no-cache\"}}",
	        f->data, job_dir, zip, site);
	json_t *res = ta_run_job(job_dir, text);
	free(text);
	free(job_dir);
	return res;
}

static void test_deploy_action_result(void **state)
{
	struct fixture *f = *state;
	char *zip = zip_of(f, (const char *[]){"index.html", "hi", "a/b.css", "b", NULL});
	json_t *res = run_deploy_job(f, "web", zip);
	assert_string_equal(ta_str(res, "status"), "Succeeded");
	assert_string_equal(ta_str(res, "summary"), "Deployed release 1 of site web (2 files)");
	assert_string_equal(ta_str(res, "externalExecutionId"), "web:1");
	assert_string_equal(ta_str(res, "outputVariables.ReleaseNumber"), "1");
	assert_string_equal(ta_str(res, "outputVariables.SiteName"), "web");
	json_decref(res);
	assert_live(f, "index.html", "hi");
	struct store_release *r = NULL;
	size_t n = 0;
	struct err err;
	assert_int_equal(store_release_list(f->st, "web", &r, &n, &err), 0);
	assert_string_equal(r[0].source, "pipeline p execution e1 action Upload");
	assert_string_equal(r[0].revision, "abc123");
	assert_string_equal(r[0].cache_control, "no-cache");
	store_release_list_free(r, n);

	res = run_deploy_job(f, "missing", zip);
	assert_string_equal(ta_str(res, "status"), "Failed");
	assert_string_equal(ta_str(res, "summary"),
	                    "site missing does not exist (ferry site create missing)");
	json_decref(res);
	free(zip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_deploy_numbers_releases, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_keep_prunes_old_releases, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_object_key_prefix_keeps_other_files, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_extract_false_stores_the_zip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hostile_zips_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hard_link_entry_is_not_linked, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_too_many_entries_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unknown_site, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_readers_never_see_a_mix_or_a_hole, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_deploy_action_result, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
