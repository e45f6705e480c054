/*
 * api_deploy.c — /api/deploy: appspec deployment groups (create, list, delete),
 * deployments (list, get with their lifecycle events, log) and a push of a bundle
 * outside a pipeline (`ferry deploy push`, as `aws deploy create-deployment`).
 *
 * Why it is built this way:
 *  - a push runs hooks for as long as they take: the loop only records the
 *    deployment (Created), writes the bundle where the deployer keeps bundles, starts
 *    `ferry __deploy` detached (a double fork: the daemon has no child to reap, and
 *    a daemon restart does not stop a deployment half-way) and answers at once with
 *    the id; the child updates the store as the deployment goes;
 *  - group settings are checked here (absolute target directories, ports, a host
 *    name the edge accepts), so a deployment never starts on a group it cannot run.
 */
#include "api/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sites/proxy.h"
#include "store/deployments.h"
#include "util/fs.h"
#include "util/timeutil.h"

#define API_DEPLOY_ZIP_MAX  (256u << 20)
#define API_DEPLOY_LOG_MAX  (8u << 20)
#define API_DEPLOY_LIST_MAX 100

static const char *const configs[] = {
        "CodeDeployDefault.OneAtATime",
        "CodeDeployDefault.HalfAtATime",
        "CodeDeployDefault.AllAtOnce",
        NULL,
};

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *group_json(const struct store_deploy_group *g)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "applicationName", g->app,
	                      "deploymentGroupName", g->name, "deploymentGroupId", g->id, "kind",
	                      g->kind, "deploymentConfigName", g->config, "autoRollback",
	                      g->auto_rollback, "created", api_time_json(g->created_ms));
	json_object_set_new(o, "targets", json_loads(g->targets ? g->targets : "[]", 0, NULL));
	if (g->slots) {
		json_object_set_new(o, "slots", json_loads(g->slots, 0, NULL));
		json_object_set_new(o, "host", str_or_null(g->host));
		json_object_set_new(o, "liveSlot", str_or_null(g->live_slot));
	}
	return o;
}

static json_t *deployment_json(const struct store_deployment *d)
{
	json_t *o =
	        json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	                  "deploymentId", d->id, "applicationName", d->app, "deploymentGroupName",
	                  d->group, "status", d->status, "revision", str_or_null(d->revision),
	                  "creator", d->creator, "rollbackOf", str_or_null(d->rollback_of),
	                  "rolledBackBy", str_or_null(d->rolled_back_by), "source",
	                  str_or_null(d->source), "summary", str_or_null(d->summary), "errorCode",
	                  str_or_null(d->error_code), "created", api_time_json(d->started_ms),
	                  "completed", d->ended_ms ? api_time_json(d->ended_ms) : json_null());
	return o;
}

static json_t *event_json(const struct store_deploy_event *ev)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "lifecycleEventName",
	                 ev->event, "status", ev->status, "scriptName", str_or_null(ev->script),
	                 "exitCode", ev->exit_code >= 0 ? json_integer(ev->exit_code) : json_null(),
	                 "errorCode", str_or_null(ev->error_code), "message",
	                 str_or_null(ev->message), "startTime",
	                 ev->started_ms ? api_time_json(ev->started_ms) : json_null(), "endTime",
	                 ev->ended_ms ? api_time_json(ev->ended_ms) : json_null());
}

/* ---- groups ---- */

static void list_groups(struct api_job *job)
{
	struct store_deploy_group *g = NULL;
	size_t n = 0;
	struct err err;
	int rc = store_deploy_group_list(engine_store(job->e), api_query(job, "app"), &g, &n, &err);
	if (rc) {
		api_reply_store(job, rc, &err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, group_json(&g[i]));
	store_deploy_group_list_free(g, n);
	api_reply_json(job, 200, json_pack("{s:o}", "deploymentGroups", arr));
}

static int check_dir(struct api_job *job, const char *what, const char *dir)
{
	if (!dir || dir[0] != '/' || strlen(dir) >= PATH_MAX) {
		api_reply_error(job, 400, API_ERR_VALIDATION, "%s: \"%s\" is not an absolute path",
		                what, dir ? dir : "");
		return -1;
	}
	return 0;
}

/* The blue/green part of a create body into *slots (JSON text) and *host. */
static int bluegreen_args(struct api_job *job, json_t *bg, char **slots, char **host)
{
	const char *h = json_string_value(json_object_get(bg, "host"));
	char norm[PROXY_HOST_MAX + 1];
	struct err err;
	if (!h || proxy_host_normalize(h, norm, &err) < 0) {
		api_reply_error(job, 400, API_ERR_VALIDATION, "blueGreen.host: %s",
		                h ? err.msg : "required (the edge host switched between slots)");
		return -1;
	}
	json_t *out = json_object();
	static const char *const names[] = {"blue", "green"};
	for (int i = 0; i < 2; i++) {
		json_t *s = json_object_get(bg, names[i]);
		const char *dir = json_string_value(json_object_get(s, "dir"));
		json_int_t port = json_integer_value(json_object_get(s, "port"));
		char what[32];
		snprintf(what, sizeof what, "blueGreen.%s.dir", names[i]);
		if (check_dir(job, what, dir) < 0) {
			json_decref(out);
			return -1;
		}
		if (port < 1 || port > 65535) {
			api_reply_error(job, 400, API_ERR_VALIDATION,
			                "blueGreen.%s.port: expected a port from 1 to 65535",
			                names[i]);
			json_decref(out);
			return -1;
		}
		json_object_set_new(out, names[i],
		                    json_pack("{s:s, s:I}", "dir", dir, "port", port));
	}
	*slots = json_dumps(out, JSON_COMPACT);
	*host = xstrdup(norm);
	json_decref(out);
	return 0;
}

static void create_group(struct api_job *job)
{
	json_t *body = api_body_object(job);
	if (!body)
		return;
	const char *app = NULL, *name = NULL, *config = NULL;
	char *slots = NULL, *host = NULL, *targets = NULL;
	struct err err;
	if (api_json_string(job, body, "applicationName", true, &app) < 0 ||
	    api_json_string(job, body, "deploymentGroupName", true, &name) < 0 ||
	    api_json_string(job, body, "deploymentConfigName", false, &config) < 0)
		goto out;
	if (store_deploy_name_check("application name", app, &err) < 0 ||
	    store_deploy_name_check("deployment group name", name, &err) < 0) {
		api_reply_error(job, 400, API_ERR_VALIDATION, "%s", err.msg);
		goto out;
	}
	int known = !config;
	for (size_t i = 0; configs[i] && !known; i++)
		known = !strcmp(config, configs[i]);
	if (!known) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "deploymentConfigName: \"%s\" is not a configuration ferry knows "
		                "(CodeDeployDefault.OneAtATime, HalfAtATime, AllAtOnce)",
		                config);
		goto out;
	}
	json_t *bg = json_object_get(body, "blueGreen");
	json_t *tg = json_object_get(body, "targets");
	if (json_is_object(bg)) {
		if (bluegreen_args(job, bg, &slots, &host) < 0)
			goto out;
	} else {
		if (!json_is_array(tg) || !json_array_size(tg) || json_array_size(tg) > 64) {
			api_reply_error(job, 400, API_ERR_VALIDATION,
			                "targets: expected 1 to 64 directories (or blueGreen)");
			goto out;
		}
		size_t i;
		json_t *v;
		json_array_foreach(tg, i, v)
		{
			if (check_dir(job, "targets", json_string_value(v)) < 0)
				goto out;
		}
		targets = json_dumps(tg, JSON_COMPACT);
	}
	json_t *rb = json_object_get(body, "autoRollback");
	struct store_deploy_group g = {
	        .app = (char *)app,
	        .name = (char *)name,
	        .kind = slots ? "blue-green" : "in-place",
	        .targets = targets,
	        .slots = slots,
	        .host = host,
	        .config = (char *)(config ? config : configs[0]),
	        .auto_rollback = !json_is_false(rb),
	};
	int rc = store_deploy_group_create(engine_store(job->e), &g, &err);
	struct store_deploy_group got;
	if (rc)
		api_reply_store(job, rc, &err);
	else if (store_deploy_group_get(engine_store(job->e), app, name, &got, &err) == 0) {
		api_reply_json(job, 201, group_json(&got));
		store_deploy_group_free(&got);
	} else
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
out:
	free(slots);
	free(host);
	free(targets);
	json_decref(body);
}

static void delete_group(struct api_job *job)
{
	struct err err;
	int rc = store_deploy_group_delete(engine_store(job->e), api_param(job, "app"),
	                                   api_param(job, "group"), &err);
	if (rc)
		api_reply_store(job, rc, &err);
	else
		api_reply_json(job, 200, json_pack("{s:s}", "deleted", api_param(job, "group")));
}

/* ---- deployments ---- */

static void list_deployments(struct api_job *job)
{
	int limit = 0;
	if (api_query_int(job, "maxResults", 50, 1, API_DEPLOY_LIST_MAX, &limit) < 0)
		return;
	struct store_deployment *d = NULL;
	size_t n = 0;
	struct err err;
	int rc = store_deployment_list(engine_store(job->e), api_query(job, "app"),
	                               api_query(job, "group"), limit, &d, &n, &err);
	if (rc) {
		api_reply_store(job, rc, &err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, deployment_json(&d[i]));
	store_deployment_list_free(d, n);
	api_reply_json(job, 200, json_pack("{s:o}", "deployments", arr));
}

static void get_deployment(struct api_job *job)
{
	struct store_deployment d;
	struct err err;
	struct store *st = engine_store(job->e);
	int rc = store_deployment_get(st, api_param(job, "id"), &d, &err);
	if (rc) {
		api_reply_store(job, rc, &err);
		return;
	}
	struct store_deploy_event *ev = NULL;
	size_t n = 0;
	rc = store_deploy_event_list(st, d.id, &ev, &n, &err);
	if (rc) {
		store_deployment_free(&d);
		api_reply_store(job, rc, &err);
		return;
	}
	json_t *o = deployment_json(&d);
	json_t *targets = json_array();
	json_t *cur = NULL;
	int cur_index = -1;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].target != cur_index) {
			cur_index = ev[i].target;
			cur = json_pack("{s:i, s:s, s:[]}", "index", cur_index, "targetId",
			                ev[i].target_name, "lifecycleEvents");
			json_array_append_new(targets, cur);
		}
		json_array_append_new(json_object_get(cur, "lifecycleEvents"), event_json(&ev[i]));
	}
	json_object_set_new(o, "targets", targets);
	store_deploy_event_list_free(ev, n);
	store_deployment_free(&d);
	api_reply_json(job, 200, json_pack("{s:o}", "deploymentInfo", o));
}

static void get_log(struct api_job *job)
{
	struct store_deployment d;
	struct err err;
	int rc = store_deployment_get(engine_store(job->e), api_param(job, "id"), &d, &err);
	if (rc) {
		api_reply_store(job, rc, &err);
		return;
	}
	char *path = xasprintf("%s/deploy/%s/%s/logs/%s.log", engine_data_dir(job->e), d.app,
	                       d.group, d.id);
	char *text = NULL;
	size_t len = 0;
	if (!fs_exists(path))
		text = xstrdup("");
	else if (fs_read_file(path, API_DEPLOY_LOG_MAX, &text, &len, &err) < 0)
		text = NULL;
	if (text)
		api_reply_json(job, 200,
		               json_pack("{s:s, s:s}", "deploymentId", d.id, "log", text));
	else
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
	free(text);
	free(path);
	store_deployment_free(&d);
}

/* Starts `ferry __deploy ...` detached: the grandchild of a child that exits at once. */
static int spawn_deploy(const char *data, const char *id, const char *app, const char *group,
                        const char *bundle, struct err *err)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return err_errno(err, "/proc/self/exe");
	exe[n] = '\0';
	char *const argv[] = {exe,           "__deploy",     (char *)data, (char *)id, (char *)app,
	                      (char *)group, (char *)bundle, "cli",        NULL};
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(err, "fork");
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		setsid();
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execv(exe, argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return 0;
}

static void push(struct api_job *job)
{
	const char *app = api_param(job, "app"), *group = api_param(job, "group");
	struct store *st = engine_store(job->e);
	struct store_deploy_group g;
	struct err err;
	int rc = store_deploy_group_get(st, app, group, &g, &err);
	if (rc) {
		api_reply_store(job, rc, &err);
		return;
	}
	store_deploy_group_free(&g);
	if (job->body_len < 4 || memcmp(job->body, "PK", 2)) {
		api_reply_error(job, 400, API_ERR_VALIDATION,
		                "the body must be a zip of the revision, with appspec.yml at its "
		                "root (ferry deploy push APP GROUP BUNDLE.zip|DIR)");
		return;
	}
	char id[STORE_DEPLOY_ID_LEN + 1];
	store_deployment_new_id(id);
	const char *data = engine_data_dir(job->e);
	char *dir = xasprintf("%s/deploy/%s/%s/bundles", data, app, group);
	char *zip = xasprintf("%s/%s.zip", dir, id);
	struct store_deployment d = {.id = id,
	                             .app = (char *)app,
	                             .group = (char *)group,
	                             .status = "Created",
	                             .bundle = zip,
	                             .creator = "user",
	                             .source = "cli"};
	if (fs_mkdir_p(dir, 0755, &err) < 0 ||
	    fs_write_atomic(zip, job->body, job->body_len, 0644, &err) < 0 ||
	    (rc = store_deployment_add(st, &d, &err)) != 0 ||
	    spawn_deploy(data, id, app, group, zip, &err) < 0) {
		api_reply_error(job, 500, HTTP_ERR_INTERNAL, "%s", err.msg);
	} else {
		api_reply_json(job, 201,
		               json_pack("{s:s, s:s}", "deploymentId", id, "status", "InProgress"));
	}
	free(zip);
	free(dir);
}

const struct api_route api_deploy_routes[] = {
        {"GET", "/api/deploy/groups", STORE_SCOPE_READ, list_groups, 0, 0},
        {"POST", "/api/deploy/groups", STORE_SCOPE_ADMIN, create_group, 0, 0},
        {"DELETE", "/api/deploy/groups/{app}/{group}", STORE_SCOPE_ADMIN, delete_group, 0, 0},
        {"POST", "/api/deploy/groups/{app}/{group}/deployments", STORE_SCOPE_ADMIN, push,
         API_DEPLOY_ZIP_MAX, 0},
        {"GET", "/api/deployments", STORE_SCOPE_READ, list_deployments, 0, 0},
        {"GET", "/api/deployments/{id}", STORE_SCOPE_READ, get_deployment, 0, 0},
        {"GET", "/api/deployments/{id}/log", STORE_SCOPE_READ, get_log, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0},
};
