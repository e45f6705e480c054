/*
 * dynlib.h — loading a shared library on first use.
 *
 * Why: libgit2 and libarchive drag in some 25 further libraries (TLS, Kerberos,
 * SSH, XML, ICU, compressors) whose loading and relocation cost ~25 ms at every
 * start of ferry — more than a whole small build. Commands that need them load
 * them when they first call them (util/libarchive.h, util/libgit.h).
 *
 * Invariants: a library is opened once per process; a library or symbol that
 * cannot be found ends the process with a message naming the library, the symbol
 * and the Debian package to install (as the dynamic linker would, but readable).
 */
#ifndef FERRY_DYNLIB_H
#define FERRY_DYNLIB_H

#include <stddef.h>

/* Fills `table[i]` with the address of `names[i]` from `soname`; `package` is the
 * Debian package that ships it. Thread-safe through the caller's pthread_once. */
void dynlib_load(const char *soname, const char *package, const char *const *names, void **table,
                 size_t n);

#endif
