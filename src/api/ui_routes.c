/*
 * ui_routes.c — the web UI's routes (docs/ui.md). Pages need a session (ui_need);
 * POSTs need the session's CSRF token and a scope (ui_need_post), checked by each run
 * function, so every row here is API_SCOPE_NONE with the UI's headers copied. The
 * artifact download under /api/ is an ordinary API route (bearer token, read scope).
 */
#include "api/ui_int.h"

#define UI       API_UI_HEADERS
#define FORM_MAX 16384

const struct api_route api_ui_routes[] = {
        {"GET", "/", API_SCOPE_NONE, ui_page_pipelines, 0, UI},
        {"GET", "/login", API_SCOPE_NONE, ui_get_login, 0, UI},
        {"POST", "/login", API_SCOPE_NONE, ui_post_login, FORM_MAX, UI},
        {"POST", "/logout", API_SCOPE_NONE, ui_post_logout, FORM_MAX, UI},
        {"GET", "/ui/assets/app.css", API_SCOPE_NONE, ui_get_css, 0, 0},
        {"GET", "/ui/assets/app.js", API_SCOPE_NONE, ui_get_js, 0, 0},
        {"GET", "/ui/events", API_SCOPE_NONE, ui_get_events, 0, UI},
        {"GET", "/pipelines/{name}", API_SCOPE_NONE, ui_page_pipeline, 0, UI},
        {"GET", "/pipelines/{name}/history", API_SCOPE_NONE, ui_page_history, 0, UI},
        {"GET", "/pipelines/{name}/executions/{id}", API_SCOPE_NONE, ui_page_execution, 0, UI},
        {"GET", "/pipelines/{name}/executions/{id}/logs/{action}", API_SCOPE_NONE, ui_get_log, 0,
         UI},
        {"GET", "/pipelines/{name}/executions/{id}/artifacts/{artifact}", API_SCOPE_NONE,
         ui_get_artifact, 0, UI},
        {"GET", "/sites", API_SCOPE_NONE, ui_page_sites, 0, UI},
        {"GET", "/functions", API_SCOPE_NONE, ui_page_functions, 0, UI},
        {"POST", "/ui/pipelines/{name}/start", API_SCOPE_NONE, ui_post_start, FORM_MAX, UI},
        {"POST", "/ui/pipelines/{name}/executions/{id}/stop", API_SCOPE_NONE, ui_post_stop,
         FORM_MAX, UI},
        {"POST", "/ui/pipelines/{name}/stages/{stage}/retry", API_SCOPE_NONE, ui_post_retry,
         FORM_MAX, UI},
        {"POST", "/ui/pipelines/{name}/stages/{stage}/transition", API_SCOPE_NONE,
         ui_post_transition, FORM_MAX, UI},
        {"POST", "/ui/pipelines/{name}/stages/{stage}/actions/{action}/approval", API_SCOPE_NONE,
         ui_post_approval, FORM_MAX, UI},
        {"POST", "/ui/sites/{name}/rollback", API_SCOPE_NONE, ui_post_rollback, FORM_MAX, UI},
        {"GET", "/api/executions/{id}/artifacts/{artifact}", STORE_SCOPE_READ, ui_api_artifact, 0,
         0},
        {NULL, NULL, 0, NULL, 0, 0},
};
