/*
 * fn_cmd.c — `ferry fn`: functions (the Lambda analog) over the daemon's API
 * (/api/functions, docs/api.md, docs/functions.md).
 *
 * A directory (--dir) is zipped here, deterministically (functions/registry.h), and
 * sent as the zip's base64, as `aws lambda ... --zip-file` sends one: the daemon runs
 * the same checks on both, and the same files always give the same CodeSha256.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "functions/invoke_main.h"
#include "functions/registry.h"
#include "util/fs.h"

static const char usage[] =
        "usage: ferry fn SUBCOMMAND ... [--data DIR] [--url URL]\n"
        "\n"
        "  create NAME --runtime R --handler H (--zip-file F | --dir D) [SETTINGS] [--publish]\n"
        "                          a function (runtimes: nodejs18.x nodejs20.x nodejs22.x\n"
        "                          python3.8..python3.13 provided provided.al2023)\n"
        "  update-code NAME (--zip-file F | --dir D) [--publish]\n"
        "                          new code for $LATEST (and a version with --publish)\n"
        "  update-config NAME [SETTINGS] [--runtime R] [--handler H]\n"
        "  publish NAME [--description TEXT]\n"
        "                          publish $LATEST as the next version (or give the last\n"
        "                          version when nothing changed since it)\n"
        "  alias NAME ALIAS (--version N | --rollback) [--description TEXT]\n"
        "                          create ALIAS, or move it (a deploy); --rollback moves it\n"
        "                          back to the version it pointed at before\n"
        "  aliases NAME [--json]   versions NAME [--json]   list [--json]   get NAME [--json]\n"
        "  invoke NAME[:QUALIFIER] [--payload JSON | --payload-file F] [--out F]\n"
        "                          run it once; prints what it returned (exit 1 when the\n"
        "                          function failed, with its error)\n"
        "  invocations NAME [--json]\n"
        "  logs NAME [REQUEST_ID]  an invocation's log (default: the latest)\n"
        "  delete NAME\n"
        "\n"
        "SETTINGS: --timeout SECONDS (default 3)  --memory MB (default 128)\n"
        "          --env K=V (repeatable; replaces all variables)  --description TEXT\n"
        "\n"
        "  --data DIR   data directory: its daemon.url and admin.token are used\n"
        "  --url URL    the daemon (default: $FERRY_URL, else DIR/daemon.url)\n";

enum {
	FO_DATA,
	FO_URL,
	FO_JSON,
	FO_RUNTIME,
	FO_HANDLER,
	FO_ZIP,
	FO_DIR,
	FO_TIMEOUT,
	FO_MEMORY,
	FO_ENV,
	FO_DESC,
	FO_PUBLISH,
	FO_VERSION,
	FO_ROLLBACK,
	FO_PAYLOAD,
	FO_PAYLOAD_FILE,
	FO_OUT,
	FO_COUNT,
};

struct fn_args {
	const char *data, *url, *runtime, *handler, *zip, *dir, *timeout, *memory, *desc;
	const char *version, *payload, *payload_file, *out;
	int json, publish, rollback;
	struct strv env;
	unsigned seen;
	struct strv pos;
	struct cli_client c;
};

#define B(o)     (1u << (o))
#define SETTINGS (B(FO_TIMEOUT) | B(FO_MEMORY) | B(FO_ENV) | B(FO_DESC))
#define CODE     (B(FO_ZIP) | B(FO_DIR) | B(FO_PUBLISH))

static char *fn_path(const char *name, const char *tail, const char *tail2)
{
	return cli_path("api", "functions", name, tail, tail2, NULL);
}

/* ---- bodies ---- */

static int settings(struct fn_args *a, const char *sub, json_t *o)
{
	char cmd[40];
	snprintf(cmd, sizeof cmd, "fn %s", sub);
	long n = 0;
	if (a->timeout) {
		if (cli_int(a->timeout, 1, FN_TIMEOUT_MAX, &n) < 0)
			return cli_usage_error(cmd, usage,
			                       "--timeout: \"%s\" is not 1 to %d seconds",
			                       a->timeout, FN_TIMEOUT_MAX);
		json_object_set_new(o, "Timeout", json_integer(n));
	}
	if (a->memory) {
		if (cli_int(a->memory, FN_MEMORY_MIN, FN_MEMORY_MAX, &n) < 0)
			return cli_usage_error(cmd, usage, "--memory: \"%s\" is not %d to %d MB",
			                       a->memory, FN_MEMORY_MIN, FN_MEMORY_MAX);
		json_object_set_new(o, "MemorySize", json_integer(n));
	}
	if (a->env.n) {
		json_t *vars = json_object();
		for (size_t i = 0; i < a->env.n; i++) {
			const char *eq = strchr(a->env.v[i], '=');
			if (!eq || eq == a->env.v[i]) {
				json_decref(vars);
				return cli_usage_error(cmd, usage, "--env: \"%s\" is not K=V",
				                       a->env.v[i]);
			}
			char *k = xstrndup(a->env.v[i], (size_t)(eq - a->env.v[i]));
			json_object_set_new(vars, k, json_string(eq + 1));
			free(k);
		}
		json_object_set_new(o, "Environment", json_pack("{s:o}", "Variables", vars));
	}
	if (a->desc)
		json_object_set_new(o, "Description", json_string(a->desc));
	if (a->runtime)
		json_object_set_new(o, "Runtime", json_string(a->runtime));
	if (a->handler)
		json_object_set_new(o, "Handler", json_string(a->handler));
	return 0;
}

/* The code as {"ZipFile": base64}; 0, or an exit status after printing why. */
static int code_b64(struct fn_args *a, const char *sub, json_t *o)
{
	char cmd[40];
	snprintf(cmd, sizeof cmd, "fn %s", sub);
	if (!a->zip == !a->dir)
		return cli_usage_error(cmd, usage, "give exactly one of --zip-file F or --dir D");
	const char *src = a->dir ? a->dir : a->zip;
	if (!a->dir != !fs_is_dir(src)) {
		fprintf(stderr, "ferry: %s: %s\n", src,
		        a->dir ? "not a directory" : "a directory (give it with --dir)");
		return 2;
	}
	char *data = NULL;
	size_t len = 0;
	int rc = cli_read_upload(src, 0, (size_t)FN_ZIP_MAX, &data, &len);
	if (rc)
		return rc;
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(cap);
	sodium_bin2base64(b64, cap, (const unsigned char *)data, len,
	                  sodium_base64_VARIANT_ORIGINAL);
	free(data);
	json_object_set_new(o, "ZipFile", json_string(b64));
	free(b64);
	return 0;
}

static void print_config(const json_t *f)
{
	printf("function:     %s\n", cli_str(f, "FunctionName"));
	printf("version:      %s\n", cli_str(f, "Version"));
	printf("runtime:      %s\n", cli_str(f, "Runtime"));
	printf("handler:      %s\n", cli_str(f, "Handler"));
	printf("timeout:      %lld s\n",
	       (long long)json_integer_value(json_object_get(f, "Timeout")));
	printf("memory:       %lld MB\n",
	       (long long)json_integer_value(json_object_get(f, "MemorySize")));
	printf("code:         %s (%lld bytes)\n", cli_str(f, "CodeSha256"),
	       (long long)json_integer_value(json_object_get(f, "CodeSize")));
	const json_t *vars = json_object_get(json_object_get(f, "Environment"), "Variables");
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)vars, k, v)
	{
		printf("env:          %s=%s\n", k, json_string_value(v));
	}
	printf("revision:     %s\n", cli_str(f, "RevisionId"));
	printf("last change:  %s\n", cli_str(f, "LastModified"));
}

static int send_config(struct fn_args *a, const char *method, const char *path, json_t *body,
                       const char *done)
{
	json_t *out = NULL;
	int rc = cli_call(
	        &a->c,
	        &(struct cli_req){
	                .method = method, .path = path, .json = body, .timeout_ms = 120000},
	        &out);
	if (rc == 0) {
		if (done)
			fprintf(stderr, "ferry: function \"%s\" %s (version %s)\n",
			        cli_str(out, "FunctionName"), done, cli_str(out, "Version"));
		a->json ? cli_print_json(out) : print_config(out);
	}
	json_decref(out);
	return rc;
}

static int create(struct fn_args *a)
{
	if (!a->runtime)
		return cli_usage_error("fn create", usage, "--runtime is required");
	json_t *body = json_pack("{s:s}", "FunctionName", a->pos.v[0]);
	json_t *code = json_object();
	int rc = settings(a, "create", body);
	if (rc == 0)
		rc = code_b64(a, "create", code);
	json_object_set_new(body, "Code", code);
	if (a->publish)
		json_object_set_new(body, "Publish", json_true());
	if (rc == 0)
		rc = send_config(a, "POST", "/api/functions", body, "created");
	json_decref(body);
	return rc;
}

static int update_code(struct fn_args *a)
{
	json_t *body = json_object();
	int rc = code_b64(a, "update-code", body);
	if (a->publish)
		json_object_set_new(body, "Publish", json_true());
	char *path = fn_path(a->pos.v[0], "code", NULL);
	if (rc == 0)
		rc = send_config(a, "PUT", path, body, "updated");
	free(path);
	json_decref(body);
	return rc;
}

static int update_config(struct fn_args *a)
{
	json_t *body = json_object();
	int rc = settings(a, "update-config", body);
	if (rc == 0 && json_object_size(body) == 0)
		rc = cli_usage_error("fn update-config", usage, "nothing to change");
	char *path = fn_path(a->pos.v[0], "configuration", NULL);
	if (rc == 0)
		rc = send_config(a, "PUT", path, body, "updated");
	free(path);
	json_decref(body);
	return rc;
}

static int publish(struct fn_args *a)
{
	json_t *body = a->desc ? json_pack("{s:s}", "Description", a->desc) : json_object();
	char *path = fn_path(a->pos.v[0], "versions", NULL);
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.method = "POST", .path = path, .json = body},
	                  &out);
	if (rc == 0)
		printf("function %s: version %s (code %s)\n", a->pos.v[0], cli_str(out, "Version"),
		       cli_str(out, "CodeSha256"));
	json_decref(out);
	json_decref(body);
	free(path);
	return rc;
}

static int get(struct fn_args *a)
{
	char *path = fn_path(a->pos.v[0], NULL, NULL);
	json_t *out = NULL;
	int rc = cli_call(&a->c, &(struct cli_req){.path = path}, &out);
	if (rc == 0)
		a->json ? cli_print_json(out) : print_config(json_object_get(out, "Configuration"));
	json_decref(out);
	free(path);
	return rc;
}

static int list(struct fn_args *a)
{
	json_t *out = NULL;
	int rc = cli_list_call(&a->c, "/api/functions", a->json, &out);
	if (rc || !out)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, (const char *[]){"NAME", "RUNTIME", "HANDLER", "TIMEOUT", "LAST CHANGE"});
	const json_t *f;
	size_t i;
	json_array_foreach(json_object_get(out, "Functions"), i, f)
	{
		char to[24];
		snprintf(to, sizeof to, "%lld s",
		         (long long)json_integer_value(json_object_get(f, "Timeout")));
		cli_table_row(&t, (const char *[]){cli_str(f, "FunctionName"),
		                                   cli_str(f, "Runtime"), cli_str(f, "Handler"), to,
		                                   cli_str(f, "LastModified")});
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

/* GET NAME/<what> as a table of four string members of each item of `key`. */
static int string_table(struct fn_args *a, const char *what, const char *key,
                        const char *const head[4], const char *const members[4])
{
	char *path = fn_path(a->pos.v[0], what, NULL);
	json_t *out = NULL;
	int rc = cli_list_call(&a->c, path, a->json, &out);
	free(path);
	if (rc || !out)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 4);
	cli_table_row(&t, head);
	const json_t *v;
	size_t i;
	json_array_foreach(json_object_get(out, key), i, v)
	{
		cli_table_row(&t, (const char *[]){cli_str(v, members[0]), cli_str(v, members[1]),
		                                   cli_str(v, members[2]), cli_str(v, members[3])});
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static int versions(struct fn_args *a)
{
	return string_table(
	        a, "versions", "Versions",
	        (const char *[]){"VERSION", "CODE", "DESCRIPTION", "PUBLISHED"},
	        (const char *[]){"Version", "CodeSha256", "Description", "LastModified"});
}

static int aliases(struct fn_args *a)
{
	return string_table(
	        a, "aliases", "Aliases",
	        (const char *[]){"ALIAS", "VERSION", "PREVIOUS", "DESCRIPTION"},
	        (const char *[]){"Name", "FunctionVersion", "PreviousVersion", "Description"});
}

static int alias(struct fn_args *a)
{
	if (!!a->version + a->rollback != 1 && !(a->desc && !a->version && !a->rollback))
		return cli_usage_error("fn alias", usage, "give one of --version N or --rollback");
	const char *fn = a->pos.v[0], *name = a->pos.v[1];
	char *path = fn_path(fn, "aliases", name);
	json_t *cur = NULL;
	struct http_reply rep;
	struct err err;
	char *url = xasprintf("%s%s", a->c.url, path);
	int exists = 0;
	if (http_call(&(struct http_call){.url = url, .token = a->c.token}, &rep, &err) == 0) {
		exists = rep.status == 200;
		if (exists)
			cur = http_reply_json(&rep, url, &err);
	}
	http_reply_free(&rep);
	free(url);
	json_t *body = json_object();
	if (a->version)
		json_object_set_new(body, "FunctionVersion", json_string(a->version));
	if (a->desc)
		json_object_set_new(body, "Description", json_string(a->desc));
	if (a->rollback)
		json_object_set_new(body, "Rollback", json_true());
	json_t *out = NULL;
	int rc;
	if (!exists) {
		if (a->rollback) {
			free(path);
			json_decref(body);
			fprintf(stderr, "ferry: function \"%s\" has no alias \"%s\" to roll back\n",
			        fn, name);
			return 1;
		}
		json_object_set_new(body, "Name", json_string(name));
		char *p2 = fn_path(fn, "aliases", NULL);
		rc = cli_call(&a->c, &(struct cli_req){.method = "POST", .path = p2, .json = body},
		              &out);
		free(p2);
		if (rc == 0)
			printf("alias %s of %s: created, version %s\n", name, fn,
			       cli_str(out, "FunctionVersion"));
	} else {
		rc = cli_call(&a->c, &(struct cli_req){.method = "PUT", .path = path, .json = body},
		              &out);
		if (rc == 0)
			printf("alias %s of %s: version %s -> %s%s\n", name, fn,
			       cli_str(cur, "FunctionVersion"), cli_str(out, "FunctionVersion"),
			       a->rollback ? " (rollback)" : "");
	}
	json_decref(cur);
	json_decref(out);
	json_decref(body);
	free(path);
	return rc;
}

static int delete_fn(struct fn_args *a)
{
	char *path = fn_path(a->pos.v[0], NULL, NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.method = "DELETE", .path = path}, NULL);
	if (rc == 0)
		fprintf(stderr, "ferry: function \"%s\" deleted, with its versions and aliases\n",
		        a->pos.v[0]);
	free(path);
	return rc;
}

static int invoke(struct fn_args *a)
{
	if (a->payload && a->payload_file)
		return cli_usage_error("fn invoke", usage,
		                       "--payload and --payload-file exclude "
		                       "each other");
	char *payload = NULL;
	size_t len = 0;
	struct err err;
	if (a->payload_file) {
		if (fs_read_file(a->payload_file, FN_PAYLOAD_MAX, &payload, &len, &err) < 0) {
			fprintf(stderr, "ferry: %s\n", err.msg);
			return 2;
		}
	} else {
		payload = xstrdup(a->payload ? a->payload : "{}");
		len = strlen(payload);
	}
	char *name = xstrdup(a->pos.v[0]);
	char *colon = strchr(name, ':');
	if (colon)
		*colon++ = '\0';
	char *base = fn_path(name, "invocations", NULL);
	char *q = colon ? cli_escape(colon) : NULL;
	char *url = xasprintf("%s%s%s%s", a->c.url, base, q ? "?qualifier=" : "", q ? q : "");
	struct http_reply rep;
	int rc = 0;
	if (http_call(&(struct http_call){.method = "POST",
	                                  .url = url,
	                                  .token = a->c.token,
	                                  .body = payload,
	                                  .body_len = len,
	                                  .content_type = "application/json",
	                                  .timeout_ms = -1,
	                                  .refused_hint = HTTP_CLIENT_HINT_SERVE},
	              &rep, &err) < 0 ||
	    http_reply_check(url, &rep, &err) < 0) {
		fprintf(stderr, "ferry: %s\n", err.msg);
		rc = 1;
	} else {
		const char *fe = http_reply_header(&rep, "X-Amz-Function-Error");
		const char *ver = http_reply_header(&rep, "X-Amz-Executed-Version");
		const char *id = http_reply_header(&rep, "X-Amz-Request-Id");
		if (a->out && fs_write_atomic(a->out, rep.body, rep.len, 0644, &err) < 0) {
			fprintf(stderr, "ferry: %s\n", err.msg);
			rc = 1;
		} else if (!a->out && !fe) {
			fwrite(rep.body, 1, rep.len, stdout);
			putchar('\n');
		}
		if (fe) {
			json_t *e = json_loadb(rep.body, rep.len, 0, NULL);
			fprintf(stderr, "ferry: function %s (version %s) failed: %s: %s\n", name,
			        ver ? ver : "?",
			        cli_str(e, "errorType") ? cli_str(e, "errorType") : fe,
			        cli_str(e, "errorMessage") ? cli_str(e, "errorMessage") : rep.body);
			json_decref(e);
			rc = 1;
		}
		if (id)
			fprintf(stderr, "ferry: request %s, version %s (ferry fn logs %s %s)\n", id,
			        ver ? ver : "?", name, id);
	}
	http_reply_free(&rep);
	free(url);
	free(q);
	free(base);
	free(name);
	free(payload);
	return rc;
}

static int invocations(struct fn_args *a)
{
	char *path = fn_path(a->pos.v[0], "invocations", NULL);
	json_t *out = NULL;
	int rc = cli_list_call(&a->c, path, a->json, &out);
	free(path);
	if (rc || !out)
		return rc;
	struct cli_table t;
	cli_table_init(&t, 5);
	cli_table_row(&t, (const char *[]){"REQUEST", "VERSION", "STATUS", "DURATION", "STARTED"});
	const json_t *v;
	size_t i;
	json_array_foreach(json_object_get(out, "Invocations"), i, v)
	{
		char dur[32], started[32];
		snprintf(dur, sizeof dur, "%lld ms",
		         (long long)json_integer_value(json_object_get(v, "DurationMs")));
		cli_time(json_object_get(v, "Started"), started, sizeof started);
		cli_table_row(&t, (const char *[]){cli_str(v, "RequestId"),
		                                   cli_str(v, "ExecutedVersion"),
		                                   cli_str(v, "Status"), dur, started});
	}
	cli_table_print(&t);
	cli_table_free(&t);
	json_decref(out);
	return 0;
}

static int to_stdout(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	return fwrite(data, 1, len, stdout) == len ? 0 : 1;
}

static int logs(struct fn_args *a)
{
	char *path = fn_path(a->pos.v[0], "logs", a->pos.n > 1 ? a->pos.v[1] : NULL);
	int rc = cli_call(&a->c, &(struct cli_req){.path = path, .on_chunk = to_stdout}, NULL);
	free(path);
	return rc;
}

static const struct sub {
	struct cli_sub h; /* first */
	int (*run)(struct fn_args *);
} subs[] = {
        {{"create", 1, 1, SETTINGS | CODE | B(FO_RUNTIME) | B(FO_HANDLER) | B(FO_JSON), "NAME"},
         create},
        {{"update-code", 1, 1, CODE | B(FO_JSON), "NAME"}, update_code},
        {{"update-config", 1, 1, SETTINGS | B(FO_RUNTIME) | B(FO_HANDLER) | B(FO_JSON), "NAME"},
         update_config},
        {{"publish", 1, 1, B(FO_DESC), "NAME"}, publish},
        {{"alias", 2, 2, B(FO_VERSION) | B(FO_ROLLBACK) | B(FO_DESC), "NAME ALIAS"}, alias},
        {{"aliases", 1, 1, B(FO_JSON), "NAME"}, aliases},
        {{"versions", 1, 1, B(FO_JSON), "NAME"}, versions},
        {{"list", 0, 0, B(FO_JSON), ""}, list},
        {{"get", 1, 1, B(FO_JSON), "NAME"}, get},
        {{"invoke", 1, 1, B(FO_PAYLOAD) | B(FO_PAYLOAD_FILE) | B(FO_OUT), "NAME[:QUALIFIER]"},
         invoke},
        {{"invocations", 1, 1, B(FO_JSON), "NAME"}, invocations},
        {{"logs", 1, 2, 0, "NAME [REQUEST_ID]"}, logs},
        {{"delete", 1, 1, 0, "NAME"}, delete_fn},
};

int cli_fn(int argc, char **argv)
{
	struct fn_args a = {0};
	struct cli_opt opts[FO_COUNT] = {
	        [FO_DATA] = {"--data", "DIR", &a.data, NULL, NULL},
	        [FO_URL] = {"--url", "URL", &a.url, NULL, NULL},
	        [FO_JSON] = {"--json", NULL, NULL, &a.json, NULL},
	        [FO_RUNTIME] = {"--runtime", "RUNTIME", &a.runtime, NULL, NULL},
	        [FO_HANDLER] = {"--handler", "HANDLER", &a.handler, NULL, NULL},
	        [FO_ZIP] = {"--zip-file", "FILE", &a.zip, NULL, NULL},
	        [FO_DIR] = {"--dir", "DIR", &a.dir, NULL, NULL},
	        [FO_TIMEOUT] = {"--timeout", "SECONDS", &a.timeout, NULL, NULL},
	        [FO_MEMORY] = {"--memory", "MB", &a.memory, NULL, NULL},
	        [FO_ENV] = {"--env", "K=V", NULL, NULL, &a.env},
	        [FO_DESC] = {"--description", "TEXT", &a.desc, NULL, NULL},
	        [FO_PUBLISH] = {"--publish", NULL, NULL, &a.publish, NULL},
	        [FO_VERSION] = {"--version", "N", &a.version, NULL, NULL},
	        [FO_ROLLBACK] = {"--rollback", NULL, NULL, &a.rollback, NULL},
	        [FO_PAYLOAD] = {"--payload", "JSON", &a.payload, NULL, NULL},
	        [FO_PAYLOAD_FILE] = {"--payload-file", "FILE", &a.payload_file, NULL, NULL},
	        [FO_OUT] = {"--out", "FILE", &a.out, NULL, NULL},
	};
	const struct cli_cmd cmd = {.name = "fn",
	                            .usage = usage,
	                            .opts = opts,
	                            .nopts = FO_COUNT,
	                            .always = B(FO_DATA) | B(FO_URL),
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
	strv_free(&a.env);
	return rc;
}
