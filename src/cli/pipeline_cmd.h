/*
 * pipeline_cmd.h — what the files of `ferry pipeline` share: the parsed arguments
 * and the subcommands, each a function returning the exit status.
 */
#ifndef FERRY_CLI_PIPELINE_CMD_H
#define FERRY_CLI_PIPELINE_CMD_H

#include "cli/client.h"

/* Options; bit i of `seen` is option i of this order. */
enum {
	PO_DATA,
	PO_URL,
	PO_VERSION,
	PO_JSON,
	PO_COMMIT,
	PO_VAR,
	PO_MAX,
	PO_ALL,
	PO_ABANDON,
	PO_REASON,
	PO_OUTBOUND,
	PO_ROTATE,
	PO_NO_START,
	PO_COMMENT,
	PO_TOKEN,
	PO_COUNT,
};

struct plc_args {
	const char *sub;
	const char *data, *url, *version, *commit, *max, *reason, *comment, *token;
	int json, all, abandon, outbound, rotate, no_start;
	struct strv vars; /* NAME=VALUE */
	struct strv pos;  /* after the subcommand */
	unsigned seen;
	struct cli_client c;
};

/* A number given by an option that a GET passes on as a query parameter. */
struct plc_number {
	const char *option;   /* "max": --max */
	const char *text;     /* the option's value; NULL: not given */
	long max;             /* from 1 to this */
	const char *expected; /* the error's "is not ...": "a number from 1 to 100" */
	const char *param;    /* "maxResults": "?maxResults=N" */
};

/* GETs `path` (?PARAM=N added when the option is given) into *out; returns 0, 1
 * after the call failed, or 2 after "ferry pipeline SUB: --OPTION: "TEXT" is not
 * EXPECTED" (*out NULL unless 0). */
int plc_get_numbered(struct plc_args *a, const char *path, const struct plc_number *n,
                     json_t **out);

/* pipeline_cmd.c: declarations */
int plc_create(struct plc_args *a);
int plc_update(struct plc_args *a);
int plc_get(struct plc_args *a);
int plc_list(struct plc_args *a);
int plc_delete(struct plc_args *a);
int plc_webhook_secret(struct plc_args *a);

/* pipeline_run_cmd.c: executions */
int plc_start(struct plc_args *a);
int plc_retry(struct plc_args *a);
int plc_stop(struct plc_args *a);
int plc_disable_transition(struct plc_args *a);
int plc_enable_transition(struct plc_args *a);
int plc_approve(struct plc_args *a);
int plc_reject(struct plc_args *a);

/* pipeline_show.c: what people read */
int plc_state(struct plc_args *a);
int plc_executions(struct plc_args *a);
int plc_execution(struct plc_args *a);
int plc_triggers(struct plc_args *a);

/* Renders GetPipelineState's answer as a table of stages and actions (pure: for
 * tests). To free. */
char *plc_state_text(const json_t *state);

#endif
