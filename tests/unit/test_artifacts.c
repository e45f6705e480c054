/* Unit tests for build/artifacts: file selection and the artifact zip (spec §6). */
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>

#include "build/artifacts.h"
#include "build/md5.h"
#include "build/pack.h"

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

struct fixture {
	char *src; /* the source directory */
	char *out; /* where zips go */
	char *zip; /* out/a.zip */
	struct strv log;
	struct logsink sink;
	struct bs_artifacts spec;
	struct artifact_result res;
};

static void capture(void *ctx, const char *line)
{
	strv_push(ctx, line);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->src = tu_mkdtemp();
	f->out = tu_mkdtemp();
	f->zip = fs_join(f->out, "a.zip");
	f->sink.emit = capture;
	f->sink.ctx = &f->log;
	/* The source tree of buildspec.md §6.3. */
	tu_write(f->src, "README.md", "readme\n");
	tu_write(f->src, ".env", "X=1\n");
	tu_write(f->src, "src/app.c", "int main;\n");
	tu_write(f->src, "build/app", "ELF\n");
	tu_write(f->src, "build/.hidden", "h\n");
	tu_write(f->src, "build/lib/libx.so", "so\n");
	tu_write(f->src, "docs/guide/index.html", "<html>\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tu_rmdir(f->src);
	tu_rmdir(f->out);
	free(f->zip);
	strv_free(&f->log);
	strv_free(&f->spec.files);
	strv_free(&f->spec.exclude_paths);
	free(f->spec.base_directory);
	free(f);
	return 0;
}

static void set_files(struct fixture *f, const char *const *files)
{
	strv_free(&f->spec.files);
	for (; *files; files++)
		strv_push(&f->spec.files, *files);
}

static void set_base(struct fixture *f, const char *base)
{
	free(f->spec.base_directory);
	f->spec.base_directory = base ? xstrdup(base) : NULL;
}

static int zip(struct fixture *f)
{
	struct err err;
	int rc = artifacts_zip(f->src, &f->spec, f->zip, &f->sink, &f->res, &err);
	if (rc < 0)
		fail_msg("artifacts_zip: %s", err.msg);
	return rc;
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

struct zentry {
	char *name;
	mode_t mode; /* type and permission bits */
	time_t mtime;
	char *data;    /* file content */
	char *symlink; /* link target */
};

/* Reads the zip back with libarchive, in stored order. */
static size_t read_zip(const char *path, struct zentry *out, size_t max)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_zip(a);
	assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	struct archive_entry *e;
	size_t n = 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		assert_true(n < max);
		struct zentry *z = &out[n++];
		z->name = xstrdup(archive_entry_pathname(e));
		z->mode = archive_entry_mode(e);
		z->mtime = archive_entry_mtime(e);
		const char *l = archive_entry_symlink(e);
		z->symlink = l ? xstrdup(l) : NULL;
		struct buf b;
		buf_init(&b, 1 << 20);
		char chunk[4096];
		la_ssize_t k;
		while ((k = archive_read_data(a, chunk, sizeof chunk)) > 0)
			assert_int_equal(buf_append(&b, chunk, (size_t)k), 0);
		z->data = buf_detach(&b);
	}
	archive_read_free(a);
	return n;
}

static void zentries_free(struct zentry *z, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(z[i].name);
		free(z[i].data);
		free(z[i].symlink);
	}
}

/* The stored names, space-separated, in zip order. */
static char *zip_names(const char *path)
{
	struct zentry z[64];
	size_t n = read_zip(path, z, 64);
	struct buf b;
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "%s%s", i ? " " : "", z[i].name), 0);
	zentries_free(z, n);
	return buf_detach(&b);
}

static void assert_stored(struct fixture *f, const char *want)
{
	assert_int_equal(zip(f), 0);
	char *got = zip_names(f->zip);
	assert_string_equal(got, want);
	free(got);
}

/* ---- MD5 and hashes ---- */

static char *md5_of(const char *s)
{
	struct md5_ctx c;
	uint8_t d[16];
	char *hex = xmalloc(33);
	md5_init(&c);
	md5_update(&c, s, strlen(s));
	md5_final(&c, d);
	md5_hex(d, 16, hex);
	return hex;
}

/* RFC 1321 appendix A.5 test suite (the checksum recorded as content-md5, §6.4). */
static void test_md5_rfc1321_vectors(void **state)
{
	(void)state;
	static const char *const v[][2] = {
	        {"", "d41d8cd98f00b204e9800998ecf8427e"},
	        {"a", "0cc175b9c0f1b6a831c399e269772661"},
	        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
	        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
	        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
	        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	         "d174ab98d277d9f5a5611c2c9f419d9f"},
	        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
	         "57edf4a22be3c955ac49da2e2107b67a"},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char *h = md5_of(v[i][0]);
		assert_string_equal(h, v[i][1]);
		free(h);
	}
}

/* MD5 fed in odd-sized pieces equals MD5 of the whole (block boundaries). */
static void test_md5_streaming_equals_oneshot(void **state)
{
	(void)state;
	char data[1000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7 + 3);
	uint8_t a[16], b[16];
	struct md5_ctx c;
	md5_init(&c);
	md5_update(&c, data, sizeof data);
	md5_final(&c, a);
	md5_init(&c);
	for (size_t off = 0, step = 1; off < sizeof data; off += step, step = step * 3 % 97 + 1)
		md5_update(&c, data + off, off + step > sizeof data ? sizeof data - off : step);
	md5_final(&c, b);
	assert_memory_equal(a, b, 16);
}

/* artifacts_hash_file gives sha256 (FIPS 180-2 "abc" vector), md5 and the size. */
static void test_hash_file(void **state)
{
	struct fixture *f = *state;
	tu_write(f->out, "abc", "abc");
	char *p = fs_join(f->out, "abc");
	char sha[65], md5[33];
	int64_t size = 0;
	struct err err;
	assert_int_equal(artifacts_hash_file(p, sha, md5, &size, &err), 0);
	assert_string_equal(sha,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(md5, "900150983cd24fb0d6963f7d28e17f72");
	assert_int_equal(size, 3);
	free(p);
}

/* ---- §6.3 worked examples, one test per row ---- */

/* Checklist 34 / §6.3 row 1: everything, top-level, nested and dot-files. */
static void test_row1_all_files(void **state)
{
	struct fixture *f = *state;
	set_files(f, LIST("**/*"));
	assert_stored(f, ".env README.md build/.hidden build/app build/lib/libx.so "
	                 "docs/guide/index.html src/app.c");
	assert_int_equal(f->res.nfiles, 7);
}

/* §6.3 row 2: a one-level wildcard under build stores only files directly inside. */
static void test_row2_build_star(void **state)
{
	struct fixture *f = *state;
	set_files(f, LIST("build/*"));
	assert_stored(f, "build/.hidden build/app");
}

/* §6.3 row 3: build, `**`, wildcard: everything below build, with the build/ prefix. */
static void test_row3_build_doublestar(void **state)
{
	struct fixture *f = *state;
	set_files(f, LIST("build/**/*"));
	assert_stored(f, "build/.hidden build/app build/lib/libx.so");
}

/* Checklist 35 / §6.3 row 4: base-directory prefix not stored. */
static void test_row4_base_directory_prefix_not_stored(void **state)
{
	struct fixture *f = *state;
	set_base(f, "build");
	set_files(f, LIST("**/*"));
	assert_stored(f, ".hidden app lib/libx.so");
}

/* Checklist 36 / §6.3 row 5: discard-paths stores bare file names. */
static void test_row5_discard_paths_bare_names(void **state)
{
	struct fixture *f = *state;
	set_base(f, "build");
	set_files(f, LIST("**/*"));
	f->spec.discard_paths = 1;
	assert_stored(f, ".hidden app libx.so");
}

/* §6.3 row 6: two patterns with discard-paths. */
static void test_row6_two_patterns_discarded(void **state)
{
	struct fixture *f = *state;
	set_files(f, LIST("**/*.html", "README.md"));
	f->spec.discard_paths = 1;
	assert_stored(f, "README.md index.html");
}

/* Checklist 37 / §6.3 row 7: exclude-paths of dot-files drops .env and build/.hidden. */
static void test_row7_exclude_dotfiles(void **state)
{
	struct fixture *f = *state;
	set_files(f, LIST("**/*"));
	strv_push(&f->spec.exclude_paths, "**/.*");
	assert_stored(f, "README.md build/app build/lib/libx.so docs/guide/index.html src/app.c");
}

/* §6.1: exclude-paths are relative to base-directory. */
static void test_exclude_relative_to_base(void **state)
{
	struct fixture *f = *state;
	set_base(f, "build");
	set_files(f, LIST("**/*"));
	strv_push(&f->spec.exclude_paths, "lib/**/*");
	strv_push(&f->spec.exclude_paths, "/etc/passwd"); /* absolute: ignored */
	assert_stored(f, ".hidden app");
}

/* §6.3 row 8: a base-directory glob; only the matched directory's contents, relative. */
static void test_row8_base_directory_glob(void **state)
{
	struct fixture *f = *state;
	set_base(f, "b*");
	set_files(f, LIST("lib/*"));
	assert_stored(f, "lib/libx.so");
}

/* Checklist 38 / §6.3 row 9: nothing matched → ARTIFACTS_NO_MATCH, CodeBuild's lines. */
static void test_row9_no_match_fails(void **state)
{
	struct fixture *f = *state;
	set_files(f, LIST("missing.txt"));
	assert_int_equal(zip(f), ARTIFACTS_NO_MATCH);
	assert_true(logged(f, "Expanding missing.txt"));
	assert_true(logged(f, "Skipping invalid file path missing.txt"));
	assert_true(logged(f, "no matching artifact paths found"));
	assert_false(fs_exists(f->zip));
}

/* AWS's example: base-directory my-build-2 and `*` /my-file-3.txt. */
static void test_aws_my_build_subdirectory(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "my-build-1/my-file-1.txt", "1");
	tu_write(f->src, "my-build-2/my-file-2.txt", "2");
	tu_write(f->src, "my-build-2/my-subdirectory/my-file-3.txt", "3");
	set_base(f, "my-build-2");
	set_files(f, LIST("*/my-file-3.txt"));
	assert_stored(f, "my-subdirectory/my-file-3.txt");
}

/* AWS's example: base-directory my-build* with everything and discard-paths. */
static void test_aws_my_build_glob_discard(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "my-build-1/my-file-1.txt", "1");
	tu_write(f->src, "my-build-2/my-file-2.txt", "2");
	tu_write(f->src, "my-build-2/my-subdirectory/my-file-3.txt", "3");
	set_base(f, "my-build*");
	set_files(f, LIST("**/*"));
	f->spec.discard_paths = 1;
	assert_stored(f, "my-file-1.txt my-file-2.txt my-file-3.txt");
}

/* ---- log lines, packaging ---- */

/* artifacts.h: CodeBuild's UPLOAD_ARTIFACTS lines, in CodeBuild's order. */
static void test_log_lines_like_codebuild(void **state)
{
	struct fixture *f = *state;
	set_base(f, "build");
	set_files(f, LIST("**/*", "nothing-here"));
	assert_int_equal(zip(f), 0);
	const char *want[] = {
	        "Expanding base directory path: build",
	        "Assembling file list",
	        "Expanding build",
	        "Expanding file paths for base directory build",
	        "Assembling file list",
	        "Expanding **/*",
	        "Expanding nothing-here",
	        "Skipping invalid file path nothing-here",
	        "Found 3 file(s)",
	        "Creating zip artifact",
	};
	assert_int_equal(f->log.n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < f->log.n; i++)
		assert_string_equal(f->log.v[i], want[i]);
}

/* §6.4: modes are kept (an executable stays executable), and mtimes and contents. */
static void test_zip_keeps_modes_mtime_content(void **state)
{
	struct fixture *f = *state;
	char *app = fs_join(f->src, "build/app");
	assert_int_equal(chmod(app, 0755), 0);
	struct timespec ts[2] = {{1600000000, 0}, {1600000000, 0}};
	assert_int_equal(utimensat(AT_FDCWD, app, ts, 0), 0);
	set_files(f, LIST("build/app", "README.md"));
	assert_int_equal(zip(f), 0);
	struct zentry z[8];
	size_t n = read_zip(f->zip, z, 8);
	assert_int_equal(n, 2);
	assert_string_equal(z[1].name, "build/app");
	assert_int_equal(z[1].mode, S_IFREG | 0755);
	assert_int_equal(z[1].mtime, 1600000000);
	assert_string_equal(z[1].data, "ELF\n");
	assert_int_equal(z[0].mode & 0777, 0644);
	assert_string_equal(z[0].data, "readme\n");
	zentries_free(z, n);
	free(app);
}

/* The result's size and hashes are those of the zip on disk; no temporary is left. */
static void test_zip_result_and_no_temporary(void **state)
{
	struct fixture *f = *state;
	set_files(f, LIST("**/*"));
	assert_int_equal(zip(f), 0);
	char sha[65], md5[33];
	int64_t size;
	struct err err;
	assert_int_equal(artifacts_hash_file(f->zip, sha, md5, &size, &err), 0);
	assert_string_equal(sha, f->res.sha256);
	assert_string_equal(md5, f->res.md5);
	assert_int_equal(size, f->res.size);
	DIR *d = opendir(f->out);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)))
		files += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);
}

/* Checklist 39: paths resolve from src_dir whatever the current directory is. */
static void test_paths_from_src_dir_not_cwd(void **state)
{
	struct fixture *f = *state;
	char *cwd = getcwd(NULL, 0);
	assert_int_equal(chdir("/tmp"), 0);
	set_files(f, LIST("README.md"));
	int rc = zip(f);
	assert_int_equal(chdir(cwd), 0);
	free(cwd);
	assert_int_equal(rc, 0);
	char *got = zip_names(f->zip);
	assert_string_equal(got, "README.md");
	free(got);
}

/* §6.2 rule 10: discard-paths collision keeps the later path in lexical order, warns. */
static void test_discard_collision_keeps_later(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "a/x.txt", "from a");
	tu_write(f->src, "b/x.txt", "from b");
	set_files(f, LIST("b/x.txt", "a/x.txt"));
	f->spec.discard_paths = 1;
	assert_int_equal(zip(f), 0);
	struct zentry z[4];
	size_t n = read_zip(f->zip, z, 4);
	assert_int_equal(n, 1);
	assert_string_equal(z[0].name, "x.txt");
	assert_string_equal(z[0].data, "from b");
	assert_true(logged(
	        f, "Warning: a/x.txt and b/x.txt are both stored as x.txt; keeping b/x.txt"));
	zentries_free(z, n);
}

/* An absolute base-directory inside src_dir is allowed (AWS samples use $CODEBUILD_SRC_DIR). */
static void test_absolute_base_inside_src(void **state)
{
	struct fixture *f = *state;
	char *b = fs_join(f->src, "build/lib");
	set_base(f, b);
	set_files(f, LIST("*"));
	assert_stored(f, "libx.so");
	free(b);
}

/* ---- symlinks ---- */

static void mklink(const char *dir, const char *target, const char *rel)
{
	char *p = fs_join(dir, rel);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

/* §6.4: with enable-symlinks an internal link is stored as a link (relative target). */
static void test_enable_symlinks_stores_links(void **state)
{
	struct fixture *f = *state;
	mklink(f->src, "lib/libx.so", "build/libx.so.1");
	char *abs = fs_join(f->src, "build/app");
	mklink(f->src, abs, "build/app-abs"); /* absolute, inside: made relative */
	free(abs);
	set_base(f, "build");
	set_files(f, LIST("*"));
	f->spec.enable_symlinks = 1;
	assert_int_equal(zip(f), 0);
	struct zentry z[8];
	size_t n = read_zip(f->zip, z, 8);
	assert_int_equal(n, 4);
	assert_string_equal(z[2].name, "app-abs");
	assert_int_equal(z[2].mode & S_IFMT, S_IFLNK);
	assert_string_equal(z[2].symlink, "app");
	assert_string_equal(z[3].name, "libx.so.1");
	assert_int_equal(z[3].mode & S_IFMT, S_IFLNK);
	assert_string_equal(z[3].symlink, "lib/libx.so");
	zentries_free(z, n);
}

/* §6.1 [I]: without enable-symlinks a link is followed and its content stored. */
static void test_links_followed_by_default(void **state)
{
	struct fixture *f = *state;
	mklink(f->src, "lib/libx.so", "build/libx.so.1");
	set_files(f, LIST("build/libx.so.1"));
	assert_int_equal(zip(f), 0);
	struct zentry z[2];
	size_t n = read_zip(f->zip, z, 2);
	assert_int_equal(n, 1);
	assert_int_equal(z[0].mode & S_IFMT, S_IFREG);
	assert_string_equal(z[0].data, "so\n");
	zentries_free(z, n);
}

/* With enable-symlinks, a link leaving the base directory (to a file still in the source
 * tree) stores that file, since a link would dangle once unzipped. */
static void test_enable_symlinks_link_out_of_base_stores_file(void **state)
{
	struct fixture *f = *state;
	mklink(f->src, "../README.md", "build/readme");
	set_base(f, "build");
	set_files(f, LIST("readme"));
	f->spec.enable_symlinks = 1;
	assert_int_equal(zip(f), 0);
	struct zentry z[2];
	size_t n = read_zip(f->zip, z, 2);
	assert_int_equal(n, 1);
	assert_int_equal(z[0].mode & S_IFMT, S_IFREG);
	assert_string_equal(z[0].data, "readme\n");
	zentries_free(z, n);
}

/* Hostile patterns and base directories never put anything from outside into the zip. */
static void test_hostile_patterns_match_nothing(void **state)
{
	struct fixture *f = *state;
	set_base(f, "build");
	set_files(f, LIST("../README.md", "/etc/passwd", "a/../../x", "lib/../../src/app.c"));
	assert_int_equal(zip(f), ARTIFACTS_NO_MATCH);
	assert_true(logged(f, "Skipping invalid file path /etc/passwd"));
	assert_true(logged(f, "Skipping invalid file path ../README.md"));
	assert_false(fs_exists(f->zip));
}

static void test_hostile_base_directories_refused(void **state)
{
	struct fixture *f = *state;
	const char *bases[] = {"..", "/etc", "../..", "build/../..", "/"};
	set_files(f, LIST("**/*"));
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		set_base(f, bases[i]);
		assert_int_equal(zip(f), ARTIFACTS_NO_MATCH);
		assert_false(fs_exists(f->zip));
	}
}

/* Links to /etc and a symlinked directory pointing outside are neither followed nor
 * stored, with or without enable-symlinks. */
static void test_links_out_of_tree_never_stored(void **state)
{
	struct fixture *f = *state;
	mklink(f->src, "/etc", "build/etc");
	mklink(f->src, "/etc/passwd", "build/passwd");
	mklink(f->src, f->out, "build/outside"); /* a dir outside src_dir */
	tu_write(f->out, "secret", "s");
	set_files(f, LIST("**/*", "build/etc/passwd", "build/outside/secret"));
	for (int links = 0; links < 2; links++) {
		f->spec.enable_symlinks = links;
		assert_int_equal(zip(f), 0);
		char *got = zip_names(f->zip);
		assert_null(strstr(got, "etc"));
		assert_null(strstr(got, "passwd"));
		assert_null(strstr(got, "secret"));
		assert_null(strstr(got, "outside"));
		free(got);
		assert_true(logged_part(f, "outside"));
	}
}

/* A symlink loop in the tree does not hang the build, and real files are stored once. */
static void test_symlink_loop_terminates(void **state)
{
	struct fixture *f = *state;
	mklink(f->src, "..", "build/lib/up");
	set_base(f, "build");
	set_files(f, LIST("**/*"));
	assert_stored(f, ".hidden app lib/libx.so");
}

/* pack_relative_target: links become relative to where they are stored. */
static void test_relative_link_targets(void **state)
{
	(void)state;
	const char *cases[][4] = {
	        {"/r", "a/l", "/r/a/x", "x"},
	        {"/r", "a/b/l", "/r/c/t", "../../c/t"},
	        {"/r", "l", "/r", "."},
	        {"/r", "a/b/l", "/r/a", ".."},
	        {"/", "a/l", "/etc/x", "../etc/x"},
	        {"/r", "a/l", "/r/a", "."},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *t = pack_relative_target(cases[i][0], cases[i][1], cases[i][2]);
		assert_string_equal(t, cases[i][3]);
		free(t);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_md5_rfc1321_vectors),
	        cmocka_unit_test(test_md5_streaming_equals_oneshot),
	        T(test_hash_file),
	        T(test_row1_all_files),
	        T(test_row2_build_star),
	        T(test_row3_build_doublestar),
	        T(test_row4_base_directory_prefix_not_stored),
	        T(test_row5_discard_paths_bare_names),
	        T(test_row6_two_patterns_discarded),
	        T(test_row7_exclude_dotfiles),
	        T(test_exclude_relative_to_base),
	        T(test_row8_base_directory_glob),
	        T(test_row9_no_match_fails),
	        T(test_aws_my_build_subdirectory),
	        T(test_aws_my_build_glob_discard),
	        T(test_log_lines_like_codebuild),
	        T(test_zip_keeps_modes_mtime_content),
	        T(test_zip_result_and_no_temporary),
	        T(test_paths_from_src_dir_not_cwd),
	        T(test_discard_collision_keeps_later),
	        T(test_absolute_base_inside_src),
	        T(test_enable_symlinks_stores_links),
	        T(test_links_followed_by_default),
	        T(test_enable_symlinks_link_out_of_base_stores_file),
	        T(test_hostile_patterns_match_nothing),
	        T(test_hostile_base_directories_refused),
	        T(test_links_out_of_tree_never_stored),
	        T(test_symlink_loop_terminates),
	        cmocka_unit_test(test_relative_link_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
