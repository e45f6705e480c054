/*
 * site_cmd.h — what `ferry site` shares with its tests: zipping a directory for
 * `ferry site deploy NAME DIR`.
 */
#ifndef FERRY_CLI_SITE_CMD_H
#define FERRY_CLI_SITE_CMD_H

#include "util/err.h"

/* Writes a zip of the regular files under `dir` (symbolic links and other special
 * files are left out, as a site publishes none) to `zip`; *nfiles gets their count. */
FERRY_MUST_CHECK
int site_cmd_zip_dir(const char *dir, const char *zip, long *nfiles, struct err *err);

#endif
