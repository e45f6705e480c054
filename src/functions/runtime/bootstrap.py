# bootstrap.py — ferry's runtime for python functions (python3.8 .. python3.13).
#
# It talks to the Lambda Runtime API that ferry serves for this one execution
# environment (AWS_LAMBDA_RUNTIME_API): imports the handler named by _HANDLER with
# LAMBDA_TASK_ROOT first on sys.path, as ../shared/spec/pipeline.md §8 says, then
# loops: GET /next, call the handler, POST /response or /error.
# Written for ferry from the spec; embedded in the ferry binary.
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
PREFIX = "/2018-06-01/runtime"
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())


class HandlerError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def call(method, path, body=None, headers=None):
    host, _, port = API.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port))
    data = body.encode("utf-8") if isinstance(body, str) else body
    hdrs = dict(headers or {})
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, PREFIX + path, body=data, headers=hdrs)
    resp = conn.getresponse()
    out = resp.read()
    result = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, out)
    conn.close()
    return result


def error_json(exc, error_type=None):
    tb = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    return {
        "errorMessage": str(exc),
        "errorType": error_type or getattr(exc, "error_type", None) or type(exc).__name__,
        "requestId": "",
        "stackTrace": [line for line in traceback.format_list(tb)],
    }


def load_handler(handler):
    try:
        module_name, func_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise HandlerError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    module_name = module_name.replace("/", ".")
    if TASK_ROOT not in sys.path:
        sys.path.insert(0, TASK_ROOT)
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as e:
        raise HandlerError("Runtime.UserCodeSyntaxError",
                           "Syntax error in module '%s': %s" % (module_name, e))
    except ImportError as e:
        raise HandlerError("Runtime.ImportModuleError",
                           "Unable to import module '%s': %s" % (module_name, e))
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise HandlerError("Runtime.HandlerNotFound",
                           "Handler '%s' missing on module '%s'" % (func_name, module_name))
    return fn


class Context:
    def __init__(self, headers, deadline_ms):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def main():
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        body = error_json(e)
        sys.stderr.write("[ERROR] %s: %s\n" % (body["errorType"], body["errorMessage"]))
        call("POST", "/init/error", json.dumps(body),
             {"Lambda-Runtime-Function-Error-Type": body["errorType"]})
        sys.exit(1)
    while True:
        status, headers, body = call("GET", "/invocation/next")
        if status != 200:
            sys.exit(0)
        request_id = headers.get("lambda-runtime-aws-request-id")
        deadline = int(headers.get("lambda-runtime-deadline-ms", "0") or 0)
        try:
            event = json.loads(body) if body else None
        except ValueError:
            event = body.decode("utf-8", "replace")
        context = Context(headers, deadline)
        try:
            result = handler(event, context)
            try:
                text = json.dumps(result)
            except (TypeError, ValueError) as e:
                raise HandlerError("Runtime.MarshalError",
                                   "Unable to marshal response: %s" % e)
            call("POST", "/invocation/%s/response" % request_id, text)
        except Exception as e:
            err = error_json(e)
            err["requestId"] = request_id
            sys.stderr.write("[ERROR] %s: %s\n" % (err["errorType"], err["errorMessage"]))
            call("POST", "/invocation/%s/error" % request_id, json.dumps(err),
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled"})


if __name__ == "__main__":
    main()
