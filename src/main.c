/* main.c — ferry's command line: dispatches to the commands in src/cli/. */
#include <stdio.h>
#include <string.h>

#include "actions/action.h"
#include "actions/appspec_deploy.h"
#include "cli/cli.h"
#include "engine/notify.h"
#include "functions/invoke_main.h"

#define FERRY_VERSION "0.1.0"

static const char usage[] =
        "usage: ferry <command> [options]\n"
        "\n"
        "commands:\n"
        "  build     run a buildspec.yml on this machine (ferry build --help)\n"
        "  serve     run the daemon: pipelines and the HTTP API (ferry serve --help)\n"
        "  pipeline  create, run and watch pipelines (ferry pipeline --help)\n"
        "  site      static sites: create, deploy, roll back (ferry site --help)\n"
        "  fn        functions (Lambda): create, invoke, versions, aliases (ferry fn --help)\n"
        "  deploy    appspec.yml deployments to local targets (ferry deploy --help)\n"
        "  logs      print or follow the logs of an execution's actions\n"
        "  token     API tokens: create, list, revoke (ferry token --help)\n"
        "  hook      install the post-receive hook that starts pipelines on push\n"
        "  push      tell the daemon about a pushed ref (what the hook runs)\n"
        "  secret    manage the secrets builds read (ferry secret --help)\n"
        "  hash-files PATTERN...  the hash codebuild-hash-files prints (cache keys)\n"
        "  version   print ferry's version\n";

int main(int argc, char **argv)
{
	/* builds call ferry through a link of this name on their PATH (spec §7) */
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (!strcmp(self, "codebuild-hash-files"))
		return cli_hash_files(argc, argv);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "__notify"))
		return notify_post_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "__invoke"))
		return fn_invoke_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "fn"))
		return cli_fn(argc - 1, argv + 1);
	if (!strcmp(cmd, "__action"))
		return action_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "__deploy"))
		return appspec_deploy_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "deploy"))
		return cli_deploy(argc - 1, argv + 1);
	if (!strcmp(cmd, "build"))
		return cli_build(argc - 1, argv + 1);
	if (!strcmp(cmd, "hash-files"))
		return cli_hash_files(argc - 1, argv + 1);
	if (!strcmp(cmd, "secret"))
		return cli_secret(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
		return cli_serve(argc - 1, argv + 1);
	if (!strcmp(cmd, "pipeline"))
		return cli_pipeline(argc - 1, argv + 1);
	if (!strcmp(cmd, "site"))
		return cli_site(argc - 1, argv + 1);
	if (!strcmp(cmd, "logs"))
		return cli_logs(argc - 1, argv + 1);
	if (!strcmp(cmd, "token"))
		return cli_token(argc - 1, argv + 1);
	if (!strcmp(cmd, "hook"))
		return cli_hook(argc - 1, argv + 1);
	if (!strcmp(cmd, "push"))
		return cli_push(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		puts("ferry " FERRY_VERSION);
		return 0;
	}
	fprintf(stderr, "ferry: unknown command \"%s\"\n%s", cmd, usage);
	return 2;
}
