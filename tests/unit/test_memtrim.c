/*
 * test_memtrim.c — mem_trim() gives back clean read-only file pages, and never
 * anything a process wrote: written private pages, heap and read-only data that was
 * written before being protected keep their contents.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "util/memtrim.h"

#define MAP_LEN (4u << 20)

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	assert_non_null(f);
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void *map_file(const char *dir, int prot, int *fd_out)
{
	char *path = fs_join(dir, "data.bin");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	char block[4096];
	for (size_t i = 0; i < MAP_LEN / sizeof block; i++) {
		memset(block, (int)(i & 0xff), sizeof block);
		assert_int_equal(write(fd, block, sizeof block), (ssize_t)sizeof block);
	}
	void *p = mmap(NULL, MAP_LEN, prot, MAP_PRIVATE, fd, 0);
	assert_true(p != MAP_FAILED);
	free(path);
	*fd_out = fd;
	return p;
}

/* A touched read-only file mapping leaves RSS and reads back the same afterwards. */
static void clean_file_pages_are_given_back_and_read_back_the_same(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	int fd;
	unsigned char *p = map_file(dir, PROT_READ, &fd);
	unsigned long sum = 0;
	for (size_t i = 0; i < MAP_LEN; i += 4096)
		sum += p[i];
	long before = rss_kb();
	size_t dropped = mem_trim();
	long after = rss_kb();
	assert_true(dropped >= MAP_LEN);
	assert_true(before - after >= (long)(MAP_LEN / 1024) - 64);
	unsigned long again = 0;
	for (size_t i = 0; i < MAP_LEN; i += 4096)
		again += p[i];
	assert_int_equal(sum, again);
	munmap(p, MAP_LEN);
	close(fd);
	tu_rmdir(dir);
}

/* Pages the process wrote (a private writable mapping, and one written then made
 * read-only, as the dynamic linker does with RELRO) keep what was written. */
static void written_pages_are_never_dropped(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	int fd;
	unsigned char *w = map_file(dir, PROT_READ | PROT_WRITE, &fd);
	w[0] = 0xAB;
	w[MAP_LEN - 1] = 0xCD;
	unsigned char *relro = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(relro != MAP_FAILED);
	relro[10] = 0xEF;
	assert_int_equal(mprotect(relro, 8192, PROT_READ), 0);
	char *heap = xstrdup("kept");
	(void)mem_trim();
	assert_int_equal(w[0], 0xAB);
	assert_int_equal(w[MAP_LEN - 1], 0xCD);
	assert_int_equal(relro[10], 0xEF);
	assert_string_equal(heap, "kept");
	free(heap);
	munmap(relro, 8192);
	munmap(w, MAP_LEN);
	close(fd);
	tu_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(clean_file_pages_are_given_back_and_read_back_the_same),
	        cmocka_unit_test(written_pages_are_never_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
