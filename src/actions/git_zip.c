/*
 * git_zip.c — a commit's tree as a zip (the CODE_ZIP source artifact), straight
 * from the object database: no work tree is checked out, so nothing of `.git` and
 * nothing untracked can slip in, and a bare mirror is enough.
 *
 * Why it is built this way:
 *  - modes follow git's, which only knows 644, 755 and links: a zip made from the
 *    same commit twice has the same entries, modes and times (the commit's);
 *  - blob content is stored as committed (no eol or filter conversion): the build
 *    sees what `git archive` would give;
 *  - submodules are commits of other repositories: CodePipeline's zip does not
 *    include them, and neither does ferry's (a log line says so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "actions/actions_int.h"
#include "util/libarchive.h"

#define ZIP_WRITE_CHUNK (1 << 20)

struct zip_walk {
	git_repository *repo;
	struct archive *a;
	int64_t mtime;
	long nfiles;
	struct err *err;
	int failed;
};

static int write_blob_data(struct zip_walk *z, const char *path, const char *data, size_t size)
{
	for (size_t done = 0; done < size;) {
		size_t want = size - done < ZIP_WRITE_CHUNK ? size - done : ZIP_WRITE_CHUNK;
		la_ssize_t n = archive_write_data(z->a, data + done, want);
		if (n <= 0)
			return err_set(z->err, "zip: %s: %s", path, archive_error_string(z->a));
		done += (size_t)n;
	}
	return 0;
}

static int add_blob(struct zip_walk *z, const char *path, git_filemode_t mode, const git_oid *id)
{
	git_blob *blob = NULL;
	if (git_blob_lookup(&blob, z->repo, id) < 0)
		return agit_error(z->err, "%s: blob", path);
	const char *data = git_blob_rawcontent(blob);
	size_t size = (size_t)git_blob_rawsize(blob);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_mtime(e, z->mtime, 0);
	char *target = NULL;
	if (mode == GIT_FILEMODE_LINK) {
		target = xstrndup(data, size);
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_perm(e, 0777);
		archive_entry_set_symlink(e, target);
	} else {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
		archive_entry_set_size(e, (la_int64_t)size);
	}
	int rc = 0;
	if (archive_write_header(z->a, e) != ARCHIVE_OK)
		rc = err_set(z->err, "zip: %s: %s", path, archive_error_string(z->a));
	else if (!target)
		rc = write_blob_data(z, path, data, size);
	free(target);
	archive_entry_free(e);
	git_blob_free(blob);
	return rc;
}

static int walk_one(const char *root, const git_tree_entry *entry, void *payload)
{
	struct zip_walk *z = payload;
	git_filemode_t mode = git_tree_entry_filemode(entry);
	if (mode == GIT_FILEMODE_TREE)
		return 0;
	char *path = xasprintf("%s%s", root, git_tree_entry_name(entry));
	int rc = 0;
	if (mode == GIT_FILEMODE_COMMIT) {
		action_log("source", "submodule %s is not included (as in CodePipeline)", path);
	} else if (add_blob(z, path, mode, git_tree_entry_id(entry)) < 0) {
		z->failed = 1;
		rc = -1; /* stops the walk */
	} else {
		z->nfiles++;
	}
	free(path);
	return rc;
}

int agit_zip_tree(git_repository *repo, git_commit *commit, const char *zip_path, long *nfiles,
                  struct err *err)
{
	git_tree *tree = NULL;
	if (git_commit_tree(&tree, commit) < 0)
		return agit_error(err, "commit tree");
	char *tmp = xasprintf("%s.tmp.%ld", zip_path, (long)getpid());
	struct archive *a = archive_write_new();
	struct zip_walk z = {
	        .repo = repo, .a = a, .mtime = (int64_t)git_commit_time(commit), .err = err};
	int rc = 0;
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_zip_set_compression_deflate(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		rc = err_set(err, "%s: %s", tmp, archive_error_string(a));
	} else {
		git_error_clear();
		int w = git_tree_walk(tree, GIT_TREEWALK_PRE, walk_one, &z);
		if (z.failed)
			rc = -1;
		else if (w < 0)
			rc = agit_error(err, "reading the commit's tree");
		if (archive_write_close(a) != ARCHIVE_OK && rc == 0)
			rc = err_set(err, "%s: %s", tmp, archive_error_string(a));
	}
	archive_write_free(a);
	git_tree_free(tree);
	if (rc == 0)
		rc = action_sync_file(tmp, err);
	if (rc == 0 && rename(tmp, zip_path) < 0)
		rc = err_errno(err, "rename %s", zip_path);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	*nfiles = z.nfiles;
	return rc;
}
