/*
 * invoke_main.h — `ferry __invoke DIR`: one invocation in a child of the daemon, so
 * that the daemon's loop never blocks on a function (engine/engine_fn.c starts it).
 *
 * DIR holds, from the daemon:
 *     request.json   {"dataDir", "name", "qualifier" (or null), "extraEnv": ["K=V", ...]}
 *     payload        the event bytes
 * and gets, written atomically before the child exits:
 *     response       the bytes the runtime posted (or the error JSON)
 *     result.json    {"ok": true, "requestId", "executedVersion", "functionError",
 *                     "durationMs"} or {"ok": false, "error": "...", "notFound": bool}
 * The invocation's log lines go to stdout as well (the daemon may show them).
 */
#ifndef FERRY_FUNCTIONS_INVOKE_MAIN_H
#define FERRY_FUNCTIONS_INVOKE_MAIN_H

#define FN_INVOKE_REQUEST  "request.json"
#define FN_INVOKE_PAYLOAD  "payload"
#define FN_INVOKE_RESPONSE "response"
#define FN_INVOKE_RESULT   "result.json"
#define FN_PAYLOAD_MAX     (6u << 20) /* a synchronous invocation's payload (Lambda's) */

/* argv[0] "__invoke", argv[1] DIR. Exit status 0 when result.json was written. */
int fn_invoke_main(int argc, char **argv);

#endif
