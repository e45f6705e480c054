/*
 * secrets.c — resolving buildspec secret references against ferry's store
 * (see secrets.h for the forms accepted).
 *
 * A secret's plaintext passes through jansson when a json-key is asked for;
 * jansson frees its copies without wiping them. That is accepted: the process
 * holding the store already holds the key, and the value goes into the build's
 * environment next.
 */
#include "build/secrets.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define ARN_ID_FIELDS 7 /* arn:partition:service:region:account:resource-type:name */

struct sm_ref {
	char *id;
	char *json_key; /* NULL when omitted (or empty) */
	char *stage;
	char *version_id;
	struct strv candidates; /* names to look up, in order */
};

static void sm_ref_free(struct sm_ref *r)
{
	free(r->id);
	free(r->json_key);
	free(r->stage);
	free(r->version_id);
	strv_free(&r->candidates);
}

/* Secrets Manager appends "-" and six random characters to a secret's name in its ARN. */
static char *strip_arn_suffix(const char *name)
{
	size_t n = strlen(name);
	if (n <= 7 || name[n - 7] != '-')
		return NULL;
	for (size_t i = n - 6; i < n; i++)
		if (!isalnum((unsigned char)name[i]))
			return NULL;
	return xstrndup(name, n - 7);
}

/* Splits an ARN id into its fields; checks it names a Secrets Manager secret. */
static int arn_candidates(const char *kind, const char *ref, struct sm_ref *r, struct err *err)
{
	const char *f[ARN_ID_FIELDS];
	const char *p = r->id;
	for (int i = 0; i < ARN_ID_FIELDS; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (p)
			p++;
		else if (i < ARN_ID_FIELDS - 1)
			return err_set(err,
			               "%s: \"%s\": an ARN needs seven ':'-separated fields "
			               "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
			               kind, ref);
	}
	if (strncmp(f[2], "secretsmanager:", 15) || strncmp(f[5], "secret:", 7) || !*f[6])
		return err_set(err,
		               "%s: \"%s\": not the ARN of a Secrets Manager secret "
		               "(arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
		               kind, ref);
	strv_push(&r->candidates, r->id);
	strv_push(&r->candidates, f[6]);
	char *bare = strip_arn_suffix(f[6]);
	if (bare)
		strv_push_owned(&r->candidates, bare);
	return 0;
}

/* Takes the next field of `*p` up to ':' (or the end); NULL when empty. */
static char *next_field(const char **p)
{
	const char *s = *p;
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	*p = colon ? colon + 1 : s + n;
	return n ? xstrndup(s, n) : NULL;
}

static int sm_parse(const char *kind, const char *ref, struct sm_ref *r, struct err *err)
{
	const char *rest;
	if (!strncmp(ref, "arn:", 4)) {
		rest = ref;
		for (int i = 0; i < ARN_ID_FIELDS && rest; i++) {
			rest = strchr(rest, ':');
			if (rest)
				rest++;
		}
		/* `rest` is past the seventh field's colon, or NULL when the ARN ends the ref. */
		size_t id_len = rest ? (size_t)(rest - 1 - ref) : strlen(ref);
		r->id = xstrndup(ref, id_len);
		if (arn_candidates(kind, ref, r, err) < 0)
			return -1;
		if (!rest)
			return 0;
	} else {
		const char *colon = strchr(ref, ':');
		r->id = xstrndup(ref, colon ? (size_t)(colon - ref) : strlen(ref));
		if (!*r->id)
			return err_set(err, "%s: \"%s\": the secret id is empty", kind, ref);
		strv_push(&r->candidates, r->id);
		if (!colon)
			return 0;
		rest = colon + 1;
	}
	r->json_key = next_field(&rest);
	r->stage = next_field(&rest);
	r->version_id = next_field(&rest);
	if (*rest)
		return err_set(err,
		               "%s: \"%s\": too many ':'-separated fields (expected "
		               "<secret-id>[:<json-key>[:<version-stage>[:<version-id>]]])",
		               kind, ref);
	if (r->version_id)
		return err_set(err,
		               "%s: \"%s\": version id \"%s\" asked for, but ferry keeps only the "
		               "current version of a secret",
		               kind, ref, r->version_id);
	if (r->stage && strcmp(r->stage, "AWSCURRENT"))
		return err_set(
		        err,
		        "%s: \"%s\": version stage \"%s\" asked for, but ferry keeps only the "
		        "current version of a secret (AWSCURRENT)",
		        kind, ref, r->stage);
	return 0;
}

/* Replaces *value (a JSON object) with the value of `key` in it. */
static int pick_json_key(const char *kind, const char *ref, const char *name, const char *key,
                         char **value, size_t *len, struct err *err)
{
	json_error_t jerr; /* its text may quote the value: never shown */
	json_t *root = json_loadb(*value, *len, 0, &jerr);
	int rc = -1;
	if (!root || !json_is_object(root)) {
		err_set(err,
		        "%s: \"%s\": secret \"%s\" is not a JSON object, so it has no key \"%s\"",
		        kind, ref, name, key);
		goto out;
	}
	json_t *v = json_object_get(root, key);
	if (!v) {
		err_set(err, "%s: \"%s\": secret \"%s\" has no JSON key \"%s\"", kind, ref, name,
		        key);
		goto out;
	}
	char *picked;
	size_t picked_len;
	if (json_is_string(v)) {
		picked_len = json_string_length(v);
		picked = xstrndup(json_string_value(v), picked_len);
	} else {
		char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!text) {
			err_set(err, "%s: \"%s\": out of memory", kind, ref);
			goto out;
		}
		picked_len = strlen(text);
		picked = xstrndup(text, picked_len);
		sodium_memzero(text, picked_len);
		free(text);
	}
	store_secret_value_free(*value, *len);
	*value = picked;
	*len = picked_len;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Looks the candidates up in order; 0 with `*found` the name that matched. */
static int lookup(struct store *st, const char *kind, const struct strv *names, char **value,
                  size_t *len, const char **found, struct err *err)
{
	for (size_t i = 0; i < names->n; i++) {
		int rc = store_secret_get(st, names->v[i], value, len, err);
		if (rc == 0) {
			*found = names->v[i];
			return 0;
		}
		if (rc != STORE_NOT_FOUND)
			return err_prefix(err, "%s", kind);
	}
	return STORE_NOT_FOUND;
}

static int resolve_parameter(struct store *st, const char *ref, char **value, size_t *len,
                             struct err *err)
{
	int rc = store_secret_get(st, ref, value, len, err);
	if (rc == STORE_NOT_FOUND)
		return err_set(
		        err,
		        "parameter-store: parameter \"%s\" does not exist (set it with: ferry "
		        "secret set %s)",
		        ref, ref);
	if (rc < 0)
		return err_prefix(err, "parameter-store");
	return 0;
}

static int not_found(const struct sm_ref *r, struct err *err)
{
	const char *suggest = r->candidates.v[r->candidates.n - 1];
	if (r->candidates.n == 1)
		return err_set(err,
		               "secrets-manager: secret \"%s\" does not exist (set it with: ferry "
		               "secret set %s)",
		               r->id, suggest);
	struct buf tried;
	buf_init(&tried, ERR_MSG_MAX);
	for (size_t i = 1; i < r->candidates.n; i++)
		if (buf_printf(&tried, "%s\"%s\"", i > 1 ? ", " : "", r->candidates.v[i]) < 0)
			break;
	err_set(err,
	        "secrets-manager: secret \"%s\" does not exist, nor does %s (set it with: ferry "
	        "secret set %s)",
	        r->id, tried.data ? tried.data : "its name", suggest);
	buf_free(&tried);
	return -1;
}

static int resolve_secret(struct store *st, const char *ref, char **value, size_t *len,
                          struct err *err)
{
	const char *kind = "secrets-manager";
	struct sm_ref r = {.candidates = STRV_INIT};
	int rc = -1;
	if (sm_parse(kind, ref, &r, err) < 0)
		goto out;
	const char *found = NULL;
	rc = lookup(st, kind, &r.candidates, value, len, &found, err);
	if (rc == STORE_NOT_FOUND)
		rc = not_found(&r, err);
	if (rc < 0)
		goto out;
	if (r.json_key && pick_json_key(kind, ref, found, r.json_key, value, len, err) < 0) {
		store_secret_value_free(*value, *len);
		rc = -1;
	}
out:
	if (rc < 0) {
		*value = NULL;
		*len = 0;
	}
	sm_ref_free(&r);
	return rc;
}

int build_secret_resolve(struct store *st, const char *kind, const char *ref, char **value,
                         size_t *len, struct err *err)
{
	*value = NULL;
	*len = 0;
	if (!kind || !ref)
		return err_set(err, "secret reference: missing kind or reference");
	if (!*ref)
		return err_set(err, "%s: empty reference", kind);
	if (!strcmp(kind, "parameter-store"))
		return resolve_parameter(st, ref, value, len, err);
	if (!strcmp(kind, "secrets-manager"))
		return resolve_secret(st, ref, value, len, err);
	return err_set(err,
	               "secret reference: unknown kind \"%s\" (parameter-store, secrets-manager)",
	               kind);
}
