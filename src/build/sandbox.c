/* sandbox.c — see sandbox.h. Mount order matters: later mounts sit on top. */
#include "build/sandbox.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"

const char *sandbox_bwrap(void)
{
	static const char *const candidates[] = {"/usr/bin/bwrap", "/bin/bwrap"};
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
		if (access(candidates[i], X_OK) == 0)
			return candidates[i];
	return NULL;
}

/*
 * bwrap creates a bind's missing parent directories with mode 0700, which would keep
 * a run-as user out; the parents that lie on one of our fresh tmpfs mounts are made
 * first, world-searchable. (Parents elsewhere exist: the root is the host's.)
 */
static void make_parents(struct strv *argv, const char *path, const char *const *tmpfs,
                         size_t ntmpfs)
{
	char *p = xstrdup(path);
	for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		for (size_t i = 0; i < ntmpfs; i++) {
			if (tmpfs[i] && fs_is_within(tmpfs[i], p) && strcmp(tmpfs[i], p) != 0) {
				strv_push(argv, "--perms");
				strv_push(argv, "0755");
				strv_push(argv, "--dir");
				strv_push(argv, p);
				break;
			}
		}
		*slash = '/';
	}
	free(p);
}

void sandbox_argv(const struct sandbox_spec *s, struct strv *argv)
{
	strv_push(argv, sandbox_bwrap());
	/* /tmp and /var/tmp as on any Linux machine: world-writable and sticky */
	const char *fixed[] = {"--die-with-parent",
	                       "--unshare-pid",
	                       "--ro-bind",
	                       "/",
	                       "/",
	                       "--dev",
	                       "/dev",
	                       "--proc",
	                       "/proc",
	                       "--perms",
	                       "1777",
	                       "--tmpfs",
	                       "/tmp",
	                       "--perms",
	                       "1777",
	                       "--tmpfs",
	                       "/var/tmp",
	                       "--perms",
	                       "1777",
	                       "--tmpfs",
	                       "/dev/shm"};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		strv_push(argv, fixed[i]);
	const char *tmpfs[] = {"/tmp", "/var/tmp", "/dev/shm", NULL};
	if (s->hidden_dir && fs_is_dir(s->hidden_dir)) {
		strv_push(argv, "--tmpfs");
		strv_push(argv, s->hidden_dir);
		tmpfs[3] = s->hidden_dir;
	}
	const char *binds[][2] = {
	        {s->home_host, s->home_visible},
	        {s->ctl_dir, s->ctl_dir},
	        {s->src_dir, s->src_dir},
	};
	if (s->self_exe) {
		make_parents(argv, s->self_exe, tmpfs, sizeof tmpfs / sizeof tmpfs[0]);
		strv_push(argv, "--ro-bind");
		strv_push(argv, s->self_exe);
		strv_push(argv, s->self_exe);
	}
	for (size_t i = 0; i < sizeof binds / sizeof binds[0]; i++) {
		if (!binds[i][0] || !binds[i][1])
			continue;
		make_parents(argv, binds[i][1], tmpfs, sizeof tmpfs / sizeof tmpfs[0]);
		strv_push(argv, "--bind");
		strv_push(argv, binds[i][0]);
		strv_push(argv, binds[i][1]);
	}
	for (size_t i = 0; s->extra_dirs && s->extra_dirs[i]; i++) {
		make_parents(argv, s->extra_dirs[i], tmpfs, sizeof tmpfs / sizeof tmpfs[0]);
		strv_push(argv, "--bind");
		strv_push(argv, s->extra_dirs[i]);
		strv_push(argv, s->extra_dirs[i]);
	}
	strv_push(argv, "--");
}
