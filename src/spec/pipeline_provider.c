/*
 * pipeline_provider.c — the action types ferry knows (spec §4.1), their configuration
 * keys (§4.2–4.6), and the checks of one action against its row.
 *
 * Every AWS provider of §4.1 has its row, configuration keys included, so that
 * running a new one takes flipping `supported` (and writing its engine side); a
 * provider not in the table is "not a provider ferry knows". Rows with
 * `supported == 0` are refused with the stage, action and provider named.
 *
 * The git sources (CodeCommit, CodeStarSourceConnection) are ferry's: they fetch a
 * local repository or a URL (docs/pipeline.md, "Git sources"), hence RepositoryUrl,
 * a key AWS does not have, and ConnectionArn being optional.
 */
#include "spec/pipeline_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec/buildspec.h"

#define REF_NAME_MAX     255
#define PROJECT_NAME_MIN 2
#define PROJECT_NAME_MAX 255
#define ENV_VARS_MAX     100

enum {
	K_REQ = 1 << 0,     /* required */
	K_BOOL = 1 << 1,    /* true or false (any case) */
	K_NO_VARS = 1 << 2, /* no #{...}: the value must be known when the pipeline is put */
};

struct pl_key_spec {
	const char *name;
	unsigned flags;
	const char *const *values; /* NULL: free text */
};

static const char *const artifact_formats[] = {"CODE_ZIP", "CODEBUILD_CLONE_REF", NULL};
static const char *const canned_acls[] = {
        "private",       "public-read",       "public-read-write",         "authenticated-read",
        "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control", NULL,
};
static const char *const env_types[] = {"PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER", NULL};

static const struct pl_key_spec codecommit_keys[] = {
        {"RepositoryName", K_REQ | K_NO_VARS, NULL},
        {"BranchName", K_REQ | K_NO_VARS, NULL},
        {"PollForSourceChanges", K_BOOL | K_NO_VARS, NULL},
        {"OutputArtifactFormat", K_NO_VARS, artifact_formats},
        {"RepositoryUrl", K_NO_VARS, NULL}, /* ferry */
        {NULL, 0, NULL},
};
static const struct pl_key_spec connection_keys[] = {
        {"ConnectionArn", K_NO_VARS, NULL}, /* required by AWS; ferry does not use it */
        {"FullRepositoryId", K_REQ | K_NO_VARS, NULL},
        {"BranchName", K_REQ | K_NO_VARS, NULL},
        {"OutputArtifactFormat", K_NO_VARS, artifact_formats},
        {"DetectChanges", K_BOOL | K_NO_VARS, NULL},
        {"RepositoryUrl", K_NO_VARS, NULL}, /* ferry */
        {NULL, 0, NULL},
};
static const struct pl_key_spec codebuild_keys[] = {
        {"ProjectName", K_REQ, NULL},       {"PrimarySource", 0, NULL},
        {"EnvironmentVariables", 0, NULL},  {"BatchEnabled", K_BOOL, NULL},
        {"CombineArtifacts", K_BOOL, NULL}, {NULL, 0, NULL},
};
static const struct pl_key_spec s3_source_keys[] = {
        {"S3Bucket", K_REQ, NULL},
        {"S3ObjectKey", K_REQ, NULL},
        {"PollForSourceChanges", K_BOOL, NULL},
        {"AllowOverrideForS3ObjectKey", K_BOOL, NULL},
        {NULL, 0, NULL},
};
static const struct pl_key_spec s3_deploy_keys[] = {
        {"BucketName", K_REQ, NULL},
        {"Extract", K_REQ | K_BOOL, NULL},
        {"ObjectKey", 0, NULL},
        {"KMSEncryptionKeyARN", 0, NULL},
        {"CannedACL", 0, canned_acls},
        {"CacheControl", 0, NULL},
        {NULL, 0, NULL},
};
static const struct pl_key_spec codedeploy_keys[] = {
        {"ApplicationName", K_REQ, NULL},
        {"DeploymentGroupName", K_REQ, NULL},
        {NULL, 0, NULL},
};
static const struct pl_key_spec lambda_deploy_keys[] = {
        {"FunctionName", K_REQ, NULL},
        {"FunctionAlias", 0, NULL},
        {"PublishedTargetVersion", 0, NULL},
        {"DeployStrategy", 0, NULL},
        {NULL, 0, NULL},
};
static const struct pl_key_spec lambda_invoke_keys[] = {
        {"FunctionName", K_REQ, NULL},
        {"UserParameters", 0, NULL},
        {NULL, 0, NULL},
};
static const struct pl_key_spec manual_keys[] = {
        {"NotificationArn", 0, NULL},
        {"CustomData", 0, NULL},
        {"ExternalEntityLink", 0, NULL},
        {NULL, 0, NULL},
};
static const struct pl_key_spec commands_keys[] = {{NULL, 0, NULL}};

/* Variables each provider emits (spec §3.3); the engine's git source must emit these. */
static const char *const codecommit_vars[] = {
        "CommitId", "CommitMessage", "RepositoryName", "BranchName", "AuthorDate", "CommitterDate",
        NULL,
};
static const char *const connection_vars[] = {
        "AuthorDate",    "BranchName",         "CommitId", "CommitMessage",
        "ConnectionArn", "FullRepositoryName", NULL,
};
static const char *const s3_source_vars[] = {"ETag", "VersionId", NULL};
static const char *const no_vars[] = {NULL};
static const char *const codedeploy_vars[] = {"DeploymentId", NULL}; /* ferry's [F] */

/* The table. To run a provider: set `supported` and write its engine side. */
static const struct pl_provider providers[] = {
        /* kind, category, owner, name, version, in, out, supported, v2_only, vars, keys */
        {PL_KIND_CODECOMMIT, PL_CAT_SOURCE, "AWS", "CodeCommit", "1", 0, 0, 1, 1, 1, 0,
         codecommit_vars, codecommit_keys},
        {PL_KIND_CONNECTION, PL_CAT_SOURCE, "AWS", "CodeStarSourceConnection", "1", 0, 0, 1, 1, 1,
         0, connection_vars, connection_keys},
        {PL_KIND_CODEBUILD, PL_CAT_BUILD, "AWS", "CodeBuild", "1", 1, 5, 0, 5, 1, 0, NULL,
         codebuild_keys},
        {PL_KIND_CODEBUILD, PL_CAT_TEST, "AWS", "CodeBuild", "1", 1, 5, 0, 5, 1, 0, NULL,
         codebuild_keys},
        {PL_KIND_S3_SOURCE, PL_CAT_SOURCE, "AWS", "S3", "1", 0, 0, 1, 1, 0, 0, s3_source_vars,
         s3_source_keys},
        {PL_KIND_S3_DEPLOY, PL_CAT_DEPLOY, "AWS", "S3", "1", 1, 1, 0, 0, 1, 0, no_vars,
         s3_deploy_keys},
        {PL_KIND_CODEDEPLOY, PL_CAT_DEPLOY, "AWS", "CodeDeploy", "1", 1, 1, 0, 0, 1, 0,
         codedeploy_vars, codedeploy_keys},
        {PL_KIND_LAMBDA_DEPLOY, PL_CAT_DEPLOY, "AWS", "Lambda", "1", 0, 1, 0, 0, 0, 1, no_vars,
         lambda_deploy_keys},
        {PL_KIND_LAMBDA_INVOKE, PL_CAT_INVOKE, "AWS", "Lambda", "1", 0, 5, 0, 5, 1, 0, NULL,
         lambda_invoke_keys},
        {PL_KIND_MANUAL, PL_CAT_APPROVAL, "AWS", "Manual", "1", 0, 0, 0, 0, 1, 0, no_vars,
         manual_keys},
        {PL_KIND_COMMANDS, PL_CAT_COMPUTE, "AWS", "Commands", "1", 1, 10, 0, 1, 0, 1, NULL,
         commands_keys},
};
#define NPROVIDERS (sizeof providers / sizeof providers[0])

/* "CodeCommit, CodeStarSourceConnection, CodeBuild, S3, ..." (each name once). */
static void known_names(char *out, size_t size)
{
	const char *names[NPROVIDERS + 1];
	size_t n = 0;
	for (size_t i = 0; i < NPROVIDERS; i++) {
		size_t j = 0;
		while (j < n && strcmp(names[j], providers[i].name) != 0)
			j++;
		if (j == n)
			names[n++] = providers[i].name;
	}
	names[n] = NULL;
	pl_join(out, size, names);
}

/* "Source CodeCommit, Source CodeStarSourceConnection, Build CodeBuild, ..." */
static void supported_names(char *out, size_t size)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NPROVIDERS && off < size; i++) {
		if (!providers[i].supported)
			continue;
		int n = snprintf(out + off, size - off, "%s%s %s", off ? ", " : "",
		                 pipeline_category_name(providers[i].category), providers[i].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* --- actionTypeId ------------------------------------------------------------------ */

static int find_row(struct plctx *c, struct pl_action *a, const char *path)
{
	char shown[PL_SHOW_MAX + 8], list[512], sub[PL_PATH_MAX];
	const struct ynode *type = pl_action_field(c, a, "actionTypeId");
	const struct pl_provider *named = NULL;
	for (size_t i = 0; i < NPROVIDERS; i++) {
		if (strcmp(providers[i].name, a->provider_name) != 0)
			continue;
		named = &providers[i];
		if (providers[i].category == a->cat) {
			a->provider = &providers[i];
			return 0;
		}
	}
	const struct ynode *at = pl_get(type, "provider");
	pl_path(sub, "%s.actionTypeId.provider", path);
	if (!named) {
		known_names(list, sizeof list);
		return pl_fail(c, at, "%s: \"%s\" is not a provider ferry knows (known: %s)", sub,
		               pl_show(a->provider_name, shown), list);
	}
	/* Say every category the name has ("Lambda is a Deploy or Invoke provider"). */
	size_t off = 0;
	list[0] = '\0';
	for (size_t i = 0; i < NPROVIDERS; i++)
		if (strcmp(providers[i].name, a->provider_name) == 0 && off < sizeof list)
			off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
			                        off ? " or " : "",
			                        pipeline_category_name(providers[i].category));
	pl_path(sub, "%s.actionTypeId.category", path);
	return pl_fail(c, pl_get(type, "category"), "%s: %s is a %s provider, not %s", sub,
	               named->name, list, a->category);
}

static int check_type_id(struct plctx *c, struct pl_action *a, const char *path)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8], list[512];
	const struct ynode *type = pl_action_field(c, a, "actionTypeId");
	if (find_row(c, a, path) < 0)
		return -1;
	const struct pl_provider *row = a->provider;
	if (strcmp(row->owner, a->owner) != 0) {
		pl_path(sub, "%s.actionTypeId.owner", path);
		return pl_fail(c, pl_get(type, "owner"), "%s: %s actions are owned by %s, found %s",
		               sub, row->name, row->owner, a->owner);
	}
	if (strcmp(row->version, a->version) != 0) {
		pl_path(sub, "%s.actionTypeId.version", path);
		return pl_fail(c, pl_get(type, "version"),
		               "%s: ferry knows version %s of %s, found \"%s\"", sub, row->version,
		               row->name, pl_show(a->version, shown));
	}
	if (!row->supported) {
		char sname[PL_SHOW_MAX + 8];
		supported_names(list, sizeof list);
		pl_path(sub, "%s.actionTypeId.provider", path);
		return pl_fail(c, pl_get(type, "provider"),
		               "%s: %s %s actions come in a later version of ferry (stage \"%s\", "
		               "action \"%s\"); this version runs %s",
		               sub, pipeline_category_name(row->category), row->name,
		               pl_show(c->p->stages[a->stage_index].name, sname),
		               pl_show(a->name, shown), list);
	}
	if (row->v2_only && c->p->type != PL_V2) {
		pl_path(sub, "%s.actionTypeId.provider", path);
		return pl_fail(c, pl_get(type, "provider"),
		               "%s: %s %s actions need pipelineType V2", sub,
		               pipeline_category_name(row->category), row->name);
	}
	return 0;
}

/* "takes 1 to 5 input artifacts", "takes no input artifacts", "takes exactly 1 ..." */
static int check_count(struct plctx *c, const struct pl_action *a, const char *path,
                       const char *field, size_t n, int min, int max)
{
	char sub[PL_PATH_MAX], want[64];
	const char *what = strcmp(field, "inputArtifacts") == 0 ? "input" : "output";
	if (n >= (size_t)min && n <= (size_t)max)
		return 0;
	if (max == 0)
		snprintf(want, sizeof want, "no %s artifacts", what);
	else if (min == max)
		snprintf(want, sizeof want, "exactly %d %s artifact%s", min, what,
		         min == 1 ? "" : "s");
	else
		snprintf(want, sizeof want, "%d to %d %s artifacts", min, max, what);
	pl_path(sub, "%s.%s", path, field);
	return pl_fail(c, pl_action_field(c, a, field), "%s: %s %s takes %s, found %zu", sub,
	               pipeline_category_name(a->provider->category), a->provider->name, want, n);
}

/* --- configuration keys ------------------------------------------------------------ */

static int has_ref(const char *s)
{
	struct strv refs = STRV_INIT;
	pipeline_vars_refs(s, &refs);
	size_t n = refs.n;
	strv_free(&refs);
	return n > 0;
}

static int is_true(const char *v)
{
	return strcasecmp(v, "true") == 0;
}

static int check_keys(struct plctx *c, const struct pl_action *a, const char *path)
{
	char sub[PL_PATH_MAX], cpath[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	const struct pl_key_spec *keys = a->provider->keys;
	const char *names[32];
	size_t nnames = 0;
	for (size_t k = 0; keys[k].name && nnames + 1 < sizeof names / sizeof names[0]; k++)
		names[nnames++] = keys[k].name;
	names[nnames] = NULL;
	pl_path(cpath, "%s.configuration", path);
	const struct ynode *cfg =
	        pl_get(pl_action_node(c, a->stage_index, a->index), "configuration");
	if (cfg && pl_check_keys(c, cfg, cpath, names) < 0)
		return -1;
	for (size_t k = 0; keys[k].name; k++) {
		const struct pl_key_spec *ks = &keys[k];
		const char *v = pipeline_config(a, ks->name);
		const struct ynode *at = pl_config_node(c, a, ks->name);
		pl_path(sub, "%s.%s", cpath, ks->name);
		if (!v) {
			if (!(ks->flags & K_REQ))
				continue;
			return pl_fail(c, cfg ? cfg : pl_action_node(c, a->stage_index, a->index),
			               "%s: missing (%s actions need it)", sub, a->provider->name);
		}
		if (has_ref(v)) {
			if (ks->flags & K_NO_VARS)
				return pl_fail(
				        c, at,
				        "%s: must not use #{...} variables: a source's "
				        "repository and branch are fixed when the pipeline is put",
				        sub);
			continue; /* checked once resolved, when the action starts */
		}
		if ((ks->flags & K_BOOL) && !is_true(v) && strcasecmp(v, "false") != 0)
			return pl_fail(c, at, "%s: expected true or false, found \"%s\"", sub,
			               pl_show(v, shown));
		if (ks->values) {
			int idx;
			if (pl_enum(c, at, sub, ks->values, &idx) < 0)
				return -1;
		}
	}
	return 0;
}

/* --- git sources ------------------------------------------------------------------- */

/* git check-ref-format's rules for a branch name. */
static int branch_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > REF_NAME_MAX || s[0] == '-' || s[0] == '/' || s[len - 1] == '/' ||
	    s[len - 1] == '.' || strstr(s, "..") || strstr(s, "//") || strstr(s, "@{") ||
	    strcmp(s, "@") == 0 || (len >= 5 && strcmp(s + len - 5, ".lock") == 0))
		return 0;
	for (const char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch < 0x20 || ch == 0x7f || strchr(" ~^:?*[\\", ch))
			return 0;
		if (ch == '.' && (p == s || p[-1] == '/'))
			return 0;
	}
	return 1;
}

/* owner/repo (GitLab groups: group/sub/repo): segments of [A-Za-z0-9._-], not . or .. */
static int repo_name_ok(const char *s, int need_slash)
{
	int slashes = 0;
	const char *seg = s;
	for (const char *p = s;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - seg);
			if (n == 0 || (n == 1 && seg[0] == '.') ||
			    (n == 2 && seg[0] == '.' && seg[1] == '.') || seg[0] == '-')
				return 0;
			if (!*p)
				break;
			slashes++;
			seg = p + 1;
			continue;
		}
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
		            *p))
			return 0;
	}
	return !need_slash || slashes >= 1;
}

static const char *const url_schemes[] = {"https", "http", "ssh", "git", "file", NULL};

/* Classifies a repository location (docs/pipeline.md); -1 with a reason in why. */
static int classify(const char *s, enum pl_repo_kind *kind, const char **why)
{
	const char *sep = strstr(s, "://");
	if (sep) {
		size_t n = (size_t)(sep - s);
		int known = 0;
		for (size_t i = 0; url_schemes[i] && !known; i++)
			known = strlen(url_schemes[i]) == n && strncmp(s, url_schemes[i], n) == 0;
		if (!known) {
			*why = "a URL's scheme must be https, http, ssh, git or file";
			return -1;
		}
		const char *auth = sep + 3, *end = auth + strcspn(auth, "/");
		const char *at = memchr(auth, '@', (size_t)(end - auth));
		if (at && memchr(auth, ':', (size_t)(at - auth))) {
			*why = "a URL must not carry a password (it would show in every answer "
			       "about the pipeline); use a git credential helper or an SSH key";
			return -1;
		}
		if (!sep[3]) {
			*why = "the URL has nothing after its scheme";
			return -1;
		}
		*kind = PL_REPO_URL;
		return 0;
	}
	if (s[0] == '/') {
		*kind = PL_REPO_PATH;
		return 0;
	}
	/* scp-like user@host:path, as git accepts it */
	size_t user = strcspn(s, "@/:");
	if (s[user] == '@' && user > 0) {
		const char *host = s + user + 1;
		size_t h = strcspn(host, "/:@");
		if (h > 0 && host[h] == ':' && host[h + 1]) {
			*kind = PL_REPO_URL;
			return 0;
		}
	}
	if (repo_name_ok(s, 0)) {
		*kind = PL_REPO_NAME;
		return 0;
	}
	*why = "expected a repository name (\"site\", \"acme/site\"), an absolute path or a URL";
	return -1;
}

static int check_git(struct plctx *c, struct pl_action *a, const char *path)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	struct pl_git_source *g = &a->git;
	int connection = a->provider->kind == PL_KIND_CONNECTION;
	const char *repo_key = connection ? "FullRepositoryId" : "RepositoryName";
	const char *url = pipeline_config(a, "RepositoryUrl");
	const char *why = NULL;
	g->repository = pipeline_config(a, repo_key);
	g->branch = pipeline_config(a, "BranchName");
	g->connection_arn = pipeline_config(a, "ConnectionArn");
	if (connection && !repo_name_ok(g->repository, 1)) {
		pl_path(sub, "%s.configuration.FullRepositoryId", path);
		return pl_fail(c, pl_config_node(c, a, repo_key),
		               "%s: expected owner/repository, found \"%s\"", sub,
		               pl_show(g->repository, shown));
	}
	g->location = url ? url : g->repository;
	const char *loc_key = url ? "RepositoryUrl" : repo_key;
	if (classify(g->location, &g->location_kind, &why) < 0) {
		pl_path(sub, "%s.configuration.%s", path, loc_key);
		return pl_fail(c, pl_config_node(c, a, loc_key), "%s: \"%s\": %s", sub,
		               pl_show(g->location, shown), why);
	}
	if (!branch_ok(g->branch)) {
		pl_path(sub, "%s.configuration.BranchName", path);
		return pl_fail(c, pl_config_node(c, a, "BranchName"),
		               "%s: \"%s\" is not a valid git branch name", sub,
		               pl_show(g->branch, shown));
	}
	if (g->connection_arn && strncmp(g->connection_arn, "arn:", 4) != 0) {
		pl_path(sub, "%s.configuration.ConnectionArn", path);
		return pl_fail(c, pl_config_node(c, a, "ConnectionArn"),
		               "%s: expected an ARN (arn:aws:codestar-connections:...), found "
		               "\"%s\"; ferry does not need it, it may be left out",
		               sub, pl_show(g->connection_arn, shown));
	}
	const char *fmt = pipeline_config(a, "OutputArtifactFormat");
	g->clone_ref = fmt && strcmp(fmt, "CODEBUILD_CLONE_REF") == 0;
	if (connection) {
		const char *dc = pipeline_config(a, "DetectChanges");
		g->detect_changes = !dc || is_true(dc);
		g->poll = g->detect_changes;
	} else {
		const char *poll = pipeline_config(a, "PollForSourceChanges");
		g->detect_changes = 1; /* ferry's hooks and webhooks are CodeCommit's events */
		g->poll = !poll || is_true(poll);
	}
	return 0;
}

/* --- CodeBuild --------------------------------------------------------------------- */

static int project_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < PROJECT_NAME_MIN || n > PROJECT_NAME_MAX ||
	    !strchr("0123456789abcdefghijklmnop"
	            "qrstuvwxyzABCDEFGHIJKLMNO"
	            "PQRSTUVWXYZ",
	            s[0]))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static const char *const env_keys[] = {"name", "value", "type", NULL};

/* EnvironmentVariables: JSON text of [{name, value, type?}] (spec §4.3). */
static int check_env_json(struct plctx *c, const struct pl_action *a, const char *sub,
                          const char *text)
{
	const struct ynode *at = pl_config_node(c, a, "EnvironmentVariables");
	json_error_t jerr;
	json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	int rc = -1;
	if (!arr)
		return pl_fail(c, at, "%s: not valid JSON (%s at character %d)", sub, jerr.text,
		               jerr.position);
	if (!json_is_array(arr)) {
		pl_fail(c, at, "%s: expected a JSON list of {\"name\", \"value\", \"type\"}", sub);
		goto out;
	}
	if (json_array_size(arr) > ENV_VARS_MAX) {
		pl_fail(c, at, "%s: at most %d variables", sub, ENV_VARS_MAX);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *it = json_array_get(arr, i);
		const char *key;
		json_t *val;
		if (!json_is_object(it)) {
			pl_fail(c, at, "%s[%zu]: expected an object with name and value", sub, i);
			goto out;
		}
		json_object_foreach(it, key, val)
		{
			int known = 0;
			for (size_t k = 0; env_keys[k]; k++)
				known |= strcmp(key, env_keys[k]) == 0;
			if (!known || !json_is_string(val)) {
				pl_fail(c, at, "%s[%zu]: %s", sub, i,
				        known ? "name, value and type are strings"
				              : "unknown key (known: name, value, type)");
				goto out;
			}
		}
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *type = json_string_value(json_object_get(it, "type"));
		if (!name || !*name || !json_object_get(it, "value")) {
			pl_fail(c, at, "%s[%zu]: needs a name and a value", sub, i);
			goto out;
		}
		int ok = !type;
		for (size_t k = 0; type && env_types[k]; k++)
			ok |= strcmp(type, env_types[k]) == 0;
		if (!ok) {
			pl_fail(c, at,
			        "%s[%zu].type: expected PLAINTEXT, PARAMETER_STORE or "
			        "SECRETS_MANAGER",
			        sub, i);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(arr);
	return rc;
}

static int check_codebuild(struct plctx *c, struct pl_action *a, const char *path)
{
	char sub[PL_PATH_MAX], shown[PL_SHOW_MAX + 8];
	const char *project = pipeline_config(a, "ProjectName");
	const char *primary = pipeline_config(a, "PrimarySource");
	const char *env = pipeline_config(a, "EnvironmentVariables");
	const char *batch = pipeline_config(a, "BatchEnabled");
	const char *combine = pipeline_config(a, "CombineArtifacts");
	if (!has_ref(project)) {
		pl_path(sub, "%s.configuration.ProjectName", path);
		if (!project_name_ok(project))
			return pl_fail(
			        c, pl_config_node(c, a, "ProjectName"),
			        "%s: \"%s\" is not a CodeBuild project name (2 to 255 letters, "
			        "digits, - and _, starting with a letter or digit)",
			        sub, pl_show(project, shown));
		a->project = pipeline_project(c->p, project);
	}
	pl_path(sub, "%s.configuration.PrimarySource", path);
	if (!primary && a->inputs.n > 1)
		return pl_fail(c, pl_action_field(c, a, "configuration"),
		               "%s: missing (required with more than one input artifact: it names "
		               "the one extracted into $CODEBUILD_SRC_DIR)",
		               sub);
	if (primary && !has_ref(primary) && !strv_contains(&a->inputs, primary))
		return pl_fail(c, pl_config_node(c, a, "PrimarySource"),
		               "%s: \"%s\" is not one of the action's input artifacts", sub,
		               pl_show(primary, shown));
	pl_path(sub, "%s.configuration.EnvironmentVariables", path);
	if (env && check_env_json(c, a, sub, env) < 0)
		return -1;
	if (combine && !(batch && is_true(batch))) {
		pl_path(sub, "%s.configuration.CombineArtifacts", path);
		return pl_fail(c, pl_config_node(c, a, "CombineArtifacts"),
		               "%s: only with BatchEnabled true", sub);
	}
	if (batch && is_true(batch))
		pl_warn(c, pl_config_node(c, a, "BatchEnabled"),
		        "BatchEnabled is ignored: ferry runs the buildspec as one build");
	return 0;
}

/* --- one action -------------------------------------------------------------------- */

int pl_check_action_type(struct plctx *c, struct pl_action *a)
{
	char path[PL_PATH_MAX];
	pl_path(path, "stages[%zu].actions[%zu]", a->stage_index, a->index);
	if (check_type_id(c, a, path) < 0)
		return -1;
	const struct pl_provider *row = a->provider;
	if (check_count(c, a, path, "inputArtifacts", a->inputs.n, row->min_in, row->max_in) < 0 ||
	    check_count(c, a, path, "outputArtifacts", a->outputs.n, row->min_out, row->max_out) <
	            0)
		return -1;
	if (check_keys(c, a, path) < 0)
		return -1;
	if (a->timeout_minutes && row->kind != PL_KIND_MANUAL)
		pl_warn(c, pl_action_field(c, a, "timeoutInMinutes"),
		        "%s.timeoutInMinutes is ignored: only Manual approvals honour it (a "
		        "CodeBuild action's time limit is its project's timeoutInMinutes)",
		        path);
	switch (row->kind) {
	case PL_KIND_CODECOMMIT:
	case PL_KIND_CONNECTION:
		return check_git(c, a, path);
	case PL_KIND_CODEBUILD:
		return check_codebuild(c, a, path);
	default:
		return 0;
	}
}
