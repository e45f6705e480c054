/* Unit tests for spec/webhook: X-Hub-Signature-256 and push payloads from GitHub and
 * Gitea/Forgejo (fixtures in tests/unit/data/webhook-*.json). */
#include "testutil.h"

#include <limits.h>
#include <sodium.h>

#include "spec/webhook.h"

/* ---- helpers ---- */

static char *data_dir(void)
{
	return tu_data_dir("webhook-github-push.json");
}

static char *fixture(const char *name, size_t *len)
{
	char *dir = data_dir();
	char *path = fs_join(dir, name);
	char *data = NULL;
	struct err err;
	if (fs_read_file(path, WEBHOOK_BODY_MAX, &data, len, &err) != 0)
		fail_msg("%s", err.msg);
	free(path);
	free(dir);
	return data;
}

static const struct webhook_header github_push_headers[] = {
        {"X-GitHub-Event", "push"},
        {"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
        {"X-GitHub-Hook-ID", "481277390"},
        {NULL, NULL},
};

/* Gitea sends its own headers and GitHub's and Gogs' copies (lower-cased here, as a
 * proxy may pass them: lookups ignore case). */
static const struct webhook_header gitea_push_headers[] = {
        {"x-github-delivery", "github-copy-of-the-id"},
        {"x-github-event", "push"},
        {"x-gogs-delivery", "gogs-copy-of-the-id"},
        {"x-gogs-event", "push"},
        {"x-gitea-delivery", "3b0f2c7e-6a58-4d8e-9d7a-5c1d26f1b0aa"},
        {"x-gitea-event", "push"},
        {NULL, NULL},
};

/* Parses a fixture with the given headers; fails the test on an error. */
static struct webhook_push *parse_ok(const struct webhook_header *h, const char *name)
{
	size_t len = 0;
	char *body = fixture(name, &len);
	struct webhook_push *p = NULL;
	struct err err;
	if (webhook_parse_push(webhook_header_list_get, (void *)h, body, len, &p, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	free(body);
	assert_non_null(p);
	return p;
}

/* Parses `body` as a GitHub push expected to fail; returns the message. */
static const char *parse_fails(const char *event, const char *body, size_t len)
{
	static struct err err;
	const struct webhook_header h[] = {
	        {"X-GitHub-Event", event}, {"X-GitHub-Delivery", "d-1"}, {NULL, NULL}};
	struct webhook_push *p = (struct webhook_push *)1;
	memset(&err, 0, sizeof err);
	assert_int_equal(
	        webhook_parse_push(webhook_header_list_get, (void *)h, body, len, &p, &err), -1);
	assert_null(p);
	assert_null(strchr(err.msg, '\n'));
	return err.msg;
}

static char *joined(const struct strv *sv)
{
	struct buf b;
	buf_init(&b, 1 << 24);
	for (size_t i = 0; i < sv->n; i++)
		assert_int_equal(buf_printf(&b, "%s%s", i ? " " : "", sv->v[i]), 0);
	return buf_detach(&b);
}

static void assert_paths(const struct webhook_push *p, const char *want)
{
	char *got = joined(&p->paths);
	assert_string_equal(got, want);
	free(got);
}

/* ---- X-Hub-Signature-256 ---- */

/* GitHub's documented example: secret "It's a Secret to Everybody", body
 * "Hello, World!" (docs: "Validating webhook deliveries"). */
static const char doc_secret[] = "It's a Secret to Everybody";
static const char doc_body[] = "Hello, World!";
static const char doc_sig[] =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

static int verify(const char *header, struct err *err)
{
	return webhook_verify_signature(doc_secret, strlen(doc_secret), doc_body, strlen(doc_body),
	                                header, err);
}

/* The failure's message, checked never to reveal the secret. */
static const char *verify_fails(const char *header)
{
	static struct err err;
	assert_int_equal(verify(header, &err), -1);
	assert_null(strstr(err.msg, doc_secret));
	assert_null(strstr(err.msg, doc_sig + 7)); /* nor the expected digest */
	return err.msg;
}

static void test_signature_matches_githubs_documented_example(void **state)
{
	struct err err;
	if (verify(doc_sig, &err) != 0)
		fail_msg("%s", err.msg);
}

/* HMAC keys of any length work (the one-shot libsodium call wants exactly 32 bytes). */
static void test_signature_with_long_and_binary_secrets(void **state)
{
	unsigned char secret[200];
	for (size_t i = 0; i < sizeof secret; i++)
		secret[i] = (unsigned char)(i * 7);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, secret, sizeof secret);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)doc_body, strlen(doc_body));
	crypto_auth_hmacsha256_final(&st, mac);
	char header[7 + 2 * sizeof mac + 1] = "sha256=";
	sodium_bin2hex(header + 7, sizeof header - 7, mac, sizeof mac);
	struct err err;
	assert_int_equal(webhook_verify_signature(secret, sizeof secret, doc_body, strlen(doc_body),
	                                          header, &err),
	                 0);
	secret[199] ^= 1;
	assert_int_equal(webhook_verify_signature(secret, sizeof secret, doc_body, strlen(doc_body),
	                                          header, &err),
	                 -1);
}

static void test_signature_of_another_body_is_refused(void **state)
{
	struct err err;
	assert_int_equal(webhook_verify_signature(doc_secret, strlen(doc_secret), "Hello, World?",
	                                          13, doc_sig, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "X-Hub-Signature-256 does not match the body"));
}

static void test_signature_with_one_wrong_digit_is_refused(void **state)
{
	char bad[sizeof doc_sig];
	memcpy(bad, doc_sig, sizeof doc_sig);
	bad[sizeof bad - 2] = bad[sizeof bad - 2] == '7' ? '8' : '7';
	assert_non_null(strstr(verify_fails(bad), "does not match the body"));
}

static void test_signature_missing_is_refused(void **state)
{
	assert_non_null(strstr(verify_fails(NULL), "no X-Hub-Signature-256 header"));
}

/* The SHA-1 header's format under the SHA-256 header's name is not accepted. */
static void test_signature_with_wrong_prefix_is_refused(void **state)
{
	const char *msg =
	        verify_fails("sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c"
	                     "8b043e17");
	assert_non_null(strstr(msg, "does not start with \"sha256=\""));
	assert_non_null(strstr(verify_fails("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4"
	                                    "379c8b043e17"),
	                       "does not start with"));
}

/* Hex digits are accepted in either case (GitHub and Gitea send lowercase). */
static void test_signature_in_uppercase_hex_is_accepted(void **state)
{
	char upper[sizeof doc_sig];
	memcpy(upper, doc_sig, sizeof doc_sig);
	for (char *s = upper + 7; *s; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
	struct err err;
	if (verify(upper, &err) != 0)
		fail_msg("%s", err.msg);
}

static void test_signature_truncated_or_too_long_is_refused(void **state)
{
	char cut[sizeof doc_sig];
	memcpy(cut, doc_sig, sizeof doc_sig);
	cut[sizeof cut - 2] = '\0';
	assert_non_null(
	        strstr(verify_fails(cut), "has 63 characters after \"sha256=\", expected 64"));
	assert_non_null(strstr(verify_fails("sha256="), "has 0 characters"));
	char *longer = xasprintf("%s00", doc_sig);
	assert_non_null(strstr(verify_fails(longer), "has more than 64 characters"));
	free(longer);
}

static void test_signature_not_hex_is_refused(void **state)
{
	char bad[sizeof doc_sig];
	memcpy(bad, doc_sig, sizeof doc_sig);
	bad[20] = 'g';
	assert_non_null(strstr(verify_fails(bad), "is not hexadecimal"));
	bad[20] = ' ';
	assert_non_null(strstr(verify_fails(bad), "is not hexadecimal"));
}

/* With no secret, any signature would be "right" for an empty key: refuse. */
static void test_signature_without_secret_is_refused(void **state)
{
	struct err err;
	assert_int_equal(webhook_verify_signature("", 0, doc_body, strlen(doc_body), doc_sig, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "no secret is configured"));
}

/* ---- push payloads ---- */

static void test_github_push_to_main(void **state)
{
	struct webhook_push *p = parse_ok(github_push_headers, "webhook-github-push.json");
	assert_int_equal(p->kind, WEBHOOK_PUSH);
	assert_int_equal(p->forge, WEBHOOK_FORGE_GITHUB);
	assert_string_equal(p->event, "push");
	assert_string_equal(p->delivery, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
	assert_string_equal(p->ref, "refs/heads/main");
	assert_int_equal(p->ref_type, WEBHOOK_REF_BRANCH);
	assert_string_equal(p->ref_name, "main");
	assert_int_equal(strlen(p->before), 40);
	assert_string_equal(p->after, p->head.id);
	assert_false(p->created);
	assert_false(p->deleted);
	assert_false(p->forced);
	assert_string_equal(p->repo_full_name, "acme-shop/storefront");
	assert_string_equal(p->clone_url, "https://github.com/acme-shop/storefront.git");
	assert_string_equal(p->ssh_url, "git@github.com:acme-shop/storefront.git");
	assert_string_equal(p->html_url, "https://github.com/acme-shop/storefront");
	assert_string_equal(p->pusher, "mokafor");
	assert_true(p->has_head);
	assert_string_equal(p->head.message, "Drop the old cart banner\n\nNobody clicked it.");
	assert_string_equal(p->head.timestamp, "2024-05-23T11:02:03+02:00");
	assert_string_equal(p->head.author_name, "Mira Okafor");
	assert_string_equal(p->head.author_email, "mira@acme-shop.example");
	assert_int_equal(p->commits_listed, 3);
	assert_int_equal(p->commits_total, -1);
	assert_false(p->commits_truncated);
	assert_false(p->paths_truncated);
	/* added + modified + removed of all three commits, each path once, sorted */
	assert_paths(p, "README.md web/src/cart/Banner.tsx web/src/checkout/Checkout.tsx "
	                "web/src/checkout/index.ts web/src/checkout/postcode.ts web/src/routes.ts");
	webhook_push_free(p);
}

/* Gitea's own headers win over its X-GitHub-* copies; its pusher is a `login`. */
static void test_gitea_push(void **state)
{
	struct webhook_push *p = parse_ok(gitea_push_headers, "webhook-gitea-push.json");
	assert_int_equal(p->kind, WEBHOOK_PUSH);
	assert_int_equal(p->forge, WEBHOOK_FORGE_GITEA);
	assert_string_equal(p->delivery, "3b0f2c7e-6a58-4d8e-9d7a-5c1d26f1b0aa");
	assert_string_equal(p->ref_name, "main");
	assert_string_equal(p->repo_full_name, "platform/docs-site");
	assert_string_equal(p->clone_url, "https://git.example.org/platform/docs-site.git");
	assert_string_equal(p->ssh_url, "ssh://git@git.example.org:2222/platform/docs-site.git");
	assert_string_equal(p->pusher, "jberg");
	assert_false(p->created);
	assert_false(p->deleted);
	assert_true(p->has_head);
	assert_string_equal(p->head.message, "Fix broken link to the VPN guide\n");
	assert_string_equal(p->head.author_name, "Jonas Berg");
	assert_int_equal(p->commits_listed, 2);
	assert_int_equal(p->commits_total, 2);
	assert_false(p->commits_truncated);
	assert_paths(p, "content/_index.md content/it/vpn.md content/onboarding/laptop.md");
	webhook_push_free(p);
}

/* Forgejo sends X-Forgejo-* beside Gitea's and GitHub's names. */
static void test_forgejo_headers_name_the_forge(void **state)
{
	const struct webhook_header h[] = {
	        {"X-GitHub-Event", "push"},
	        {"X-GitHub-Delivery", "copy"},
	        {"X-Gitea-Event", "push"},
	        {"X-Gitea-Delivery", "copy"},
	        {"X-Forgejo-Event", "push"},
	        {"X-Forgejo-Delivery", "f0e1d2c3-forgejo"},
	        {NULL, NULL},
	};
	struct webhook_push *p = parse_ok(h, "webhook-gitea-push.json");
	assert_int_equal(p->forge, WEBHOOK_FORGE_FORGEJO);
	assert_string_equal(webhook_forge_name(p->forge), "forgejo");
	assert_string_equal(p->delivery, "f0e1d2c3-forgejo");
	webhook_push_free(p);
}

/* Gitea lists at most FEED_MAX_COMMIT_NUM commits (5) and counts all in total_commits. */
static void test_gitea_push_with_more_commits_than_listed_is_truncated(void **state)
{
	struct webhook_push *p = parse_ok(gitea_push_headers, "webhook-gitea-truncated.json");
	assert_int_equal(p->commits_listed, 5);
	assert_int_equal(p->commits_total, 7);
	assert_true(p->commits_truncated);
	assert_false(p->paths_truncated);
	assert_int_equal(p->paths.n, 5);
	webhook_push_free(p);
}

/* A payload listing 20 commits of 25 (`size`) says so: the caller diffs with git. */
static void test_github_push_listing_20_of_25_commits_is_truncated(void **state)
{
	struct webhook_push *p = parse_ok(github_push_headers, "webhook-github-truncated.json");
	assert_int_equal(p->commits_listed, 20);
	assert_int_equal(p->commits_total, 25);
	assert_true(p->commits_truncated);
	assert_paths(p, "web/i18n/de.json web/i18n/extra/0.json web/i18n/extra/14.json "
	                "web/i18n/extra/7.json web/i18n/fr.json web/i18n/nl.json");
	webhook_push_free(p);
}

static void test_tag_push(void **state)
{
	struct webhook_push *p = parse_ok(github_push_headers, "webhook-github-tag.json");
	assert_int_equal(p->kind, WEBHOOK_PUSH);
	assert_int_equal(p->ref_type, WEBHOOK_REF_TAG);
	assert_string_equal(p->ref_name, "v1.4.0");
	assert_true(p->created);
	assert_false(p->deleted);
	assert_string_equal(p->before, "0000000000000000000000000000000000000000");
	assert_true(p->has_head);
	/* a new ref on an existing commit lists none: paths must come from git */
	assert_int_equal(p->commits_listed, 0);
	assert_true(p->commits_truncated);
	assert_int_equal(p->paths.n, 0);
	webhook_push_free(p);
}

static void test_branch_deletion(void **state)
{
	struct webhook_push *p = parse_ok(github_push_headers, "webhook-github-delete.json");
	assert_int_equal(p->kind, WEBHOOK_PUSH);
	assert_true(p->deleted);
	assert_false(p->created);
	assert_int_equal(p->ref_type, WEBHOOK_REF_BRANCH);
	assert_string_equal(p->ref_name, "feature/gift-cards");
	assert_string_equal(p->after, "0000000000000000000000000000000000000000");
	assert_false(p->has_head);
	assert_false(p->commits_truncated);
	assert_int_equal(p->paths.n, 0);
	webhook_push_free(p);
}

/* Gitea sends no `deleted`: an all-zero `after` is what says so. */
static void test_deletion_is_seen_from_zero_after_alone(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/old\",\"before\":"
	                   "\"1111111111111111111111111111111111111111\",\"after\":"
	                   "\"0000000000000000000000000000000000000000\",\"commits\":[],"
	                   "\"head_commit\":null,\"repository\":{\"full_name\":\"o/r\"}}";
	struct webhook_push *p = NULL;
	struct err err;
	assert_int_equal(webhook_parse_push(webhook_header_list_get, (void *)gitea_push_headers,
	                                    body, strlen(body), &p, &err),
	                 0);
	assert_true(p->deleted);
	assert_false(p->has_head);
	webhook_push_free(p);
}

static void test_ping(void **state)
{
	const struct webhook_header h[] = {
	        {"X-GitHub-Event", "ping"}, {"X-GitHub-Delivery", "ping-1"}, {NULL, NULL}};
	struct webhook_push *p = parse_ok(h, "webhook-github-ping.json");
	assert_int_equal(p->kind, WEBHOOK_PING);
	assert_string_equal(p->event, "ping");
	assert_string_equal(p->zen, "Keep it logically awesome.");
	assert_int_equal(p->hook_id, 481277390);
	assert_string_equal(p->repo_full_name, "acme-shop/storefront");
	assert_null(p->ref);
	webhook_push_free(p);
}

/* Any other event is a result, not a failure: the API answers "ignored". */
static void test_other_event_is_not_a_push(void **state)
{
	const struct webhook_header h[] = {
	        {"X-GitHub-Event", "issues"}, {"X-GitHub-Delivery", "i-1"}, {NULL, NULL}};
	const char body[] = "{\"action\":\"opened\",\"issue\":{\"number\":7}} trailing garbage";
	struct webhook_push *p = NULL;
	struct err err;
	assert_int_equal(webhook_parse_push(webhook_header_list_get, (void *)h, body,
	                                    sizeof body - 1, &p, &err),
	                 0);
	assert_int_equal(p->kind, WEBHOOK_OTHER_EVENT);
	assert_string_equal(p->event, "issues");
	assert_string_equal(p->delivery, "i-1");
	assert_null(p->ref);
	webhook_push_free(p);
}

static void test_missing_event_header_is_an_error(void **state)
{
	const struct webhook_header h[] = {{"Content-Type", "application/json"}, {NULL, NULL}};
	struct webhook_push *p = NULL;
	struct err err;
	assert_int_equal(webhook_parse_push(webhook_header_list_get, (void *)h, "{}", 2, &p, &err),
	                 -1);
	assert_null(p);
	assert_non_null(strstr(err.msg, "no X-GitHub-Event"));
}

static void test_malformed_json_is_an_error_on_one_line(void **state)
{
	const char body[] = "{\"ref\": \"refs/heads/main\",\n \"before\": \n\x01}";
	const char *msg = parse_fails("push", body, sizeof body - 1);
	assert_non_null(strstr(msg, "webhook delivery d-1: the body is not JSON: line 3"));
	for (const char *s = msg; *s; s++)
		assert_true(*s >= 0x20 && *s < 0x7f);
	assert_non_null(strstr(parse_fails("push", "[1,2]", 5), "expected a JSON object"));
	assert_non_null(strstr(parse_fails("ping", "", 0), "not JSON"));
}

static void test_oversized_body_is_refused_before_parsing(void **state)
{
	size_t len = WEBHOOK_BODY_MAX + 1;
	char *body = xmalloc(len);
	memset(body, ' ', len); /* valid JSON would need no more than a closing brace */
	body[0] = '{';
	body[len - 1] = '}';
	assert_non_null(strstr(parse_fails("push", body, len), "more than the limit of 1048576"));
	free(body);
}

static void test_push_without_its_fields_names_the_field(void **state)
{
	assert_non_null(strstr(parse_fails("push", "{}", 2), "ref: missing"));
	const char no_repo[] = "{\"ref\":\"refs/heads/x\",\"before\":"
	                       "\"1111111111111111111111111111111111111111\",\"after\":"
	                       "\"2222222222222222222222222222222222222222\"}";
	assert_non_null(
	        strstr(parse_fails("push", no_repo, sizeof no_repo - 1), "repository: missing"));
	const char short_id[] = "{\"ref\":\"refs/heads/x\",\"before\":\"abc\"}";
	assert_non_null(strstr(parse_fails("push", short_id, sizeof short_id - 1),
	                       "before: expected a commit id of 40 or 64 hex digits"));
	const char bad_commits[] = "{\"ref\":\"refs/heads/x\",\"before\":"
	                           "\"1111111111111111111111111111111111111111\",\"after\":"
	                           "\"2222222222222222222222222222222222222222\","
	                           "\"repository\":{\"full_name\":\"o/r\"},"
	                           "\"commits\":[{\"id\":\"x\",\"added\":[\"a\", 5]}]}";
	assert_non_null(strstr(parse_fails("push", bad_commits, sizeof bad_commits - 1),
	                       "commits[0].added[1]: expected a path, found a number"));
}

static void test_hostile_refs_and_delivery_ids_are_refused(void **state)
{
	const char ctl[] = "{\"ref\":\"refs/heads/a\\u001b[31m\"}";
	assert_non_null(strstr(parse_fails("push", ctl, sizeof ctl - 1), "control character"));
	const char rel[] = "{\"ref\":\"main\"}";
	assert_non_null(strstr(parse_fails("push", rel, sizeof rel - 1), "expected a full ref"));
	const struct webhook_header h[] = {
	        {"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "a b"}, {NULL, NULL}};
	struct webhook_push *p = NULL;
	struct err err;
	assert_int_equal(webhook_parse_push(webhook_header_list_get, (void *)h, "{}", 2, &p, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "X-GitHub-Delivery is not a delivery id"));
}

/* Builds a push body whose one commit lists `n` paths made by fmt(i). */
static char *push_with_paths(size_t n, size_t path_len)
{
	struct buf b;
	buf_init(&b, 64 << 20);
	assert_int_equal(
	        buf_puts(&b, "{\"ref\":\"refs/heads/main\",\"before\":"
	                     "\"1111111111111111111111111111111111111111\",\"after\":"
	                     "\"2222222222222222222222222222222222222222\","
	                     "\"repository\":{\"full_name\":\"o/r\"},"
	                     "\"commits\":[{\"id\":\"2222222222222222222222222222222222222222\","
	                     "\"added\":["),
	        0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(buf_printf(&b, "%s\"%0*zu\"", i ? "," : "", (int)path_len, i), 0);
	}
	assert_int_equal(buf_puts(&b, "]}]}"), 0);
	return buf_detach(&b);
}

/* Over WEBHOOK_PATHS_MAX distinct paths: the first ones are kept and the flag is set. */
static void test_too_many_paths_are_capped_and_flagged(void **state)
{
	char *body = push_with_paths(WEBHOOK_PATHS_MAX * 2 + 5, 6);
	struct webhook_push *p = NULL;
	struct err err;
	if (webhook_parse_push(webhook_header_list_get, (void *)github_push_headers, body,
	                       strlen(body), &p, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(p->paths.n, WEBHOOK_PATHS_MAX);
	assert_true(p->paths_truncated);
	assert_string_equal(p->paths.v[0], "000000");
	assert_null(p->paths.v[p->paths.n]);
	webhook_push_free(p);
	free(body);
}

/* A path longer than WEBHOOK_PATH_MAX is dropped, flagged, and not fatal. */
static void test_overlong_path_is_dropped_and_flagged(void **state)
{
	char *body = push_with_paths(2, WEBHOOK_PATH_MAX + 1);
	struct webhook_push *p = NULL;
	struct err err;
	if (webhook_parse_push(webhook_header_list_get, (void *)github_push_headers, body,
	                       strlen(body), &p, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(p->paths.n, 0);
	assert_true(p->paths_truncated);
	webhook_push_free(p);
	free(body);
}

/* Commit ids are kept lowercase; a head is found in commits[] when head_commit is absent. */
static void test_uppercase_ids_and_head_from_commits(void **state)
{
	const char body[] = "{\"ref\":\"refs/heads/main\",\"before\":"
	                    "\"ABCDEF1111111111111111111111111111111111\",\"after\":"
	                    "\"ABCDEF2222222222222222222222222222222222\","
	                    "\"repository\":{\"full_name\":\"o/r\"},\"sender\":{\"login\":\"bot\"},"
	                    "\"commits\":[{\"id\":\"abcdef2222222222222222222222222222222222\","
	                    "\"message\":\"m\",\"modified\":[\"b\",\"a\",\"b\"]}]}";
	struct webhook_push *p = NULL;
	struct err err;
	if (webhook_parse_push(webhook_header_list_get, (void *)github_push_headers, body,
	                       sizeof body - 1, &p, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(p->before, "abcdef1111111111111111111111111111111111");
	assert_true(p->has_head);
	assert_string_equal(p->head.id, "abcdef2222222222222222222222222222222222");
	assert_string_equal(p->head.message, "m");
	assert_string_equal(p->pusher, "bot");
	assert_paths(p, "a b");
	webhook_push_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_signature_matches_githubs_documented_example),
	        cmocka_unit_test(test_signature_with_long_and_binary_secrets),
	        cmocka_unit_test(test_signature_of_another_body_is_refused),
	        cmocka_unit_test(test_signature_with_one_wrong_digit_is_refused),
	        cmocka_unit_test(test_signature_missing_is_refused),
	        cmocka_unit_test(test_signature_with_wrong_prefix_is_refused),
	        cmocka_unit_test(test_signature_in_uppercase_hex_is_accepted),
	        cmocka_unit_test(test_signature_truncated_or_too_long_is_refused),
	        cmocka_unit_test(test_signature_not_hex_is_refused),
	        cmocka_unit_test(test_signature_without_secret_is_refused),
	        cmocka_unit_test(test_github_push_to_main),
	        cmocka_unit_test(test_gitea_push),
	        cmocka_unit_test(test_forgejo_headers_name_the_forge),
	        cmocka_unit_test(test_gitea_push_with_more_commits_than_listed_is_truncated),
	        cmocka_unit_test(test_github_push_listing_20_of_25_commits_is_truncated),
	        cmocka_unit_test(test_tag_push),
	        cmocka_unit_test(test_branch_deletion),
	        cmocka_unit_test(test_deletion_is_seen_from_zero_after_alone),
	        cmocka_unit_test(test_ping),
	        cmocka_unit_test(test_other_event_is_not_a_push),
	        cmocka_unit_test(test_missing_event_header_is_an_error),
	        cmocka_unit_test(test_malformed_json_is_an_error_on_one_line),
	        cmocka_unit_test(test_oversized_body_is_refused_before_parsing),
	        cmocka_unit_test(test_push_without_its_fields_names_the_field),
	        cmocka_unit_test(test_hostile_refs_and_delivery_ids_are_refused),
	        cmocka_unit_test(test_too_many_paths_are_capped_and_flagged),
	        cmocka_unit_test(test_overlong_path_is_dropped_and_flagged),
	        cmocka_unit_test(test_uppercase_ids_and_head_from_commits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
