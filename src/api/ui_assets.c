/*
 * ui_assets.c — the web UI's stylesheet and script (web/app.css, web/app.js), embedded
 * in the binary with the assembler's .incbin (nothing is fetched from elsewhere; the
 * pages work offline). The Makefile makes this object depend on the two files.
 */
#include "api/ui_int.h"

#include <stdint.h>

__asm__(".section .rodata\n"
        ".global ui_asset_css\n"
        ".type ui_asset_css, @object\n"
        "ui_asset_css:\n"
        ".incbin \"web/app.css\"\n"
        "ui_asset_css_end:\n"
        ".byte 0\n"
        ".global ui_asset_js\n"
        ".type ui_asset_js, @object\n"
        "ui_asset_js:\n"
        ".incbin \"web/app.js\"\n"
        "ui_asset_js_end:\n"
        ".byte 0\n"
        ".balign 8\n"
        ".global ui_asset_css_len\n"
        "ui_asset_css_len:\n"
        ".quad ui_asset_css_end - ui_asset_css\n"
        ".global ui_asset_js_len\n"
        "ui_asset_js_len:\n"
        ".quad ui_asset_js_end - ui_asset_js\n"
        ".text\n");

extern const char ui_asset_css[], ui_asset_js[];
extern const uint64_t ui_asset_css_len, ui_asset_js_len;

static void asset(struct api_job *job, const char *type, const char *data, uint64_t len)
{
	/* public (the login page needs them) and the same for everybody */
	http_response_header(job->req, "Cache-Control", "public, max-age=300");
	http_response_header(job->req, "X-Content-Type-Options", "nosniff");
	api_job_answered(job);
	http_respond_bytes(job->req, 200, type, data, (size_t)len);
}

void ui_get_css(struct api_job *job)
{
	asset(job, "text/css; charset=utf-8", ui_asset_css, ui_asset_css_len);
}

void ui_get_js(struct api_job *job)
{
	asset(job, "text/javascript; charset=utf-8", ui_asset_js, ui_asset_js_len);
}
