/*
 * fn_int.h — what the files of src/functions/ share: the reserved environment
 * variables, the code directory's place, and the bootstraps embedded in the binary.
 */
#ifndef FERRY_FUNCTIONS_FN_INT_H
#define FERRY_FUNCTIONS_FN_INT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

/* 1 when a function's Environment.Variables may not set `name` (Lambda's reserved
 * keys: ferry sets them for every invocation). */
int fn_env_reserved(const char *name);

/* <data>/functions/<name> (to free). */
char *fn_dir(const char *data_dir, const char *name);

/* The bootstraps (src/functions/runtime/), embedded by bootstraps.c. */
extern const char fn_boot_node[];
extern const size_t fn_boot_node_len;
extern const char fn_boot_python[];
extern const size_t fn_boot_python_len;

/* ---- the Runtime API one invocation serves (runtime_api.c) ---- */

#define FN_API_CONNS_MAX 8
#define FN_API_HEAD_MAX  (16u << 10)
#define FN_API_BODY_MAX  (6u << 20) /* a response or error body (Lambda's 6 MB) */
#define FN_API_PREFIX    "/2018-06-01/runtime"

struct fn_api_conn {
	int fd; /* -1: free */
	struct buf in;
	int continued; /* "100 Continue" sent for the request being read */
};

struct fn_api {
	int listen_fd;
	unsigned port;
	struct fn_api_conn conns[FN_API_CONNS_MAX];
	/* the one invocation */
	const char *request_id;
	const char *payload;
	size_t payload_len;
	int64_t deadline_ms; /* epoch ms */
	const char *arn;
	char trace_id[80];
	int handed;         /* /next gave it out */
	int done;           /* /response, /error or /init/error came */
	int function_error; /* 1: /error or /init/error */
	int init_error;     /* 1: /init/error */
	char *result;       /* the body posted */
	size_t result_len;
	char *error_type; /* Lambda-Runtime-Function-Error-Type */
};

/* Listens on 127.0.0.1 (a port the kernel picks). */
FERRY_MUST_CHECK int fn_api_open(struct fn_api *a, struct err *err);
/* Fills up to `max` pollfds (listen socket and connections); returns how many. */
size_t fn_api_pollfds(struct fn_api *a, struct pollfd *pfd, size_t max);
/* Handles what poll() reported on those fds (same order as fn_api_pollfds()). */
void fn_api_handle(struct fn_api *a, const struct pollfd *pfd, size_t n);
void fn_api_close(struct fn_api *a);

#endif
