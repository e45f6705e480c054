/*
 * webhook.c — see webhook.h. Signature check with libsodium, payloads with jansson.
 *
 * Why it is built this way:
 *  - the HMAC is computed with the streaming API, which takes a key of any length
 *    (crypto_auth_hmacsha256() proper wants exactly 32 bytes; forges let users type
 *    any secret); the digest from the header is decoded with sodium_hex2bin() and
 *    compared with sodium_memcmp(), both constant-time for a given length, so the
 *    time taken says nothing about how many bytes of a forged digest were right;
 *  - GitHub, Gitea, Forgejo and Gogs share the push payload's field names (Gitea
 *    copied GitHub's), so one parser reads all of them; where they differ (Gitea has
 *    no created/deleted/forced, names the pusher `login`, and counts commits in
 *    `total_commits`) the fields are read from whichever is present;
 *  - error messages are made plain ASCII on one line before they leave: they quote
 *    payload text and jansson's messages quote input, and the API puts them into
 *    JSON answers and logs.
 */
#include "spec/webhook.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* GitHub's documented cap on commits[] in a webhook push (its Events API lists 20). */
#define GITHUB_WEBHOOK_COMMITS_MAX 2048

#define HMAC_BYTES crypto_auth_hmacsha256_BYTES

int webhook_verify_signature(const void *secret, size_t secret_len, const void *body,
                             size_t body_len, const char *header_value, struct err *err)
{
	static const char prefix[] = "sha256=";
	const size_t prefix_len = sizeof prefix - 1;

	if (sodium_init() < 0)
		return err_set(err, "webhook: libsodium failed to initialise");
	if (!secret || secret_len == 0)
		return err_set(err, "webhook: no secret is configured for this pipeline; unsigned "
		                    "deliveries are refused");
	if (!header_value)
		return err_set(err, "webhook: no " WEBHOOK_SIGNATURE_HEADER
		                    " header (set the pipeline's "
		                    "webhook secret on the forge's webhook)");
	if (body_len > WEBHOOK_BODY_MAX)
		return err_set(err, "webhook: the body is %zu bytes, more than the limit of %d",
		               body_len, WEBHOOK_BODY_MAX);
	if (strncmp(header_value, prefix, prefix_len) != 0)
		return err_set(err, "webhook: " WEBHOOK_SIGNATURE_HEADER
		                    " does not start with \"sha256=\"");
	const char *hex = header_value + prefix_len;
	size_t hex_len = strnlen(hex, 2 * HMAC_BYTES + 1);
	if (hex_len != 2 * HMAC_BYTES)
		return err_set(err,
		               "webhook: " WEBHOOK_SIGNATURE_HEADER " has %s%zu characters after "
		               "\"sha256=\", expected %d hex digits",
		               hex_len > 2 * HMAC_BYTES ? "more than " : "",
		               hex_len > 2 * HMAC_BYTES ? (size_t)2 * HMAC_BYTES : hex_len,
		               2 * HMAC_BYTES);

	unsigned char got[HMAC_BYTES];
	size_t got_len = 0;
	const char *end = NULL;
	if (sodium_hex2bin(got, sizeof got, hex, hex_len, NULL, &got_len, &end) != 0 ||
	    got_len != sizeof got || end != hex + hex_len)
		return err_set(err, "webhook: " WEBHOOK_SIGNATURE_HEADER
		                    " is not hexadecimal after \"sha256=\"");

	unsigned char want[HMAC_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, secret, secret_len);
	crypto_auth_hmacsha256_update(&st, body, body_len);
	crypto_auth_hmacsha256_final(&st, want);
	sodium_memzero(&st, sizeof st);
	int same = sodium_memcmp(got, want, sizeof want) == 0;
	sodium_memzero(want, sizeof want);
	if (!same)
		return err_set(
		        err, "webhook: " WEBHOOK_SIGNATURE_HEADER " does not match the body (the "
		             "forge's secret differs from the pipeline's, or the body was changed "
		             "on the way)");
	return 0;
}

const char *webhook_header_list_get(void *ctx, const char *name)
{
	const struct webhook_header *h = ctx;
	for (; h && h->name; h++)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

const char *webhook_forge_name(enum webhook_forge forge)
{
	switch (forge) {
	case WEBHOOK_FORGE_GITHUB:
		return "github";
	case WEBHOOK_FORGE_GITEA:
		return "gitea";
	case WEBHOOK_FORGE_FORGEJO:
		return "forgejo";
	case WEBHOOK_FORGE_GOGS:
		return "gogs";
	}
	return "unknown";
}

/* ---- the parser's context and small checks ---- */

struct pctx {
	char where[WEBHOOK_DELIVERY_MAX + 32]; /* "webhook delivery <id>" or "webhook" */
	struct err *err;
	int paths_full; /* WEBHOOK_PATHS_MAX distinct paths seen: keep no more */
};

FERRY_PRINTF(3, 4)
static int fail(struct pctx *c, const char *field, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (field)
		return err_set(c->err, "%s: %s: %s", c->where, field, what);
	return err_set(c->err, "%s: %s", c->where, what);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "true/false";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* Printable ASCII other than space: what a delivery id or event name may hold. */
static int is_token(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static int has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 1;
	return 0;
}

/* A missing key and null are the same to forges (Gitea sends null for absent). */
static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return v && !json_is_null(v) ? v : NULL;
}

/* Reads obj.key as a string of at most `max` bytes: 0 with *out (NULL when absent
 * and not required), or -1. */
static int get_str(struct pctx *c, json_t *obj, const char *key, const char *field, int required,
                   size_t max, char **out)
{
	*out = NULL;
	json_t *v = member(obj, key);
	if (!v)
		return required ? fail(c, field, "missing") : 0;
	if (!json_is_string(v))
		return fail(c, field, "expected a string, found %s", type_name(v));
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n > max)
		return fail(c, field, "is %zu bytes, more than the limit of %zu", n, max);
	if (memchr(s, '\0', n))
		return fail(c, field, "contains a NUL byte");
	*out = xstrndup(s, n);
	return 0;
}

/* Reads a commit id (40 or 64 hex digits, any case) into out, lowercased. */
static int get_oid(struct pctx *c, json_t *obj, const char *key, const char *field,
                   char out[WEBHOOK_OID_MAX + 1])
{
	json_t *v = member(obj, key);
	if (!v)
		return fail(c, field, "missing");
	if (!json_is_string(v))
		return fail(c, field, "expected a commit id, found %s", type_name(v));
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n != 40 && n != 64)
		return fail(c, field,
		            "expected a commit id of 40 or 64 hex digits, found %zu bytes", n);
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return fail(c, field, "expected a commit id of hex digits");
		out[i] = ch;
	}
	out[n] = '\0';
	return 0;
}

static int is_zero_oid(const char *oid)
{
	return oid[0] && oid[strspn(oid, "0")] == '\0';
}

/* Reads a non-negative integer count; *out stays -1 when absent. */
static int get_count(struct pctx *c, json_t *obj, const char *key, int64_t *out)
{
	json_t *v = member(obj, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(c, key, "expected a non-negative integer, found %s", type_name(v));
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* ---- changed paths ---- */

/* Sorts and drops duplicates in place. */
static void paths_compact(struct strv *sv)
{
	if (sv->n < 2)
		return;
	strv_sort(sv);
	size_t keep = 1;
	for (size_t i = 1; i < sv->n; i++) {
		if (strcmp(sv->v[i], sv->v[keep - 1]) == 0)
			free(sv->v[i]);
		else
			sv->v[keep++] = sv->v[i];
	}
	sv->n = keep;
	sv->v[keep] = NULL;
}

/* Keeps the first WEBHOOK_PATHS_MAX of a compacted list; 1 when some were dropped. */
static int paths_cap(struct webhook_push *p)
{
	if (p->paths.n <= WEBHOOK_PATHS_MAX)
		return 0;
	for (size_t i = WEBHOOK_PATHS_MAX; i < p->paths.n; i++)
		free(p->paths.v[i]);
	p->paths.n = WEBHOOK_PATHS_MAX;
	p->paths.v[p->paths.n] = NULL;
	p->paths_truncated = true;
	return 1;
}

static int collect_paths(struct pctx *c, json_t *commit, size_t ci, struct webhook_push *p)
{
	static const char *const lists[] = {"added", "modified", "removed"};
	char field[96];
	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
		json_t *arr = member(commit, lists[l]);
		if (!arr)
			continue;
		if (!json_is_array(arr)) {
			snprintf(field, sizeof field, "commits[%zu].%s", ci, lists[l]);
			return fail(c, field, "expected a list of paths, found %s", type_name(arr));
		}
		for (size_t i = 0; i < json_array_size(arr); i++) {
			json_t *v = json_array_get(arr, i);
			if (!json_is_string(v)) {
				snprintf(field, sizeof field, "commits[%zu].%s[%zu]", ci, lists[l],
				         i);
				return fail(c, field, "expected a path, found %s", type_name(v));
			}
			size_t n = json_string_length(v);
			const char *s = json_string_value(v);
			/* Not kept, but not fatal: git knows the paths, the payload only hints. */
			if (n == 0 || n > WEBHOOK_PATH_MAX || memchr(s, '\0', n)) {
				p->paths_truncated = true;
				continue;
			}
			if (c->paths_full)
				continue;
			strv_push_owned(&p->paths, xstrndup(s, n));
			/* Bound the memory a body of many repeated paths could take. */
			if (p->paths.n >= 2 * WEBHOOK_PATHS_MAX) {
				paths_compact(&p->paths);
				c->paths_full = paths_cap(p);
			}
		}
	}
	return 0;
}

/* ---- commits ---- */

static void commit_clear(struct webhook_commit *cm)
{
	free(cm->message);
	free(cm->timestamp);
	free(cm->author_name);
	free(cm->author_email);
	memset(cm, 0, sizeof *cm);
}

static int parse_commit(struct pctx *c, json_t *obj, const char *at, struct webhook_commit *out)
{
	char field[96];
	if (!json_is_object(obj))
		return fail(c, at, "expected an object, found %s", type_name(obj));
	snprintf(field, sizeof field, "%s.id", at);
	if (get_oid(c, obj, "id", field, out->id) < 0)
		return -1;
	snprintf(field, sizeof field, "%s.message", at);
	if (get_str(c, obj, "message", field, 0, WEBHOOK_BODY_MAX, &out->message) < 0)
		return -1;
	if (!out->message)
		out->message = xstrdup("");
	snprintf(field, sizeof field, "%s.timestamp", at);
	if (get_str(c, obj, "timestamp", field, 0, 64, &out->timestamp) < 0)
		return -1;
	json_t *author = member(obj, "author");
	if (!author)
		return 0;
	snprintf(field, sizeof field, "%s.author", at);
	if (!json_is_object(author))
		return fail(c, field, "expected an object, found %s", type_name(author));
	snprintf(field, sizeof field, "%s.author.name", at);
	if (get_str(c, author, "name", field, 0, 1024, &out->author_name) < 0)
		return -1;
	snprintf(field, sizeof field, "%s.author.email", at);
	return get_str(c, author, "email", field, 0, 1024, &out->author_email);
}

/* Walks commits[]: collects paths, and the commit equal to `after` when no head_commit. */
static int parse_commits(struct pctx *c, json_t *root, struct webhook_push *p, int want_head)
{
	json_t *commits = member(root, "commits");
	if (!commits)
		return 0;
	if (!json_is_array(commits))
		return fail(c, "commits", "expected a list, found %s", type_name(commits));
	for (size_t i = 0; i < json_array_size(commits); i++) {
		json_t *cm = json_array_get(commits, i);
		char at[48];
		snprintf(at, sizeof at, "commits[%zu]", i);
		if (!json_is_object(cm))
			return fail(c, at, "expected an object, found %s", type_name(cm));
		if (collect_paths(c, cm, i, p) < 0)
			return -1;
		json_t *id = json_object_get(cm, "id");
		if (want_head && !p->has_head && json_is_string(id) &&
		    strcasecmp(json_string_value(id), p->after) == 0) {
			if (parse_commit(c, cm, at, &p->head) < 0)
				return -1;
			p->has_head = true;
		}
	}
	p->commits_listed = json_array_size(commits);
	paths_compact(&p->paths);
	(void)paths_cap(p);
	return 0;
}

/* ---- the parts of a push ---- */

static int parse_ref(struct pctx *c, json_t *root, struct webhook_push *p)
{
	if (get_str(c, root, "ref", "ref", 1, WEBHOOK_REF_MAX, &p->ref) < 0)
		return -1;
	size_t n = strlen(p->ref);
	if (has_control(p->ref, n))
		return fail(c, "ref", "contains a control character");
	static const struct {
		const char *prefix;
		enum webhook_ref_type type;
	} kinds[] = {{"refs/heads/", WEBHOOK_REF_BRANCH}, {"refs/tags/", WEBHOOK_REF_TAG}};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t pl = strlen(kinds[i].prefix);
		if (strncmp(p->ref, kinds[i].prefix, pl) != 0)
			continue;
		if (n == pl)
			return fail(c, "ref", "\"%s\" names no branch or tag", p->ref);
		p->ref_type = kinds[i].type;
		p->ref_name = xstrdup(p->ref + pl);
		return 0;
	}
	if (strncmp(p->ref, "refs/", 5) != 0)
		return fail(c, "ref",
		            "expected a full ref name (refs/heads/..., refs/tags/...), "
		            "found \"%.80s\"",
		            p->ref);
	p->ref_type = WEBHOOK_REF_OTHER;
	p->ref_name = xstrdup(p->ref);
	return 0;
}

static int parse_repository(struct pctx *c, json_t *root, struct webhook_push *p, int required)
{
	json_t *repo = member(root, "repository");
	if (!repo)
		return required ? fail(c, "repository", "missing") : 0;
	if (!json_is_object(repo))
		return fail(c, "repository", "expected an object, found %s", type_name(repo));
	if (get_str(c, repo, "full_name", "repository.full_name", required, 1024,
	            &p->repo_full_name) < 0)
		return -1;
	if (p->repo_full_name && has_control(p->repo_full_name, strlen(p->repo_full_name)))
		return fail(c, "repository.full_name", "contains a control character");
	if (!required)
		return 0;
	if (get_str(c, repo, "clone_url", "repository.clone_url", 0, 4096, &p->clone_url) < 0 ||
	    get_str(c, repo, "ssh_url", "repository.ssh_url", 0, 4096, &p->ssh_url) < 0 ||
	    get_str(c, repo, "html_url", "repository.html_url", 0, 4096, &p->html_url) < 0)
		return -1;
	return 0;
}

/* GitHub: pusher.name; Gitea: pusher.login/username; both: sender.login. */
static int parse_pusher(struct pctx *c, json_t *root, struct webhook_push *p)
{
	static const struct {
		const char *obj, *key, *field;
	} tries[] = {
	        {"pusher", "name", "pusher.name"},         {"pusher", "login", "pusher.login"},
	        {"pusher", "username", "pusher.username"}, {"sender", "login", "sender.login"},
	        {"sender", "username", "sender.username"},
	};
	for (size_t i = 0; i < sizeof tries / sizeof tries[0] && !p->pusher; i++) {
		json_t *o = member(root, tries[i].obj);
		if (!o)
			continue;
		if (!json_is_object(o))
			return fail(c, tries[i].obj, "expected an object, found %s", type_name(o));
		if (get_str(c, o, tries[i].key, tries[i].field, 0, 1024, &p->pusher) < 0)
			return -1;
		if (p->pusher && !*p->pusher) {
			free(p->pusher);
			p->pusher = NULL;
		}
	}
	return 0;
}

static int parse_push_body(struct pctx *c, json_t *root, struct webhook_push *p)
{
	if (parse_ref(c, root, p) < 0 || get_oid(c, root, "before", "before", p->before) < 0 ||
	    get_oid(c, root, "after", "after", p->after) < 0)
		return -1;
	p->created = json_is_true(json_object_get(root, "created")) || is_zero_oid(p->before);
	p->deleted = json_is_true(json_object_get(root, "deleted")) || is_zero_oid(p->after);
	p->forced = json_is_true(json_object_get(root, "forced"));
	if (parse_repository(c, root, p, 1) < 0 || parse_pusher(c, root, p) < 0)
		return -1;

	json_t *head = member(root, "head_commit");
	if (head && !p->deleted) {
		if (parse_commit(c, head, "head_commit", &p->head) < 0)
			return -1;
		p->has_head = true;
	}
	if (parse_commits(c, root, p, !p->deleted) < 0)
		return -1;
	p->commits_total = -1;
	if (get_count(c, root, "total_commits", &p->commits_total) < 0)
		return -1;
	if (p->commits_total < 0 && get_count(c, root, "size", &p->commits_total) < 0)
		return -1;

	if (!p->deleted) {
		if (p->commits_total >= 0)
			p->commits_truncated = (uint64_t)p->commits_total > p->commits_listed;
		else
			p->commits_truncated = p->commits_listed >= GITHUB_WEBHOOK_COMMITS_MAX;
		/* The ref moved yet no commit is listed: a ref created on a commit the
		 * repository already had, or a forge that sends no list. */
		if (p->commits_listed == 0 && strcmp(p->before, p->after) != 0)
			p->commits_truncated = true;
	}
	return 0;
}

static int parse_ping_body(struct pctx *c, json_t *root, struct webhook_push *p)
{
	p->hook_id = -1;
	if (get_str(c, root, "zen", "zen", 0, 1024, &p->zen) < 0 ||
	    get_count(c, root, "hook_id", &p->hook_id) < 0)
		return -1;
	return parse_repository(c, root, p, 0);
}

/* ---- headers ---- */

static const struct {
	const char *event, *delivery;
	enum webhook_forge forge;
} families[] = {
        {"X-Forgejo-Event", "X-Forgejo-Delivery", WEBHOOK_FORGE_FORGEJO},
        {"X-Gitea-Event", "X-Gitea-Delivery", WEBHOOK_FORGE_GITEA},
        {"X-Gogs-Event", "X-Gogs-Delivery", WEBHOOK_FORGE_GOGS},
        {"X-GitHub-Event", "X-GitHub-Delivery", WEBHOOK_FORGE_GITHUB},
};

static int read_headers(struct pctx *c, webhook_header_fn get, void *ctx, struct webhook_push *p)
{
	const char *event = NULL, *delivery = NULL, *event_header = NULL, *delivery_header = NULL;
	for (size_t i = 0; i < sizeof families / sizeof families[0] && !event; i++) {
		event = get(ctx, families[i].event);
		if (!event)
			continue;
		event_header = families[i].event;
		delivery_header = families[i].delivery;
		delivery = get(ctx, delivery_header);
		p->forge = families[i].forge;
	}
	/* The event's own family names the delivery; another family's copy will do. */
	for (size_t i = 0; i < sizeof families / sizeof families[0] && event && !delivery; i++) {
		delivery = get(ctx, families[i].delivery);
		delivery_header = families[i].delivery;
	}
	if (delivery) {
		if (!is_token(delivery, WEBHOOK_DELIVERY_MAX))
			return err_set(
			        c->err,
			        "webhook: %s is not a delivery id (1 to %d printable characters "
			        "without spaces)",
			        delivery_header, WEBHOOK_DELIVERY_MAX);
		p->delivery = xstrdup(delivery);
		snprintf(c->where, sizeof c->where, "webhook delivery %s", delivery);
	}
	if (!event)
		return fail(c, NULL,
		            "no X-GitHub-Event, X-Gitea-Event or X-Forgejo-Event header; is this a "
		            "webhook delivery from a forge?");
	if (!is_token(event, WEBHOOK_EVENT_MAX))
		return fail(c, NULL, "%s is not an event name (1 to %d printable characters)",
		            event_header, WEBHOOK_EVENT_MAX);
	p->event = xstrdup(event);
	if (strcmp(event, "push") == 0)
		p->kind = WEBHOOK_PUSH;
	else if (strcmp(event, "ping") == 0)
		p->kind = WEBHOOK_PING;
	else
		p->kind = WEBHOOK_OTHER_EVENT;
	return 0;
}

/* Messages quote payload text and jansson quotes input: keep them printable ASCII. */
static void err_make_plain(struct err *err)
{
	if (!err)
		return;
	for (char *s = err->msg; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

int webhook_parse_push(webhook_header_fn get_header, void *ctx, const char *body, size_t len,
                       struct webhook_push **out, struct err *err)
{
	*out = NULL;
	struct pctx c = {.err = err};
	snprintf(c.where, sizeof c.where, "webhook");
	struct webhook_push *p = xcalloc(1, sizeof *p);
	p->commits_total = -1;
	p->hook_id = -1;
	json_t *root = NULL;
	int rc = -1;

	if (read_headers(&c, get_header, ctx, p) < 0)
		goto out;
	if (len > WEBHOOK_BODY_MAX) {
		fail(&c, NULL, "the body is %zu bytes, more than the limit of %d", len,
		     WEBHOOK_BODY_MAX);
		goto out;
	}
	if (p->kind == WEBHOOK_OTHER_EVENT) {
		rc = 0;
		goto out;
	}
	json_error_t jerr;
	root = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		fail(&c, NULL, "the body is not JSON: line %d, column %d: %s", jerr.line,
		     jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		fail(&c, NULL, "the body is %s, expected a JSON object", type_name(root));
		goto out;
	}
	rc = p->kind == WEBHOOK_PUSH ? parse_push_body(&c, root, p) : parse_ping_body(&c, root, p);
out:
	json_decref(root);
	if (rc < 0) {
		err_make_plain(err);
		webhook_push_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void webhook_push_free(struct webhook_push *p)
{
	if (!p)
		return;
	free(p->event);
	free(p->delivery);
	free(p->ref);
	free(p->ref_name);
	free(p->repo_full_name);
	free(p->clone_url);
	free(p->ssh_url);
	free(p->html_url);
	free(p->pusher);
	commit_clear(&p->head);
	strv_free(&p->paths);
	free(p->zen);
	free(p);
}
