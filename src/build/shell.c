/*
 * shell.c — see shell.h for the model.
 *
 * Wire protocol (all through fifos in ctl_dir, so no user command can clobber a
 * descriptor the shells depend on):
 *   agent.in  ferry → agent: one line per worker to start, evaluated by the agent;
 *   wN.in     ferry → worker N: its script, fed chunk by chunk (ferry holds the fifo
 *             open read-write, so the worker blocks for the next chunk instead of
 *             seeing end-of-file);
 *   status    shells → ferry: NUL-separated records
 *               R<rc> \0 <pwd> \0                      a command finished
 *               X<status> \0                             a worker exited
 *               Q<n> \0 <value> \0 ... (n values)        answer to shell_eval()
 * Output of every process goes to one pipe whose read end ferry polls.
 *
 * Files: script.sh (the command, line 4 on), trailer.sh (reports the status),
 * env.sh (the state a fresh worker restores), init.sh (the initial state), opts.sh
 * (pristine options), restore.sh (a fresh worker's first chunk).
 *
 * env.sh must hold the state of the last command that returned whenever a worker
 * is replaced, so it is written (1) before a command that could end its shell —
 * the state it then holds is the previous command's, as on CodeBuild — and (2)
 * before a worker is asked to exit. Writing it after every command would cost bash
 * a millisecond a command (it writes `export -p` one line per write(2)).
 * Each command costs the worker two small reads of the fifo and one record back.
 */
#include "build/shell.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define STATUS_RECORD_MAX (16 << 20) /* an exported environment larger than this is refused */
#define CHUNK_MAX         4096       /* writes to a fifo up to PIPE_BUF are atomic */

struct shell {
	struct shell_config cfg;
	char *ctl_dir;
	char *shell_path;
	char **argv_prefix;
	pid_t agent_pid;
	int agent_pidfd;
	int agent_in;
	int status_fd;
	int out_fd;
	int out_eof;
	int worker_fd; /* -1: no live worker */
	char *worker_fifo;
	char *worker_user; /* NULL: ferry's own user */
	int worker_seq;
	int starts;
	char *cwd;
	struct buf rec; /* bytes read from the status fifo, not yet consumed */
	int killed;
};

static char *ctl_path(const struct shell *sh, const char *name)
{
	return fs_join(sh->ctl_dir, name);
}

static int valid_name(const char *s, size_t n)
{
	if (n == 0 ||
	    !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* The initial state as shell text: one `export NAME='value'` per variable. */
static char *initial_state(const char *const *env)
{
	struct buf b;
	buf_init(&b, STATUS_RECORD_MAX);
	for (size_t i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || !valid_name(env[i], (size_t)(eq - env[i])))
			continue;
		if (buf_printf(&b, "export %.*s=", (int)(eq - env[i]), env[i]) < 0 ||
		    buf_shell_quote(&b, eq + 1) < 0 || buf_puts(&b, "\n") < 0)
			break;
	}
	return buf_detach(&b);
}

static int write_file(const char *path, const char *text, mode_t mode, struct err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return err_errno(err, "%s", path);
	int rc = fs_write_all(fd, text, strlen(text));
	if (rc < 0)
		err_errno(err, "%s", path);
	close(fd);
	return rc;
}

static int send_chunk(int fd, const char *text, const char *what, struct err *err)
{
	size_t len = strlen(text);
	if (len > CHUNK_MAX)
		return err_set(err, "internal: %s chunk of %zu bytes exceeds %d", what, len,
		               CHUNK_MAX);
	for (;;) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(err, "writing to the build's %s", what);
		if ((size_t)n != len)
			return err_set(err, "short write to the build's %s", what);
		return 0;
	}
}

static int write_ctl(struct shell *sh, const char *name, const char *text, mode_t mode,
                     struct err *err)
{
	char *p = ctl_path(sh, name);
	int rc = write_file(p, text, mode, err);
	free(p);
	return rc;
}

/* Files the shells read (scripts) and write (state), set up once per build. */
static int write_ctl_files(struct shell *sh, const char *const *env, struct err *err)
{
	char *init = initial_state(env);
	int rc = write_ctl(sh, "init.sh", init, 0600, err);
	if (!rc)
		rc = write_ctl(sh, "env.sh", init, 0600, err);
	free(init);
	if (rc)
		return -1;
	const char *trailer = "command printf 'R%d\\000%s\\000' $? \"$PWD\" >\"$__ferry_st\"\n";
	rc = write_ctl(sh, "trailer.sh", trailer, 0644, err);
	if (!rc)
		rc = write_ctl(sh, "opts.sh", "", 0600, err);
	return rc;
}

/* A run-as worker writes env.sh, opts.sh and the fifos: they become its own. */
static int hand_over(struct shell *sh, const char *run_as, struct err *err)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (run_as) {
		struct passwd *pw = getpwnam(run_as);
		if (!pw)
			return err_set(err, "run-as: no user named \"%s\" on this machine", run_as);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	static const char *const names[] = {"env.sh", "opts.sh", "status"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *p = ctl_path(sh, names[i]);
		int rc = chown(p, uid, gid);
		free(p);
		if (rc < 0)
			return err_errno(err, "run-as %s: chown %s", run_as ? run_as : "",
			                 names[i]);
	}
	if (chown(sh->worker_fifo, uid, gid) < 0)
		return err_errno(err, "run-as: chown %s", sh->worker_fifo);
	return 0;
}

static int open_fifo(const char *path, mode_t mode, struct err *err)
{
	unlink(path);
	if (mkfifo(path, mode) < 0)
		return err_errno(err, "mkfifo %s", path);
	if (chmod(path, mode) < 0)
		return err_errno(err, "chmod %s", path);
	/* read-write: opening never blocks, and readers never see end-of-file */
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, "open %s", path);
	return fd;
}

static int spawn_agent(struct shell *sh, struct err *err)
{
	char *script = ctl_path(sh, "agent.sh");
	char *in = ctl_path(sh, "agent.in");
	struct buf b;
	buf_init(&b, 8192);
	int rc = buf_puts(&b, "exec 4<") < 0 || buf_shell_quote(&b, in) < 0 ||
	         buf_puts(&b, "\nwhile IFS= read -r __ferry_l <&4; do eval \"$__ferry_l\"; "
	                      "done\n") < 0;
	if (!rc)
		rc = write_file(script, b.data, sh->cfg.ctl_shared ? 0644 : 0600, err);
	buf_free(&b);
	free(in);
	if (rc) {
		free(script);
		return -1;
	}

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(script);
		return err_errno(err, "pipe");
	}
	struct strv argv = STRV_INIT;
	for (size_t i = 0; sh->argv_prefix && sh->argv_prefix[i]; i++)
		strv_push(&argv, sh->argv_prefix[i]);
	strv_push(&argv, "/bin/sh");
	strv_push(&argv, script);
	free(script);
	char *empty_env[] = {NULL};

	pid_t pid = fork();
	if (pid < 0) {
		strv_free(&argv);
		close(pipefd[0]);
		close(pipefd[1]);
		return err_errno(err, "fork");
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(pipefd[1], 1) < 0 ||
		    dup2(pipefd[1], 2) < 0 || chdir(sh->cfg.cwd) < 0)
			_exit(126);
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(argv.v[0], argv.v, empty_env);
		dprintf(2, "ferry: cannot start %s: %s\n", argv.v[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also in the parent: no race with kill(-pgid) */
	strv_free(&argv);
	close(pipefd[1]);
	sh->agent_pid = pid;
	sh->out_fd = pipefd[0];
	fcntl(sh->out_fd, F_SETFL, O_NONBLOCK);
	sh->agent_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (sh->agent_pidfd < 0)
		return err_errno(err, "pidfd_open");
	return 0;
}

int shell_start(const struct shell_config *cfg, struct shell **out, struct err *err)
{
	struct shell *sh = xcalloc(1, sizeof *sh);
	sh->cfg = *cfg;
	sh->ctl_dir = xstrdup(cfg->ctl_dir);
	sh->shell_path = xstrdup(cfg->shell_path);
	sh->cfg.ctl_dir = sh->ctl_dir;
	sh->cfg.shell_path = sh->shell_path;
	if (cfg->argv_prefix) {
		size_t n = 0;
		while (cfg->argv_prefix[n])
			n++;
		sh->argv_prefix = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			sh->argv_prefix[i] = xstrdup(cfg->argv_prefix[i]);
	}
	sh->cfg.argv_prefix = NULL;
	sh->cfg.env = NULL;
	sh->agent_pid = -1;
	sh->agent_pidfd = sh->agent_in = sh->status_fd = sh->out_fd = sh->worker_fd = -1;
	sh->cwd = xstrdup(cfg->cwd);
	sh->cfg.cwd = sh->cwd;
	buf_init(&sh->rec, STATUS_RECORD_MAX);
	*out = sh;

	if (write_ctl_files(sh, cfg->env, err) < 0)
		return -1;
	char *p = ctl_path(sh, "status");
	sh->status_fd = open_fifo(p, 0600, err);
	free(p);
	if (sh->status_fd < 0)
		return -1;
	p = ctl_path(sh, "agent.in");
	sh->agent_in = open_fifo(p, 0600, err);
	free(p);
	if (sh->agent_in < 0)
		return -1;
	return spawn_agent(sh, err);
}

static void emit(const struct shell_hooks *hooks, const char *data, size_t len)
{
	if (hooks && hooks->output && len)
		hooks->output(hooks->ctx, data, len);
}

static int read_output(struct shell *sh, const struct shell_hooks *hooks)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(sh->out_fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 0; /* EAGAIN */
		if (n == 0) {
			sh->out_eof = 1;
			return 0;
		}
		emit(hooks, chunk, (size_t)n);
		if ((size_t)n < sizeof chunk)
			return 0;
	}
}

void shell_drain(struct shell *sh, const struct shell_hooks *hooks)
{
	if (sh->out_fd >= 0 && !sh->out_eof)
		read_output(sh, hooks);
}

static int read_status(struct shell *sh, struct err *err)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(sh->status_fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (buf_append(&sh->rec, chunk, (size_t)n) < 0)
			return err_set(err, "the build's exported environment exceeds %d bytes",
			               STATUS_RECORD_MAX);
	}
}

/* Length of the first complete record in sh->rec, or 0 if incomplete. */
static size_t record_len(const struct shell *sh)
{
	const char *d = sh->rec.data;
	size_t len = sh->rec.len, fields = 0, need;
	if (len == 0)
		return 0;
	switch (d[0]) {
	case 'R':
		need = 2;
		break;
	case 'X':
		need = 1;
		break;
	case 'Q': {
		const char *z = memchr(d, '\0', len);
		if (!z)
			return 0;
		need = 1 + strtoul(d + 1, NULL, 10);
		break;
	}
	default:
		need = 1; /* garbage: consume up to a NUL */
	}
	for (size_t i = 0; i < len; i++)
		if (d[i] == '\0' && ++fields == need)
			return i + 1;
	return 0;
}

/*
 * Waits for the next status record; copies it into *rec (caller frees) and returns
 * SHELL_DONE, or SHELL_STOPPED / SHELL_TIMED_OUT, or -1.
 */
static int wait_record(struct shell *sh, const struct shell_hooks *hooks, char **rec, size_t *len,
                       struct err *err)
{
	for (;;) {
		size_t n = record_len(sh);
		if (n) {
			*rec = xstrndup(sh->rec.data, n);
			*len = n;
			buf_consume(&sh->rec, n);
			return SHELL_DONE;
		}
		struct pollfd pf[4];
		int np = 0;
		pf[np++] = (struct pollfd){.fd = sh->status_fd, .events = POLLIN};
		pf[np++] = (struct pollfd){.fd = sh->agent_pidfd, .events = POLLIN};
		int out_i = -1, stop_i = -1;
		if (!sh->out_eof) {
			out_i = np;
			pf[np++] = (struct pollfd){.fd = sh->out_fd, .events = POLLIN};
		}
		if (hooks && hooks->stop_fd >= 0) {
			stop_i = np;
			pf[np++] = (struct pollfd){.fd = hooks->stop_fd, .events = POLLIN};
		}
		int timeout = -1, ticking = 0;
		if (hooks && hooks->deadline_ms) {
			int64_t left = hooks->deadline_ms - mono_ms();
			if (left <= 0)
				return SHELL_TIMED_OUT;
			timeout = left > 1000000 ? 1000000 : (int)left;
		}
		if (hooks && hooks->tick && hooks->tick_ms > 0 &&
		    (timeout < 0 || hooks->tick_ms < timeout)) {
			timeout = hooks->tick_ms;
			ticking = 1;
		}
		int r = poll(pf, (nfds_t)np, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_errno(err, "poll");
		if (r == 0 && ticking)
			hooks->tick(hooks->ctx);
		if (out_i >= 0 && pf[out_i].revents)
			read_output(sh, hooks);
		if (pf[0].revents && read_status(sh, err) < 0)
			return -1;
		if (record_len(sh))
			continue;
		if (stop_i >= 0 && pf[stop_i].revents)
			return SHELL_STOPPED;
		if (pf[1].revents) {
			read_status(sh, err);
			if (record_len(sh))
				continue;
			shell_drain(sh, hooks);
			int st = 0;
			waitpid(sh->agent_pid, &st, 0);
			sh->agent_pid = -1;
			return err_set(err, "the build's shell exited unexpectedly (%s %d)",
			               WIFSIGNALED(st) ? "signal" : "status",
			               WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		}
	}
}

static void worker_gone(struct shell *sh)
{
	if (sh->worker_fd >= 0)
		close(sh->worker_fd);
	sh->worker_fd = -1;
	if (sh->worker_fifo)
		unlink(sh->worker_fifo);
	free(sh->worker_fifo);
	sh->worker_fifo = NULL;
	free(sh->worker_user);
	sh->worker_user = NULL;
}

/* Asks a live worker to save its state and exit; waits for the agent's X record. */
static int stop_worker(struct shell *sh, const struct shell_hooks *hooks, struct err *err)
{
	if (sh->worker_fd < 0)
		return SHELL_DONE;
	const char *bye =
	        sh->cfg.stateless ? "exit 0\n" : "command export -p >\"$__ferry_env\"; exit 0\n";
	if (send_chunk(sh->worker_fd, bye, "shell", err) < 0)
		return -1;
	for (;;) {
		char *rec;
		size_t len;
		int rc = wait_record(sh, hooks, &rec, &len, err);
		if (rc != SHELL_DONE)
			return rc;
		char kind = rec[0];
		free(rec);
		if (kind == 'X')
			break;
	}
	worker_gone(sh);
	return SHELL_DONE;
}

static int user_prefix(const char *run_as, struct buf *b, struct err *err)
{
	if (!run_as)
		return 0;
	struct passwd *pw = getpwnam(run_as);
	if (!pw)
		return err_set(err, "run-as: no user named \"%s\" on this machine", run_as);
	if (buf_printf(b, "/usr/bin/setpriv --reuid=%ld --regid=%ld --init-groups ",
	               (long)pw->pw_uid, (long)pw->pw_gid) < 0)
		return err_set(err, "run-as: command too long");
	return 0;
}

static int same_user(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int start_worker(struct shell *sh, const char *run_as, struct err *err)
{
	char name[32];
	snprintf(name, sizeof name, "w%d.in", ++sh->worker_seq);
	sh->worker_fifo = ctl_path(sh, name);
	sh->worker_fd = open_fifo(sh->worker_fifo, 0600, err);
	if (sh->worker_fd < 0 || hand_over(sh, run_as, err) < 0)
		return -1;

	/* the worker's first chunk: where things are, pristine options, the state */
	char *restore = ctl_path(sh, "restore.sh");
	char *script = ctl_path(sh, "script.sh");
	char *status = ctl_path(sh, "status");
	struct buf r, req;
	buf_init(&r, 65536);
	buf_init(&req, CHUNK_MAX);
	static const char *const vars[][2] = {
	        {"__ferry_s", "script.sh"}, {"__ferry_t", "trailer.sh"}, {"__ferry_st", "status"},
	        {"__ferry_env", "env.sh"},  {"__ferry_o", "opts.sh"},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof vars / sizeof vars[0] && !rc; i++) {
		char *v = ctl_path(sh, vars[i][1]);
		rc = buf_printf(&r, "%s=", vars[i][0]) < 0 || buf_shell_quote(&r, v) < 0 ||
		     buf_puts(&r, "\n") < 0;
		free(v);
	}
	char *state = ctl_path(sh, sh->cfg.stateless ? "init.sh" : "env.sh");
	rc = rc || buf_puts(&r, "set +o >\"$__ferry_o\"\n. ") < 0 ||
	     buf_shell_quote(&r, state) < 0 || buf_puts(&r, "\ncd -- ") < 0 ||
	     buf_shell_quote(&r, sh->cwd) < 0 || buf_puts(&r, "\n") < 0;
	free(state);
	if (rc)
		rc = err_set(err, "internal: restore script too long");
	else
		rc = write_file(restore, r.data, 0644, err);

	/* `sh -c '. FIFO' SCRIPT`: $0 names script.sh, so errors read "script.sh: 4: ..." */
	struct buf dot;
	buf_init(&dot, CHUNK_MAX);
	if (!rc && (buf_puts(&dot, ". ") < 0 || buf_shell_quote(&dot, sh->worker_fifo) < 0))
		rc = err_set(err, "internal: worker path too long");
	if (!rc)
		rc = user_prefix(run_as, &req, err);
	/* bash's `.` reads a whole file before running it, so bash reads the fifo as its
	 * script; its messages name the sourced script.sh anyway */
	if (!rc && sh->cfg.is_bash &&
	    (buf_shell_quote(&req, sh->shell_path) < 0 || buf_puts(&req, " ") < 0 ||
	     buf_shell_quote(&req, sh->worker_fifo) < 0))
		rc = err_set(err, "internal: worker request too long");
	if (!rc && !sh->cfg.is_bash &&
	    (buf_shell_quote(&req, sh->shell_path) < 0 || buf_puts(&req, " -c ") < 0 ||
	     buf_shell_quote(&req, dot.data) < 0 || buf_puts(&req, " ") < 0 ||
	     buf_shell_quote(&req, script) < 0))
		rc = err_set(err, "internal: worker request too long");
	if (!rc && (buf_puts(&req, " 4<&-; command printf 'X%d\\000' $? >") < 0 ||
	            buf_shell_quote(&req, status) < 0 || buf_puts(&req, "\n") < 0))
		rc = err_set(err, "internal: worker request too long");
	if (!rc)
		rc = send_chunk(sh->agent_in, req.data, "agent", err);
	buf_reset(&req);
	if (!rc && (buf_puts(&req, ". ") < 0 || buf_shell_quote(&req, restore) < 0 ||
	            buf_puts(&req, "\n") < 0))
		rc = err_set(err, "internal: restore chunk too long");
	if (!rc)
		rc = send_chunk(sh->worker_fd, req.data, "shell", err);
	buf_free(&r);
	buf_free(&req);
	buf_free(&dot);
	free(script);
	free(status);
	free(restore);
	if (rc)
		return -1;
	sh->worker_user = run_as ? xstrdup(run_as) : NULL;
	sh->starts++;
	return 0;
}

static int ensure_worker(struct shell *sh, const char *run_as, const struct shell_hooks *hooks,
                         struct err *err)
{
	if (sh->killed)
		return err_set(err, "internal: the build's shell was already ended");
	if (sh->worker_fd >= 0 && !same_user(sh->worker_user, run_as)) {
		int rc = stop_worker(sh, hooks, err);
		if (rc != SHELL_DONE)
			return rc;
	}
	if (sh->worker_fd < 0 && start_worker(sh, run_as, err) < 0) {
		worker_gone(sh); /* no half-started worker may look alive to the next command */
		return -1;
	}
	return SHELL_DONE;
}

/* Line 1–3 of every command script: pristine options, auto-export, ferry's updates. */
static int command_script(struct shell *sh, const char *command, const char *assignments,
                          struct err *err)
{
	struct buf s;
	buf_init(&s, (size_t)1 << 24);
	int save = !sh->cfg.stateless && (!sh->cfg.is_bash || shell_command_may_exit(command));
	int rc = buf_printf(&s, ". \"$__ferry_o\"; set -a; set --\n%s%s\n:\n%s\n",
	                    save ? "command export -p >\"$__ferry_env\"; " : "",
	                    assignments && *assignments ? assignments : ":", command);
	char *path = ctl_path(sh, "script.sh");
	if (rc < 0)
		rc = err_set(err, "command longer than 16 MiB");
	else
		rc = write_file(path, s.data, sh->cfg.ctl_shared ? 0644 : 0600, err);
	free(path);
	buf_free(&s);
	return rc;
}

int shell_run(struct shell *sh, const char *command, const char *run_as, const char *assignments,
              const struct shell_hooks *hooks, int *status, struct err *err)
{
	int rc = ensure_worker(sh, run_as, hooks, err);
	if (rc != SHELL_DONE)
		return rc;
	if (command_script(sh, command, assignments, err) < 0)
		return -1;
	if (send_chunk(sh->worker_fd, ". \"$__ferry_s\"\n. \"$__ferry_t\"\n", "shell", err) < 0)
		return -1;

	for (;;) {
		char *rec;
		size_t len;
		rc = wait_record(sh, hooks, &rec, &len, err);
		if (rc != SHELL_DONE)
			return rc;
		if (rec[0] == 'X') { /* the command ended its shell: its changes are lost */
			*status = (int)strtol(rec + 1, NULL, 10);
			free(rec);
			worker_gone(sh);
			break;
		}
		if (rec[0] != 'R') {
			free(rec);
			continue;
		}
		*status = (int)strtol(rec + 1, NULL, 10);
		const char *pwd = rec + strlen(rec) + 1;
		if (!sh->cfg.stateless) {
			free(sh->cwd);
			sh->cwd = xstrdup(pwd);
		}
		free(rec);
		if (sh->cfg.stateless || shell_command_taints(command, sh->cfg.is_bash)) {
			rc = stop_worker(sh, hooks, err);
			if (rc != SHELL_DONE)
				return rc;
		}
		break;
	}
	shell_drain(sh, hooks);
	return SHELL_DONE;
}

int shell_eval(struct shell *sh, const char *const *words, size_t n, char **values,
               const struct shell_hooks *hooks, struct err *err)
{
	for (size_t i = 0; i < n; i++)
		values[i] = NULL;
	int rc = ensure_worker(sh, sh->worker_user, hooks, err);
	if (rc != SHELL_DONE)
		return rc;
	char *st = ctl_path(sh, "status");
	char *q = ctl_path(sh, "query.sh");
	struct buf s;
	buf_init(&s, (size_t)1 << 20);
	rc = buf_printf(&s, ". \"$__ferry_o\"\n{ command printf 'Q%zu\\000'; ", n) < 0;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = buf_puts(&s, "command printf '%s\\000' \"") < 0;
		for (const char *p = words[i]; *p && !rc; p++)
			rc = *p == '"' ? buf_puts(&s, "\\\"") : buf_append(&s, p, 1);
		rc = rc || buf_puts(&s, "\"; ") < 0;
	}
	rc = rc || buf_puts(&s, "} >") < 0 || buf_shell_quote(&s, st) < 0 || buf_puts(&s, "\n") < 0;
	if (rc)
		rc = err_set(err, "expressions to evaluate exceed 1 MiB");
	else
		rc = write_file(q, s.data, 0644, err);
	buf_free(&s);
	free(st);
	if (!rc) {
		struct buf c;
		buf_init(&c, CHUNK_MAX);
		rc = buf_puts(&c, ". ") < 0 || buf_shell_quote(&c, q) < 0 || buf_puts(&c, "\n") < 0;
		rc = rc ? err_set(err, "internal: query chunk too long")
		        : send_chunk(sh->worker_fd, c.data, "shell", err);
		buf_free(&c);
	}
	free(q);
	if (rc < 0)
		return -1;
	for (;;) {
		char *rec;
		size_t len;
		rc = wait_record(sh, hooks, &rec, &len, err);
		if (rc != SHELL_DONE)
			return rc;
		if (rec[0] == 'X') {
			free(rec);
			worker_gone(sh);
			return err_set(err, "the shell exited while evaluating an expression");
		}
		if (rec[0] != 'Q') {
			free(rec);
			continue;
		}
		const char *p = rec + strlen(rec) + 1;
		for (size_t i = 0; i < n; i++) {
			values[i] = xstrdup(p);
			p += strlen(p) + 1;
		}
		free(rec);
		return SHELL_DONE;
	}
}

void shell_kill(struct shell *sh)
{
	if (sh->killed)
		return;
	sh->killed = 1;
	if (sh->agent_pid > 0) {
		kill(-sh->agent_pid, SIGKILL);
		kill(sh->agent_pid, SIGKILL);
		waitpid(sh->agent_pid, NULL, 0);
		sh->agent_pid = -1;
	}
	worker_gone(sh);
}

void shell_free(struct shell *sh)
{
	if (!sh)
		return;
	shell_kill(sh);
	int fds[] = {sh->agent_pidfd, sh->agent_in, sh->status_fd, sh->out_fd};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (size_t i = 0; sh->argv_prefix && sh->argv_prefix[i]; i++)
		free(sh->argv_prefix[i]);
	free(sh->argv_prefix);
	free(sh->ctl_dir);
	free(sh->shell_path);
	free(sh->cwd);
	buf_free(&sh->rec);
	free(sh);
}

int shell_worker_starts(const struct shell *sh)
{
	return sh->starts;
}
