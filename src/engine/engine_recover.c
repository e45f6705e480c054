/*
 * engine_recover.c — what engine_open() does after an unclean stop (SIGKILL, power
 * loss): actions recorded InProgress have no parent any more; they are ended (their
 * process group killed if it still runs and is theirs) and recorded Failed with the
 * summary "interrupted by restart". Executions that were in progress are loaded
 * back; the state machine then fails the stages those actions were in, and lets
 * waiting executions go on. Two kinds of InProgress action wait on through a restart:
 * a Manual approval, and an Invoke whose job is still open (its function may answer
 * later; engine_invoke.c).
 */
#include "engine/engine_int.h"

#include <signal.h>
#include <string.h>

#include "util/timeutil.h"

#define RECOVER_SUMMARY "interrupted by restart"

int eng_recover(struct engine *e, struct err *err)
{
	struct store_action *acts = NULL;
	size_t n = 0;
	if (store_action_list_running(e->st, &acts, &n, err) < 0)
		return -1;
	int rc = 0;
	if (n && store_tx_begin(e->st, err) < 0)
		rc = -1;
	size_t failed = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_action *a = &acts[i];
		if (eng_approval_is_waiting(a))
			continue; /* a person's answer is awaited, not a process: it goes on */
		if (eng_invoke_keeps_waiting(e, a))
			continue; /* an Invoke's job result may still come (engine_invoke.c) */
		failed++;
		/* the pid may have been reused: kill only a process started when ours was */
		if (a->pid > 0 && a->pid_start > 0 &&
		    eng_proc_start_ticks((int)a->pid) == a->pid_start)
			kill(-(pid_t)a->pid, SIGKILL);
		eng_row_set(&a->status, "Failed");
		eng_row_set(&a->summary, RECOVER_SUMMARY);
		eng_row_set(&a->error_code, "JobFailed");
		eng_row_set(&a->error_message, RECOVER_SUMMARY);
		a->updated_ms = wall_ms();
		if (store_action_put(e->st, a, err) < 0)
			rc = -1;
	}
	if (n && rc == 0 && store_tx_commit(e->st, err) < 0)
		rc = -1;
	if (rc < 0)
		store_tx_rollback(e->st);
	else if (n)
		eng_log(e,
		        "engine: %zu action(s) were running when ferry stopped: recorded as "
		        "Failed (" RECOVER_SUMMARY ")",
		        n);
	store_action_list_free(acts, n);
	if (rc < 0)
		return -1;

	struct store_exec *rows = NULL;
	size_t nx = 0;
	if (store_exec_list_active(e->st, &rows, &nx, err) < 0)
		return -1;
	struct eng_exec **tail = &e->active;
	while (*tail)
		tail = &(*tail)->next;
	for (size_t i = 0; i < nx && rc == 0; i++) {
		struct eng_exec *x = NULL;
		if (eng_exec_load(e, &rows[i], &x, err) < 0) {
			rc = -1;
			break;
		}
		*tail = x;
		tail = &x->next;
	}
	store_exec_list_free(rows, nx);
	if (rc == 0) {
		eng_approvals_rearm(e);
		eng_invokes_rearm(e);
	}
	return rc;
}
