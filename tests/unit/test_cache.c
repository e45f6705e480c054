/* Unit tests for build/cache: the local build cache (spec §7, checklist 43–45). */
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>

#include "build/cache.h"

struct fixture {
	char *root; /* holds src/, home/ and cache/ */
	char *src;
	char *home;
	char *cache;
	struct strv log;
	struct logsink sink;
	struct bs_cache spec;
	struct cache_request req;
};

static void capture(void *ctx, const char *line)
{
	strv_push(ctx, line);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct err err;
	f->root = tu_mkdtemp();
	f->src = fs_join(f->root, "src");
	f->home = fs_join(f->root, "home");
	f->cache = fs_join(f->root, "cache");
	assert_int_equal(fs_mkdir_p(f->src, 0755, &err), 0);
	f->sink.emit = capture;
	f->sink.ctx = &f->log;
	f->spec.present = 1;
	strv_push(&f->spec.paths, "node_modules/**/*");
	f->req.cache_dir = f->cache;
	f->req.src_dir = f->src;
	f->req.spec = &f->spec;
	f->req.home_host = f->home;
	f->req.home_visible = "/root";
	f->req.log = &f->sink;
	tu_write(f->src, "node_modules/left-pad/index.js", "v1\n");
	tu_write(f->src, "node_modules/left-pad/package.json", "{}\n");
	tu_write(f->src, "app.js", "require('left-pad')\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	strv_free(&f->log);
	strv_free(&f->spec.paths);
	strv_free(&f->spec.fallback_keys);
	free(f->spec.key);
	free(f->spec.action);
	free(f->src);
	free(f->home);
	free(f->cache);
	tu_rmdir(f->root);
	free(f);
	return 0;
}

static void set_key(struct fixture *f, const char *key)
{
	free(f->spec.key);
	f->spec.key = key ? xstrdup(key) : NULL;
}

static void set_action(struct fixture *f, const char *action)
{
	free(f->spec.action);
	f->spec.action = action ? xstrdup(action) : NULL;
}

static void save(struct fixture *f)
{
	struct err err;
	if (cache_save(&f->req, &err) != 0)
		fail_msg("cache_save: %s", err.msg);
}

static void restore(struct fixture *f)
{
	struct err err;
	if (cache_restore(&f->req, &err) != 0)
		fail_msg("cache_restore: %s", err.msg);
}

/* Removes what the build produced, as a fresh checkout would not have it. */
static void wipe(struct fixture *f, const char *rel)
{
	char *p = fs_join(f->src, rel);
	struct err err;
	assert_int_equal(fs_rm_rf(p, &err), 0);
	free(p);
}

static int src_has(const struct fixture *f, const char *rel)
{
	char *p = fs_join(f->src, rel);
	int r = fs_exists(p);
	free(p);
	return r;
}

static int logged(const struct fixture *f, const char *line)
{
	return strv_contains(&f->log, line);
}

static int logged_part(const struct fixture *f, const char *part)
{
	for (size_t i = 0; i < f->log.n; i++)
		if (strstr(f->log.v[i], part))
			return 1;
	return 0;
}

static void assert_file(const char *dir, const char *rel, const char *want)
{
	char *got = tu_read(dir, rel);
	assert_string_equal(got, want);
	free(got);
}

/* The path of the entry file named `name` (e.g. "default.tar", "keys/k1.tar"). */
static char *entry_file(struct fixture *f, const char *name)
{
	DIR *d = opendir(f->cache);
	assert_non_null(d);
	struct dirent *e;
	char *found = NULL;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			found = xasprintf("%s/%s/%s", f->cache, e->d_name, name);
	closedir(d);
	assert_non_null(found);
	return found;
}

static void set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = {{t, 0}, {t, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* ---- keyless ---- */

/* §7: what was saved comes back — contents, modes, mtimes and symlinks as links. */
static void test_roundtrip_keeps_content_modes_links(void **state)
{
	struct fixture *f = *state;
	char *js = fs_join(f->src, "node_modules/left-pad/index.js");
	assert_int_equal(chmod(js, 0755), 0);
	set_mtime(js, 1500000000);
	char *bin = fs_join(f->src, "node_modules/.bin");
	struct err err;
	assert_int_equal(fs_mkdir_p(bin, 0755, &err), 0);
	char *link = fs_join(bin, "left-pad");
	assert_int_equal(symlink("../left-pad/index.js", link), 0);
	save(f);
	assert_true(logged(f, "Saved cache entry default (3 files, 6 bytes)"));
	wipe(f, "node_modules");
	restore(f);
	assert_true(logged(f, "Restoring cache from default (3 files)"));
	assert_file(f->src, "node_modules/left-pad/index.js", "v1\n");
	struct stat st;
	assert_int_equal(stat(js, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_mtime, 1500000000);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	char target[256] = {0};
	assert_true(readlink(link, target, sizeof target - 1) > 0);
	assert_string_equal(target, "../left-pad/index.js");
	assert_file(f->src, "app.js", "require('left-pad')\n");
	free(js);
	free(bin);
	free(link);
}

/* §7: without a key there is one mutable entry that each save overwrites. */
static void test_keyless_entry_overwritten(void **state)
{
	struct fixture *f = *state;
	save(f);
	tu_write(f->src, "node_modules/left-pad/index.js", "v2\n");
	save(f);
	wipe(f, "node_modules");
	restore(f);
	assert_file(f->src, "node_modules/left-pad/index.js", "v2\n");
}

/* Restore overwrites stale files the checkout already has. */
static void test_restore_overwrites_existing(void **state)
{
	struct fixture *f = *state;
	save(f);
	tu_write(f->src, "node_modules/left-pad/index.js", "stale, longer content\n");
	restore(f);
	assert_file(f->src, "node_modules/left-pad/index.js", "v1\n");
}

/* Restore with nothing saved yet is a log line, not an error. */
static void test_restore_nothing_yet(void **state)
{
	struct fixture *f = *state;
	restore(f);
	assert_true(logged(f, "No cache entry yet for these cache paths"));
}

/* §7 cache version: a different `paths` list never matches an entry. */
static void test_different_paths_never_match(void **state)
{
	struct fixture *f = *state;
	save(f);
	strv_push(&f->spec.paths, "vendor/**/*");
	wipe(f, "node_modules");
	restore(f);
	assert_false(src_has(f, "node_modules"));
	assert_true(logged(f, "No cache entry yet for these cache paths"));
}

/* §7 [O]: empty paths log CodeBuild's line and restore nothing. */
static void test_no_paths_logged(void **state)
{
	struct fixture *f = *state;
	strv_free(&f->spec.paths);
	restore(f);
	assert_true(
	        logged(f, "Unable to initialize cache download: no paths specified to be cached"));
	save(f);
	assert_false(fs_exists(f->cache));
}

/* A build without a cache section touches nothing. */
static void test_absent_cache_section_noop(void **state)
{
	struct fixture *f = *state;
	f->spec.present = 0;
	save(f);
	restore(f);
	assert_false(fs_exists(f->cache));
	assert_int_equal(f->log.n, 0);
}

/* Nothing to save: no entry is written (an empty entry would wipe a good one). */
static void test_nothing_matched_nothing_saved(void **state)
{
	struct fixture *f = *state;
	wipe(f, "node_modules");
	save(f);
	assert_true(logged(f, "No files match the cache paths; nothing saved"));
	restore(f);
	assert_true(logged(f, "No cache entry yet for these cache paths"));
}

/* ---- keys ---- */

/* Checklist 43: an entry under a key is restored and never overwritten. */
static void test_keyed_entry_immutable(void **state)
{
	struct fixture *f = *state;
	set_key(f, "k1");
	save(f);
	tu_write(f->src, "node_modules/left-pad/index.js", "v2\n");
	save(f);
	assert_true(logged(f, "Cache entry k1 already exists; keyed entries are not updated"));
	wipe(f, "node_modules");
	restore(f);
	assert_true(logged(f, "Restoring cache from k1 (2 files)"));
	assert_file(f->src, "node_modules/left-pad/index.js", "v1\n");
}

/* Checklist 45: key k2 missing, fallback `k` restores the newest entry starting with k. */
static void test_fallback_prefix_newest(void **state)
{
	struct fixture *f = *state;
	set_key(f, "k-old");
	save(f);
	tu_write(f->src, "node_modules/left-pad/index.js", "new\n");
	set_key(f, "k-new");
	save(f);
	tu_write(f->src, "node_modules/left-pad/index.js", "unrelated\n");
	set_key(f, "other");
	save(f);
	char *old = entry_file(f, "keys/k-old.tar"), *new = entry_file(f, "keys/k-new.tar");
	char *other = entry_file(f, "keys/other.tar");
	set_mtime(old, 1000);
	set_mtime(new, 2000);
	set_mtime(other, 3000);
	wipe(f, "node_modules");
	set_key(f, "k2");
	strv_push(&f->spec.fallback_keys, "k");
	restore(f);
	assert_true(logged(f, "Restoring cache from k-new (2 files)"));
	assert_file(f->src, "node_modules/left-pad/index.js", "new\n");
	free(old);
	free(new);
	free(other);
}

/* §7: fallback keys are tried in order; the first that matches wins. */
static void test_fallback_keys_in_order(void **state)
{
	struct fixture *f = *state;
	set_key(f, "a-1");
	save(f);
	tu_write(f->src, "node_modules/left-pad/index.js", "b\n");
	set_key(f, "b-1");
	save(f);
	wipe(f, "node_modules");
	set_key(f, "zzz");
	strv_push(&f->spec.fallback_keys, "nope");
	strv_push(&f->spec.fallback_keys, "a");
	strv_push(&f->spec.fallback_keys, "b");
	restore(f);
	assert_file(f->src, "node_modules/left-pad/index.js", "v1\n");
}

/* No exact key and no fallback match: a log line naming them, nothing restored. */
static void test_no_key_match_logged(void **state)
{
	struct fixture *f = *state;
	set_key(f, "k1");
	save(f);
	wipe(f, "node_modules");
	set_key(f, "k9");
	strv_push(&f->spec.fallback_keys, "x");
	strv_push(&f->spec.fallback_keys, "y");
	restore(f);
	assert_true(logged(f, "No cache entry matches key k9, fallback keys x, y"));
	assert_false(src_has(f, "node_modules"));
}

/* Keys with '/', ':' or a leading '.' are escaped in file names; prefixes still work. */
static void test_key_escaping_keeps_prefixes(void **state)
{
	struct fixture *f = *state;
	set_key(f, ".npm/linux:x86_64-abc");
	save(f);
	wipe(f, "node_modules");
	set_key(f, ".npm/linux:x86_64-def");
	strv_push(&f->spec.fallback_keys, ".npm/linux:");
	restore(f);
	assert_true(logged(f, "Restoring cache from .npm/linux:x86_64-abc (2 files)"));
	assert_file(f->src, "node_modules/left-pad/index.js", "v1\n");
}

/* Checklist 44: action restore never saves; action save never restores. */
static void test_action_restore_and_save(void **state)
{
	struct fixture *f = *state;
	set_action(f, "restore");
	save(f);
	assert_true(logged(f, "Cache action is restore; the cache is not saved"));
	assert_false(fs_exists(f->cache));
	set_action(f, "save");
	save(f);
	wipe(f, "node_modules");
	restore(f);
	assert_true(logged(f, "Cache action is save; the cache is not restored"));
	assert_false(src_has(f, "node_modules"));
	set_action(f, NULL);
	restore(f);
	assert_file(f->src, "node_modules/left-pad/index.js", "v1\n");
}

/* ---- home directory and hostile input ---- */

/* §7: absolute paths below $HOME (as the build sees it) are cached from home_host. */
static void test_home_paths_mapped(void **state)
{
	struct fixture *f = *state;
	tu_write(f->home, ".m2/repository/junit.jar", "jar");
	strv_free(&f->spec.paths);
	strv_push(&f->spec.paths, "/root/.m2/**/*");
	strv_push(&f->spec.paths, "/opt/tools/**/*");
	save(f);
	assert_true(logged_part(f, "Skipping cache path /opt/tools/**/*"));
	char *m2 = fs_join(f->home, ".m2");
	struct err err;
	assert_int_equal(fs_rm_rf(m2, &err), 0);
	restore(f);
	assert_file(f->home, ".m2/repository/junit.jar", "jar");
	free(m2);
}

/* Links out of the tree are not saved, so a restore cannot recreate them. */
static void test_links_out_of_tree_not_cached(void **state)
{
	struct fixture *f = *state;
	char *l = fs_join(f->src, "node_modules/etc");
	assert_int_equal(symlink("/etc", l), 0);
	save(f);
	assert_true(logged_part(f, "outside"));
	wipe(f, "node_modules");
	restore(f);
	assert_false(fs_exists(l));
	assert_file(f->src, "node_modules/left-pad/index.js", "v1\n");
	free(l);
}

static void tar_add(struct archive *a, const char *name, mode_t type, const char *data)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, 0644);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, data);
	else
		archive_entry_set_size(e, (la_int64_t)strlen(data));
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (type == AE_IFREG)
		assert_int_equal(archive_write_data(a, data, strlen(data)),
		                 (la_ssize_t)strlen(data));
	archive_entry_free(e);
}

/* cache.h: restore never writes outside src_dir or home_host, even from a tampered
 * entry: `..`, absolute names, links leaving the tree, writing through a link that is
 * already in the checkout or that an earlier member made. */
static void test_tampered_entry_cannot_escape(void **state)
{
	struct fixture *f = *state;
	save(f);
	char *entry = entry_file(f, "default.tar");
	char *outside = fs_join(f->root, "outside");
	struct err err;
	assert_int_equal(fs_mkdir_p(outside, 0755, &err), 0);
	char *planted = fs_join(f->src, "planted");
	assert_int_equal(symlink(outside, planted), 0);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, entry), ARCHIVE_OK);
	tar_add(a, "src/../outside/dotdot", AE_IFREG, "x");
	tar_add(a, "src//abs", AE_IFREG, "x");
	tar_add(a, "home/../outside/home", AE_IFREG, "x");
	tar_add(a, "src/abs-link", AE_IFLNK, outside);
	tar_add(a, "src/sub/up-link", AE_IFLNK, "../../outside");
	tar_add(a, "src/inner-link", AE_IFLNK, "sub");
	tar_add(a, "src/inner-link/through-made-link", AE_IFREG, "x");
	tar_add(a, "src/planted/through-planted-link", AE_IFREG, "x");
	tar_add(a, "../outside/raw", AE_IFREG, "x");
	tar_add(a, "src/ok.txt", AE_IFREG, "fine");
	archive_write_close(a);
	archive_write_free(a);
	restore(f);
	DIR *d = opendir(outside);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 0);
	assert_false(fs_exists("/abs"));
	assert_false(src_has(f, "abs-link"));
	assert_false(src_has(f, "sub/up-link"));
	assert_true(src_has(f, "inner-link"));
	assert_false(src_has(f, "sub/through-made-link"));
	assert_file(f->src, "ok.txt", "fine");
	assert_true(
	        logged(f, "Warning: cache member src/../outside/dotdot not restored: unsafe name"));
	assert_true(logged_part(
	        f, "src/planted/through-planted-link not restored: planted is not a directory"));
	assert_true(
	        logged_part(f, "src/inner-link/through-made-link not restored: inner-link is not"));
	assert_true(logged_part(f, "src/abs-link not restored: symbolic link to"));
	assert_true(logged(f, "Restored 2 files from cache entry default"));
	free(entry);
	free(outside);
	free(planted);
}

/* Saves are atomic: no temporary is left beside the entries. */
static void test_no_temporary_left(void **state)
{
	struct fixture *f = *state;
	save(f);
	char *entry = entry_file(f, "default.tar");
	*strrchr(entry, '/') = '\0';
	DIR *d = opendir(entry);
	struct dirent *e;
	while ((e = readdir(d)))
		assert_null(strstr(e->d_name, "tmp"));
	closedir(d);
	free(entry);
}

/* A tree the size of a small node_modules round-trips completely. */
static void test_many_files_roundtrip(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 500; i++) {
		char rel[64], body[32];
		snprintf(rel, sizeof rel, "node_modules/p%d/lib/m%d.js", i % 50, i);
		snprintf(body, sizeof body, "%d\n", i);
		tu_write(f->src, rel, body);
	}
	save(f);
	wipe(f, "node_modules");
	restore(f);
	assert_true(logged(f, "Restoring cache from default (502 files)"));
	assert_true(logged(f, "Restored 502 files from cache entry default"));
	assert_file(f->src, "node_modules/p49/lib/m499.js", "499\n");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_roundtrip_keeps_content_modes_links),
	        T(test_keyless_entry_overwritten),
	        T(test_restore_overwrites_existing),
	        T(test_restore_nothing_yet),
	        T(test_different_paths_never_match),
	        T(test_no_paths_logged),
	        T(test_absent_cache_section_noop),
	        T(test_nothing_matched_nothing_saved),
	        T(test_keyed_entry_immutable),
	        T(test_fallback_prefix_newest),
	        T(test_fallback_keys_in_order),
	        T(test_no_key_match_logged),
	        T(test_key_escaping_keeps_prefixes),
	        T(test_action_restore_and_save),
	        T(test_home_paths_mapped),
	        T(test_links_out_of_tree_not_cached),
	        T(test_tampered_entry_cannot_escape),
	        T(test_no_temporary_left),
	        T(test_many_files_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
