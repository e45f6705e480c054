/*
 * invoke.c — fn_invoke() (fn.h): one invocation in a fresh execution environment.
 *
 * The order of things:
 *  1. resolve the function (store), write the runtime's bootstrap where it runs from;
 *  2. listen for the Runtime API on 127.0.0.1:0 (runtime_api.c);
 *  3. fork the runtime in its own process group, its stdout and stderr on one pipe,
 *     cwd and LAMBDA_TASK_ROOT the code directory, the environment of spec §8 only;
 *  4. one poll() loop until the result is posted, the runtime exits (a pidfd says
 *     so even when a grandchild keeps the pipe open) or the deadline passes;
 *  5. kill the group (one environment per call: nothing outlives the invocation),
 *     drain the output, write END and REPORT, record the invocation.
 *
 * Memory: MemorySize is passed on (AWS_LAMBDA_FUNCTION_MEMORY_SIZE) and reported, but
 * not enforced: RLIMIT_AS breaks node (it reserves far more address space than it
 * uses) and a cgroup is rarely writable by the daemon's user [F].
 */
#include "functions/fn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "functions/fn_int.h"
#include "functions/registry.h"
#include "store/functions.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define FN_INVOCATIONS_KEEP 100
#define FN_DRAIN_MS         300 /* output still in the pipe after the runtime is killed */
#define FN_NODE             "/usr/bin/node"
#define FN_PYTHON           "/usr/bin/python3"

struct inv {
	const struct fn_invoke_req *req;
	struct store_fn f;
	char *executed;
	char *arn;
	char request_id[37];
	char *log_path;
	int log_file;
	char *runtime_dir;
	pid_t pid;
	int pidfd;
	int out_fd;
	int exited;
	int status;
	struct rusage ru;
};

static void log_write(struct inv *v, const char *data, size_t len)
{
	if (v->log_file >= 0 && fs_write_all(v->log_file, data, len) < 0) {
		close(v->log_file); /* a full disk: the invocation goes on without its log */
		v->log_file = -1;
	}
	/* the caller's copy is best effort: a closed reader must not end the invocation */
	if (v->req->log_fd >= 0 && fs_write_all(v->req->log_fd, data, len) < 0)
		errno = 0;
}

FERRY_PRINTF(2, 3)
static void log_line(struct inv *v, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	log_write(v, line, (size_t)n);
}

/* The bootstrap file `name` in the runtime directory, written when it differs. */
static int install_bootstrap(struct inv *v, const char *name, const char *data, size_t len,
                             struct err *err)
{
	char *path = fs_join(v->runtime_dir, name);
	char *old = NULL;
	size_t old_len = 0;
	struct err e2;
	int rc = 0;
	if (fs_read_file(path, len + 1, &old, &old_len, &e2) < 0 || old_len != len ||
	    memcmp(old, data, len))
		rc = fs_write_atomic(path, data, len, 0644, err);
	free(old);
	free(path);
	return rc;
}

static void env_set(struct strv *env, const char *name, const char *value)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], name, nl) && env->v[i][nl] == '=') {
			free(env->v[i]);
			env->v[i] = xasprintf("%s=%s", name, value);
			return;
		}
	strv_pushf(env, "%s=%s", name, value);
}

static void build_env(struct inv *v, unsigned port, struct strv *env)
{
	const struct store_fn *f = &v->f;
	char buf[64];
	snprintf(buf, sizeof buf, "127.0.0.1:%u", port);
	const char *region = getenv("AWS_REGION");
	if (!region || !*region)
		region = FN_REGION;
	/* the function's own variables first: the reserved ones below win */
	json_t *vars = json_loads(f->env ? f->env : "{}", 0, NULL);
	const char *k;
	json_t *val;
	json_object_foreach(vars, k, val)
	{
		if (json_is_string(val) && !fn_env_reserved(k))
			env_set(env, k, json_string_value(val));
	}
	json_decref(vars);
	if (!getenv("FERRY_FN_KEEP_TZ"))
		env_set(env, "TZ", ":UTC");
	env_set(env, "LANG", "en_US.UTF-8");
	env_set(env, "PATH", "/usr/local/bin:/usr/bin:/bin");
	char *lib = xasprintf("%s/lib", f->code_dir);
	env_set(env, "LD_LIBRARY_PATH", lib);
	free(lib);
	if (!strncmp(f->runtime, "nodejs", 6))
		env_set(env, "NODE_PATH",
		        "/usr/local/lib/node_modules:/usr/lib/nodejs:/usr/share/nodejs");
	if (!strncmp(f->runtime, "python", 6))
		env_set(env, "PYTHONUNBUFFERED", "1");
	env_set(env, "AWS_LAMBDA_RUNTIME_API", buf);
	env_set(env, "_HANDLER", f->handler ? f->handler : "");
	env_set(env, "LAMBDA_TASK_ROOT", f->code_dir);
	env_set(env, "LAMBDA_RUNTIME_DIR", v->runtime_dir);
	env_set(env, "AWS_LAMBDA_FUNCTION_NAME", f->name);
	env_set(env, "AWS_LAMBDA_FUNCTION_VERSION", v->executed);
	snprintf(buf, sizeof buf, "%d", f->memory);
	env_set(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", buf);
	char *group = xasprintf("/aws/lambda/%s", f->name);
	env_set(env, "AWS_LAMBDA_LOG_GROUP_NAME", group);
	free(group);
	char day[16];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y/%m/%d", &tm);
	char hex[33];
	for (size_t i = 0, j = 0; i < 36 && j < 32; i++)
		if (v->request_id[i] != '-')
			hex[j++] = v->request_id[i];
	hex[32] = '\0';
	char *stream = xasprintf("%s/[%s]%s", day, v->executed, hex);
	env_set(env, "AWS_LAMBDA_LOG_STREAM_NAME", stream);
	free(stream);
	env_set(env, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
	env_set(env, "AWS_REGION", region);
	env_set(env, "AWS_DEFAULT_REGION", region);
	char *exec_env = xasprintf("AWS_Lambda_%s", f->runtime);
	env_set(env, "AWS_EXECUTION_ENV", exec_env);
	free(exec_env);
	/* ferry signs nothing with these: SDKs need some to start; AWS_ENDPOINT_URL (from
	   extra_env) points them at ferry [F] */
	env_set(env, "AWS_ACCESS_KEY_ID", "FERRYLOCALACCESSKEY");
	env_set(env, "AWS_SECRET_ACCESS_KEY", "ferry-local-secret-access-key");
	env_set(env, "AWS_SESSION_TOKEN", "ferry-local-session");
	for (const char *const *e = v->req->extra_env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || eq == *e)
			continue;
		char *name = xstrndup(*e, (size_t)(eq - *e));
		env_set(env, name, eq + 1);
		free(name);
	}
}

/* The runtime's argv; NULL with err when it cannot run (not a function error). */
static int runtime_argv(struct inv *v, struct strv *argv, struct err *err)
{
	const char *rt = v->f.runtime;
	if (!strncmp(rt, "nodejs", 6)) {
		if (install_bootstrap(v, "bootstrap.js", fn_boot_node, fn_boot_node_len, err) < 0)
			return -1;
		strv_push(argv, fs_exists(FN_NODE) ? FN_NODE : "node");
		strv_push_owned(argv, fs_join(v->runtime_dir, "bootstrap.js"));
		return 0;
	}
	if (!strncmp(rt, "python", 6)) {
		if (install_bootstrap(v, "bootstrap.py", fn_boot_python, fn_boot_python_len, err) <
		    0)
			return -1;
		strv_push(argv, fs_exists(FN_PYTHON) ? FN_PYTHON : "python3");
		strv_push(argv, "-u");
		strv_push_owned(argv, fs_join(v->runtime_dir, "bootstrap.py"));
		return 0;
	}
	strv_push_owned(argv, fs_join(v->f.code_dir, "bootstrap"));
	return 0;
}

/* Forks the runtime; v->pid, v->out_fd, v->pidfd. */
static int start(struct inv *v, char **argv, char **envp, struct err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_errno(err, "function \"%s\": pipe", v->f.name);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_errno(err, "function \"%s\": fork", v->f.name);
	}
	if (pid == 0) {
		setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		signal(SIGPIPE, SIG_DFL);
		if (chdir(v->f.code_dir) < 0)
			_exit(126);
		execve(argv[0], argv, envp);
		if (!strchr(argv[0], '/'))
			execvpe(argv[0], argv, envp);
		dprintf(2, "ferry: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no race with the kill below */
	close(p[1]);
	v->pid = pid;
	v->out_fd = p[0];
	v->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 0;
}

static void reap(struct inv *v, int block)
{
	if (v->exited)
		return;
	int st = 0;
	pid_t r = wait4(v->pid, &st, block ? 0 : WNOHANG, &v->ru);
	if (r == v->pid) {
		v->exited = 1;
		v->status = st;
	}
}

/* Reads what the runtime wrote into the log; 0 at EOF. */
static int pump(struct inv *v)
{
	char buf[16384];
	ssize_t n = read(v->out_fd, buf, sizeof buf);
	if (n > 0) {
		log_write(v, buf, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	return 0;
}

enum outcome { OUT_DONE, OUT_EXITED, OUT_TIMEOUT };

static enum outcome run_loop(struct inv *v, struct fn_api *api, int64_t deadline_mono)
{
	int out_open = 1;
	for (;;) {
		if (api->done)
			return OUT_DONE;
		if (v->exited)
			return OUT_EXITED;
		int64_t left = deadline_mono - mono_ms();
		if (left <= 0)
			return OUT_TIMEOUT;
		struct pollfd pfd[FN_API_CONNS_MAX + 3];
		size_t n = fn_api_pollfds(api, pfd, FN_API_CONNS_MAX + 1);
		size_t out_i = n, pid_i = n + 1;
		pfd[out_i] = (struct pollfd){.fd = out_open ? v->out_fd : -1, .events = POLLIN};
		pfd[pid_i] = (struct pollfd){.fd = v->pidfd, .events = POLLIN};
		/* without a pidfd, look at the child every 50 ms */
		int wait = v->pidfd >= 0 ? (int)left : (left < 50 ? (int)left : 50);
		int r = poll(pfd, n + 2, wait);
		if (r < 0 && errno != EINTR)
			return OUT_EXITED;
		if (r > 0) {
			fn_api_handle(api, pfd, n);
			if (pfd[out_i].revents && !pump(v))
				out_open = 0;
		}
		if (v->pidfd < 0 || (r > 0 && pfd[pid_i].revents))
			reap(v, 0);
		if (v->exited && !api->done) {
			/* the result may be on its way: take what the sockets hold */
			struct pollfd q[FN_API_CONNS_MAX + 1];
			size_t m = fn_api_pollfds(api, q, FN_API_CONNS_MAX + 1);
			if (poll(q, m, 0) > 0)
				fn_api_handle(api, q, m);
		}
	}
}

static void drain(struct inv *v)
{
	int64_t until = mono_ms() + FN_DRAIN_MS;
	fcntl(v->out_fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		int64_t left = until - mono_ms();
		if (left <= 0)
			return;
		struct pollfd p = {.fd = v->out_fd, .events = POLLIN};
		if (poll(&p, 1, (int)left) <= 0)
			return;
		char buf[16384];
		ssize_t n = read(v->out_fd, buf, sizeof buf);
		if (n > 0)
			log_write(v, buf, (size_t)n);
		else if (n == 0 || errno != EAGAIN)
			return;
	}
}

static char *error_payload(const char *type, const char *msg)
{
	json_t *o =
	        json_pack("{s:s,s:s,s:[]}", "errorMessage", msg, "errorType", type, "stackTrace");
	char *t = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return t;
}

static void record(struct inv *v, const struct fn_invoke_res *res, const char *status,
                   const char *error_type, int64_t started_ms)
{
	struct store *st = NULL;
	struct err err;
	if (store_open(v->req->data_dir, &st, &err) < 0)
		return;
	struct store_invocation row = {.request_id = v->request_id,
	                               .function = v->f.name,
	                               .version = v->executed,
	                               .status = (char *)status,
	                               .error_type = (char *)error_type,
	                               .duration_ms = res->duration_ms,
	                               .started_ms = started_ms,
	                               .log_path = v->log_path};
	struct strv pruned = STRV_INIT;
	if (store_invocation_add(st, &row, FN_INVOCATIONS_KEEP, &pruned, &err) == 0)
		for (size_t i = 0; i < pruned.n; i++)
			if (unlink(pruned.v[i]) < 0 && errno != ENOENT)
				break;
	strv_free(&pruned);
	store_close(st);
}

/* Fills res from how the run ended. Returns the status recorded. */
static const char *conclude(struct inv *v, struct fn_api *api, enum outcome how,
                            struct fn_invoke_res *res, char **etype)
{
	*etype = NULL;
	if (how == OUT_DONE) {
		res->function_error = api->function_error;
		res->payload = api->result;
		res->payload_len = api->result_len;
		api->result = NULL;
		if (res->function_error) {
			json_t *o = json_loadb(res->payload, res->payload_len, 0, NULL);
			const char *t = json_string_value(json_object_get(o, "errorType"));
			*etype = xstrdup(t ? t : api->error_type ? api->error_type : "Unhandled");
			json_decref(o);
		}
		return res->function_error ? "Failed" : "Succeeded";
	}
	res->function_error = 1;
	char msg[256];
	if (how == OUT_TIMEOUT) {
		snprintf(msg, sizeof msg, "Task timed out after %d.00 seconds", v->f.timeout);
		char stamp[32];
		time_iso8601(wall_ms(), stamp, sizeof stamp);
		log_line(v, "%s %s %s\n", stamp, v->request_id, msg);
		*etype = xstrdup("Sandbox.Timedout");
	} else {
		char why[64];
		if (v->exited && WIFEXITED(v->status))
			snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(v->status));
		else if (v->exited && WIFSIGNALED(v->status))
			snprintf(why, sizeof why, "signal: %s", strsignal(WTERMSIG(v->status)));
		else
			snprintf(why, sizeof why, "exited");
		snprintf(msg, sizeof msg, "RequestId: %s Error: Runtime exited with error: %s",
		         v->request_id, why);
		log_line(v, "%s\n", msg);
		*etype = xstrdup("Runtime.ExitError");
	}
	res->payload = error_payload(*etype, msg);
	res->payload_len = strlen(res->payload);
	return how == OUT_TIMEOUT ? "TimedOut" : "Failed";
}

static void inv_free(struct inv *v)
{
	store_fn_free(&v->f);
	free(v->executed);
	free(v->arn);
	free(v->log_path);
	free(v->runtime_dir);
	if (v->log_file >= 0)
		close(v->log_file);
	if (v->out_fd >= 0)
		close(v->out_fd);
	if (v->pidfd >= 0)
		close(v->pidfd);
}

/* Resolves the function and prepares its directories; -1 with err. */
static int prepare(struct inv *v, struct err *err)
{
	struct store *st = NULL;
	if (store_open(v->req->data_dir, &st, err) < 0)
		return -1;
	int rc = fn_resolve(st, v->req->name, v->req->qualifier, &v->f, &v->executed, &v->arn, err);
	store_close(st);
	if (rc)
		return -1;
	char *dir = fn_dir(v->req->data_dir, v->f.name);
	char *logs = fs_join(dir, "logs");
	free(dir);
	v->runtime_dir = xasprintf("%s/functions/.runtime", v->req->data_dir);
	if (fs_mkdir_p(logs, 0700, err) < 0 || fs_mkdir_p(v->runtime_dir, 0755, err) < 0) {
		free(logs);
		return -1;
	}
	fn_uuid(v->request_id);
	v->log_path = xasprintf("%s/%s.log", logs, v->request_id);
	free(logs);
	v->log_file = open(v->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (v->log_file < 0)
		return err_errno(err, "%s", v->log_path);
	if (!fs_is_dir(v->f.code_dir))
		return err_set(err, "function \"%s\": its code directory %s is missing", v->f.name,
		               v->f.code_dir);
	return 0;
}

int fn_invoke(const struct fn_invoke_req *req, struct fn_invoke_res *res, struct err *err)
{
	memset(res, 0, sizeof *res);
	struct inv v = {.req = req, .log_file = -1, .out_fd = -1, .pidfd = -1};
	struct fn_api api = {.listen_fd = -1};
	struct strv argv = STRV_INIT, env = STRV_INIT;
	int rc = prepare(&v, err);
	if (rc == 0 && fn_api_open(&api, err) < 0)
		rc = -1;
	if (rc == 0 && runtime_argv(&v, &argv, err) < 0)
		rc = -1;
	if (rc < 0)
		goto out;
	build_env(&v, api.port, &env);
	int64_t started_ms = wall_ms(), t0 = mono_us();
	int64_t deadline_mono = mono_ms() + (int64_t)v.f.timeout * 1000;
	api.request_id = v.request_id;
	api.payload = req->payload ? req->payload : "{}";
	api.payload_len = req->payload ? req->payload_len : 2;
	api.deadline_ms = started_ms + (int64_t)v.f.timeout * 1000;
	api.arn = v.arn;
	char hex[33];
	for (size_t i = 0, j = 0; i < 36 && j < 32; i++)
		if (v.request_id[i] != '-')
			hex[j++] = v.request_id[i];
	hex[32] = '\0';
	snprintf(api.trace_id, sizeof api.trace_id, "Root=1-%08llx-%.24s;Parent=%.16s;Sampled=0",
	         (long long)(started_ms / 1000), hex, hex + 16);
	log_line(&v, "START RequestId: %s Version: %s\n", v.request_id, v.executed);
	if (start(&v, argv.v, env.v, err) < 0) {
		rc = -1;
		goto out;
	}
	enum outcome how = run_loop(&v, &api, deadline_mono);
	kill(-v.pid, SIGKILL);
	reap(&v, 1);
	drain(&v);
	res->duration_ms = (mono_us() - t0 + 999) / 1000;
	double dur = (double)(mono_us() - t0) / 1000.0;
	char *etype = NULL;
	const char *status = conclude(&v, &api, how, res, &etype);
	log_line(&v, "END RequestId: %s\n", v.request_id);
	log_line(&v,
	         "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\t"
	         "Memory Size: %d MB\tMax Memory Used: %ld MB\t\n",
	         v.request_id, dur, (long long)res->duration_ms, v.f.memory,
	         v.ru.ru_maxrss / 1024 + 1);
	res->request_id = xstrdup(v.request_id);
	res->executed_version = xstrdup(v.executed);
	record(&v, res, status, etype, started_ms);
	free(etype);
out:
	if (rc < 0 && v.f.name)
		err_prefix(err, "function \"%s\"", v.f.name);
	fn_api_close(&api);
	strv_free(&argv);
	strv_free(&env);
	inv_free(&v);
	return rc;
}

void fn_invoke_res_free(struct fn_invoke_res *res)
{
	if (!res)
		return;
	free(res->request_id);
	free(res->executed_version);
	free(res->payload);
	memset(res, 0, sizeof *res);
}
