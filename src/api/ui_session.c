/*
 * ui_session.c — the web UI's sessions: login with an API token, the session cookie,
 * CSRF checks, logout; and the form body parser.
 *
 * Sessions live in memory, a table of at most UI_SESSIONS_MAX scanned with
 * constant-time compares, and in <data>/ui-sessions (mode 0600, rewritten atomically
 * at each login, logout and ended session), so that a daemon restart keeps people
 * logged in and an open page's live stream reconnects by itself. Neither memory nor
 * the file holds a session's id or the API token it logged in with: only a hash of the
 * id (the cookie is hashed to find its session) and the token's id in the store, which
 * is checked again at each request. Ids and CSRF tokens are 32 random bytes each, in
 * hex.
 */
#include "api/ui_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/fs.h"
#include "util/timeutil.h"

#define UI_SESSIONS_FILE "ui-sessions"
#define UI_SESSION_LINE  (2 * UI_ID_HEX + 24 + STORE_TOKEN_NAME_MAX + 256)

const char *const api_ui_header_names[] = {"Cookie", "X-CSRF-Token", UI_FETCH_HEADER,
                                           "Last-Event-ID", NULL};

struct ui_state {
	struct ui_session **v;
	size_t n;
	char *path; /* the sessions' file; NULL: memory only */
};

static void session_free(struct ui_session *s)
{
	if (!s)
		return;
	free(s->flash);
	sodium_memzero(s, sizeof *s);
	free(s);
}

/* ---- the sessions' file: a line "ID-HASH CSRF EXPIRES-MS TOKEN-ID" per session ---- */

static bool is_hex_id(const char *p, size_t n)
{
	if (n != UI_ID_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", p[i]))
			return false;
	return true;
}

/* One line (NUL-terminated, no newline) as a session, or NULL when it is malformed. */
static struct ui_session *session_parse(char *line)
{
	char *f[4];
	size_t k = 0;
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && k < 4;
	     t = strtok_r(NULL, " ", &save))
		f[k++] = t;
	if (k != 4 || !is_hex_id(f[0], strlen(f[0])) || !is_hex_id(f[1], strlen(f[1])))
		return NULL;
	char *end = NULL;
	long long exp = strtoll(f[2], &end, 10);
	if (*end || exp <= 0 || !*f[3] || strlen(f[3]) > STORE_TOKEN_ID_LEN)
		return NULL;
	struct ui_session *s = xcalloc(1, sizeof *s);
	memcpy(s->id, f[0], UI_ID_HEX);
	memcpy(s->csrf, f[1], UI_ID_HEX);
	s->expires_ms = exp;
	snprintf(s->token_id, sizeof s->token_id, "%s", f[3]);
	return s; /* name and scopes: from the token, at its first request */
}

static void sessions_load(struct ui_state *st)
{
	char *data = NULL;
	size_t len = 0;
	struct err err;
	if (!fs_exists(st->path) ||
	    fs_read_file(st->path, (size_t)UI_SESSIONS_MAX * UI_SESSION_LINE, &data, &len, &err) <
	            0)
		return;
	int64_t now = wall_ms();
	for (char *save = NULL, *line = strtok_r(data, "\n", &save);
	     line && st->n < UI_SESSIONS_MAX; line = strtok_r(NULL, "\n", &save)) {
		struct ui_session *s = session_parse(line);
		if (!s)
			continue;
		if (s->expires_ms <= now) {
			session_free(s);
			continue;
		}
		st->v = xgrow(st->v, st->n, sizeof *st->v);
		st->v[st->n++] = s;
	}
	sodium_memzero(data, len);
	free(data);
}

/* Rewrites the file from the table; a failure leaves the sessions in memory only. */
static void sessions_save(struct ui_state *st)
{
	if (!st->path)
		return;
	struct buf b;
	buf_init(&b, (size_t)UI_SESSIONS_MAX * UI_SESSION_LINE);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < st->n; i++)
		rc = buf_printf(&b, "%s %s %lld %s\n", st->v[i]->id, st->v[i]->csrf,
		                (long long)st->v[i]->expires_ms, st->v[i]->token_id);
	struct err err;
	if (rc == 0 && fs_write_atomic(st->path, b.len ? b.data : "", b.len, 0600, &err) < 0)
		rc = -1; /* kept in memory: the next change tries again */
	if (b.data)
		sodium_memzero(b.data, b.cap);
	buf_free(&b);
}

static struct ui_state *state(struct api_job *job)
{
	struct api *a = job->api;
	if (!a->ui) {
		a->ui = xcalloc(1, sizeof *a->ui);
		const char *dir = engine_data_dir(job->e);
		if (dir) {
			a->ui->path = fs_join(dir, UI_SESSIONS_FILE);
			sessions_load(a->ui);
		}
	}
	return a->ui;
}

void api_ui_free(struct api *a)
{
	if (!a || !a->ui)
		return;
	for (size_t i = 0; i < a->ui->n; i++)
		session_free(a->ui->v[i]);
	free(a->ui->v);
	free(a->ui->path);
	free(a->ui);
	a->ui = NULL;
}

static void session_remove(struct ui_state *st, size_t i)
{
	session_free(st->v[i]);
	st->v[i] = st->v[--st->n];
}

static void prune(struct ui_state *st, int64_t now)
{
	for (size_t i = 0; i < st->n;)
		if (st->v[i]->expires_ms <= now)
			session_remove(st, i);
		else
			i++;
}

/* Ends the session at `i` (expired, revoked, logged out), in memory and on disk. */
static void session_end(struct ui_state *st, size_t i)
{
	session_remove(st, i);
	sessions_save(st);
}

/* The hex of the hash by which a session's id is kept (UI_ID_HEX digits). */
static void id_hash_hex(const char *id, size_t len, char out[UI_ID_HEX + 1])
{
	unsigned char h[UI_ID_HEX / 2];
	crypto_generichash(h, sizeof h, (const unsigned char *)id, len, NULL, 0);
	sodium_bin2hex(out, UI_ID_HEX + 1, h, sizeof h);
}

static void random_hex(char out[UI_ID_HEX + 1])
{
	unsigned char raw[UI_ID_HEX / 2];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, UI_ID_HEX + 1, raw, sizeof raw);
	sodium_memzero(raw, sizeof raw);
}

/* The ferry_session value of a Cookie header, or NULL; *len its length. */
static const char *cookie_value(const char *cookie, size_t *len)
{
	const char *p = cookie;
	size_t nlen = strlen(UI_COOKIE);
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > nlen && !strncmp(p, UI_COOKIE, nlen) && p[nlen] == '=') {
			*len = n - nlen - 1;
			return p + nlen + 1;
		}
		p = end;
	}
	return NULL;
}

struct ui_session *ui_session_of(struct api_job *job)
{
	const char *cookie = api_header(job, "Cookie");
	size_t len = 0;
	const char *id = cookie ? cookie_value(cookie, &len) : NULL;
	if (!id || len != UI_ID_HEX)
		return NULL;
	char id_hash[UI_ID_HEX + 1];
	id_hash_hex(id, len, id_hash);
	struct ui_state *st = state(job);
	int64_t now = wall_ms();
	struct ui_session *found = NULL;
	size_t at = 0;
	for (size_t i = 0; i < st->n; i++)
		if (sodium_memcmp(st->v[i]->id, id_hash, UI_ID_HEX) == 0) {
			found = st->v[i];
			at = i;
		}
	if (!found)
		return NULL;
	if (found->expires_ms <= now) {
		session_end(st, at);
		return NULL;
	}
	/* the token again: a revoked one ends the session now */
	struct store_token_info info;
	struct err err;
	if (store_token_check_id(engine_store(job->e), found->token_id, 0, &info, &err) !=
	    STORE_TOKEN_OK) {
		session_end(st, at);
		return NULL;
	}
	found->scopes = store_token_scopes_effective(info.scopes);
	ui_state_mark(job->e, found->state, sizeof found->state);
	snprintf(found->name, sizeof found->name, "%s", info.name);
	return found;
}

bool ui_can(const struct ui_session *s, unsigned scope)
{
	return s && (s->scopes & scope) == scope;
}

void ui_flash(struct ui_session *s, const char *msg)
{
	free(s->flash);
	s->flash = msg ? xstrdup(msg) : NULL;
}

static bool is_fetch(const struct api_job *job)
{
	return api_header(job, UI_FETCH_HEADER) != NULL;
}

struct ui_session *ui_need(struct api_job *job)
{
	struct ui_session *s = ui_session_of(job);
	if (s)
		return s;
	if (is_fetch(job)) {
		api_reply_error(job, 401, API_ERR_UNAUTHORIZED,
		                "not logged in (or the session ended)");
		return NULL;
	}
	struct html h;
	html_init(&h);
	html_raw(&h, "/login?next=");
	html_url(&h, http_request_path(job->req));
	/* the query of a page (?execution=…) is part of where to come back to */
	for (size_t i = 0; i < job->nquery && !strcmp(job->route->method, "GET"); i++) {
		html_raw(&h, i ? "%26" : "%3F");
		html_url(&h, job->query[i].name);
		html_raw(&h, "%3D");
		html_url(&h, job->query[i].value);
	}
	char *loc = html_detach(&h, NULL);
	ui_redirect(job, loc);
	free(loc);
	html_free(&h);
	return NULL;
}

struct ui_session *ui_need_post(struct api_job *job, unsigned scope)
{
	struct ui_session *s = ui_session_of(job);
	if (!s) {
		api_reply_error(job, 401, API_ERR_UNAUTHORIZED,
		                "not logged in (or the session ended): log in again at /login");
		return NULL;
	}
	const char *sent = api_header(job, "X-CSRF-Token");
	char *field = sent ? NULL : ui_form(job, "csrf");
	const char *csrf = sent ? sent : field;
	bool ok = csrf && strlen(csrf) == UI_ID_HEX && sodium_memcmp(csrf, s->csrf, UI_ID_HEX) == 0;
	free(field);
	if (!ok) {
		ui_reply_error(job, s, 403,
		               "this form is stale or did not come from ferry's pages (its CSRF "
		               "token does not match the session): reload the page and try again");
		return NULL;
	}
	if (!ui_can(s, scope)) {
		char need[STORE_TOKEN_SCOPES_TEXT], has[STORE_TOKEN_SCOPES_TEXT];
		store_token_scopes_format(scope, need);
		store_token_scopes_format(s->scopes, has);
		char msg[256];
		snprintf(msg, sizeof msg,
		         "token \"%s\" (scopes: %s) lacks the \"%s\" scope this needs", s->name,
		         has, need);
		ui_reply_error(job, s, 403, msg);
		return NULL;
	}
	return s;
}

/* ---- forms ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *form_decode(const char *p, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '+') {
			out[o++] = ' ';
		} else if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 &&
		           hexval(p[i + 2]) >= 0) {
			char c = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			out[o++] = c ? c : ' ';
			i += 2;
		} else {
			out[o++] = p[i];
		}
	}
	out[o] = '\0';
	return out;
}

char *ui_form(const struct api_job *job, const char *name)
{
	const char *p = job->body;
	size_t nlen = strlen(name);
	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t klen = eq ? (size_t)(eq - p) : n;
		if (klen == nlen && !memcmp(p, name, nlen)) {
			size_t vlen = eq ? n - klen - 1 : 0;
			if (vlen > UI_FORM_VALUE_MAX * 3)
				vlen = UI_FORM_VALUE_MAX * 3;
			return form_decode(eq ? eq + 1 : p + n, vlen);
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* ---- routes ---- */

/* A `next` that stays on this server: a path, not "//host" nor "/\host". */
const char *ui_safe_path(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strpbrk(next, "\r\n"))
		return "/";
	return next;
}

static void login_form(struct api_job *job, unsigned status, const char *next, const char *error)
{
	struct html h;
	html_init(&h);
	ui_page_begin(&h, "Log in", NULL, NULL);
	html_raw(&h, "<section class=\"login\"><h1>Log in to ferry</h1>");
	if (error) {
		html_raw(&h, "<p class=\"error\" role=\"alert\" id=\"login-error\">");
		html_text(&h, error);
		html_raw(&h, "</p>");
	}
	html_raw(&h, "<form method=\"post\" action=\"/login\" id=\"login-form\">"
	             "<label for=\"token\">API token</label>"
	             "<input type=\"password\" id=\"token\" name=\"token\" required "
	             "autocomplete=\"current-password\" placeholder=\"ferry_…\">");
	html_raw(&h, "<input type=\"hidden\" name=\"next\"");
	html_attr(&h, "value", ui_safe_path(next));
	html_raw(&h, "><button type=\"submit\" id=\"login-submit\">Log in</button></form>"
	             "<p class=\"hint\">Any API token works (<code>ferry token create</code>); a "
	             "read-only one shows pages without buttons.</p></section>");
	ui_page_end(&h);
	ui_reply_html(job, status, &h);
}

void ui_get_login(struct api_job *job)
{
	login_form(job, 200, api_query(job, "next"), NULL);
}

void ui_post_login(struct api_job *job)
{
	char *token = ui_form(job, "token");
	char *next = ui_form(job, "next");
	struct store_token_info info;
	struct err err;
	int st = token && *token ? store_token_check(engine_store(job->e), token, 0, &info, &err)
	                         : STORE_TOKEN_UNKNOWN;
	if (st != STORE_TOKEN_OK) {
		login_form(job, st < 0 ? 500 : 401, next,
		           st < 0                      ? "the token could not be checked"
		           : st == STORE_TOKEN_REVOKED ? "this token was revoked"
		           : token && *token           ? "unknown token"
		                                       : "enter a token");
		store_token_free(token);
		free(next);
		return;
	}
	struct ui_state *ust = state(job);
	int64_t now = wall_ms();
	prune(ust, now);
	if (ust->n >= UI_SESSIONS_MAX) { /* the oldest to expire makes room */
		size_t old = 0;
		for (size_t i = 1; i < ust->n; i++)
			if (ust->v[i]->expires_ms < ust->v[old]->expires_ms)
				old = i;
		session_remove(ust, old);
	}
	struct ui_session *s = xcalloc(1, sizeof *s);
	char raw_id[UI_ID_HEX + 1];
	random_hex(raw_id);
	id_hash_hex(raw_id, UI_ID_HEX, s->id);
	random_hex(s->csrf);
	snprintf(s->token_id, sizeof s->token_id, "%s", info.id);
	store_token_free(token);
	snprintf(s->name, sizeof s->name, "%s", info.name);
	s->scopes = store_token_scopes_effective(info.scopes);
	s->expires_ms = now + UI_SESSION_TTL_MS;
	ust->v = xgrow(ust->v, ust->n, sizeof *ust->v);
	ust->v[ust->n++] = s;
	sessions_save(ust);
	char cookie[256];
	snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld",
	         UI_COOKIE, raw_id, (long long)(UI_SESSION_TTL_MS / 1000));
	sodium_memzero(raw_id, sizeof raw_id);
	http_response_header(job->req, "Set-Cookie", cookie);
	ui_redirect(job, ui_safe_path(next));
	free(next);
}

void ui_post_logout(struct api_job *job)
{
	struct ui_session *s = ui_need_post(job, 0);
	if (!s)
		return;
	struct ui_state *st = state(job);
	for (size_t i = 0; i < st->n; i++)
		if (st->v[i] == s) {
			session_end(st, i);
			break;
		}
	http_response_header(job->req, "Set-Cookie",
	                     UI_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	ui_redirect(job, "/login");
}
