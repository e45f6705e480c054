/*
 * webhook.h — push webhook deliveries from GitHub, Gitea, Forgejo and Gogs: checking
 * their X-Hub-Signature-256 and parsing a push (or ping) payload into a checked struct.
 *
 * Invariants:
 *  - webhook_verify_signature() computes HMAC-SHA256(secret, body) and compares it
 *    with the header's digest in constant time; its errors never contain the secret
 *    or the expected digest, and each failure (no header, wrong prefix, wrong length,
 *    not hex, mismatch) has its own message;
 *  - nothing is parsed from a body larger than WEBHOOK_BODY_MAX: callers verify the
 *    signature first, then parse, and never act on an unverified body;
 *  - webhook_parse_push() either returns a complete struct or fails with a one-line
 *    message ("webhook delivery <id>: field.path: what was expected") and *out NULL;
 *    a delivery that is not a push or a ping is not an error: it parses to
 *    WEBHOOK_OTHER_EVENT with only `forge`, `event` and `delivery` set;
 *  - every string from the payload that is kept is valid UTF-8 (jansson checks it)
 *    without NUL bytes; refs and delivery ids also have no control characters;
 *  - `paths` is sorted bytewise, without duplicates, each entry 1..WEBHOOK_PATH_MAX
 *    bytes, at most WEBHOOK_PATHS_MAX entries.
 *
 * Paths are a hint, not the truth: forges list at most some commits (GitHub 2048 in
 * webhooks, 20 in its Events API; Gitea FEED_MAX_COMMIT_NUM, 5 by default) and list
 * none for a ref created on an existing commit. When `commits_truncated` or
 * `paths_truncated` is set, the changed paths must come from git (before..after).
 *
 * Ownership: the caller frees the result with webhook_push_free(); every string in
 * it is owned by the struct.
 */
#ifndef FERRY_WEBHOOK_H
#define FERRY_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

/* Caps on what a delivery may hold (named in errors). */
#define WEBHOOK_BODY_MAX     (1 << 20) /* bytes of a request body */
#define WEBHOOK_PATHS_MAX    10000     /* distinct changed paths kept */
#define WEBHOOK_PATH_MAX     4096      /* bytes of one changed path */
#define WEBHOOK_REF_MAX      1024      /* bytes of `ref` */
#define WEBHOOK_DELIVERY_MAX 128       /* bytes of a delivery id */
#define WEBHOOK_EVENT_MAX    64        /* bytes of an event name */
#define WEBHOOK_OID_MAX      64        /* hex digits of a commit id (SHA-256 repositories) */

#define WEBHOOK_SIGNATURE_HEADER "X-Hub-Signature-256"

enum webhook_forge {
	WEBHOOK_FORGE_GITHUB, /* X-GitHub-Event only */
	WEBHOOK_FORGE_GITEA,  /* X-Gitea-Event (Gitea also sends X-GitHub-* and X-Gogs-*) */
	WEBHOOK_FORGE_FORGEJO,
	WEBHOOK_FORGE_GOGS,
};

enum webhook_kind {
	WEBHOOK_PUSH,
	WEBHOOK_PING,        /* GitHub sends one when a hook is created */
	WEBHOOK_OTHER_EVENT, /* anything else: answer "ignored", start nothing */
};

enum webhook_ref_type {
	WEBHOOK_REF_BRANCH, /* refs/heads/<name> */
	WEBHOOK_REF_TAG,    /* refs/tags/<name> */
	WEBHOOK_REF_OTHER,  /* any other ref; ref_name is the whole ref */
};

struct webhook_commit {
	char id[WEBHOOK_OID_MAX + 1]; /* lowercase hex */
	char *message;                /* "" when absent */
	char *timestamp;              /* as sent (ISO 8601 with an offset); NULL when absent */
	char *author_name;            /* NULL when absent */
	char *author_email;           /* NULL when absent */
};

struct webhook_push {
	enum webhook_kind kind;
	enum webhook_forge forge;
	char *event;    /* the event header's value, e.g. "push" */
	char *delivery; /* the delivery id, NULL when the forge sent none */

	/* WEBHOOK_PUSH only. */
	char *ref;      /* "refs/heads/main" */
	char *ref_name; /* "main" */
	enum webhook_ref_type ref_type;
	char before[WEBHOOK_OID_MAX + 1]; /* lowercase hex; all zeros for a created ref */
	char after[WEBHOOK_OID_MAX + 1];  /* lowercase hex; all zeros for a deleted ref */
	bool created;                     /* the push created the ref */
	bool deleted;                     /* the push deleted the ref: nothing to build */
	bool forced;                      /* GitHub's `forced`; false when not sent */
	char *repo_full_name;             /* "owner/name" (required) */
	char *clone_url;                  /* https clone URL, NULL when absent */
	char *ssh_url;                    /* NULL when absent */
	char *html_url;                   /* NULL when absent */
	char *pusher;                     /* pusher name/login, else sender login; NULL if none */
	bool has_head;                    /* `head` is filled */
	struct webhook_commit head;       /* head_commit, else the listed commit equal to `after` */
	struct strv paths;                /* added/modified/removed of the listed commits */
	size_t commits_listed;            /* entries of commits[] */
	int64_t commits_total;            /* total_commits / size when sent, else -1 */
	bool commits_truncated;           /* commits[] may not be every commit of the push */
	bool paths_truncated;             /* more than WEBHOOK_PATHS_MAX distinct paths */

	/* WEBHOOK_PING only (repo_full_name is also set when the payload names one). */
	char *zen;       /* NULL when absent */
	int64_t hook_id; /* -1 when absent */
};

/*
 * Checks `header_value` (the X-Hub-Signature-256 header, NULL when missing) against
 * HMAC-SHA256(secret, body): 0 when it matches, -1 with the reason otherwise. An
 * empty secret is refused: it would accept anyone's signature.
 */
FERRY_MUST_CHECK
int webhook_verify_signature(const void *secret, size_t secret_len, const void *body,
                             size_t body_len, const char *header_value, struct err *err);

/* Looks a request header up by name (case-insensitively); NULL when missing. */
typedef const char *(*webhook_header_fn)(void *ctx, const char *name);

/* A header list for webhook_header_list_get(): an array ended by {NULL, NULL}. */
struct webhook_header {
	const char *name;
	const char *value;
};

/* A webhook_header_fn over a `struct webhook_header` array passed as `ctx`. */
const char *webhook_header_list_get(void *ctx, const char *name);

/*
 * Parses a delivery. The event and delivery id come from X-Forgejo-*, X-Gitea-*,
 * X-Gogs-* or X-GitHub-* (Event / Delivery), the first family present in that order
 * naming the forge. A missing event header, a body over WEBHOOK_BODY_MAX, malformed
 * JSON or a push payload without the fields a push needs fail with -1.
 */
FERRY_MUST_CHECK
int webhook_parse_push(webhook_header_fn get_header, void *ctx, const char *body, size_t len,
                       struct webhook_push **out, struct err *err);

void webhook_push_free(struct webhook_push *p);

/* "github", "gitea", "forgejo", "gogs". */
const char *webhook_forge_name(enum webhook_forge forge);

#endif
