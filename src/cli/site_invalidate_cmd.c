/*
 * site_invalidate_cmd.c — `ferry site invalidate` and `ferry site invalidations`: a
 * site's invalidations over the API (CloudFront's CreateInvalidation,
 * ListInvalidations, GetInvalidation). site_cmd.c dispatches here with argv[0] the
 * subcommand's name, as cli.h's commands get theirs.
 *
 * `invalidate` prints the new invalidation's id alone on stdout, so that
 * `ID=$(ferry site invalidate www /index.html)` captures it; its status goes to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage_invalidate[] =
        "usage: ferry site invalidate NAME PATH... [--caller-reference REF] [--json]\n"
        "                             [--data DIR] [--url URL]\n"
        "\n"
        "Removes the site's objects that match PATHs from the edge's cache (CloudFront's\n"
        "CreateInvalidation): /index.html is that object; a last * matches by prefix\n"
        "(/images/*, /app*); /* is everything. Quote wildcards from the shell.\n"
        "  --caller-reference REF  makes a retry safe: the same REF and PATHs give back\n"
        "                          the same invalidation; other PATHs are refused\n"
        "  --json                  print the invalidation as JSON\n"
        "Prints the invalidation's id.\n";

static const char usage_list[] =
        "usage: ferry site invalidations NAME [ID] [--json] [--data DIR] [--url URL]\n"
        "\n"
        "The site's invalidations, newest first; with ID, that one and its paths.\n";

static int invalidate(struct cli_client *c, const char *site, char **paths, size_t n,
                      const char *ref, int as_json)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_string(paths[i]));
	json_t *body = json_pack("{s:o}", "paths", list);
	if (ref)
		json_object_set_new(body, "callerReference", json_string(ref));
	char *path = cli_path("api", "sites", site, "invalidations", NULL);
	json_t *out = NULL;
	int rc = cli_call(c, &(struct cli_req){.method = "POST", .path = path, .json = body}, &out);
	if (rc == 0) {
		const json_t *inv = json_object_get(out, "invalidation");
		if (as_json) {
			cli_print_json(inv);
		} else {
			puts(cli_str(inv, "id") ? cli_str(inv, "id") : "");
			size_t np = json_array_size(json_object_get(inv, "paths"));
			fprintf(stderr, "ferry: invalidation %s of site %s: %zu path%s, %s\n",
			        cli_str(inv, "id"), site, np, np == 1 ? "" : "s",
			        cli_str(inv, "status"));
		}
	}
	json_decref(out);
	json_decref(body);
	free(path);
	return rc;
}

/* "/a, /b, /c (+2 more)" for a table cell. */
static char *paths_summary(const json_t *paths)
{
	struct buf b;
	buf_init(&b, CLI_TEXT_MAX);
	size_t i;
	const json_t *p;
	int rc = 0;
	json_array_foreach(paths, i, p)
	{
		if (i == 3) {
			rc |= buf_printf(&b, " (+%zu more)", json_array_size(paths) - 3);
			break;
		}
		rc |= buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(p));
	}
	(void)rc; /* past the cap the cell is cut, which a table can live with */
	return buf_detach(&b);
}

static int list(struct cli_client *c, const char *site, int as_json)
{
	char *path = cli_path("api", "sites", site, "invalidations", NULL);
	json_t *out = NULL;
	int rc = cli_list_call(c, path, as_json, &out);
	free(path);
	if (rc || !out)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 4);
	cli_table_row(&t, (const char *[]){"ID", "STATUS", "CREATED", "PATHS"});
	size_t i;
	const json_t *inv;
	json_array_foreach(json_object_get(out, "invalidations"), i, inv)
	{
		char created[32];
		cli_time(json_object_get(inv, "createTime"), created, sizeof created);
		char *paths = paths_summary(json_object_get(inv, "paths"));
		cli_table_row(&t, (const char *[]){cli_str(inv, "id"), cli_str(inv, "status"),
		                                   created, paths});
		free(paths);
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static int show(struct cli_client *c, const char *site, const char *id, int as_json)
{
	char *path = cli_path("api", "sites", site, "invalidations", id, NULL);
	json_t *out = NULL;
	int rc = cli_call(c, &(struct cli_req){.path = path}, &out);
	free(path);
	if (rc)
		return rc;
	const json_t *inv = json_object_get(out, "invalidation");
	if (as_json) {
		cli_print_json(inv);
	} else {
		char created[32];
		cli_time(json_object_get(inv, "createTime"), created, sizeof created);
		printf("id:                %s\n", cli_str(inv, "id"));
		printf("status:            %s\n", cli_str(inv, "status"));
		printf("created:           %s\n", created);
		printf("caller reference:  %s\n",
		       cli_str(inv, "callerReference") ? cli_str(inv, "callerReference") : "-");
		if (cli_str(inv, "purgeError"))
			printf("purge error:       %s\n", cli_str(inv, "purgeError"));
		printf("paths:\n");
		size_t i;
		const json_t *p;
		json_array_foreach(json_object_get(inv, "paths"), i, p)
		        printf("  %s\n", json_string_value(p));
	}
	json_decref(out);
	return 0;
}

/* Parses `ferry site invalidate|invalidations` (cmd): NAME comes first and must be
 * there. Returns -1 when the command goes on; else its exit status. */
static int parse(int argc, char **argv, const struct cli_opt *opts, size_t nopts, struct strv *pos,
                 const char *cmd, const char *usage)
{
	unsigned seen = 0;
	int rc = cli_parse(argc, argv, opts, nopts, pos, &seen, cmd, usage);
	if (rc < 0 && pos->n < 1)
		rc = cli_usage_error(cmd, usage, "missing NAME");
	return rc;
}

int cli_site_invalidate(int argc, char **argv)
{
	const char *data = NULL, *url = NULL, *ref = NULL;
	int as_json = 0;
	struct cli_opt opts[] = {
	        {"--data", "DIR", &data, NULL, NULL},
	        {"--url", "URL", &url, NULL, NULL},
	        {"--caller-reference", "REF", &ref, NULL, NULL},
	        {"--json", NULL, NULL, &as_json, NULL},
	};
	struct strv pos = STRV_INIT;
	int rc = parse(argc, argv, opts, sizeof opts / sizeof opts[0], &pos, "site invalidate",
	               usage_invalidate);
	if (rc < 0 && pos.n < 2) {
		rc = cli_usage_error("site invalidate", usage_invalidate,
		                     "missing PATH (e.g. /index.html or '/*')");
	} else if (rc < 0) {
		struct cli_client c;
		cli_client_init(&c, data, url);
		rc = invalidate(&c, pos.v[0], pos.v + 1, pos.n - 1, ref, as_json);
		cli_client_free(&c);
	}
	strv_free(&pos);
	return rc;
}

int cli_site_invalidations(int argc, char **argv)
{
	const char *data = NULL, *url = NULL;
	int as_json = 0;
	struct cli_opt opts[] = {
	        {"--data", "DIR", &data, NULL, NULL},
	        {"--url", "URL", &url, NULL, NULL},
	        {"--json", NULL, NULL, &as_json, NULL},
	};
	struct strv pos = STRV_INIT;
	int rc = parse(argc, argv, opts, sizeof opts / sizeof opts[0], &pos, "site invalidations",
	               usage_list);
	if (rc < 0 && pos.n > 2) {
		rc = cli_usage_error("site invalidations", usage_list, "unexpected argument \"%s\"",
		                     pos.v[2]);
	} else if (rc < 0) {
		struct cli_client c;
		cli_client_init(&c, data, url);
		rc = pos.n == 2 ? show(&c, pos.v[0], pos.v[1], as_json)
		                : list(&c, pos.v[0], as_json);
		cli_client_free(&c);
	}
	strv_free(&pos);
	return rc;
}
