/*
 * buildspec.c — checks a YAML/JSON tree into `struct buildspec` (spec §1–2):
 * version, the top-level keys, phases with their commands and on-failure.
 * The env section lives in buildspec_env.c; artifacts, reports and cache in
 * buildspec_out.c; shared checks in buildspec_check.c.
 *
 * Unknown keys are errors, not warnings (spec §1.2 says warn): a misspelt
 * `comands:` that silently runs nothing is worse than a build that stops and
 * says "did you mean". Keys AWS defines that mean nothing on one machine are
 * accepted with a warning.
 */
#include "spec/buildspec_int.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/fs.h"

#define RETRY_COUNT_MAX     100
#define RETRY_COUNT_DEFAULT 3
/* glibc's regcomp expands bounded repeats: a{99}{99}{99} is a million states. */
#define RETRY_REGEX_MAX   256
#define RETRY_REPEATS_MAX 2
#define RETRY_REPEAT_MAX  100

static const char *const top_keys[] = {
        "version", "run-as",  "env",       "proxy", "batch",
        "phases",  "reports", "artifacts", "cache", NULL,
};
static const char *const top_keys_v01[] = {
        "version", "run-as",  "env",       "proxy", "batch",
        "phases",  "reports", "artifacts", "cache", "environment_variables",
        NULL,
};
static const char *const phase_keys[] = {
        "install", "pre_build", "build", "post_build", NULL,
};
static const char *const phase_types[] = {
        "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD", NULL,
};
static const char *const phase_fields[] = {
        "run-as", "on-failure", "runtime-versions", "commands", "finally", NULL,
};

const char *bs_phase_type(enum bs_phase p)
{
	return p >= 0 && p < BS_PHASE_COUNT ? phase_types[p] : "?";
}

const char *bs_phase_key(enum bs_phase p)
{
	return p >= 0 && p < BS_PHASE_COUNT ? phase_keys[p] : "?";
}

/* --- on-failure ------------------------------------------------------------------ */

/* Refuses regexes whose bounded repeats would make regcomp() build huge automata. */
static int regex_bounded(const char *re)
{
	int repeats = 0;
	if (strlen(re) > RETRY_REGEX_MAX)
		return 0;
	for (const char *p = re; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p != '{')
			continue;
		if (++repeats > RETRY_REPEATS_MAX)
			return 0;
		for (const char *q = p + 1; *q && *q != '}'; q++) {
			if (*q < '0' || *q > '9')
				continue;
			char *end;
			errno = 0;
			long n = strtol(q, &end, 10);
			if (errno || n > RETRY_REPEAT_MAX)
				return 0;
			q = end - 1;
		}
	}
	return 1;
}

static int check_regex(struct bsctx *c, const struct ynode *n, const char *path, const char *re)
{
	char why[256];
	regex_t rx;
	if (!*re)
		return bs_fail(c, n, "%s: the regex after RETRY- is empty", path);
	if (!regex_bounded(re))
		return bs_fail(c, n,
		               "%s: the retry regex is too large (at most %d characters and %d "
		               "{m,n} repeats of at most %d)",
		               path, RETRY_REGEX_MAX, RETRY_REPEATS_MAX, RETRY_REPEAT_MAX);
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &rx, why, sizeof why);
		return bs_fail(c, n, "%s: the retry regex does not compile: %s", path, why);
	}
	regfree(&rx);
	return 0;
}

/* After `RETRY-`: digits ended by `-` or the end are the count, the rest is the
 * regex (spec §2.3 parsing rule). */
static int parse_retry(struct bsctx *c, const struct ynode *n, const char *path, const char *rest,
                       struct bs_phase_spec *ph)
{
	ph->on_failure = BS_ONFAIL_RETRY;
	ph->retry_count = RETRY_COUNT_DEFAULT;
	if (*rest == '\0')
		return 0;
	if (*rest != '-')
		return bs_fail(
		        c, n,
		        "%s: expected ABORT, CONTINUE, RETRY, RETRY-<count>, RETRY-<regex> or "
		        "RETRY-<count>-<regex>",
		        path);
	rest++;
	size_t digits = strspn(rest, "0123456789");
	const char *regex = rest;
	if (digits > 0 && (rest[digits] == '\0' || rest[digits] == '-')) {
		errno = 0;
		long count = strtol(rest, NULL, 10);
		if (errno || count > RETRY_COUNT_MAX)
			return bs_fail(c, n, "%s: a retry count is at most %d", path,
			               RETRY_COUNT_MAX);
		ph->retry_count = (int)count;
		regex = rest[digits] ? rest + digits + 1 : NULL;
	}
	if (!regex)
		return 0;
	if (check_regex(c, n, path, regex) < 0)
		return -1;
	ph->retry_regex = xstrdup(regex);
	return 0;
}

static int parse_on_failure(struct bsctx *c, const struct ynode *n, const char *path,
                            struct bs_phase_spec *ph)
{
	char *text = NULL;
	if (bs_string(c, n, path, &text) < 0)
		return -1;
	int rc = 0;
	if (strcasecmp(text, "ABORT") == 0)
		ph->on_failure = BS_ONFAIL_ABORT;
	else if (strcasecmp(text, "CONTINUE") == 0)
		ph->on_failure = BS_ONFAIL_CONTINUE;
	else if (strncasecmp(text, "RETRY", 5) == 0)
		rc = parse_retry(c, n, path, text + 5, ph);
	else
		rc = bs_fail(c, n,
		             "%s: expected ABORT, CONTINUE, RETRY, RETRY-<count>, RETRY-<regex> or "
		             "RETRY-<count>-<regex>",
		             path);
	free(text);
	return rc;
}

/* --- commands -------------------------------------------------------------------- */

static void push_command(struct bs_command **v, size_t *n, const struct ynode *at, const char *text)
{
	*v = bs_grow(*v, *n, sizeof **v);
	(*v)[*n].text = xstrdup(text);
	(*v)[*n].line = at->line;
	(*v)[*n].col = at->col;
	(*n)++;
}

/* The usual cause is `- echo a: b`; CodeBuild's own text names "Commands[i]" (spec §1.2). */
static int command_is_mapping(struct bsctx *c, const struct ynode *it, const char *ipath,
                              const char *label, size_t i)
{
	char shown[BS_SHOW_MAX + 8];
	if (it->n >= 2 && it->items[0]->kind == YNODE_SCALAR && !it->items[0]->quoted)
		return bs_fail(
		        c, it,
		        "%s: expected a string, found a mapping (%s[%zu]): the unquoted \": \" "
		        "after \"%s\" makes YAML read the command as a key; quote the command",
		        ipath, label, i, bs_show(it->items[0], shown));
	return bs_fail(c, it,
	               "%s: expected a string, found a mapping (%s[%zu]): an unquoted \": \" or "
	               "{ } inside a command makes YAML read it as a mapping; quote the command",
	               ipath, label, i);
}

static int check_command(struct bsctx *c, const struct ynode *it, const char *path,
                         const char *label, size_t i, struct bs_command **out, size_t *nout)
{
	char ipath[BS_PATH_MAX];
	snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
	if (it->kind == YNODE_NULL) {
		bs_warn(c, it, "%s: empty command (runs as a no-op)", ipath);
		push_command(out, nout, it, "");
		return 0;
	}
	if (it->kind == YNODE_MAP)
		return command_is_mapping(c, it, ipath, label, i);
	if (it->kind != YNODE_SCALAR)
		return bs_fail(c, it, "%s: expected a string, found %s (%s[%zu])", ipath,
		               ytree_kind_name(it), label, i);
	if (memchr(it->text, '\0', it->len))
		return bs_fail(c, it, "%s: contains a NUL character", ipath);
	push_command(out, nout, it, it->text);
	return 0;
}

/* commands/finally: a list of strings, or one scalar as a one-item list (checklist 9). */
static int check_commands(struct bsctx *c, const struct ynode *n, const char *path,
                          const char *label, struct bs_command **out, size_t *nout)
{
	if (n->kind == YNODE_NULL)
		return 0;
	if (n->kind == YNODE_SCALAR)
		return check_command(c, n, path, label, 0, out, nout);
	if (n->kind == YNODE_MAP)
		return bs_fail(
		        c, n,
		        "%s: expected a list of strings, found a mapping (an unquoted \": \" "
		        "inside a command makes YAML read it as a key; quote the command)",
		        path);
	for (size_t i = 0; i < n->n; i++)
		if (check_command(c, n->items[i], path, label, i, out, nout) < 0)
			return -1;
	return 0;
}

/* --- phases ---------------------------------------------------------------------- */

static int phase_entry(struct bsctx *c, enum bs_phase p, const struct ynode *k,
                       const struct ynode *v, const char *path)
{
	struct bs_phase_spec *ph = &c->bs->phases[p];
	char kpath[BS_PATH_MAX];
	bs_path(kpath, path, k->text);
	if (strcmp(k->text, "run-as") == 0)
		return bs_string(c, v, kpath, &ph->run_as);
	if (strcmp(k->text, "on-failure") == 0)
		return parse_on_failure(c, v, kpath, ph);
	if (strcmp(k->text, "commands") == 0)
		return check_commands(c, v, kpath, "Commands", &ph->commands, &ph->ncommands);
	if (strcmp(k->text, "finally") == 0)
		return check_commands(c, v, kpath, "Finally", &ph->finally, &ph->nfinally);
	/* runtime-versions */
	if (p != BS_INSTALL)
		return bs_fail(c, k, "%s: runtime-versions is allowed only in the install phase",
		               kpath);
	if (bs_want_map(c, v, kpath) < 0)
		return -1;
	bs_warn(c, k, "runtime-versions is ignored: ferry runs on this machine's tools");
	return 0;
}

static int check_phase(struct bsctx *c, enum bs_phase p, const struct ynode *v)
{
	char path[BS_PATH_MAX];
	bs_path(path, "phases", bs_phase_key(p));
	c->bs->phases[p].present = 1;
	if (bs_want_map(c, v, path) < 0 || bs_check_keys(c, v, path, phase_fields, "key") < 0)
		return -1;
	for (size_t i = 0; v->kind == YNODE_MAP && i + 1 < v->n; i += 2)
		if (phase_entry(c, p, v->items[i], v->items[i + 1], path) < 0)
			return -1;
	return 0;
}

static int check_phases(struct bsctx *c, const struct ynode *v)
{
	if (bs_want_map(c, v, "phases") < 0 ||
	    bs_check_keys(c, v, "phases", phase_keys, "phase") < 0)
		return -1;
	for (size_t i = 0; v->kind == YNODE_MAP && i + 1 < v->n; i += 2)
		for (int p = 0; p < BS_PHASE_COUNT; p++)
			if (strcmp(v->items[i]->text, phase_keys[p]) == 0 &&
			    check_phase(c, (enum bs_phase)p, v->items[i + 1]) < 0)
				return -1;
	return 0;
}

/* --- top level ------------------------------------------------------------------- */

static int check_version(struct bsctx *c, const struct ynode *root)
{
	char shown[BS_SHOW_MAX + 8];
	const struct ynode *v = ytree_get(root, "version");
	if (!v)
		return bs_fail(c, root,
		               "version: missing (a buildspec starts with \"version: 0.2\")");
	if (v->kind != YNODE_SCALAR)
		return bs_fail(c, v, "version: expected 0.2, found %s", ytree_kind_name(v));
	if (strcmp(v->text, "0.2") != 0 && strcmp(v->text, "0.1") != 0)
		return bs_fail(
		        c, v, "version: \"%s\" is not a buildspec version ferry reads (0.2 or 0.1)",
		        bs_show(v, shown));
	c->bs->version = xstrdup(v->text);
	c->bs->v01 = strcmp(v->text, "0.1") == 0;
	return 0;
}

static int top_entry(struct bsctx *c, const struct ynode *k, const struct ynode *v)
{
	const char *key = k->text;
	if (strcmp(key, "run-as") == 0)
		return bs_string(c, v, "run-as", &c->bs->run_as);
	if (strcmp(key, "env") == 0)
		return bs_check_env(c, v);
	if (strcmp(key, "environment_variables") == 0)
		return bs_check_v01_env(c, v);
	if (strcmp(key, "phases") == 0)
		return check_phases(c, v);
	if (strcmp(key, "reports") == 0)
		return bs_check_reports(c, v);
	if (strcmp(key, "artifacts") == 0)
		return bs_check_artifacts(c, k, v);
	if (strcmp(key, "cache") == 0)
		return bs_check_cache(c, v);
	if (strcmp(key, "proxy") == 0)
		bs_warn(c, k, "proxy is ignored: builds use this machine's network as it is");
	if (strcmp(key, "batch") == 0)
		bs_warn(c, k, "batch is ignored: ferry runs the buildspec as one build");
	return 0; /* version: checked first */
}

static int check_root(struct bsctx *c, const struct ynode *root)
{
	if (root->kind == YNODE_NULL)
		return bs_fail(c, root, "the buildspec is empty (expected version and phases)");
	if (root->kind != YNODE_MAP)
		return bs_fail(c, root, "expected a mapping with version and phases, found %s",
		               ytree_kind_name(root));
	if (check_version(c, root) < 0)
		return -1;
	for (size_t i = 0; !c->bs->v01 && i + 1 < root->n; i += 2)
		if (strcmp(root->items[i]->text, "environment_variables") == 0)
			return bs_fail(c, root->items[i],
			               "environment_variables is version 0.1's name; in 0.2 write "
			               "env: variables:");
	if (bs_check_keys(c, root, "", c->bs->v01 ? top_keys_v01 : top_keys, "key") < 0)
		return -1;
	for (size_t i = 0; i + 1 < root->n; i += 2)
		if (top_entry(c, root->items[i], root->items[i + 1]) < 0)
			return -1;
	if (!ytree_get(root, "phases"))
		return bs_fail(
		        c, root,
		        "phases: missing (a buildspec needs at least one of install, pre_build, "
		        "build, post_build)");
	return 0;
}

/* --- results --------------------------------------------------------------------- */

static int warning_cmp(const void *pa, const void *pb)
{
	const struct bs_warning *a = pa, *b = pb;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Moves the collected warnings, in file order, into bs->warnings (or drops them). */
static void finish_warnings(struct bsctx *c, int keep)
{
	if (keep && c->nwarns)
		qsort(c->warns, c->nwarns, sizeof *c->warns, warning_cmp);
	for (size_t i = 0; i < c->nwarns; i++) {
		if (keep)
			strv_pushf(&c->bs->warnings, "%s:%d:%d: %s", c->file, c->warns[i].line,
			           c->warns[i].col, c->warns[i].msg);
		free(c->warns[i].msg);
	}
	free(c->warns);
	c->warns = NULL;
	c->nwarns = 0;
}

int buildspec_parse(const char *text, size_t len, const char *filename, struct buildspec **out,
                    struct err *err)
{
	const char *file = filename ? filename : "buildspec.yml";
	struct ynode *root = NULL;
	*out = NULL;
	if (len > BUILDSPEC_FILE_MAX)
		return err_set(err, "%s: larger than %d bytes (BUILDSPEC_FILE_MAX)", file,
		               BUILDSPEC_FILE_MAX);
	if (ytree_parse(text, len, file, &root, err) < 0)
		return -1;
	struct buildspec *bs = xcalloc(1, sizeof *bs);
	bs->filename = xstrdup(file);
	struct bsctx c = {.file = file, .bs = bs, .err = err};
	int rc = check_root(&c, root);
	ytree_free(root);
	finish_warnings(&c, rc == 0);
	if (rc < 0) {
		buildspec_free(bs);
		return -1;
	}
	*out = bs;
	return 0;
}

int buildspec_load(const char *path, const char *shown, struct buildspec **out, struct err *err)
{
	char *data = NULL;
	size_t len = 0;
	*out = NULL;
	if (fs_read_file(path, BUILDSPEC_FILE_MAX, &data, &len, err) < 0)
		return -1;
	int rc = buildspec_parse(data, len, shown ? shown : path, out, err);
	free(data);
	return rc;
}

static void commands_free(struct bs_command *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

void buildspec_free(struct buildspec *bs)
{
	if (!bs)
		return;
	free(bs->filename);
	free(bs->version);
	free(bs->shell);
	free(bs->run_as);
	bs_vars_free(bs->variables, bs->nvariables);
	bs_vars_free(bs->parameter_store, bs->nparameter_store);
	bs_vars_free(bs->secrets_manager, bs->nsecrets_manager);
	strv_free(&bs->exported_variables);
	for (int p = 0; p < BS_PHASE_COUNT; p++) {
		free(bs->phases[p].run_as);
		free(bs->phases[p].retry_regex);
		commands_free(bs->phases[p].commands, bs->phases[p].ncommands);
		commands_free(bs->phases[p].finally, bs->phases[p].nfinally);
	}
	bs_artifacts_free(&bs->artifacts);
	for (size_t i = 0; i < bs->nsecondary; i++)
		bs_artifacts_free(&bs->secondary[i]);
	free(bs->secondary);
	for (size_t i = 0; i < bs->nreports; i++) {
		free(bs->reports[i].name);
		strv_free(&bs->reports[i].files);
		free(bs->reports[i].base_directory);
		free(bs->reports[i].file_format);
	}
	free(bs->reports);
	free(bs->cache.key);
	strv_free(&bs->cache.fallback_keys);
	free(bs->cache.action);
	strv_free(&bs->cache.paths);
	strv_free(&bs->warnings);
	free(bs);
}
