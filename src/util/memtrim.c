/* memtrim.c — see memtrim.h. */
#include "util/memtrim.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct mapping {
	uintptr_t start, end;
	int candidate; /* file-backed and not writable */
	long rss_kb, dirty_kb, anon_kb;
};

static void drop(const struct mapping *m, size_t *dropped)
{
	if (!m->candidate || m->rss_kb == 0 || m->dirty_kb != 0 || m->anon_kb != 0)
		return;
	if (madvise((void *)m->start, m->end - m->start, MADV_DONTNEED) == 0)
		*dropped += (size_t)m->rss_kb * 1024;
}

size_t mem_trim(void)
{
	malloc_trim(0);
	FILE *f = fopen("/proc/self/smaps", "re");
	if (!f)
		return 0;
	char line[4096];
	struct mapping m = {0};
	int have = 0;
	size_t dropped = 0;
	while (fgets(line, sizeof line, f)) {
		uintptr_t a, b;
		char perms[8] = "";
		char path[4096] = "";
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &a, &b, perms, path) >= 3) {
			if (have)
				drop(&m, &dropped);
			memset(&m, 0, sizeof m);
			m.start = a;
			m.end = b;
			m.candidate = path[0] == '/' && !strchr(perms, 'w') && perms[0] == 'r';
			have = 1;
			continue;
		}
		long kb;
		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			m.rss_kb = kb;
		else if (sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
			m.dirty_kb = kb;
		else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1)
			m.anon_kb = kb;
	}
	if (have)
		drop(&m, &dropped);
	fclose(f);
	return dropped;
}
