/*
 * pipeline_project.c — ferry's `projects` extension: for a CodeBuild ProjectName, the
 * settings that live in the CodeBuild project on AWS (docs/pipeline.md, "Build
 * projects"):
 *
 *   projects:
 *     site-build:
 *       buildspec: ci/buildspec.yml          # a path in the primary source, or
 *                                            # the buildspec itself (it has a newline)
 *       environmentVariables:                # CodeBuild's shape
 *         - {name: NODE_ENV, value: production}
 *         - {name: NPM_TOKEN, value: /ci/npm, type: PARAMETER_STORE}
 *       timeoutInMinutes: 30                 # CodeBuild's 5–2160, default 60
 *
 * An inline buildspec is parsed here, so that its mistakes are found when the
 * pipeline is put rather than at its first build. Values are literal: `#{...}` is
 * not resolved in projects (CodeBuild does not either).
 */
#include "spec/pipeline_int.h"

#include <stdlib.h>
#include <string.h>

#include "spec/buildspec.h"

#define PROJECT_NAME_MIN    2
#define PROJECT_NAME_MAX    255
#define BUILDSPEC_PATH_MAX  1024
#define PROJECT_TIMEOUT_MIN 5
#define PROJECT_TIMEOUT_MAX 2160
#define PROJECT_ENV_MAX     100
#define ENV_NAME_MAX        255
#define ENV_VALUE_MAX       (64 * 1024)

static const char *const project_keys[] = {
        "buildspec",
        "environmentVariables",
        "timeoutInMinutes",
        NULL,
};
static const char *const env_keys[] = {"name", "value", "type", NULL};
static const char *const env_types[] = {"PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER", NULL};

/* [A-Za-z_][A-Za-z0-9_]*: the runner exports them to a shell. */
static int env_name_ok(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
	       strlen(s);
}

static int check_buildspec_path(struct plctx *c, const struct ynode *n, const char *path,
                                const char *s)
{
	if (strncmp(s, "arn:", 4) == 0)
		return pl_fail(c, n,
		               "%s: a buildspec in S3 is not supported; give a path in the source "
		               "or the buildspec itself",
		               path);
	if (s[0] == '/')
		return pl_fail(c, n, "%s: expected a path relative to the primary source", path);
	for (const char *seg = s; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
		if (strncmp(seg, "..", 2) == 0 && (seg[2] == '/' || seg[2] == '\0'))
			return pl_fail(c, n, "%s: must stay inside the source (no \"..\")", path);
	return 0;
}

static int parse_buildspec(struct plctx *c, const struct ynode *n, const char *path,
                           struct pl_project *pr)
{
	struct buildspec *bs = NULL;
	struct err berr;
	if (pl_string(c, n, path, 1, BUILDSPEC_FILE_MAX, NULL, &pr->buildspec) < 0)
		return -1;
	if (!strchr(pr->buildspec, '\n')) {
		if (strlen(pr->buildspec) > BUILDSPEC_PATH_MAX)
			return pl_fail(c, n, "%s: a path of at most %d bytes", path,
			               BUILDSPEC_PATH_MAX);
		return check_buildspec_path(c, n, path, pr->buildspec);
	}
	pr->buildspec_inline = 1;
	if (buildspec_parse(pr->buildspec, strlen(pr->buildspec), "buildspec", &bs, &berr) < 0)
		return pl_fail(c, n, "%s: the inline buildspec is not valid: %s", path, berr.msg);
	buildspec_free(bs);
	return 0;
}

static int parse_env_var(struct plctx *c, const struct ynode *n, const char *path, size_t i,
                         struct pl_project *pr)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	const struct ynode *v;
	struct pl_env_var *e = &pr->env[pr->nenv++];
	int idx = 0;
	pl_path(sub, "%s[%zu]", path, i);
	if (pl_want_map(c, n, sub) < 0 || pl_check_keys(c, n, sub, env_keys) < 0)
		return -1;
	if (!(v = pl_get(n, "name")))
		return pl_missing(c, n, sub, "name", "the variable's name");
	pl_path(sub, "%s[%zu].name", path, i);
	if (pl_string(c, v, sub, 1, ENV_NAME_MAX, NULL, &e->name) < 0)
		return -1;
	if (!env_name_ok(e->name))
		return pl_fail(c, v,
		               "%s: \"%s\" is not a shell variable name ([A-Za-z_][A-Za-z0-9_]*)",
		               sub, pl_show(e->name, shown));
	for (size_t k = 0; k + 1 < pr->nenv; k++)
		if (strcmp(pr->env[k].name, e->name) == 0)
			return pl_fail(c, v, "%s: \"%s\" is already set by %s[%zu]", sub,
			               pl_show(e->name, shown), path, k);
	pl_path(sub, "%s[%zu]", path, i);
	if (!(v = ytree_get(n, "value")))
		return pl_missing(c, n, sub, "value", "the value, or the parameter or secret name");
	pl_path(sub, "%s[%zu].value", path, i);
	if (v->kind == YNODE_NULL)
		e->value = xstrdup("");
	else if (pl_string(c, v, sub, 0, ENV_VALUE_MAX, NULL, &e->value) < 0)
		return -1;
	if ((v = pl_get(n, "type"))) {
		pl_path(sub, "%s[%zu].type", path, i);
		if (pl_enum(c, v, sub, env_types, &idx) < 0)
			return -1;
	}
	e->type = xstrdup(env_types[idx]);
	if (idx != 0 && !*e->value)
		return pl_fail(c, v, "%s: a %s variable's value names the parameter or secret", sub,
		               env_types[idx]);
	return 0;
}

static int parse_project(struct plctx *c, const struct ynode *k, const struct ynode *n,
                         struct pl_project *pr)
{
	char path[PL_PATH_MAX], sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	const struct ynode *v;
	if (pl_string(c, k, "projects", PROJECT_NAME_MIN, PROJECT_NAME_MAX, "-_", &pr->name) < 0)
		return -1;
	pl_path(path, "projects.%s", pl_show(pr->name, shown));
	if (pr->name[0] == '-' || pr->name[0] == '_')
		return pl_fail(c, k, "%s: a CodeBuild project name starts with a letter or digit",
		               path);
	pr->line = k->line;
	pr->col = k->col;
	if (n->kind == YNODE_NULL)
		return 0; /* `name:` alone: the defaults, stated */
	if (pl_want_map(c, n, path) < 0 || pl_check_keys(c, n, path, project_keys) < 0)
		return -1;
	if ((v = pl_get(n, "buildspec"))) {
		pl_path(sub, "%s.buildspec", path);
		if (parse_buildspec(c, v, sub, pr) < 0)
			return -1;
	}
	if ((v = pl_get(n, "timeoutInMinutes"))) {
		pl_path(sub, "%s.timeoutInMinutes", path);
		if (pl_int(c, v, sub, PROJECT_TIMEOUT_MIN, PROJECT_TIMEOUT_MAX,
		           &pr->timeout_minutes) < 0)
			return -1;
	}
	if ((v = pl_get(n, "environmentVariables"))) {
		pl_path(sub, "%s.environmentVariables", path);
		if (pl_want_list(c, v, sub, 0, PROJECT_ENV_MAX) < 0)
			return -1;
		pr->env = xcalloc(v->n + 1, sizeof *pr->env);
		for (size_t i = 0; i < v->n; i++)
			if (parse_env_var(c, v->items[i], sub, i, pr) < 0)
				return -1;
	}
	return 0;
}

int pl_parse_projects(struct plctx *c, const struct ynode *n)
{
	struct pipeline *p = c->p;
	if (pl_want_map(c, n, "projects") < 0)
		return -1;
	if (n->n / 2 > PIPELINE_PROJECTS_MAX)
		return pl_fail(c, n, "projects: at most %d, found %zu", PIPELINE_PROJECTS_MAX,
		               n->n / 2);
	p->projects = xcalloc(n->n / 2 + 1, sizeof *p->projects);
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		struct pl_project *pr = &p->projects[p->nprojects++];
		if (parse_project(c, n->items[i], n->items[i + 1], pr) < 0)
			return -1;
	}
	return 0;
}

void pl_projects_free(struct pl_project *pr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(pr[i].name);
		free(pr[i].buildspec);
		for (size_t k = 0; k < pr[i].nenv; k++) {
			free(pr[i].env[k].name);
			free(pr[i].env[k].value);
			free(pr[i].env[k].type);
		}
		free(pr[i].env);
	}
	free(pr);
}
