/*
 * output.h — what the command line prints for people: the closing table of a build,
 * human-readable durations and sizes; and the process listing `ferry build` uses to
 * end what a build left behind.
 */
#ifndef FERRY_CLI_OUTPUT_H
#define FERRY_CLI_OUTPUT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "build/build.h"

/* "850 ms", "1.24 s", "2 min 05 s" */
void cli_duration(int64_t ms, char *out, size_t n);
/* "912 B", "1.4 KiB", "3.0 MiB" */
void cli_size(int64_t bytes, char *out, size_t n);

/* The phase table and the build's outcome, artifacts, reports, exported variables. */
void cli_print_summary(FILE *f, const struct build_result *r);

/* Pids (as decimal strings) of the direct children of `parent`, from /proc. */
void cli_children(pid_t parent, struct strv *out);

#endif
