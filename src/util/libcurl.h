/*
 * libcurl.h — libcurl4's functions ferry uses, loaded on first call (util/dynlib.h).
 *
 * Include this instead of the library's headers. Every function ferry uses is in
 * the FUNCS list below; a call `f(...)` goes through the table, whose members have
 * the real function's type (__typeof__), so calls are type-checked as usual. ferry
 * does not link the library, so using a function missing from the list fails at
 * link time: add it to the list (scripts/lazylib.py).
 */
#ifndef FERRY_LIBCURL_H
#define FERRY_LIBCURL_H

#include <curl/curl.h>

#define LIBCURL_FUNCS(X)                                                                           \
	X(curl_global_init)                                                                        \
	X(curl_easy_init)                                                                          \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_strerror)                                                                      \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)

struct libcurl_api {
#define LIBCURL_MEMBER(f) __typeof__(f) *f;
	LIBCURL_FUNCS(LIBCURL_MEMBER)
#undef LIBCURL_MEMBER
};

/* The loaded table (the library is opened on the first call). */
const struct libcurl_api *libcurl_api(void);

#ifndef LIBCURL_IMPL
#define curl_global_init   (libcurl_api()->curl_global_init)
#define curl_easy_init     (libcurl_api()->curl_easy_init)
#define curl_easy_cleanup  (libcurl_api()->curl_easy_cleanup)
#define curl_easy_setopt   (libcurl_api()->curl_easy_setopt)
#define curl_easy_perform  (libcurl_api()->curl_easy_perform)
#define curl_easy_getinfo  (libcurl_api()->curl_easy_getinfo)
#define curl_easy_strerror (libcurl_api()->curl_easy_strerror)
#define curl_slist_append  (libcurl_api()->curl_slist_append)
#undef curl_slist_free_all
#define curl_slist_free_all (libcurl_api()->curl_slist_free_all)
#endif

#endif
