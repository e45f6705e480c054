/*
 * build_cmd.c — `ferry build`: runs a buildspec locally with the runner of
 * build/build.h, streaming the log, then prints a table of phases and writes the
 * JSON result. Flags follow AWS's local agent where they fit.
 */
#include <fcntl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/build.h"
#include "build/secrets.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "store/store.h"
#include "util/fs.h"

extern char **environ;

#define ENV_FILE_MAX (1 << 20)

static const char usage[] =
        "usage: ferry build [-s SOURCE_DIR] [-b BUILDSPEC] [-a ARTIFACT_OUT_DIR]\n"
        "                   [-e ENV_FILE] [--env NAME=VALUE]... [--timeout MINUTES]\n"
        "                   [--json FILE] [--no-sandbox] [--project NAME] [--data DIR]\n"
        "\n"
        "Runs a CodeBuild buildspec.yml (version 0.2) on this machine.\n"
        "  -s DIR         source directory, CODEBUILD_SRC_DIR (default: .)\n"
        "  -b FILE        buildspec, relative to the source directory (default: buildspec.yml)\n"
        "  -a DIR         write artifacts.zip and <identifier>.zip for secondary artifacts here\n"
        "  -e FILE        environment file: NAME=value lines (project-level variables)\n"
        "  --env N=V      override a variable (wins over the buildspec and -e); --env N\n"
        "                 takes N's value from ferry's own environment\n"
        "  --timeout M    build timeout in minutes, or with a unit: 90s, 5m, 2h (default 60)\n"
        "  --json FILE    write the machine-readable result to FILE\n"
        "  --no-sandbox   run without bubblewrap even when it is installed\n"
        "  --project NAME project name for build ids, numbers and report groups\n"
        "                 (default: the source directory's name)\n"
        "  --data DIR     ferry's data directory (secrets, cache, build numbers)\n"
        "Exit status: 0 SUCCEEDED, 1 the build failed, 2 unusable input.\n";

struct opts {
	const char *src, *buildspec, *artifacts, *env_file, *json, *project, *data;
	int timeout, no_sandbox;
	struct strv overrides;
};

static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	(void)sig;
	if (stop_pipe[1] >= 0) {
		ssize_t n = write(stop_pipe[1], "s", 1);
		(void)n;
	}
}

/* MINUTES, or a number with a unit: 90s, 5m, 2h. Up to 48 hours. */
static int parse_timeout(const char *s, int *seconds)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	long unit = 60;
	if (*end == 's')
		unit = 1;
	else if (*end == 'h')
		unit = 3600;
	else if (*end && *end != 'm')
		return -1;
	if (errno || end == s || (*end && end[1]) || v < 1 || v * unit > 48 * 3600)
		return -1;
	*seconds = (int)(v * unit);
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	        {"env", required_argument, NULL, 'E'},
	        {"timeout", required_argument, NULL, 'T'},
	        {"json", required_argument, NULL, 'J'},
	        {"no-sandbox", no_argument, NULL, 'N'},
	        {"project", required_argument, NULL, 'P'},
	        {"data", required_argument, NULL, 'D'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "s:b:a:e:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->src = optarg;
			break;
		case 'b':
			o->buildspec = optarg;
			break;
		case 'a':
			o->artifacts = optarg;
			break;
		case 'e':
			o->env_file = optarg;
			break;
		case 'J':
			o->json = optarg;
			break;
		case 'N':
			o->no_sandbox = 1;
			break;
		case 'P':
			o->project = optarg;
			break;
		case 'D':
			o->data = optarg;
			break;
		case 'T':
			if (parse_timeout(optarg, &o->timeout) < 0) {
				fprintf(stderr,
				        "ferry build: --timeout: \"%s\" is not a number of "
				        "minutes (or 90s, 5m, 2h) up to 48 hours\n",
				        optarg);
				return 2;
			}
			break;
		case 'E':
			if (strchr(optarg, '=')) {
				strv_push(&o->overrides, optarg);
			} else if (getenv(optarg)) {
				strv_pushf(&o->overrides, "%s=%s", optarg, getenv(optarg));
			} else {
				fprintf(stderr,
				        "ferry build: --env %s: not NAME=VALUE, and %s is not "
				        "set in this environment\n",
				        optarg, optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ferry build: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return 2;
	}
	return -1;
}

/* Reads NAME=value lines; blank lines and lines starting with # are skipped. */
static int read_env_file(const char *path, struct strv *out)
{
	char *data;
	size_t len;
	struct err err;
	if (fs_read_file(path, ENV_FILE_MAX, &data, &len, &err) < 0) {
		fprintf(stderr, "ferry build: -e: %s\n", err.msg);
		return -1;
	}
	int lineno = 0, rc = 0;
	for (char *line = data, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		char *p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "export ", 7))
			p += 7;
		char *eq = strchr(p, '=');
		if (!eq || eq == p) {
			fprintf(stderr, "%s:%d: expected NAME=value, found \"%s\"\n", path, lineno,
			        p);
			rc = -1;
			break;
		}
		strv_push(out, p);
	}
	free(data);
	return rc;
}

static int check_reserved(const struct strv *sv, const char *origin)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (strncmp(sv->v[i], "CODEBUILD_", 10) == 0) {
			fprintf(stderr,
			        "ferry build: %s: %.*s is reserved for CodeBuild's own "
			        "variables and cannot be set\n",
			        origin, (int)strcspn(sv->v[i], "="), sv->v[i]);
			return -1;
		}
	}
	return 0;
}

static void print_line(void *ctx, const char *line)
{
	(void)ctx;
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static int resolve_secret(void *ctx, const char *kind, const char *ref, char **value, size_t *len,
                          struct err *err)
{
	struct store *st = ctx;
	if (!st)
		return err_set(err, "ferry's data directory could not be opened");
	return build_secret_resolve(st, kind, ref, value, len, err);
}

/* As a subreaper, ferry adopts what a build daemonised out of its process group;
 * whatever is left when the build ends is ended here (they are our children now,
 * so waiting for each one is bounded by its death after SIGKILL). */
static void end_orphans(void)
{
	for (int round = 0; round < 8; round++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		struct strv kids = STRV_INIT;
		cli_children(getpid(), &kids);
		for (size_t i = 0; i < kids.n; i++)
			kill((pid_t)strtol(kids.v[i], NULL, 10), SIGKILL);
		for (size_t i = 0; i < kids.n; i++)
			waitpid((pid_t)strtol(kids.v[i], NULL, 10), NULL, 0);
		size_t n = kids.n;
		strv_free(&kids);
		if (n == 0)
			break;
	}
}

/* After an unusable input, one line on stderr saying that nothing ran, and how to
 * point ferry at the right files when none was found. */
static void hint_input_error(const struct build_result *res)
{
	const char *msg = NULL;
	for (size_t i = 0; i < res->nphases; i++)
		if (!strcmp(res->phases[i].status, "FAILED") && res->phases[i].context_message)
			msg = res->phases[i].context_message;
	if (msg && !strncmp(msg, "stat ", 5))
		fputs("ferry build: no buildspec there; run it in your project's directory, or "
		      "name them with -s SOURCE_DIR and -b BUILDSPEC\n",
		      stderr);
	else
		fputs("ferry build: nothing ran: the input above is unusable\n", stderr);
}

static char *cache_dir_for(const char *data, const char *src)
{
	char *real = realpath(src, NULL);
	const char *key = real ? real : src;
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
	char hex[17];
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	free(real);
	return xasprintf("%s/cache/%s", data, hex);
}

static char *default_project(const char *src)
{
	char *real = realpath(src, NULL);
	if (!real)
		return xstrdup("local");
	const char *b = strrchr(real, '/');
	char *p = xstrdup(b && b[1] ? b + 1 : "local");
	free(real);
	return p;
}

static int run(struct opts *o)
{
	struct strv project_env = STRV_INIT, base_env = STRV_INIT;
	if (o->env_file && read_env_file(o->env_file, &project_env) < 0)
		return 2;
	if (check_reserved(&project_env, o->env_file) < 0 ||
	    check_reserved(&o->overrides, "--env") < 0) {
		strv_free(&project_env);
		return 2;
	}
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "FERRY_", 6) != 0)
			strv_push(&base_env, *e);
	char *data = cli_data_dir(o->data);
	char *project = o->project ? xstrdup(o->project) : default_project(o->src);
	struct store *st = NULL;
	struct err err;
	int64_t number = 1;
	if (store_open(data, &st, &err) < 0 ||
	    store_build_number_next(st, project, &number, &err) < 0) {
		fprintf(stderr, "ferry build: %s (build numbers and secrets are unavailable)\n",
		        err.msg);
	}
	char *cache = cache_dir_for(data, o->src);
	struct logsink sink = {.emit = print_line};
	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		stop_pipe[0] = stop_pipe[1] = -1;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	struct build_request req = {
	        .src_dir = o->src,
	        .buildspec = o->buildspec,
	        .artifact_dir = o->artifacts,
	        .project = project,
	        .build_number = number,
	        .initiator = getenv("USER"),
	        .base_env = (const char *const *)base_env.v,
	        .project_env = (const char *const *)project_env.v,
	        .override_env = (const char *const *)o->overrides.v,
	        .timeout_seconds = o->timeout,
	        .sandbox = o->no_sandbox ? BUILD_SANDBOX_NONE : BUILD_SANDBOX_AUTO,
	        .hidden_dir = data,
	        .cache_dir = cache,
	        .resolve_secret = resolve_secret,
	        .secret_ctx = st,
	        .log = &sink,
	        .stop_fd = stop_pipe[0],
	};
	struct build_result res;
	build_run(&req, &res);
	end_orphans();
	cli_print_summary(stdout, &res);
	int code = res.input_error ? 2 : res.status == BUILD_SUCCEEDED ? 0 : 1;
	if (res.input_error)
		hint_input_error(&res);
	if (o->json) {
		char *js = build_result_json(&res);
		if (fs_write_atomic(o->json, js, strlen(js), 0644, &err) < 0) {
			fprintf(stderr, "ferry build: --json: %s\n", err.msg);
			code = code ? code : 2;
		}
		free(js);
	}
	build_result_free(&res);
	store_close(st);
	strv_free(&project_env);
	strv_free(&base_env);
	free(cache);
	free(project);
	free(data);
	return code;
}

int cli_build(int argc, char **argv)
{
	struct opts o = {.src = ".", .overrides = STRV_INIT};
	int rc = parse_args(argc, argv, &o);
	if (rc < 0)
		rc = run(&o);
	strv_free(&o.overrides);
	return rc;
}
