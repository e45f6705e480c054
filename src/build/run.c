/*
 * run.c — build_run(): CodeBuild's lifecycle (spec §3) over the shell of shell.h.
 *
 * Transitions without on-failure (§3.2): a failed INSTALL or PRE_BUILD ends the
 * build (no BUILD, POST_BUILD, UPLOAD_ARTIFACTS); BUILD runs POST_BUILD and
 * UPLOAD_ARTIFACTS whatever its outcome; POST_BUILD's failure still uploads.
 * on-failure CONTINUE goes on as if the phase had succeeded; ABORT ends the build.
 * A timeout or stop marks the running phase TIMED_OUT/STOPPED and ends the build
 * without `finally`, POST_BUILD or UPLOAD_ARTIFACTS (§3.4, §4.5).
 */
#include "build/run.h"

#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/timeutil.h"

const char *build_status_name(enum build_status s)
{
	static const char *const names[] = {"SUCCEEDED", "FAILED",  "FAULT",
	                                    "TIMED_OUT", "STOPPED", "IN_PROGRESS"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "FAULT";
}

void run_log(struct run *r, const char *fmt, ...)
{
	char stamp[40], msg[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	time_log_stamp(wall_us(), stamp, sizeof stamp);
	char *line = xasprintf("[Container] %s %s", stamp, msg);
	outstream_line(r->out, line);
	free(line);
}

size_t run_phase_begin(struct run *r, const char *type)
{
	struct build_result *res = r->res;
	res->phases = xrealloc(res->phases, (res->nphases + 1) * sizeof *res->phases);
	struct build_phase *p = &res->phases[res->nphases];
	memset(p, 0, sizeof *p);
	snprintf(p->type, sizeof p->type, "%s", type);
	snprintf(p->status, sizeof p->status, "IN_PROGRESS");
	p->start_ms = p->end_ms = wall_ms();
	return res->nphases++;
}

void run_phase_end(struct run *r, size_t idx, const char *status, const char *code,
                   const char *message)
{
	struct build_phase *p = &r->res->phases[idx];
	snprintf(p->status, sizeof p->status, "%s", status);
	p->end_ms = wall_ms();
	free(p->context_code);
	free(p->context_message);
	p->context_code = code ? xstrdup(code) : NULL;
	p->context_message = message ? outstream_mask(r->out, message) : NULL;
}

static void instant_phase(struct run *r, const char *type)
{
	size_t i = run_phase_begin(r, type);
	run_phase_end(r, i, "SUCCEEDED", NULL, NULL);
}

/* The user to run a phase as: NULL means ferry's own user. */
static const char *phase_user(const struct run *r, const struct bs_phase_spec *ph)
{
	const char *u = ph->run_as ? ph->run_as : r->bs->run_as;
	if (!u)
		return NULL;
	struct passwd *me = getpwuid(geteuid());
	return me && !strcmp(me->pw_name, u) ? NULL : u;
}

enum cmd_outcome { CMD_OK, CMD_FAILED, CMD_STOPPED, CMD_TIMED_OUT, CMD_FAULT };

struct failure {
	char *message; /* "Error while executing command: ... Reason: ..." */
};

static enum cmd_outcome run_command(struct run *r, const struct bs_command *c, const char *user,
                                    struct failure *f)
{
	struct err err;
	run_log(r, "Running command %s", c->text);
	char assign[64];
	snprintf(assign, sizeof assign, "CODEBUILD_BUILD_SUCCEEDING=%d", r->succeeding);
	int status = 0;
	int rc = shell_run(r->sh, c->text, user, assign, &r->hooks, &status, &err);
	outstream_flush(r->out);
	if (rc == SHELL_STOPPED)
		return CMD_STOPPED;
	if (rc == SHELL_TIMED_OUT)
		return CMD_TIMED_OUT;
	if (rc < 0) {
		if (!strncmp(err.msg, "run-as:", 7)) {
			run_log(r, "%s", err.msg);
			if (!f->message)
				f->message =
				        xasprintf("Error while executing command: %s. Reason: %s",
				                  c->text, err.msg);
			r->succeeding = 0;
			return CMD_FAILED;
		}
		run_log(r, "Phase context status code: FAULT Message: %s", err.msg);
		if (!f->message)
			f->message = xstrdup(err.msg);
		return CMD_FAULT;
	}
	if (status == 0)
		return CMD_OK;
	run_log(r, "Command did not exit successfully %s exit status %d", c->text, status);
	if (!f->message)
		f->message = xasprintf("Error while executing command: %s. Reason: exit status %d",
		                       c->text, status);
	r->succeeding = 0;
	return CMD_FAILED;
}

/* Runs a list until the first failure; returns the first non-OK outcome or OK. */
static enum cmd_outcome run_list(struct run *r, const struct bs_command *cmds, size_t n,
                                 const char *user, struct failure *f)
{
	for (size_t i = 0; i < n; i++) {
		enum cmd_outcome o = run_command(r, &cmds[i], user, f);
		if (o != CMD_OK)
			return o;
	}
	return CMD_OK;
}

/* Runs one command phase; returns its status name. */
static const char *run_phase(struct run *r, enum bs_phase p)
{
	const struct bs_phase_spec *ph = &r->bs->phases[p];
	const char *type = bs_phase_type(p);
	size_t idx = run_phase_begin(r, type);
	run_log(r, "Entering phase %s", type);
	const char *user = phase_user(r, ph);
	struct failure f = {NULL};
	free(outstream_take_tail(r->out)); /* RETRY patterns see this phase's output only */
	enum cmd_outcome o = run_list(r, ph->commands, ph->ncommands, user, &f);
	if (o == CMD_OK || o == CMD_FAILED) {
		enum cmd_outcome fo = run_list(r, ph->finally, ph->nfinally, user, &f);
		if (fo != CMD_OK)
			o = fo;
	}
	const char *status = "SUCCEEDED", *code = NULL;
	switch (o) {
	case CMD_OK:
		break;
	case CMD_FAILED:
		status = "FAILED";
		code = "COMMAND_EXECUTION_ERROR";
		break;
	case CMD_STOPPED:
		status = "STOPPED";
		r->stopped = 1;
		free(f.message);
		f.message = xstrdup("Build was stopped");
		break;
	case CMD_TIMED_OUT:
		status = "TIMED_OUT";
		r->timed_out = 1;
		free(f.message);
		f.message = xasprintf("Build has timed out. Timeout is %d minutes",
		                      r->res->timeout_minutes);
		break;
	case CMD_FAULT:
		status = "FAULT";
		code = "AGENT_ERROR";
		r->faulted = 1;
		break;
	}
	run_phase_end(r, idx, status, code, f.message);
	run_log(r, "Phase complete: %s State: %s", type, status);
	run_log(r, "Phase context status code: %s Message: %s", code ? code : "",
	        f.message ? r->res->phases[idx].context_message : "");
	free(f.message);
	return r->res->phases[idx].status;
}

static int ended(const struct run *r)
{
	return r->stopped || r->timed_out || r->faulted;
}

/*
 * on-failure RETRY (spec §3.3, ferry's semantics): the pattern is matched against the
 * phase's failure message and the last 64 KiB of its output, line by line.
 */
static int retry_wanted(struct run *r, enum bs_phase p, const char *message)
{
	const struct bs_phase_spec *ph = &r->bs->phases[p];
	if ((int)r->res->nretried >= ph->retry_count)
		return 0;
	regex_t re;
	if (regcomp(&re, ph->retry_regex ? ph->retry_regex : ".*",
	            REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0)
		return 0; /* the parser already refused patterns that do not compile */
	char *tail = outstream_take_tail(r->out);
	char *text = xasprintf("%s\n%s", message ? message : "", tail);
	int match = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	free(tail);
	free(text);
	if (!match)
		run_log(r, "on-failure %s: the failure does not match /%s/; not retrying",
		        bs_phase_key(p), ph->retry_regex ? ph->retry_regex : ".*");
	return match;
}

/* The command phases with CodeBuild's transitions; returns 1 when BUILD ran. */
static int run_phases(struct run *r)
{
	static const enum bs_phase order[] = {BS_INSTALL, BS_PRE_BUILD, BS_BUILD, BS_POST_BUILD};
	int build_ran = 0;
	for (size_t i = 0; i < 4 && !ended(r); i++) {
		enum bs_phase p = order[i];
		const char *st = run_phase(r, p);
		if (p == BS_BUILD)
			build_ran = 1;
		if (strcmp(st, "FAILED") != 0)
			continue;
		enum bs_on_failure of = r->bs->phases[p].on_failure;
		if (of == BS_ONFAIL_RETRY) {
			const struct build_phase *rec = &r->res->phases[r->res->nphases - 1];
			if (retry_wanted(r, p, rec->context_message)) {
				r->retry = 1;
				return 0;
			}
			of = BS_ONFAIL_DEFAULT; /* retries used up: the usual transitions */
		}
		if (of == BS_ONFAIL_CONTINUE)
			continue;
		if (of == BS_ONFAIL_ABORT || p == BS_INSTALL || p == BS_PRE_BUILD)
			return build_ran && of != BS_ONFAIL_ABORT;
	}
	return build_ran && !ended(r);
}

static void capture_exports(struct run *r)
{
	const struct strv *names = &r->bs->exported_variables;
	if (names->n == 0 || !r->sh || ended(r))
		return;
	const char **words = xcalloc(names->n, sizeof(char *));
	char **vals = xcalloc(names->n, sizeof(char *));
	for (size_t i = 0; i < names->n; i++)
		words[i] = xasprintf("${%s}", names->v[i]);
	int ok = run_eval(r, words, names->n, vals) == 0;
	r->res->exported = xcalloc(names->n, sizeof *r->res->exported);
	for (size_t i = 0; i < names->n; i++) {
		r->res->exported[i].name = xstrdup(names->v[i]);
		r->res->exported[i].value = ok ? outstream_mask(r->out, vals[i]) : xstrdup("");
		free(vals[i]);
		free((char *)words[i]);
	}
	r->res->nexported = names->n;
	free(words);
	free(vals);
}

int run_eval(struct run *r, const char *const *words, size_t n, char **values)
{
	struct err err;
	int rc = shell_eval(r->sh, words, n, values, &r->hooks, &err);
	outstream_flush(r->out);
	if (rc == SHELL_DONE)
		return 0;
	if (rc == SHELL_STOPPED)
		r->stopped = 1;
	else if (rc == SHELL_TIMED_OUT)
		r->timed_out = 1;
	else
		run_log(r, "Could not evaluate %s: %s", words[0], err.msg);
	for (size_t i = 0; i < n; i++) {
		free(values[i]);
		values[i] = xstrdup("");
	}
	return -1;
}

static void finalize(struct run *r)
{
	/* a stop or timeout marks the phase that was running when it came */
	size_t idx = run_phase_begin(r, "FINALIZING");
	if (r->sh) {
		shell_drain(r->sh, &r->hooks);
		shell_kill(r->sh);
		shell_drain(r->sh, &r->hooks);
		outstream_flush(r->out);
		r->res->worker_starts = shell_worker_starts(r->sh);
		shell_free(r->sh);
		r->sh = NULL;
	}
	const char *mine[] = {r->ctl, r->work}; /* ctl may live apart, on tmpfs */
	for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) {
		struct err err;
		if (mine[i] && fs_rm_rf(mine[i], &err) < 0)
			run_log(r, "Could not remove the build's private files: %s", err.msg);
	}
	run_phase_end(r, idx, "SUCCEEDED", NULL, NULL);
	size_t c = run_phase_begin(r, "COMPLETED");
	r->res->phases[c].status[0] = '\0';
	r->res->phases[c].end_ms = 0;
}

static enum build_status derive_status(const struct run *r)
{
	if (r->faulted)
		return BUILD_FAULT;
	if (r->timed_out)
		return BUILD_TIMED_OUT;
	if (r->stopped)
		return BUILD_STOPPED;
	for (size_t i = 0; i < r->res->nphases; i++) {
		const char *s = r->res->phases[i].status;
		if (!strcmp(s, "FAULT"))
			return BUILD_FAULT;
		if (!strcmp(s, "FAILED"))
			return BUILD_FAILED;
	}
	return BUILD_SUCCEEDED;
}

/* Keeps a note of the failed attempt, drops its phase records, starts a fresh shell. */
static int start_over(struct run *r, size_t first)
{
	struct build_result *res = r->res;
	struct build_phase *failed = &res->phases[res->nphases - 1];
	res->retried = xrealloc(res->retried, (res->nretried + 1) * sizeof *res->retried);
	struct build_attempt *a = &res->retried[res->nretried++];
	snprintf(a->phase, sizeof a->phase, "%s", failed->type);
	a->message = failed->context_message ? xstrdup(failed->context_message) : NULL;
	for (size_t i = first; i < res->nphases; i++) {
		free(res->phases[i].context_code);
		free(res->phases[i].context_message);
	}
	res->nphases = first;
	r->retry = 0;
	r->succeeding = 1;
	run_log(r, "Retrying the build (attempt %zu) after %s failed: %s", res->nretried + 1,
	        a->phase, a->message ? a->message : "");
	struct err err;
	if (run_restart_shell(r, &err) < 0) {
		run_log(r, "Could not start a fresh shell for the retry: %s", err.msg);
		r->faulted = 1;
		return -1;
	}
	return 0;
}

/* A line without its newline is shown after this long without output. */
#define PARTIAL_LINE_MS 500

static void flush_partial(void *ctx)
{
	outstream_flush_partial(ctx);
}

static void feed_output(void *ctx, const char *data, size_t len)
{
	outstream_feed(ctx, data, len);
}

int build_run(const struct build_request *req, struct build_result *res)
{
	memset(res, 0, sizeof *res);
	res->status = BUILD_IN_PROGRESS;
	res->start_ms = wall_ms();
	res->sandbox = "none";
	int64_t timeout_s = req->timeout_seconds > 0 ? req->timeout_seconds : 3600;
	res->timeout_minutes = (int)((timeout_s + 59) / 60);
	struct run r = {.req = req, .res = res, .succeeding = 1};
	r.out = outstream_new(req->log);
	r.deadline_ms = mono_ms() + timeout_s * 1000;
	r.hooks = (struct shell_hooks){.output = feed_output,
	                               .ctx = r.out,
	                               .stop_fd = req->stop_fd,
	                               .deadline_ms = r.deadline_ms,
	                               .tick_ms = PARTIAL_LINE_MS,
	                               .tick = flush_partial};

	instant_phase(&r, "SUBMITTED");
	instant_phase(&r, "QUEUED");
	if (run_setup(&r) == 0) {
		size_t first = res->nphases; /* INSTALL's record: where an attempt starts */
		for (;;) {
			int upload = run_phases(&r);
			if (r.retry && start_over(&r, first) == 0)
				continue;
			capture_exports(&r);
			if (upload && !ended(&r))
				run_upload(&r);
			break;
		}
	}
	if (r.stopped || r.timed_out) {
		/* the phase that saw the stop already carries STOPPED/TIMED_OUT */
		run_log(&r, "%s", r.stopped ? "Build was stopped" : "Build timed out");
	}
	finalize(&r);
	res->status = derive_status(&r);
	res->end_ms = wall_ms();
	outstream_free(r.out);
	envmap_free(r.env);
	buildspec_free(r.bs);
	free(r.src);
	free(r.work);
	free(r.ctl);
	free(r.home_host);
	free(r.shell_path);
	return res->status == BUILD_FAULT ? -1 : 0;
}
