/*
 * pipeline_check.c — the second pass (spec §1.2, §1.5, §3.1): what depends on more
 * than one field. In order: the pipeline type, where Source actions may be, unique
 * names, each action against its provider, the artifact flow, namespaces, triggers,
 * and the `#{ns.key}` references of every configuration value.
 *
 * "Runs strictly earlier" is pipeline_runs_before(): an earlier stage, or the same
 * stage with a lower runOrder. Actions of one runOrder group run at the same time,
 * so they can neither feed each other artifacts nor read each other's variables.
 */
#include "spec/pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUILTIN_NS  "codepipeline"
#define VARIABLE_NS "variables"

static const char *const builtin_keys[] = {"PipelineExecutionId", NULL};

/* Calls fn for every action, in stage and declaration order, until one fails. */
#define FOR_EACH_ACTION(p, a)                                                                      \
	for (size_t si_ = 0; si_ < (p)->nstages; si_++)                                            \
		for (struct pl_action *a = (p)->stages[si_].actions;                               \
		     a < (p)->stages[si_].actions + (p)->stages[si_].nactions; a++)

/* "stages[1].actions[0] ("Build")" for messages. */
static void action_label(char out[PL_PATH_MAX], const struct pl_action *a)
{
	char shown[PL_SHOW_MAX + 8];
	pl_path(out, "stages[%zu].actions[%zu] (\"%s\")", a->stage_index, a->index,
	        pl_show(a->name, shown));
}

/* §1.5: V2-only fields make the type V2 unless it says V1. */
static int check_type(struct plctx *c)
{
	struct pipeline *p = c->p;
	if (!p->type_set) {
		p->type = c->v2_at ? PL_V2 : PL_V1;
		return 0;
	}
	if (p->type == PL_V1 && c->v2_at)
		return pl_fail(c, c->v2_at, "%s needs pipelineType V2 (this pipeline says V1)",
		               c->v2_what);
	return 0;
}

static int check_counts(struct plctx *c)
{
	size_t total = 0;
	for (size_t i = 0; i < c->p->nstages; i++)
		total += c->p->stages[i].nactions;
	if (total > PIPELINE_ACTIONS_MAX)
		return pl_fail(c, ytree_get(c->decl, "stages"),
		               "stages: a pipeline holds at most %d actions, found %zu",
		               PIPELINE_ACTIONS_MAX, total);
	return 0;
}

/* §1.2.2: the first stage holds only Source actions; no Source action elsewhere. */
static int check_sources(struct plctx *c)
{
	char path[PL_PATH_MAX];
	FOR_EACH_ACTION(c->p, a)
	{
		int first = a->stage_index == 0, source = a->cat == PL_CAT_SOURCE;
		if (first == source)
			continue;
		const struct ynode *at = pl_get(pl_action_field(c, a, "actionTypeId"), "category");
		pl_path(path, "stages[%zu].actions[%zu].actionTypeId.category", a->stage_index,
		        a->index);
		if (first)
			return pl_fail(c, at,
			               "%s: the first stage holds only Source actions, found %s",
			               path, a->category);
		return pl_fail(c, at, "%s: Source actions belong in the first stage only", path);
	}
	return 0;
}

/* §1.2.4: stage names unique in the pipeline, action names unique in their stage. */
static int check_names(struct plctx *c)
{
	char path[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	const struct pipeline *p = c->p;
	for (size_t i = 0; i < p->nstages; i++) {
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->stages[i].name, p->stages[k].name) == 0) {
				pl_path(path, "stages[%zu].name", i);
				return pl_fail(c, pl_get(pl_stage_node(c, i), "name"),
				               "%s: \"%s\" is already the name of stages[%zu]",
				               path, pl_show(p->stages[i].name, shown), k);
			}
		const struct pl_stage *s = &p->stages[i];
		for (size_t j = 0; j < s->nactions; j++)
			for (size_t k = 0; k < j; k++)
				if (strcmp(s->actions[j].name, s->actions[k].name) == 0) {
					pl_path(path, "stages[%zu].actions[%zu].name", i, j);
					return pl_fail(c, pl_get(pl_action_node(c, i, j), "name"),
					               "%s: \"%s\" is already the name of "
					               "stages[%zu].actions[%zu]",
					               path, pl_show(s->actions[j].name, shown), i,
					               k);
				}
	}
	return 0;
}

/* The node of an artifact list's k-th name. */
static const struct ynode *artifact_node(const struct plctx *c, const struct pl_action *a,
                                         const char *field, size_t k)
{
	const struct ynode *list = pl_action_field(c, a, field);
	if (list->kind != YNODE_SEQ || k >= list->n)
		return list;
	const struct ynode *name = pl_get(list->items[k], "name");
	return name ? name : list->items[k];
}

static const struct pl_action *producer_of(const struct pipeline *p, const char *name)
{
	FOR_EACH_ACTION(p, a)
	{
		if (strv_contains(&a->outputs, name))
			return a;
	}
	return NULL;
}

/* §1.2.5–6: output names unique; every input produced by an action that runs before. */
static int check_artifacts(struct plctx *c)
{
	char path[PL_PATH_MAX], label[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	FOR_EACH_ACTION(c->p, a)
	{
		for (size_t k = 0; k < a->outputs.n; k++) {
			const struct pl_action *first = producer_of(c->p, a->outputs.v[k]);
			if (first == a)
				continue;
			action_label(label, first);
			pl_path(path, "stages[%zu].actions[%zu].outputArtifacts[%zu].name",
			        a->stage_index, a->index, k);
			return pl_fail(c, artifact_node(c, a, "outputArtifacts", k),
			               "%s: \"%s\" is already an output of %s (output artifact "
			               "names are unique in a pipeline)",
			               path, pl_show(a->outputs.v[k], shown), label);
		}
	}
	FOR_EACH_ACTION(c->p, a)
	{
		for (size_t k = 0; k < a->inputs.n; k++) {
			const char *name = a->inputs.v[k];
			const struct pl_action *from = producer_of(c->p, name);
			const struct ynode *at = artifact_node(c, a, "inputArtifacts", k);
			pl_path(path, "stages[%zu].actions[%zu].inputArtifacts[%zu].name",
			        a->stage_index, a->index, k);
			if (!from)
				return pl_fail(c, at,
				               "%s: no action has \"%s\" in its outputArtifacts",
				               path, pl_show(name, shown));
			action_label(label, from);
			if (!pipeline_runs_before(from, a))
				return pl_fail(
				        c, at,
				        "%s: \"%s\" is produced by %s, which does not run before "
				        "this action",
				        path, pl_show(name, shown), label);
			/* A CODEBUILD_CLONE_REF artifact is a JSON file only CodeBuild reads
			 * (§4.3). */
			if (from->git.clone_ref && a->provider->kind != PL_KIND_CODEBUILD)
				return pl_fail(
				        c, at,
				        "%s: \"%s\" is a CODEBUILD_CLONE_REF artifact of %s; only "
				        "CodeBuild actions can read it",
				        path, pl_show(name, shown), label);
		}
	}
	return 0;
}

/* §1.2.8: namespaces unique, not reserved, not an artifact's name. */
static int check_namespaces(struct plctx *c)
{
	char path[PL_PATH_MAX], label[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	FOR_EACH_ACTION(c->p, a)
	{
		if (!a->namespace)
			continue;
		const struct ynode *at = pl_action_field(c, a, "namespace");
		pl_path(path, "stages[%zu].actions[%zu].namespace", a->stage_index, a->index);
		pl_show(a->namespace, shown);
		if (strcmp(a->namespace, BUILTIN_NS) == 0 || strcmp(a->namespace, VARIABLE_NS) == 0)
			return pl_fail(c, at,
			               "%s: \"%s\" is reserved (codepipeline and variables are "
			               "built-in namespaces)",
			               path, shown);
		const struct pl_action *first = pipeline_namespace_action(c->p, a->namespace);
		if (first != a) {
			action_label(label, first);
			return pl_fail(c, at, "%s: \"%s\" is already the namespace of %s", path,
			               shown, label);
		}
		const struct pl_action *art = producer_of(c->p, a->namespace);
		if (art) {
			action_label(label, art);
			return pl_fail(c, at,
			               "%s: \"%s\" is also an artifact name (an output of %s); a "
			               "namespace must differ from every artifact name",
			               path, shown, label);
		}
	}
	return 0;
}

/* --- references (§3.1) ------------------------------------------------------------- */

static int check_builtin(struct plctx *c, const struct ynode *at, const char *path, const char *ref,
                         const char *key)
{
	for (size_t i = 0; builtin_keys[i]; i++)
		if (strcmp(key, builtin_keys[i]) == 0)
			return 0;
	return pl_fail(c, at, "%s: #{%s}: the codepipeline namespace has only PipelineExecutionId",
	               path, ref);
}

static int check_pipeline_var(struct plctx *c, const struct ynode *at, const char *path,
                              const char *ref, const char *key)
{
	for (size_t i = 0; i < c->p->nvariables; i++)
		if (strcmp(c->p->variables[i].name, key) == 0)
			return 0;
	return pl_fail(c, at, "%s: #{%s}: no pipeline variable \"%s\" is declared in variables",
	               path, ref, key);
}

static int check_action_var(struct plctx *c, const struct ynode *at, const char *path,
                            const struct pl_action *user, const char *ref, const char *ns,
                            const char *key)
{
	char label[PL_PATH_MAX], list[512];
	const struct pl_action *from = pipeline_namespace_action(c->p, ns);
	if (!from)
		return pl_fail(c, at, "%s: #{%s}: no action declares the namespace \"%s\"", path,
		               ref, ns);
	action_label(label, from);
	if (!pipeline_runs_before(from, user))
		return pl_fail(c, at,
		               "%s: #{%s}: namespace \"%s\" belongs to %s, which does not run "
		               "before this action",
		               path, ref, ns, label);
	const char *const *vars = from->provider->variables;
	if (!vars)
		return 0;
	for (size_t i = 0; vars[i]; i++)
		if (strcmp(vars[i], key) == 0)
			return 0;
	pl_join(list, sizeof list, vars);
	return pl_fail(c, at, "%s: #{%s}: %s %s actions emit %s", path, ref,
	               pipeline_category_name(from->provider->category), from->provider->name,
	               *list ? list : "no variables");
}

static int check_ref(struct plctx *c, const struct pl_action *a, const struct pl_kv *kv,
                     const char *ref)
{
	char path[PL_PATH_MAX], ns[128];
	const char *dot = strchr(ref, '.');
	size_t nlen = (size_t)(dot - ref);
	if (nlen >= sizeof ns)
		nlen = sizeof ns - 1;
	memcpy(ns, ref, nlen);
	ns[nlen] = '\0';
	const char *key = dot + 1;
	const struct ynode *at = pl_config_node(c, a, kv->key);
	pl_path(path, "stages[%zu].actions[%zu].configuration.%s", a->stage_index, a->index,
	        kv->key);
	if (strcmp(ns, BUILTIN_NS) == 0)
		return check_builtin(c, at, path, ref, key);
	if (strcmp(ns, VARIABLE_NS) == 0)
		return check_pipeline_var(c, at, path, ref, key);
	return check_action_var(c, at, path, a, ref, ns, key);
}

static int check_refs(struct plctx *c)
{
	struct strv refs = STRV_INIT;
	int rc = 0;
	FOR_EACH_ACTION(c->p, a)
	{
		for (size_t k = 0; k < a->nconfig && rc == 0; k++) {
			pipeline_vars_refs(a->config[k].value, &refs);
			for (size_t r = 0; r < refs.n && rc == 0; r++)
				rc = check_ref(c, a, &a->config[k], refs.v[r]);
			strv_free(&refs);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Projects nobody names are probably a typo of a ProjectName. */
static void warn_unused_projects(struct plctx *c)
{
	char shown[PL_SHOW_MAX + 8];
	for (size_t i = 0; i < c->p->nprojects; i++) {
		const struct pl_project *pr = &c->p->projects[i];
		int used = 0;
		FOR_EACH_ACTION(c->p, a)
		{
			used |= a->project == pr;
		}
		if (!used) {
			struct ynode at = {.line = pr->line, .col = pr->col};
			pl_warn(c, &at, "projects.%s: no CodeBuild action has this ProjectName",
			        pl_show(pr->name, shown));
		}
	}
}

int pl_check_structure(struct plctx *c)
{
	if (check_type(c) < 0 || check_counts(c) < 0 || check_sources(c) < 0 || check_names(c) < 0)
		return -1;
	FOR_EACH_ACTION(c->p, a)
	{
		if (pl_check_action_type(c, a) < 0)
			return -1;
	}
	if (check_artifacts(c) < 0 || check_namespaces(c) < 0 || pl_link_triggers(c) < 0 ||
	    check_refs(c) < 0)
		return -1;
	warn_unused_projects(c);
	return 0;
}
