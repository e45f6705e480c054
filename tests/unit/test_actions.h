/*
 * test_actions.h — helpers for the tests of src/actions: real git repositories made
 * with the `git` CLI, jobs run through action_main() with their log captured, zips
 * written and read with libarchive. Every function is static; include after
 * testutil.h.
 */
#ifndef FERRY_TEST_ACTIONS_H
#define FERRY_TEST_ACTIONS_H

#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/wait.h>

#include "actions/action.h"

/* libgit2 1.5's git_regexp_match() does not free its pcre2 match data when a config
 * regex does not match (remote creation looks up url.*.insteadOf); the stack runs
 * through pcre2, which has no frame pointers, so tests/lsan.supp's "leak:libgit2"
 * cannot see libgit2 in it. Not ferry's leak: suppressed by the library's name. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}

/* Every commit made by ta_commit() carries this date (spec §3.3's example). */
#define TA_DATE    "2019-10-29T03:32:21Z"
#define TA_DATE_MS 1572319941000LL

/* Runs `git ARGS...` (NULL-terminated) in `dir` with a fixed identity and date;
 * its stdout goes to `out` when non-NULL (caller frees), else to /dev/null.
 * Returns the exit status. */
static inline int ta_git_out(const char *dir, char **out, ...)
{
	const char *argv[32] = {"git",
	                        "-c",
	                        "user.name=Test Author",
	                        "-c",
	                        "user.email=author@example.com",
	                        "-c",
	                        "init.defaultBranch=main",
	                        "-c",
	                        "protocol.file.allow=always"};
	size_t n = 9;
	va_list ap;
	va_start(ap, out);
	for (const char *a; n < 31 && (a = va_arg(ap, const char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(out ? p[1] : null, 1);
		dup2(null, 2);
		close(p[0]);
		if (chdir(dir) < 0)
			_exit(127);
		setenv("GIT_AUTHOR_DATE", TA_DATE, 1);
		setenv("GIT_COMMITTER_DATE", TA_DATE, 1);
		setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
		setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
		execvp("git", (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	struct buf b;
	buf_init(&b, 1 << 20);
	char chunk[4096];
	ssize_t r;
	while ((r = read(p[0], chunk, sizeof chunk)) > 0)
		assert_int_equal(buf_append(&b, chunk, (size_t)r), 0);
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (out) {
		while (b.len && b.data && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		*out = buf_detach(&b);
	} else {
		buf_free(&b);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define ta_git(dir, ...)     assert_int_equal(ta_git_out(dir, NULL, __VA_ARGS__, NULL), 0)
#define ta_git_str(dir, ...) ta_git_str_(dir, __VA_ARGS__, NULL)

static inline char *ta_git_str_(const char *dir, const char *a, const char *b, const char *c)
{
	char *out = NULL;
	assert_int_equal(ta_git_out(dir, &out, a, b, c), 0);
	return out;
}

/* Commits everything in the work tree at `dir`; returns the new commit id. */
static inline char *ta_commit(const char *dir, const char *message)
{
	ta_git(dir, "add", "-A");
	ta_git(dir, "commit", "-q", "--allow-empty", "-m", message);
	return ta_git_str(dir, "rev-parse", "HEAD");
}

/* A new repository at root/name with a first commit of `files` (path, content pairs,
 * NULL-terminated); returns its path. */
static inline char *ta_repo(const char *root, const char *name, const char *const *files)
{
	char *dir = fs_join(root, name);
	struct err err;
	assert_int_equal(fs_mkdir_p(dir, 0755, &err), 0);
	ta_git(dir, "init", "-q");
	for (size_t i = 0; files && files[i]; i += 2)
		tu_write(dir, files[i], files[i + 1]);
	free(ta_commit(dir, "first commit\n\nwith a body"));
	return dir;
}

/* Writes JOBDIR/job.json, runs `ferry __action JOBDIR` in this process with stdout
 * captured into JOBDIR/log.txt, and returns result.json parsed (caller decrefs). */
static inline json_t *ta_run_job(const char *job_dir, const char *job_json)
{
	tu_write(job_dir, "job.json", job_json);
	char *log = fs_join(job_dir, "log.txt");
	fflush(stdout);
	fflush(stderr);
	/* action_main() sends stderr to stdout (the engine's one pipe): both are restored */
	int saved_out = dup(1), saved_err = dup(2);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(saved_out >= 0 && saved_err >= 0 && fd >= 0);
	dup2(fd, 1);
	close(fd);
	char *argv[] = {(char *)"__action", (char *)job_dir, NULL};
	int rc = action_main(2, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	free(log);
	assert_int_equal(rc, 0);
	char *text = tu_read(job_dir, "result.json");
	json_error_t je;
	json_t *res = json_loads(text, 0, &je);
	if (!res)
		fail_msg("result.json: %s\n%s", je.text, text);
	free(text);
	return res;
}

/* 1 when the captured log of the job holds `part`. */
static inline int ta_logged(const char *job_dir, const char *part)
{
	char *log = tu_read(job_dir, "log.txt");
	int found = strstr(log, part) != NULL;
	free(log);
	return found;
}

static inline const char *ta_str(json_t *o, const char *path)
{
	json_t *v = o;
	char *copy = xstrdup(path);
	for (char *tok = strtok(copy, "."); tok && v; tok = strtok(NULL, "."))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10))
		                     : json_object_get(v, tok);
	free(copy);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- zips ---- */

struct ta_entry {
	char *name;
	int type; /* AE_IFREG, AE_IFLNK, AE_IFDIR */
	int perm;
	char *data; /* file content or link target */
};

struct ta_zip {
	struct ta_entry e[64];
	size_t n;
};

static inline void ta_zip_read(const char *path, struct ta_zip *z)
{
	memset(z, 0, sizeof *z);
	struct archive *a = archive_read_new();
	archive_read_support_format_zip(a);
	assert_int_equal(archive_read_open_filename(a, path, 1 << 16), ARCHIVE_OK);
	struct archive_entry *ae;
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK && z->n < 64) {
		struct ta_entry *e = &z->e[z->n++];
		e->name = xstrdup(archive_entry_pathname(ae));
		e->type = (int)archive_entry_filetype(ae);
		e->perm = (int)archive_entry_perm(ae);
		if (e->type == AE_IFLNK) {
			e->data = xstrdup(archive_entry_symlink(ae));
		} else {
			size_t size = (size_t)archive_entry_size(ae);
			e->data = xcalloc(1, size + 1);
			assert_int_equal(archive_read_data(a, e->data, size), (la_ssize_t)size);
		}
	}
	archive_read_free(a);
}

static inline void ta_zip_free(struct ta_zip *z)
{
	for (size_t i = 0; i < z->n; i++) {
		free(z->e[i].name);
		free(z->e[i].data);
	}
}

static inline const struct ta_entry *ta_zip_find(const struct ta_zip *z, const char *name)
{
	for (size_t i = 0; i < z->n; i++)
		if (!strcmp(z->e[i].name, name))
			return &z->e[i];
	return NULL;
}

/* Writes a zip of regular files: (name, content) pairs, NULL-terminated; a name
 * starting with '*' is stored executable (without the '*'). */
static inline void ta_zip_write(const char *path, const char *const *files)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_zip(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; files[i]; i += 2) {
		const char *name = files[i][0] == '*' ? files[i] + 1 : files[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, files[i][0] == '*' ? 0755 : 0644);
		archive_entry_set_size(e, (la_int64_t)strlen(files[i + 1]));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, files[i + 1], strlen(files[i + 1])),
		                 (la_ssize_t)strlen(files[i + 1]));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

#endif
