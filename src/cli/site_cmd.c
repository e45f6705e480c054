/*
 * site_cmd.c — `ferry site`: static sites and their releases, over the daemon's API
 * (/api/sites, docs/api.md). `invalidate` and `invalidations` are handed to
 * cli/site_invalidate_cmd.c untouched, flags included.
 *
 * `deploy NAME DIR` zips the directory here and sends the zip: the daemon takes the
 * same input a pipeline's S3 Deploy action gets, and checks it the same way.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/output.h"
#include "util/fs.h"
#include "util/zipdir.h"

#define SITE_UPLOAD_MAX (256u << 20) /* the API's cap on a deploy's zip */

static const char usage[] =
        "usage: ferry site SUBCOMMAND ... [--data DIR] [--url URL]\n"
        "\n"
        "  create NAME [SETTINGS]       a site (NAME: 3-63 of a-z 0-9 . -, as an S3 bucket)\n"
        "  update NAME [SETTINGS]       change the settings given\n"
        "  list [--json]                every site and its live release\n"
        "  get NAME [--json]            one site's settings\n"
        "  delete NAME                  delete a site and every release\n"
        "  releases NAME [--json]       its kept releases, newest first\n"
        "  rollback NAME [--to N]       make release N (default: the one before the live\n"
        "                               one) live again, as a new release\n"
        "  deploy NAME DIR_OR_ZIP [--path PREFIX] [--cache-control VALUE]\n"
        "                               publish files as a new release (objects not in it\n"
        "                               are kept, as an S3 deploy keeps them)\n"
        "  invalidate NAME PATH...      drop cached objects (ferry site invalidate --help)\n"
        "  invalidations NAME           recent invalidations\n"
        "  purge-target add|remove|list NAME [KIND=URL]\n"
        "                               caches in front of the edge that invalidations\n"
        "                               are sent to (ferry site purge-target --help)\n"
        "\n"
        "SETTINGS:\n"
        "  --host HOST        the Host header the edge serves it on (else /NAME/ only)\n"
        "  --index FILE       index document (default index.html)\n"
        "  --error FILE       page for 404 answers\n"
        "  --spa / --no-spa   unknown paths without an extension get the index document\n"
        "  --keep N           releases kept for rollback (default 5)\n"
        "  --cached / --immediate\n"
        "                     cached: like CloudFront, a deploy shows once cached objects\n"
        "                     expire or are invalidated; immediate (default): at once\n"
        "  --ttl SECONDS      how long the edge caches an object without Cache-Control\n"
        "  --purge KIND=URL   (create) send invalidations to this cache too, e.g.\n"
        "                     varnish=http://127.0.0.1:6081 (loopback only)\n"
        "\n"
        "  --data DIR   data directory: its daemon.url and admin.token are used\n"
        "  --url URL    the daemon (default: $FERRY_URL, else DIR/daemon.url)\n";

enum {
	SO_DATA,
	SO_URL,
	SO_JSON,
	SO_HOST,
	SO_INDEX,
	SO_ERROR,
	SO_SPA,
	SO_NO_SPA,
	SO_KEEP,
	SO_CACHED,
	SO_IMMEDIATE,
	SO_TTL,
	SO_TO,
	SO_PATH,
	SO_CACHE_CONTROL,
	SO_PURGE,
	SO_COUNT,
};

struct site_args {
	const char *host, *index, *error, *keep, *ttl, *to, *path, *cache_control, *purge;
	const char *data, *url;
	int json, spa, no_spa, cached, immediate;
	unsigned seen;
	struct strv pos; /* after the subcommand */
	struct cli_client c;
};

#define B(o) (1u << (o))
#define SETTINGS                                                                                   \
	(B(SO_HOST) | B(SO_INDEX) | B(SO_ERROR) | B(SO_SPA) | B(SO_NO_SPA) | B(SO_KEEP) |          \
	 B(SO_CACHED) | B(SO_IMMEDIATE) | B(SO_TTL))

static char *site_path(const char *name, const char *tail)
{
	return cli_path("api", "sites", name, tail, NULL);
}

/* ---- settings ---- */

/* The settings given, as the API's body; NULL after printing why (exit 2). */
static json_t *settings_body(const struct site_args *a, const char *sub)
{
	char cmd[32];
	snprintf(cmd, sizeof cmd, "site %s", sub);
	json_t *o = json_object();
	long keep = 0, ttl = 0;
	if (a->keep && cli_int(a->keep, 1, 100, &keep) < 0) {
		cli_usage_error(cmd, usage, "--keep: \"%s\" is not a number from 1 to 100",
		                a->keep);
		goto fail;
	}
	if (a->ttl && cli_int(a->ttl, 0, 365L * 24 * 3600, &ttl) < 0) {
		cli_usage_error(cmd, usage,
		                "--ttl: \"%s\" is not a number of seconds (0 to a year)", a->ttl);
		goto fail;
	}
	if ((a->spa && a->no_spa) || (a->cached && a->immediate)) {
		cli_usage_error(cmd, usage, "%s",
		                a->spa && a->no_spa ? "--spa and --no-spa contradict each other"
		                                    : "--cached and --immediate contradict "
		                                      "each other");
		goto fail;
	}
	if (a->host)
		json_object_set_new(o, "host", json_string(a->host));
	if (a->index)
		json_object_set_new(o, "indexDocument", json_string(a->index));
	if (a->error)
		json_object_set_new(o, "errorDocument", json_string(a->error));
	if (a->spa || a->no_spa)
		json_object_set_new(o, "spa", json_boolean(a->spa));
	if (a->keep)
		json_object_set_new(o, "keep", json_integer(keep));
	if (a->cached || a->immediate)
		json_object_set_new(o, "visibility",
		                    json_string(a->cached ? "cached" : "immediate"));
	if (a->ttl)
		json_object_set_new(o, "defaultTtl", json_integer(ttl));
	return o;
fail:
	json_decref(o);
	return NULL;
}

static void print_site(const json_t *s)
{
	char created[32], ttl[32];
	cli_time(json_object_get(s, "created"), created, sizeof created);
	snprintf(ttl, sizeof ttl, "%lld s",
	         (long long)json_integer_value(json_object_get(s, "defaultTtl")));
	const json_t *live = json_object_get(s, "liveRelease");
	char live_text[32] = "none";
	if (json_is_integer(live))
		snprintf(live_text, sizeof live_text, "%lld", (long long)json_integer_value(live));
	printf("name:        %s\n", cli_str(s, "name"));
	printf("host:        %s\n",
	       cli_str(s, "host") ? cli_str(s, "host") : "- (path /NAME/ only)");
	printf("index:       %s\n", cli_str(s, "indexDocument"));
	printf("error page:  %s\n",
	       cli_str(s, "errorDocument") ? cli_str(s, "errorDocument") : "-");
	printf("spa:         %s\n", json_is_true(json_object_get(s, "spa")) ? "yes" : "no");
	printf("keep:        %lld releases\n",
	       (long long)json_integer_value(json_object_get(s, "keep")));
	printf("visibility:  %s (default TTL %s)\n", cli_str(s, "visibility"), ttl);
	if (json_object_get(s, "liveRelease"))
		printf("live:        %s\n", live_text);
	printf("created:     %s\n", created);
}

static int create(struct site_args *a)
{
	json_t *body = settings_body(a, "create");
	if (!body)
		return 2;
	json_object_set_new(body, "name", json_string(a->pos.v[0]));
	if (a->purge)
		json_object_set_new(body, "purgeTargets", json_pack("[s]", a->purge));
	json_t *out = NULL;
	int rc = cli_call(&a->c,
	                  &(struct cli_req){.method = "POST", .path = "/api/sites", .json = body},
	                  &out);
	if (rc == 0) {
		fprintf(stderr,
		        "ferry: site \"%s\" created; deploy to it with `ferry site deploy %s "
		        "DIR` or a pipeline's S3 Deploy action (BucketName: %s)\n",
		        cli_str(out, "name"), cli_str(out, "name"), cli_str(out, "name"));
		a->json ? cli_print_json(out) : print_site(out);
	}
	json_decref(out);
	json_decref(body);
	return rc;
}

static int update(struct site_args *a)
{
	json_t *body = settings_body(a, "update");
	if (!body)
		return 2;
	if (json_object_size(body) == 0) {
		json_decref(body);
		return cli_usage_error("site update", usage, "nothing to change (give a SETTING)");
	}
	char *path = site_path(a->pos.v[0], NULL);
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.method = "PUT", .path = path, .json = body},
	                  &out);
	if (rc == 0)
		a->json ? cli_print_json(out) : print_site(out);
	json_decref(out);
	json_decref(body);
	free(path);
	return rc;
}

static int get(struct site_args *a)
{
	char *path = site_path(a->pos.v[0], NULL);
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.path = path}, &out);
	if (rc == 0)
		a->json ? cli_print_json(out) : print_site(out);
	json_decref(out);
	free(path);
	return rc;
}

static int list(struct site_args *a)
{
	json_t *out = NULL;
	int rc = cli_list_call(&a->c, "/api/sites", a->json, &out);
	if (rc || !out)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, (const char *[]){"NAME", "HOST", "LIVE", "KEEP", "VISIBILITY"});
	const json_t *s;
	size_t i;
	json_array_foreach(json_object_get(out, "sites"), i, s)
	{
		char live[24] = "-", keep[24];
		if (json_is_integer(json_object_get(s, "liveRelease")))
			snprintf(live, sizeof live, "%lld",
			         (long long)json_integer_value(json_object_get(s, "liveRelease")));
		snprintf(keep, sizeof keep, "%lld",
		         (long long)json_integer_value(json_object_get(s, "keep")));
		cli_table_row(&t, (const char *[]){cli_str(s, "name"), cli_str(s, "host"), live,
		                                   keep, cli_str(s, "visibility")});
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static int delete_site(struct site_args *a)
{
	char *path = site_path(a->pos.v[0], NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.method = "DELETE", .path = path}, NULL);
	if (rc == 0)
		fprintf(stderr, "ferry: site \"%s\" deleted, with every release\n", a->pos.v[0]);
	free(path);
	return rc;
}

static int releases(struct site_args *a)
{
	char *path = site_path(a->pos.v[0], "releases");
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.path = path}, &out);
	free(path);
	if (rc)
		return rc;
	if (a->json) {
		cli_print_json(out);
		json_decref(out);
		return 0;
	}
	struct cli_table t;
	cli_table_init(&t, 7);
	cli_table_row(&t, (const char *[]){"RELEASE", "LIVE", "CREATED", "FILES", "SIZE",
	                                   "REVISION", "SOURCE"});
	const json_t *r;
	size_t i;
	json_array_foreach(json_object_get(out, "releases"), i, r)
	{
		char num[24], created[32], files[24], size[32], rev[16] = "-";
		snprintf(num, sizeof num, "%lld",
		         (long long)json_integer_value(json_object_get(r, "number")));
		cli_time(json_object_get(r, "created"), created, sizeof created);
		snprintf(files, sizeof files, "%lld",
		         (long long)json_integer_value(json_object_get(r, "files")));
		cli_size(json_integer_value(json_object_get(r, "bytes")), size, sizeof size);
		if (cli_str(r, "revision"))
			snprintf(rev, sizeof rev, "%.12s", cli_str(r, "revision"));
		cli_table_row(
		        &t, (const char *[]){num,
		                             json_is_true(json_object_get(r, "live")) ? "live" : "",
		                             created, files, size, rev, cli_str(r, "source")});
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static int rollback(struct site_args *a)
{
	long to = 0;
	if (a->to && cli_int(a->to, 1, 2000000000, &to) < 0)
		return cli_usage_error("site rollback", usage,
		                       "--to: \"%s\" is not a release number", a->to);
	json_t *body = to ? json_pack("{s:I}", "to", (json_int_t)to) : json_object();
	char *path = site_path(a->pos.v[0], "rollback");
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.method = "POST", .path = path, .json = body},
	                  &out);
	if (rc == 0)
		printf("site %s: %s, live as release %lld\n", a->pos.v[0], cli_str(out, "source"),
		       (long long)json_integer_value(json_object_get(out, "number")));
	json_decref(out);
	json_decref(body);
	free(path);
	return rc;
}

/* ---- deploy ---- */

static int deploy(struct site_args *a)
{
	char *base = site_path(a->pos.v[0], "releases");
	char *p = a->path ? cli_escape(a->path) : NULL;
	char *cc = a->cache_control ? cli_escape(a->cache_control) : NULL;
	char *path = xasprintf("%s?path=%s&cacheControl=%s", base, p ? p : "", cc ? cc : "");
	json_t *out = NULL;
	/* files keep their mtime: a release serves it as Last-Modified */
	int rc = cli_post_upload(&a->c, path, a->pos.v[1], ZIPDIR_KEEP_MTIME | ZIPDIR_SKIP_LINKS,
	                         SITE_UPLOAD_MAX, &out);
	if (rc == 0)
		printf("Deployed release %lld of site %s (%lld files)\n",
		       (long long)json_integer_value(json_object_get(out, "number")), a->pos.v[0],
		       (long long)json_integer_value(json_object_get(out, "files")));
	json_decref(out);
	free(path);
	free(p);
	free(cc);
	free(base);
	return rc;
}

/* ---- dispatch ---- */

static const struct sub {
	struct cli_sub h; /* first */
	int (*run)(struct site_args *);
} subs[] = {
        {{"create", 1, 1, SETTINGS | B(SO_JSON) | B(SO_PURGE), "NAME"}, create},
        {{"update", 1, 1, SETTINGS | B(SO_JSON), "NAME"}, update},
        {{"list", 0, 0, B(SO_JSON), ""}, list},
        {{"get", 1, 1, B(SO_JSON), "NAME"}, get},
        {{"delete", 1, 1, 0, "NAME"}, delete_site},
        {{"releases", 1, 1, B(SO_JSON), "NAME"}, releases},
        {{"rollback", 1, 1, B(SO_TO), "NAME"}, rollback},
        {{"deploy", 2, 2, B(SO_PATH) | B(SO_CACHE_CONTROL), "NAME DIR_OR_ZIP"}, deploy},
};

int cli_site(int argc, char **argv)
{
	/* these two parse their own flags */
	if (argc >= 2 && !strcmp(argv[1], "invalidate"))
		return cli_site_invalidate(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "invalidations"))
		return cli_site_invalidations(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "purge-target"))
		return cli_site_purge_target(argc - 1, argv + 1);
	struct site_args a = {0};
	struct cli_opt opts[SO_COUNT] = {
	        [SO_DATA] = {"--data", "DIR", &a.data, NULL, NULL},
	        [SO_URL] = {"--url", "URL", &a.url, NULL, NULL},
	        [SO_JSON] = {"--json", NULL, NULL, &a.json, NULL},
	        [SO_HOST] = {"--host", "HOST", &a.host, NULL, NULL},
	        [SO_INDEX] = {"--index", "FILE", &a.index, NULL, NULL},
	        [SO_ERROR] = {"--error", "FILE", &a.error, NULL, NULL},
	        [SO_SPA] = {"--spa", NULL, NULL, &a.spa, NULL},
	        [SO_NO_SPA] = {"--no-spa", NULL, NULL, &a.no_spa, NULL},
	        [SO_KEEP] = {"--keep", "N", &a.keep, NULL, NULL},
	        [SO_CACHED] = {"--cached", NULL, NULL, &a.cached, NULL},
	        [SO_IMMEDIATE] = {"--immediate", NULL, NULL, &a.immediate, NULL},
	        [SO_TTL] = {"--ttl", "SECONDS", &a.ttl, NULL, NULL},
	        [SO_TO] = {"--to", "N", &a.to, NULL, NULL},
	        [SO_PATH] = {"--path", "PREFIX", &a.path, NULL, NULL},
	        [SO_CACHE_CONTROL] = {"--cache-control", "VALUE", &a.cache_control, NULL, NULL},
	        [SO_PURGE] = {"--purge", "KIND=URL", &a.purge, NULL, NULL},
	};
	const struct cli_cmd cmd = {.name = "site",
	                            .usage = usage,
	                            .opts = opts,
	                            .nopts = SO_COUNT,
	                            .always = B(SO_DATA) | B(SO_URL),
	                            .subs = subs,
	                            .nsubs = sizeof subs / sizeof subs[0],
	                            .sub_size = sizeof subs[0],
	                            .missing_all = 1};
	const struct cli_sub *s = NULL;
	int rc = cli_sub_args(&cmd, argc, argv, &a.pos, &a.seen, &s);
	if (rc < 0) {
		cli_client_init(&a.c, a.data, a.url);
		rc = ((const struct sub *)s)->run(&a);
		cli_client_free(&a.c);
	}
	strv_free(&a.pos);
	return rc;
}
