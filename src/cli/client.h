/*
 * client.h — what the commands that talk to the daemon share: where the daemon is
 * and which token to send, one API call with errors printed the ferry way, argument
 * parsing, and plain-text tables and times for people.
 *
 * Settings, first found wins:
 *   URL    --url, $FERRY_URL, <data>/daemon.url (written by `ferry serve`),
 *          http://127.0.0.1:7878;
 *   token  $FERRY_TOKEN, <data>/admin.token;
 *   data   cli_data_dir(--data).
 *
 * Invariants:
 *  - the token is never printed, not even in errors;
 *  - cli_call() prints every failure itself, as "ferry: <message>" (the API's
 *    message, or what kept the answer from arriving) and returns 1, the exit status.
 *
 * Ownership: strings returned are the caller's to free(); json_t results the caller's
 * reference; a struct cli_table owns its cells.
 */
#ifndef FERRY_CLI_CLIENT_H
#define FERRY_CLI_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http_client.h"
#include "util/buf.h"
#include "util/err.h"

#define CLI_URL_DEFAULT "http://127.0.0.1:7878"
#define CLI_URL_FILE    "daemon.url"
#define CLI_URL_MAX     1024
#define CLI_TOKEN_MAX   256
#define CLI_FILE_MAX    (1u << 20)  /* a pipeline file sent to the daemon */
#define CLI_TEXT_MAX    (64u << 20) /* a path or a table the client builds */

struct cli_client {
	char *url;        /* no trailing '/' */
	char *token;      /* NULL: none found (calls go without one) */
	char *data;       /* the data directory */
	char *token_from; /* where the token came from, for hints ("$FERRY_TOKEN", a path) */
};

/* Settles URL, token and data directory (flags may be NULL). */
void cli_client_init(struct cli_client *c, const char *data_flag, const char *url_flag);
void cli_client_free(struct cli_client *c);

struct cli_req {
	const char *method; /* NULL: GET */
	const char *path;   /* "/api/...", segments escaped (cli_path()) */
	const json_t *json; /* a JSON body; or: */
	const void *body;
	size_t body_len;
	const char *content_type;
	long timeout_ms;         /* 0: the client's default; <0: none */
	http_chunk_fn *on_chunk; /* streams a 2xx body (logs) */
	void *ctx;
};

/* Performs a call: 0 with *out (the JSON answer; out may be NULL), else 1 after
 * printing "ferry: <why>" on stderr. */
int cli_call(struct cli_client *c, const struct cli_req *r, json_t **out);

/* GETs a listing: with `json`, prints the answer as it is and leaves *out NULL; else
 * *out is the answer, for the caller's table. Returns cli_call()'s status. */
int cli_list_call(struct cli_client *c, const char *path, int json, json_t **out);

/* What an upload sends from `src`: the file itself, or for a directory a zip of it
 * (util/zipdir.h with `zip_flags`) made in a temporary file, removed after. At most
 * `max` bytes. 0 with *data (to free) and *len; else 2 after printing "ferry: <why>". */
int cli_read_upload(const char *src, unsigned zip_flags, size_t max, char **data, size_t *len);
/* POSTs what cli_read_upload() reads to `path` as application/zip, with no time limit:
 * cli_read_upload()'s status when that fails, else cli_call()'s. */
int cli_post_upload(struct cli_client *c, const char *path, const char *src, unsigned zip_flags,
                    size_t max, json_t **out);

/* "/seg/seg/..." from NULL-terminated segments, each percent-escaped. */
char *cli_path(const char *first, ...) __attribute__((sentinel));
/* A query value, percent-escaped. */
char *cli_escape(const char *s);

/* ---- arguments ---- */

struct cli_opt {
	const char *name;   /* "--version" */
	const char *arg;    /* "N" when it takes a value; NULL for a flag */
	const char **value; /* its (last) value */
	int *flag;          /* set to 1 for a flag */
	struct strv *list;  /* each value, when it may repeat */
};

/* Parses argv[1..argc-1]: options (--name VALUE, --name=VALUE) anywhere, "--" ends
 * them, the rest go to `pos` in order. *seen gets bit i for opts[i] given. Returns 0;
 * 3 for -h/--help (nothing printed); 2 after printing "ferry CMD: why" and `usage`. */
int cli_args(int argc, char **argv, const struct cli_opt *opts, size_t nopts, struct strv *pos,
             unsigned *seen, const char *cmd, const char *usage);

/* Prints "ferry CMD: why", a blank line and `usage` on stderr; returns 2. */
FERRY_PRINTF(3, 4)
int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...);

/* cli_args(), with -h/--help answered by `usage` on stdout. Returns -1 when the command
 * goes on; else its exit status: 0 after the help, 2 after a usage error. */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, size_t nopts, struct strv *pos,
              unsigned *seen, const char *cmd, const char *usage);

/* A subcommand, `ferry CMD SUB ARGS...`: the first member of each entry of a command's
 * table (the rest, such as what runs it, is the command's). */
struct cli_sub {
	const char *name;
	size_t min_pos, max_pos; /* how many ARGS */
	unsigned allowed;        /* the options it takes (bits of opts) besides `always` */
	const char *args;        /* the ARGS' names, "NAME ID", for messages */
};

struct cli_cmd {
	const char *name; /* "site" */
	const char *usage;
	const struct cli_opt *opts;
	size_t nopts;
	unsigned always;  /* options every subcommand takes (--data, --url) */
	const void *subs; /* nsubs entries, sub_size bytes apart, each starting with a */
	size_t nsubs;     /* struct cli_sub */
	size_t sub_size;
	int missing_all; /* a missing argument names all of ARGS, not only those not given */
};

/* Parses argv (cli_parse()), finds SUB in cmd's table, puts ARGS in *args and checks
 * their number and that only the subcommand's options were given (*seen: those given).
 * Returns -1 with *sub set when the command goes on; else the exit status as
 * cli_parse(). */
int cli_sub_args(const struct cli_cmd *cmd, int argc, char **argv, struct strv *args,
                 unsigned *seen, const struct cli_sub **sub);

/* A whole number in [min, max]; -1 when `s` is not one. */
int cli_int(const char *s, long min, long max, long *out);

/* ---- output ---- */

/* A table printed with columns padded to their widest cell (counted in characters,
 * not bytes), two spaces apart, the last column unpadded, no trailing spaces. */
struct cli_table {
	size_t ncols;
	struct strv cells; /* row-major */
};

void cli_table_init(struct cli_table *t, size_t ncols);
/* Appends a row of t->ncols cells: NULL prints "-", "" a blank (a continued row). */
void cli_table_row(struct cli_table *t, const char *const *cells);
/* The text (each row ends with '\n'); to free. */
char *cli_table_render(const struct cli_table *t);
void cli_table_print(const struct cli_table *t);
void cli_table_free(struct cli_table *t);

/* A time from the API (epoch seconds, with a fraction) as "2024-05-01 14:03:07" in
 * local time; "-" for null or absent. */
void cli_time(const json_t *seconds, char *out, size_t n);
/* "2 min 05 s" between two API times; "-" when either is missing. */
void cli_elapsed(const json_t *from, const json_t *to, char *out, size_t n);

/* Prints a JSON value indented, with a final newline. */
void cli_print_json(const json_t *v);

/* A string member, or NULL. */
const char *cli_str(const json_t *obj, const char *key);

#endif
