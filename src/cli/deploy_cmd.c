/*
 * deploy_cmd.c — `ferry deploy`: appspec deployment groups and deployments over the
 * daemon's API (/api/deploy, /api/deployments; docs/api.md, docs/deployments.md).
 *
 * `push APP GROUP DIR` zips the directory here (cli_read_upload(): hook scripts keep
 * their execute bit) and sends the zip; the daemon answers at once with the deployment id and runs
 * it in a child. `--wait` then follows it until it ends and exits 1 when it failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "util/fs.h"
#include "util/zipdir.h"

#define DEPLOY_UPLOAD_MAX (256u << 20) /* the API's cap on a bundle */
#define WAIT_POLL_MS      200

static const char usage[] =
        "usage: ferry deploy SUBCOMMAND ... [--data DIR] [--url URL]\n"
        "\n"
        "  group create APP GROUP --target DIR [--target DIR]... [--config NAME]\n"
        "                               [--no-auto-rollback]\n"
        "                               an in-place group: each DIR plays one instance\n"
        "  group create APP GROUP --blue-green --host HOST --blue DIR:PORT --green DIR:PORT\n"
        "                               a blue/green group: the edge's HOST is switched\n"
        "                               to the slot deployed last\n"
        "  group list [APP] [--json]    deployment groups\n"
        "  group delete APP GROUP       forget a group and its deployments' history\n"
        "  push APP GROUP BUNDLE.zip|DIR [--wait]\n"
        "                               deploy a revision outside a pipeline\n"
        "  list [APP [GROUP]] [--json]  deployments, newest first\n"
        "  get DEPLOYMENT_ID [--json]   a deployment, each target's lifecycle events\n"
        "  log DEPLOYMENT_ID            its log (the hooks' output)\n"
        "\n"
        "  --config NAME  CodeDeployDefault.OneAtATime (default), HalfAtATime or AllAtOnce\n"
        "  --data DIR     data directory: its daemon.url and admin.token are used\n"
        "  --url URL      the daemon (default: $FERRY_URL, else DIR/daemon.url)\n";

enum {
	DO_DATA,
	DO_URL,
	DO_JSON,
	DO_TARGET,
	DO_CONFIG,
	DO_NO_ROLLBACK,
	DO_BLUE_GREEN,
	DO_HOST,
	DO_BLUE,
	DO_GREEN,
	DO_WAIT,
	DO_COUNT,
};

struct deploy_args {
	const char *data, *url, *config, *host, *blue, *green;
	int json, no_rollback, blue_green, wait;
	struct strv targets;
	unsigned seen;
	struct strv pos;
	struct cli_client c;
};

#define B(o) (1u << (o))

/* ---- groups ---- */

static json_t *slot_json(const char *flag, const char *spec)
{
	const char *colon = spec ? strrchr(spec, ':') : NULL;
	long port = 0;
	if (!colon || colon == spec || cli_int(colon + 1, 1, 65535, &port) < 0) {
		fprintf(stderr, "ferry deploy group create: %s: expected DIR:PORT, got \"%s\"\n",
		        flag, spec ? spec : "");
		return NULL;
	}
	char *dir = xstrndup(spec, (size_t)(colon - spec));
	char *abs = dir[0] == '/' ? xstrdup(dir) : realpath(dir, NULL);
	json_t *o = abs ? json_pack("{s:s, s:i}", "dir", abs, "port", (int)port) : NULL;
	if (!abs)
		fprintf(stderr, "ferry deploy group create: %s: %s: %s\n", flag, dir,
		        strerror(errno));
	free(abs);
	free(dir);
	return o;
}

static int group_create(struct deploy_args *a)
{
	json_t *body =
	        json_pack("{s:s, s:s, s:b}", "applicationName", a->pos.v[0], "deploymentGroupName",
	                  a->pos.v[1], "autoRollback", !a->no_rollback);
	if (a->config)
		json_object_set_new(body, "deploymentConfigName", json_string(a->config));
	if (a->blue_green) {
		if (!a->host || !a->blue || !a->green) {
			json_decref(body);
			return cli_usage_error("deploy group create", usage,
			                       "--blue-green needs --host, --blue and --green");
		}
		json_t *blue = slot_json("--blue", a->blue),
		       *green = slot_json("--green", a->green);
		if (!blue || !green) {
			json_decref(blue);
			json_decref(green);
			json_decref(body);
			return 2;
		}
		json_object_set_new(body, "blueGreen",
		                    json_pack("{s:s, s:o, s:o}", "host", a->host, "blue", blue,
		                              "green", green));
	} else {
		if (!a->targets.n) {
			json_decref(body);
			return cli_usage_error("deploy group create", usage,
			                       "give at least one --target DIR (or --blue-green)");
		}
		json_t *arr = json_array();
		for (size_t i = 0; i < a->targets.n; i++) {
			const char *t = a->targets.v[i];
			char *abs = t[0] == '/' ? xstrdup(t) : NULL;
			if (!abs) {
				char cwd[4096];
				abs = getcwd(cwd, sizeof cwd) ? fs_join(cwd, t) : xstrdup(t);
			}
			json_array_append_new(arr, json_string(abs));
			free(abs);
		}
		json_object_set_new(body, "targets", arr);
	}
	json_t *out = NULL;
	int rc = cli_call(
	        &a->c,
	        &(struct cli_req){.method = "POST", .path = "/api/deploy/groups", .json = body},
	        &out);
	if (rc == 0) {
		if (a->json)
			cli_print_json(out);
		else
			printf("deployment group %s/%s created (%s, %s)\n", a->pos.v[0],
			       a->pos.v[1], cli_str(out, "kind"),
			       cli_str(out, "deploymentConfigName"));
	}
	json_decref(out);
	json_decref(body);
	return rc;
}

static int group_list(struct deploy_args *a)
{
	char *esc = a->pos.n ? cli_escape(a->pos.v[0]) : NULL;
	char *path = xasprintf("/api/deploy/groups%s%s", esc ? "?app=" : "", esc ? esc : "");
	json_t *out = NULL;
	int rc = cli_list_call(&a->c, path, a->json, &out);
	free(path);
	free(esc);
	if (rc || !out)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, (const char *[]){"APPLICATION", "GROUP", "KIND", "CONFIG", "TARGETS"});
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(out, "deploymentGroups"), i, g)
	{
		char *targets = NULL;
		if (json_object_get(g, "slots")) {
			const char *live = cli_str(g, "liveSlot");
			targets = xasprintf("%s (live: %s)", cli_str(g, "host"), live ? live : "-");
		} else {
			targets = json_dumps(json_object_get(g, "targets"), JSON_COMPACT);
		}
		cli_table_row(&t, (const char *[]){cli_str(g, "applicationName"),
		                                   cli_str(g, "deploymentGroupName"),
		                                   cli_str(g, "kind"),
		                                   cli_str(g, "deploymentConfigName"), targets});
		free(targets);
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static int group_delete(struct deploy_args *a)
{
	char *path = cli_path("api", "deploy", "groups", a->pos.v[0], a->pos.v[1], NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.method = "DELETE", .path = path}, NULL);
	if (rc == 0)
		printf("deployment group %s/%s deleted\n", a->pos.v[0], a->pos.v[1]);
	free(path);
	return rc;
}

/* ---- deployments ---- */

static void print_deployment(const json_t *d)
{
	char created[64], took[64];
	cli_time(json_object_get(d, "created"), created, sizeof created);
	cli_elapsed(json_object_get(d, "created"), json_object_get(d, "completed"), took,
	            sizeof took);
	printf("deployment:  %s\n", cli_str(d, "deploymentId"));
	printf("group:       %s/%s\n", cli_str(d, "applicationName"),
	       cli_str(d, "deploymentGroupName"));
	printf("status:      %s\n", cli_str(d, "status"));
	printf("revision:    %s\n", cli_str(d, "revision") ? cli_str(d, "revision") : "-");
	printf("creator:     %s%s%s\n", cli_str(d, "creator"),
	       cli_str(d, "rollbackOf") ? ", rolling back " : "",
	       cli_str(d, "rollbackOf") ? cli_str(d, "rollbackOf") : "");
	if (cli_str(d, "rolledBackBy"))
		printf("rolled back: by %s\n", cli_str(d, "rolledBackBy"));
	printf("started:     %s (%s)\n", created, took);
	if (cli_str(d, "summary"))
		printf("summary:     %s\n", cli_str(d, "summary"));
	size_t i, j;
	json_t *t, *ev;
	json_array_foreach(json_object_get(d, "targets"), i, t)
	{
		printf("\ntarget %s\n", cli_str(t, "targetId"));
		struct cli_table tab;
		cli_table_init(&tab, 5);
		cli_table_row(&tab,
		              (const char *[]){"  EVENT", "STATUS", "DURATION", "SCRIPT", "ERROR"});
		json_array_foreach(json_object_get(t, "lifecycleEvents"), j, ev)
		{
			char name[96], dur[64];
			snprintf(name, sizeof name, "  %s", cli_str(ev, "lifecycleEventName"));
			cli_elapsed(json_object_get(ev, "startTime"),
			            json_object_get(ev, "endTime"), dur, sizeof dur);
			char *error = NULL;
			if (cli_str(ev, "errorCode"))
				error = xasprintf("%s: %s", cli_str(ev, "errorCode"),
				                  cli_str(ev, "message") ? cli_str(ev, "message")
				                                         : "");
			cli_table_row(&tab, (const char *[]){name, cli_str(ev, "status"), dur,
			                                     cli_str(ev, "scriptName"), error});
			free(error);
		}
		cli_table_print(&tab);
		cli_table_free(&tab);
	}
}

static int get_deployment(struct cli_client *c, const char *id, json_t **out)
{
	char *path = cli_path("api", "deployments", id, NULL);
	int rc = cli_call(c, &(struct cli_req){.path = path}, out);
	free(path);
	return rc;
}

static int get(struct deploy_args *a)
{
	json_t *out = NULL;
	int rc = get_deployment(&a->c, a->pos.v[0], &out);
	if (rc == 0) {
		if (a->json)
			cli_print_json(out);
		else
			print_deployment(json_object_get(out, "deploymentInfo"));
	}
	json_decref(out);
	return rc;
}

static int list(struct deploy_args *a)
{
	char *app = a->pos.n > 0 ? cli_escape(a->pos.v[0]) : NULL;
	char *grp = a->pos.n > 1 ? cli_escape(a->pos.v[1]) : NULL;
	char *path = xasprintf("/api/deployments?app=%s&group=%s", app ? app : "", grp ? grp : "");
	if (!app) {
		free(path);
		path = xstrdup("/api/deployments");
	} else if (!grp) {
		free(path);
		path = xasprintf("/api/deployments?app=%s", app);
	}
	json_t *out = NULL;
	int rc = cli_list_call(&a->c, path, a->json, &out);
	free(path);
	free(app);
	free(grp);
	if (rc || !out)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 6);
	cli_table_row(&t, (const char *[]){"DEPLOYMENT", "GROUP", "STATUS", "CREATOR", "STARTED",
	                                   "REVISION"});
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(out, "deployments"), i, d)
	{
		char started[64], rev[16] = "-", *group;
		cli_time(json_object_get(d, "created"), started, sizeof started);
		if (cli_str(d, "revision"))
			snprintf(rev, sizeof rev, "%.12s", cli_str(d, "revision"));
		group = xasprintf("%s/%s", cli_str(d, "applicationName"),
		                  cli_str(d, "deploymentGroupName"));
		cli_table_row(&t, (const char *[]){cli_str(d, "deploymentId"), group,
		                                   cli_str(d, "status"), cli_str(d, "creator"),
		                                   started, rev});
		free(group);
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static int log_cmd(struct deploy_args *a)
{
	char *path = cli_path("api", "deployments", a->pos.v[0], "log", NULL);
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.path = path}, &out);
	if (rc == 0)
		fputs(cli_str(out, "log") ? cli_str(out, "log") : "", stdout);
	json_decref(out);
	free(path);
	return rc;
}

/* Follows a deployment until it ends; 0 when it succeeded. */
static int wait_for(struct deploy_args *a, const char *id)
{
	for (;;) {
		json_t *out = NULL;
		if (get_deployment(&a->c, id, &out))
			return 1;
		json_t *d = json_object_get(out, "deploymentInfo");
		const char *status = cli_str(d, "status");
		if (status && strcmp(status, "Created") && strcmp(status, "InProgress")) {
			int ok = !strcmp(status, "Succeeded");
			printf("%s\n", cli_str(d, "summary") ? cli_str(d, "summary") : status);
			json_decref(out);
			return ok ? 0 : 1;
		}
		json_decref(out);
		struct timespec ts = {0, WAIT_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static int push(struct deploy_args *a)
{
	char *path =
	        cli_path("api", "deploy", "groups", a->pos.v[0], a->pos.v[1], "deployments", NULL);
	json_t *out = NULL;
	/* hook scripts keep their execute bit; files their mtime, as installed */
	int rc = cli_post_upload(&a->c, path, a->pos.v[2], ZIPDIR_KEEP_MTIME | ZIPDIR_SKIP_LINKS,
	                         DEPLOY_UPLOAD_MAX, &out);
	if (rc == 0) {
		const char *id = cli_str(out, "deploymentId");
		printf("deployment %s started (ferry deploy get %s)\n", id, id);
		fflush(stdout);
		if (a->wait)
			rc = wait_for(a, id);
	}
	json_decref(out);
	free(path);
	return rc;
}

/* ---- dispatch ---- */

struct sub {
	struct cli_sub h; /* first */
	int (*run)(struct deploy_args *);
};

static const struct sub group_subs[] = {
        {{"create", 2, 2,
          B(DO_TARGET) | B(DO_CONFIG) | B(DO_NO_ROLLBACK) | B(DO_BLUE_GREEN) | B(DO_HOST) |
                  B(DO_BLUE) | B(DO_GREEN) | B(DO_JSON),
          "APP GROUP"},
         group_create},
        {{"list", 0, 1, B(DO_JSON), "[APP]"}, group_list},
        {{"delete", 2, 2, 0, "APP GROUP"}, group_delete},
};

static const struct sub subs[] = {
        {{"push", 3, 3, B(DO_WAIT), "APP GROUP BUNDLE"}, push},
        {{"list", 0, 2, B(DO_JSON), "[APP [GROUP]]"}, list},
        {{"get", 1, 1, B(DO_JSON), "DEPLOYMENT_ID"}, get},
        {{"log", 1, 1, 0, "DEPLOYMENT_ID"}, log_cmd},
};

int cli_deploy(int argc, char **argv)
{
	struct deploy_args a = {.targets = STRV_INIT};
	struct cli_opt opts[DO_COUNT] = {
	        [DO_DATA] = {"--data", "DIR", &a.data, NULL, NULL},
	        [DO_URL] = {"--url", "URL", &a.url, NULL, NULL},
	        [DO_JSON] = {"--json", NULL, NULL, &a.json, NULL},
	        [DO_TARGET] = {"--target", "DIR", NULL, NULL, &a.targets},
	        [DO_CONFIG] = {"--config", "NAME", &a.config, NULL, NULL},
	        [DO_NO_ROLLBACK] = {"--no-auto-rollback", NULL, NULL, &a.no_rollback, NULL},
	        [DO_BLUE_GREEN] = {"--blue-green", NULL, NULL, &a.blue_green, NULL},
	        [DO_HOST] = {"--host", "HOST", &a.host, NULL, NULL},
	        [DO_BLUE] = {"--blue", "DIR:PORT", &a.blue, NULL, NULL},
	        [DO_GREEN] = {"--green", "DIR:PORT", &a.green, NULL, NULL},
	        [DO_WAIT] = {"--wait", NULL, NULL, &a.wait, NULL},
	};
	int group = argc >= 2 && !strcmp(argv[1], "group");
	const struct cli_cmd cmd = {.name = group ? "deploy group" : "deploy",
	                            .usage = usage,
	                            .opts = opts,
	                            .nopts = DO_COUNT,
	                            .always = B(DO_DATA) | B(DO_URL),
	                            .subs = group ? group_subs : subs,
	                            .nsubs = group ? sizeof group_subs / sizeof group_subs[0]
	                                           : sizeof subs / sizeof subs[0],
	                            .sub_size = sizeof subs[0],
	                            .missing_all = 1};
	const struct cli_sub *s = NULL;
	int rc = cli_sub_args(&cmd, argc - group, argv + group, &a.pos, &a.seen, &s);
	if (rc < 0) {
		cli_client_init(&a.c, a.data, a.url);
		rc = ((const struct sub *)s)->run(&a);
		cli_client_free(&a.c);
	}
	strv_free(&a.pos);
	strv_free(&a.targets);
	return rc;
}
