/*
 * memtrim.h — giving memory back when a long-running process goes idle.
 *
 * mem_trim() returns free heap to the kernel (malloc_trim) and drops this process's
 * mappings of clean, read-only file pages (library and program code, read-only data
 * never written to): those pages stay in the page cache, shared with everyone, and
 * come back by page fault on next use. What is dropped is exactly what could be
 * re-read from its file: a mapping is touched only when it is not writable and
 * /proc/self/smaps reports no private dirty and no anonymous pages in it (so
 * relocated read-only data, RELRO, is never dropped).
 *
 * The daemon calls it once when it becomes idle (no execution in progress); idle RSS
 * is then what the process really holds on to, not what starting up touched.
 */
#ifndef FERRY_UTIL_MEMTRIM_H
#define FERRY_UTIL_MEMTRIM_H

#include <stddef.h>

/* Returns the bytes of mappings dropped (an estimate: their Rss before). Never fails:
 * a mapping it cannot read about is left alone. */
size_t mem_trim(void);

#endif
