/* common.c — what several commands share: where ferry keeps its data. */
#include "cli/cli.h"

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"

/* An unset or empty variable counts as absent; XDG also says to ignore a
 * relative XDG_DATA_HOME. */
static const char *env_path(const char *name, int must_be_absolute)
{
	const char *v = getenv(name);
	if (!v || !*v || (must_be_absolute && v[0] != '/'))
		return NULL;
	return v;
}

char *cli_data_dir(const char *flag)
{
	if (flag && *flag)
		return xstrdup(flag);
	const char *v = env_path("FERRY_DATA", 0);
	if (v)
		return xstrdup(v);
	v = env_path("XDG_DATA_HOME", 1);
	if (v)
		return fs_join(v, "ferry");
	const char *home = env_path("HOME", 1);
	if (!home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
	}
	/* No $HOME and no passwd entry (a container with an arbitrary uid): the
	 * working directory is the only place left. */
	return fs_join(home ? home : ".", ".local/share/ferry");
}
