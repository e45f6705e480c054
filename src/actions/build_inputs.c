/*
 * build_inputs.c — puts a build action's input artifacts on disk: a zip is extracted,
 * a CODEBUILD_CLONE_REF file is cloned (../shared/spec/pipeline.md §4.3).
 *
 * Why it is built this way:
 *  - an input is recognised by its first bytes ("PK" a zip, '{' a clone ref), not by
 *    its name: the artifact store names files as it likes;
 *  - extraction goes through libarchive's disk writer with its secure flags
 *    (no "..", no write through a symbolic link on disk) into a directory given as
 *    a canonical absolute path, after our own check that every member name is
 *    relative and plain; only regular files, directories and symbolic links are
 *    written, never devices, fifos or hard links, and set-id bits are dropped
 *    (ARCHIVE_EXTRACT_PERM is not asked for);
 *  - a clone ref is cloned with full history, checked out at CommitId with a
 *    detached HEAD (so CODEBUILD_RESOLVED_SOURCE_VERSION is the commit), and the local
 *    branch BranchName is set to that commit, so `git log main` and the like work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/actions_int.h"
#include "util/fs.h"
#include "util/libarchive.h"

#define CLONE_REF_MAX (64 << 10)
#define ZIP_BLOCK     (64 << 10)

int action_input_kind(const char *path, struct err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_errno(err, "%s", path);
	char head[64];
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	if (n >= 2 && head[0] == 'P' && head[1] == 'K')
		return ACTION_INPUT_ZIP;
	size_t i = 0;
	while (i < n && strchr(" \t\r\n", head[i]))
		i++;
	if (i < n && head[i] == '{')
		return ACTION_INPUT_CLONE_REF;
	return err_set(err, "%s: neither a zip nor a CODEBUILD_CLONE_REF file", path);
}

static int extract_entries(struct archive *in, struct archive *disk, const char *root,
                           const char *zip, long *nfiles, struct err *err)
{
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *rel = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		if (!rel || !fs_plain_relative(rel))
			return err_set(err,
			               "%s: member \"%s\": unsafe name; nothing is extracted "
			               "through it",
			               zip, rel ? rel : "");
		if ((type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) ||
		    archive_entry_hardlink(e))
			return err_set(err, "%s: member %s: not a file, directory or symbolic link",
			               zip, rel);
		char *abs = fs_join(root, rel);
		archive_entry_set_pathname(e, abs);
		free(abs);
		if (archive_read_extract2(in, e, disk) < ARCHIVE_WARN)
			return err_set(err, "%s: member %s: %s", zip, rel,
			               archive_error_string(disk) ? archive_error_string(disk)
			                                          : archive_error_string(in));
		*nfiles += type != AE_IFDIR;
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, "%s: %s", zip, archive_error_string(in));
	return 0;
}

int action_unzip(const char *zip, const char *dest, long *nfiles, struct err *err)
{
	*nfiles = 0;
	if (fs_mkdir_p(dest, 0755, err) < 0)
		return -1;
	/* canonical: the secure-symlinks check walks every component of the path */
	char *root = fs_realpath(dest, err);
	if (!root)
		return -1;
	struct archive *in = archive_read_new();
	struct archive *disk = archive_write_disk_new();
	archive_read_support_format_zip(in);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_TIME |
	                                             ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	                                             ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	int rc;
	if (archive_read_open_filename(in, zip, ZIP_BLOCK) != ARCHIVE_OK)
		rc = err_set(err, "%s: %s", zip, archive_error_string(in));
	else
		rc = extract_entries(in, disk, root, zip, nfiles, err);
	if (archive_write_close(disk) != ARCHIVE_OK && rc == 0)
		rc = err_set(err, "%s: %s", dest, archive_error_string(disk));
	archive_write_free(disk);
	archive_read_free(in);
	free(root);
	return rc;
}

/* ---- CODEBUILD_CLONE_REF ---- */

static int read_clone_ref(const char *path, json_t **root, const char **url, const char **commit,
                          const char **branch, struct err *err)
{
	char *text = NULL;
	size_t len = 0;
	if (fs_read_file(path, CLONE_REF_MAX, &text, &len, err) < 0)
		return -1;
	json_error_t je;
	*root = json_loadb(text, len, 0, &je);
	free(text);
	if (!*root)
		return err_set(err, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	*url = action_json_str(*root, "CloneUrl");
	*commit = action_json_str(*root, "CommitId");
	*branch = action_json_str(*root, "BranchName");
	if (!*url || !**url)
		return err_set(err, "%s: CloneUrl: expected a URL", path);
	if (!*commit || !**commit)
		return err_set(err, "%s: CommitId: expected a commit id", path);
	return 0;
}

static int checkout_commit(git_repository *repo, const char *url, const char *commit,
                           const char *branch, char **resolved, struct err *err)
{
	git_commit *c = NULL;
	int rc = agit_lookup_commit(repo, url, commit, &c, err);
	if (rc == 1)
		return err_set(err, "%s: commit %s is not in it", url, commit);
	if (rc < 0)
		return -1;
	git_checkout_options co;
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	git_error_clear();
	if (git_checkout_tree(repo, (git_object *)c, &co) < 0 ||
	    git_repository_set_head_detached(repo, git_commit_id(c)) < 0) {
		rc = agit_error(err, "%s: checkout of %s", url, commit);
	} else if (branch && *branch) {
		git_reference *ref = NULL;
		if (git_branch_create(&ref, repo, branch, c, 1) < 0)
			action_log("build", "note: local branch %s was not set to %s", branch,
			           commit);
		git_reference_free(ref);
	}
	if (rc == 0) {
		char hex[GIT_OID_HEX_MAX + 1];
		git_oid_tostr(hex, sizeof hex, git_commit_id(c));
		*resolved = xstrdup(hex);
	}
	git_commit_free(c);
	return rc;
}

int action_clone_ref(const char *path, const char *dest, char **commit_out, struct err *err)
{
	json_t *root = NULL;
	const char *url = NULL, *commit = NULL, *branch = NULL;
	*commit_out = NULL;
	if (read_clone_ref(path, &root, &url, &commit, &branch, err) < 0) {
		json_decref(root);
		return -1;
	}
	action_log("build", "cloning %s at %s into %s", url, commit, dest);
	agit_init();
	git_clone_options opts;
	git_clone_options_init(&opts, GIT_CLONE_OPTIONS_VERSION);
	int attempts;
	agit_remote_callbacks(&opts.fetch_opts.callbacks, &attempts);
	opts.fetch_opts.proxy_opts.type = GIT_PROXY_AUTO;
	opts.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
	git_repository *repo = NULL;
	int rc = 0;
	git_error_clear();
	if (git_clone(&repo, url, dest, &opts) < 0)
		rc = agit_error(err, "clone of %s", url);
	else
		rc = checkout_commit(repo, url, commit, branch, commit_out, err);
	git_repository_free(repo);
	agit_shutdown();
	json_decref(root);
	return rc;
}
