/*
 * reports.h — test reports named in a buildspec `reports` group, summarised
 * (../shared/spec/buildspec.md §8). JUNITXML is read; other formats are noted as
 * not supported yet and give an INCOMPLETE report.
 *
 * Invariants:
 *  - a report never changes the build status; a missing or unreadable file makes
 *    the report INCOMPLETE with the reason in `problems`, never an error return;
 *  - a group named by name belongs to report group "<project>-<name>"; an ARN is kept;
 *  - status: SUCCEEDED (every case passed or skipped), FAILED (any failed or error
 *    case), INCOMPLETE (no file, or no file could be read);
 *  - files are found with glob_expand() below src_dir/base-directory (never outside).
 *
 * Ownership: release a summary with report_summary_free().
 */
#ifndef FERRY_REPORTS_H
#define FERRY_REPORTS_H

#include "spec/buildspec.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/logsink.h"

#define REPORT_FILE_MAX (64 << 20)

struct report_summary {
	char *group;             /* the buildspec key */
	char *report_group_name; /* "<project>-<name>", or the ARN */
	char *file_format;
	char *status; /* "SUCCEEDED", "FAILED", "INCOMPLETE" */
	long total, passed, failed, errored, skipped;
	double duration_seconds;
	struct strv files;    /* relative paths read */
	struct strv problems; /* "<file>: why it could not be read" */
	struct strv failures; /* "<suite>.<case>: first line of the message", at most 20 */
};

/* Fills `out`; returns -1 only for a broken request (not for bad report files). */
FERRY_MUST_CHECK
int reports_collect(const char *src_dir, const struct bs_report_group *group, const char *project,
                    const struct logsink *log, struct report_summary *out, struct err *err);

void report_summary_free(struct report_summary *s);

#endif
