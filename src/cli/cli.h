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

/*
 * The data directory: --data wins (passed as `flag`, may be NULL), then
 * $FERRY_DATA, then $XDG_DATA_HOME/ferry, then $HOME/.local/share/ferry.
 * Returns a string to free().
 */
char *cli_data_dir(const char *flag);

#endif
