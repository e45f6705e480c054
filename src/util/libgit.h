/*
 * libgit.h — libgit2 (git repositories), loaded on first call (util/dynlib.h).
 *
 * Include this instead of the library's headers. Every function ferry uses is in
 * the FUNCS list below; a call `f(...)` goes through the table, whose members have
 * the real function's type (__typeof__), so calls are type-checked as usual. ferry
 * does not link the library, so using a function missing from the list fails at
 * link time: add it to the list.
 */
#ifndef FERRY_LIBGIT_H
#define FERRY_LIBGIT_H

#include <git2.h>

#define LIBGIT_FUNCS(X)                                                                            \
	X(git_libgit2_init)                                                                        \
	X(git_libgit2_shutdown)                                                                    \
	X(git_oid_tostr)                                                                           \
	X(git_reference_free)                                                                      \
	X(git_reference_is_branch)                                                                 \
	X(git_reference_shorthand)                                                                 \
	X(git_reference_target)                                                                    \
	X(git_remote_free)                                                                         \
	X(git_remote_lookup)                                                                       \
	X(git_remote_url)                                                                          \
	X(git_repository_free)                                                                     \
	X(git_repository_head)                                                                     \
	X(git_repository_open_ext)

struct libgit_api {
#define LIBGIT_MEMBER(f) __typeof__(f) *f;
	LIBGIT_FUNCS(LIBGIT_MEMBER)
#undef LIBGIT_MEMBER
};

/* The loaded table (the library is opened on the first call). */
const struct libgit_api *libgit_api(void);

#ifndef LIBGIT_IMPL
#define git_libgit2_init        (libgit_api()->git_libgit2_init)
#define git_libgit2_shutdown    (libgit_api()->git_libgit2_shutdown)
#define git_oid_tostr           (libgit_api()->git_oid_tostr)
#define git_reference_free      (libgit_api()->git_reference_free)
#define git_reference_is_branch (libgit_api()->git_reference_is_branch)
#define git_reference_shorthand (libgit_api()->git_reference_shorthand)
#define git_reference_target    (libgit_api()->git_reference_target)
#define git_remote_free         (libgit_api()->git_remote_free)
#define git_remote_lookup       (libgit_api()->git_remote_lookup)
#define git_remote_url          (libgit_api()->git_remote_url)
#define git_repository_free     (libgit_api()->git_repository_free)
#define git_repository_head     (libgit_api()->git_repository_head)
#define git_repository_open_ext (libgit_api()->git_repository_open_ext)
#endif

#endif
