/* libgit.c — see libgit.h. */
#define LIBGIT_IMPL
#include "util/libgit.h"

#include <pthread.h>

#include "util/dynlib.h"

static struct libgit_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const char *const names[] = {
#define LIBGIT_NAME(f) #f,
	        LIBGIT_FUNCS(LIBGIT_NAME)
#undef LIBGIT_NAME
	};
	dynlib_load(FERRY_GIT2_SONAME, "libgit2-1.5", names, (void **)&api,
	            sizeof names / sizeof names[0]);
}

const struct libgit_api *libgit_api(void)
{
	pthread_once(&once, load);
	return &api;
}
