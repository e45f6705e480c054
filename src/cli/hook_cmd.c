/*
 * hook_cmd.c — `ferry hook install REPO`: a post-receive hook in a bare repository
 * that tells the daemon about every pushed ref; and `ferry push`, what that hook runs.
 *
 * The hook is a short sh script with absolute paths baked in (this ferry binary, the
 * repository, the data directory) and a token of its own: a `start`-scoped token named
 * "hook:<repository's base name>", kept beside the hook in hooks/ferry.token (0600).
 * Reinstalling revokes the previous token of that name.
 *
 * A push must never fail or hang because ferry is down: the hook ignores ferry's exit
 * status (printing a warning the pusher sees as "remote: ..."), and `ferry push` gives
 * up after a few seconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "store/token.h"
#include "util/fs.h"

#define HOOK_MARKER      "ferry post-receive hook"
#define HOOK_TOKEN_FILE  "ferry.token"
#define HOOK_TOKEN_SCOPE "start"
#define PUSH_TIMEOUT_MS  5000
#define HOOK_FILE_MAX    (1 << 20)

static const char hook_usage[] =
        "usage: ferry hook install REPO [--force] [--data DIR] [--url URL]\n"
        "\n"
        "Writes REPO/hooks/post-receive (REPO: a bare repository) so that every push to\n"
        "it starts the pipelines whose source is that repository. The hook gets its own\n"
        "token (scope start, named hook:<REPO's name>) in REPO/hooks/ferry.token.\n"
        "  --force     replace a post-receive hook that is not ferry's\n"
        "  --data DIR  the daemon's data directory; the hook finds the daemon through\n"
        "              DIR/daemon.url at each push\n"
        "  --url URL   the daemon's URL, baked into the hook instead\n"
        "A push never fails because of ferry: errors are printed as warnings.\n";

static const char push_usage[] =
        "usage: ferry push --repo PATH OLD NEW REF [--data DIR] [--url URL]\n"
        "\n"
        "Tells the daemon that REF of the repository at PATH moved from OLD to NEW\n"
        "(what the post-receive hook of `ferry hook install` runs for each ref).\n";

/* "hook:<base name>" with characters a token name may not hold replaced. */
static char *hook_token_name(const char *repo)
{
	const char *base = strrchr(repo, '/') ? strrchr(repo, '/') + 1 : repo;
	char *name = xasprintf("hook:%.*s", STORE_TOKEN_NAME_MAX - 5, base);
	for (char *p = name + 5; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@:+-",
		            *p))
			*p = '-';
	return name;
}

/* 1 when `path` is a bare repository: HEAD, objects/ and refs/ at its top. */
static int is_bare_repo(const char *path)
{
	char *head = fs_join(path, "HEAD"), *objects = fs_join(path, "objects");
	char *refs = fs_join(path, "refs");
	int ok = fs_exists(head) && fs_is_dir(objects) && fs_is_dir(refs);
	free(head);
	free(objects);
	free(refs);
	return ok;
}

static char *hook_script(const char *ferry, const char *repo, const char *data, const char *url,
                         const char *token_file)
{
	struct buf b;
	buf_init(&b, HOOK_FILE_MAX);
	int rc = buf_puts(&b, "#!/bin/sh\n# " HOOK_MARKER
	                      ", written by `ferry hook install` (run it again to\n"
	                      "# update it). It tells the ferry daemon about each pushed ref "
	                      "and never\n# makes the push fail.\nFERRY_DATA=");
	rc |= buf_shell_quote(&b, data);
	rc |= buf_puts(&b, "\nexport FERRY_DATA\n");
	if (url) {
		rc |= buf_puts(&b, "FERRY_URL=");
		rc |= buf_shell_quote(&b, url);
		rc |= buf_puts(&b, "\nexport FERRY_URL\n");
	} else {
		rc |= buf_puts(&b,
		               "unset FERRY_URL # the daemon's URL is in $FERRY_DATA/daemon.url\n");
	}
	rc |= buf_puts(&b, "FERRY_TOKEN=$(cat ");
	rc |= buf_shell_quote(&b, token_file);
	rc |= buf_puts(&b, " 2>/dev/null)\nexport FERRY_TOKEN\n"
	                   "while read -r old new ref; do\n\t");
	rc |= buf_shell_quote(&b, ferry);
	rc |= buf_puts(&b, " push --repo ");
	rc |= buf_shell_quote(&b, repo);
	rc |= buf_puts(&b, " \"$old\" \"$new\" \"$ref\" </dev/null ||\n"
	                   "\t\techo \"warning: ferry did not get the push of $ref (the push "
	                   "itself succeeded)\" >&2\n"
	                   "done\nexit 0\n");
	if (rc < 0)
		abort(); /* a few paths cannot fill a megabyte */
	return buf_detach(&b);
}

/* Refuses to overwrite another tool's hook without --force. */
static int check_existing(const char *hook, int force)
{
	char *text = NULL;
	size_t len = 0;
	if (!fs_exists(hook) || force)
		return 0;
	struct err err;
	if (fs_read_file(hook, HOOK_FILE_MAX, &text, &len, &err) < 0) {
		fprintf(stderr, "ferry hook install: %s\n", err.msg);
		return 1;
	}
	int ours = strstr(text, HOOK_MARKER) != NULL;
	free(text);
	if (ours)
		return 0;
	fprintf(stderr,
	        "ferry hook install: %s exists and is not ferry's; nothing changed. Replace it "
	        "with --force, or call `ferry push --repo REPO OLD NEW REF` from it for each "
	        "line it reads\n",
	        hook);
	return 1;
}

/* Revokes the live token named `name`, if there is one. */
static int revoke_previous(struct cli_client *c, const char *name)
{
	json_t *out = NULL;
	int rc = cli_call(c, &(struct cli_req){.path = "/api/tokens"}, &out);
	if (rc)
		return rc;
	const json_t *t;
	size_t i;
	json_array_foreach(json_object_get(out, "tokens"), i, t)
	{
		if (!json_is_null(json_object_get(t, "revoked")) || !cli_str(t, "name") ||
		    strcmp(cli_str(t, "name"), name))
			continue;
		char *path = cli_path("api", "tokens", cli_str(t, "id"), NULL);
		rc = cli_call(c, &(struct cli_req){.method = "DELETE", .path = path}, NULL);
		free(path);
		break;
	}
	json_decref(out);
	return rc;
}

/* A new token for the hook, written to `file` (0600). */
static int hook_token(struct cli_client *c, const char *name, const char *file)
{
	if (revoke_previous(c, name))
		return 1;
	json_t *body = json_pack("{s:s,s:s}", "name", name, "scopes", HOOK_TOKEN_SCOPE);
	json_t *out = NULL;
	int rc = cli_call(
	        c, &(struct cli_req){.method = "POST", .path = "/api/tokens", .json = body}, &out);
	json_decref(body);
	if (rc)
		return rc;
	char *line = xasprintf("%s\n", cli_str(out, "token") ? cli_str(out, "token") : "");
	struct err err;
	if (fs_write_atomic(file, line, strlen(line), 0600, &err) < 0) {
		fprintf(stderr, "ferry hook install: %s\n", err.msg);
		rc = 1;
	}
	memset(line, 0, strlen(line));
	free(line);
	json_decref(out);
	return rc;
}

static int install(const char *repo_arg, const char *data, const char *url, int force)
{
	struct err err;
	char *repo = fs_realpath(repo_arg, &err), *ferry = NULL, *hooks = NULL, *hook = NULL;
	char *token_file = NULL, *name = NULL, *script = NULL;
	struct cli_client c = {0};
	int rc = 1;
	if (!repo) {
		fprintf(stderr, "ferry hook install: %s\n", err.msg);
		return 1;
	}
	if (!is_bare_repo(repo)) {
		fprintf(stderr,
		        "ferry hook install: %s is not a bare git repository (no HEAD, objects/ "
		        "and refs/ at its top); install the hook where pushes arrive\n",
		        repo);
		goto out;
	}
	hooks = fs_join(repo, "hooks");
	hook = fs_join(hooks, "post-receive");
	token_file = fs_join(hooks, HOOK_TOKEN_FILE);
	if (check_existing(hook, force))
		goto out;
	if (!(ferry = fs_realpath("/proc/self/exe", &err)) || fs_mkdir_p(hooks, 0755, &err) < 0) {
		fprintf(stderr, "ferry hook install: %s\n", err.msg);
		goto out;
	}
	cli_client_init(&c, data, url);
	name = hook_token_name(repo);
	if (hook_token(&c, name, token_file))
		goto out;
	char *data_abs = fs_realpath(c.data, &err); /* the hook runs in the repository */
	script = hook_script(ferry, repo, data_abs ? data_abs : c.data, url, token_file);
	free(data_abs);
	if (fs_write_atomic(hook, script, strlen(script), 0755, &err) < 0) {
		fprintf(stderr, "ferry hook install: %s\n", err.msg);
		goto out;
	}
	fprintf(stderr,
	        "ferry: hook installed: %s\n"
	        "ferry: pushes to %s now reach the daemon at %s (token \"%s\", "
	        "scope " HOOK_TOKEN_SCOPE ")\n",
	        hook, repo, url ? url : c.url, name);
	rc = 0;
out:
	if (c.url)
		cli_client_free(&c);
	free(repo);
	free(ferry);
	free(hooks);
	free(hook);
	free(token_file);
	free(name);
	free(script);
	return rc;
}

int cli_hook(int argc, char **argv)
{
	const char *data = NULL, *url = NULL;
	int force = 0;
	struct cli_opt opts[] = {
	        {"--data", "DIR", &data, NULL, NULL},
	        {"--url", "URL", &url, NULL, NULL},
	        {"--force", NULL, NULL, &force, NULL},
	};
	struct strv pos = STRV_INIT;
	unsigned seen = 0;
	int rc = cli_args(argc, argv, opts, 3, &pos, &seen, "hook", hook_usage);
	if (rc == 3) {
		fputs(hook_usage, stdout);
		rc = 0;
	} else if (rc == 0 && (!pos.n || strcmp(pos.v[0], "install"))) {
		rc = pos.n ? cli_usage_error("hook", hook_usage, "unknown subcommand \"%s\"",
		                             pos.v[0])
		           : cli_usage_error("hook", hook_usage, "missing subcommand (install)");
	} else if (rc == 0 && pos.n != 2) {
		rc = pos.n < 2 ? cli_usage_error("hook", hook_usage, "install needs a REPO")
		               : cli_usage_error("hook", hook_usage, "unexpected argument \"%s\"",
		                                 pos.v[2]);
	} else if (rc == 0) {
		rc = install(pos.v[1], data, url, force);
	}
	strv_free(&pos);
	return rc;
}

/* ---- push ---- */

static void print_events(const json_t *out, const char *repo)
{
	const json_t *events = json_object_get(out, "events"), *ev;
	size_t i;
	json_array_foreach(events, i, ev)
	{
		const char *outcome = cli_str(ev, "outcome"),
		           *id = cli_str(ev, "pipelineExecutionId");
		const char *reason = cli_str(ev, "reason");
		if (outcome && !strcmp(outcome, "started") && id)
			printf("ferry: pipeline %s: started execution %s\n",
			       cli_str(ev, "pipeline"), id);
		else
			printf("ferry: pipeline %s: %s%s%s\n", cli_str(ev, "pipeline"),
			       outcome ? outcome : "?", reason ? ": " : "", reason ? reason : "");
	}
	if (!json_array_size(events))
		printf("ferry: no pipeline builds from %s\n", repo);
}

int cli_push(int argc, char **argv)
{
	const char *data = NULL, *url = NULL, *repo = NULL;
	struct cli_opt opts[] = {
	        {"--data", "DIR", &data, NULL, NULL},
	        {"--url", "URL", &url, NULL, NULL},
	        {"--repo", "PATH", &repo, NULL, NULL},
	};
	struct strv pos = STRV_INIT;
	unsigned seen = 0;
	int rc = cli_args(argc, argv, opts, 3, &pos, &seen, "push", push_usage);
	if (rc == 3) {
		fputs(push_usage, stdout);
		rc = 0;
		goto out;
	}
	if (rc == 0 && !repo)
		rc = cli_usage_error("push", push_usage, "--repo PATH is required");
	else if (rc == 0 && pos.n != 3)
		rc = cli_usage_error("push", push_usage, "expected OLD NEW REF, got %zu argument%s",
		                     pos.n, pos.n == 1 ? "" : "s");
	if (rc)
		goto out;
	struct err err;
	char *abs = fs_realpath(repo, &err);
	if (!abs) {
		fprintf(stderr, "ferry push: %s\n", err.msg);
		rc = 1;
		goto out;
	}
	json_t *body = json_pack("{s:s,s:s,s:s,s:s}", "repo", abs, "ref", pos.v[2], "before",
	                         pos.v[0], "after", pos.v[1]);
	struct cli_client c;
	cli_client_init(&c, data, url);
	json_t *answer = NULL;
	rc = cli_call(&c,
	              &(struct cli_req){.method = "POST",
	                                .path = "/api/push",
	                                .json = body,
	                                .timeout_ms = PUSH_TIMEOUT_MS},
	              &answer);
	if (rc == 0)
		print_events(answer, abs);
	json_decref(answer);
	json_decref(body);
	cli_client_free(&c);
	free(abs);
out:
	strv_free(&pos);
	return rc;
}
