/*
 * api_webhook.c — POST /webhooks/{pipeline}: push deliveries from GitHub, Gitea,
 * Forgejo and Gogs. No token: the delivery proves itself with an HMAC-SHA256 of its
 * body under the pipeline's webhook secret (X-Hub-Signature-256).
 *
 * Order matters (DESIGN.md, "Outside input is hostile"): the signature is checked on
 * the raw bytes before anything is parsed; a delivery that fails starts nothing and
 * leaves no trace but a line in the daemon's log. Only then is the payload parsed and
 * handed to the engine, which deduplicates by delivery id (a forge's "Redeliver"
 * reuses the id, so it is reported as a duplicate) and evaluates the triggers.
 */
#include "api/api_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec/webhook.h"

const char *const api_webhook_header_names[] = {
        WEBHOOK_SIGNATURE_HEADER, "X-Forgejo-Signature",
        "X-Gitea-Signature",      "X-Gogs-Signature",
        "X-Forgejo-Event",        "X-Forgejo-Delivery",
        "X-Gitea-Event",          "X-Gitea-Delivery",
        "X-Gogs-Event",           "X-Gogs-Delivery",
        "X-GitHub-Event",         "X-GitHub-Delivery",
        "Content-Type",           NULL,
};

/* Signature headers that carry bare hex (old Gitea, Forgejo, Gogs): read as
 * "sha256=<hex>" when X-Hub-Signature-256 is absent. */
static const char *const bare_hex_headers[] = {"X-Forgejo-Signature", "X-Gitea-Signature",
                                               "X-Gogs-Signature", NULL};

static char *signature(const struct api_job *job)
{
	const char *v = api_header(job, WEBHOOK_SIGNATURE_HEADER);
	if (v)
		return xstrdup(v);
	for (size_t i = 0; bare_hex_headers[i]; i++)
		if ((v = api_header(job, bare_hex_headers[i])))
			return xasprintf("sha256=%s", v);
	return NULL;
}

/* The delivery id for messages, when it is a plain token (it is echoed in JSON). */
static const char *delivery_shown(const struct api_job *job)
{
	static const char *const names[] = {"X-GitHub-Delivery", "X-Gitea-Delivery",
	                                    "X-Forgejo-Delivery", "X-Gogs-Delivery", NULL};
	for (size_t i = 0; names[i]; i++) {
		const char *v = api_header(job, names[i]);
		if (!v)
			continue;
		size_t n = strlen(v);
		if (n == 0 || n > 64 || strspn(v, "0123456789abcdefABCDEF-_.") != n)
			return NULL;
		return v;
	}
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* GitHub's "application/x-www-form-urlencoded" content type sends the JSON as the
 * `payload` field of a form. Returns the decoded field (to free), or NULL. */
static char *form_payload(const char *body, size_t len, size_t *out_len)
{
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *field_end = amp ? amp : end;
		if ((size_t)(field_end - p) >= 8 && !memcmp(p, "payload=", 8)) {
			char *out = xmalloc((size_t)(field_end - p) + 1);
			size_t o = 0;
			for (const char *q = p + 8; q < field_end; q++) {
				if (*q == '+') {
					out[o++] = ' ';
				} else if (*q == '%' && field_end - q >= 3 && hexval(q[1]) >= 0 &&
				           hexval(q[2]) >= 0) {
					out[o++] = (char)(hexval(q[1]) << 4 | hexval(q[2]));
					q += 2;
				} else {
					out[o++] = *q;
				}
			}
			out[o] = '\0';
			*out_len = o;
			return out;
		}
		p = field_end + 1;
	}
	return NULL;
}

static const char *get_header(void *ctx, const char *name)
{
	return api_header(ctx, name);
}

static void ignored(struct api_job *job, const struct webhook_push *p, const char *reason)
{
	json_t *body = json_pack("{s:s,s:s,s:s}", "status", "ignored", "event", p->event, "reason",
	                         reason);
	if (p->delivery)
		json_object_set_new(body, "deliveryId", json_string(p->delivery));
	api_reply_json(job, 200, body);
}

static void start_push(struct api_job *job, const struct webhook_push *p)
{
	char *summary = NULL;
	if (p->has_head && p->head.message)
		summary = xstrndup(p->head.message, strcspn(p->head.message, "\r\n"));
	struct engine_push push = {
	        .source = "webhook",
	        .pipeline = api_param(job, "name"),
	        .repo = p->repo_full_name,
	        .delivery = p->delivery,
	        .ref = p->ref,
	        .before = p->before,
	        .after = p->after,
	        /* a truncated list could hide the one path a filter waits for: let the
	         * engine diff before..after instead */
	        .paths = p->commits_truncated || p->paths_truncated ? NULL : &p->paths,
	        .summary = summary,
	};
	json_t *events = NULL;
	struct engine_err err = {0};
	int rc = engine_push(job->e, &push, &events, &err);
	if (rc < 0) {
		api_reply_engine(job, rc, &err);
	} else {
		json_object_set_new(events, "status", json_string("accepted"));
		if (p->delivery)
			json_object_set_new(events, "deliveryId", json_string(p->delivery));
		api_reply_json(job, 202, events);
	}
	free(summary);
}

/* The signature is checked; the body is the forge's. */
static void deliver(struct api_job *job, const char *body, size_t len)
{
	struct webhook_push *p = NULL;
	struct err err;
	if (webhook_parse_push(get_header, job, body, len, &p, &err) < 0) {
		api_reply_error(job, 400, HTTP_ERR_BAD_REQUEST, "%s; nothing started", err.msg);
		return;
	}
	if (p->kind == WEBHOOK_PING)
		ignored(job, p, "ping: the webhook reaches ferry and its signature is right");
	else if (p->kind == WEBHOOK_OTHER_EVENT)
		ignored(job, p, "ferry acts on push events only");
	else if (p->deleted)
		ignored(job, p, "the push deleted the ref: nothing to build");
	else
		start_push(job, p);
	webhook_push_free(p);
}

static void webhook(struct api_job *job)
{
	const char *name = api_param(job, "name");
	char *secret = NULL;
	struct engine_err eerr = {0};
	int rc = engine_webhook_secret(job->e, name, 0, &secret, &eerr);
	if (rc < 0) {
		api_reply_engine(job, rc, &eerr);
		return;
	}
	char *sig = signature(job);
	struct err err;
	rc = webhook_verify_signature(secret, strlen(secret), job->body, job->body_len, sig, &err);
	sodium_memzero(secret, strlen(secret));
	free(secret);
	free(sig);
	const char *delivery = delivery_shown(job);
	if (rc < 0) {
		/* "webhook delivery <id>: <why>", the shape of webhook_parse_push()'s errors */
		const char *why = !strncmp(err.msg, "webhook: ", 9) ? err.msg + 9 : err.msg;
		char where[128] = "webhook";
		if (delivery)
			snprintf(where, sizeof where, "webhook delivery %s", delivery);
		logsink_printf(job->api->log, "pipeline %s: %s: %s; nothing started", name, where,
		               why);
		api_reply_error(job, 401, API_ERR_SIGNATURE, "%s: %s; nothing started", where, why);
		return;
	}
	/* GitHub's "application/x-www-form-urlencoded" setting sends payload=<JSON>; a body
	 * that is JSON already (curl's default content type) is taken as it is */
	const char *type = api_header(job, "Content-Type");
	if (type && !strncasecmp(type, "application/x-www-form-urlencoded", 33) &&
	    !strncmp(job->body, "payload=", 8)) {
		size_t len = 0;
		char *payload = form_payload(job->body, job->body_len, &len);
		deliver(job, payload, len);
		free(payload);
		return;
	}
	deliver(job, job->body, job->body_len);
}

const struct api_route api_webhook_routes[] = {
        {"POST", "/webhooks/{name}", API_SCOPE_NONE, webhook, WEBHOOK_BODY_MAX,
         API_WEBHOOK_HEADERS},
        {NULL, NULL, 0, NULL, 0, 0},
};
