/*
 * appspec.h — a CodeDeploy appspec.yml (EC2/on-premises, version 0.0) parsed and
 * checked into plain C structs. See ../shared/spec/pipeline.md §9.
 *
 * Invariants:
 *  - appspec_parse() either returns a complete, checked appspec or fails with
 *    "appspec.yml:LINE:COLUMN: field.path: what was expected" and nothing allocated;
 *  - version is "0.0", os is "linux" (windows is refused: ferry runs on Linux);
 *  - files[].destination is absolute; files[].source and hooks' locations are
 *    relative to the bundle root (a leading '/' is dropped) and never contain "..";
 *  - hooks are known, scriptable lifecycle events only (an unknown name is refused
 *    with a suggestion; DownloadBundle, Install, AllowTraffic, BlockTraffic, Start
 *    and End are run by ferry and cannot have scripts); a timeout is 1..3600 seconds
 *    (3600 when absent) and the timeouts of one event add up to at most 3600;
 *  - permissions' mode is octal (1–4 digits, no symbolic modes); `acls` and
 *    `context` (SELinux) are accepted and ignored, with a warning.
 *
 * Ownership: the caller frees the result with appspec_free(); everything inside is
 * owned by the struct.
 */
#ifndef FERRY_APPSPEC_H
#define FERRY_APPSPEC_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

#define APPSPEC_FILE_MAX        (1 << 20)
#define APPSPEC_TIMEOUT_MAX     3600 /* seconds, per script and per event */
#define APPSPEC_HOOKS_MAX       64   /* scripts per event */
#define APPSPEC_ENTRIES_MAX     1000 /* files or permissions entries */
#define APPSPEC_TIMEOUT_DEFAULT 3600

/* Scriptable lifecycle events, in the local deployer's canonical order (§9). */
enum appspec_event {
	AS_BEFORE_BLOCK_TRAFFIC,
	AS_AFTER_BLOCK_TRAFFIC,
	AS_APPLICATION_STOP,
	AS_BEFORE_INSTALL,
	AS_AFTER_INSTALL,
	AS_APPLICATION_START,
	AS_VALIDATE_SERVICE,
	AS_BEFORE_ALLOW_TRAFFIC,
	AS_AFTER_ALLOW_TRAFFIC,
	AS_EVENT_COUNT
};

enum appspec_exists {
	AS_EXISTS_DISALLOW, /* default: the deployment fails */
	AS_EXISTS_OVERWRITE,
	AS_EXISTS_RETAIN,
};

#define AS_TYPE_FILE 1
#define AS_TYPE_DIR  2

struct appspec_hook {
	char *location; /* relative to the bundle root */
	int timeout;    /* seconds */
	char *runas;    /* NULL: the deployer's user */
	int line;
};

struct appspec_file {
	char *source;      /* relative to the bundle root; "" for the whole bundle */
	char *destination; /* absolute */
	int line;
};

struct appspec_permission {
	char *object;  /* absolute */
	char *pattern; /* "**" when absent */
	struct strv except;
	char *owner, *group; /* NULL: unchanged */
	int mode;            /* -1: unchanged */
	int types;           /* AS_TYPE_* bits; 0: both */
	int line;
};

struct appspec {
	char *version;
	char *os;
	enum appspec_exists file_exists;
	struct appspec_file *files;
	size_t nfiles;
	struct appspec_permission *permissions;
	size_t npermissions;
	struct appspec_hook *hooks[AS_EVENT_COUNT];
	size_t nhooks[AS_EVENT_COUNT];
	struct strv warnings; /* "appspec.yml:LINE:COL: message" */
};

/* Parses `text` (YAML, or JSON which is YAML); `filename` names it in messages. */
FERRY_MUST_CHECK
int appspec_parse(const char *text, size_t len, const char *filename, struct appspec **out,
                  struct err *err);

/* Reads (capped at APPSPEC_FILE_MAX) and parses the file at `path`; `shown` names it. */
FERRY_MUST_CHECK
int appspec_load(const char *path, const char *shown, struct appspec **out, struct err *err);

void appspec_free(struct appspec *as);

/* "ApplicationStop", ...; "?" out of range. */
const char *appspec_event_name(enum appspec_event ev);

/* The event of that exact name, or -1. */
int appspec_event_find(const char *name);

#endif
