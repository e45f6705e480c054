/* output.c — see output.h. */
#include "cli/output.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"

void cli_duration(int64_t ms, char *out, size_t n)
{
	if (ms < 1000)
		snprintf(out, n, "%lld ms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, n, "%.2f s", (double)ms / 1000.0);
	else
		snprintf(out, n, "%lld min %02lld s", (long long)(ms / 60000),
		         (long long)(ms % 60000) / 1000);
}

void cli_size(int64_t b, char *out, size_t n)
{
	if (b < 1024)
		snprintf(out, n, "%lld B", (long long)b);
	else if (b < 1024 * 1024)
		snprintf(out, n, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(out, n, "%.1f MiB", (double)b / (1024.0 * 1024.0));
}

static void print_phases(FILE *f, const struct build_result *r)
{
	fprintf(f, "\n%-18s %-11s %10s\n", "PHASE", "STATUS", "DURATION");
	for (size_t i = 0; i < r->nphases; i++) {
		const struct build_phase *p = &r->phases[i];
		if (!p->status[0])
			continue; /* COMPLETED: a marker, not a phase */
		char d[32];
		cli_duration(p->end_ms - p->start_ms, d, sizeof d);
		fprintf(f, "%-18s %-11s %10s", p->type, p->status, d);
		if (p->context_code && strcmp(p->status, "SUCCEEDED"))
			fprintf(f, "  %s: %s", p->context_code,
			        p->context_message ? p->context_message : "");
		fputc('\n', f);
	}
}

void cli_print_summary(FILE *f, const struct build_result *r)
{
	print_phases(f, r);
	char d[32];
	cli_duration(r->end_ms - r->start_ms, d, sizeof d);
	fprintf(f, "\nBuild %s %s in %s (sandbox: %s)\n", r->build_id ? r->build_id : "(none)",
	        build_status_name(r->status), d, r->sandbox ? r->sandbox : "none");
	for (size_t i = 0; i < r->nartifacts; i++) {
		const struct build_artifact *a = &r->artifacts[i];
		char sz[32];
		cli_size(a->size, sz, sizeof sz);
		fprintf(f, "Artifact %s: %s (%ld files, %s, sha256 %.12s…)\n",
		        a->identifier ? a->identifier : "primary", a->path, a->nfiles, sz,
		        a->sha256);
	}
	for (size_t i = 0; i < r->nreports; i++) {
		const struct report_summary *s = &r->reports[i];
		fprintf(f,
		        "Report %s: %s, %ld tests: %ld passed, %ld failed, %ld skipped (%.2f s)\n",
		        s->report_group_name, s->status, s->total, s->passed,
		        s->failed + s->errored, s->skipped, s->duration_seconds);
	}
	for (size_t i = 0; i < r->nexported; i++)
		fprintf(f, "Exported %s=%s\n", r->exported[i].name, r->exported[i].value);
	fflush(f);
}

void cli_children(pid_t parent, struct strv *out)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[64], *stat = NULL;
		size_t len;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if (fs_read_file(path, 4096, &stat, &len, NULL) < 0)
			continue;
		/* the ppid is the second field after the parenthesised command name */
		const char *rp = strrchr(stat, ')');
		long ppid = -1;
		if (rp && rp[1] && rp[2] && rp[3])
			ppid = strtol(rp + 4, NULL, 10);
		if (ppid == (long)parent)
			strv_push(out, e->d_name);
		free(stat);
	}
	closedir(d);
}
