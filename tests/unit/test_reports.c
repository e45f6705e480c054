/* Unit tests for build/reports: JUnit XML report summaries (spec §8, checklist 46–47). */
#include "testutil.h"

#include "build/reports.h"

struct fixture {
	char *src;
	struct bs_report_group g;
	struct report_summary s;
	struct strv log;
	struct logsink sink;
};

static void capture(void *ctx, const char *line)
{
	strv_push(ctx, line);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->src = tu_mkdtemp();
	f->g.name = xstrdup("unit");
	strv_push(&f->g.files, "reports/*.xml");
	f->sink.emit = capture;
	f->sink.ctx = &f->log;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	report_summary_free(&f->s);
	free(f->g.name);
	free(f->g.base_directory);
	free(f->g.file_format);
	strv_free(&f->g.files);
	strv_free(&f->log);
	tu_rmdir(f->src);
	free(f);
	return 0;
}

static void collect(struct fixture *f)
{
	struct err err;
	report_summary_free(&f->s);
	if (reports_collect(f->src, &f->g, "p", &f->sink, &f->s, &err) != 0)
		fail_msg("reports_collect: %s", err.msg);
}

static int has_problem(const struct fixture *f, const char *part)
{
	for (size_t i = 0; i < f->s.problems.n; i++)
		if (strstr(f->s.problems.v[i], part))
			return 1;
	return 0;
}

static const char MIXED[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuites>\n"
        "  <testsuite name=\"math\" tests=\"5\" time=\"99\">\n"
        "    <testcase classname=\"math.Add\" name=\"adds\" time=\"0.5\"/>\n"
        "    <testcase classname=\"math.Add\" name=\"carries\" time=\"0.25\"></testcase>\n"
        "    <testcase classname=\"math.Div\" name=\"by_zero\" time=\"1\">\n"
        "      <failure message=\"expected error&#10;got 0\" type=\"Assert\">trace</failure>\n"
        "    </testcase>\n"
        "    <testcase classname=\"math.Div\" name=\"crash\" time=\"0.125\">\n"
        "      <error type=\"SIGSEGV\">\n  segfault at 0x0\n  frame 1\n</error>\n"
        "    </testcase>\n"
        "    <testcase classname=\"math.Mul\" name=\"later\"><skipped/></testcase>\n"
        "  </testsuite>\n"
        "</testsuites>\n";

/* Checklist 46: a group named by name belongs to "<project>-<name>", JUNITXML by default. */
static void test_group_name_prefixed_with_project(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml", MIXED);
	collect(f);
	assert_string_equal(f->s.group, "unit");
	assert_string_equal(f->s.report_group_name, "p-unit");
	assert_string_equal(f->s.file_format, "JUNITXML");
}

/* §8: a report group given by ARN is kept as it is. */
static void test_group_arn_kept(void **state)
{
	struct fixture *f = *state;
	free(f->g.name);
	f->g.name = xstrdup("arn:aws:codebuild:us-east-1:123456789012:report-group/x");
	tu_write(f->src, "reports/a.xml", MIXED);
	collect(f);
	assert_string_equal(f->s.report_group_name, f->g.name);
}

/* Checklist 47: failing cases make the report FAILED; counts per status. */
static void test_summary_counts_and_failed_status(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml", MIXED);
	collect(f);
	assert_string_equal(f->s.status, "FAILED");
	assert_int_equal(f->s.total, 5);
	assert_int_equal(f->s.passed, 2);
	assert_int_equal(f->s.failed, 1);
	assert_int_equal(f->s.errored, 1);
	assert_int_equal(f->s.skipped, 1);
	assert_int_equal(f->s.files.n, 1);
	assert_string_equal(f->s.files.v[0], "reports/a.xml");
}

/* Duration adds the cases' `time` (the suite's own time is not added on top). */
static void test_duration_from_cases(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml", MIXED);
	collect(f);
	assert_true(f->s.duration_seconds > 1.874 && f->s.duration_seconds < 1.876);
}

/* Duration falls back to the suite's `time` when its cases carry none. */
static void test_duration_falls_back_to_suite_time(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml",
	         "<testsuite name=\"s\" time=\"2.5\">"
	         "<testcase name=\"a\"/><testcase name=\"b\"/></testsuite>");
	tu_write(f->src, "reports/b.xml",
	         "<testsuites><testsuite name=\"t\" time=\"7\"><testcase name=\"c\" time=\"1\"/>"
	         "</testsuite></testsuites>");
	collect(f);
	assert_true(f->s.duration_seconds > 3.499 && f->s.duration_seconds < 3.501);
	assert_string_equal(f->s.status, "SUCCEEDED");
	assert_int_equal(f->s.total, 3);
}

/* Found by fuzz_reports: two huge but finite times added up to infinity, which the
 * result JSON cannot hold (json_real() refuses it, so durationInSeconds went missing).
 * A time beyond REPORT_TIME_MAX counts as absent. */
static void test_duration_stays_finite(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml",
	         "<testsuite name=\"s\" time=\"4\"><testcase name=\"a\" time=\"1e308\"/>"
	         "<testcase name=\"b\" time=\"1.7e308\"/></testsuite>");
	tu_write(f->src, "reports/b.xml",
	         "<testsuite name=\"t\"><testcase name=\"c\" time=\"0.5\"/></testsuite>");
	collect(f);
	assert_int_equal(f->s.total, 3);
	assert_true(f->s.duration_seconds > 4.499 && f->s.duration_seconds < 4.501);
}

/* The failing cases are listed as "<class>.<case>: first line of the message". */
static void test_failures_listed_with_first_line(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml", MIXED);
	collect(f);
	assert_int_equal(f->s.failures.n, 2);
	assert_string_equal(f->s.failures.v[0], "math.Div.by_zero: expected error");
	assert_string_equal(f->s.failures.v[1], "math.Div.crash: segfault at 0x0");
}

/* reports.h: at most 20 failures are kept, the counts stay exact. */
static void test_failures_capped(void **state)
{
	struct fixture *f = *state;
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_puts(&b, "<testsuite name=\"big\">"), 0);
	for (int i = 0; i < 30; i++)
		assert_int_equal(buf_printf(&b, "<testcase name=\"t%d\"><failure/></testcase>", i),
		                 0);
	assert_int_equal(buf_puts(&b, "</testsuite>"), 0);
	tu_write(f->src, "reports/a.xml", b.data);
	buf_free(&b);
	collect(f);
	assert_int_equal(f->s.failed, 30);
	assert_int_equal(f->s.failures.n, 20);
	assert_string_equal(f->s.failures.v[0], "big.t0: failed");
}

/* Passed and skipped only: SUCCEEDED. Nested suites are counted once. */
static void test_nested_suites_succeeded(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml",
	         "<testsuites><testsuite name=\"outer\"><testsuite name=\"inner\">"
	         "<testcase name=\"a\" time=\"1\"/><testcase name=\"b\"><skipped message=\"x\"/>"
	         "</testcase></testsuite></testsuite></testsuites>");
	collect(f);
	assert_string_equal(f->s.status, "SUCCEEDED");
	assert_int_equal(f->s.total, 2);
	assert_int_equal(f->s.skipped, 1);
}

/* Malformed XML: a problem with file:line from expat; alone it makes the report
 * INCOMPLETE, never an error return. */
static void test_malformed_file_incomplete(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/bad.xml",
	         "<testsuite name=\"s\">\n<testcase name=\"a\">\n</testsuite>\n");
	collect(f);
	assert_string_equal(f->s.status, "INCOMPLETE");
	assert_int_equal(f->s.total, 0);
	assert_true(has_problem(f, "reports/bad.xml:3: mismatched tag"));
}

/* A malformed file beside a good one: the good one decides, the bad one is named. */
static void test_malformed_beside_good_file(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/bad.xml", "<testsuite><testcase name=\"x\"><failure/>");
	tu_write(f->src, "reports/good.xml",
	         "<testsuite name=\"s\"><testcase name=\"a\"/></testsuite>");
	collect(f);
	assert_string_equal(f->s.status, "SUCCEEDED");
	assert_int_equal(f->s.total, 1);
	assert_int_equal(f->s.files.n, 1);
	assert_true(has_problem(f, "reports/bad.xml:1: "));
}

/* A well-formed file that is not JUnit is refused by its root element. */
static void test_not_junit_root(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml", "<coverage line-rate=\"1\"/>");
	collect(f);
	assert_string_equal(f->s.status, "INCOMPLETE");
	assert_true(
	        has_problem(f, "reports/a.xml: not a JUnit XML file (root element <coverage>)"));
}

/* §8 [F]: missing report files give an INCOMPLETE report, not a failed build. */
static void test_no_files_incomplete(void **state)
{
	struct fixture *f = *state;
	collect(f);
	assert_string_equal(f->s.status, "INCOMPLETE");
	assert_true(has_problem(f, "no report files match"));
}

/* Other formats are named as not supported yet; the format is matched case-insensitively. */
static void test_other_format_not_supported(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml", MIXED);
	f->g.file_format = xstrdup("CucumberJson");
	collect(f);
	assert_string_equal(f->s.status, "INCOMPLETE");
	assert_string_equal(f->s.problems.v[0],
	                    "file-format CUCUMBERJSON is not supported by ferry yet");
	free(f->g.file_format);
	f->g.file_format = xstrdup("junitxml");
	collect(f);
	assert_string_equal(f->s.status, "FAILED");
}

/* §8: files are relative to base-directory; several files add up. */
static void test_base_directory_and_several_files(void **state)
{
	struct fixture *f = *state;
	f->g.base_directory = xstrdup("build/test-results");
	strv_free(&f->g.files);
	strv_push(&f->g.files, "**/*.xml");
	tu_write(f->src, "build/test-results/a/TEST-1.xml",
	         "<testsuite><testcase name=\"a\"/></testsuite>");
	tu_write(f->src, "build/test-results/TEST-2.xml", MIXED);
	tu_write(f->src, "other/TEST-3.xml", MIXED);
	collect(f);
	assert_int_equal(f->s.files.n, 2);
	assert_string_equal(f->s.files.v[0], "TEST-2.xml");
	assert_string_equal(f->s.files.v[1], "a/TEST-1.xml");
	assert_int_equal(f->s.total, 6);
}

/* Nothing outside the source directory is read: base-directory escapes and links out. */
static void test_never_reads_outside(void **state)
{
	struct fixture *f = *state;
	f->g.base_directory = xstrdup("..");
	collect(f);
	assert_string_equal(f->s.status, "INCOMPLETE");
	assert_true(has_problem(f, "base-directory ..: not inside the source directory"));
	free(f->g.base_directory);
	f->g.base_directory = NULL;
	strv_push(&f->g.files, "../*.xml");
	char *d = fs_join(f->src, "reports");
	struct err err;
	assert_int_equal(fs_mkdir_p(d, 0755, &err), 0);
	char *l = fs_join(d, "passwd.xml");
	assert_int_equal(symlink("/etc/passwd", l), 0);
	collect(f);
	assert_int_equal(f->s.files.n, 0);
	assert_true(has_problem(f, "../*.xml: not a path inside the source directory"));
	free(l);
	free(d);
}

/* Entity declarations are refused (no entity-expansion bombs from a test report). */
static void test_entity_declarations_refused(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/a.xml",
	         "<?xml version=\"1.0\"?>\n<!DOCTYPE t [\n<!ENTITY a \"aaaaaaaaaa\">\n"
	         "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n]>\n"
	         "<testsuite><testcase name=\"&b;\"/></testsuite>\n");
	collect(f);
	assert_string_equal(f->s.status, "INCOMPLETE");
	assert_true(has_problem(f, "reports/a.xml:3: entity declarations are not allowed"));
}

/* Why a file could not be read goes to the build log too. */
static void test_problems_logged(void **state)
{
	struct fixture *f = *state;
	tu_write(f->src, "reports/bad.xml", "<testsuite>");
	collect(f);
	assert_true(strv_contains(&f->log, "Collecting reports for report group p-unit"));
	assert_true(strv_contains(&f->log, "Report p-unit: reports/bad.xml:1: no element found"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	        T(test_group_name_prefixed_with_project),
	        T(test_group_arn_kept),
	        T(test_summary_counts_and_failed_status),
	        T(test_duration_from_cases),
	        T(test_duration_falls_back_to_suite_time),
	        T(test_duration_stays_finite),
	        T(test_failures_listed_with_first_line),
	        T(test_failures_capped),
	        T(test_nested_suites_succeeded),
	        T(test_malformed_file_incomplete),
	        T(test_malformed_beside_good_file),
	        T(test_not_junit_root),
	        T(test_no_files_incomplete),
	        T(test_other_format_not_supported),
	        T(test_base_directory_and_several_files),
	        T(test_never_reads_outside),
	        T(test_entity_declarations_refused),
	        T(test_problems_logged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
