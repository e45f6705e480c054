/*
 * libarchive.h — libarchive13's functions ferry uses, loaded on first call (util/dynlib.h).
 *
 * Include this instead of the library's headers. Every function ferry uses is in
 * the FUNCS list below; a call `f(...)` goes through the table, whose members have
 * the real function's type (__typeof__), so calls are type-checked as usual. ferry
 * does not link the library, so using a function missing from the list fails at
 * link time: add it to the list (scripts/lazylib.py).
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
	X(archive_entry_set_mode)                                                                  \
	X(archive_read_extract2)

struct libarchive_api {
#define LIBARCHIVE_MEMBER(f) __typeof__(f) *f;
	LIBARCHIVE_FUNCS(LIBARCHIVE_MEMBER)
#undef LIBARCHIVE_MEMBER
};

/* The loaded table (the library is opened on the first call). */
const struct libarchive_api *libarchive_api(void);

#ifndef LIBARCHIVE_IMPL
#undef archive_entry_free /* some headers define their functions as macros too */
#define archive_entry_free (libarchive_api()->archive_entry_free)
#undef archive_entry_hardlink /* some headers define their functions as macros too */
#define archive_entry_hardlink (libarchive_api()->archive_entry_hardlink)
#undef archive_entry_new /* some headers define their functions as macros too */
#define archive_entry_new (libarchive_api()->archive_entry_new)
#undef archive_entry_pathname /* some headers define their functions as macros too */
#define archive_entry_pathname (libarchive_api()->archive_entry_pathname)
#undef archive_entry_set_filetype /* some headers define their functions as macros too */
#define archive_entry_set_filetype (libarchive_api()->archive_entry_set_filetype)
#undef archive_entry_set_mtime /* some headers define their functions as macros too */
#define archive_entry_set_mtime (libarchive_api()->archive_entry_set_mtime)
#undef archive_entry_set_pathname /* some headers define their functions as macros too */
#define archive_entry_set_pathname (libarchive_api()->archive_entry_set_pathname)
#undef archive_entry_set_perm /* some headers define their functions as macros too */
#define archive_entry_set_perm (libarchive_api()->archive_entry_set_perm)
#undef archive_entry_set_size /* some headers define their functions as macros too */
#define archive_entry_set_size (libarchive_api()->archive_entry_set_size)
#undef archive_entry_set_symlink /* some headers define their functions as macros too */
#define archive_entry_set_symlink (libarchive_api()->archive_entry_set_symlink)
#undef archive_error_string /* some headers define their functions as macros too */
#define archive_error_string (libarchive_api()->archive_error_string)
#undef archive_read_data /* some headers define their functions as macros too */
#define archive_read_data (libarchive_api()->archive_read_data)
#undef archive_read_data_block /* some headers define their functions as macros too */
#define archive_read_data_block (libarchive_api()->archive_read_data_block)
#undef archive_read_free /* some headers define their functions as macros too */
#define archive_read_free (libarchive_api()->archive_read_free)
#undef archive_read_new /* some headers define their functions as macros too */
#define archive_read_new (libarchive_api()->archive_read_new)
#undef archive_read_next_header /* some headers define their functions as macros too */
#define archive_read_next_header (libarchive_api()->archive_read_next_header)
#undef archive_read_open_filename /* some headers define their functions as macros too */
#define archive_read_open_filename (libarchive_api()->archive_read_open_filename)
#undef archive_read_support_format_tar /* some headers define their functions as macros too */
#define archive_read_support_format_tar (libarchive_api()->archive_read_support_format_tar)
#undef archive_read_support_format_zip /* some headers define their functions as macros too */
#define archive_read_support_format_zip (libarchive_api()->archive_read_support_format_zip)
#undef archive_read_support_format_all /* some headers define their functions as macros too */
#define archive_read_support_format_all (libarchive_api()->archive_read_support_format_all)
#undef archive_read_support_filter_all /* some headers define their functions as macros too */
#define archive_read_support_filter_all (libarchive_api()->archive_read_support_filter_all)
#undef archive_write_close /* some headers define their functions as macros too */
#define archive_write_close (libarchive_api()->archive_write_close)
#undef archive_write_data /* some headers define their functions as macros too */
#define archive_write_data (libarchive_api()->archive_write_data)
#undef archive_write_data_block /* some headers define their functions as macros too */
#define archive_write_data_block (libarchive_api()->archive_write_data_block)
#undef archive_write_disk_new /* some headers define their functions as macros too */
#define archive_write_disk_new (libarchive_api()->archive_write_disk_new)
#undef archive_write_disk_set_options /* some headers define their functions as macros too */
#define archive_write_disk_set_options (libarchive_api()->archive_write_disk_set_options)
#undef archive_write_finish_entry /* some headers define their functions as macros too */
#define archive_write_finish_entry (libarchive_api()->archive_write_finish_entry)
#undef archive_write_free /* some headers define their functions as macros too */
#define archive_write_free (libarchive_api()->archive_write_free)
#undef archive_write_header /* some headers define their functions as macros too */
#define archive_write_header (libarchive_api()->archive_write_header)
#undef archive_write_new /* some headers define their functions as macros too */
#define archive_write_new (libarchive_api()->archive_write_new)
#undef archive_write_open_fd /* some headers define their functions as macros too */
#define archive_write_open_fd (libarchive_api()->archive_write_open_fd)
#undef archive_write_open_filename /* some headers define their functions as macros too */
#define archive_write_open_filename (libarchive_api()->archive_write_open_filename)
#undef archive_write_set_bytes_per_block /* some headers define their functions as macros too */
#define archive_write_set_bytes_per_block (libarchive_api()->archive_write_set_bytes_per_block)
#undef archive_write_set_format_pax_restricted /* some headers define their functions as macros    \
                                                  too */
#define archive_write_set_format_pax_restricted                                                    \
	(libarchive_api()->archive_write_set_format_pax_restricted)
#undef archive_write_set_format_zip /* some headers define their functions as macros too */
#define archive_write_set_format_zip (libarchive_api()->archive_write_set_format_zip)
#undef archive_write_zip_set_compression_deflate /* some headers define their functions as macros  \
                                                    too */
#define archive_write_zip_set_compression_deflate                                                  \
	(libarchive_api()->archive_write_zip_set_compression_deflate)
#undef archive_write_zip_set_compression_store /* some headers define their functions as macros    \
                                                  too */
#define archive_write_zip_set_compression_store                                                    \
	(libarchive_api()->archive_write_zip_set_compression_store)
#undef archive_entry_filetype /* some headers define their functions as macros too */
#define archive_entry_filetype (libarchive_api()->archive_entry_filetype)
#undef archive_entry_size /* some headers define their functions as macros too */
#define archive_entry_size (libarchive_api()->archive_entry_size)
#undef archive_entry_mode /* some headers define their functions as macros too */
#define archive_entry_mode (libarchive_api()->archive_entry_mode)
#undef archive_entry_perm /* some headers define their functions as macros too */
#define archive_entry_perm (libarchive_api()->archive_entry_perm)
#undef archive_entry_symlink /* some headers define their functions as macros too */
#define archive_entry_symlink (libarchive_api()->archive_entry_symlink)
#undef archive_entry_mtime /* some headers define their functions as macros too */
#define archive_entry_mtime (libarchive_api()->archive_entry_mtime)
#undef archive_entry_mtime_nsec /* some headers define their functions as macros too */
#define archive_entry_mtime_nsec (libarchive_api()->archive_entry_mtime_nsec)
#undef archive_read_close /* some headers define their functions as macros too */
#define archive_read_close (libarchive_api()->archive_read_close)
#undef archive_read_extract /* some headers define their functions as macros too */
#define archive_read_extract (libarchive_api()->archive_read_extract)
#undef archive_write_disk_set_standard_lookup /* some headers define their functions as macros too \
                                               */
#define archive_write_disk_set_standard_lookup                                                     \
	(libarchive_api()->archive_write_disk_set_standard_lookup)
#undef archive_entry_set_mode /* some headers define their functions as macros too */
#define archive_entry_set_mode (libarchive_api()->archive_entry_set_mode)
#undef archive_read_extract2 /* some headers define their functions as macros too */
#define archive_read_extract2 (libarchive_api()->archive_read_extract2)
#endif

#endif
