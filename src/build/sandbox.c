/* sandbox.c — see sandbox.h. Mount order matters: later mounts sit on top. */
#include "build/sandbox.h"

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

void sandbox_argv(const struct sandbox_spec *s, struct strv *argv)
{
	strv_push(argv, sandbox_bwrap());
	const char *fixed[] = {"--die-with-parent", "--unshare-pid", "--ro-bind", "/", "/",
	                       "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
	                       "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm"};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		strv_push(argv, fixed[i]);
	if (s->hidden_dir && fs_is_dir(s->hidden_dir)) {
		strv_push(argv, "--tmpfs");
		strv_push(argv, s->hidden_dir);
	}
	const char *binds[][2] = {
	        {s->home_host, s->home_visible},
	        {s->ctl_dir, s->ctl_dir},
	        {s->src_dir, s->src_dir},
	};
	for (size_t i = 0; i < sizeof binds / sizeof binds[0]; i++) {
		if (!binds[i][0] || !binds[i][1])
			continue;
		strv_push(argv, "--bind");
		strv_push(argv, binds[i][0]);
		strv_push(argv, binds[i][1]);
	}
	strv_push(argv, "--");
}
