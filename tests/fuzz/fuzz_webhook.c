/*
 * fuzz_webhook.c — libFuzzer driver for webhook deliveries (spec/webhook.c): any body
 * under any event must parse to a checked struct or fail with a one-line, printable
 * ASCII message starting "webhook", without a crash, a leak or an unbounded
 * allocation; and the signature check must accept the body's true HMAC and refuse
 * whatever else the input offers.
 *
 * Input: a body that starts with '{' is a GitHub push (the seeds are plain payloads).
 * Otherwise the first line is "EVENT [FORGE]" ("ping", "push gitea", "push forgejo")
 * and the rest is the body; the first line's last 71 bytes, when it has that many,
 * are also tried as an X-Hub-Signature-256 value.
 *
 * Checked on success: paths strictly increasing bytewise, each 1..WEBHOOK_PATH_MAX
 * bytes, at most WEBHOOK_PATHS_MAX and NULL-terminated; commit ids lowercase hex of
 * 40 or 64 digits; a deleted ref has no head commit; every push names its repository.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzz-secret";

static void check_oid(const char *oid)
{
	size_t n = strlen(oid);
	if (n != 40 && n != 64)
		abort();
	if (strspn(oid, "0123456789abcdef") != n)
		abort();
}

static void check_push(const struct webhook_push *p)
{
	if (!p->event || !p->ref || !p->ref_name || !*p->ref_name || !p->repo_full_name)
		abort();
	check_oid(p->before);
	check_oid(p->after);
	if (p->has_head) {
		check_oid(p->head.id);
		if (!p->head.message || p->deleted)
			abort();
	}
	if (p->paths.n > WEBHOOK_PATHS_MAX || (p->paths.v && p->paths.v[p->paths.n]))
		abort();
	for (size_t i = 0; i < p->paths.n; i++) {
		size_t n = strlen(p->paths.v[i]);
		if (n == 0 || n > WEBHOOK_PATH_MAX)
			abort();
		if (i && strcmp(p->paths.v[i - 1], p->paths.v[i]) >= 0)
			abort();
	}
	if (p->commits_total >= 0 && (uint64_t)p->commits_total > p->commits_listed &&
	    !p->deleted && !p->commits_truncated)
		abort();
}

static void check_error(const char *msg)
{
	if (strncmp(msg, "webhook", 7) != 0)
		abort();
	for (const char *s = msg; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			abort();
}

static void check_signature(const char *body, size_t len, const char *offered)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, sizeof secret - 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	char header[7 + 2 * sizeof mac + 1] = "sha256=";
	sodium_bin2hex(header + 7, sizeof header - 7, mac, sizeof mac);
	struct err err = {{0}};
	int want = len <= WEBHOOK_BODY_MAX ? 0 : -1;
	if (webhook_verify_signature(secret, sizeof secret - 1, body, len, header, &err) != want)
		abort();
	if (offered && strcasecmp(offered, header) != 0 &&
	    webhook_verify_signature(secret, sizeof secret - 1, body, len, offered, &err) == 0)
		abort();
	if (offered && strstr(err.msg, secret))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sodium_init() < 0)
		abort();
	char event[WEBHOOK_EVENT_MAX + 1] = "push";
	const char *forge = "github";
	const char *body = (const char *)data;
	size_t len = size;
	char line[256] = "";
	if (size && data[0] != '{') {
		const uint8_t *nl = memchr(data, '\n', size < sizeof line ? size : sizeof line);
		if (nl) {
			size_t n = (size_t)(nl - data);
			memcpy(line, data, n);
			line[n] = '\0';
			body = (const char *)nl + 1;
			len = size - n - 1;
			char *sp = strchr(line, ' ');
			if (sp) {
				*sp = '\0';
				forge = sp + 1;
			}
			snprintf(event, sizeof event, "%s", line);
		}
	}
	const char *offered = NULL;
	if (strlen(forge) >= 71)
		offered = forge + strlen(forge) - 71;
	check_signature(body, len, offered);

	struct webhook_header h[8] = {{NULL, NULL}};
	int k = 0;
	if (strcmp(forge, "forgejo") == 0) {
		h[k++] = (struct webhook_header){"X-Forgejo-Event", event};
		h[k++] = (struct webhook_header){"X-Forgejo-Delivery", "fuzz-delivery"};
	}
	if (strcmp(forge, "gitea") == 0 || strcmp(forge, "forgejo") == 0) {
		h[k++] = (struct webhook_header){"X-Gitea-Event", event};
		h[k++] = (struct webhook_header){"X-Gitea-Delivery", "fuzz-delivery"};
	}
	h[k++] = (struct webhook_header){"X-GitHub-Event", event};
	h[k++] = (struct webhook_header){"X-GitHub-Delivery", "fuzz-delivery"};

	struct webhook_push *p = NULL;
	struct err err;
	if (webhook_parse_push(webhook_header_list_get, h, body, len, &p, &err) != 0) {
		if (p)
			abort();
		check_error(err.msg);
		return 0;
	}
	if (!p)
		abort();
	if (p->kind == WEBHOOK_PUSH)
		check_push(p);
	else if (p->kind == WEBHOOK_PING && (p->ref || strcmp(p->event, "ping") != 0))
		abort();
	webhook_push_free(p);
	return 0;
}
