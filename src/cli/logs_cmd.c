/*
 * logs_cmd.c — `ferry logs EXECUTION [ACTION] [--follow]`: action logs from the daemon.
 *
 * With ACTION, that action's log (its latest attempt); --follow streams it until the
 * action ends. Without ACTION, every action of the execution in the order they ran,
 * each under a "==> Stage / Action <==" line; --follow then keeps going while the
 * execution runs, following each action as it starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"

#define LOGS_IDLE_WAIT_S 1 /* between looks for the next action while following */

static const char usage[] =
        "usage: ferry logs EXECUTION [ACTION] [--follow] [--data DIR] [--url URL]\n"
        "\n"
        "Prints the logs of an execution's actions, in the order they ran.\n"
        "  ACTION     one action's log (a name: its latest attempt; or an action\n"
        "             execution id)\n"
        "  --follow   keep printing while it runs, until it ends\n"
        "  --data DIR, --url URL   as for `ferry pipeline`\n";

static int to_stdout(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	if (fwrite(data, 1, len, stdout) != len)
		return 1; /* stdout closed (a pager quit): stop reading */
	fflush(stdout);
	return 0;
}

static int print_log(struct cli_client *c, const char *execution, const char *action, int follow)
{
	char *base = cli_path("api", "executions", execution, "logs", action, NULL);
	char *path = follow ? xasprintf("%s?follow=1", base) : xstrdup(base);
	int rc = cli_call(
	        c, &(struct cli_req){.path = path, .on_chunk = to_stdout, .timeout_ms = -1}, NULL);
	free(path);
	free(base);
	return rc;
}

static int fetch(struct cli_client *c, const char *execution, json_t **out)
{
	char *path = cli_path("api", "executions", execution, NULL);
	int rc = cli_call(c, &(struct cli_req){.path = path}, out);
	free(path);
	return rc;
}

static int running(const char *status)
{
	return status && (!strcmp(status, "InProgress") || !strcmp(status, "Stopping"));
}

/* One look at the execution: prints the actions not printed yet, in the order they
 * ran. *more is 1 while the execution still runs. */
static int pass(struct cli_client *c, const char *execution, int follow, struct strv *done,
                int *printed, int *more)
{
	json_t *ex = NULL;
	int rc = fetch(c, execution, &ex);
	if (rc)
		return rc;
	const json_t *details = json_object_get(ex, "actionExecutionDetails");
	*more = running(cli_str(json_object_get(ex, "pipelineExecution"), "status"));
	*printed = 0;
	for (size_t k = json_array_size(details); k-- > 0 && rc == 0;) {
		const json_t *d = json_array_get(details, k);
		const char *id = cli_str(d, "actionExecutionId");
		const char *status = cli_str(d, "status");
		if (!id || strv_contains(done, id))
			continue;
		/* without --follow a running action is shown as far as it got */
		printf("%s==> %s / %s (%s) <==\n", done->n ? "\n" : "", cli_str(d, "stageName"),
		       cli_str(d, "actionName"), status ? status : "?");
		fflush(stdout);
		rc = print_log(c, execution, id, follow && running(status));
		strv_push(done, id);
		(*printed)++;
	}
	json_decref(ex);
	return rc;
}

static int all_actions(struct cli_client *c, const char *execution, int follow)
{
	struct strv done = STRV_INIT;
	int rc = 0, more = 0, printed = 0;
	do {
		rc = pass(c, execution, follow, &done, &printed, &more);
		if (rc == 0 && follow && more && !printed)
			sleep(LOGS_IDLE_WAIT_S); /* between stages: nothing to follow yet */
	} while (rc == 0 && follow && more);
	if (rc == 0 && !done.n)
		fprintf(stderr, "ferry: execution %s has run no action yet\n", execution);
	strv_free(&done);
	return rc;
}

int cli_logs(int argc, char **argv)
{
	const char *data = NULL, *url = NULL;
	int follow = 0;
	struct cli_opt opts[] = {
	        {"--data", "DIR", &data, NULL, NULL},
	        {"--url", "URL", &url, NULL, NULL},
	        {"--follow", NULL, NULL, &follow, NULL},
	        {"-f", NULL, NULL, &follow, NULL},
	};
	struct strv pos = STRV_INIT;
	unsigned seen = 0;
	int rc = cli_args(argc, argv, opts, 4, &pos, &seen, "logs", usage);
	if (rc == 3) {
		fputs(usage, stdout);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if (pos.n < 1 || pos.n > 2) {
		rc = pos.n ? cli_usage_error("logs", usage, "unexpected argument \"%s\"", pos.v[2])
		           : cli_usage_error("logs", usage, "missing EXECUTION");
		goto out;
	}
	struct cli_client c;
	cli_client_init(&c, data, url);
	rc = pos.n == 2 ? print_log(&c, pos.v[0], pos.v[1], follow)
	                : all_actions(&c, pos.v[0], follow);
	cli_client_free(&c);
out:
	strv_free(&pos);
	return rc;
}
