/*
 * notify.h — pipeline notifications (docs/pipeline.md, "Notifications"): for each rule
 * of a pipeline's `notifications` that names an event, run its command with the
 * event's JSON on stdin, or POST the JSON to its URL; every attempt time-limited,
 * failures retried with a growing delay, every outcome in the daemon's log. It runs
 * on the engine's libuv loop and never blocks it.
 *
 *     struct notifier *nt;
 *     if (notify_open(loop, self_exe, log, &nt, &err) < 0) ...
 *     json_t *ev = notify_event_json("site", 3, exec_id, PL_NOTIFY_FAILED,
 *                                    "Build failed: exit status 2", wall_ms());
 *     notify_send(nt, p->notifications, p->nnotifications, PL_NOTIFY_FAILED, ev);
 *     json_decref(ev);
 *     ...
 *     notify_close(nt, on_closed, ctx);   // then keep the loop running until on_closed
 *
 * Invariants:
 *  - every attempt runs in a child process in its own process group: a command as
 *    `/bin/sh -c COMMAND`, a URL as `SELF_EXE __notify URL TIMEOUT` (notify_post_main()),
 *    so libcurl never loads into the daemon. Its stdin is the event JSON on one line;
 *    its environment is the daemon's plus FERRY_EVENT ("failed"), FERRY_PIPELINE and
 *    FERRY_EXECUTION_ID. The whole group is killed (SIGKILL) at the rule's
 *    timeoutSeconds (a URL child gets NOTIFY_URL_GRACE_MS more, to report its own
 *    timeout) and as soon as the shell exits: nothing a rule starts outlives its
 *    attempt;
 *  - an attempt fails on a non-zero exit, a signal, a timeout or a failed start; it is
 *    retried after 1 s, 2 s, 4 s, ... (at most NOTIFY_BACKOFF_MAX_MS) up to the rule's
 *    `retries` times. Each failed attempt and the final outcome are logged, naming the
 *    rule, pipeline, event and execution ("notifications[1] of site (failed, execution
 *    …): gave up after 3 attempts: exit status 1"); neither the command nor the URL's
 *    path and query are logged (webhook URLs often carry their secret there);
 *  - what a child prints (stdout and stderr) is logged line by line with the same
 *    prefix, at most NOTIFY_OUTPUT_MAX bytes per attempt, lines cut at NOTIFY_LINE_MAX;
 *  - at most NOTIFY_ACTIVE_MAX deliveries are in flight; an event past that is dropped
 *    for that rule, with a log line: notifications never hold up the engine;
 *  - idle is free: with nothing in flight the notifier holds no libuv handle — no
 *    timer, no pipe. A timer exists only while a child runs or a retry waits;
 *  - notify_open() sets SIGPIPE to ignored when it is at its default, so that writing
 *    the event to a command that already exited cannot kill the daemon (children get
 *    the default back).
 *
 * Threading: every function but notify_post_main() runs on the loop's thread.
 *
 * Ownership: notify_send() borrows `rules` and `event_json` for the call only (it
 * copies what it keeps; the caller keeps its reference). notify_*_json() return a new
 * reference for the caller to json_decref(). The notifier is freed by notify_close().
 */
#ifndef FERRY_ENGINE_NOTIFY_H
#define FERRY_ENGINE_NOTIFY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "spec/pipeline.h"
#include "util/err.h"
#include "util/logsink.h"

#define NOTIFY_ACTIVE_MAX     64          /* deliveries in flight (running or waiting) */
#define NOTIFY_BACKOFF_MAX_MS 60000       /* longest wait before a retry */
#define NOTIFY_URL_GRACE_MS   2000        /* a URL child's time past timeoutSeconds */
#define NOTIFY_OUTPUT_MAX     (16u << 10) /* bytes of a child's output logged per attempt */
#define NOTIFY_LINE_MAX       1024        /* bytes of one logged output line */
#define NOTIFY_BODY_MAX       (1u << 20)  /* bytes `ferry __notify` reads from stdin */

struct notifier; /* opaque */

/* `self_exe` is the ferry binary URL rules run (`ferry __notify`); `log` the daemon's
 * log (copied; its ctx must outlive the notifier; NULL: silent). Fails only on a
 * missing loop or self_exe. */
FERRY_MUST_CHECK
int notify_open(uv_loop_t *loop, const char *self_exe, const struct logsink *log,
                struct notifier **out, struct err *err);

/* Starts a delivery of `event_json` for each of the `nrules` rules whose events include
 * `event` (one PL_NOTIFY_* bit); rules[i] is "notifications[i]" in the log. Returns at
 * once. Does nothing after notify_close() or with a NULL notifier. */
void notify_send(struct notifier *n, const struct pl_notify_rule *rules, size_t nrules,
                 unsigned event, const json_t *event_json);

/* Cancels pending retries, kills running children, and once the last handle is closed
 * frees the notifier and calls done(ctx) — before returning when nothing was in
 * flight, else from the loop (keep it running). `done` may be NULL. */
void notify_close(struct notifier *n, void (*done)(void *ctx), void *ctx);

/* An execution's event, shaped as EventBridge's "CodePipeline Pipeline Execution
 * State Change":
 *   {"version": "0", "id": <uuid>, "detail-type": ..., "source": "aws.codepipeline",
 *    "account": "000000000000", "time": "2024-05-01T12:00:00Z", "region": "local",
 *    "resources": ["arn:aws:codepipeline:local:000000000000:<pipeline>"],
 *    "detail": {"pipeline", "execution-id", "state", "version"}}
 * with state STARTED, SUCCEEDED, FAILED, SUPERSEDED, STOPPED, CANCELED or RESUMED.
 * `reason` (NULL: none) goes to "additionalAttributes": {"statusSummary": reason} and,
 * for STOPPED, to detail's "stop-execution-comments" as AWS sends it. The caller may
 * add "execution-trigger" {"trigger-type", "trigger-detail"} and "start-time" to
 * "detail". PL_NOTIFY_APPROVAL_NEEDED gives notify_approval_json() without stage and
 * action; any other value of `event` gives NULL. */
json_t *notify_event_json(const char *pipeline, int version, const char *execution_id,
                          unsigned event, const char *reason, int64_t time_ms);

/* A Manual approval waiting, shaped as EventBridge's "CodePipeline Action Execution
 * State Change" (state STARTED, type AWS/Manual/Approval/1); `stage`, `action` and
 * `custom_data` (additionalAttributes.customData) may be NULL; `pipeline` and
 * `execution_id` may not (NULL is returned). */
json_t *notify_approval_json(const char *pipeline, int version, const char *execution_id,
                             const char *stage, const char *action, const char *custom_data,
                             int64_t time_ms);

/* `ferry __notify URL TIMEOUT_SECONDS` (argv[0] is "__notify"): POSTs stdin (at most
 * NOTIFY_BODY_MAX bytes) to URL as application/json within TIMEOUT_SECONDS. Exit 0 on
 * a 2xx answer; 1 otherwise, with one line on stderr (status and the start of the
 * answer, or what failed; the URL shown without its path); 2 on bad arguments. */
int notify_post_main(int argc, char **argv);

#endif
