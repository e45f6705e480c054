/*
 * libgit.h — libgit2-1.5's functions ferry uses, loaded on first call (util/dynlib.h).
 *
 * Include this instead of the library's headers. Every function ferry uses is in
 * the FUNCS list below; a call `f(...)` goes through the table, whose members have
 * the real function's type (__typeof__), so calls are type-checked as usual. ferry
 * does not link the library, so using a function missing from the list fails at
 * link time: add it to the list (scripts/lazylib.py).
 */
#ifndef FERRY_LIBGIT_H
#define FERRY_LIBGIT_H

#include <git2.h>

#define LIBGIT_FUNCS(X)                                                                            \
	X(git_blob_free)                                                                           \
	X(git_blob_lookup)                                                                         \
	X(git_blob_rawcontent)                                                                     \
	X(git_blob_rawsize)                                                                        \
	X(git_branch_create)                                                                       \
	X(git_checkout_options_init)                                                               \
	X(git_checkout_tree)                                                                       \
	X(git_clone)                                                                               \
	X(git_clone_options_init)                                                                  \
	X(git_commit_author)                                                                       \
	X(git_commit_committer)                                                                    \
	X(git_commit_free)                                                                         \
	X(git_commit_id)                                                                           \
	X(git_commit_lookup)                                                                       \
	X(git_commit_message)                                                                      \
	X(git_commit_time)                                                                         \
	X(git_commit_tree)                                                                         \
	X(git_credential_ssh_key_from_agent)                                                       \
	X(git_credential_username_new)                                                             \
	X(git_diff_find_options_init)                                                              \
	X(git_diff_find_similar)                                                                   \
	X(git_diff_free)                                                                           \
	X(git_diff_get_delta)                                                                      \
	X(git_diff_num_deltas)                                                                     \
	X(git_diff_options_init)                                                                   \
	X(git_diff_tree_to_tree)                                                                   \
	X(git_error_clear)                                                                         \
	X(git_error_last)                                                                          \
	X(git_error_set_str)                                                                       \
	X(git_fetch_options_init)                                                                  \
	X(git_libgit2_init)                                                                        \
	X(git_libgit2_shutdown)                                                                    \
	X(git_object_free)                                                                         \
	X(git_object_peel)                                                                         \
	X(git_oid_tostr)                                                                           \
	X(git_reference_free)                                                                      \
	X(git_reference_is_branch)                                                                 \
	X(git_reference_name_is_valid)                                                             \
	X(git_reference_name_to_id)                                                                \
	X(git_reference_shorthand)                                                                 \
	X(git_reference_target)                                                                    \
	X(git_remote_create_anonymous)                                                             \
	X(git_remote_fetch)                                                                        \
	X(git_remote_free)                                                                         \
	X(git_remote_lookup)                                                                       \
	X(git_remote_stats)                                                                        \
	X(git_remote_url)                                                                          \
	X(git_repository_free)                                                                     \
	X(git_repository_head)                                                                     \
	X(git_repository_init)                                                                     \
	X(git_repository_open_ext)                                                                 \
	X(git_repository_set_head_detached)                                                        \
	X(git_revparse_single)                                                                     \
	X(git_tree_entry_filemode)                                                                 \
	X(git_tree_entry_id)                                                                       \
	X(git_tree_entry_name)                                                                     \
	X(git_tree_free)                                                                           \
	X(git_tree_walk)

struct libgit_api {
#define LIBGIT_MEMBER(f) __typeof__(f) *f;
	LIBGIT_FUNCS(LIBGIT_MEMBER)
#undef LIBGIT_MEMBER
};

/* The loaded table (the library is opened on the first call). */
const struct libgit_api *libgit_api(void);

#ifndef LIBGIT_IMPL
#undef git_blob_free /* some headers define their functions as macros too */
#define git_blob_free (libgit_api()->git_blob_free)
#undef git_blob_lookup /* some headers define their functions as macros too */
#define git_blob_lookup (libgit_api()->git_blob_lookup)
#undef git_blob_rawcontent /* some headers define their functions as macros too */
#define git_blob_rawcontent (libgit_api()->git_blob_rawcontent)
#undef git_blob_rawsize /* some headers define their functions as macros too */
#define git_blob_rawsize (libgit_api()->git_blob_rawsize)
#undef git_branch_create /* some headers define their functions as macros too */
#define git_branch_create (libgit_api()->git_branch_create)
#undef git_checkout_options_init /* some headers define their functions as macros too */
#define git_checkout_options_init (libgit_api()->git_checkout_options_init)
#undef git_checkout_tree /* some headers define their functions as macros too */
#define git_checkout_tree (libgit_api()->git_checkout_tree)
#undef git_clone /* some headers define their functions as macros too */
#define git_clone (libgit_api()->git_clone)
#undef git_clone_options_init /* some headers define their functions as macros too */
#define git_clone_options_init (libgit_api()->git_clone_options_init)
#undef git_commit_author /* some headers define their functions as macros too */
#define git_commit_author (libgit_api()->git_commit_author)
#undef git_commit_committer /* some headers define their functions as macros too */
#define git_commit_committer (libgit_api()->git_commit_committer)
#undef git_commit_free /* some headers define their functions as macros too */
#define git_commit_free (libgit_api()->git_commit_free)
#undef git_commit_id /* some headers define their functions as macros too */
#define git_commit_id (libgit_api()->git_commit_id)
#undef git_commit_lookup /* some headers define their functions as macros too */
#define git_commit_lookup (libgit_api()->git_commit_lookup)
#undef git_commit_message /* some headers define their functions as macros too */
#define git_commit_message (libgit_api()->git_commit_message)
#undef git_commit_time /* some headers define their functions as macros too */
#define git_commit_time (libgit_api()->git_commit_time)
#undef git_commit_tree /* some headers define their functions as macros too */
#define git_commit_tree (libgit_api()->git_commit_tree)
#undef git_credential_ssh_key_from_agent /* some headers define their functions as macros too */
#define git_credential_ssh_key_from_agent (libgit_api()->git_credential_ssh_key_from_agent)
#undef git_credential_username_new /* some headers define their functions as macros too */
#define git_credential_username_new (libgit_api()->git_credential_username_new)
#undef git_diff_find_options_init /* some headers define their functions as macros too */
#define git_diff_find_options_init (libgit_api()->git_diff_find_options_init)
#undef git_diff_find_similar /* some headers define their functions as macros too */
#define git_diff_find_similar (libgit_api()->git_diff_find_similar)
#undef git_diff_free /* some headers define their functions as macros too */
#define git_diff_free (libgit_api()->git_diff_free)
#undef git_diff_get_delta /* some headers define their functions as macros too */
#define git_diff_get_delta (libgit_api()->git_diff_get_delta)
#undef git_diff_num_deltas /* some headers define their functions as macros too */
#define git_diff_num_deltas (libgit_api()->git_diff_num_deltas)
#undef git_diff_options_init /* some headers define their functions as macros too */
#define git_diff_options_init (libgit_api()->git_diff_options_init)
#undef git_diff_tree_to_tree /* some headers define their functions as macros too */
#define git_diff_tree_to_tree (libgit_api()->git_diff_tree_to_tree)
#undef git_error_clear /* some headers define their functions as macros too */
#define git_error_clear (libgit_api()->git_error_clear)
#undef git_error_last /* some headers define their functions as macros too */
#define git_error_last (libgit_api()->git_error_last)
#undef git_error_set_str /* some headers define their functions as macros too */
#define git_error_set_str (libgit_api()->git_error_set_str)
#undef git_fetch_options_init /* some headers define their functions as macros too */
#define git_fetch_options_init (libgit_api()->git_fetch_options_init)
#undef git_libgit2_init /* some headers define their functions as macros too */
#define git_libgit2_init (libgit_api()->git_libgit2_init)
#undef git_libgit2_shutdown /* some headers define their functions as macros too */
#define git_libgit2_shutdown (libgit_api()->git_libgit2_shutdown)
#undef git_object_free /* some headers define their functions as macros too */
#define git_object_free (libgit_api()->git_object_free)
#undef git_object_peel /* some headers define their functions as macros too */
#define git_object_peel (libgit_api()->git_object_peel)
#undef git_oid_tostr /* some headers define their functions as macros too */
#define git_oid_tostr (libgit_api()->git_oid_tostr)
#undef git_reference_free /* some headers define their functions as macros too */
#define git_reference_free (libgit_api()->git_reference_free)
#undef git_reference_is_branch /* some headers define their functions as macros too */
#define git_reference_is_branch (libgit_api()->git_reference_is_branch)
#undef git_reference_name_is_valid /* some headers define their functions as macros too */
#define git_reference_name_is_valid (libgit_api()->git_reference_name_is_valid)
#undef git_reference_name_to_id /* some headers define their functions as macros too */
#define git_reference_name_to_id (libgit_api()->git_reference_name_to_id)
#undef git_reference_shorthand /* some headers define their functions as macros too */
#define git_reference_shorthand (libgit_api()->git_reference_shorthand)
#undef git_reference_target /* some headers define their functions as macros too */
#define git_reference_target (libgit_api()->git_reference_target)
#undef git_remote_create_anonymous /* some headers define their functions as macros too */
#define git_remote_create_anonymous (libgit_api()->git_remote_create_anonymous)
#undef git_remote_fetch /* some headers define their functions as macros too */
#define git_remote_fetch (libgit_api()->git_remote_fetch)
#undef git_remote_free /* some headers define their functions as macros too */
#define git_remote_free (libgit_api()->git_remote_free)
#undef git_remote_lookup /* some headers define their functions as macros too */
#define git_remote_lookup (libgit_api()->git_remote_lookup)
#undef git_remote_stats /* some headers define their functions as macros too */
#define git_remote_stats (libgit_api()->git_remote_stats)
#undef git_remote_url /* some headers define their functions as macros too */
#define git_remote_url (libgit_api()->git_remote_url)
#undef git_repository_free /* some headers define their functions as macros too */
#define git_repository_free (libgit_api()->git_repository_free)
#undef git_repository_head /* some headers define their functions as macros too */
#define git_repository_head (libgit_api()->git_repository_head)
#undef git_repository_init /* some headers define their functions as macros too */
#define git_repository_init (libgit_api()->git_repository_init)
#undef git_repository_open_ext /* some headers define their functions as macros too */
#define git_repository_open_ext (libgit_api()->git_repository_open_ext)
#undef git_repository_set_head_detached /* some headers define their functions as macros too */
#define git_repository_set_head_detached (libgit_api()->git_repository_set_head_detached)
#undef git_revparse_single /* some headers define their functions as macros too */
#define git_revparse_single (libgit_api()->git_revparse_single)
#undef git_tree_entry_filemode /* some headers define their functions as macros too */
#define git_tree_entry_filemode (libgit_api()->git_tree_entry_filemode)
#undef git_tree_entry_id /* some headers define their functions as macros too */
#define git_tree_entry_id (libgit_api()->git_tree_entry_id)
#undef git_tree_entry_name /* some headers define their functions as macros too */
#define git_tree_entry_name (libgit_api()->git_tree_entry_name)
#undef git_tree_free /* some headers define their functions as macros too */
#define git_tree_free (libgit_api()->git_tree_free)
#undef git_tree_walk /* some headers define their functions as macros too */
#define git_tree_walk (libgit_api()->git_tree_walk)
#endif

#endif
