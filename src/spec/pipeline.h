/*
 * pipeline.h — a CodePipeline pipeline declaration (the `pipeline` object that
 * `aws codepipeline get-pipeline` prints) read from JSON or YAML, checked against
 * ../shared/spec/pipeline.md §1, §3.1 and §4, and written back as JSON; plus the
 * trigger filters of §1.7 and the `#{namespace.key}` variables of §3.1.
 * docs/pipeline.md is the user's side of this contract.
 *
 * Documents accepted:
 *  - a bare declaration `{name, stages, ...}`, with ferry's `projects` and
 *    `notifications` sections as the only extra top-level keys;
 *  - a wrapped one, as get-pipeline prints it or create-pipeline takes it:
 *    `{pipeline: {...}, metadata?, tags?, projects?, notifications?}` (metadata is
 *    server-managed and ignored, with a warning).
 *
 * Invariants:
 *  - pipeline_parse() either returns a declaration that passed every check or fails
 *    with one line "FILE:LINE:COL: field.path: what was expected" and *out NULL;
 *    field paths are relative to the declaration ("stages[2].actions[0].actionTypeId
 *    .provider", "triggers[0].gitConfiguration.push[1].branches.includes[0]") or name
 *    the extension ("projects.site.buildspec", "notifications[1].events[0]"); only a
 *    text over PIPELINE_FILE_MAX fails without a position ("FILE: larger than ...");
 *  - every action's provider is a row of ferry's provider table with `supported` set:
 *    other AWS providers are refused naming the stage, action and provider;
 *  - `type` is V1 or V2 (inferred when absent, §1.5); `execution_mode` is always set;
 *    every action has `run_order` >= 1; every `#{ns.key}` in a configuration value
 *    names `codepipeline.PipelineExecutionId`, a declared pipeline variable, or the
 *    namespace of an action that runs strictly before it;
 *  - scalars keep their text as written (`PollForSourceChanges: false` is "false"),
 *    every kept string is valid UTF-8 without NUL bytes, and so is every message,
 *    warning and `why` (fit for a JSON answer) when the file name is;
 *  - arrays keep file order; the pointers between parts (trigger → its source action,
 *    action → its project) point into the same `struct pipeline`.
 *
 * Ownership: everything inside a `struct pipeline` belongs to it; release it with
 * pipeline_free(). Callers treat the structs as read-only. `char **` results (and
 * `*why`) are the caller's to free(); `json_t *` results are the caller's to
 * json_decref(); pointers returned by lookups live as long as the pipeline.
 */
#ifndef FERRY_PIPELINE_H
#define FERRY_PIPELINE_H

#include <jansson.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/* Caps (named in errors). */
#define PIPELINE_FILE_MAX          (1 << 20)    /* bytes of a declaration file */
#define PIPELINE_STAGES_MIN        2            /* spec §1.2.1 */
#define PIPELINE_STAGES_MAX        50           /* spec §1.2.1 */
#define PIPELINE_STAGE_ACTIONS_MAX 50           /* spec §1.2.1 */
#define PIPELINE_ACTIONS_MAX       500          /* spec §1.2.1 */
#define PIPELINE_VARIABLES_MAX     50           /* spec §1.1, §1.6 */
#define PIPELINE_TRIGGERS_MAX      50           /* spec §1.1 */
#define PIPELINE_PROJECTS_MAX      500          /* entries of the `projects` extension */
#define PIPELINE_NOTIFICATIONS_MAX 20           /* rules of the `notifications` extension */
#define PIPELINE_RESOLVED_MAX      (100 * 1024) /* bytes of one resolved value (§3.1) */

enum pl_type { PL_V1 = 1, PL_V2 = 2 };

enum pl_mode { PL_SUPERSEDED, PL_QUEUED, PL_PARALLEL };

enum pl_category {
	PL_CAT_SOURCE,
	PL_CAT_BUILD,
	PL_CAT_DEPLOY,
	PL_CAT_TEST,
	PL_CAT_INVOKE,
	PL_CAT_APPROVAL,
	PL_CAT_COMPUTE,
	PL_CAT_COUNT,
};

/* One per provider of the provider table (pipeline_provider.c; CodeBuild has a row for
 * Build and one for Test); the engine dispatches on it. */
enum pl_kind {
	PL_KIND_CODECOMMIT, /* Source, ferry's git source (supported) */
	PL_KIND_CONNECTION, /* Source CodeStarSourceConnection, ferry's git source (supported) */
	PL_KIND_CODEBUILD,  /* Build and Test, ferry's runner (supported) */
	PL_KIND_S3_SOURCE,  /* the rest: known, refused until a later version */
	PL_KIND_S3_DEPLOY,
	PL_KIND_CODEDEPLOY,
	PL_KIND_LAMBDA_DEPLOY,
	PL_KIND_LAMBDA_INVOKE,
	PL_KIND_MANUAL,
	PL_KIND_COMMANDS,
};

struct pl_key_spec; /* configuration keys of a provider (private to pipeline_provider.c) */

/* A row of the provider table: an action type ferry knows (spec §4.1). */
struct pl_provider {
	enum pl_kind kind;
	enum pl_category category;
	const char *owner, *name, *version; /* actionTypeId fields */
	int min_in, max_in;                 /* input artifacts */
	int min_out, max_out;               /* output artifacts */
	int supported;                      /* ferry runs it in this version */
	int v2_only;
	/* Keys of the variables it emits (spec §3.3), NULL-terminated; NULL when they are
	 * known only at run time (CodeBuild's exported-variables). */
	const char *const *variables;
	const struct pl_key_spec *keys;
};

/* A configuration entry, a tag, or a bound pipeline variable. */
struct pl_kv {
	char *key;
	char *value;
	int line, col; /* of the value; 0 when not from a file */
};

struct pl_artifact_store {
	char *region;   /* the artifactStores key; NULL for `artifactStore` */
	char *type;     /* "S3" */
	char *location; /* the bucket */
	char *key_id;   /* encryptionKey.id, NULL when absent */
	char *key_type; /* encryptionKey.type ("KMS"), NULL when absent */
};

/* Where a git source fetches from (docs/pipeline.md, "Git sources"). */
enum pl_repo_kind {
	PL_REPO_NAME, /* a repository the daemon hosts, by name ("site", "acme/site") */
	PL_REPO_PATH, /* an absolute path on this machine */
	PL_REPO_URL,  /* scheme://… (https, http, ssh, git, file) or user@host:path */
};

/* A CodeCommit or CodeStarSourceConnection action, as ferry's git source. The
 * strings point into the action's configuration. */
struct pl_git_source {
	const char *repository; /* RepositoryName or FullRepositoryId, for variables */
	const char *location;   /* RepositoryUrl when given, else `repository` */
	enum pl_repo_kind location_kind;
	const char *branch;         /* BranchName */
	const char *connection_arn; /* ConnectionArn, NULL when absent */
	int clone_ref;              /* OutputArtifactFormat CODEBUILD_CLONE_REF (else CODE_ZIP) */
	int detect_changes;         /* pushes start the pipeline (DetectChanges; CodeCommit: 1) */
	int poll;                   /* PollForSourceChanges (CodeCommit, default 1), else
	                               DetectChanges: poll remote URLs for changes */
};

struct pl_env_var {
	char *name;
	char *value;
	char *type; /* PLAINTEXT (filled in when absent), PARAMETER_STORE, SECRETS_MANAGER */
};

/* ferry's `projects` extension: the CodeBuild project settings of a ProjectName. */
struct pl_project {
	char *name;
	char *buildspec;      /* NULL: buildspec.yml at the primary source's root */
	int buildspec_inline; /* `buildspec` is the text (it had a newline), else a path
	                         relative to the primary source */
	struct pl_env_var *env;
	size_t nenv;
	int timeout_minutes; /* 0: absent (CodeBuild's default, 60) */
	int line, col;
};

/* The events a notification rule names (docs/pipeline.md, "Notifications"): one bit
 * each; pipeline_notify_event_name() gives the name a rule uses for it. */
enum {
	PL_NOTIFY_STARTED = 1 << 0,         /* an execution started */
	PL_NOTIFY_SUCCEEDED = 1 << 1,       /* ... succeeded */
	PL_NOTIFY_FAILED = 1 << 2,          /* ... failed */
	PL_NOTIFY_SUPERSEDED = 1 << 3,      /* ... was superseded by a newer one */
	PL_NOTIFY_STOPPED = 1 << 4,         /* ... was stopped (StopPipelineExecution) */
	PL_NOTIFY_CANCELLED = 1 << 5,       /* ... was cancelled by an update of the pipeline */
	PL_NOTIFY_RESUMED = 1 << 6,         /* ... was resumed by a stage retry */
	PL_NOTIFY_APPROVAL_NEEDED = 1 << 7, /* a Manual approval action waits */
	PL_NOTIFY_ALL = (1 << 8) - 1,
};

#define PIPELINE_NOTIFY_TIMEOUT_DEFAULT 10 /* seconds per attempt */
#define PIPELINE_NOTIFY_TIMEOUT_MAX     300
#define PIPELINE_NOTIFY_RETRIES_DEFAULT 2 /* attempts after the first */
#define PIPELINE_NOTIFY_RETRIES_MAX     10

/* ferry's `notifications` extension: one rule. Exactly one of command and url is set. */
struct pl_notify_rule {
	unsigned events;         /* PL_NOTIFY_* bits, never 0 */
	struct strv events_text; /* as written (echoed) */
	char *command;           /* run with `/bin/sh -c`, the event JSON on stdin; or NULL */
	char *url;               /* http:// or https:// (no password), POSTed to; or NULL */
	int timeout_s;           /* per attempt: 1..PIPELINE_NOTIFY_TIMEOUT_MAX, default 10 */
	int retries;             /* 0..PIPELINE_NOTIFY_RETRIES_MAX, default 2 */
	int line, col;
};

struct pl_action {
	char *name;
	char *category, *owner, *provider_name, *version; /* actionTypeId as written */
	enum pl_category cat;
	const struct pl_provider *provider; /* never NULL */
	int run_order;                      /* 1 when absent */
	struct pl_kv *config;               /* file order */
	size_t nconfig;
	struct strv inputs;  /* inputArtifacts[].name */
	struct strv outputs; /* outputArtifacts[].name */
	char *namespace;     /* NULL when absent */
	char *region;        /* NULL when absent */
	char *role_arn;      /* NULL when absent */
	int timeout_minutes; /* 0 when absent */
	size_t stage_index, index;
	int line, col;
	struct pl_git_source git;         /* PL_KIND_CODECOMMIT and PL_KIND_CONNECTION */
	const struct pl_project *project; /* PL_KIND_CODEBUILD: its projects entry, or NULL
	                                     (defaults; also when ProjectName has a #{}) */
};

enum pl_on_failure {
	PL_ONFAIL_NONE, /* no onFailure: the execution fails */
	PL_ONFAIL_FAIL,
	PL_ONFAIL_RETRY, /* one automatic retry (spec §1.10) in `retry_mode` */
};

enum pl_retry_mode { PL_RETRY_FAILED_ACTIONS, PL_RETRY_ALL_ACTIONS };

struct pl_blocker {
	char *name;
	char *type;
};

struct pl_stage {
	char *name;
	struct pl_action *actions;
	size_t nactions;
	struct pl_blocker *blockers; /* reserved by AWS: kept and echoed */
	size_t nblockers;
	enum pl_on_failure on_failure;
	int retry_mode_set; /* retryConfiguration present (for echoing) */
	enum pl_retry_mode retry_mode;
	int line, col;
};

struct pl_variable {
	char *name;
	char *default_value; /* NULL when absent */
	char *description;   /* NULL when absent */
};

/* One filter criterion: `present` when the key was given (with includes and/or excludes). */
struct pl_patterns {
	int present;
	struct strv includes;
	struct strv excludes;
};

struct pl_push_filter {
	struct pl_patterns tags, branches, file_paths;
};

enum { PL_PR_OPEN = 1, PL_PR_UPDATED = 2, PL_PR_CLOSED = 4 };

struct pl_pr_filter {
	struct strv events_text; /* as written (echoed); empty: absent */
	unsigned events;         /* PL_PR_* bits; all three when absent */
	struct pl_patterns branches, file_paths;
};

struct pl_trigger {
	char *provider_type; /* "CodeStarSourceConnection" */
	char *source_action_name;
	const struct pl_action *source;
	struct pl_push_filter *push;
	size_t npush;
	struct pl_pr_filter *pull_request;
	size_t npull_request;
};

struct pipeline {
	char *filename; /* as shown in messages */
	char *name;
	char *role_arn; /* NULL when absent (ferry does not need it) */
	struct pl_artifact_store *stores;
	size_t nstores;
	int stores_by_region; /* the file had `artifactStores` */
	struct pl_stage *stages;
	size_t nstages;
	int version; /* 0 when absent: server-managed */
	enum pl_mode execution_mode;
	int execution_mode_set;
	enum pl_type type;
	int type_set;
	struct pl_variable *variables;
	size_t nvariables;
	struct pl_trigger *triggers;
	size_t ntriggers;
	struct pl_project *projects; /* ferry's extension, file order */
	size_t nprojects;
	struct pl_notify_rule *notifications; /* ferry's extension, file order */
	size_t nnotifications;
	struct pl_kv *tags; /* create-pipeline's `tags` of the wrapped form */
	size_t ntags;
	struct strv warnings; /* "FILE:LINE:COL: message" */
};

struct pipeline_opts {
	/* ferry's region: actions' `region` must equal it and `artifactStores` must hold
	 * it. NULL: any region is accepted. */
	const char *region;
};

/* --- reading ------------------------------------------------------------------- */

/* `filename` names the text in messages; `opts` may be NULL. */
FERRY_MUST_CHECK
int pipeline_parse(const char *text, size_t len, const char *filename,
                   const struct pipeline_opts *opts, struct pipeline **out, struct err *err);

/* Reads a file (capped at PIPELINE_FILE_MAX) and parses it; `shown` names it. */
FERRY_MUST_CHECK
int pipeline_load(const char *path, const char *shown, const struct pipeline_opts *opts,
                  struct pipeline **out, struct err *err);

void pipeline_free(struct pipeline *p);

/* --- writing ------------------------------------------------------------------- */

/* The declaration object, keys in botocore's order, defaults written out as
 * get-pipeline shows them (runOrder, executionMode, pipelineType, empty artifact
 * lists); `version` only when set. To stamp a version: json_object_set_new(obj,
 * "version", json_integer(v)). Never NULL. */
json_t *pipeline_to_json(const struct pipeline *p);

/* The whole file: {"pipeline": ..., "tags"?: [...], "projects"?: {...},
 * "notifications"?: [...]}. */
json_t *pipeline_file_to_json(const struct pipeline *p);

enum { PIPELINE_JSON_FILE = 1 << 0, PIPELINE_JSON_COMPACT = 1 << 1 };

/* JSON text (indented by 4 unless COMPACT, with a final newline), the declaration or
 * with PIPELINE_JSON_FILE the whole file. pipeline_parse() reads it back to the same
 * text: characters YAML takes for line breaks or refuses (U+0085, U+2028, U+2029, DEL,
 * C1 controls, U+FEFF, U+FFFE, U+FFFF) are written as \uXXXX, which json_dumps() of
 * the json_t alone does not do — store this text, not a json_dumps() of it. */
char *pipeline_to_string(const struct pipeline *p, unsigned flags);

/* --- lookups ------------------------------------------------------------------- */

const struct pl_stage *pipeline_stage(const struct pipeline *p, const char *name);
const struct pl_action *pipeline_action(const struct pipeline *p, const char *stage,
                                        const char *action);
/* The configuration value of `key`, NULL when absent. */
const char *pipeline_config(const struct pl_action *a, const char *key);
/* The action whose namespace is `ns`, NULL when none. */
const struct pl_action *pipeline_namespace_action(const struct pipeline *p, const char *ns);
const struct pl_project *pipeline_project(const struct pipeline *p, const char *name);
/* The artifact store for `region` (NULL: the single store, or the first of the map). */
const struct pl_artifact_store *pipeline_artifact_store(const struct pipeline *p,
                                                        const char *region);
/* 1 when `a` finishes before `b` may start: earlier stage, or lower runOrder. */
int pipeline_runs_before(const struct pl_action *a, const struct pl_action *b);

/* "Source", "Build", ... / "SUPERSEDED", ... / "V1", "V2". */
const char *pipeline_category_name(enum pl_category c);
const char *pipeline_mode_name(enum pl_mode m);
const char *pipeline_type_name(enum pl_type t);
/* "started", "succeeded", "failed", "superseded", "stopped", "cancelled", "resumed",
 * "approval-needed" for one PL_NOTIFY_* bit; NULL for anything else. */
const char *pipeline_notify_event_name(unsigned event);

/* --- triggers (spec §1.7) ---------------------------------------------------------- */

/* A ref update. `ref` is the full ref ("refs/heads/main", "refs/tags/v1.2"); `paths`
 * are the changed paths (both sides of renames), or NULL when unknown — a filePaths
 * criterion then counts as met, so that nothing is missed. */
struct pipeline_push {
	const char *ref;
	const struct strv *paths;
};

/* A pull-request event: "OPEN", "UPDATED" or "CLOSED" (closed or merged); the PR's
 * target (base) branch name; its changed paths (merge-base..head), NULL when unknown. */
struct pipeline_pr {
	const char *event;
	const char *target_branch;
	const struct strv *paths;
};

/* 1 when the push starts the pipeline through trigger `t` (filters OR-ed, criteria
 * inside a filter AND-ed, excludes win). 0 otherwise, with `*why` (when `why` is not
 * NULL) one line saying why, e.g. `branch "dev" is not included by
 * branches.includes ["main"]`. */
int pipeline_push_matches(const struct pl_trigger *t, const struct pipeline_push *push, char **why);
int pipeline_pr_matches(const struct pl_trigger *t, const struct pipeline_pr *pr, char **why);

/* The trigger naming `source`, NULL when none. */
const struct pl_trigger *pipeline_trigger_for(const struct pipeline *p,
                                              const struct pl_action *source);

/* Whether pipeline_source_push_matches() for `source` looks at the changed paths (a
 * push filter of its trigger has filePaths): when not, they need not be computed. */
int pipeline_source_push_needs_paths(const struct pipeline *p, const struct pl_action *source);

/* Whether a push to `source`'s repository starts the pipeline: through its trigger
 * when it has one, else by the default rule — a push to refs/heads/<BranchName>, when
 * change detection is on. Same return and `why` as pipeline_push_matches(). */
int pipeline_source_push_matches(const struct pipeline *p, const struct pl_action *source,
                                 const struct pipeline_push *push, char **why);

/* --- variables (spec §3.1, §1.6) ----------------------------------------------------- */

/* Returns the value of ns.key, or NULL when there is none. The value is copied before
 * the next call. */
typedef const char *(*pipeline_var_lookup)(void *ctx, const char *ns, const char *key);

/* Replaces each `#{ns.key}` (grammar: #\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_-]+)\}; any
 * other text, a lone `#{` included, is literal) by its value, in one pass: values are
 * not scanned again. Fails with "Unable to resolve variable #{ns.key}" when `lookup`
 * has no value, or when the result would pass PIPELINE_RESOLVED_MAX bytes. */
FERRY_MUST_CHECK
int pipeline_vars_resolve(const char *text, pipeline_var_lookup lookup, void *ctx, char **out,
                          struct err *err);

/* Appends "ns.key" for every reference in `text`, in order, repeats included. */
void pipeline_vars_refs(const char *text, struct strv *out);

/* The pipeline variables of one execution (spec §1.6): `given` (StartPipelineExecution
 * overrides, may be NULL with n 0) over the declared defaults. Fails on an undeclared
 * name, an empty or too long value, a repeated name, more than PIPELINE_VARIABLES_MAX
 * entries, or a declared variable without default that is not given. The result
 * is in declaration order; free it with pipeline_kv_free(). */
FERRY_MUST_CHECK
int pipeline_vars_bind(const struct pipeline *p, const struct pl_kv *given, size_t n,
                       struct pl_kv **out, size_t *nout, struct err *err);

void pipeline_kv_free(struct pl_kv *kv, size_t n);

#endif
