/*
 * shell.h — the build's command shell: CodeBuild 0.2's observable command model
 * (../shared/spec/buildspec.md §4.2) without a process per command.
 *
 * Model: one small *agent* shell runs for the whole build (inside the sandbox when
 * there is one); it starts *worker* shells on request and reports when they exit.
 * A worker runs the commands one after another, each dot-sourced from a script
 * whose line 4 is the command's first line (so errors read `script.sh: 4:`), and
 * after each command reports its status, directory and exported variables.
 *
 * What a later command sees (as on CodeBuild): the directory and every variable,
 * plain assignments included (auto-export), CODEBUILD_BUILD_SUCCEEDING updates.
 * What it does not see: shell options and positional parameters (reset before each
 * command); functions, aliases, traps, arrays, ulimit/umask/exec redirections — a
 * command whose text could create those is followed by a fresh worker that gets
 * only the saved state; `exit` (or a fatal shell error) ends only its command, and
 * the next command runs in a fresh worker restored from the state saved after the
 * previous command (the state changes of the command that exited are lost).
 *
 * Invariants:
 *  - background processes keep running across commands and phases; shell_kill()
 *    ends every process the build started (the whole process group; in a sandbox
 *    the whole pid namespace);
 *  - commands never read from ferry: stdin is /dev/null;
 *  - a wait never outlives `deadline_ms` and always honours `stop_fd`.
 *
 * Ownership: the session owns its processes, fifos and files in `ctl_dir`.
 */
#ifndef FERRY_SHELL_H
#define FERRY_SHELL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

struct shell; /* opaque */

struct shell_config {
	const char *ctl_dir; /* private dir for fifos and scripts; same path in sandbox */
	const char *const *argv_prefix; /* sandbox launcher argv ending in "--", or NULL */
	const char *shell_path;         /* absolute, e.g. "/bin/sh", "/bin/bash" */
	int is_bash;
	int stateless;          /* buildspec 0.1: every command starts from the initial state */
	const char *const *env; /* initial environment, "NAME=value" */
	const char *cwd;        /* initial working directory */
	int ctl_shared;         /* make ctl files usable by other users (run-as) */
};

struct shell_hooks {
	/* raw output bytes of every process of the build, as they come */
	void (*output)(void *ctx, const char *data, size_t len);
	void *ctx;
	int stop_fd; /* readable → stop; -1 for none */
	int tick_ms; /* call tick() after this long without any event; 0: never */
	void (*tick)(void *ctx);
	int64_t deadline_ms; /* mono_ms() deadline; 0 for none */
};

enum shell_outcome {
	SHELL_DONE = 0,
	SHELL_STOPPED = 1,
	SHELL_TIMED_OUT = 2,
};

FERRY_MUST_CHECK
int shell_start(const struct shell_config *cfg, struct shell **out, struct err *err);

/*
 * Runs one command as `run_as` (NULL: the current user), first applying
 * `assignments` (shell text like "A=1;B=2", may be NULL). Returns SHELL_DONE with
 * *status (0 = success, 128+N when killed by signal N), SHELL_STOPPED,
 * SHELL_TIMED_OUT, or -1 with `err` (the session is then unusable).
 */
FERRY_MUST_CHECK
int shell_run(struct shell *sh, const char *command, const char *run_as, const char *assignments,
              const struct shell_hooks *hooks, int *status, struct err *err);

/*
 * Evaluates each of `words` as the text of a double-quoted shell word in the
 * current state ("$VAR", "$(cmd)" allowed) and fills values[i] (caller frees).
 * Returns as shell_run() does.
 */
FERRY_MUST_CHECK
int shell_eval(struct shell *sh, const char *const *words, size_t n, char **values,
               const struct shell_hooks *hooks, struct err *err);

/* Reads whatever output is pending without waiting and passes it to hooks. */
void shell_drain(struct shell *sh, const struct shell_hooks *hooks);

/* Ends every process of the build and reaps the agent. Idempotent. */
void shell_kill(struct shell *sh);

/* Kills (if needed) and frees; removes nothing from ctl_dir. */
void shell_free(struct shell *sh);

/* 1 when the command's text could leave state a fresh CodeBuild shell would not have. */
int shell_command_taints(const char *command, int is_bash);

/*
 * 1 when the command could end its bash shell (exit, exec, set -e/-u, ${x?}, a
 * sourced script, ...): the state is saved before it runs. dash also exits on a
 * syntax error, so under dash the state is saved before every command.
 */
int shell_command_may_exit(const char *command);

/* How many worker shells were started (for tests and the benchmark). */
int shell_worker_starts(const struct shell *sh);

#endif
