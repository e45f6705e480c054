/*
 * pipeline_vars.c — `#{namespace.key}` references (spec §3.1) and the pipeline
 * variables of one execution (§1.6).
 *
 * The grammar is deliberately narrow: `#{`, a run of [A-Za-z0-9@_-], one `.`, another
 * such run, `}`. Anything else — `#{a}`, `#{a.b.c}`, `#{ a.b }`, a lone `#{` — is
 * plain text, kept as written. There is no escape: AWS has none either.
 */
#include "spec/pipeline_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 1000 /* a StartPipelineExecution variable value (§1.6) */

static int ref_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '@' || ch == '_' || ch == '-';
}

int pl_var_at(const char *s, size_t *ns_len, size_t *key_off, size_t *key_len, size_t *end)
{
	if (s[0] != '#' || s[1] != '{')
		return 0;
	size_t i = 2;
	while (ref_char(s[i]))
		i++;
	if (i == 2 || s[i] != '.')
		return 0;
	*ns_len = i - 2;
	size_t k = ++i;
	while (ref_char(s[i]))
		i++;
	if (i == k || s[i] != '}')
		return 0;
	*key_off = k;
	*key_len = i - k;
	*end = i + 1;
	return 1;
}

void pipeline_vars_refs(const char *text, struct strv *out)
{
	size_t ns_len, key_off, key_len, end;
	for (const char *p = strchr(text, '#'); p; p = strchr(p, '#')) {
		if (!pl_var_at(p, &ns_len, &key_off, &key_len, &end)) {
			p++;
			continue;
		}
		/* "ns.key" is the text between the braces. */
		strv_push_owned(out, xstrndup(p + 2, end - 3));
		p += end;
	}
}

int pipeline_vars_resolve(const char *text, pipeline_var_lookup lookup, void *ctx, char **out,
                          struct err *err)
{
	struct buf b;
	size_t ns_len, key_off, key_len, end;
	*out = NULL;
	buf_init(&b, PIPELINE_RESOLVED_MAX);
	const char *p = text;
	for (;;) {
		const char *hash = strchr(p, '#');
		while (hash && !pl_var_at(hash, &ns_len, &key_off, &key_len, &end))
			hash = strchr(hash + 1, '#');
		size_t lit = hash ? (size_t)(hash - p) : strlen(p);
		if (buf_append(&b, p, lit) < 0)
			goto too_big;
		if (!hash)
			break;
		char *ns = xstrndup(hash + 2, ns_len);
		char *key = xstrndup(hash + key_off, key_len);
		const char *val = lookup(ctx, ns, key);
		if (!val) {
			err_set(err, "Unable to resolve variable #{%s.%s}", ns, key);
			free(ns);
			free(key);
			buf_free(&b);
			return -1;
		}
		int rc = buf_puts(&b, val);
		free(ns);
		free(key);
		if (rc < 0)
			goto too_big;
		p = hash + end;
	}
	*out = buf_detach(&b);
	return 0;
too_big:
	buf_free(&b);
	return err_set(err, "the resolved value is larger than %d bytes (PIPELINE_RESOLVED_MAX)",
	               PIPELINE_RESOLVED_MAX);
}

/* --- one execution's pipeline variables (§1.6) ---------------------------------------- */

static const struct pl_kv *given_value(const struct pl_kv *given, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(given[i].key, name) == 0)
			return &given[i];
	return NULL;
}

static int check_given(const struct pipeline *p, const struct pl_kv *given, size_t n,
                       struct err *err)
{
	char shown[PL_SHOW_MAX + 8];
	if (n > PIPELINE_VARIABLES_MAX)
		return err_set(err, "variables: at most %d, found %zu", PIPELINE_VARIABLES_MAX, n);
	for (size_t i = 0; i < n; i++) {
		const char *name = given[i].key, *value = given[i].value;
		int declared = 0;
		if (!name || !*name)
			return err_set(err, "variables[%zu].name: must not be empty", i);
		for (size_t k = 0; k < p->nvariables && !declared; k++)
			declared = strcmp(p->variables[k].name, name) == 0;
		if (!declared)
			return err_set(
			        err, "variables[%zu].name: pipeline %s declares no variable \"%s\"",
			        i, p->name, pl_show(name, shown));
		if (given_value(given, i, name))
			return err_set(err, "variables[%zu].name: \"%s\" is given twice", i,
			               pl_show(name, shown));
		if (!value || !*value)
			return err_set(err, "variables[%zu].value: must not be empty", i);
		size_t len = pl_utf8_len(value, strlen(value));
		if (len == (size_t)-1)
			return err_set(err, "variables[%zu].value: is not valid UTF-8", i);
		if (len > VALUE_MAX)
			return err_set(err,
			               "variables[%zu].value: at most %d characters, found %zu", i,
			               VALUE_MAX, len);
	}
	return 0;
}

int pipeline_vars_bind(const struct pipeline *p, const struct pl_kv *given, size_t n,
                       struct pl_kv **out, size_t *nout, struct err *err)
{
	char shown[PL_SHOW_MAX + 8];
	*out = NULL;
	*nout = 0;
	if (check_given(p, given, n, err) < 0)
		return -1;
	struct pl_kv *kv = xcalloc(p->nvariables + 1, sizeof *kv);
	for (size_t i = 0; i < p->nvariables; i++) {
		const struct pl_variable *v = &p->variables[i];
		const struct pl_kv *g = given_value(given, n, v->name);
		if (!g && !v->default_value) {
			pipeline_kv_free(kv, i);
			return err_set(
			        err,
			        "variables: \"%s\" has no defaultValue, so each execution must "
			        "give it a value",
			        pl_show(v->name, shown));
		}
		kv[i].key = xstrdup(v->name);
		kv[i].value = xstrdup(g ? g->value : v->default_value);
	}
	*out = kv;
	*nout = p->nvariables;
	return 0;
}
