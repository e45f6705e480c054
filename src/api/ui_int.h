/*
 * ui_int.h — what the files of the web UI (src/api/ui_*.c) share: sessions and their
 * checks, the page frame, formatting helpers, the ANSI-to-HTML converter and the
 * duration chart. docs/ui.md is the user's side.
 *
 * Every UI route is an api route (api_int.h) with scope API_SCOPE_NONE and the flag
 * API_UI_HEADERS: its run function (loop thread) checks the session itself, through
 * ui_need() for pages and ui_need_post() for state-changing requests.
 *
 * Invariants:
 *  - a session holds the token it was opened with (wiped when freed); each request
 *    checks it again, so a revoked token ends its sessions at once; a session also ends
 *    UI_SESSION_TTL_MS after login, or at logout;
 *  - every POST but /login needs the session's CSRF token (form field "csrf" or header
 *    X-CSRF-Token), compared in constant time, and the route's scope; otherwise 403 and
 *    nothing is done;
 *  - every dynamic string reaches the page through html.h's escaping calls.
 */
#ifndef FERRY_API_UI_INT_H
#define FERRY_API_UI_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api_int.h"
#include "api/html.h"

#define UI_COOKIE         "ferry_session"
#define UI_SESSION_TTL_MS (12LL * 3600 * 1000)
#define UI_SESSIONS_MAX   4096
#define UI_ID_HEX         64 /* 32 random bytes */
#define UI_FORM_VALUE_MAX 4096
#define UI_HISTORY_PAGE   50
#define UI_RECENT_EXECS   10
#define UI_FETCH_HEADER   "X-Ferry-Fetch" /* sent by app.js: answer JSON, not 303 */
#define UI_STATE_MAX      32              /* "BOOT.SEQ" (ui_state_mark) */
#define UI_CSP                                                                                     \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

struct ui_session {
	char id[UI_ID_HEX + 1]; /* hex of a hash of the cookie's id: the id itself is kept
	                           only by the browser */
	char csrf[UI_ID_HEX + 1];
	char token_id[STORE_TOKEN_ID_LEN + 1]; /* the token logged in with (checked again at
	                                          each request: a revoked one ends it) */
	char name[STORE_TOKEN_NAME_MAX + 1];   /* the token's name: who acts */
	unsigned scopes;                       /* effective scopes, as of this request */
	int64_t expires_ms;
	char *flash; /* an error to show once on the next page (a failed form post) */
	/* ui_state_mark() when this request checked the session */
	char state[UI_STATE_MAX];
};

/* ---- sessions (ui_session.c) ---- */

/* The session of the request's cookie, checked; NULL when none is valid. */
struct ui_session *ui_session_of(struct api_job *job);
/* A page: the session, or NULL after answering (303 to /login?next=..., or a fetch's
 * 401). */
struct ui_session *ui_need(struct api_job *job);
/* A state-changing request: the session with `scope` and a matching CSRF token, or
 * NULL after answering 403 (401 without a session). */
struct ui_session *ui_need_post(struct api_job *job, unsigned scope);
/* Whether the session holds `scope` (effective). */
bool ui_can(const struct ui_session *s, unsigned scope);
/* Sets (replacing) the message shown once on the session's next page. */
void ui_flash(struct ui_session *s, const char *msg);
/* The engine's change number as the live pages know it, "BOOT.SEQ" (BOOT: random per
 * daemon process; ui_events.c): a page carries it (<meta name="ferry-state">,
 * ui_page_begin) and compares it with the event stream's hello. */
void ui_state_mark(struct engine *e, char *out, size_t n);

/* `path` when it is a path of this server ("/…", not "//host"), else "/". */
const char *ui_safe_path(const char *path);
/* The value of `name` in a form body (application/x-www-form-urlencoded), decoded;
 * NULL when absent. To free. */
char *ui_form(const struct api_job *job, const char *name);

/* ---- the frame and answers (ui_layout.c) ---- */

/* <!doctype html>…<main>: title, navigation (`nav`: "pipelines", "sites",
 * "functions"), the session's name, logout, and its flash message (cleared). s may be
 * NULL (the login page). */
void ui_page_begin(struct html *h, const char *title, struct ui_session *s, const char *nav);
void ui_page_end(struct html *h);
/* Answers with the built page (text/html) and the UI's security headers. */
void ui_reply_html(struct api_job *job, unsigned status, struct html *h);
/* A page saying what went wrong, in words. */
void ui_reply_error(struct api_job *job, struct ui_session *s, unsigned status, const char *msg);
/* 303 See Other to `location` (a path of this server). */
void ui_redirect(struct api_job *job, const char *location);
/* The outcome of a form post: with the fetch header, JSON {"ok"} or {"error"}; without,
 * 303 back to `back`, the error (if any) kept for the next page. rc/err as an engine
 * operation's. */
void ui_form_done(struct api_job *job, struct ui_session *s, const char *back, int rc,
                  const struct engine_err *err);
/* The hidden CSRF field of a form. */
void ui_csrf_field(struct html *h, const struct ui_session *s);
/* <time datetime="2024-05-01T10:00:00Z">…</time> (the browser localises it). */
void ui_time(struct html *h, int64_t ms);
/* "1 min 12 s", "350 ms", "2 h 5 min". */
void ui_duration(int64_t ms, char *out, size_t n);
/* "succeeded", "inprogress", ... (lower case, letters only) for class names. */
void ui_status_slug(const char *status, char *out, size_t n);
/* <span class="status status-X" data-status="X">X</span> */
void ui_status(struct html *h, const char *status);
/* Epoch milliseconds of an engine JSON time (seconds with a fraction); 0 when absent. */
int64_t ui_json_ms(const json_t *v);
/* A member's string value, or `def`. */
const char *ui_jstr(const json_t *obj, const char *key, const char *def);

/* ---- pieces other files test (ui_ansi.c, ui_history.c) ---- */

/* Terminal output to HTML: text escaped, SGR colours and bold as <span class="...">,
 * other escape sequences dropped. State survives between calls (a sequence may be
 * split across chunks). */
struct ui_ansi {
	int fg, bg, bold, faint, italic, underline; /* fg/bg: -1 default, 0-15 */
	int open;                                   /* a <span> is open */
	int esc;                                    /* 0 text, 1 after ESC, 2 in CSI, 3 in OSC */
	char params[32];
	size_t nparams;
};
void ui_ansi_init(struct ui_ansi *a);
FERRY_MUST_CHECK int ui_ansi_feed(struct ui_ansi *a, const char *in, size_t n, struct buf *out);
/* Closes an open span. */
FERRY_MUST_CHECK int ui_ansi_end(struct ui_ansi *a, struct buf *out);

/* An SVG line chart of durations (oldest first), each point coloured by its status and
 * titled with its duration; `ids` (may be NULL) link points to executions of
 * `pipeline`. */
void ui_duration_chart(struct html *h, const char *pipeline, const int64_t *ms,
                       const char *const *statuses, const char *const *ids, size_t n);

/* An EINVALID ValidationException with `msg`, for a form's own checks. */
int ui_fail(struct engine_err *err, const char *msg);

/* ---- the routes' run functions (ui_routes.c lists them) ---- */

api_job_fn ui_get_login, ui_post_login, ui_post_logout; /* ui_session.c */
api_job_fn ui_page_pipelines, ui_page_pipeline;         /* ui_pipelines.c */
api_job_fn ui_post_start, ui_post_stop, ui_post_retry, ui_post_transition, ui_post_approval;
api_job_fn ui_page_execution, ui_get_log, ui_get_artifact, ui_api_artifact; /* ui_execution.c */
api_job_fn ui_page_history;                                                 /* ui_history.c */
api_job_fn ui_get_events;                                                   /* ui_events.c */
api_job_fn ui_page_sites, ui_post_rollback, ui_page_functions;              /* ui_sites.c */
api_job_fn ui_get_css, ui_get_js;                                           /* ui_assets.c */

/* ---- page parts shared by pages (ui_pipelines.c) ---- */

/* The stage pills of the pipelines list and the fragment of it. */
void ui_pipelines_list(struct html *h, struct engine *e, struct ui_session *s);
/* The author of the commit `sha` an execution ran on, from its source action's output
 * variables (AuthorDisplayName, AuthorEmail; the first source action's when none
 * produced `sha`): 1 with *name (and *email, NULL when unknown) to free, or 0. */
int ui_commit_author(struct engine *e, const char *pipeline, const char *execution_id,
                     const char *sha, char **name, char **email);

#endif
