/*
 * source_git.c — the git source action (CodeCommit and CodeStarSourceConnection in a
 * pipeline): resolves the commit, writes the CODE_ZIP or CODEBUILD_CLONE_REF output
 * and emits the source variables (../shared/spec/pipeline.md §3.3, §4.2, §4.3).
 *
 * Why it is built this way:
 *  - a local repository is read where it is (no clone): the zip is written from the
 *    object database, so a bare repository works and a work tree's uncommitted files
 *    never leak in;
 *  - a URL is fetched into a bare mirror kept under ferry's data dir, every branch
 *    with prune, so the next fetch sends only what is new and a deleted branch is
 *    gone from the mirror too (no stale commit is ever built); a flock on
 *    "<mirror>.lock" keeps two actions from fetching into one mirror at once;
 *  - when the job names a commit that the mirror already holds, nothing is fetched:
 *    the commit is immutable, and a pipeline retry must not need the network;
 *  - CODEBUILD_CLONE_REF's CloneUrl is what a build can clone: the URL itself, or
 *    file:// plus the repository's absolute path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "actions/actions_int.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define COMMIT_MESSAGE_MAX (100 * 1024) /* CommitMessage variable (spec §3.3) */
#define SUMMARY_MAX        200
#define ACCOUNT_ID         "000000000000" /* the account ferry reports everywhere */

struct source {
	const char *location, *repository, *branch, *commit;
	const char *connection_arn, *provider, *mirror;
	int clone_ref, is_url;
	char *label; /* "name (location)" for messages */
};

/* "scheme://…" or scp-like "user@host:path" (a ':' before any '/'). */
static int is_url(const char *loc)
{
	if (strstr(loc, "://"))
		return 1;
	const char *colon = strchr(loc, ':');
	const char *slash = strchr(loc, '/');
	return loc[0] != '/' && colon && (!slash || colon < slash);
}

static int parse_source(const struct action_job *job, struct source *s, struct action_result *r)
{
	memset(s, 0, sizeof *s);
	json_t *src = job->source;
	if (!src)
		return action_fail(r, "job.json: source: expected an object (kind source_git)");
	s->location = action_json_str(src, "location");
	s->branch = action_json_str(src, "branch");
	s->commit = action_json_str(src, "commit");
	s->repository = action_json_str(src, "repositoryName");
	s->connection_arn = action_json_str(src, "connectionArn");
	s->provider = action_json_str(src, "provider");
	s->mirror = action_json_str(src, "mirrorDir");
	s->clone_ref = json_is_true(json_object_get(src, "cloneRef"));
	if (!s->location || !*s->location)
		return action_fail(r, "job.json: source.location: expected a path or URL");
	if (!s->branch || !*s->branch)
		return action_fail(r, "job.json: source.branch: expected a branch name");
	if (s->commit && !*s->commit)
		s->commit = NULL;
	if (!s->provider)
		s->provider = "CodeCommit";
	if (!s->repository || !*s->repository) {
		const char *slash = strrchr(s->location, '/');
		s->repository = slash && slash[1] ? slash + 1 : s->location;
	}
	s->is_url = is_url(s->location);
	if (s->is_url && (!s->mirror || s->mirror[0] != '/'))
		return action_fail(r, "job.json: source.mirrorDir: expected an absolute path "
		                      "(the location is a URL)");
	s->label = xasprintf("%s (%s)", s->repository, s->location);
	return 0;
}

/* ---- the repository: local, or a fetched mirror ---- */

static int lock_mirror(const char *mirror, int *fd, struct err *err)
{
	char *parent = xstrdup(mirror);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	int rc = fs_mkdir_p(parent, 0700, err);
	free(parent);
	if (rc < 0)
		return -1;
	char *path = xasprintf("%s.lock", mirror);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	while (*fd >= 0 && flock(*fd, LOCK_EX) < 0 && errno == EINTR)
		;
	if (*fd < 0)
		rc = err_errno(err, "%s", path);
	free(path);
	return rc;
}

static int open_or_init_mirror(const char *mirror, git_repository **repo, struct err *err)
{
	if (fs_exists(mirror))
		return agit_open(mirror, repo, err);
	git_error_clear();
	if (git_repository_init(repo, mirror, 1) < 0)
		return agit_error(err, "mirror %s: cannot be created", mirror);
	return 0;
}

static int fetch(git_repository *repo, const struct source *s, struct err *err)
{
	git_remote *remote = NULL;
	git_error_clear();
	if (git_remote_create_anonymous(&remote, repo, s->location) < 0)
		return agit_error(err, "repository %s", s->label);
	char spec[] = "+refs/heads/*:refs/heads/*";
	char *specs[] = {spec};
	git_strarray refspecs = {specs, 1};
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	int attempts;
	agit_remote_callbacks(&fo.callbacks, &attempts);
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.proxy_opts.type = GIT_PROXY_AUTO;
	int64_t t0 = mono_ms();
	int rc = 0;
	if (git_remote_fetch(remote, &refspecs, &fo, NULL) < 0) {
		rc = agit_error(err, "repository %s: fetch", s->label);
	} else {
		const git_indexer_progress *st = git_remote_stats(remote);
		action_log("source", "fetched %u objects (%zu KiB) in %lld ms",
		           st->received_objects, st->received_bytes / 1024,
		           (long long)(mono_ms() - t0));
	}
	git_remote_free(remote);
	return rc;
}

/* Opens the repository to read: the location itself, or the mirror brought up to
 * date (unless it already holds the commit asked for). */
static int open_repo(const struct source *s, git_repository **repo, struct err *err)
{
	if (!s->is_url) {
		action_log("source", "reading %s, branch %s", s->location, s->branch);
		return agit_open(s->location, repo, err);
	}
	int lock = -1;
	int rc = lock_mirror(s->mirror, &lock, err);
	if (rc == 0)
		rc = open_or_init_mirror(s->mirror, repo, err);
	if (rc == 0 && s->commit) {
		git_commit *c = NULL;
		if (agit_lookup_commit(*repo, s->label, s->commit, &c, NULL) == 0) {
			action_log("source", "commit %s is already in the mirror %s; not fetching",
			           s->commit, s->mirror);
			git_commit_free(c);
			close(lock);
			return 0;
		}
	}
	if (rc == 0) {
		action_log("source", "fetching %s branch %s into %s", s->location, s->branch,
		           s->mirror);
		rc = fetch(*repo, s, err);
	}
	if (lock >= 0)
		close(lock);
	return rc;
}

static int resolve(git_repository *repo, const struct source *s, git_commit **c,
                   struct action_result *r)
{
	struct err err;
	if (s->commit) {
		int rc = agit_lookup_commit(repo, s->label, s->commit, c, &err);
		if (rc == 1)
			return action_fail(r, "commit %s is not in repository %s (branch %s)",
			                   s->commit, s->label, s->branch);
		return rc < 0 ? action_fail(r, "%s", err.msg) : 0;
	}
	git_oid oid;
	int rc = agit_branch_oid(repo, s->label, s->branch, &oid, &err);
	if (rc == 1)
		return action_fail(r, "branch %s not found in repository %s", s->branch, s->label);
	if (rc < 0)
		return action_fail(r, "%s", err.msg);
	git_error_clear();
	if (git_commit_lookup(c, repo, &oid) < 0) {
		agit_error(&err, "repository %s: branch %s", s->label, s->branch);
		return action_fail(r, "%s", err.msg);
	}
	return 0;
}

/* ---- variables and outputs ---- */

/* The message without its trailing newlines, at most COMMIT_MESSAGE_MAX bytes. */
static char *commit_message(const git_commit *c)
{
	const char *m = git_commit_message(c);
	size_t n = strlen(m ? m : "");
	if (n > COMMIT_MESSAGE_MAX) {
		n = COMMIT_MESSAGE_MAX;
		while (n > 0 && ((unsigned char)m[n] & 0xC0) == 0x80)
			n--;
	}
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == '\r'))
		n--;
	return xstrndup(m ? m : "", n);
}

static void set_var(struct action_result *r, const char *name, const char *value)
{
	json_object_set_new(r->variables, name, json_string(value ? value : ""));
}

static void emit_variables(const struct source *s, git_commit *c, const char *sha,
                           struct action_result *r)
{
	const git_signature *author = git_commit_author(c);
	const git_signature *committer = git_commit_committer(c);
	char adate[32], cdate[32];
	agit_iso8601(author->when.time, adate, sizeof adate);
	agit_iso8601(committer->when.time, cdate, sizeof cdate);
	char *msg = commit_message(c);
	set_var(r, "CommitId", sha);
	set_var(r, "CommitMessage", msg);
	set_var(r, "BranchName", s->branch);
	set_var(r, "AuthorDate", adate);
	set_var(r, "CommitterDate", cdate);
	set_var(r, "AuthorEmail", author->email);
	set_var(r, "AuthorDisplayName", author->name);
	if (!strcmp(s->provider, "CodeStarSourceConnection")) {
		set_var(r, "FullRepositoryName", s->repository);
		if (s->connection_arn)
			set_var(r, "ConnectionArn", s->connection_arn);
	} else {
		set_var(r, "RepositoryName", s->repository);
	}
	free(msg);
}

/* file:// plus the absolute path, percent-encoding all but unreserved bytes and '/'. */
static char *file_url(const char *location)
{
	char *abs = realpath(location, NULL);
	const char *p = abs ? abs : location;
	struct buf b;
	buf_init(&b, 16 * 1024);
	int rc = buf_puts(&b, "file://");
	for (; *p && rc == 0; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~/", ch))
			rc = buf_append(&b, p, 1);
		else
			rc = buf_printf(&b, "%%%02X", ch);
	}
	free(abs);
	return buf_detach(&b);
}

static char *clone_ref_json(const struct source *s, const char *sha)
{
	char *url = s->is_url ? xstrdup(s->location) : file_url(s->location);
	json_t *o = json_object();
	json_object_set_new(o, "AccountId", json_string(ACCOUNT_ID));
	json_object_set_new(o, "FullRepositoryName", json_string(s->repository));
	json_object_set_new(o, "CloneUrl", json_string(url));
	json_object_set_new(o, "CommitId", json_string(sha));
	json_object_set_new(o, "BranchName", json_string(s->branch));
	char *text = json_dumps(o, JSON_PRESERVE_ORDER);
	json_decref(o);
	free(url);
	return text;
}

static int write_output(git_repository *repo, git_commit *c, const struct source *s,
                        const char *sha, const struct action_artifact *out, struct action_result *r)
{
	struct err err;
	int rc;
	long nfiles = 0;
	if (s->clone_ref) {
		char *text = clone_ref_json(s, sha);
		rc = fs_write_atomic(out->path, text, strlen(text), 0644, &err);
		free(text);
	} else {
		rc = agit_zip_tree(repo, c, out->path, &nfiles, &err);
	}
	if (rc == 0)
		rc = action_result_output(r, out, sha, &err);
	if (rc < 0)
		return action_fail(r, "output artifact %s: %s", out->name, err.msg);
	json_t *last = json_array_get(r->outputs, json_array_size(r->outputs) - 1);
	if (s->clone_ref)
		action_log("source", "wrote %s (CODEBUILD_CLONE_REF) to %s", out->name, out->path);
	else
		action_log("source", "wrote %s (CODE_ZIP, %ld files, %lld bytes) to %s", out->name,
		           nfiles, (long long)json_integer_value(json_object_get(last, "size")),
		           out->path);
	return 0;
}

static void set_revision(git_commit *c, const char *sha, const char *subject,
                         struct action_result *r)
{
	json_t *rev = json_object();
	json_object_set_new(rev, "revisionId", json_string(sha));
	json_object_set_new(rev, "revisionSummary", json_string(subject));
	json_object_set_new(rev, "created", json_integer((json_int_t)git_commit_time(c) * 1000));
	r->revision = rev;
}

static int produce(git_repository *repo, git_commit *c, const struct action_job *job,
                   const struct source *s, struct action_result *r)
{
	char sha[GIT_OID_HEX_MAX + 1];
	git_oid_tostr(sha, sizeof sha, git_commit_id(c));
	char *subject = agit_subject(git_commit_message(c), SUMMARY_MAX);
	char date[32];
	agit_iso8601(git_commit_time(c), date, sizeof date);
	action_log("source", "commit %s \"%s\" (%s, %s)", sha, subject, git_commit_author(c)->name,
	           date);
	emit_variables(s, c, sha, r);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < job->noutputs; i++)
		rc = write_output(repo, c, s, sha, &job->outputs[i], r);
	if (rc == 0) {
		set_revision(c, sha, subject, r);
		r->external_id = xstrdup(sha);
		r->summary = xstrdup(subject);
	}
	free(subject);
	return rc;
}

int action_source_git(const struct action_job *job, struct action_result *r)
{
	struct source s;
	if (parse_source(job, &s, r) < 0) {
		free(s.label);
		return 0;
	}
	agit_init();
	git_repository *repo = NULL;
	git_commit *c = NULL;
	struct err err;
	if (open_repo(&s, &repo, &err) < 0)
		action_fail(r, "%s", err.msg);
	else if (resolve(repo, &s, &c, r) == 0)
		produce(repo, c, job, &s, r);
	git_commit_free(c);
	git_repository_free(repo);
	agit_shutdown();
	free(s.label);
	return 0;
}
