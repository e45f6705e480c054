/*
 * buildspec_env.c — the `env` section (and version 0.1's `environment_variables`):
 * shell, variables, parameter-store, secrets-manager, exported-variables.
 *
 * Values stay exactly as written: `FLAG: NO` is "NO", `P: $PATH:/x` is "$PATH:/x"
 * (spec §2.1, checklist 6–7). Names starting with CODEBUILD_ are CodeBuild's and
 * are dropped with a warning (§2.2); AWS_* names cannot be exported (§2.1).
 */
#include "spec/buildspec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const env_keys[] = {
        "shell",
        "variables",
        "parameter-store",
        "secrets-manager",
        "exported-variables",
        "git-credential-helper",
        NULL,
};

static const char *const windows_shells[] = {
        "powershell.exe", "powershell", "pwsh.exe", "pwsh", "cmd.exe", "cmd", NULL,
};

static int check_shell(struct bsctx *c, const struct ynode *n)
{
	char *sh = NULL;
	char shown[BS_SHOW_MAX + 8];
	if (bs_string(c, n, "env.shell", &sh) < 0)
		return -1;
	for (size_t i = 0; windows_shells[i]; i++) {
		if (strcasecmp(sh, windows_shells[i]) == 0) {
			free(sh);
			return bs_fail(
			        c, n,
			        "env.shell: \"%s\" is a Windows shell; ferry runs Linux builds "
			        "(use bash, sh, /bin/sh or an absolute path)",
			        bs_show(n, shown));
		}
	}
	if (strcmp(sh, "sh") == 0) {
		free(sh); /* the default: NULL means sh */
		return 0;
	}
	if (strcmp(sh, "bash") != 0 && sh[0] != '/') {
		free(sh);
		return bs_fail(
		        c, n,
		        "env.shell: \"%s\" is not a shell ferry knows (use bash, sh, /bin/sh or "
		        "an absolute path)",
		        bs_show(n, shown));
	}
	free(c->bs->shell);
	c->bs->shell = sh;
	return 0;
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int check_name(struct bsctx *c, const struct ynode *k, const char *path)
{
	char shown[BS_SHOW_MAX + 8];
	if (k->kind == YNODE_SCALAR && strlen(k->text) == k->len && bs_valid_name(k->text))
		return 0;
	return bs_fail(
	        c, k,
	        "%s: \"%s\" is not a valid variable name (letters, digits and _, not starting "
	        "with a digit)",
	        path, bs_show(k, shown));
}

static void push_var(struct bs_var **v, size_t *n, const struct ynode *k, const char *value)
{
	*v = bs_grow(*v, *n, sizeof **v);
	(*v)[*n].name = xstrdup(k->text);
	(*v)[*n].value = xstrdup(value);
	(*v)[*n].line = k->line;
	(*v)[*n].col = k->col;
	(*n)++;
}

/* name → value maps; `ref_kind` names what a value must be when nulls are refused. */
static int check_vars(struct bsctx *c, const struct ynode *map, const char *path,
                      const char *ref_kind, struct bs_var **out, size_t *nout)
{
	if (bs_want_map(c, map, path) < 0)
		return -1;
	for (size_t i = 0; map->kind == YNODE_MAP && i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		char vpath[BS_PATH_MAX];
		if (check_name(c, k, path) < 0)
			return -1;
		bs_path(vpath, path, k->text);
		if (has_prefix(k->text, "CODEBUILD_")) {
			bs_warn(c, k, "%s: names starting with CODEBUILD_ are reserved; ignored",
			        vpath);
			continue;
		}
		if (v->kind == YNODE_NULL && !ref_kind) {
			push_var(out, nout, k, "");
			continue;
		}
		if (v->kind != YNODE_SCALAR)
			return bs_fail(c, v, "%s: expected %s, found %s", vpath,
			               ref_kind ? ref_kind : "a string", ytree_kind_name(v));
		if (memchr(v->text, '\0', v->len))
			return bs_fail(c, v, "%s: contains a NUL character", vpath);
		push_var(out, nout, k, v->text);
	}
	return 0;
}

static int check_exported_item(struct bsctx *c, const struct ynode *it, const char *ipath)
{
	struct strv *ex = &c->bs->exported_variables;
	if (it->kind == YNODE_NULL) {
		bs_warn(c, it, "%s: empty item ignored", ipath);
		return 0;
	}
	if (it->kind != YNODE_SCALAR)
		return bs_fail(c, it, "%s: expected a variable name, found %s", ipath,
		               ytree_kind_name(it));
	if (check_name(c, it, ipath) < 0)
		return -1;
	if (has_prefix(it->text, "AWS_")) {
		bs_warn(c, it, "%s: %s is not exported (names starting with AWS_ cannot be)", ipath,
		        it->text);
		return 0;
	}
	if (!strv_contains(ex, it->text))
		strv_push(ex, it->text);
	return 0;
}

static int check_exported(struct bsctx *c, const struct ynode *n)
{
	const char *path = "env.exported-variables";
	if (n->kind == YNODE_NULL)
		return 0;
	if (n->kind == YNODE_SCALAR)
		return check_exported_item(c, n, path);
	if (n->kind != YNODE_SEQ)
		return bs_fail(c, n, "%s: expected a list of variable names, found %s", path,
		               ytree_kind_name(n));
	for (size_t i = 0; i < n->n; i++) {
		char ipath[BS_PATH_MAX];
		snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
		if (check_exported_item(c, n->items[i], ipath) < 0)
			return -1;
	}
	return 0;
}

static int check_env_entry(struct bsctx *c, const struct ynode *k, const struct ynode *v)
{
	struct buildspec *bs = c->bs;
	int yes;
	if (strcmp(k->text, "shell") == 0)
		return check_shell(c, v);
	if (strcmp(k->text, "variables") == 0)
		return check_vars(c, v, "env.variables", NULL, &bs->variables, &bs->nvariables);
	if (strcmp(k->text, "parameter-store") == 0)
		return check_vars(c, v, "env.parameter-store", "a parameter name",
		                  &bs->parameter_store, &bs->nparameter_store);
	if (strcmp(k->text, "secrets-manager") == 0)
		return check_vars(c, v, "env.secrets-manager", "a secret reference",
		                  &bs->secrets_manager, &bs->nsecrets_manager);
	if (strcmp(k->text, "exported-variables") == 0)
		return check_exported(c, v);
	/* git-credential-helper */
	if (bs_yesno(c, v, "env.git-credential-helper", &yes) < 0)
		return -1;
	bs_warn(c, k, "git-credential-helper is ignored: git uses this machine's credentials");
	return 0;
}

int bs_check_env(struct bsctx *c, const struct ynode *env)
{
	if (bs_want_map(c, env, "env") < 0 || bs_check_keys(c, env, "env", env_keys, "key") < 0)
		return -1;
	for (size_t i = 0; env->kind == YNODE_MAP && i + 1 < env->n; i += 2)
		if (check_env_entry(c, env->items[i], env->items[i + 1]) < 0)
			return -1;
	return 0;
}

/* Version 0.1 wrote `environment_variables: {plaintext: {...}}` for env.variables. */
int bs_check_v01_env(struct bsctx *c, const struct ynode *env)
{
	static const char *const keys[] = {"plaintext", NULL};
	const char *path = "environment_variables";
	if (bs_want_map(c, env, path) < 0 || bs_check_keys(c, env, path, keys, "key") < 0)
		return -1;
	const struct ynode *plain = ytree_get(env, "plaintext");
	if (!plain)
		return 0;
	return check_vars(c, plain, "environment_variables.plaintext", NULL, &c->bs->variables,
	                  &c->bs->nvariables);
}

void bs_vars_free(struct bs_var *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}
