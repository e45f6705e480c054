/* libarchive.c — see libarchive.h. */
#define LIBARCHIVE_IMPL
#include "util/libarchive.h"

#include <pthread.h>

#include "util/dynlib.h"

static struct libarchive_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const char *const names[] = {
#define LIBARCHIVE_NAME(f) #f,
	        LIBARCHIVE_FUNCS(LIBARCHIVE_NAME)
#undef LIBARCHIVE_NAME
	};
	dynlib_load(FERRY_ARCHIVE_SONAME, "libarchive13", names, (void **)&api,
	            sizeof names / sizeof names[0]);
}

const struct libarchive_api *libarchive_api(void)
{
	pthread_once(&once, load);
	return &api;
}
