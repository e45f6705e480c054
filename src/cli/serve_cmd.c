/*
 * serve_cmd.c — `ferry serve`: the daemon. Opens the engine (store, recovery), makes
 * the admin token on the first start, serves the sites (the edge, on an address of its
 * own) and the API, and writes <data>/daemon.url and <data>/edge.url so the CLI, the
 * git hooks and people on this machine find them (the ports may be the kernel's
 * pick). SIGTERM and SIGINT stop it cleanly: running actions are stopped and
 * recorded, daemon.url is removed, the exit status is 0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "engine/engine.h"
#include "sites/edge.h"
#include "store/token.h"
#include "util/fs.h"
#include "util/timeutil.h"

static const char usage[] =
        "usage: ferry serve [--data DIR] [--listen ADDR:PORT] [--max-builds N] [--no-sandbox]\n"
        "                   [--keep-artifacts N] [--edge ADDR:PORT]\n"
        "\n"
        "Runs the ferry daemon: pipelines, their executions, the HTTP API and the edge\n"
        "server that serves the sites.\n"
        "  --data DIR         data directory (default: $FERRY_DATA, else\n"
        "                     $XDG_DATA_HOME/ferry, else ~/.local/share/ferry)\n"
        "  --listen ADDR:PORT where the API listens (default " API_LISTEN_DEFAULT "; port 0:\n"
        "                     any free port)\n"
        "  --edge ADDR:PORT   where the sites are served (default " EDGE_LISTEN_DEFAULT ";\n"
        "                     port 0: any free port)\n"
        "  --max-builds N     builds run at once (default: the number of cores)\n"
        "  --no-sandbox       run builds without bubblewrap (it is used when installed)\n"
        "  --keep-artifacts N keep the artifacts of each pipeline's N newest finished\n"
        "                     executions (default 50); older ones are deleted\n"
        "\n"
        "On its first start it writes an admin token to DIR/admin.token (mode 0600),\n"
        "which the ferry commands on this machine use. It writes its URL to\n"
        "DIR/daemon.url and the edge's to DIR/edge.url while it runs. SIGTERM or\n"
        "Ctrl-C stops it.\n";

static struct engine *volatile running_engine;

static void on_stop_signal(int sig)
{
	(void)sig;
	struct engine *e = running_engine;
	if (e)
		engine_request_stop(e);
}

/* The daemon's log: stderr, one whole line per write so threads do not interleave. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	char stamp[32];
	time_iso8601(wall_ms(), stamp, sizeof stamp);
	pthread_mutex_lock(&log_mu);
	fprintf(stderr, "%s %s\n", stamp, line);
	pthread_mutex_unlock(&log_mu);
}

static const struct logsink daemon_log = {log_line, NULL};

/* The URL clients on this machine use: a wildcard address is reached on loopback. */
static char *local_url(const char *listen, unsigned port)
{
	const char *colon = strrchr(listen, ':');
	size_t hn = colon ? (size_t)(colon - listen) : 0;
	char *host = xstrndup(listen, hn);
	const char *shown = host;
	if (!*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "*"))
		shown = "127.0.0.1";
	else if (!strcmp(host, "[::]"))
		shown = "[::1]";
	char *url = xasprintf("http://%s:%u", shown, port);
	free(host);
	return url;
}

static int install_signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int admin_token(struct engine *e, const char *data)
{
	char *token = NULL;
	struct err err;
	int rc = store_token_ensure_admin_file(engine_store(e), data, &token, &err);
	if (rc < 0) {
		fprintf(stderr, "ferry serve: %s\n", err.msg);
		return -1;
	}
	if (rc == 0) {
		char *path = fs_join(data, STORE_TOKEN_ADMIN_FILE);
		fprintf(stderr, "ferry: admin token written to %s\n", path);
		free(path);
	}
	store_token_free(token);
	return 0;
}

/* Writes "<url>\n" to <data>/<file>. */
static int write_url(const char *path, const char *url)
{
	struct err err;
	char *line = xasprintf("%s\n", url);
	int rc = fs_write_atomic(path, line, strlen(line), 0644, &err);
	free(line);
	if (rc < 0)
		fprintf(stderr, "ferry serve: %s\n", err.msg);
	return rc;
}

static void remove_url(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		fprintf(stderr, "ferry serve: removing %s: %s\n", path, strerror(errno));
}

static int serve(const char *data, const char *listen, const char *edge_listen, int max_builds,
                 int no_sandbox, int keep_artifacts)
{
	struct err err;
	char *self = fs_realpath("/proc/self/exe", &err);
	if (!self) {
		fprintf(stderr, "ferry serve: %s\n", err.msg);
		return 1;
	}
	struct engine *e = NULL;
	struct api *api = NULL;
	struct edge *edge = NULL;
	char *url_path = fs_join(data, CLI_URL_FILE), *url = NULL;
	char *edge_url_path = fs_join(data, EDGE_URL_FILE), *edge_url = NULL;
	int status = 1;
	struct engine_opts eo = {.data_dir = data,
	                         .self_exe = self,
	                         .max_builds = max_builds,
	                         .no_sandbox = no_sandbox,
	                         .keep_artifacts = keep_artifacts,
	                         .log = &daemon_log};
	if (engine_open(&eo, &e, &err) < 0) {
		fprintf(stderr, "ferry serve: %s\n", err.msg);
		goto out;
	}
	/* before daemon.url exists: whoever reads it may signal us at once */
	running_engine = e;
	if (install_signals() < 0) {
		fprintf(stderr, "ferry serve: installing signal handlers: %s\n", strerror(errno));
		goto out;
	}
	if (admin_token(e, data) < 0)
		goto out;
	/* the edge first: the api hands it invalidations */
	struct edge_opts go = {.listen = edge_listen, .data_dir = data, .log = &daemon_log};
	if (edge_open(&go, &edge, &err) < 0) {
		fprintf(stderr, "ferry serve: %s\n", err.msg);
		goto out;
	}
	struct api_opts ao = {.listen = listen, .log = &daemon_log, .edge = edge};
	if (api_open(e, &ao, &api, &err) < 0) {
		fprintf(stderr, "ferry serve: %s\n", err.msg);
		goto out;
	}
	edge_url = local_url(edge_listen, edge_port(edge));
	if (write_url(edge_url_path, edge_url) < 0)
		goto out;
	url = local_url(listen, api_port(api));
	/* Invoke actions: functions answer their jobs here; ferry:invalidate evicts there */
	engine_set_url(e, url);
	engine_set_edge(e, edge);
	if (write_url(url_path, url) < 0)
		goto out;
	fprintf(stderr, "ferry: serving %s, sites on %s (data %s)\n", url, edge_url, data);
	engine_run(e);
	status = 0;
out:
	running_engine = NULL;
	api_stop(api);
	edge_stop(edge);
	engine_free(e);
	api_free(api);
	edge_free(edge);
	if (url)
		remove_url(url_path);
	if (edge_url)
		remove_url(edge_url_path);
	if (status == 0)
		fputs("ferry: stopped\n", stderr);
	free(url);
	free(url_path);
	free(edge_url);
	free(edge_url_path);
	free(self);
	return status;
}

int cli_serve(int argc, char **argv)
{
	const char *data = NULL, *listen = API_LISTEN_DEFAULT, *max = NULL;
	const char *edge_listen = EDGE_LISTEN_DEFAULT;
	int no_sandbox = 0;
	const char *keep = NULL;
	struct cli_opt opts[] = {
	        {"--data", "DIR", &data, NULL, NULL},
	        {"--listen", "ADDR:PORT", &listen, NULL, NULL},
	        {"--max-builds", "N", &max, NULL, NULL},
	        {"--no-sandbox", NULL, NULL, &no_sandbox, NULL},
	        {"--keep-artifacts", "N", &keep, NULL, NULL},
	        {"--edge", "ADDR:PORT", &edge_listen, NULL, NULL},
	};
	struct strv pos = STRV_INIT;
	unsigned seen = 0;
	int rc = cli_args(argc, argv, opts, sizeof opts / sizeof opts[0], &pos, &seen, "serve",
	                  usage);
	if (rc == 0 && pos.n)
		rc = cli_usage_error("serve", usage, "unexpected argument \"%s\"", pos.v[0]);
	strv_free(&pos);
	if (rc == 3) {
		fputs(usage, stdout);
		return 0;
	}
	if (rc)
		return rc;
	long max_builds = 0;
	if (max && cli_int(max, 0, 1024, &max_builds) < 0)
		return cli_usage_error("serve", usage,
		                       "--max-builds: \"%s\" is not a number from 0 to 1024", max);
	long keep_artifacts = 0;
	if (keep && cli_int(keep, 1, 1000000, &keep_artifacts) < 0)
		return cli_usage_error("serve", usage,
		                       "--keep-artifacts: \"%s\" is not a number from 1 to 1000000",
		                       keep);
	if (!strrchr(listen, ':'))
		return cli_usage_error("serve", usage, "--listen: \"%s\" is not ADDR:PORT", listen);
	if (!strrchr(edge_listen, ':'))
		return cli_usage_error("serve", usage, "--edge: \"%s\" is not ADDR:PORT",
		                       edge_listen);
	char *dir = cli_data_dir(data);
	struct err err;
	if (fs_mkdir_p(dir, 0700, &err) < 0) {
		fprintf(stderr, "ferry serve: %s\n", err.msg);
		free(dir);
		return 1;
	}
	char *abs = fs_realpath(dir, &err);
	free(dir);
	if (!abs) {
		fprintf(stderr, "ferry serve: %s\n", err.msg);
		return 1;
	}
	rc = serve(abs, listen, edge_listen, (int)max_builds, no_sandbox, (int)keep_artifacts);
	free(abs);
	return rc;
}
