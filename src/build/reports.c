/*
 * reports.c — JUnit XML test reports summarised per report group (see reports.h, §8).
 *
 * Files are streamed through expat in fixed chunks, so a report of any size up to
 * REPORT_FILE_MAX costs one chunk of memory plus the failures kept. What is read:
 *
 *   <testsuites> <testsuite name time> <testcase name classname time>
 *       <failure message>  <error message>  <skipped>
 *
 * (suites may nest). A case is FAILED with <failure>, ERROR with <error>, SKIPPED with
 * <skipped>, else SUCCEEDED. Durations add up the cases' `time`; a suite whose cases
 * carry no `time` at all contributes its own `time` instead. A file that is not
 * well-formed contributes nothing (its partial counts would mislead) and is named
 * with expat's line in `problems`. DTD entity declarations are refused: a report has
 * no use for them, and refusing them closes entity-expansion tricks for good.
 */
#include "build/reports.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/glob.h"
#include "util/fs.h"

#define REPORT_CHUNK        (1 << 16)
#define REPORT_SUITES_MAX   64  /* nesting depth of testsuite elements tracked */
#define REPORT_FAILURES_MAX 20  /* as reports.h promises */
#define REPORT_MESSAGE_MAX  200 /* bytes of a failure's first line */
#define REPORT_TIME_MAX     1e9 /* seconds (~31 years); keeps every sum of times finite */

enum case_status { CASE_PASSED, CASE_SKIPPED, CASE_FAILED, CASE_ERROR };

struct suite {
	char *name;
	double time;
	int has_time;
	long cases, timed_cases;
};

struct tally {
	long total, passed, failed, errored, skipped;
	double duration;
	struct strv failures;
};

struct parse {
	XML_Parser xp;
	int depth;
	char *refused; /* why the parser was stopped by us, or NULL */
	struct suite suites[REPORT_SUITES_MAX];
	int nsuites, suites_over;
	/* the testcase being read */
	int case_depth; /* 0: none */
	char *case_name, *case_class;
	double case_time;
	int case_has_time;
	enum case_status status;
	int msg_depth; /* >0 while collecting the text of a failure/error */
	struct buf msg;
	struct tally t;
};

static const char *attr(const XML_Char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (!strcmp(atts[i], name))
			return atts[i + 1];
	return NULL;
}

/* A `time` attribute in seconds; 0 when absent or not a number in [0, REPORT_TIME_MAX]
 * (two huge finite times would add up to infinity, which JSON cannot hold). */
static int parse_time(const char *s, double *out)
{
	if (!s)
		return 0;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0 || v > REPORT_TIME_MAX)
		return 0;
	*out = v;
	return 1;
}

static void stop(struct parse *p, char *why)
{
	if (!p->refused)
		p->refused = why;
	else
		free(why);
	XML_StopParser(p->xp, XML_FALSE);
}

static void start_suite(struct parse *p, const XML_Char **atts)
{
	if (p->nsuites == REPORT_SUITES_MAX) {
		p->suites_over++;
		return;
	}
	struct suite *s = &p->suites[p->nsuites++];
	memset(s, 0, sizeof *s);
	const char *name = attr(atts, "name");
	s->name = name ? xstrdup(name) : NULL;
	s->has_time = parse_time(attr(atts, "time"), &s->time);
}

static void end_suite(struct parse *p)
{
	if (p->suites_over) {
		p->suites_over--;
		return;
	}
	if (p->nsuites == 0)
		return;
	struct suite *s = &p->suites[--p->nsuites];
	if (s->cases && !s->timed_cases && s->has_time)
		p->t.duration += s->time;
	free(s->name);
}

static void start_case(struct parse *p, const XML_Char **atts)
{
	const char *name = attr(atts, "name"), *cls = attr(atts, "classname");
	p->case_depth = p->depth;
	p->case_name = xstrdup(name ? name : "(unnamed)");
	p->case_class = cls ? xstrdup(cls) : NULL;
	p->case_time = 0;
	p->case_has_time = parse_time(attr(atts, "time"), &p->case_time);
	p->status = CASE_PASSED;
	buf_reset(&p->msg);
}

/* Appends what fits of a failure message; the rest is dropped (only its first line
 * is kept anyway). */
static void msg_add(struct buf *b, const char *s, size_t len)
{
	size_t room = b->max - b->len;
	if (buf_append(b, s, len < room ? len : room) < 0)
		return; /* cannot happen: the length fits the cap */
}

/* <failure>, <error>, <skipped> directly inside the case. The first failure or error
 * decides; a skip never hides one. */
static void start_outcome(struct parse *p, const char *el, const XML_Char **atts)
{
	enum case_status st = !strcmp(el, "failure") ? CASE_FAILED
	                      : !strcmp(el, "error") ? CASE_ERROR
	                                             : CASE_SKIPPED;
	if (p->status >= CASE_FAILED || (st == CASE_SKIPPED && p->status == CASE_SKIPPED))
		return;
	p->status = st;
	if (st == CASE_SKIPPED)
		return;
	buf_reset(&p->msg);
	const char *m = attr(atts, "message");
	if (m && *m) {
		msg_add(&p->msg, m, strlen(m));
	} else {
		p->msg_depth = p->depth; /* take the element's text instead */
	}
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	struct parse *p = ud;
	if (p->msg_depth && len > 0)
		msg_add(&p->msg, s, (size_t)len);
}

/* "first line" of a message: leading blanks skipped, cut at the end of line. */
static char *first_line(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strcspn(s, "\r\n");
	if (n > REPORT_MESSAGE_MAX)
		n = REPORT_MESSAGE_MAX;
	return xstrndup(s, n);
}

static void end_case(struct parse *p)
{
	struct tally *t = &p->t;
	t->total++;
	t->passed += p->status == CASE_PASSED;
	t->skipped += p->status == CASE_SKIPPED;
	t->failed += p->status == CASE_FAILED;
	t->errored += p->status == CASE_ERROR;
	t->duration += p->case_time;
	if (p->nsuites) {
		p->suites[p->nsuites - 1].cases++;
		p->suites[p->nsuites - 1].timed_cases += p->case_has_time;
	}
	if (p->status >= CASE_FAILED) {
		const char *suite = p->case_class ? p->case_class
		                    : p->nsuites && p->suites[p->nsuites - 1].name
		                            ? p->suites[p->nsuites - 1].name
		                            : "(no suite)";
		char *line = first_line(p->msg.data ? p->msg.data : "");
		strv_pushf(&t->failures, "%s.%s: %s", suite, p->case_name,
		           *line ? line : (p->status == CASE_ERROR ? "error" : "failed"));
		free(line);
	}
	free(p->case_name);
	free(p->case_class);
	p->case_name = p->case_class = NULL;
	p->case_depth = 0;
}

static void on_start(void *ud, const XML_Char *el, const XML_Char **atts)
{
	struct parse *p = ud;
	p->depth++;
	if (p->depth == 1 && strcmp(el, "testsuites") && strcmp(el, "testsuite")) {
		stop(p, xasprintf(": not a JUnit XML file (root element <%s>)", el));
		return;
	}
	if (!strcmp(el, "testsuite") && !p->case_depth)
		start_suite(p, atts);
	else if (!strcmp(el, "testcase") && !p->case_depth)
		start_case(p, atts);
	else if (p->case_depth && p->depth == p->case_depth + 1 &&
	         (!strcmp(el, "failure") || !strcmp(el, "error") || !strcmp(el, "skipped")))
		start_outcome(p, el, atts);
}

static void on_end(void *ud, const XML_Char *el)
{
	struct parse *p = ud;
	if (p->msg_depth == p->depth)
		p->msg_depth = 0;
	if (p->case_depth == p->depth)
		end_case(p);
	else if (!p->case_depth && !strcmp(el, "testsuite"))
		end_suite(p);
	p->depth--;
}

static void on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                           int value_len, const XML_Char *base, const XML_Char *system_id,
                           const XML_Char *public_id, const XML_Char *notation)
{
	struct parse *p = ud;
	stop(p, xasprintf(":%lu: entity declarations are not allowed in a report",
	                  (unsigned long)XML_GetCurrentLineNumber(p->xp)));
}

static void parse_free(struct parse *p)
{
	while (p->nsuites)
		free(p->suites[--p->nsuites].name);
	free(p->case_name);
	free(p->case_class);
	free(p->refused);
	buf_free(&p->msg);
	strv_free(&p->t.failures);
	XML_ParserFree(p->xp);
}

/* Feeds the file to expat; on failure returns -1 with the reason in *why, written to
 * follow the file name: ":LINE: what" for XML errors, ": what" otherwise. */
static int feed(struct parse *p, int fd, char **why)
{
	char *chunk = xmalloc(REPORT_CHUNK);
	size_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, REPORT_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = xasprintf(": %s", strerror(errno));
			rc = -1;
			break;
		}
		total += (size_t)n;
		if (total > REPORT_FILE_MAX) {
			*why = xasprintf(": larger than %d MiB; not read", REPORT_FILE_MAX >> 20);
			rc = -1;
			break;
		}
		if (XML_Parse(p->xp, chunk, (int)n, n == 0) != XML_STATUS_OK) {
			*why = p->refused
			               ? xstrdup(p->refused)
			               : xasprintf(":%lu: %s",
			                           (unsigned long)XML_GetCurrentLineNumber(p->xp),
			                           XML_ErrorString(XML_GetErrorCode(p->xp)));
			rc = -1;
			break;
		}
		if (n == 0)
			break;
	}
	free(chunk);
	return rc;
}

/* Reads one report file into `t`; returns -1 with `why` when it contributes nothing. */
static int read_report(const char *path, struct tally *t, char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*why = xasprintf(": %s", strerror(errno));
		return -1;
	}
	struct parse p;
	memset(&p, 0, sizeof p);
	buf_init(&p.msg, 4096);
	p.xp = XML_ParserCreate(NULL);
	XML_SetUserData(p.xp, &p);
	XML_SetElementHandler(p.xp, on_start, on_end);
	XML_SetCharacterDataHandler(p.xp, on_text);
	XML_SetEntityDeclHandler(p.xp, on_entity_decl);
	int rc = feed(&p, fd, why);
	close(fd);
	if (rc == 0) {
		*t = p.t;
		p.t.failures = (struct strv)STRV_INIT;
	}
	parse_free(&p);
	return rc;
}

/* ---- the group ---- */

static void merge(struct report_summary *s, struct tally *t)
{
	s->total += t->total;
	s->passed += t->passed;
	s->failed += t->failed;
	s->errored += t->errored;
	s->skipped += t->skipped;
	s->duration_seconds += t->duration;
	for (size_t i = 0; i < t->failures.n && s->failures.n < REPORT_FAILURES_MAX; i++)
		strv_push(&s->failures, t->failures.v[i]);
	strv_free(&t->failures);
}

/* The directory report files are searched in, or NULL (a problem is noted). */
static char *report_root(const char *src, const struct bs_report_group *g,
                         struct report_summary *out)
{
	const char *b = g->base_directory;
	if (!b || !*b)
		return xstrdup(src);
	char *joined = fs_join(src, b);
	char *real = realpath(joined, NULL);
	free(joined);
	if (!real || !fs_is_within(src, real)) {
		strv_pushf(&out->problems, "base-directory %s: %s", b,
		           real ? "not inside the source directory" : "no such directory");
		free(real);
		return NULL;
	}
	return real;
}

static void read_files(const char *root, const struct glob_result *r, struct report_summary *out)
{
	for (size_t i = 0; i < r->paths.n; i++) {
		const char *rel = r->paths.v[i];
		char *abs = fs_join(root, rel);
		struct tally t = {0};
		char *why = NULL;
		if (read_report(abs, &t, &why) == 0) {
			strv_push(&out->files, rel);
			merge(out, &t);
		} else {
			strv_pushf(&out->problems, "%s%s", rel, why);
		}
		free(why);
		free(abs);
	}
}

static void collect_junit(const char *src, const struct bs_report_group *g,
                          const struct logsink *log, struct report_summary *out, struct err *err)
{
	char *root = report_root(src, g, out);
	if (!root)
		return;
	struct glob_result r;
	if (glob_expand(root, &g->files, NULL, 0, &r, err) < 0) {
		strv_pushf(&out->problems, "%s", err->msg);
		free(root);
		return;
	}
	for (size_t i = 0; i < r.warnings.n; i++)
		logsink_printf(log, "Warning: %s", r.warnings.v[i]);
	for (size_t i = 0; i < r.invalid.n; i++)
		strv_pushf(&out->problems, "%s: not a path inside the source directory",
		           r.invalid.v[i]);
	if (r.paths.n == 0)
		strv_pushf(&out->problems, "no report files match the files patterns");
	read_files(root, &r, out);
	glob_result_free(&r);
	free(root);
}

static char *upper(const char *s)
{
	char *u = xstrdup(s);
	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

int reports_collect(const char *src_dir, const struct bs_report_group *group, const char *project,
                    const struct logsink *log, struct report_summary *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	if (!group || !group->name || !project)
		return err_set(err, "reports: a report group needs a name and a project");
	char *src = fs_realpath(src_dir, err);
	if (!src)
		return -1;
	out->group = xstrdup(group->name);
	out->report_group_name = strncmp(group->name, "arn:", 4)
	                                 ? xasprintf("%s-%s", project, group->name)
	                                 : xstrdup(group->name);
	out->file_format = upper(group->file_format ? group->file_format : "JUNITXML");
	logsink_printf(log, "Collecting reports for report group %s", out->report_group_name);
	struct err ignored;
	if (strcmp(out->file_format, "JUNITXML"))
		strv_pushf(&out->problems, "file-format %s is not supported by ferry yet",
		           out->file_format);
	else
		collect_junit(src, group, log, out, &ignored);
	free(src);
	out->status = xstrdup(out->files.n == 0            ? "INCOMPLETE"
	                      : out->failed + out->errored ? "FAILED"
	                                                   : "SUCCEEDED");
	/* The caller logs the summary line; the reasons a file was not read are ours. */
	for (size_t i = 0; i < out->problems.n; i++)
		logsink_printf(log, "Report %s: %s", out->report_group_name, out->problems.v[i]);
	return 0;
}

void report_summary_free(struct report_summary *s)
{
	free(s->group);
	free(s->report_group_name);
	free(s->file_format);
	free(s->status);
	strv_free(&s->files);
	strv_free(&s->problems);
	strv_free(&s->failures);
	memset(s, 0, sizeof *s);
}
