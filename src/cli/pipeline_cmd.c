/*
 * pipeline_cmd.c — `ferry pipeline`: the dispatcher (which subcommand takes which
 * arguments and options), and the declarations' subcommands: create, update, get,
 * list, delete, webhook-secret. Everything goes through the daemon's API.
 */
#include "cli/pipeline_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "spec/pipeline.h"
#include "util/fs.h"

static const char usage[] =
        "usage: ferry pipeline SUBCOMMAND ... [--data DIR] [--url URL]\n"
        "\n"
        "  create FILE [--no-start]     create a pipeline from a declaration (JSON or YAML,\n"
        "                               docs/pipeline.md); it runs once unless --no-start\n"
        "  update FILE                  replace a pipeline's declaration (version + 1)\n"
        "  get NAME [--version N] [--json]\n"
        "                               print the declaration (--json: with its metadata)\n"
        "  list [--json]                every pipeline\n"
        "  delete NAME                  delete a pipeline and its history\n"
        "  start NAME [--commit SHA] [--var NAME=VALUE]...\n"
        "                               start an execution; prints its id\n"
        "  state NAME [--json]          each stage: its actions and latest execution\n"
        "  executions NAME [--max N] [--json]\n"
        "                               recent executions, newest first\n"
        "  execution NAME ID [--json]   one execution and its actions\n"
        "  retry NAME STAGE EXECUTION [--all]\n"
        "                               run a failed stage's failed actions again (--all:\n"
        "                               every action of the stage)\n"
        "  stop NAME EXECUTION [--abandon] [--reason TEXT]\n"
        "                               stop after the running actions (--abandon: now)\n"
        "  disable-transition NAME STAGE --reason TEXT [--outbound]\n"
        "  enable-transition NAME STAGE [--outbound]\n"
        "                               hold executions before STAGE (--outbound: after it)\n"
        "  approve NAME STAGE ACTION [--comment TEXT] [--token T]\n"
        "  reject NAME STAGE ACTION --comment TEXT [--token T]\n"
        "                               answer a waiting Manual approval (the token of\n"
        "                               the latest execution unless --token)\n"
        "  triggers NAME [--max N] [--json]\n"
        "                               recent pushes and deliveries, and what they started\n"
        "  webhook-secret NAME [--rotate]\n"
        "                               the secret a forge signs webhooks with (--rotate:\n"
        "                               replace it)\n"
        "\n"
        "  --data DIR   data directory: its daemon.url and admin.token are used\n"
        "  --url URL    the daemon (default: $FERRY_URL, else DIR/daemon.url)\n"
        "Token: $FERRY_TOKEN, else DIR/admin.token.\n";

#define B(o) (1u << (o))

static const struct sub {
	struct cli_sub h; /* first */
	int (*run)(struct plc_args *);
} subs[] = {
        {{"create", 1, 1, B(PO_NO_START), "FILE"}, plc_create},
        {{"update", 1, 1, 0, "FILE"}, plc_update},
        {{"get", 1, 1, B(PO_VERSION) | B(PO_JSON), "NAME"}, plc_get},
        {{"list", 0, 0, B(PO_JSON), ""}, plc_list},
        {{"delete", 1, 1, 0, "NAME"}, plc_delete},
        {{"start", 1, 1, B(PO_COMMIT) | B(PO_VAR), "NAME"}, plc_start},
        {{"state", 1, 1, B(PO_JSON), "NAME"}, plc_state},
        {{"executions", 1, 1, B(PO_MAX) | B(PO_JSON), "NAME"}, plc_executions},
        {{"execution", 2, 2, B(PO_JSON), "NAME ID"}, plc_execution},
        {{"retry", 3, 3, B(PO_ALL), "NAME STAGE EXECUTION"}, plc_retry},
        {{"stop", 2, 2, B(PO_ABANDON) | B(PO_REASON), "NAME EXECUTION"}, plc_stop},
        {{"disable-transition", 2, 2, B(PO_REASON) | B(PO_OUTBOUND), "NAME STAGE"},
         plc_disable_transition},
        {{"enable-transition", 2, 2, B(PO_OUTBOUND), "NAME STAGE"}, plc_enable_transition},
        {{"approve", 3, 3, B(PO_COMMENT) | B(PO_TOKEN), "NAME STAGE ACTION"}, plc_approve},
        {{"reject", 3, 3, B(PO_COMMENT) | B(PO_TOKEN), "NAME STAGE ACTION"}, plc_reject},
        {{"triggers", 1, 1, B(PO_MAX) | B(PO_JSON), "NAME"}, plc_triggers},
        {{"webhook-secret", 1, 1, B(PO_ROTATE), "NAME"}, plc_webhook_secret},
};

/* What the table cannot say. */
static int check_args(const struct plc_args *a, const struct sub *s)
{
	char cmd[64];
	snprintf(cmd, sizeof cmd, "pipeline %s", s->h.name);
	if (!strcmp(s->h.name, "reject") && !a->comment)
		return cli_usage_error(cmd, usage,
		                       "--comment TEXT is required (say why it is rejected)");
	if (!strcmp(s->h.name, "disable-transition") && !a->reason)
		return cli_usage_error(cmd, usage,
		                       "--reason TEXT is required (say why executions "
		                       "are held)");
	return 0;
}

int cli_pipeline(int argc, char **argv)
{
	struct plc_args a = {0};
	struct cli_opt opts[PO_COUNT] = {
	        [PO_DATA] = {"--data", "DIR", &a.data, NULL, NULL},
	        [PO_URL] = {"--url", "URL", &a.url, NULL, NULL},
	        [PO_VERSION] = {"--version", "N", &a.version, NULL, NULL},
	        [PO_JSON] = {"--json", NULL, NULL, &a.json, NULL},
	        [PO_COMMIT] = {"--commit", "SHA", &a.commit, NULL, NULL},
	        [PO_VAR] = {"--var", "NAME=VALUE", NULL, NULL, &a.vars},
	        [PO_MAX] = {"--max", "N", &a.max, NULL, NULL},
	        [PO_ALL] = {"--all", NULL, NULL, &a.all, NULL},
	        [PO_ABANDON] = {"--abandon", NULL, NULL, &a.abandon, NULL},
	        [PO_REASON] = {"--reason", "TEXT", &a.reason, NULL, NULL},
	        [PO_OUTBOUND] = {"--outbound", NULL, NULL, &a.outbound, NULL},
	        [PO_ROTATE] = {"--rotate", NULL, NULL, &a.rotate, NULL},
	        [PO_NO_START] = {"--no-start", NULL, NULL, &a.no_start, NULL},
	        [PO_COMMENT] = {"--comment", "TEXT", &a.comment, NULL, NULL},
	        [PO_TOKEN] = {"--token", "T", &a.token, NULL, NULL},
	};
	const struct cli_cmd cmd = {.name = "pipeline",
	                            .usage = usage,
	                            .opts = opts,
	                            .nopts = PO_COUNT,
	                            .always = B(PO_DATA) | B(PO_URL),
	                            .subs = subs,
	                            .nsubs = sizeof subs / sizeof subs[0],
	                            .sub_size = sizeof subs[0]};
	const struct cli_sub *h = NULL;
	int rc = cli_sub_args(&cmd, argc, argv, &a.pos, &a.seen, &h);
	const struct sub *s = (const struct sub *)h;
	if (rc < 0 && !(rc = check_args(&a, s))) {
		a.sub = s->h.name;
		cli_client_init(&a.c, a.data, a.url);
		rc = s->run(&a);
		cli_client_free(&a.c);
	}
	strv_free(&a.pos);
	strv_free(&a.vars);
	return rc;
}

/* ---- declarations ---- */

static int send_file(struct plc_args *a, const char *method, const char *path_base, json_t **out)
{
	const char *file = a->pos.v[0];
	char *text = NULL;
	size_t len = 0;
	struct err err;
	if (fs_read_file(file, PIPELINE_FILE_MAX, &text, &len, &err) < 0) {
		fprintf(stderr, "ferry: %s\n", err.msg);
		return 2;
	}
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	char *fname = cli_escape(base);
	char *path =
	        xasprintf("%s?filename=%s%s", path_base, fname, a->no_start ? "&noStart=1" : "");
	const char *dot = strrchr(base, '.');
	int yaml = dot && (!strcmp(dot, ".yml") || !strcmp(dot, ".yaml"));
	int rc = cli_call(
	        &a->c,
	        &(struct cli_req){.method = method,
	                          .path = path,
	                          .body = text,
	                          .body_len = len,
	                          .content_type = yaml ? "application/yaml" : "application/json"},
	        out);
	free(path);
	free(fname);
	free(text);
	return rc;
}

/* The pipeline's name inside a file, for update's path; NULL after printing why. */
static char *file_pipeline_name(const char *file)
{
	struct pipeline *p = NULL;
	struct err err;
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	if (pipeline_load(file, base, NULL, &p, &err) < 0) {
		fprintf(stderr, "ferry: %s\n", err.msg);
		return NULL;
	}
	char *name = xstrdup(p->name);
	pipeline_free(p);
	return name;
}

static void print_stored(const json_t *answer, const char *verb, int started)
{
	json_t *p = json_object_get(answer, "pipeline");
	fprintf(stderr, "ferry: pipeline \"%s\" %s, version %lld%s\n", cli_str(p, "name"), verb,
	        (long long)json_integer_value(json_object_get(p, "version")),
	        started ? "; its first execution is starting" : "");
	cli_print_json(answer);
}

int plc_create(struct plc_args *a)
{
	json_t *out = NULL;
	int rc = send_file(a, "POST", "/api/pipelines", &out);
	if (rc == 0)
		print_stored(out, "created", !a->no_start);
	json_decref(out);
	return rc;
}

int plc_update(struct plc_args *a)
{
	char *name = file_pipeline_name(a->pos.v[0]);
	if (!name)
		return 2;
	char *path = cli_path("api", "pipelines", name, NULL);
	json_t *out = NULL;
	int rc = send_file(a, "PUT", path, &out);
	if (rc == 0)
		print_stored(out, "updated", 0);
	json_decref(out);
	free(path);
	free(name);
	return rc;
}

int plc_get_numbered(struct plc_args *a, const char *path, const struct plc_number *n, json_t **out)
{
	long v = 0;
	*out = NULL;
	if (n->text && cli_int(n->text, 1, n->max, &v) < 0) {
		fprintf(stderr, "ferry pipeline %s: --%s: \"%s\" is not %s\n", a->sub, n->option,
		        n->text, n->expected);
		return 2;
	}
	char *full = v ? xasprintf("%s?%s=%ld", path, n->param, v) : xstrdup(path);
	int rc = cli_call(&a->c, &(struct cli_req){.path = full}, out);
	free(full);
	return rc;
}

int plc_get(struct plc_args *a)
{
	char *path = cli_path("api", "pipelines", a->pos.v[0], NULL);
	json_t *out;
	int rc = plc_get_numbered(a, path,
	                          &(struct plc_number){"version", a->version, 1000000000,
	                                               "a version number", "version"},
	                          &out);
	if (rc == 0) {
		/* without --json: the file's shape, which `ferry pipeline update` takes back */
		if (!a->json)
			json_object_del(out, "metadata");
		cli_print_json(out);
	}
	json_decref(out);
	free(path);
	return rc;
}

int plc_list(struct plc_args *a)
{
	json_t *out = NULL;
	int rc = cli_list_call(&a->c, "/api/pipelines", a->json, &out);
	if (rc || !out)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, (const char *[]){"NAME", "VERSION", "TYPE", "MODE", "UPDATED"});
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(out, "pipelines"), i, p)
	{
		char version[24], updated[32];
		snprintf(version, sizeof version, "%lld",
		         (long long)json_integer_value(json_object_get(p, "version")));
		cli_time(json_object_get(p, "updated"), updated, sizeof updated);
		cli_table_row(&t, (const char *[]){cli_str(p, "name"), version,
		                                   cli_str(p, "pipelineType"),
		                                   cli_str(p, "executionMode"), updated});
	}
	if (json_array_size(json_object_get(out, "pipelines")))
		cli_table_print(&t);
	else
		fputs("ferry: no pipelines yet (ferry pipeline create FILE)\n", stderr);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

int plc_delete(struct plc_args *a)
{
	char *path = cli_path("api", "pipelines", a->pos.v[0], NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.method = "DELETE", .path = path}, NULL);
	if (rc == 0)
		fprintf(stderr, "ferry: pipeline \"%s\" deleted\n", a->pos.v[0]);
	free(path);
	return rc;
}

int plc_webhook_secret(struct plc_args *a)
{
	char *path = cli_path("api", "pipelines", a->pos.v[0], "webhook-secret", NULL);
	json_t *out = NULL;
	int rc = cli_call(
	        &a->c, &(struct cli_req){.method = a->rotate ? "POST" : "GET", .path = path}, &out);
	if (rc == 0) {
		puts(cli_str(out, "webhookSecret") ? cli_str(out, "webhookSecret") : "");
		fprintf(stderr,
		        "ferry: %son the forge, add a webhook: payload URL %s%s, content type "
		        "application/json, this secret, push events\n",
		        a->rotate ? "secret replaced; deliveries signed with the old one now fail. "
		                    "Set it "
		                  : "",
		        a->c.url, cli_str(out, "webhookPath") ? cli_str(out, "webhookPath") : "");
	}
	json_decref(out);
	free(path);
	return rc;
}
