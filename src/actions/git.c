/*
 * git.c — the questions of git.h, and the libgit2 glue the providers share
 * (actions_int.h).
 *
 * Why it is built this way:
 *  - repositories are opened with GIT_REPOSITORY_OPEN_NO_SEARCH: a location that is
 *    not a repository must fail, not silently open a repository above it;
 *  - changed paths come from a tree-to-tree diff with rename detection, so a moved
 *    file matches filters on its old and its new path (as CodePipeline's file-path
 *    filters do);
 *  - every libgit2 failure is reported with libgit2's own message after ours, which
 *    names the repository and the ref or commit.
 */
#include "actions/git.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions/actions_int.h"
#include "util/buf.h"

#define SUBJECT_MAX 200

void agit_init(void)
{
	git_libgit2_init();
}

void agit_shutdown(void)
{
	git_libgit2_shutdown();
}

int agit_error(struct err *err, const char *fmt, ...)
{
	char head[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	const git_error *e = git_error_last();
	if (!e || !e->message || !*e->message)
		return err_set(err, "%s", head);
	size_t n = strlen(e->message);
	while (n && (e->message[n - 1] == '\n' || e->message[n - 1] == ' '))
		n--;
	return err_set(err, "%s: %.*s", head, (int)n, e->message);
}

int agit_open(const char *path, git_repository **out, struct err *err)
{
	*out = NULL;
	git_error_clear();
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return agit_error(err, "repository %s: cannot be opened", path);
	return 0;
}

static int credentials(git_credential **out, const char *url, const char *user,
                       unsigned int allowed, void *payload)
{
	int *attempts = payload;
	if ((*attempts)++ == 0) {
		if (allowed & GIT_CREDENTIAL_SSH_KEY)
			return git_credential_ssh_key_from_agent(out, user ? user : "git");
		if (allowed & GIT_CREDENTIAL_USERNAME)
			return git_credential_username_new(out, user ? user : "git");
	}
	git_error_set_str(GIT_ERROR_NET,
	                  "the remote asks for credentials ferry does not have (ferry uses "
	                  "ssh-agent's keys for ssh URLs; use a URL this machine can read "
	                  "without a password)");
	(void)url;
	return GIT_EAUTH;
}

void agit_remote_callbacks(git_remote_callbacks *cb, int *attempts)
{
	*attempts = 0;
	cb->credentials = credentials;
	cb->payload = attempts;
}

void agit_iso8601(int64_t seconds, char *out, size_t n)
{
	time_t t = (time_t)seconds;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "1970-01-01T00:00:00Z");
}

char *agit_subject(const char *message, size_t max)
{
	const char *p = message ? message : "";
	p += strspn(p, "\r\n");
	size_t n = strcspn(p, "\n");
	if (n > max) {
		n = max;
		/* back up to the start of a UTF-8 character */
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	return xstrndup(p, n);
}

int agit_branch_oid(git_repository *repo, const char *label, const char *branch, git_oid *out,
                    struct err *err)
{
	char *ref = xasprintf("refs/heads/%s", branch);
	int valid = 0;
	int rc = 0;
	git_error_clear();
	if (git_reference_name_is_valid(&valid, ref) < 0 || !valid) {
		rc = err_set(err, "repository %s: \"%s\" is not a valid branch name", label,
		             branch);
	} else {
		int r = git_reference_name_to_id(out, repo, ref);
		if (r == GIT_ENOTFOUND)
			rc = 1;
		else if (r < 0)
			rc = agit_error(err, "repository %s: branch %s", label, branch);
	}
	free(ref);
	return rc;
}

int agit_lookup_commit(git_repository *repo, const char *label, const char *rev, git_commit **out,
                       struct err *err)
{
	git_object *obj = NULL;
	*out = NULL;
	git_error_clear();
	int r = git_revparse_single(&obj, repo, rev);
	if (r == GIT_ENOTFOUND || r == GIT_EAMBIGUOUS)
		return 1;
	if (r < 0)
		return agit_error(err, "repository %s: commit %s", label, rev);
	git_object *c = NULL;
	r = git_object_peel(&c, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (r < 0)
		return agit_error(err, "repository %s: %s is not a commit", label, rev);
	*out = (git_commit *)c;
	return 0;
}

static void oid_hex(const git_oid *oid, char out[GIT_OID_HEX_MAX + 1])
{
	git_oid_tostr(out, GIT_OID_HEX_MAX + 1, oid);
}

int git_branch_head(const char *repo, const char *branch, char out[GIT_OID_HEX_MAX + 1],
                    struct err *err)
{
	agit_init();
	git_repository *r = NULL;
	git_oid oid;
	int rc = agit_open(repo, &r, err);
	if (rc == 0)
		rc = agit_branch_oid(r, repo, branch, &oid, err);
	if (rc == 0)
		oid_hex(&oid, out);
	git_repository_free(r);
	agit_shutdown();
	return rc;
}

static int all_zeros(const char *s)
{
	return s[strspn(s, "0")] == '\0';
}

/* Both sides of every delta, sorted, without duplicates. */
static void collect_paths(git_diff *diff, struct strv *paths)
{
	size_t n = git_diff_num_deltas(diff);
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->old_file.path)
			strv_push(paths, d->old_file.path);
		if (d->new_file.path &&
		    (!d->old_file.path || strcmp(d->old_file.path, d->new_file.path) != 0))
			strv_push(paths, d->new_file.path);
	}
	strv_sort(paths);
	size_t w = 0;
	for (size_t i = 0; i < paths->n; i++) {
		if (w > 0 && !strcmp(paths->v[w - 1], paths->v[i])) {
			free(paths->v[i]);
			continue;
		}
		paths->v[w++] = paths->v[i];
	}
	paths->n = w;
	if (paths->v)
		paths->v[w] = NULL;
}

static int diff_commits(git_repository *r, const char *repo, git_commit *a, git_commit *b,
                        struct strv *paths, struct err *err)
{
	git_tree *ta = NULL, *tb = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	git_diff_find_options find;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	git_diff_find_options_init(&find, GIT_DIFF_FIND_OPTIONS_VERSION);
	find.flags = GIT_DIFF_FIND_RENAMES;
	int rc = 0;
	if (git_commit_tree(&ta, a) < 0 || git_commit_tree(&tb, b) < 0 ||
	    git_diff_tree_to_tree(&diff, r, ta, tb, &opts) < 0 ||
	    git_diff_find_similar(diff, &find) < 0)
		rc = agit_error(err, "repository %s: diff", repo);
	else
		collect_paths(diff, paths);
	git_diff_free(diff);
	git_tree_free(ta);
	git_tree_free(tb);
	return rc;
}

int git_changed_paths(const char *repo, const char *before, const char *after, size_t max,
                      struct strv *out, struct err *err)
{
	if (!before || !*before || all_zeros(before))
		return 1;
	agit_init();
	git_repository *r = NULL;
	git_commit *a = NULL, *b = NULL;
	struct strv paths = STRV_INIT;
	int rc = agit_open(repo, &r, err);
	if (rc == 0) {
		rc = agit_lookup_commit(r, repo, after, &b, err);
		if (rc == 1)
			rc = err_set(err, "repository %s: commit %s is not in it", repo, after);
	}
	if (rc == 0)
		rc = agit_lookup_commit(r, repo, before, &a, err);
	if (rc == 0)
		rc = diff_commits(r, repo, a, b, &paths, err);
	if (rc == 0 && paths.n > max)
		rc = 1;
	for (size_t i = 0; rc == 0 && i < paths.n; i++)
		strv_push(out, paths.v[i]);
	strv_free(&paths);
	git_commit_free(a);
	git_commit_free(b);
	git_repository_free(r);
	agit_shutdown();
	return rc;
}

int git_commit_subject(const char *repo, const char *commit, char **out, struct err *err)
{
	agit_init();
	git_repository *r = NULL;
	git_commit *c = NULL;
	*out = NULL;
	int rc = agit_open(repo, &r, err);
	if (rc == 0) {
		rc = agit_lookup_commit(r, repo, commit, &c, err);
		if (rc == 1)
			rc = err_set(err, "repository %s: commit %s is not in it", repo, commit);
	}
	if (rc == 0)
		*out = agit_subject(git_commit_message(c), SUBJECT_MAX);
	git_commit_free(c);
	git_repository_free(r);
	agit_shutdown();
	return rc;
}
