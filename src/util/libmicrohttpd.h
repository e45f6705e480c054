/*
 * libmicrohttpd.h — libmicrohttpd12's functions ferry uses, loaded on first call (util/dynlib.h).
 *
 * Include this instead of the library's headers. Every function ferry uses is in
 * the FUNCS list below; a call `f(...)` goes through the table, whose members have
 * the real function's type (__typeof__), so calls are type-checked as usual. ferry
 * does not link the library, so using a function missing from the list fails at
 * link time: add it to the list (scripts/lazylib.py).
 */
#ifndef FERRY_LIBMICROHTTPD_H
#define FERRY_LIBMICROHTTPD_H

#include <microhttpd.h>

#define LIBMICROHTTPD_FUNCS(X)                                                                     \
	X(MHD_start_daemon)                                                                        \
	X(MHD_stop_daemon)                                                                         \
	X(MHD_quiesce_daemon)                                                                      \
	X(MHD_suspend_connection)                                                                  \
	X(MHD_resume_connection)                                                                   \
	X(MHD_get_connection_info)                                                                 \
	X(MHD_get_connection_values)                                                               \
	X(MHD_lookup_connection_value)                                                             \
	X(MHD_create_response_from_buffer)                                                         \
	X(MHD_create_response_from_callback)                                                       \
	X(MHD_create_response_from_fd_at_offset64)                                                 \
	X(MHD_add_response_header)                                                                 \
	X(MHD_queue_response)                                                                      \
	X(MHD_destroy_response)

struct libmicrohttpd_api {
#define LIBMICROHTTPD_MEMBER(f) __typeof__(f) *f;
	LIBMICROHTTPD_FUNCS(LIBMICROHTTPD_MEMBER)
#undef LIBMICROHTTPD_MEMBER
};

/* The loaded table (the library is opened on the first call). */
const struct libmicrohttpd_api *libmicrohttpd_api(void);

#ifndef LIBMICROHTTPD_IMPL
#define MHD_start_daemon                  (libmicrohttpd_api()->MHD_start_daemon)
#define MHD_stop_daemon                   (libmicrohttpd_api()->MHD_stop_daemon)
#define MHD_quiesce_daemon                (libmicrohttpd_api()->MHD_quiesce_daemon)
#define MHD_suspend_connection            (libmicrohttpd_api()->MHD_suspend_connection)
#define MHD_resume_connection             (libmicrohttpd_api()->MHD_resume_connection)
#define MHD_get_connection_info           (libmicrohttpd_api()->MHD_get_connection_info)
#define MHD_get_connection_values         (libmicrohttpd_api()->MHD_get_connection_values)
#define MHD_lookup_connection_value       (libmicrohttpd_api()->MHD_lookup_connection_value)
#define MHD_create_response_from_buffer   (libmicrohttpd_api()->MHD_create_response_from_buffer)
#define MHD_create_response_from_callback (libmicrohttpd_api()->MHD_create_response_from_callback)
#define MHD_create_response_from_fd_at_offset64                                                    \
	(libmicrohttpd_api()->MHD_create_response_from_fd_at_offset64)
#define MHD_add_response_header (libmicrohttpd_api()->MHD_add_response_header)
#define MHD_queue_response      (libmicrohttpd_api()->MHD_queue_response)
#define MHD_destroy_response    (libmicrohttpd_api()->MHD_destroy_response)
#endif

#endif
