/*
 * sandbox.h — the bubblewrap command line a build runs under.
 *
 * What the build sees: the whole file system read-only; its source directory and
 * ferry's control directory writable at their own paths; a private, empty /tmp,
 * /var/tmp and /dev/shm; a private writable home at `home_visible`; a fresh /dev
 * and /proc; its own pid namespace (so ending the sandbox ends every process the
 * build started); never `hidden_dir` (ferry's data directory), which appears empty.
 * The network is shared (builds download dependencies).
 */
#ifndef FERRY_SANDBOX_H
#define FERRY_SANDBOX_H

#include "util/buf.h"

struct sandbox_spec {
	const char *src_dir;
	const char *ctl_dir;
	const char *home_host;         /* directory bound at home_visible */
	const char *home_visible;      /* e.g. "/root" */
	const char *hidden_dir;        /* may be NULL */
	const char *self_exe;          /* ferry's binary, kept visible (read-only) for helpers */
	const char *const *extra_dirs; /* NULL-terminated, may be NULL: also writable at their
	                                  own paths (a pipeline build's secondary sources) */
};

/* Path of bwrap when it is installed and executable, else NULL. */
const char *sandbox_bwrap(void);

/* Appends bwrap and its options, ending with "--", to `argv`. */
void sandbox_argv(const struct sandbox_spec *spec, struct strv *argv);

#endif
