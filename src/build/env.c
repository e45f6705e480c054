/* env.c — see env.h. */
#include "build/env.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct envmap {
	char **names;
	char **values;
	size_t n, cap;
};

struct envmap *envmap_new(void)
{
	return xcalloc(1, sizeof(struct envmap));
}

void envmap_free(struct envmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->names[i]);
		free(m->values[i]);
	}
	free(m->names);
	free(m->values);
	free(m);
}

static long find(const struct envmap *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->names[i], name))
			return (long)i;
	return -1;
}

void envmap_set(struct envmap *m, const char *name, const char *value)
{
	long i = find(m, name);
	if (i >= 0) {
		free(m->values[i]);
		m->values[i] = xstrdup(value);
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->names = xrealloc(m->names, m->cap * sizeof(char *));
		m->values = xrealloc(m->values, m->cap * sizeof(char *));
	}
	m->names[m->n] = xstrdup(name);
	m->values[m->n] = xstrdup(value);
	m->n++;
}

int envmap_put(struct envmap *m, const char *kv, const char *origin, struct err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return err_set(err, "%s: \"%s\" is not NAME=value", origin, kv);
	char *name = xstrndup(kv, (size_t)(eq - kv));
	int ok = env_valid_name(name);
	if (ok)
		envmap_set(m, name, eq + 1);
	else
		err_set(err, "%s: \"%s\" is not a valid variable name", origin, name);
	free(name);
	return ok ? 0 : -1;
}

const char *envmap_get(const struct envmap *m, const char *name)
{
	long i = find(m, name);
	return i >= 0 ? m->values[i] : NULL;
}

void envmap_export(const struct envmap *m, struct strv *out)
{
	for (size_t i = 0; i < m->n; i++)
		strv_pushf(out, "%s=%s", m->names[i], m->values[i]);
}

int env_valid_name(const char *name)
{
	if (!name[0] || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return 0;
	for (const char *p = name + 1; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return 0;
	return 1;
}
