/*
 * pipeline_json.c — a declaration back to JSON, as get-pipeline prints it: keys in
 * the order of botocore's model, defaults written out (runOrder, executionMode,
 * pipelineType, configuration, empty artifact lists), optional fields only when set.
 * Reading the output again gives the same declaration, so `ferry pipeline get` shows
 * what was put, and storing this text is storing the declaration.
 */
#include "spec/pipeline_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The written text of a declaration read from at most PIPELINE_FILE_MAX bytes: each
 * input byte becomes at most 6 (a \uXXXX escape for 2), plus the defaults and
 * indentation added per action (500 at most). */
#define JSON_TEXT_MAX (16 * PIPELINE_FILE_MAX)

/* Strings in a parsed pipeline are valid UTF-8 (pipeline.h), so json_string() cannot
 * fail but for memory, which xmalloc-style code treats as fatal. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	if (!j)
		abort();
	return j;
}

static void set_str(json_t *obj, const char *key, const char *s)
{
	if (s)
		json_object_set_new(obj, key, jstr(s));
}

static json_t *store_json(const struct pl_artifact_store *st)
{
	json_t *o = json_object();
	set_str(o, "type", st->type);
	set_str(o, "location", st->location);
	if (st->key_id) {
		json_t *k = json_object();
		set_str(k, "id", st->key_id);
		set_str(k, "type", st->key_type);
		json_object_set_new(o, "encryptionKey", k);
	}
	return o;
}

static json_t *artifacts_json(const struct strv *names)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < names->n; i++) {
		json_t *o = json_object();
		set_str(o, "name", names->v[i]);
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *action_json(const struct pl_action *a)
{
	json_t *o = json_object(), *type = json_object(), *cfg = json_object();
	set_str(o, "name", a->name);
	set_str(type, "category", a->category);
	set_str(type, "owner", a->owner);
	set_str(type, "provider", a->provider_name);
	set_str(type, "version", a->version);
	json_object_set_new(o, "actionTypeId", type);
	json_object_set_new(o, "runOrder", json_integer(a->run_order));
	for (size_t i = 0; i < a->nconfig; i++)
		json_object_set_new(cfg, a->config[i].key, jstr(a->config[i].value));
	json_object_set_new(o, "configuration", cfg);
	json_object_set_new(o, "outputArtifacts", artifacts_json(&a->outputs));
	json_object_set_new(o, "inputArtifacts", artifacts_json(&a->inputs));
	set_str(o, "roleArn", a->role_arn);
	set_str(o, "region", a->region);
	set_str(o, "namespace", a->namespace);
	if (a->timeout_minutes)
		json_object_set_new(o, "timeoutInMinutes", json_integer(a->timeout_minutes));
	return o;
}

static json_t *stage_json(const struct pl_stage *s)
{
	json_t *o = json_object(), *actions = json_array();
	set_str(o, "name", s->name);
	if (s->nblockers) {
		json_t *arr = json_array();
		for (size_t i = 0; i < s->nblockers; i++) {
			json_t *b = json_object();
			set_str(b, "name", s->blockers[i].name);
			set_str(b, "type", s->blockers[i].type);
			json_array_append_new(arr, b);
		}
		json_object_set_new(o, "blockers", arr);
	}
	for (size_t i = 0; i < s->nactions; i++)
		json_array_append_new(actions, action_json(&s->actions[i]));
	json_object_set_new(o, "actions", actions);
	if (s->on_failure != PL_ONFAIL_NONE) {
		json_t *f = json_object();
		set_str(f, "result", s->on_failure == PL_ONFAIL_RETRY ? "RETRY" : "FAIL");
		if (s->retry_mode_set) {
			json_t *rc = json_object();
			set_str(rc, "retryMode",
			        s->retry_mode == PL_RETRY_ALL_ACTIONS ? "ALL_ACTIONS"
			                                              : "FAILED_ACTIONS");
			json_object_set_new(f, "retryConfiguration", rc);
		}
		json_object_set_new(o, "onFailure", f);
	}
	return o;
}

static json_t *strv_json(const struct strv *sv)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(arr, jstr(sv->v[i]));
	return arr;
}

static void set_patterns(json_t *o, const char *key, const struct pl_patterns *pt)
{
	if (!pt->present)
		return;
	json_t *c = json_object();
	if (pt->includes.n)
		json_object_set_new(c, "includes", strv_json(&pt->includes));
	if (pt->excludes.n)
		json_object_set_new(c, "excludes", strv_json(&pt->excludes));
	json_object_set_new(o, key, c);
}

static json_t *trigger_json(const struct pl_trigger *t)
{
	json_t *o = json_object(), *git = json_object();
	set_str(o, "providerType", t->provider_type);
	set_str(git, "sourceActionName", t->source_action_name);
	if (t->npush) {
		json_t *arr = json_array();
		for (size_t i = 0; i < t->npush; i++) {
			json_t *f = json_object();
			set_patterns(f, "tags", &t->push[i].tags);
			set_patterns(f, "branches", &t->push[i].branches);
			set_patterns(f, "filePaths", &t->push[i].file_paths);
			json_array_append_new(arr, f);
		}
		json_object_set_new(git, "push", arr);
	}
	if (t->npull_request) {
		json_t *arr = json_array();
		for (size_t i = 0; i < t->npull_request; i++) {
			const struct pl_pr_filter *pr = &t->pull_request[i];
			json_t *f = json_object();
			if (pr->events_text.n)
				json_object_set_new(f, "events", strv_json(&pr->events_text));
			set_patterns(f, "branches", &pr->branches);
			set_patterns(f, "filePaths", &pr->file_paths);
			json_array_append_new(arr, f);
		}
		json_object_set_new(git, "pullRequest", arr);
	}
	json_object_set_new(o, "gitConfiguration", git);
	return o;
}

json_t *pipeline_to_json(const struct pipeline *p)
{
	json_t *o = json_object(), *stages = json_array();
	set_str(o, "name", p->name);
	set_str(o, "roleArn", p->role_arn);
	if (p->nstores && !p->stores_by_region) {
		json_object_set_new(o, "artifactStore", store_json(&p->stores[0]));
	} else if (p->nstores) {
		json_t *m = json_object();
		for (size_t i = 0; i < p->nstores; i++)
			json_object_set_new(m, p->stores[i].region, store_json(&p->stores[i]));
		json_object_set_new(o, "artifactStores", m);
	}
	for (size_t i = 0; i < p->nstages; i++)
		json_array_append_new(stages, stage_json(&p->stages[i]));
	json_object_set_new(o, "stages", stages);
	if (p->version)
		json_object_set_new(o, "version", json_integer(p->version));
	set_str(o, "executionMode", pipeline_mode_name(p->execution_mode));
	set_str(o, "pipelineType", pipeline_type_name(p->type));
	if (p->nvariables) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->nvariables; i++) {
			json_t *v = json_object();
			set_str(v, "name", p->variables[i].name);
			set_str(v, "defaultValue", p->variables[i].default_value);
			set_str(v, "description", p->variables[i].description);
			json_array_append_new(arr, v);
		}
		json_object_set_new(o, "variables", arr);
	}
	if (p->ntriggers) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->ntriggers; i++)
			json_array_append_new(arr, trigger_json(&p->triggers[i]));
		json_object_set_new(o, "triggers", arr);
	}
	return o;
}

static json_t *project_json(const struct pl_project *pr)
{
	json_t *o = json_object();
	set_str(o, "buildspec", pr->buildspec);
	if (pr->nenv) {
		json_t *arr = json_array();
		for (size_t i = 0; i < pr->nenv; i++) {
			json_t *e = json_object();
			set_str(e, "name", pr->env[i].name);
			set_str(e, "value", pr->env[i].value);
			set_str(e, "type", pr->env[i].type);
			json_array_append_new(arr, e);
		}
		json_object_set_new(o, "environmentVariables", arr);
	}
	if (pr->timeout_minutes)
		json_object_set_new(o, "timeoutInMinutes", json_integer(pr->timeout_minutes));
	return o;
}

static json_t *notify_rule_json(const struct pl_notify_rule *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "events", strv_json(&r->events_text));
	set_str(o, "command", r->command);
	set_str(o, "url", r->url);
	json_object_set_new(o, "timeoutSeconds", json_integer(r->timeout_s));
	json_object_set_new(o, "retries", json_integer(r->retries));
	return o;
}

json_t *pipeline_file_to_json(const struct pipeline *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "pipeline", pipeline_to_json(p));
	if (p->ntags) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->ntags; i++) {
			json_t *t = json_object();
			set_str(t, "key", p->tags[i].key);
			set_str(t, "value", p->tags[i].value);
			json_array_append_new(arr, t);
		}
		json_object_set_new(o, "tags", arr);
	}
	if (p->nprojects) {
		json_t *m = json_object();
		for (size_t i = 0; i < p->nprojects; i++)
			json_object_set_new(m, p->projects[i].name, project_json(&p->projects[i]));
		json_object_set_new(o, "projects", m);
	}
	if (p->nnotifications) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->nnotifications; i++)
			json_array_append_new(arr, notify_rule_json(&p->notifications[i]));
		json_object_set_new(o, "notifications", arr);
	}
	return o;
}

/* Code points jansson writes raw that YAML would not read back as themselves: libyaml
 * takes NEL, LS and PS for line breaks (folded to a space inside quotes) and refuses
 * DEL, the C1 controls and U+FFFE/U+FFFF. The BOM is escaped too, to be safe. */
static int yaml_unsafe(uint32_t cp)
{
	return cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

/* Rewrites those as \uXXXX escapes. Outside strings JSON text is ASCII, so every
 * such character is inside a string, where the escape means the same. */
static char *escape_for_yaml(const char *text)
{
	struct buf b;
	buf_init(&b, JSON_TEXT_MAX);
	const unsigned char *s = (const unsigned char *)text;
	while (*s) {
		uint32_t cp = *s;
		size_t n = 1;
		if (*s >= 0xc0) { /* jansson's output is valid UTF-8 */
			n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
			cp = *s & (0x3f >> (n - 1));
			for (size_t i = 1; i < n; i++)
				cp = (cp << 6) | (s[i] & 0x3f);
		}
		int rc = yaml_unsafe(cp) ? buf_printf(&b, "\\u%04x", (unsigned)cp)
		                         : buf_append(&b, s, n);
		if (rc < 0)
			abort(); /* past JSON_TEXT_MAX: cannot come from a 1 MiB file */
		s += n;
	}
	if (buf_puts(&b, "\n") < 0)
		abort(); /* as above */
	return buf_detach(&b);
}

char *pipeline_to_string(const struct pipeline *p, unsigned flags)
{
	json_t *j = flags & PIPELINE_JSON_FILE ? pipeline_file_to_json(p) : pipeline_to_json(p);
	size_t dump = flags & PIPELINE_JSON_COMPACT ? JSON_COMPACT : JSON_INDENT(4);
	char *text = json_dumps(j, dump | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!text)
		abort(); /* only out of memory: the tree holds nothing jansson refuses */
	char *out = escape_for_yaml(text);
	free(text);
	return out;
}
