/*
 * ui_forms.c — the buttons of the pipeline pages: POST /ui/pipelines/NAME/… forms that
 * call the engine operations the JSON API calls (start, stop, retry, transitions,
 * approvals), then send the browser back to the page (303), or answer JSON to app.js.
 *
 * Every one needs the session's CSRF token and the scope its API route needs
 * (ui_need_post()); the token's name is who acts (triggerDetail, lastChangedBy).
 */
#include "api/ui_int.h"

#include <stdlib.h>
#include <string.h>

/* Where the browser goes back to: the form's "back" if it is a path here, else the
 * pipeline's page. To free. */
static char *back_of(const struct api_job *job)
{
	char *back = ui_form(job, "back");
	if (back && back[0] == '/' && strcmp(ui_safe_path(back), "/"))
		return back;
	free(back);
	struct html h;
	html_init(&h);
	html_raw(&h, "/pipelines/");
	html_url(&h, api_param(job, "name"));
	char *s = html_detach(&h, NULL);
	html_free(&h);
	return s;
}

static void done(struct api_job *job, struct ui_session *s, int rc, const struct engine_err *err)
{
	char *back = back_of(job);
	ui_form_done(job, s, back, rc, err);
	free(back);
}

void ui_post_start(struct api_job *job)
{
	struct ui_session *s = ui_need_post(job, STORE_SCOPE_START);
	if (!s)
		return;
	char *id = NULL;
	struct engine_err err = {0};
	struct engine_start req = {.pipeline = api_param(job, "name"), .trigger_detail = s->name};
	int rc = engine_start(job->e, &req, &id, &err);
	free(id);
	done(job, s, rc, &err);
}

void ui_post_stop(struct api_job *job)
{
	struct ui_session *s = ui_need_post(job, STORE_SCOPE_START);
	if (!s)
		return;
	char *abandon = ui_form(job, "abandon");
	char *reason = ui_form(job, "reason");
	struct engine_err err = {0};
	int rc = engine_stop(job->e, api_param(job, "name"), api_param(job, "id"),
	                     abandon && !strcmp(abandon, "1"),
	                     reason && *reason ? reason : "stopped from the web UI", &err);
	free(abandon);
	free(reason);
	done(job, s, rc, &err);
}

void ui_post_retry(struct api_job *job)
{
	struct ui_session *s = ui_need_post(job, STORE_SCOPE_START);
	if (!s)
		return;
	char *exec = ui_form(job, "execution");
	char *mode = ui_form(job, "mode");
	struct engine_err err = {0};
	int rc;
	if (!exec || !*exec)
		rc = ui_fail(&err, "retry: which execution (form field \"execution\") is missing");
	else
		rc = engine_retry(job->e, api_param(job, "name"), api_param(job, "stage"), exec,
		                  mode && !strcmp(mode, "ALL_ACTIONS") ? "ALL_ACTIONS"
		                                                       : "FAILED_ACTIONS",
		                  &err);
	free(exec);
	free(mode);
	done(job, s, rc, &err);
}

void ui_post_transition(struct api_job *job)
{
	struct ui_session *s = ui_need_post(job, STORE_SCOPE_START);
	if (!s)
		return;
	char *enable = ui_form(job, "enable");
	char *reason = ui_form(job, "reason");
	int on = enable && !strcmp(enable, "1");
	struct engine_err err = {0};
	const char *name = api_param(job, "name");
	int rc = engine_transition(job->e, name, api_param(job, "stage"), "Inbound", on,
	                           on ? NULL : reason, s->name, &err);
	free(enable);
	free(reason);
	done(job, s, rc, &err);
}

void ui_post_approval(struct api_job *job)
{
	struct ui_session *s = ui_need_post(job, STORE_SCOPE_APPROVE);
	if (!s)
		return;
	char *token = ui_form(job, "token");
	char *result = ui_form(job, "result");
	char *comment = ui_form(job, "comment");
	json_t *out = NULL;
	struct engine_err err = {0};
	int rc = engine_approval(job->e, api_param(job, "name"), api_param(job, "stage"),
	                         api_param(job, "action"), token ? token : "", result ? result : "",
	                         comment ? comment : "", &out, &err);
	json_decref(out);
	free(token);
	free(result);
	free(comment);
	done(job, s, rc, &err);
}

int ui_fail(struct engine_err *err, const char *msg)
{
	err->type = "ValidationException";
	err_set(&err->err, "%s", msg);
	return ENGINE_EINVALID;
}
