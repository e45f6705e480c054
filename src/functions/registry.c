/*
 * registry.c — functions' code and configuration, versions and aliases (registry.h).
 *
 * Why it is built this way:
 *  - code directories are named by the zip's SHA-256: a version never copies code,
 *    it names the directory $LATEST named when it was published, and since a
 *    directory never changes once renamed into place, a version stays immutable;
 *  - a zip is unpacked into a fresh directory beside its place and renamed: a reader
 *    (an invocation starting now) sees the whole tree or none;
 *  - the store is written after the code is in place, so a row never names a
 *    directory that is not there; a crash in between leaves an unnamed directory that
 *    the next update's sweep deletes.
 */
#include "functions/registry.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "functions/fn_int.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/zipsafe.h"
#include "util/uuid.h"

static const char *const runtimes[] = {
        "nodejs18.x",   "nodejs20.x",      "nodejs22.x", "python3.8",  "python3.9",
        "python3.10",   "python3.11",      "python3.12", "python3.13", "provided",
        "provided.al2", "provided.al2023", NULL,
};

static const char *const reserved[] = {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        NULL,
};

int fn_runtime_known(const char *runtime)
{
	for (size_t i = 0; runtime && runtimes[i]; i++)
		if (!strcmp(runtimes[i], runtime))
			return 1;
	return 0;
}

int fn_env_reserved(const char *name)
{
	for (size_t i = 0; reserved[i]; i++)
		if (!strcmp(reserved[i], name))
			return 1;
	return 0;
}

char *fn_dir(const char *data_dir, const char *name)
{
	return xasprintf("%s/functions/%s", data_dir, name);
}

void fn_uuid(char out[37])
{
	uuid4(out);
}

char *fn_arn(const char *name, const char *qualifier)
{
	return qualifier
	               ? xasprintf("arn:aws:lambda:" FN_REGION ":" FN_ACCOUNT ":function:%s:%s",
	                           name, qualifier)
	               : xasprintf("arn:aws:lambda:" FN_REGION ":" FN_ACCOUNT ":function:%s", name);
}

static int rc_of_store(int rc)
{
	return rc == STORE_NOT_FOUND ? FN_ENOTFOUND : rc == STORE_CONFLICT ? FN_ECONFLICT : rc;
}

/* ---- configuration ---- */

/* The variables as canonical JSON text (keys sorted), after checking them. */
static int env_text(const char *fn, const json_t *env, char **out, struct err *err)
{
	*out = NULL;
	if (!env || json_is_null(env)) {
		*out = xstrdup("{}");
		return 0;
	}
	if (!json_is_object(env))
		return err_set(err, "function \"%s\": Environment.Variables: expected an object",
		               fn);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)env, k, v)
	{
		if (!json_is_string(v))
			return err_set(
			        err, "function \"%s\": Environment.Variables.%s: expected a string",
			        fn, k);
		if (!*k || strchr(k, '='))
			return err_set(err,
			               "function \"%s\": Environment.Variables: \"%s\" is not a "
			               "variable name",
			               fn, k);
		if (fn_env_reserved(k))
			return err_set(err,
			               "function \"%s\": Environment.Variables.%s: a reserved key "
			               "(ferry sets it for every invocation)",
			               fn, k);
	}
	char *text = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || strlen(text) > FN_ENV_MAX) {
		free(text);
		return err_set(err, "function \"%s\": Environment.Variables: more than %d bytes",
		               fn, FN_ENV_MAX);
	}
	*out = text;
	return 0;
}

/* Applies the set members of `c` onto `f` and checks the result. */
static int apply_config(struct store_fn *f, const struct fn_config *c, struct err *err)
{
	if (c->runtime) {
		if (!fn_runtime_known(c->runtime))
			return err_set(
			        err,
			        "function \"%s\": Runtime \"%s\" is not one ferry runs (known: "
			        "nodejs18.x, nodejs20.x, nodejs22.x, python3.8 to python3.13, "
			        "provided, provided.al2, provided.al2023)",
			        f->name, c->runtime);
		free(f->runtime);
		f->runtime = xstrdup(c->runtime);
	}
	if (c->handler) {
		free(f->handler);
		f->handler = xstrdup(c->handler);
	}
	if (c->description) {
		free(f->description);
		f->description = xstrdup(c->description);
	}
	if (c->timeout) {
		if (c->timeout < 1 || c->timeout > FN_TIMEOUT_MAX)
			return err_set(err, "function \"%s\": Timeout %d: expected 1 to %d seconds",
			               f->name, c->timeout, FN_TIMEOUT_MAX);
		f->timeout = c->timeout;
	}
	if (c->memory) {
		if (c->memory < FN_MEMORY_MIN || c->memory > FN_MEMORY_MAX)
			return err_set(err, "function \"%s\": MemorySize %d: expected %d to %d MB",
			               f->name, c->memory, FN_MEMORY_MIN, FN_MEMORY_MAX);
		f->memory = c->memory;
	}
	if (c->env) {
		char *text;
		if (env_text(f->name, c->env, &text, err) < 0)
			return -1;
		free(f->env);
		f->env = text;
	}
	if (!f->runtime)
		return err_set(err, "function \"%s\": Runtime is required", f->name);
	int provided = !strncmp(f->runtime, "provided", 8);
	if (!provided && (!f->handler || !*f->handler))
		return err_set(err, "function \"%s\": Handler is required for %s", f->name,
		               f->runtime);
	if (f->handler && strlen(f->handler) > 128)
		return err_set(err, "function \"%s\": Handler: more than 128 characters", f->name);
	return 0;
}

static void new_revision(struct store_fn *f)
{
	char id[37];
	fn_uuid(id);
	free(f->revision_id);
	f->revision_id = xstrdup(id);
	f->modified_ms = 0; /* now */
}

/* ---- code ---- */

static const struct zipsafe_opts code_zip = {
        .noun = "function's code",
        .outcome = "the code is not changed",
        .entries_max = FN_ENTRIES_MAX,
        .bytes_max = FN_UNZIPPED_MAX,
        .keep_exec = 1,
};

/* Unpacks `zip` into <fn dir>/code/<sha hex> unless it is there; fills f's code
 * fields. FN_EINVALID for a refused zip. */
static int install_code(const char *data_dir, struct store_fn *f, const char *zip, struct err *err)
{
	char b64[64], hex[65];
	int64_t size = 0;
	if (fn_sha256_file(zip, b64, hex, &size, err) < 0)
		return -1;
	if (size > FN_ZIP_MAX) {
		err_set(err, "function \"%s\": the zip is %lld bytes, more than %lld", f->name,
		        (long long)size, (long long)FN_ZIP_MAX);
		return FN_EINVALID;
	}
	long entries = 0;
	int64_t bytes = 0;
	int rc = zipsafe_check(zip, &code_zip, &entries, &bytes, err);
	if (rc)
		return rc == ZIPSAFE_EINVALID ? FN_EINVALID : -1;
	char *base = fn_dir(data_dir, f->name);
	char *code = fs_join(base, "code");
	free(base);
	char *dir = NULL, *tmp = NULL;
	if (fs_mkdir_p(code, 0700, err) < 0) {
		rc = -1;
		goto out;
	}
	char *real = fs_realpath(code, err);
	if (!real) {
		rc = -1;
		goto out;
	}
	dir = fs_join(real, hex);
	char id[37];
	fn_uuid(id);
	tmp = xasprintf("%s/.tmp-%s", real, id);
	free(real);
	if (!fs_is_dir(dir)) {
		if (fs_mkdir_p(tmp, 0755, err) < 0) {
			rc = -1;
			goto out;
		}
		rc = zipsafe_extract(zip, tmp, &code_zip, err);
		if (rc) {
			rc = rc == ZIPSAFE_EINVALID ? FN_EINVALID : -1;
			goto out;
		}
		if (rename(tmp, dir) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
			rc = err_errno(err, "%s", dir);
			goto out;
		}
	}
	free(f->code_sha);
	f->code_sha = xstrdup(b64);
	f->code_size = size;
	free(f->code_dir);
	f->code_dir = xstrdup(dir);
out:
	/* a .tmp- directory left behind (a failed removal) is swept with the others */
	if (tmp && fs_exists(tmp)) {
		struct err e2;
		if (fs_rm_rf(tmp, &e2) < 0)
			rc = rc ? rc : err_set(err, "%s", e2.msg);
	}
	free(tmp);
	free(dir);
	free(code);
	return rc;
}

/* Deletes the function's code directories no configuration names. Best effort. */
static void sweep_code(struct store *st, const char *data_dir, const char *name)
{
	struct store_fn latest, *vers = NULL;
	size_t n = 0;
	struct err err;
	if (store_fn_get(st, name, NULL, &latest, &err) != 0)
		return;
	if (store_fn_versions(st, name, &vers, &n, &err) != 0) {
		store_fn_free(&latest);
		return;
	}
	char *base = fn_dir(data_dir, name);
	char *code = fs_join(base, "code");
	DIR *d = opendir(code);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue; /* a left-over .tmp-* directory goes too: nothing names it */
		char *p = fs_join(code, de->d_name);
		char *real = fs_realpath(p, &err);
		int used = real && latest.code_dir && !strcmp(real, latest.code_dir);
		for (size_t i = 0; real && !used && i < n; i++)
			used = !strcmp(real, vers[i].code_dir);
		/* best effort: what cannot be removed now is tried again by the next sweep */
		if (real && !used && fs_rm_rf(p, &err) < 0)
			err.msg[0] = '\0';
		free(real);
		free(p);
	}
	if (d)
		closedir(d);
	free(code);
	free(base);
	store_fn_free(&latest);
	store_fn_list_free(vers, n);
}

/* ---- operations ---- */

int fn_create(struct store *st, const char *data_dir, const struct fn_config *c, const char *zip,
              struct store_fn *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	if (store_fn_name_check(c->name, err) < 0)
		return FN_EINVALID;
	struct store_fn f = {0};
	int rc = store_fn_get(st, c->name, NULL, &f, err);
	store_fn_free(&f);
	if (rc == 0) {
		err_set(err, "function \"%s\" exists already", c->name);
		return FN_ECONFLICT;
	}
	if (rc < 0)
		return -1;
	f.name = xstrdup(c->name);
	f.timeout = FN_TIMEOUT_DEFAULT;
	f.memory = FN_MEMORY_DEFAULT;
	f.env = xstrdup("{}");
	f.handler = xstrdup("");
	if (apply_config(&f, c, err) < 0) {
		store_fn_free(&f);
		return FN_EINVALID;
	}
	rc = install_code(data_dir, &f, zip, err);
	if (rc == 0) {
		new_revision(&f);
		rc = rc_of_store(store_fn_create(st, &f, err));
	}
	store_fn_free(&f);
	if (rc)
		return rc;
	return rc_of_store(store_fn_get(st, c->name, NULL, out, err));
}

/* $LATEST with new settings (`c`) or new code (`zip`), as a new revision; *out as
 * stored then. */
static int update_latest(struct store *st, const char *data_dir, const char *name,
                         const struct fn_config *c, const char *zip, struct store_fn *out,
                         struct err *err)
{
	memset(out, 0, sizeof *out);
	struct store_fn f;
	int rc = rc_of_store(store_fn_get(st, name, NULL, &f, err));
	if (rc)
		return rc;
	if (c && apply_config(&f, c, err) < 0)
		rc = FN_EINVALID;
	else if (zip)
		rc = install_code(data_dir, &f, zip, err);
	if (rc == 0) {
		new_revision(&f);
		rc = rc_of_store(store_fn_update(st, &f, err));
	}
	store_fn_free(&f);
	if (rc)
		return rc;
	if (zip)
		sweep_code(st, data_dir, name);
	return rc_of_store(store_fn_get(st, name, NULL, out, err));
}

int fn_update_code(struct store *st, const char *data_dir, const char *name, const char *zip,
                   struct store_fn *out, struct err *err)
{
	return update_latest(st, data_dir, name, NULL, zip, out, err);
}

int fn_update_config(struct store *st, const char *data_dir, const struct fn_config *c,
                     struct store_fn *out, struct err *err)
{
	return update_latest(st, data_dir, c->name, c, NULL, out, err);
}

int fn_publish(struct store *st, const char *name, const char *description, struct store_fn *out,
               int *created, struct err *err)
{
	memset(out, 0, sizeof *out);
	char rev[37];
	fn_uuid(rev);
	int64_t v = 0;
	int rc = rc_of_store(store_fn_publish(st, name, description, NULL, rev, &v, created, err));
	if (rc)
		return rc;
	char num[24];
	snprintf(num, sizeof num, "%lld", (long long)v);
	return rc_of_store(store_fn_get(st, name, num, out, err));
}

int fn_alias_put(struct store *st, const struct fn_alias_req *r, struct store_alias *out,
                 struct err *err)
{
	memset(out, 0, sizeof *out);
	if (!r->alias || !*r->alias || strlen(r->alias) > 128 ||
	    strspn(r->alias, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
	            strlen(r->alias)) {
		err_set(err, "alias \"%.130s\": expected 1 to 128 letters, digits, '-' or '_'",
		        r->alias ? r->alias : "");
		return FN_EINVALID;
	}
	if (strspn(r->alias, "0123456789") == strlen(r->alias)) {
		err_set(err, "alias \"%s\": a number names a version, not an alias", r->alias);
		return FN_EINVALID;
	}
	struct store_fn f;
	int rc = rc_of_store(store_fn_get(st, r->function, NULL, &f, err));
	store_fn_free(&f);
	if (rc)
		return rc;
	char *target = r->version ? xstrdup(r->version) : NULL;
	if (r->rollback) {
		struct store_alias cur;
		rc = rc_of_store(store_alias_get(st, r->function, r->alias, &cur, err));
		if (rc == 0 && !cur.previous) {
			err_set(err,
			        "alias \"%s\" of function \"%s\" has not moved since it was "
			        "created: nothing to roll back to",
			        r->alias, r->function);
			rc = FN_EINVALID;
		}
		if (rc == 0) {
			free(target);
			target = xstrdup(cur.previous);
		}
		store_alias_free(&cur);
		if (rc)
			return rc;
	}
	if (!target || !*target || strspn(target, "0123456789") != strlen(target) ||
	    *target == '0') {
		err_set(err, "alias \"%s\": FunctionVersion \"%s\" is not a published version",
		        r->alias, target ? target : "");
		free(target);
		return FN_EINVALID;
	}
	char rev[37];
	fn_uuid(rev);
	struct store_alias a = {.function = (char *)r->function,
	                        .name = (char *)r->alias,
	                        .version = target,
	                        .description = (char *)r->description,
	                        .revision_id = rev};
	rc = store_alias_put(st, &a, r->create, err);
	free(target);
	if (rc)
		return rc_of_store(rc);
	return rc_of_store(store_alias_get(st, r->function, r->alias, out, err));
}

int fn_delete(struct store *st, const char *data_dir, const char *name, struct err *err)
{
	if (store_fn_name_check(name, err) < 0)
		return FN_EINVALID;
	int rc = rc_of_store(store_fn_delete(st, name, err));
	if (rc)
		return rc;
	char *dir = fn_dir(data_dir, name);
	rc = fs_rm_rf(dir, err);
	free(dir);
	return rc;
}

int fn_resolve(struct store *st, const char *name, const char *qualifier, struct store_fn *out,
               char **executed, char **arn, struct err *err)
{
	memset(out, 0, sizeof *out);
	*executed = NULL;
	if (arn)
		*arn = NULL;
	char *fname = xstrdup(name);
	char *colon = strchr(fname, ':');
	if (colon) {
		*colon = '\0';
		if (!qualifier)
			qualifier = name + (colon - fname) + 1;
	}
	const char *q = qualifier && *qualifier ? qualifier : NULL;
	int rc;
	if (!q || !strcmp(q, "$LATEST") || strspn(q, "0123456789") == strlen(q)) {
		rc = rc_of_store(store_fn_get(st, fname, q, out, err));
	} else {
		struct store_alias a;
		rc = rc_of_store(store_alias_get(st, fname, q, &a, err));
		if (rc == FN_ENOTFOUND) {
			/* say which is missing: the function, or the alias */
			struct store_fn f;
			struct err e2;
			if (store_fn_get(st, fname, NULL, &f, &e2) != 0)
				err_set(err, "function \"%s\" does not exist", fname);
			store_fn_free(&f);
		}
		if (rc == 0)
			rc = rc_of_store(store_fn_get(st, fname, a.version, out, err));
		store_alias_free(&a);
	}
	if (rc == 0) {
		*executed = xstrdup(out->version);
		if (arn)
			*arn = fn_arn(fname, q);
	}
	free(fname);
	return rc;
}

/* ---- JSON ---- */

static json_t *last_modified(int64_t ms)
{
	char buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char day[32];
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sizeof buf, "%s.%03d+0000", day, (int)(ms % 1000));
	return json_string(buf);
}

json_t *fn_config_json(const struct store_fn *f)
{
	int latest = !f->version || !strcmp(f->version, "$LATEST");
	char *arn = fn_arn(f->name, latest ? NULL : f->version);
	json_t *env = json_loads(f->env ? f->env : "{}", 0, NULL);
	json_t *o = json_object();
	json_object_set_new(o, "FunctionName", json_string(f->name));
	json_object_set_new(o, "FunctionArn", json_string(arn));
	json_object_set_new(o, "Runtime", json_string(f->runtime));
	json_object_set_new(o, "Role",
	                    json_string("arn:aws:iam::" FN_ACCOUNT ":role/ferry-function"));
	json_object_set_new(o, "Handler", json_string(f->handler ? f->handler : ""));
	json_object_set_new(o, "CodeSize", json_integer(f->code_size));
	json_object_set_new(o, "Description", json_string(f->description ? f->description : ""));
	json_object_set_new(o, "Timeout", json_integer(f->timeout));
	json_object_set_new(o, "MemorySize", json_integer(f->memory));
	json_object_set_new(o, "LastModified", last_modified(f->modified_ms));
	json_object_set_new(o, "CodeSha256", json_string(f->code_sha));
	json_object_set_new(o, "Version", json_string(latest ? "$LATEST" : f->version));
	json_object_set_new(o, "Environment",
	                    json_pack("{s:o}", "Variables", env ? env : json_object()));
	json_object_set_new(o, "RevisionId", json_string(f->revision_id));
	json_object_set_new(o, "State", json_string("Active"));
	json_object_set_new(o, "LastUpdateStatus", json_string("Successful"));
	json_object_set_new(o, "PackageType", json_string("Zip"));
	json_object_set_new(o, "Architectures", json_pack("[s]", "x86_64"));
	free(arn);
	return o;
}

json_t *fn_alias_json(const struct store_alias *a)
{
	char *arn = fn_arn(a->function, a->name);
	json_t *o = json_object();
	json_object_set_new(o, "AliasArn", json_string(arn));
	json_object_set_new(o, "Name", json_string(a->name));
	json_object_set_new(o, "FunctionVersion", json_string(a->version));
	json_object_set_new(o, "Description", json_string(a->description ? a->description : ""));
	json_object_set_new(o, "RevisionId", json_string(a->revision_id));
	json_object_set_new(o, "PreviousVersion",
	                    a->previous ? json_string(a->previous) : json_null());
	free(arn);
	return o;
}
