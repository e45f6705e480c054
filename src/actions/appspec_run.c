/*
 * appspec_run.c — a lifecycle event's hook scripts, as the CodeDeploy agent runs them
 * (spec §9): one after the other, cwd the deployment archive, each in its own process
 * group with its timeout, its output into the deployment's log.
 *
 * Why it is built this way:
 *  - the wait is on the script's exit, not on its output's end: an ApplicationStart
 *    that starts a service in the background (which keeps the pipe open) must not
 *    hang the deployment until the timeout, as it does with the real agent;
 *  - a script that succeeded keeps its process group alive (the service it started);
 *    one that timed out, or a stop, kills its whole group;
 *  - everything the child needs (argv, environment, groups) is made before fork(),
 *    so the child only makes async-signal-safe calls before exec;
 *  - a script without its execute bit is made executable, as the agent does; one
 *    without a "#!" line runs with /bin/sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions/appspec_int.h"
#include "util/fs.h"
#include "util/timeutil.h"

extern char **environ;

#define POLL_SLICE_MS  100
#define GROUPS_MAX     256
#define HOOK_ENV_NAMES 16

volatile sig_atomic_t appspec_stop_requested;

static void log_write(struct dctx *c, const char *data, size_t len)
{
	if (c->logfd >= 0 && fs_write_all(c->logfd, data, len) < 0) {
		/* a full disk must not fail the deployment: the events are in the store */
	}
	if (c->req->log_stdout) {
		fflush(stdout);
		if (fs_write_all(STDOUT_FILENO, data, len) < 0) {
		}
	}
}

void dlog(struct dctx *c, const char *tag, const char *fmt, ...)
{
	char line[ERR_MSG_MAX + 64];
	int n = snprintf(line, sizeof line, "[%s] ", tag);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	line[len++] = '\n';
	log_write(c, line, len);
}

void hook_result_clear(struct hook_result *res)
{
	free(res->script);
	free(res->message);
	memset(res, 0, sizeof *res);
	res->exit_code = -1;
}

FERRY_PRINTF(4, 5)
static int hook_fail(struct hook_result *res, const char *code, int exit_code, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	res->code = code;
	res->exit_code = exit_code;
	free(res->message);
	res->message = xstrdup(msg);
	return -1;
}

/* The script's environment: ferry's own, minus the names set here, plus those. */
static char **hook_env(struct dctx *c, const struct dtarget *t, enum appspec_event ev)
{
	struct strv add = STRV_INIT;
	strv_pushf(&add, "LIFECYCLE_EVENT=%s", appspec_event_name(ev));
	strv_pushf(&add, "DEPLOYMENT_ID=%s", c->id);
	strv_pushf(&add, "APPLICATION_NAME=%s", c->g->app);
	strv_pushf(&add, "DEPLOYMENT_GROUP_NAME=%s", c->g->name);
	strv_pushf(&add, "DEPLOYMENT_GROUP_ID=%s", c->g->id);
	strv_push(&add, "BUNDLE_BUCKET=ferry-artifacts");
	strv_pushf(&add, "BUNDLE_KEY=%s/%s/bundles/%s.zip", c->g->app, c->g->name, c->id);
	strv_pushf(&add, "BUNDLE_ETAG=%s", c->revision ? c->revision : "");
	if (c->revision && strlen(c->revision) == 40)
		strv_pushf(&add, "BUNDLE_COMMIT=%s", c->revision);
	strv_pushf(&add, "FERRY_TARGET_ROOT=%s", t->dir);
	if (t->slot) {
		strv_pushf(&add, "FERRY_SLOT=%s", t->slot);
		strv_pushf(&add, "FERRY_SLOT_PORT=%d", t->port);
	}
	struct strv env = STRV_INIT;
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
		int ours = 0;
		for (size_t i = 0; i < add.n && !ours; i++)
			ours = !strncmp(add.v[i], *e, n) && add.v[i][n] == '=';
		if (!ours && strncmp(*e, "FERRY_SLOT", 10) && strncmp(*e, "BUNDLE_", 7))
			strv_push(&env, *e);
	}
	for (size_t i = 0; i < add.n; i++)
		strv_push(&env, add.v[i]);
	strv_free(&add);
	return env.v;
}

static void env_free(char **env)
{
	for (char **e = env; e && *e; e++)
		free(*e);
	free(env);
}

struct runas {
	int set;
	uid_t uid;
	gid_t gid;
	gid_t groups[GROUPS_MAX];
	int ngroups;
	char *home;
};

/* `runas` honoured when ferry runs as root; else only the user ferry runs as. */
static int runas_lookup(const char *user, struct runas *ra, struct hook_result *res)
{
	memset(ra, 0, sizeof *ra);
	if (!user)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw)
		return hook_fail(res, "UnknownError", -1, "runas: there is no user \"%s\"", user);
	if (pw->pw_uid == geteuid())
		return 0;
	if (geteuid() != 0)
		return hook_fail(res, "UnknownError", -1,
		                 "runas: %s: ferry runs as uid %u, not root, and cannot run a "
		                 "script as another user",
		                 user, (unsigned)geteuid());
	ra->set = 1;
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	ra->ngroups = GROUPS_MAX;
	if (getgrouplist(user, pw->pw_gid, ra->groups, &ra->ngroups) < 0)
		ra->ngroups = 0;
	ra->home = xstrdup(pw->pw_dir);
	return 0;
}

/* Tees what is readable on `fd` into the log; 0 at end of file. */
static ssize_t pump(struct dctx *c, int fd)
{
	char buf[DEPLOY_OUTPUT_CHUNK];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n > 0)
		log_write(c, buf, (size_t)n);
	return n;
}

/* Waits for `pid` up to `timeout_s`, copying its output. 0 with *status, 1 on timeout
 * or stop (the group killed). */
static int wait_script(struct dctx *c, pid_t pid, int fd, int timeout_s, int *status)
{
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	int open_fd = 1;
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			break;
		int64_t now = mono_ms();
		if (now >= deadline || appspec_stop_requested) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
			}
			return 1;
		}
		int slice = (int)(deadline - now < POLL_SLICE_MS ? deadline - now : POLL_SLICE_MS);
		if (open_fd) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			int r = poll(&p, 1, slice);
			if (r > 0) {
				ssize_t got = pump(c, fd);
				if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
					open_fd = 0;
			}
		} else {
			/* the output ended: the script is exiting, look again soon */
			struct timespec ts = {0, (long)(slice < 5 ? slice : 5) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	/* what the script wrote before exiting; a background child's later output is not
	 * waited for */
	if (open_fd) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		while (pump(c, fd) > 0) {
		}
	}
	return 0;
}

/* Runs one script; 0 on success, -1 with `res`. */
static int run_script(struct dctx *c, struct dtarget *t, const char *archive,
                      const struct appspec_hook *h, enum appspec_event ev, struct hook_result *res)
{
	char *path = fs_join(archive, h->location);
	free(res->script);
	res->script = xstrdup(h->location);
	struct stat sb;
	int rc = 0;
	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		rc = hook_fail(res, "ScriptMissing", -1,
		               "Script does not exist at specified location: %s", h->location);
		goto out;
	}
	if (!(sb.st_mode & S_IXUSR)) {
		dlog(c, appspec_event_name(ev),
		     "%s is not executable; making it executable (as the CodeDeploy agent does)",
		     h->location);
		if (chmod(path, sb.st_mode | S_IXUSR | S_IXGRP | S_IXOTH) < 0) {
			rc = hook_fail(res, "ScriptNotExecutable", -1,
			               "Script at specified location: %s is not executable: %s",
			               h->location, strerror(errno));
			goto out;
		}
	}
	struct runas ra;
	if (runas_lookup(h->runas, &ra, res) < 0) {
		rc = -1;
		goto out;
	}
	dlog(c, appspec_event_name(ev), "running %s (timeout %d s%s%s) on %s", h->location,
	     h->timeout, h->runas ? ", as " : "", h->runas ? h->runas : "", t->name);
	char **env = hook_env(c, t, ev);
	char *const argv[] = {path, NULL};
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = hook_fail(res, "UnknownError", -1, "pipe: %s", strerror(errno));
		env_free(env);
		free(ra.home);
		goto out;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		if (chdir(archive) < 0)
			_exit(126);
		if (ra.set && (setgroups((size_t)ra.ngroups, ra.groups) < 0 || setgid(ra.gid) < 0 ||
		               setuid(ra.uid) < 0))
			_exit(126);
		execve(path, argv, env);
		if (errno == ENOEXEC) {
			char *const sh[] = {"sh", path, NULL};
			execve("/bin/sh", sh, env);
		}
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		rc = hook_fail(res, "UnknownError", -1, "fork: %s", strerror(errno));
	} else {
		setpgid(pid, pid); /* both sides: no race with a kill of the group */
		int status = 0;
		int timed_out = wait_script(c, pid, fds[0], h->timeout, &status);
		if (timed_out && appspec_stop_requested)
			rc = hook_fail(
			        res, "UnknownError", -1,
			        "Script at specified location: %s was stopped (the deployment "
			        "was stopped)",
			        h->location);
		else if (timed_out)
			rc = hook_fail(res, "ScriptTimedOut", -1,
			               "Script at specified location: %s failed to complete in %d "
			               "seconds",
			               h->location, h->timeout);
		else if (WIFSIGNALED(status))
			rc = hook_fail(res, "ScriptFailed", 128 + WTERMSIG(status),
			               "Script at specified location: %s was killed by signal %d",
			               h->location, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			rc = hook_fail(res, "ScriptFailed", WEXITSTATUS(status),
			               "Script at specified location: %s failed with exit code %d",
			               h->location, WEXITSTATUS(status));
		else
			res->exit_code = 0;
	}
	close(fds[0]);
	env_free(env);
	free(ra.home);
out:
	free(path);
	return rc;
}

int appspec_hooks_run(struct dctx *c, struct dtarget *t, const struct appspec *as,
                      const char *archive, enum appspec_event ev, struct hook_result *res)
{
	if (!as)
		return 0;
	for (size_t i = 0; i < as->nhooks[ev]; i++)
		if (run_script(c, t, archive, &as->hooks[ev][i], ev, res) < 0) {
			dlog(c, appspec_event_name(ev), "%s", res->message);
			return -1;
		}
	return 0;
}
