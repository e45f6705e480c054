/*
 * appspec_install.c — DownloadBundle and Install (spec §9): the bundle extracted
 * safely, the files section copied under the target directory, permissions applied,
 * and the deployment-instructions the CodeDeploy agent keeps (the cleanup list, the
 * last successful install).
 *
 * Why it is built this way:
 *  - Install first removes what the previous Install on the target made (the cleanup
 *    list), then copies: so file_exists_behavior decides only about files ferry did
 *    not install, as CodeDeploy's does; a rollback is then simply an install of the
 *    good revision, which removes the failed revision's files first;
 *  - the bundle goes through util/zipsafe.h (the checks sites and functions use):
 *    absolute names, "..", links, devices, too many entries refuse the whole bundle
 *    with the entry named, before a byte of it is written; execute bits are kept
 *    (scripts and binaries), set-id bits and owners never;
 *  - nothing is written through a symbolic link found under the target: a link in
 *    the way stops the Install, naming it;
 *  - each file is copied to a temporary name beside it and renamed: a service that
 *    reads its files during Install sees an old file or a new one, never half of one.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions/appspec_int.h"
#include "spec/glob.h"
#include "util/fs.h"
#include "util/zipsafe.h"

#define CLEANUP_MAX (64u << 20)

int appspec_bundle_extract(struct dctx *c, const char *zip, const char *dest, struct appspec **as,
                           struct err *err)
{
	*as = NULL;
	struct zipsafe_opts o = {
	        .noun = "bundle",
	        .outcome = "nothing is deployed",
	        .entries_max = c->entries_max > 0 ? c->entries_max : DEPLOY_ENTRIES_MAX,
	        .bytes_max = DEPLOY_BYTES_MAX,
	        .keep_exec = 1,
	};
	long entries = 0;
	int64_t bytes = 0;
	if (zipsafe_check(zip, &o, &entries, &bytes, err) != 0)
		return -1;
	if (fs_mkdir_p(dest, 0755, err) < 0)
		return -1;
	char *root = fs_realpath(dest, err);
	if (!root)
		return -1;
	int rc = zipsafe_extract(zip, root, &o, err) != 0 ? -1 : 0;
	char *spec = NULL;
	if (rc == 0) {
		spec = fs_join(root, "appspec.yml");
		if (!fs_exists(spec)) {
			free(spec);
			spec = fs_join(root, "appspec.yaml");
		}
		if (!fs_exists(spec))
			rc = err_set(err, "the bundle has no appspec.yml at its root");
	}
	if (rc == 0)
		rc = appspec_load(spec, "appspec.yml", as, err);
	if (rc == 0) {
		dlog(c, "DownloadBundle", "%ld entries, %lld bytes, into %s", entries,
		     (long long)bytes, root);
		for (size_t i = 0; i < (*as)->warnings.n; i++)
			dlog(c, "DownloadBundle", "warning: %s", (*as)->warnings.v[i]);
	}
	free(spec);
	free(root);
	return rc;
}

/* ---- paths under the target ---- */

struct install {
	struct dctx *c;
	struct dtarget *t;
	const struct appspec *as;
	struct strv made; /* absolute; directories end with '/' */
	size_t nfiles;
	struct err *err;
};

/* The target path of an appspec destination ("/" is the target itself). */
static char *under(const struct dtarget *t, const char *abs)
{
	if (!strcmp(t->dir, "/"))
		return xstrdup(abs);
	if (!strcmp(abs, "/"))
		return xstrdup(t->dir);
	return xasprintf("%s%s", t->dir, abs);
}

/* Makes every missing directory of `path` below the target, recording each; refuses
 * a symbolic link or a file in the way. */
static int ensure_dir(struct install *in, const char *path)
{
	size_t base = strcmp(in->t->dir, "/") ? strlen(in->t->dir) : 0;
	char *p = xstrdup(path);
	int rc = 0;
	for (size_t i = base + 1; rc == 0; i++) {
		char ch = p[i];
		if (ch != '/' && ch != '\0')
			continue;
		p[i] = '\0';
		struct stat sb;
		if (lstat(p, &sb) == 0) {
			if (S_ISLNK(sb.st_mode))
				rc = err_set(
				        in->err,
				        "%s is a symbolic link; ferry does not install through "
				        "links",
				        p);
			else if (!S_ISDIR(sb.st_mode))
				rc = err_set(in->err, "%s is in the way: not a directory", p);
		} else if (errno != ENOENT || mkdir(p, 0755) < 0) {
			rc = err_errno(in->err, "%s", p);
		} else {
			strv_pushf(&in->made, "%s/", p);
		}
		p[i] = ch;
		if (ch == '\0')
			break;
	}
	free(p);
	return rc;
}

static int install_file(struct install *in, const char *src, const char *dst)
{
	struct stat sb;
	int ours = 0; /* installed earlier in this Install (two files entries overlap) */
	if (lstat(dst, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return err_set(in->err, "%s is a directory; the bundle has a file there",
			               dst);
		ours = strv_contains(&in->made, dst);
		if (!ours) {
			enum appspec_exists b = in->as->file_exists;
			if (b == AS_EXISTS_DISALLOW)
				return err_set(
				        in->err,
				        "The deployment failed because a specified file already "
				        "exists at this location: %s (file_exists_behavior "
				        "DISALLOW: it was not installed by the last deployment)",
				        dst);
			if (b == AS_EXISTS_RETAIN) {
				dlog(in->c, "Install", "kept %s (file_exists_behavior RETAIN)",
				     dst);
				return 0;
			}
		}
	}
	char *tmp = xasprintf("%s.ferry-%ld.tmp", dst, (long)getpid());
	int rc = fs_copy_file(src, tmp, in->err);
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = err_errno(in->err, "%s", dst);
	if (rc < 0)
		unlink(tmp);
	else if (!ours)
		strv_push(&in->made, dst);
	free(tmp);
	in->nfiles += rc == 0;
	return rc;
}

static int copy_tree(struct install *in, const char *src, const char *dst)
{
	if (ensure_dir(in, dst) < 0)
		return -1;
	DIR *d = opendir(src);
	if (!d)
		return err_errno(in->err, "%s", src);
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *s = fs_join(src, de->d_name);
		char *t = fs_join(dst, de->d_name);
		struct stat sb;
		if (lstat(s, &sb) < 0)
			rc = err_errno(in->err, "%s", s);
		else if (S_ISDIR(sb.st_mode))
			rc = copy_tree(in, s, t);
		else if (S_ISREG(sb.st_mode))
			rc = install_file(in, s, t);
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

/* ---- cleanup list ---- */

static char *instructions(const struct dctx *c, const struct dtarget *t, const char *suffix)
{
	return xasprintf("%s/deployment-instructions/%s%s", t->droot, c->g->id, suffix);
}

/* Removes what the previous Install made: files first, then directories deepest
 * first (kept when a script put something in them). */
static int cleanup_previous(struct install *in)
{
	char *path = instructions(in->c, in->t, "-cleanup");
	char *text = NULL;
	size_t len = 0;
	struct err e2;
	if (!fs_exists(path) || fs_read_file(path, CLEANUP_MAX, &text, &len, &e2) < 0) {
		free(path);
		return 0;
	}
	free(path);
	struct strv dirs = STRV_INIT;
	long files = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		size_t n = strlen(line);
		if (!n || line[0] != '/')
			continue;
		/* only what lies under this target: the file is ours, but be strict */
		if (strcmp(in->t->dir, "/") && (strncmp(line, in->t->dir, strlen(in->t->dir)) ||
		                                line[strlen(in->t->dir)] != '/'))
			continue;
		if (line[n - 1] == '/') {
			strv_push(&dirs, line);
		} else if (unlink(line) == 0) {
			files++;
		}
	}
	for (size_t i = dirs.n; i-- > 0;)
		(void)rmdir(dirs.v[i]);
	if (files || dirs.n)
		dlog(in->c, "Install", "removed %ld files of the previous deployment", files);
	strv_free(&dirs);
	free(text);
	return 0;
}

static int write_cleanup(struct install *in, struct err *err)
{
	char *dir = xasprintf("%s/deployment-instructions", in->t->droot);
	char *path = instructions(in->c, in->t, "-cleanup");
	struct buf b;
	buf_init(&b, CLEANUP_MAX);
	int rc = fs_mkdir_p(dir, 0755, err);
	for (size_t i = 0; rc == 0 && i < in->made.n; i++)
		if (buf_printf(&b, "%s\n", in->made.v[i]) < 0)
			rc = err_set(err, "%s: more than %u bytes", path, CLEANUP_MAX);
	if (rc == 0)
		rc = fs_write_atomic(path, b.data ? b.data : "", b.len, 0644, err);
	buf_free(&b);
	free(path);
	free(dir);
	return rc;
}

/* ---- permissions ---- */

static int pattern_match(const struct appspec_permission *pm, const char *rel)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	if (strcmp(pm->pattern, "**") &&
	    !glob_match(pm->pattern, strchr(pm->pattern, '/') ? rel : base))
		return 0;
	for (size_t i = 0; i < pm->except.n; i++)
		if (glob_match(pm->except.v[i], strchr(pm->except.v[i], '/') ? rel : base))
			return 0;
	return 1;
}

static int apply_one(struct install *in, const struct appspec_permission *pm, const char *path,
                     uid_t uid, gid_t gid)
{
	if (pm->mode >= 0 && chmod(path, (mode_t)pm->mode) < 0)
		return err_errno(in->err, "permissions: chmod %04o %s", pm->mode, path);
	if ((pm->owner || pm->group) && lchown(path, uid, gid) < 0)
		return err_errno(in->err, "permissions: chown %s:%s %s", pm->owner ? pm->owner : "",
		                 pm->group ? pm->group : "", path);
	return 0;
}

static int apply_permission(struct install *in, const struct appspec_permission *pm)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	if (pm->owner) {
		struct passwd *pw = getpwnam(pm->owner);
		if (!pw)
			return err_set(in->err, "permissions: owner \"%s\" is not a user here",
			               pm->owner);
		uid = pw->pw_uid;
	}
	if (pm->group) {
		struct group *gr = getgrnam(pm->group);
		if (!gr)
			return err_set(in->err, "permissions: group \"%s\" is not a group here",
			               pm->group);
		gid = gr->gr_gid;
	}
	char *obj = under(in->t, pm->object);
	size_t olen = strlen(obj);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < in->made.n; i++) {
		char *p = xstrdup(in->made.v[i]);
		size_t n = strlen(p);
		int dir = n > 1 && p[n - 1] == '/';
		if (dir)
			p[--n] = '\0';
		int inside = n >= olen && !strncmp(p, obj, olen) &&
		             (p[olen] == '/' || p[olen] == '\0' || (olen == 1 && obj[0] == '/'));
		const char *rel = !inside ? "" : p[olen] == '/' ? p + olen + 1 : p + olen;
		int type_ok = !pm->types || (pm->types & (dir ? AS_TYPE_DIR : AS_TYPE_FILE));
		if (inside && *rel && type_ok && pattern_match(pm, rel))
			rc = apply_one(in, pm, p, uid, gid);
		free(p);
	}
	free(obj);
	return rc;
}

int appspec_install(struct dctx *c, struct dtarget *t, const struct appspec *as, struct err *err)
{
	struct install in = {.c = c, .t = t, .as = as, .made = STRV_INIT, .err = err};
	int rc = cleanup_previous(&in);
	for (size_t i = 0; rc == 0 && i < as->nfiles; i++) {
		const struct appspec_file *f = &as->files[i];
		char *src = *f->source ? fs_join(t->archive, f->source) : xstrdup(t->archive);
		char *dst = under(t, f->destination);
		struct stat sb;
		if (lstat(src, &sb) < 0)
			rc = err_set(
			        err,
			        "appspec.yml:%d: files[%zu].source: \"%s\" is not in the bundle",
			        f->line, i, f->source);
		else if (S_ISDIR(sb.st_mode))
			rc = copy_tree(&in, src, dst);
		else if ((rc = ensure_dir(&in, dst)) == 0) {
			const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
			char *to = fs_join(dst, base);
			rc = install_file(&in, src, to);
			free(to);
		}
		free(src);
		free(dst);
	}
	for (size_t i = 0; rc == 0 && i < as->npermissions; i++)
		rc = apply_permission(&in, &as->permissions[i]);
	struct err e2;
	if (write_cleanup(&in, rc == 0 ? err : &e2) < 0 && rc == 0)
		rc = -1;
	if (rc == 0)
		dlog(c, "Install", "installed %zu files under %s", in.nfiles, t->dir);
	strv_free(&in.made);
	return rc;
}

/* ---- last successful install ---- */

char *appspec_last_install(struct dctx *c, const struct dtarget *t)
{
	char *path = instructions(c, t, "_last_successful_install");
	char *text = NULL;
	size_t len = 0;
	struct err e2;
	if (!fs_exists(path) || fs_read_file(path, 4096, &text, &len, &e2) < 0) {
		free(path);
		return NULL;
	}
	free(path);
	text[strcspn(text, "\n")] = '\0';
	if (!*text || !fs_is_dir(text)) {
		free(text);
		return NULL;
	}
	return text;
}

int appspec_set_last_install(struct dctx *c, const struct dtarget *t, struct err *err)
{
	char *dir = xasprintf("%s/deployment-instructions", t->droot);
	char *path = instructions(c, t, "_last_successful_install");
	char *text = xasprintf("%s\n", t->archive);
	int rc = fs_mkdir_p(dir, 0755, err);
	if (rc == 0)
		rc = fs_write_atomic(path, text, strlen(text), 0644, err);
	free(text);
	free(path);
	free(dir);
	return rc;
}

/* ---- pruning ---- */

struct aged {
	char *path;
	long mtime;
};

static int newest_first(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;
	return (y->mtime > x->mtime) - (y->mtime < x->mtime);
}

void appspec_prune(struct dctx *c, const struct dtarget *t)
{
	DIR *d = opendir(t->droot);
	if (!d)
		return;
	char *keep = appspec_last_install(c, t);
	struct aged *v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "d-", 2))
			continue;
		struct stat sb;
		char *p = fs_join(t->droot, de->d_name);
		if (stat(p, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
			free(p);
			continue;
		}
		v = xgrow(v, n, sizeof *v);
		v[n].path = p;
		v[n++].mtime = (long)sb.st_mtime;
	}
	closedir(d);
	qsort(v, n, sizeof *v, newest_first);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i].path);
		int kept = i < DEPLOY_KEEP_ARCHIVES ||
		           (keep && !strncmp(keep, v[i].path, len) && keep[len] == '/');
		struct err e2;
		if (!kept && fs_rm_rf(v[i].path, &e2) < 0)
			dlog(c, "prune", "%s", e2.msg);
		free(v[i].path);
	}
	free(v);
	free(keep);
}
