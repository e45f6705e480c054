/* Unit tests for build/shell: CodeBuild 0.2's command model (spec §4.2–4.4). */
#include "testutil.h"

#include <signal.h>

#include "build/shell.h"
#include "util/timeutil.h"

struct fx {
	char *dir;
	char *ctl;
	struct shell *sh;
	struct buf out;
	struct shell_hooks hooks;
};

static void on_output(void *ctx, const char *data, size_t len)
{
	struct fx *f = ctx;
	assert_int_equal(buf_append(&f->out, data, len), 0);
}

static void start(struct fx *f, const char *shell_path, int is_bash)
{
	struct err err;
	f->dir = tu_mkdtemp();
	f->ctl = fs_join(f->dir, "ctl");
	assert_int_equal(fs_mkdir_p(f->ctl, 0700, &err), 0);
	char *sub = fs_join(f->dir, "sub");
	assert_int_equal(fs_mkdir_p(sub, 0755, &err), 0);
	free(sub);
	const char *env[] = {"PATH=/usr/bin:/bin", "HOME=/root", "START=yes", NULL};
	struct shell_config cfg = {
	        .ctl_dir = f->ctl,
	        .shell_path = shell_path,
	        .is_bash = is_bash,
	        .env = env,
	        .cwd = f->dir,
	};
	buf_init(&f->out, 1 << 20);
	f->hooks = (struct shell_hooks){
	        .output = on_output, .ctx = f, .stop_fd = -1, .deadline_ms = mono_ms() + 20000};
	if (shell_start(&cfg, &f->sh, &err) != 0)
		fail_msg("%s", err.msg);
}

static int setup_sh(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	start(f, "/bin/sh", 0);
	*state = f;
	return 0;
}

static int setup_bash(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	start(f, "/bin/bash", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	shell_free(f->sh);
	buf_free(&f->out);
	free(f->ctl);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static int run(struct fx *f, const char *cmd)
{
	struct err err;
	int status = -1;
	int rc = shell_run(f->sh, cmd, NULL, NULL, &f->hooks, &status, &err);
	if (rc != SHELL_DONE)
		fail_msg("shell_run(%s) = %d: %s", cmd, rc, rc < 0 ? err.msg : "");
	return status;
}

/* Output of `cmd` alone (resets the captured output first). */
static const char *out_of(struct fx *f, const char *cmd)
{
	buf_reset(&f->out);
	run(f, cmd);
	return f->out.data ? f->out.data : "";
}

/* Checklist 10/11: a cd is seen by later commands. */
static void test_cd_persists(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "cd sub"), 0);
	char *want = xasprintf("%s/sub\n", f->dir);
	assert_string_equal(out_of(f, "pwd"), want);
	free(want);
}

/* Checklist 12: plain assignments persist and reach child processes. */
static void test_plain_assignment_persists_and_is_exported(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "X=1"), 0);
	assert_string_equal(out_of(f, "sh -c 'echo child:$X'"), "child:1\n");
	assert_string_equal(out_of(f, "echo $START"), "yes\n");
}

/* Checklist 17: exit 0 ends only its command; the next one runs. */
static void test_exit_ends_only_its_command(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "Y=kept; cd sub"), 0);
	assert_int_equal(run(f, "Z=lost; cd /; exit 3"), 3);
	char *want = xasprintf("kept--%s/sub\n", f->dir);
	assert_string_equal(out_of(f, "echo $Y-$Z-$PWD"), want);
	free(want);
}

/* Checklist 14: set -e in one item does not leak into the next. */
static void test_options_do_not_persist(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "set -e"), 0);
	assert_string_equal(out_of(f, "false; echo after"), "after\n");
	assert_int_equal(run(f, "set -u"), 0);
	assert_int_equal(run(f, "echo ${NOPE}x"), 0);
}

/* Checklist 15/16: a block's status is its last statement's; set -e inside fails it. */
static void test_block_status(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "false\ntrue\n"), 0);
	buf_reset(&f->out);
	assert_int_not_equal(run(f, "set -e\nfalse\necho no\n"), 0);
	assert_null(strstr(f->out.data ? f->out.data : "", "no"));
	assert_string_equal(out_of(f, "echo still"), "still\n");
}

/* Functions defined by one item are gone in the next (spec §4.2). */
static void test_functions_do_not_persist(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "greet() { echo hi; }; greet"), 0);
	assert_int_equal(run(f, "greet"), 127);
}

/* Checklist 20: errors name script.sh line 4 for the command's first line. */
static void test_error_names_script_line_4(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "nosuchcommand_ferry"), 127);
	assert_non_null(strstr(f->out.data, "script.sh: 4:"));
}

/* Checklist 19: the default shell is sh (dash), so [[ fails. */
static void test_sh_has_no_double_brackets(void **state)
{
	struct fx *f = *state;
	assert_int_not_equal(run(f, "[[ 1 == 1 ]]"), 0);
}

/* Checklist 13: with bash, arrays do not survive to the next item. */
static void test_bash_arrays_do_not_persist(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "[[ 1 == 1 ]]"), 0);
	assert_int_equal(run(f, "arr=(a b)"), 0);
	assert_string_equal(out_of(f, "echo \"${arr[1]}x\""), "x\n");
}

/* Checklist 32: a background process started earlier is still alive later. */
static void test_background_process_survives(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, "nohup sleep 30 >/dev/null 2>&1 & echo $! > bg.pid"), 0);
	assert_int_equal(run(f, "exit 1"), 1); /* even across a fresh worker */
	assert_int_equal(run(f, "kill -0 $(cat bg.pid)"), 0);
}

/* shell_eval sees variables and command substitution in the current state. */
static void test_eval_words(void **state)
{
	struct fx *f = *state;
	struct err err;
	assert_int_equal(run(f, "V=v1"), 0);
	const char *words[] = {"out-$(echo $V)", "${UNSET_X}", "$START"};
	char *vals[3];
	assert_int_equal(shell_eval(f->sh, words, 3, vals, &f->hooks, &err), SHELL_DONE);
	assert_string_equal(vals[0], "out-v1");
	assert_string_equal(vals[1], "");
	assert_string_equal(vals[2], "yes");
	for (int i = 0; i < 3; i++)
		free(vals[i]);
}

/* A deadline ends the wait with SHELL_TIMED_OUT; shell_kill ends everything. */
static void test_deadline(void **state)
{
	struct fx *f = *state;
	struct err err;
	int status;
	f->hooks.deadline_ms = mono_ms() + 300;
	int64_t t0 = mono_ms();
	assert_int_equal(shell_run(f->sh, "sleep 20", NULL, NULL, &f->hooks, &status, &err),
	                 SHELL_TIMED_OUT);
	assert_true(mono_ms() - t0 < 5000);
	shell_kill(f->sh);
}

/* A stop request ends the wait with SHELL_STOPPED. */
static void test_stop_fd(void **state)
{
	struct fx *f = *state;
	struct err err;
	int status, p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	f->hooks.stop_fd = p[0];
	assert_int_equal(shell_run(f->sh, "sleep 20", NULL, NULL, &f->hooks, &status, &err),
	                 SHELL_STOPPED);
	shell_kill(f->sh);
	close(p[0]);
	close(p[1]);
}

/* Most commands reuse the worker: one start for many plain commands. */
static void test_plain_commands_reuse_one_worker(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 20; i++)
		assert_int_equal(run(f, "true; A=$((A+1))"), 0);
	assert_int_equal(shell_worker_starts(f->sh), 1);
	assert_string_equal(out_of(f, "echo $A"), "20\n");
}

static void test_taint_scan(void **state)
{
	(void)state;
	assert_true(shell_command_taints(". ./env.sh", 0));
	assert_true(shell_command_taints("x=1; . ./env.sh", 0));
	assert_false(shell_command_taints("find . -name x", 0));
	assert_false(shell_command_taints("cp -r . /tmp/x", 0));
	assert_true(shell_command_taints("f() { :; }", 0));
	assert_false(shell_command_taints("echo $(date)", 0));
	assert_true(shell_command_taints("trap 'rm x' EXIT", 0));
	assert_false(shell_command_taints("npm run set-up", 0));
	assert_true(shell_command_taints("a=(1 2)", 1));
	assert_true(shell_command_taints("read -ra parts <<< \"$x\"", 1));
	assert_false(shell_command_taints("read -r line < f", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_cd_persists, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_plain_assignment_persists_and_is_exported,
	                                        setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_exit_ends_only_its_command, setup_sh,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_exit_ends_only_its_command, setup_bash,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_options_do_not_persist, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_options_do_not_persist, setup_bash, teardown),
	        cmocka_unit_test_setup_teardown(test_block_status, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_functions_do_not_persist, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_functions_do_not_persist, setup_bash,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_error_names_script_line_4, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_sh_has_no_double_brackets, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_bash_arrays_do_not_persist, setup_bash,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_background_process_survives, setup_sh,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_eval_words, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_deadline, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_stop_fd, setup_sh, teardown),
	        cmocka_unit_test_setup_teardown(test_plain_commands_reuse_one_worker, setup_sh,
	                                        teardown),
	        cmocka_unit_test(test_taint_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
