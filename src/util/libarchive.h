/*
 * libarchive.h — libarchive (zip and tar in and out), loaded on first call (util/dynlib.h).
 *
 * Include this instead of the library's headers. Every function ferry uses is in
 * the FUNCS list below; a call `f(...)` goes through the table, whose members have
 * the real function's type (__typeof__), so calls are type-checked as usual. ferry
 * does not link the library, so using a function missing from the list fails at
 * link time: add it to the list.
 */
#ifndef FERRY_LIBARCHIVE_H
#define FERRY_LIBARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#define LIBARCHIVE_FUNCS(X)                                                                        \
	X(archive_entry_free)                                                                      \
	X(archive_entry_hardlink)                                                                  \
	X(archive_entry_new)                                                                       \
	X(archive_entry_pathname)                                                                  \
	X(archive_entry_set_filetype)                                                              \
	X(archive_entry_set_mtime)                                                                 \
	X(archive_entry_set_pathname)                                                              \
	X(archive_entry_set_perm)                                                                  \
	X(archive_entry_set_size)                                                                  \
	X(archive_entry_set_symlink)                                                               \
	X(archive_error_string)                                                                    \
	X(archive_read_data)                                                                       \
	X(archive_read_data_block)                                                                 \
	X(archive_read_free)                                                                       \
	X(archive_read_new)                                                                        \
	X(archive_read_next_header)                                                                \
	X(archive_read_open_filename)                                                              \
	X(archive_read_support_format_tar)                                                         \
	X(archive_read_support_format_zip)                                                         \
	X(archive_read_support_format_all)                                                         \
	X(archive_read_support_filter_all)                                                         \
	X(archive_write_close)                                                                     \
	X(archive_write_data)                                                                      \
	X(archive_write_data_block)                                                                \
	X(archive_write_disk_new)                                                                  \
	X(archive_write_disk_set_options)                                                          \
	X(archive_write_finish_entry)                                                              \
	X(archive_write_free)                                                                      \
	X(archive_write_header)                                                                    \
	X(archive_write_new)                                                                       \
	X(archive_write_open_fd)                                                                   \
	X(archive_write_open_filename)                                                             \
	X(archive_write_set_bytes_per_block)                                                       \
	X(archive_write_set_format_pax_restricted)                                                 \
	X(archive_write_set_format_zip)                                                            \
	X(archive_write_zip_set_compression_deflate)                                               \
	X(archive_write_zip_set_compression_store)                                                 \
	X(archive_entry_filetype)                                                                  \
	X(archive_entry_size)                                                                      \
	X(archive_entry_mode)                                                                      \
	X(archive_entry_perm)                                                                      \
	X(archive_entry_symlink)                                                                   \
	X(archive_entry_mtime)                                                                     \
	X(archive_entry_mtime_nsec)                                                                \
	X(archive_read_close)                                                                      \
	X(archive_read_extract)                                                                    \
	X(archive_write_disk_set_standard_lookup)                                                  \
	X(archive_entry_set_mode)

struct libarchive_api {
#define LIBARCHIVE_MEMBER(f) __typeof__(f) *f;
	LIBARCHIVE_FUNCS(LIBARCHIVE_MEMBER)
#undef LIBARCHIVE_MEMBER
};

/* The loaded table (the library is opened on the first call). */
const struct libarchive_api *libarchive_api(void);

#ifndef LIBARCHIVE_IMPL
#define archive_entry_free                (libarchive_api()->archive_entry_free)
#define archive_entry_hardlink            (libarchive_api()->archive_entry_hardlink)
#define archive_entry_new                 (libarchive_api()->archive_entry_new)
#define archive_entry_pathname            (libarchive_api()->archive_entry_pathname)
#define archive_entry_set_filetype        (libarchive_api()->archive_entry_set_filetype)
#define archive_entry_set_mtime           (libarchive_api()->archive_entry_set_mtime)
#define archive_entry_set_pathname        (libarchive_api()->archive_entry_set_pathname)
#define archive_entry_set_perm            (libarchive_api()->archive_entry_set_perm)
#define archive_entry_set_size            (libarchive_api()->archive_entry_set_size)
#define archive_entry_set_symlink         (libarchive_api()->archive_entry_set_symlink)
#define archive_error_string              (libarchive_api()->archive_error_string)
#define archive_read_data                 (libarchive_api()->archive_read_data)
#define archive_read_data_block           (libarchive_api()->archive_read_data_block)
#define archive_read_free                 (libarchive_api()->archive_read_free)
#define archive_read_new                  (libarchive_api()->archive_read_new)
#define archive_read_next_header          (libarchive_api()->archive_read_next_header)
#define archive_read_open_filename        (libarchive_api()->archive_read_open_filename)
#define archive_read_support_format_tar   (libarchive_api()->archive_read_support_format_tar)
#define archive_read_support_format_zip   (libarchive_api()->archive_read_support_format_zip)
#define archive_read_support_format_all   (libarchive_api()->archive_read_support_format_all)
#define archive_read_support_filter_all   (libarchive_api()->archive_read_support_filter_all)
#define archive_write_close               (libarchive_api()->archive_write_close)
#define archive_write_data                (libarchive_api()->archive_write_data)
#define archive_write_data_block          (libarchive_api()->archive_write_data_block)
#define archive_write_disk_new            (libarchive_api()->archive_write_disk_new)
#define archive_write_disk_set_options    (libarchive_api()->archive_write_disk_set_options)
#define archive_write_finish_entry        (libarchive_api()->archive_write_finish_entry)
#define archive_write_free                (libarchive_api()->archive_write_free)
#define archive_write_header              (libarchive_api()->archive_write_header)
#define archive_write_new                 (libarchive_api()->archive_write_new)
#define archive_write_open_fd             (libarchive_api()->archive_write_open_fd)
#define archive_write_open_filename       (libarchive_api()->archive_write_open_filename)
#define archive_write_set_bytes_per_block (libarchive_api()->archive_write_set_bytes_per_block)
#define archive_write_set_format_pax_restricted                                                    \
	(libarchive_api()->archive_write_set_format_pax_restricted)
#define archive_write_set_format_zip (libarchive_api()->archive_write_set_format_zip)
#define archive_write_zip_set_compression_deflate                                                  \
	(libarchive_api()->archive_write_zip_set_compression_deflate)
#define archive_write_zip_set_compression_store                                                    \
	(libarchive_api()->archive_write_zip_set_compression_store)
#define archive_entry_filetype   (libarchive_api()->archive_entry_filetype)
#define archive_entry_size       (libarchive_api()->archive_entry_size)
#define archive_entry_mode       (libarchive_api()->archive_entry_mode)
#define archive_entry_perm       (libarchive_api()->archive_entry_perm)
#define archive_entry_symlink    (libarchive_api()->archive_entry_symlink)
#define archive_entry_mtime      (libarchive_api()->archive_entry_mtime)
#define archive_entry_mtime_nsec (libarchive_api()->archive_entry_mtime_nsec)
#define archive_read_close       (libarchive_api()->archive_read_close)
#define archive_read_extract     (libarchive_api()->archive_read_extract)
#define archive_write_disk_set_standard_lookup                                                     \
	(libarchive_api()->archive_write_disk_set_standard_lookup)
#define archive_entry_set_mode (libarchive_api()->archive_entry_set_mode)
#endif

#endif
