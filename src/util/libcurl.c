/* libcurl.c — see libcurl.h. */
#define LIBCURL_IMPL
#include "util/libcurl.h"

#include <pthread.h>

#include "util/dynlib.h"

static struct libcurl_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const char *const names[] = {
#define LIBCURL_NAME(f) #f,
	        LIBCURL_FUNCS(LIBCURL_NAME)
#undef LIBCURL_NAME
	};
	dynlib_load(FERRY_CURL_SONAME, "libcurl4", names, (void **)&api,
	            sizeof names / sizeof names[0]);
}

const struct libcurl_api *libcurl_api(void)
{
	pthread_once(&once, load);
	return &api;
}
