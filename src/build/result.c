/*
 * result.c — the build result as JSON, with CodeBuild's Build field names
 * (buildStatus, phases[].phaseType/phaseStatus/durationInSeconds/contexts,
 * exportedEnvironmentVariables, artifacts, secondaryArtifacts) plus ferry's own
 * precise figures (durationMs, reports with counts, sandbox, shell).
 */
#include <jansson.h>
#include <stdlib.h>

#include "build/build.h"
#include "util/timeutil.h"

static json_t *iso(int64_t ms)
{
	char s[40];
	time_iso8601(ms, s, sizeof s);
	return json_string(s);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *phase_json(const struct build_phase *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "phaseType", json_string(p->type));
	json_object_set_new(o, "startTime", iso(p->start_ms));
	if (!p->status[0]) /* COMPLETED carries only its type and start */
		return o;
	json_object_set_new(o, "phaseStatus", json_string(p->status));
	json_object_set_new(o, "endTime", iso(p->end_ms));
	json_object_set_new(o, "durationInSeconds", json_integer((p->end_ms - p->start_ms) / 1000));
	json_object_set_new(o, "durationMs", json_integer(p->end_ms - p->start_ms));
	json_t *ctx = json_array();
	if (p->context_code || p->context_message) {
		json_t *c = json_object();
		json_object_set_new(c, "statusCode",
		                    json_string(p->context_code ? p->context_code : ""));
		json_object_set_new(c, "message",
		                    json_string(p->context_message ? p->context_message : ""));
		json_array_append_new(ctx, c);
	}
	json_object_set_new(o, "contexts", ctx);
	return o;
}

static json_t *artifact_json(const struct build_artifact *a)
{
	json_t *o = json_object();
	if (a->identifier)
		json_object_set_new(o, "artifactIdentifier", json_string(a->identifier));
	json_object_set_new(o, "location", json_string(a->path));
	json_object_set_new(o, "sha256sum", json_string(a->sha256));
	json_object_set_new(o, "md5sum", json_string(a->md5));
	json_object_set_new(o, "size", json_integer(a->size));
	json_object_set_new(o, "files", json_integer(a->nfiles));
	if (a->name)
		json_object_set_new(o, "name", json_string(a->name));
	return o;
}

static json_t *strv_json(const struct strv *sv)
{
	json_t *a = json_array();
	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static json_t *report_json(const struct report_summary *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "group", json_string(s->group ? s->group : ""));
	json_object_set_new(o, "reportGroupName",
	                    json_string(s->report_group_name ? s->report_group_name : ""));
	json_object_set_new(o, "fileFormat", json_string(s->file_format ? s->file_format : ""));
	json_object_set_new(o, "status", json_string(s->status ? s->status : "INCOMPLETE"));
	json_object_set_new(o, "total", json_integer(s->total));
	json_object_set_new(o, "passed", json_integer(s->passed));
	json_object_set_new(o, "failed", json_integer(s->failed));
	json_object_set_new(o, "error", json_integer(s->errored));
	json_object_set_new(o, "skipped", json_integer(s->skipped));
	json_object_set_new(o, "durationInSeconds", json_real(s->duration_seconds));
	json_object_set_new(o, "files", strv_json(&s->files));
	json_object_set_new(o, "problems", strv_json(&s->problems));
	json_object_set_new(o, "failures", strv_json(&s->failures));
	return o;
}

char *build_result_json(const struct build_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", str_or_null(r->build_id));
	json_object_set_new(o, "projectName", str_or_null(r->project));
	json_object_set_new(o, "buildNumber", json_integer(r->build_number));
	json_object_set_new(o, "buildStatus", json_string(build_status_name(r->status)));
	json_object_set_new(o, "buildComplete", json_boolean(r->status != BUILD_IN_PROGRESS));
	json_object_set_new(o, "currentPhase", json_string("COMPLETED"));
	json_object_set_new(o, "inputError", json_boolean(r->input_error));
	json_object_set_new(o, "initiator", str_or_null(r->initiator));
	json_object_set_new(o, "startTime", iso(r->start_ms));
	json_object_set_new(o, "endTime", iso(r->end_ms));
	json_object_set_new(o, "durationMs", json_integer(r->end_ms - r->start_ms));
	json_object_set_new(o, "timeoutInMinutes", json_integer(r->timeout_minutes));
	json_object_set_new(o, "sourceDirectory", str_or_null(r->src_dir));
	json_object_set_new(o, "buildspec", str_or_null(r->buildspec_path));
	json_object_set_new(o, "sourceVersion", str_or_null(r->source_version));
	json_object_set_new(o, "resolvedSourceVersion", str_or_null(r->resolved_source_version));
	json_object_set_new(o, "sandbox", json_string(r->sandbox ? r->sandbox : "none"));
	json_object_set_new(o, "shell", str_or_null(r->shell));
	json_object_set_new(o, "shellStarts", json_integer(r->worker_starts));
	json_t *ph = json_array();
	for (size_t i = 0; i < r->nphases; i++)
		json_array_append_new(ph, phase_json(&r->phases[i]));
	json_object_set_new(o, "phases", ph);
	json_t *ev = json_array();
	for (size_t i = 0; i < r->nexported; i++) {
		json_t *v = json_object();
		json_object_set_new(v, "name", json_string(r->exported[i].name));
		json_object_set_new(v, "value", json_string(r->exported[i].value));
		json_array_append_new(ev, v);
	}
	json_object_set_new(o, "exportedEnvironmentVariables", ev);
	json_t *sec = json_array();
	for (size_t i = 0; i < r->nartifacts; i++) {
		if (r->artifacts[i].identifier)
			json_array_append_new(sec, artifact_json(&r->artifacts[i]));
		else
			json_object_set_new(o, "artifacts", artifact_json(&r->artifacts[i]));
	}
	json_object_set_new(o, "secondaryArtifacts", sec);
	json_t *rep = json_array();
	for (size_t i = 0; i < r->nreports; i++)
		json_array_append_new(rep, report_json(&r->reports[i]));
	json_object_set_new(o, "reports", rep);
	json_t *retried = json_array();
	for (size_t i = 0; i < r->nretried; i++) {
		json_t *a = json_object();
		json_object_set_new(a, "attempt", json_integer((json_int_t)i + 1));
		json_object_set_new(a, "failedPhase", json_string(r->retried[i].phase));
		json_object_set_new(a, "message", str_or_null(r->retried[i].message));
		json_array_append_new(retried, a);
	}
	json_object_set_new(o, "attempts", json_integer((json_int_t)r->nretried + 1));
	json_object_set_new(o, "retriedAttempts", retried);
	json_object_set_new(o, "warnings", strv_json(&r->warnings));
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

void build_result_free(struct build_result *r)
{
	for (size_t i = 0; i < r->nphases; i++) {
		free(r->phases[i].context_code);
		free(r->phases[i].context_message);
	}
	free(r->phases);
	for (size_t i = 0; i < r->nexported; i++) {
		free(r->exported[i].name);
		free(r->exported[i].value);
	}
	free(r->exported);
	for (size_t i = 0; i < r->nartifacts; i++) {
		free(r->artifacts[i].identifier);
		free(r->artifacts[i].path);
		free(r->artifacts[i].name);
	}
	free(r->artifacts);
	for (size_t i = 0; i < r->nreports; i++)
		report_summary_free(&r->reports[i]);
	free(r->reports);
	for (size_t i = 0; i < r->nretried; i++)
		free(r->retried[i].message);
	free(r->retried);
	strv_free(&r->warnings);
	free(r->build_id);
	free(r->project);
	free(r->initiator);
	free(r->src_dir);
	free(r->buildspec_path);
	free(r->source_version);
	free(r->resolved_source_version);
	free(r->shell);
}
