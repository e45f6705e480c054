/*
 * ui_layout.c — the frame every page shares (head, navigation, logout, the flash
 * message), answering with a page, a redirect or an error page, and the small
 * formatters (times, durations, statuses).
 */
#include "api/ui_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

static void nav_link(struct html *h, const char *href, const char *label, const char *id,
                     const char *nav)
{
	html_raw(h, "<a");
	html_attr(h, "href", href);
	html_attr(h, "id", id);
	if (nav && !strcmp(nav, id + 4))
		html_raw(h, " aria-current=\"page\"");
	html_raw(h, ">");
	html_text(h, label);
	html_raw(h, "</a>");
}

void ui_page_begin(struct html *h, const char *title, struct ui_session *s, const char *nav)
{
	html_raw(h, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	            "<title>");
	html_text(h, title);
	html_raw(h, " · ferry</title>"
	            "<link rel=\"icon\" href=\"data:,\">" /* no /favicon.ico 404 on each page */
	            "<link rel=\"stylesheet\" href=\"/ui/assets/app.css\">"
	            "<script src=\"/ui/assets/app.js\" defer></script>");
	if (s) {
		html_raw(h, "<meta name=\"csrf-token\"");
		html_attr(h, "content", s->csrf);
		/* the state the page shows (at least): the live page catches up from it */
		html_raw(h, "><meta name=\"ferry-state\"");
		html_attr(h, "content", s->state);
		html_raw(h, ">");
	}
	html_raw(h, "</head><body><a class=\"skip\" href=\"#main\">Skip to content</a>"
	            "<header class=\"top\"><a class=\"brand\" href=\"/\">ferry</a>");
	if (s) {
		html_raw(h, "<nav aria-label=\"Main\">");
		nav_link(h, "/", "Pipelines", "nav-pipelines", nav);
		nav_link(h, "/sites", "Sites", "nav-sites", nav);
		nav_link(h, "/functions", "Functions", "nav-functions", nav);
		html_raw(h, "</nav><div class=\"who\"><span id=\"who\"");
		html_attrf(h, "data-scopes", "%s%s%s", ui_can(s, STORE_SCOPE_START) ? "start " : "",
		           ui_can(s, STORE_SCOPE_APPROVE) ? "approve " : "",
		           ui_can(s, STORE_SCOPE_ADMIN) ? "admin" : "");
		html_raw(h, ">");
		html_text(h, s->name);
		html_raw(h, "</span><form method=\"post\" action=\"/logout\">");
		ui_csrf_field(h, s);
		html_raw(h, "<button type=\"submit\" id=\"logout\" class=\"link\">Log out</button>"
		            "</form></div>");
	}
	html_raw(h, "</header><main id=\"main\">");
	if (s && s->flash) {
		html_raw(h, "<p class=\"error\" role=\"alert\" id=\"flash\">");
		html_text(h, s->flash);
		html_raw(h, "</p>");
		ui_flash(s, NULL);
	}
}

void ui_page_end(struct html *h)
{
	html_raw(h, "</main></body></html>\n");
}

static void security_headers(struct http_request *req)
{
	http_response_header(req, "Content-Security-Policy", UI_CSP);
	http_response_header(req, "X-Content-Type-Options", "nosniff");
	http_response_header(req, "X-Frame-Options", "DENY");
	http_response_header(req, "Referrer-Policy", "same-origin");
	http_response_header(req, "Cache-Control", "no-store");
}

void ui_reply_html(struct api_job *job, unsigned status, struct html *h)
{
	if (h->too_large) {
		html_free(h);
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "the page is larger than %u bytes",
		                HTML_PAGE_MAX);
		return;
	}
	size_t len = 0;
	char *text = html_detach(h, &len);
	html_free(h);
	if (!job->answered) {
		security_headers(job->req);
		api_job_answered(job);
		http_respond_bytes(job->req, status, "text/html; charset=utf-8", text, len);
	}
	free(text);
}

void ui_reply_error(struct api_job *job, struct ui_session *s, unsigned status, const char *msg)
{
	if (api_header(job, UI_FETCH_HEADER)) {
		api_reply_json(job, status, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
		return;
	}
	struct html h;
	html_init(&h);
	ui_page_begin(&h, "Error", s, NULL);
	html_raw(&h, "<h1>Something went wrong</h1><p class=\"error\" role=\"alert\" "
	             "id=\"error\">");
	html_text(&h, msg);
	html_raw(&h, "</p><p><a href=\"/\">Back to the pipelines</a></p>");
	ui_page_end(&h);
	ui_reply_html(job, status, &h);
}

void ui_redirect(struct api_job *job, const char *location)
{
	if (job->answered)
		return;
	if (http_response_header(job->req, "Location", location) < 0) {
		api_reply_error(job, 400, HTTP_ERR_BAD_REQUEST, "bad redirect");
		return;
	}
	http_response_header(job->req, "Cache-Control", "no-store");
	api_job_answered(job);
	http_respond_bytes(job->req, 303, "text/plain; charset=utf-8", "", 0);
}

void ui_form_done(struct api_job *job, struct ui_session *s, const char *back, int rc,
                  const struct engine_err *err)
{
	const char *msg = rc < 0 && err && err->err.msg[0] ? err->err.msg : "the operation failed";
	if (api_header(job, UI_FETCH_HEADER)) {
		if (rc < 0)
			api_reply_json(job, engine_rc_http_status(rc),
			               json_pack("{s:b,s:s}", "ok", 0, "error", msg));
		else
			api_reply_json(job, 200, json_pack("{s:b}", "ok", 1));
		return;
	}
	if (rc < 0)
		ui_flash(s, msg);
	ui_redirect(job, back);
}

void ui_csrf_field(struct html *h, const struct ui_session *s)
{
	html_raw(h, "<input type=\"hidden\" name=\"csrf\"");
	html_attr(h, "value", s->csrf);
	html_raw(h, ">");
}

void ui_time(struct html *h, int64_t ms)
{
	if (ms <= 0) {
		html_raw(h, "—");
		return;
	}
	char iso[40];
	time_iso8601(ms, iso, sizeof iso);
	html_raw(h, "<time");
	html_attr(h, "datetime", iso);
	html_raw(h, ">");
	html_text(h, iso);
	html_raw(h, "</time>");
}

void ui_duration(int64_t ms, char *out, size_t n)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000) {
		snprintf(out, n, "%lld ms", (long long)ms);
		return;
	}
	long long s = (long long)(ms / 1000);
	if (s < 60)
		snprintf(out, n, "%lld s", s);
	else if (s < 3600)
		snprintf(out, n, "%lld min %lld s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, n, "%lld h %lld min", s / 3600, s / 60 % 60);
	else
		snprintf(out, n, "%lld d %lld h", s / 86400, s / 3600 % 24);
}

void ui_status_slug(const char *status, char *out, size_t n)
{
	size_t o = 0;
	for (const char *p = status ? status : "none"; *p && o + 1 < n; p++)
		if (isalpha((unsigned char)*p))
			out[o++] = (char)tolower((unsigned char)*p);
	out[o] = '\0';
	if (!o)
		snprintf(out, n, "none");
}

void ui_status(struct html *h, const char *status)
{
	char slug[32];
	ui_status_slug(status, slug, sizeof slug);
	html_rawf(h, "<span class=\"status status-%s\"", slug);
	html_attr(h, "data-status", status ? status : "None");
	html_raw(h, ">");
	html_text(h, status ? status : "Not run");
	html_raw(h, "</span>");
}

int64_t ui_json_ms(const json_t *v)
{
	if (!json_is_number(v))
		return 0;
	double ms = json_number_value(v) * 1000.0;
	return (int64_t)(ms < 0 ? ms - 0.5 : ms + 0.5);
}

const char *ui_jstr(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : def;
}
