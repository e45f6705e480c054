/* libmicrohttpd.c — see libmicrohttpd.h. */
#define LIBMICROHTTPD_IMPL
#include "util/libmicrohttpd.h"

#include <pthread.h>

#include "util/dynlib.h"

static struct libmicrohttpd_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const char *const names[] = {
#define LIBMICROHTTPD_NAME(f) #f,
	        LIBMICROHTTPD_FUNCS(LIBMICROHTTPD_NAME)
#undef LIBMICROHTTPD_NAME
	};
	dynlib_load(FERRY_MHD_SONAME, "libmicrohttpd12", names, (void **)&api,
	            sizeof names / sizeof names[0]);
}

const struct libmicrohttpd_api *libmicrohttpd_api(void)
{
	pthread_once(&once, load);
	return &api;
}
