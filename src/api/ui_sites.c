/*
 * ui_sites.c — the sites page (/sites: each site's releases with the live one marked,
 * a rollback button per older release, invalidations with their status) and the
 * functions page (/functions: versions, aliases, recent invocations with their logs).
 * The sites are one fragment (?fragment=sites answers only it): after a rollback, or a
 * pipeline's change, the page swaps it for the present state (app.js).
 */
#include "api/ui_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sites/site.h"
#include "store/functions.h"
#include "store/sites.h"

#define UI_RELEASES_SHOWN    10
#define UI_INVALIDATIONS     10
#define UI_INVOCATIONS_SHOWN 10
#define UI_FN_LOG_MAX        (16u << 10) /* the tail of an invocation's log shown */

static void site_releases(struct html *h, struct engine *e, const struct ui_session *s,
                          const char *site)
{
	struct store_release *r = NULL;
	size_t n = 0;
	struct err err;
	if (store_release_list(engine_store(e), site, &r, &n, &err) < 0) {
		html_raw(h, "<p class=\"error\">");
		html_text(h, err.msg);
		html_raw(h, "</p>");
		return;
	}
	html_raw(h, "<h3>Releases</h3><table class=\"releases\"><thead><tr><th scope=\"col\">#"
	            "</th><th scope=\"col\">Source</th><th scope=\"col\">Files</th><th "
	            "scope=\"col\">Created</th><th scope=\"col\"><span class=\"sr\">Action</span>"
	            "</th></tr></thead><tbody>");
	for (size_t i = 0; i < n && i < UI_RELEASES_SHOWN; i++) {
		html_rawf(h, "<tr data-release=\"%lld\"%s><td>%lld%s</td><td>",
		          (long long)r[i].number,
		          r[i].live ? " class=\"live\" data-live=\"true\"" : "",
		          (long long)r[i].number,
		          r[i].live ? " <span class=\"badge\">live</span>" : "");
		html_text(h, r[i].source);
		html_rawf(h, "</td><td>%lld files, %lld bytes</td><td>", (long long)r[i].files,
		          (long long)r[i].bytes);
		ui_time(h, r[i].created_ms);
		html_raw(h, "</td><td>");
		if (!r[i].live && ui_can(s, STORE_SCOPE_START)) {
			html_raw(h, "<form method=\"post\" class=\"inline\" action=\"/ui/sites/");
			html_url(h, site);
			html_raw(h, "/rollback\">");
			ui_csrf_field(h, s);
			html_rawf(h,
			          "<input type=\"hidden\" name=\"to\" value=\"%lld\"><button "
			          "type=\"submit\" data-action=\"rollback\">Roll back to "
			          "%lld</button>"
			          "</form>",
			          (long long)r[i].number, (long long)r[i].number);
		}
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table>");
	store_release_list_free(r, n);
}

static void site_invalidations(struct html *h, struct engine *e, const char *site)
{
	struct store_invalidation *v = NULL;
	size_t n = 0;
	struct err err;
	if (store_invalidation_list(engine_store(e), site, &v, &n, &err) < 0 || !n) {
		html_raw(h, "<p class=\"muted\">No invalidations.</p>");
		return;
	}
	html_raw(h, "<h3>Invalidations</h3><ul class=\"invalidations\">");
	for (size_t i = 0; i < n && i < UI_INVALIDATIONS; i++) {
		html_raw(h, "<li");
		html_attr(h, "data-invalidation", v[i].id);
		html_raw(h, "><code>");
		html_text(h, v[i].id);
		html_raw(h, "</code> ");
		ui_status(h, v[i].status);
		html_raw(h, " <code>");
		html_text(h, v[i].paths);
		html_raw(h, "</code> ");
		ui_time(h, v[i].created_ms);
		if (v[i].purge_error) {
			html_raw(h, " <span class=\"error\">");
			html_text(h, v[i].purge_error);
			html_raw(h, "</span>");
		}
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
	store_invalidation_list_free(v, n);
}

static void sites_fragment(struct html *h, struct engine *e, const struct ui_session *s,
                           const struct store_site *sites, size_t n)
{
	html_raw(h, "<div id=\"frag-sites\" data-fragment=\"/sites?fragment=sites\">");
	if (!n)
		html_raw(h, "<p class=\"muted\">No sites yet: <code>ferry site create NAME</code>."
		            "</p>");
	for (size_t i = 0; i < n; i++) {
		html_raw(h, "<section class=\"site\"");
		html_attr(h, "data-site", sites[i].name);
		html_raw(h, "><h2>");
		html_text(h, sites[i].name);
		html_raw(h, "</h2><p class=\"muted\">");
		if (sites[i].host) {
			html_raw(h, "Host ");
			html_text(h, sites[i].host);
			html_raw(h, ", and ");
		}
		html_raw(h, "path /");
		html_text(h, sites[i].name);
		html_raw(h, "/ on the edge</p>");
		site_releases(h, e, s, sites[i].name);
		site_invalidations(h, e, sites[i].name);
		html_raw(h, "</section>");
	}
	html_raw(h, "</div>");
}

void ui_page_sites(struct api_job *job)
{
	struct ui_session *s = ui_need(job);
	if (!s)
		return;
	struct store_site *sites = NULL;
	size_t n = 0;
	struct err err;
	if (store_site_list(engine_store(job->e), &sites, &n, &err) < 0) {
		ui_reply_error(job, s, 500, err.msg);
		return;
	}
	struct html h;
	html_init(&h);
	if (api_query(job, "fragment")) {
		sites_fragment(&h, job->e, s, sites, n);
	} else {
		ui_page_begin(&h, "Sites", s, "sites");
		html_raw(&h, "<h1>Sites</h1>");
		sites_fragment(&h, job->e, s, sites, n);
		ui_page_end(&h);
	}
	ui_reply_html(job, 200, &h);
	store_site_list_free(sites, n);
}

void ui_post_rollback(struct api_job *job)
{
	struct ui_session *s = ui_need_post(job, STORE_SCOPE_START);
	if (!s)
		return;
	char *to = ui_form(job, "to");
	char *end = NULL;
	long long number = to ? strtoll(to, &end, 10) : 0;
	struct engine_err err = {0};
	int rc = 0;
	if (!to || !*to || *end || number < 1) {
		rc = ui_fail(&err, "rollback: the release number (form field \"to\") is missing");
	} else {
		int64_t made = 0;
		if (site_rollback(engine_store(job->e), engine_data_dir(job->e),
		                  api_param(job, "name"), number, &made, &err.err) != 0)
			rc = ENGINE_ECONFLICT;
	}
	free(to);
	ui_form_done(job, s, "/sites", rc, &err);
}

/* ---- functions ---- */

static void invocation_log(struct html *h, const char *path)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		html_raw(h, "<p class=\"muted\">No log.</p>");
		return;
	}
	off_t from = st.st_size > (off_t)UI_FN_LOG_MAX ? st.st_size - (off_t)UI_FN_LOG_MAX : 0;
	char *buf = xmalloc(UI_FN_LOG_MAX);
	ssize_t n = pread(fd, buf, UI_FN_LOG_MAX, from);
	close(fd);
	struct ui_ansi a;
	ui_ansi_init(&a);
	struct buf out;
	buf_init(&out, 8 * UI_FN_LOG_MAX);
	html_raw(h, "<details class=\"log\"><summary>Log</summary><pre class=\"log-pane\">");
	if (n > 0 && ui_ansi_feed(&a, buf, (size_t)n, &out) == 0 && ui_ansi_end(&a, &out) == 0)
		html_rawn(h, out.data, out.len);
	html_raw(h, "</pre></details>");
	buf_free(&out);
	free(buf);
}

static void function_box(struct html *h, struct store *st, const struct store_fn *f)
{
	struct err err;
	html_raw(h, "<section class=\"function\"");
	html_attr(h, "data-function", f->name);
	html_raw(h, "><h2>");
	html_text(h, f->name);
	html_raw(h, "</h2><p class=\"muted\">");
	html_text(h, f->runtime);
	html_raw(h, " · ");
	html_text(h, f->handler);
	html_rawf(h, " · %d s, %d MB</p>", f->timeout, f->memory);
	struct store_fn *v = NULL;
	size_t nv = 0;
	html_raw(h, "<h3>Versions</h3>");
	if (store_fn_versions(st, f->name, &v, &nv, &err) < 0) {
		html_raw(h, "<p class=\"error\">");
		html_text(h, err.msg);
		html_raw(h, "</p>");
	} else {
		if (!nv)
			html_raw(h, "<p class=\"muted\">None published: only <code>$LATEST</code> "
			            "(<code>ferry fn publish</code>).</p>");
		html_raw(h, "<ul class=\"versions\">");
		for (size_t i = 0; i < nv; i++) {
			html_raw(h, "<li><code>");
			html_text(h, v[i].version);
			html_raw(h, "</code> ");
			html_text(h, v[i].description);
			html_raw(h, " ");
			ui_time(h, v[i].modified_ms);
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
		store_fn_list_free(v, nv);
	}
	struct store_alias *al = NULL;
	size_t na = 0;
	if (store_alias_list(st, f->name, &al, &na, &err) == 0 && na) {
		html_raw(h, "<h3>Aliases</h3><ul class=\"aliases\">");
		for (size_t i = 0; i < na; i++) {
			html_raw(h, "<li><code>");
			html_text(h, al[i].name);
			html_raw(h, "</code> → version ");
			html_text(h, al[i].version);
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
	}
	store_alias_list_free(al, na);
	struct store_invocation *inv = NULL;
	size_t ni = 0;
	if (store_invocation_list(st, f->name, UI_INVOCATIONS_SHOWN, &inv, &ni, &err) == 0) {
		html_raw(h, "<h3>Recent invocations</h3>");
		if (!ni)
			html_raw(h, "<p class=\"muted\">None.</p>");
		html_raw(h, "<ul class=\"invocations\">");
		for (size_t i = 0; i < ni; i++) {
			char dur[48];
			ui_duration(inv[i].duration_ms, dur, sizeof dur);
			html_raw(h, "<li");
			html_attr(h, "data-request", inv[i].request_id);
			html_raw(h, "><code>");
			html_text(h, inv[i].request_id);
			html_raw(h, "</code> ");
			ui_status(h, inv[i].status);
			html_raw(h, " version ");
			html_text(h, inv[i].version);
			html_raw(h, " · ");
			html_text(h, dur);
			html_raw(h, " · ");
			ui_time(h, inv[i].started_ms);
			invocation_log(h, inv[i].log_path);
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
		store_invocation_list_free(inv, ni);
	}
	html_raw(h, "</section>");
}

void ui_page_functions(struct api_job *job)
{
	struct ui_session *s = ui_need(job);
	if (!s)
		return;
	struct store_fn *fns = NULL;
	size_t n = 0;
	struct err err;
	if (store_fn_list(engine_store(job->e), &fns, &n, &err) < 0) {
		ui_reply_error(job, s, 500, err.msg);
		return;
	}
	struct html h;
	html_init(&h);
	ui_page_begin(&h, "Functions", s, "functions");
	html_raw(&h, "<h1>Functions</h1>");
	if (!n)
		html_raw(&h,
		         "<p class=\"muted\">No functions yet: <code>ferry fn create</code>.</p>");
	for (size_t i = 0; i < n; i++)
		function_box(&h, engine_store(job->e), &fns[i]);
	ui_page_end(&h);
	ui_reply_html(job, 200, &h);
	store_fn_list_free(fns, n);
}
