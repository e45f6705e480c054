/*
 * site_purge_cmd.c — `ferry site purge-target add|remove|list NAME [KIND=URL]`: the
 * caches in front of the edge (Varnish) that a site's invalidations are sent to
 * (sites/purge.h), over /api/sites/{name}/purge-targets. site_cmd.c dispatches here
 * with argv[0] "purge-target".
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage[] =
        "usage: ferry site purge-target add NAME KIND=URL [--data DIR] [--url URL]\n"
        "       ferry site purge-target remove NAME KIND=URL\n"
        "       ferry site purge-target list NAME [--json]\n"
        "\n"
        "A purge target is a cache in front of the edge that every invalidation of the\n"
        "site is sent to: KIND is varnish, URL its address on the loopback, e.g.\n"
        "varnish=http://127.0.0.1:6081. Exact paths are sent as PURGE, wildcards as BAN\n"
        "with an X-Ferry-Ban header (see contrib/varnish/ferry.vcl); the invalidation is\n"
        "Completed once every target answered.\n";

/* "varnish=http://..." split at its '='; -1 after printing why. */
static int split(const char *spec, char *kind, size_t size, const char **url)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || (size_t)(eq - spec) >= size) {
		cli_usage_error("site purge-target", usage,
		                "\"%s\": expected KIND=URL, e.g. varnish=http://127.0.0.1:6081",
		                spec);
		return -1;
	}
	snprintf(kind, size, "%.*s", (int)(eq - spec), spec);
	*url = eq + 1;
	return 0;
}

static int add(struct cli_client *c, const char *site, const char *spec)
{
	char kind[32];
	const char *url = NULL;
	if (split(spec, kind, sizeof kind, &url) < 0)
		return 2;
	json_t *body = json_pack("{s:s, s:s}", "kind", kind, "url", url);
	char *path = cli_path("api", "sites", site, "purge-targets", NULL);
	json_t *out = NULL;
	int rc = cli_call(c, &(struct cli_req){.method = "POST", .path = path, .json = body}, &out);
	if (rc == 0)
		fprintf(stderr, "ferry: site %s: invalidations are now sent to %s %s\n", site,
		        cli_str(out, "kind"), cli_str(out, "url"));
	json_decref(out);
	json_decref(body);
	free(path);
	return rc;
}

static int remove_target(struct cli_client *c, const char *site, const char *spec)
{
	char kind[32];
	const char *url = NULL;
	if (split(spec, kind, sizeof kind, &url) < 0)
		return 2;
	char *base = cli_path("api", "sites", site, "purge-targets", NULL);
	char *k = cli_escape(kind), *u = cli_escape(url);
	char *path = xasprintf("%s?kind=%s&url=%s", base, k, u);
	json_t *out = NULL;
	int rc = cli_call(c, &(struct cli_req){.method = "DELETE", .path = path}, &out);
	if (rc == 0)
		fprintf(stderr, "ferry: site %s: %s %s removed\n", site, kind, url);
	json_decref(out);
	free(path);
	free(k);
	free(u);
	free(base);
	return rc;
}

static int list(struct cli_client *c, const char *site, int as_json)
{
	char *path = cli_path("api", "sites", site, "purge-targets", NULL);
	json_t *out = NULL;
	int rc = cli_list_call(c, path, as_json, &out);
	free(path);
	if (rc || !out)
		return rc;
	size_t i;
	const json_t *t;
	json_array_foreach(json_object_get(out, "purgeTargets"), i, t)
	        printf("%s=%s\n", cli_str(t, "kind"), cli_str(t, "url"));
	json_decref(out);
	return 0;
}

int cli_site_purge_target(int argc, char **argv)
{
	const char *data = NULL, *url = NULL;
	int as_json = 0;
	struct cli_opt opts[] = {
	        {"--data", "DIR", &data, NULL, NULL},
	        {"--url", "URL", &url, NULL, NULL},
	        {"--json", NULL, NULL, &as_json, NULL},
	};
	struct strv pos = STRV_INIT;
	unsigned seen = 0;
	int rc = cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], &pos, &seen,
	                   "site purge-target", usage);
	if (rc >= 0)
		goto out;
	const char *sub = pos.n ? pos.v[0] : "";
	bool is_list = !strcmp(sub, "list");
	if (strcmp(sub, "add") && strcmp(sub, "remove") && !is_list) {
		rc = cli_usage_error("site purge-target", usage, "expected add, remove or list");
	} else if (pos.n != (is_list ? 2u : 3u)) {
		rc = cli_usage_error("site purge-target", usage, "%s: expected NAME%s", sub,
		                     is_list ? "" : " KIND=URL");
	} else {
		struct cli_client c;
		cli_client_init(&c, data, url);
		rc = is_list               ? list(&c, pos.v[1], as_json)
		     : !strcmp(sub, "add") ? add(&c, pos.v[1], pos.v[2])
		                           : remove_target(&c, pos.v[1], pos.v[2]);
		cli_client_free(&c);
	}
out:
	strv_free(&pos);
	return rc;
}
