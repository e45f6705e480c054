/*
 * cli.h — ferry's commands, each a function main() dispatches to with the
 * arguments after the command name (argv[0] is the command name).
 *
 * Exit statuses: 0 success; 1 the operation ran and failed (a build that
 * failed); 2 unusable input (bad flags, bad files), with a message on stderr.
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

/* `ferry build [...]`: runs a buildspec locally (cli/build_cmd.c). */
int cli_build(int argc, char **argv);

/* `ferry secret set|list|rm ...`: ferry's own secret store (cli/secret_cmd.c). */
int cli_secret(int argc, char **argv);

/* `codebuild-hash-files PATTERN...` / `ferry hash-files`: a hash for cache keys. */
int cli_hash_files(int argc, char **argv);

/* `ferry serve [...]`: the daemon (cli/serve_cmd.c). */
int cli_serve(int argc, char **argv);

/* `ferry pipeline create|update|get|list|delete|start|state|executions|execution|retry|
 * stop|disable-transition|enable-transition|triggers|webhook-secret ...`: the daemon's
 * pipelines over its API (cli/pipeline_cmd.c, pipeline_run_cmd.c, pipeline_show.c). */
int cli_pipeline(int argc, char **argv);

/* `ferry logs EXECUTION [ACTION] [--follow]`: action logs over the API (cli/logs_cmd.c). */
int cli_logs(int argc, char **argv);

/* `ferry token create|list|revoke ...`: API tokens over the API (cli/token_cmd.c). */
int cli_token(int argc, char **argv);

/* `ferry hook install REPO`: a post-receive hook that tells the daemon about pushes;
 * `ferry push --repo PATH OLD NEW REF`: what that hook runs (cli/hook_cmd.c). */
int cli_hook(int argc, char **argv);
int cli_push(int argc, char **argv);

/* `ferry site create|list|get|update|delete|releases|rollback|deploy ...`: static
 * sites and their releases over the API (cli/site_cmd.c). */
int cli_site(int argc, char **argv);

/* `ferry site invalidate ...` and `ferry site invalidations ...` (cli/site_invalidate_cmd.c):
 * cli_site() hands them over untouched, argv[0] being "invalidate" / "invalidations". */
int cli_site_invalidate(int argc, char **argv);
int cli_site_invalidations(int argc, char **argv);
/* `ferry site purge-target add|remove|list ...` (cli/site_purge_cmd.c), handed over
 * the same way with argv[0] "purge-target". */
int cli_site_purge_target(int argc, char **argv);

/* `ferry deploy group|push|list|get|log ...`: appspec deployment groups and
 * deployments over the API (cli/deploy_cmd.c). */
int cli_deploy(int argc, char **argv);

/* `ferry fn create|update-code|update-config|publish|alias|aliases|versions|list|get|
 * invoke|invocations|logs|delete ...`: functions over the API (cli/fn_cmd.c). */
int cli_fn(int argc, char **argv);

/*
 * The data directory: --data wins (passed as `flag`, may be NULL), then
 * $FERRY_DATA, then $XDG_DATA_HOME/ferry, then $HOME/.local/share/ferry.
 * Returns a string to free().
 */
char *cli_data_dir(const char *flag);

#endif
