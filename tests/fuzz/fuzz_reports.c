/*
 * fuzz_reports.c — libFuzzer driver for the JUnit XML report reader (build/reports.c):
 * a test report is written by whatever the build ran, so any bytes must give a
 * summary whose counts add up, with one of the three statuses, a file either read
 * or named once in `problems`, and log lines of one line each — never a crash, a
 * leak, a hang or an error return.
 *
 * The input is written to <tmp>/reports/TEST-fuzz.xml, in a directory made once per
 * process and removed at exit, and collected as the group {files: [TEST-*.xml],
 * base-directory: reports}.
 */
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/reports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SUBDIR "reports"
#define NAME   "TEST-fuzz.xml"

static char tmp_dir[4096], sub_dir[4096], report_path[4096];

static void remove_tmp(void)
{
	unlink(report_path);
	rmdir(sub_dir);
	rmdir(tmp_dir);
}

/* An invariant broke: crash for libFuzzer, leaving no directory behind. */
static void fail(void)
{
	remove_tmp();
	abort();
}

static void make_tmp(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof tmp_dir, "%s/fuzz_reports.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmp_dir))
		fail();
	snprintf(sub_dir, sizeof sub_dir, "%s/%s", tmp_dir, SUBDIR);
	snprintf(report_path, sizeof report_path, "%s/%s", sub_dir, NAME);
	if (mkdir(sub_dir, 0700) != 0)
		fail();
	atexit(remove_tmp);
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(report_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fail();
	while (size) {
		ssize_t n = write(fd, data, size);
		if (n <= 0)
			fail();
		data += n;
		size -= (size_t)n;
	}
	close(fd);
}

/* Every line sent to the build log is one line. */
static void check_line(void *ctx, const char *line)
{
	(void)ctx;
	if (strchr(line, '\n') || strchr(line, '\r'))
		fail();
}

static int one_line(const char *s)
{
	return !strchr(s, '\n') && !strchr(s, '\r');
}

static void check(const struct report_summary *s)
{
	if (strcmp(s->group, "unit") || strcmp(s->report_group_name, "fuzz-unit") ||
	    strcmp(s->file_format, "JUNITXML"))
		fail();
	/* Each case is counted once, in exactly one of the four outcomes. */
	if (s->passed < 0 || s->failed < 0 || s->errored < 0 || s->skipped < 0 ||
	    s->total != s->passed + s->failed + s->errored + s->skipped)
		fail();
	if (!isfinite(s->duration_seconds) || s->duration_seconds < 0)
		fail();
	long bad = s->failed + s->errored;
	if (s->failures.n != (size_t)(bad < 20 ? bad : 20))
		fail(); /* every failing case listed, at most 20 */
	for (size_t i = 0; i < s->failures.n; i++)
		if (!strstr(s->failures.v[i], ": "))
			fail();
	/* The one file is either read, or named once with the reason and counts nothing. */
	if (s->files.n == 1) {
		if (strcmp(s->files.v[0], NAME) || s->problems.n != 0)
			fail();
	} else {
		if (s->files.n != 0 || s->problems.n != 1 || s->total != 0 ||
		    s->duration_seconds != 0 || s->failures.n != 0)
			fail();
		const char *p = s->problems.v[0];
		if (strncmp(p, NAME ":", strlen(NAME ":")) || !one_line(p))
			fail();
	}
	const char *want = s->files.n == 0 ? "INCOMPLETE" : bad ? "FAILED" : "SUCCEEDED";
	if (!s->status || strcmp(s->status, want))
		fail();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!tmp_dir[0])
		make_tmp();
	write_input(data, size);

	struct bs_report_group g = {0};
	g.name = "unit";
	g.base_directory = SUBDIR;
	g.file_format = "JUNITXML";
	strv_push(&g.files, "TEST-*.xml");
	struct logsink sink = {check_line, NULL};
	struct report_summary s;
	struct err err;
	if (reports_collect(tmp_dir, &g, "fuzz", &sink, &s, &err) != 0)
		fail(); /* bad report files are never an error */
	check(&s);
	report_summary_free(&s);
	strv_free(&g.files);
	return 0;
}
