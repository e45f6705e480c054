/*
 * fuzz_pipeline.c — libFuzzer driver for the pipeline declaration (spec/pipeline.h):
 * any bytes must give a checked declaration or one error line with a
 * "FILE:LINE:COL: " prefix, never a crash, a leak or an unbounded allocation.
 *
 * On success it also checks what callers rely on:
 *  - warnings are one line each, with the same prefix, and every message, warning
 *    and reason is valid UTF-8 (they end up in JSON answers);
 *  - the JSON written back reads again and is written the same (what `pipeline get`
 *    prints is what was put);
 *  - every trigger answers pushes and pull requests, with a reason exactly when it
 *    says no;
 *  - every configuration value resolves with a lookup that knows everything, and
 *    fails with "Unable to resolve variable" with one that knows nothing when it has
 *    a reference.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "pipeline.yml"

/* "LINE:COL: " with both numbers at least 1. */
static int has_line_col(const char *s)
{
	for (int field = 0; field < 2; field++) {
		if (*s < '1' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s++ != ':')
			return 0;
	}
	return *s == ' ';
}

static const char *knows_all(void *ctx, const char *ns, const char *key)
{
	(void)ctx;
	(void)ns;
	(void)key;
	return "v";
}

static const char *knows_nothing(void *ctx, const char *ns, const char *key)
{
	(void)ctx;
	(void)ns;
	(void)key;
	return NULL;
}

static void check_round_trip(const struct pipeline *p)
{
	char *once = pipeline_to_string(p, PIPELINE_JSON_FILE);
	struct pipeline *q = NULL;
	struct err err;
	if (pipeline_parse(once, strlen(once), "again.json", NULL, &q, &err) != 0)
		abort(); /* what ferry writes, ferry reads */
	char *twice = pipeline_to_string(q, PIPELINE_JSON_FILE);
	if (strcmp(once, twice) != 0)
		abort();
	free(once);
	free(twice);
	pipeline_free(q);
}

/* Messages end up in JSON answers: they must be valid UTF-8 (jansson checks). */
static void check_utf8(const char *s)
{
	json_t *j = json_string(s);
	if (!j)
		abort();
	json_decref(j);
}

static void check_answer(int matched, char *why)
{
	if (matched != (why == NULL) || (why && (!*why || strchr(why, '\n'))))
		abort();
	if (why)
		check_utf8(why);
	free(why);
}

static void check_triggers(const struct pipeline *p)
{
	static const char *const refs[] = {"refs/heads/main", "refs/heads/release/1.2",
	                                   "refs/tags/v1.0", "refs/pull/1/head"};
	static const char *const events[] = {"OPEN", "UPDATED", "CLOSED", "MERGED"};
	struct strv paths = STRV_INIT;
	strv_push(&paths, "src/a.c");
	strv_push(&paths, "docs/README.md");
	for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
		for (int known = 0; known < 2; known++) {
			struct pipeline_push push = {.ref = refs[i],
			                             .paths = known ? &paths : NULL};
			char *why = NULL;
			for (size_t t = 0; t < p->ntriggers; t++) {
				check_answer(pipeline_push_matches(&p->triggers[t], &push, &why),
				             why);
				struct pipeline_pr pr = {.event = events[i],
				                         .target_branch = refs[i] + 5,
				                         .paths = push.paths};
				check_answer(pipeline_pr_matches(&p->triggers[t], &pr, &why), why);
			}
			const struct pl_action *src = &p->stages[0].actions[0];
			check_answer(pipeline_source_push_matches(p, src, &push, &why), why);
		}
	}
	strv_free(&paths);
}

static void check_variables(const struct pipeline *p)
{
	struct err err;
	for (size_t s = 0; s < p->nstages; s++)
		for (size_t a = 0; a < p->stages[s].nactions; a++) {
			const struct pl_action *act = &p->stages[s].actions[a];
			for (size_t k = 0; k < act->nconfig; k++) {
				const char *v = act->config[k].value;
				struct strv refs = STRV_INIT;
				char *out = NULL;
				pipeline_vars_refs(v, &refs);
				if (pipeline_vars_resolve(v, knows_all, NULL, &out, &err) != 0)
					abort(); /* 1000 characters cannot grow past the cap */
				free(out);
				int rc = pipeline_vars_resolve(v, knows_nothing, NULL, &out, &err);
				if ((rc == 0) != (refs.n == 0))
					abort();
				if (rc != 0 &&
				    strncmp(err.msg, "Unable to resolve variable #{", 29) != 0)
					abort();
				free(out);
				strv_free(&refs);
			}
		}
	struct pl_kv *kv = NULL;
	size_t n = 0;
	if (pipeline_vars_bind(p, NULL, 0, &kv, &n, &err) == 0)
		pipeline_kv_free(kv, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline *p = NULL;
	struct err err;
	if (pipeline_parse((const char *)data, size, FILE_NAME, NULL, &p, &err) == 0) {
		for (size_t i = 0; i < p->warnings.n; i++) {
			const char *w = p->warnings.v[i];
			if (strncmp(w, FILE_NAME ":", sizeof FILE_NAME) != 0 ||
			    !has_line_col(w + sizeof FILE_NAME) || strchr(w, '\n'))
				abort();
			check_utf8(w);
		}
		check_round_trip(p);
		check_triggers(p);
		check_variables(p);
		pipeline_free(p);
		return 0;
	}
	/* The contract: a failed parse leaves nothing behind and says where. */
	if (p != NULL || strncmp(err.msg, FILE_NAME ":", sizeof FILE_NAME) != 0)
		abort();
	if (size <= PIPELINE_FILE_MAX && !has_line_col(err.msg + sizeof FILE_NAME))
		abort();
	if (strchr(err.msg, '\n'))
		abort(); /* messages are one line */
	check_utf8(err.msg);
	return 0;
}
