/*
 * token_cmd.c — `ferry token create|list|revoke`: API tokens, over the API (an admin
 * token is needed). A new token is printed once, alone on stdout, so that
 * `T=$(ferry token create ci --scopes start)` captures it; the daemon keeps only its
 * hash and cannot show it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage[] =
        "usage: ferry token create NAME --scopes SCOPES [--data DIR] [--url URL]\n"
        "       ferry token list [--json]\n"
        "       ferry token revoke ID|NAME\n"
        "\n"
        "API tokens for scripts, CI jobs and hooks. Scopes (comma-separated):\n"
        "  read     see pipelines, executions, logs\n"
        "  start    read + start, retry and stop executions, hold transitions\n"
        "  approve  read + answer approvals\n"
        "  admin    everything, including pipelines' definitions and tokens\n"
        "A new token is printed once; keep it (ferry stores only its hash).\n";

static int create(struct cli_client *c, const char *name, const char *scopes)
{
	json_t *body = json_pack("{s:s,s:s}", "name", name, "scopes", scopes);
	json_t *out = NULL;
	int rc = cli_call(
	        c, &(struct cli_req){.method = "POST", .path = "/api/tokens", .json = body}, &out);
	if (rc == 0) {
		puts(cli_str(out, "token") ? cli_str(out, "token") : "");
		fprintf(stderr,
		        "ferry: token \"%s\" (id %s, scopes %s) created; it is shown only this "
		        "once\n",
		        cli_str(out, "name"), cli_str(out, "id"), cli_str(out, "scopes"));
	}
	json_decref(out);
	json_decref(body);
	return rc;
}

static int list(struct cli_client *c, int as_json)
{
	json_t *out = NULL;
	int rc = cli_call(c, &(struct cli_req){.path = "/api/tokens"}, &out);
	if (rc)
		return rc;
	if (as_json) {
		cli_print_json(out);
		json_decref(out);
		return 0;
	}
	struct cli_table t;
	cli_table_init(&t, 6);
	cli_table_row(&t,
	              (const char *[]){"ID", "NAME", "SCOPES", "CREATED", "LAST USED", "STATE"});
	const json_t *tok;
	size_t i;
	json_array_foreach(json_object_get(out, "tokens"), i, tok)
	{
		char created[32], used[32], revoked[48];
		cli_time(json_object_get(tok, "created"), created, sizeof created);
		cli_time(json_object_get(tok, "lastUsed"), used, sizeof used);
		const json_t *r = json_object_get(tok, "revoked");
		if (json_is_number(r)) {
			char when[32];
			cli_time(r, when, sizeof when);
			snprintf(revoked, sizeof revoked, "revoked %s", when);
		}
		cli_table_row(&t, (const char *[]){cli_str(tok, "id"), cli_str(tok, "name"),
		                                   cli_str(tok, "scopes"), created, used,
		                                   json_is_number(r) ? revoked : "live"});
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static int revoke(struct cli_client *c, const char *which)
{
	char *path = cli_path("api", "tokens", which, NULL);
	json_t *out = NULL;
	int rc = cli_call(c, &(struct cli_req){.method = "DELETE", .path = path}, &out);
	if (rc == 0)
		fprintf(stderr, "ferry: token \"%s\" (id %s) revoked\n", cli_str(out, "name"),
		        cli_str(out, "id"));
	json_decref(out);
	free(path);
	return rc;
}

int cli_token(int argc, char **argv)
{
	const char *data = NULL, *url = NULL, *scopes = NULL;
	int as_json = 0;
	struct cli_opt opts[] = {
	        {"--data", "DIR", &data, NULL, NULL},
	        {"--url", "URL", &url, NULL, NULL},
	        {"--scopes", "SCOPES", &scopes, NULL, NULL},
	        {"--json", NULL, NULL, &as_json, NULL},
	};
	struct strv pos = STRV_INIT;
	unsigned seen = 0;
	int rc = cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], &pos, &seen, "token",
	                   usage);
	const char *sub = pos.n ? pos.v[0] : NULL;
	if (rc >= 0)
		goto out;
	rc = 0;
	int is_create = sub && !strcmp(sub, "create"), is_list = sub && !strcmp(sub, "list");
	int is_revoke = sub && !strcmp(sub, "revoke");
	size_t want = is_list ? 1 : 2;
	if (!sub)
		rc = cli_usage_error("token", usage, "missing subcommand (create, list or revoke)");
	else if (!is_create && !is_list && !is_revoke)
		rc = cli_usage_error("token", usage, "unknown subcommand \"%s\"", sub);
	else if (pos.n < want)
		rc = cli_usage_error("token", usage, "%s needs %s", sub,
		                     is_create ? "a NAME" : "a token ID or NAME");
	else if (pos.n > want)
		rc = cli_usage_error("token", usage, "unexpected argument \"%s\"", pos.v[want]);
	else if (is_create && !scopes)
		rc = cli_usage_error("token", usage,
		                     "create needs --scopes (e.g. --scopes read,start)");
	else if (!is_create && scopes)
		rc = cli_usage_error("token", usage, "--scopes only goes with create");
	else if (!is_list && as_json)
		rc = cli_usage_error("token", usage, "--json only goes with list");
	if (rc)
		goto out;
	struct cli_client c;
	cli_client_init(&c, data, url);
	rc = is_create ? create(&c, pos.v[1], scopes)
	     : is_list ? list(&c, as_json)
	               : revoke(&c, pos.v[1]);
	cli_client_free(&c);
out:
	strv_free(&pos);
	return rc;
}
