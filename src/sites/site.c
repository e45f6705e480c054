/*
 * site.c — publishing a site's releases and switching between them (see site.h).
 *
 * A deploy or a rollback is, under the site's lock:
 *   1. tidy: leftovers of an interrupted publish (releases/<n>.tmp, <n>.old, a release
 *      directory the store never heard of) are removed, and the store's live flag is
 *      brought in line with the disk's `live` link;
 *   2. build releases/<n>.tmp: hard links of the base release (the live one for a
 *      deploy, the target for a rollback), then the deploy's files;
 *   3. flush it (syncfs: one call instead of an fsync per file), rename it to
 *      releases/<n>, record it in the store;
 *   4. switch: `live.tmp` -> releases/<n>, rename(live.tmp, live), fsync the site's
 *      directory, then mark it live in the store;
 *   5. prune releases past `keep` (never the live one).
 * A reader sees the old `live` or the new one, each a complete, immutable tree.
 */
#include "sites/site.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sites/site_int.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define LOCK_POLL_MS  50
#define LIVE_LINK_MAX 64 /* "releases/<number>" */

/* Where one site lives on disk, and the lock held while it changes. */
struct site_ctx {
	const char *site;
	char *dir;      /* <data>/sites/<site> (absolute) */
	char *releases; /* <dir>/releases */
	int lock_fd;
};

static char *sites_root(const char *data_dir)
{
	return fs_join(data_dir, "sites");
}

static void ctx_free(struct site_ctx *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd); /* releases the flock */
	free(c->dir);
	free(c->releases);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Opens the site's directory and takes its lock; `wait_ms` 0: SITE_EBUSY at once. */
static int ctx_open(struct site_ctx *c, const char *data_dir, const char *site, int wait_ms,
                    struct err *err)
{
	memset(c, 0, sizeof *c);
	c->lock_fd = -1;
	c->site = site;
	if (store_site_name_check(site, err) < 0)
		return SITE_EINVALID;
	char *root = sites_root(data_dir);
	char *rel = fs_join(root, site);
	free(root);
	int rc = fs_mkdir_p(rel, 0755, err);
	if (rc == 0) {
		c->dir = fs_realpath(rel, err);
		rc = c->dir ? 0 : -1;
	}
	free(rel);
	if (rc < 0)
		return -1;
	c->releases = fs_join(c->dir, "releases");
	if (fs_mkdir_p(c->releases, 0755, err) < 0)
		return -1;
	char *lock = fs_join(c->dir, ".lock");
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(lock);
	if (c->lock_fd < 0)
		return err_errno(err, "site \"%s\": its lock", site);
	int64_t waited = 0;
	while (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return err_errno(err, "site \"%s\": taking its lock", site);
		if (waited >= wait_ms) {
			err_set(err,
			        "site \"%s\": another deploy or rollback is in progress; try again",
			        site);
			return SITE_EBUSY;
		}
		sleep_ms(LOCK_POLL_MS);
		waited += LOCK_POLL_MS;
	}
	return 0;
}

static char *release_dir(const struct site_ctx *c, int64_t n)
{
	return xasprintf("%s/%lld", c->releases, (long long)n);
}

/* Parses "releases/<n>" (the link's target) or "<n>" (a directory's name). */
static int parse_number(const char *s, int64_t *out)
{
	if (!strncmp(s, "releases/", 9))
		s += 9;
	if (!*s || strlen(s) > 18)
		return -1;
	int64_t n = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
	}
	*out = n;
	return n > 0 ? 0 : -1;
}

static int read_live(const char *site_dir, int64_t *out)
{
	char *link = fs_join(site_dir, "live");
	char target[LIVE_LINK_MAX];
	ssize_t n = readlink(link, target, sizeof target - 1);
	free(link);
	if (n < 0)
		return -1;
	target[n] = '\0';
	return parse_number(target, out);
}

static char *site_dir_of(const char *data_dir, const char *site)
{
	char *root = sites_root(data_dir);
	char *dir = fs_join(root, site);
	free(root);
	return dir;
}

int site_live_number(const char *data_dir, const char *site, int64_t *number_out)
{
	if (store_site_name_check(site, NULL) < 0)
		return -1;
	char *dir = site_dir_of(data_dir, site);
	int rc = read_live(dir, number_out);
	free(dir);
	return rc;
}

int site_live_open(const char *data_dir, const char *site, int64_t *number_out, struct err *err)
{
	if (store_site_name_check(site, err) < 0)
		return -1;
	char *dir = site_dir_of(data_dir, site);
	int fd = -1;
	/* the link names a release that a prune may remove between readlink and open:
	 * then `live` has moved on, so read it again */
	for (int tries = 0; tries < 8 && fd < 0; tries++) {
		int64_t n;
		if (read_live(dir, &n) < 0) {
			err_set(err, "site \"%s\" has no live release", site);
			break;
		}
		char *path = xasprintf("%s/releases/%lld", dir, (long long)n);
		fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			err_errno(err, "%s", path);
		free(path);
		if (fd >= 0)
			*number_out = n;
		else if (errno != ENOENT)
			break;
		else
			err_set(err, "site \"%s\": its live release keeps moving", site);
	}
	free(dir);
	return fd;
}

/* ---- publishing ---- */

static int fsync_dir(const char *path, struct err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		err_errno(err, "%s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Removes a release directory: renamed aside first, so no reader can open it by
 * its name once removal began. */
static int remove_release_dir(const struct site_ctx *c, const char *name, struct err *err)
{
	char *path = fs_join(c->releases, name);
	char *old = xasprintf("%s/%s.old", c->releases, name);
	int rc = 0;
	if (strstr(name, ".old") || rename(path, old) < 0) {
		rc = fs_rm_rf(path, err); /* a leftover, or already gone */
	} else {
		rc = fs_rm_rf(old, err);
	}
	char *meta = xasprintf("%s/%s.meta.json", c->releases, name);
	unlink(meta);
	free(meta);
	free(path);
	free(old);
	return rc;
}

static int has_release(const struct store_release *r, size_t n, int64_t number)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].number == number)
			return 1;
	return 0;
}

/* Step 1: leftovers of an interrupted publish go; the store follows the disk. */
static int tidy(struct store *st, struct site_ctx *c, struct err *err)
{
	struct store_release *rel = NULL;
	size_t n = 0;
	if (store_release_list(st, c->site, &rel, &n, err) < 0)
		return -1;
	int64_t live = 0;
	read_live(c->dir, &live);
	int rc = 0;
	DIR *d = opendir(c->releases);
	if (!d)
		rc = err_errno(err, "%s", c->releases);
	struct dirent *de;
	while (rc == 0 && d && (de = readdir(d))) {
		int64_t num;
		if (de->d_name[0] == '.' || strstr(de->d_name, ".meta.json"))
			continue;
		int orphan = parse_number(de->d_name, &num) < 0 ||
		             (num != live && !has_release(rel, n, num));
		if (orphan)
			rc = remove_release_dir(c, de->d_name, err);
	}
	if (d)
		closedir(d);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (rel[i].number == live && !rel[i].live)
			rc = store_release_set_live(st, c->site, live, err) < 0 ? -1 : 0;
	store_release_list_free(rel, n);
	return rc;
}

static int write_meta(const struct site_ctx *c, const struct store_release *r, struct err *err)
{
	json_t *o = json_object();
	json_object_set_new(o, "number", json_integer(r->number));
	json_object_set_new(o, "cacheControl",
	                    r->cache_control ? json_string(r->cache_control) : json_null());
	json_object_set_new(o, "revision", r->revision ? json_string(r->revision) : json_null());
	json_object_set_new(o, "source", r->source ? json_string(r->source) : json_null());
	json_object_set_new(o, "files", json_integer(r->files));
	json_object_set_new(o, "bytes", json_integer(r->bytes));
	json_object_set_new(o, "createdMs", json_integer(r->created_ms));
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	char *path = xasprintf("%s/%lld.meta.json", c->releases, (long long)r->number);
	int rc = fs_write_atomic(path, text, strlen(text), 0644, err);
	free(path);
	free(text);
	return rc;
}

/* Step 4: `live` -> releases/<n>, atomically, then durably. */
static int switch_live(struct store *st, const struct site_ctx *c, int64_t number, struct err *err)
{
	char target[LIVE_LINK_MAX];
	snprintf(target, sizeof target, "releases/%lld", (long long)number);
	char *tmp = fs_join(c->dir, "live.tmp");
	char *live = fs_join(c->dir, "live");
	int rc = 0;
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, live) < 0)
		rc = err_errno(err, "site \"%s\": switching `live` to %s", c->site, target);
	if (rc == 0)
		rc = fsync_dir(c->dir, err);
	free(tmp);
	free(live);
	if (rc == 0)
		rc = store_release_set_live(st, c->site, number, err) ? -1 : 0;
	return rc;
}

/* Step 5: every release but the live one and the `keep` newest goes. */
static void prune(struct store *st, const struct site_ctx *c, int keep)
{
	struct store_release *rel = NULL;
	size_t n = 0;
	struct err err;
	if (store_release_list(st, c->site, &rel, &n, &err) < 0)
		return; /* the next publish prunes them */
	for (size_t i = (size_t)(keep > 0 ? keep : 1); i < n; i++) {
		if (rel[i].live)
			continue;
		char name[32];
		snprintf(name, sizeof name, "%lld", (long long)rel[i].number);
		/* a failure leaves the row: the next publish tries again */
		if (remove_release_dir(c, name, &err) == 0 &&
		    store_release_delete(st, c->site, rel[i].number, &err) < 0)
			break;
	}
	store_release_list_free(rel, n);
}

/* Steps 3–5 for the tree built at releases/<n>.tmp. */
static int publish(struct store *st, const struct site_ctx *c, const char *tmp,
                   struct store_release *r, int keep, struct err *err)
{
	int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, "%s", tmp);
	int rc = site_tree_count(fd, &r->files, &r->bytes, err);
	if (rc == 0 && syncfs(fd) < 0)
		rc = err_errno(err, "%s: flushing", tmp);
	close(fd);
	if (rc < 0)
		return -1;
	char *dir = release_dir(c, r->number);
	if (rename(tmp, dir) < 0)
		rc = err_errno(err, "rename %s", tmp);
	r->dir = dir;
	r->created_ms = wall_ms();
	if (rc == 0)
		rc = write_meta(c, r, err);
	if (rc == 0)
		rc = fsync_dir(c->releases, err);
	if (rc == 0 && store_release_add(st, r, err) != 0)
		rc = -1;
	if (rc == 0)
		rc = switch_live(st, c, r->number, err);
	if (rc == 0)
		prune(st, c, keep);
	r->dir = NULL;
	free(dir);
	return rc;
}

/* Makes releases/<n>.tmp, filled with hard links of release `base` (0: empty). */
static int start_tree(const struct site_ctx *c, int64_t number, int64_t base, char **tmp_out,
                      struct err *err)
{
	char *tmp = xasprintf("%s/%lld.tmp", c->releases, (long long)number);
	*tmp_out = tmp;
	if (fs_rm_rf(tmp, err) < 0)
		return -1;
	if (mkdir(tmp, 0755) < 0)
		return err_errno(err, "%s", tmp);
	if (!base)
		return 0;
	char *from = release_dir(c, base);
	int src = open(from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int dst = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;
	if (src < 0 || dst < 0)
		rc = err_errno(err, "%s", src < 0 ? from : tmp);
	else
		rc = site_tree_link(src, dst, from, err);
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	free(from);
	return rc;
}

/* ObjectKey without leading or trailing slashes ("" for the root); NULL after
 * SITE_EINVALID when it names no plain path. */
static char *object_key(const char *key, struct err *err)
{
	while (key && *key == '/')
		key++;
	char *k = xstrdup(key ? key : "");
	size_t len = strlen(k);
	while (len && k[len - 1] == '/')
		k[--len] = '\0';
	if (len && !fs_plain_relative(k)) {
		err_set(err, "ObjectKey \"%s\": not a plain path (no \"..\", \".\" or empty parts)",
		        key);
		free(k);
		return NULL;
	}
	return k;
}

/* Step 2 of a deploy: the zip's entries under `key`, or the zip as the file `key`. */
static int add_files(const struct site_deploy *d, const char *tmp, const char *key, struct err *err)
{
	char *dest = *key ? fs_join(tmp, key) : xstrdup(tmp);
	int rc;
	if (d->extract) {
		rc = fs_mkdir_p(dest, 0755, err);
		char *root = rc == 0 ? fs_realpath(dest, err) : NULL;
		if (rc == 0 && !root)
			rc = -1;
		if (rc == 0)
			rc = site_zip_extract(d->zip, root, err);
		free(root);
	} else {
		char *slash = strrchr(dest, '/');
		*slash = '\0';
		rc = fs_mkdir_p(dest, 0755, err);
		*slash = '/';
		if (rc == 0 && unlink(dest) < 0 && errno != ENOENT)
			rc = err_errno(err, "%s", dest);
		if (rc == 0)
			rc = fs_copy_file(d->zip, dest, err);
		if (rc == 0 && chmod(dest, 0644) < 0)
			rc = err_errno(err, "%s", dest);
	}
	free(dest);
	return rc;
}

static int site_lookup(struct store *st, const char *site, struct store_site *s, struct err *err)
{
	int rc = store_site_get(st, site, s, err);
	if (rc == STORE_NOT_FOUND) {
		err_set(err, "site %s does not exist (ferry site create %s)", site, site);
		return SITE_ENOTFOUND;
	}
	return rc < 0 ? -1 : 0;
}

int site_deploy(struct store *st, const char *data_dir, const struct site_deploy *d,
                int64_t *number_out, struct err *err)
{
	struct store_site s = {0};
	struct site_ctx c = {.lock_fd = -1};
	char *key = NULL, *tmp = NULL;
	long entries = 0;
	int64_t bytes = 0;
	int rc = site_lookup(st, d->site, &s, err);
	if (rc)
		goto out;
	if (!(key = object_key(d->object_key, err))) {
		rc = SITE_EINVALID;
		goto out;
	}
	if (!d->extract && !*key) {
		rc = SITE_EINVALID;
		err_set(err, "ObjectKey is required when Extract is false (the key the zip is "
		             "stored under)");
		goto out;
	}
	/* refused before the lock is taken or anything is written */
	if (d->extract && (rc = site_zip_check(d->zip, &entries, &bytes, err)) != 0)
		goto out;
	if ((rc = ctx_open(&c, data_dir, d->site, d->wait ? SITE_LOCK_WAIT_MS : 0, err)) != 0)
		goto out;
	/* the site may have been deleted while we waited */
	store_site_free(&s);
	if ((rc = site_lookup(st, d->site, &s, err)) != 0 || (rc = tidy(st, &c, err)) != 0)
		goto out;
	int64_t base = 0, number = 0;
	read_live(c.dir, &base);
	if ((rc = store_release_next(st, d->site, &number, err)) != 0) {
		rc = rc == STORE_NOT_FOUND ? SITE_ENOTFOUND : -1;
		goto out;
	}
	if ((rc = start_tree(&c, number, base, &tmp, err)) != 0 ||
	    (rc = add_files(d, tmp, key, err)) != 0)
		goto out;
	struct store_release r = {.site = (char *)d->site,
	                          .number = number,
	                          .source = (char *)(d->source ? d->source : "cli"),
	                          .revision = (char *)d->revision,
	                          .cache_control = (char *)d->cache_control};
	if ((rc = publish(st, &c, tmp, &r, s.keep, err)) != 0)
		goto out;
	*number_out = number;
out:
	if (rc && tmp) {
		struct err e2;
		if (fs_rm_rf(tmp, &e2) < 0)
			fprintf(stderr, "ferry: %s\n", e2.msg); /* tidy() retries next time */
	}
	free(tmp);
	free(key);
	store_site_free(&s);
	ctx_free(&c);
	return rc;
}

/* The release a rollback goes to: `number`, or the newest kept one before the live. */
static int rollback_target(const struct site_ctx *c, const struct store_release *rel, size_t n,
                           int64_t number, const struct store_release **out, struct err *err)
{
	const struct store_release *live = NULL;
	for (size_t i = 0; i < n; i++)
		if (rel[i].live)
			live = &rel[i];
	*out = NULL;
	for (size_t i = 0; i < n && !*out; i++) {
		if (number ? rel[i].number == number
		           : (!rel[i].live && (!live || rel[i].number < live->number)))
			*out = &rel[i];
	}
	if (!*out) {
		if (number)
			err_set(err,
			        "site \"%s\": release %lld is not kept (ferry site releases %s)",
			        c->site, (long long)number, c->site);
		else
			err_set(err,
			        "site \"%s\": no kept release before the live one to roll back to",
			        c->site);
		return SITE_ENOTFOUND;
	}
	if ((*out)->live) {
		err_set(err, "site \"%s\": release %lld is live already", c->site,
		        (long long)number);
		return SITE_EINVALID;
	}
	return 0;
}

int site_rollback(struct store *st, const char *data_dir, const char *site, int64_t number,
                  int64_t *number_out, struct err *err)
{
	struct store_site s = {0};
	struct site_ctx c = {.lock_fd = -1};
	struct store_release *rel = NULL;
	size_t n = 0;
	char *tmp = NULL;
	int rc = site_lookup(st, site, &s, err);
	if (rc || (rc = ctx_open(&c, data_dir, site, 0, err)) != 0 || (rc = tidy(st, &c, err)) != 0)
		goto out;
	if (store_release_list(st, site, &rel, &n, err) < 0) {
		rc = -1;
		goto out;
	}
	const struct store_release *target;
	if ((rc = rollback_target(&c, rel, n, number, &target, err)) != 0)
		goto out;
	int64_t next = 0;
	if ((rc = store_release_next(st, site, &next, err)) != 0) {
		rc = rc == STORE_NOT_FOUND ? SITE_ENOTFOUND : -1;
		goto out;
	}
	if ((rc = start_tree(&c, next, target->number, &tmp, err)) != 0)
		goto out;
	char source[64];
	snprintf(source, sizeof source, "rollback to %lld", (long long)target->number);
	struct store_release r = {.site = (char *)site,
	                          .number = next,
	                          .source = source,
	                          .revision = target->revision,
	                          .cache_control = target->cache_control};
	if ((rc = publish(st, &c, tmp, &r, s.keep, err)) != 0)
		goto out;
	*number_out = next;
out:
	if (rc && tmp) {
		struct err e2;
		if (fs_rm_rf(tmp, &e2) < 0)
			fprintf(stderr, "ferry: %s\n", e2.msg); /* tidy() retries next time */
	}
	free(tmp);
	store_release_list_free(rel, n);
	store_site_free(&s);
	ctx_free(&c);
	return rc;
}

int site_remove(struct store *st, const char *data_dir, const char *site, struct err *err)
{
	struct site_ctx c;
	int rc = ctx_open(&c, data_dir, site, 0, err);
	if (rc == 0) {
		rc = store_site_delete(st, site, err);
		if (rc == STORE_NOT_FOUND)
			rc = SITE_ENOTFOUND;
		else if (rc)
			rc = -1;
	}
	if (rc == 0) {
		/* renamed aside first: no reader finds half a site */
		char *root = sites_root(data_dir);
		char *gone = xasprintf("%s/.%s.deleted.%ld", root, site, (long)getpid());
		if (rename(c.dir, gone) < 0)
			rc = err_errno(err, "%s", c.dir);
		else
			rc = fs_rm_rf(gone, err);
		free(gone);
		free(root);
	}
	ctx_free(&c);
	return rc;
}
