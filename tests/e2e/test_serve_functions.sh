#!/usr/bin/env bash
# Functions through the CLI of a real daemon: create a node function from a directory,
# invoke it (payload in, result out), a failing invoke exits 1 with the error, publish
# v1 (again: still v1), change the code and publish v2, an alias on v1, moved to v2 (a
# deploy), rolled back (invoking through the alias shows v1's output again), the
# invocation's log, and refusals (a reserved variable, a hostile zip).
# Prints "ok   e2e functions-..." or "FAIL e2e functions-..." per check.
set -u
. "$(dirname "$0")/serve_lib.sh"

# write_fn TEXT — the function's code in $W/fn: index.js returning TEXT and the event
write_fn() {
	mkdir -p "$W/fn"
	cat >"$W/fn/index.js" <<J
exports.handler = async (event, context) => {
  console.log('handling', JSON.stringify(event));
  if (event.fail) throw new Error('asked to fail');
  return {text: '$1', got: event.n, version: context.functionVersion};
};
J
}

functions-create-and-invoke() {
	write_fn one
	run fn create hello --runtime nodejs20.x --handler index.handler --dir "$W/fn" --env STAGE=test
	want_rc 0
	in_out "nodejs20.x"
	in_out "STAGE=test"
	run fn invoke hello --payload '{"n": 5}'; want_rc 0
	in_out '{"text":"one","got":5,"version":"$LATEST"}'
	run fn list; want_rc 0
	in_out hello
}

functions-error-exits-1() {
	run fn invoke hello --payload '{"fail": true}'; want_rc 1
	in_err "failed: Error: asked to fail"
}

functions-publish-versions() {
	run fn publish hello; want_rc 0
	in_out "version 1"
	run fn publish hello; want_rc 0
	in_out "version 1 "
	write_fn two
	run fn update-code hello --dir "$W/fn" --publish; want_rc 0
	in_err "(version 2)"
	run fn versions hello --json; want_rc 0
	[ "$(jfield '[v["Version"] for v in r["Versions"]]')" = "['\$LATEST', '1', '2']" ] ||
		die "versions are not \$LATEST 1 2"
}

functions-alias-deploy-and-rollback() {
	run fn alias hello live --version 1; want_rc 0
	in_out "created, version 1"
	run fn invoke hello:live; want_rc 0
	in_out '"text":"one"'
	run fn alias hello live --version 2; want_rc 0
	in_out "version 1 -> 2"
	run fn invoke hello:live; want_rc 0
	in_out '"text":"two"'
	in_out '"version":"2"'
	run fn alias hello live --rollback; want_rc 0
	in_out "version 2 -> 1 (rollback)"
	run fn invoke hello:live --payload '{"n": 1}'; want_rc 0
	in_out '{"text":"one","got":1,"version":"1"}'
	run fn aliases hello; want_rc 0
	in_out live
}

functions-logs() {
	run fn logs hello; want_rc 0
	in_out "START RequestId: "
	in_out 'handling {"n":1}'
	in_out "REPORT RequestId: "
	run fn invocations hello --json; want_rc 0
	[ "$(jfield 'len(r["Invocations"])')" -ge 5 ] || die "fewer than 5 invocations listed"
	id=$(jfield 'r["Invocations"][0]["RequestId"]')
	run fn logs hello "$id"; want_rc 0
	in_out "END RequestId: $id"
}

functions-refusals() {
	run fn create bad --runtime nodejs20.x --handler index.handler --dir "$W/fn" --env AWS_REGION=x
	want_rc 1
	in_err "AWS_REGION: a reserved key"
	run fn create bad --runtime cobol --handler index.handler --dir "$W/fn"; want_rc 1
	in_err 'Runtime "cobol" is not one ferry runs'
	python3 - "$W/evil.zip" <<'P'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('index.js', 'x')
    z.writestr('../../escape.js', 'x')
P
	run fn update-code hello --zip-file "$W/evil.zip"; want_rc 1
	in_err 'entry "../../escape.js" climbs out'
	run fn invoke nosuch; want_rc 1
	in_err 'function "nosuch" does not exist'
}

functions-delete() {
	run fn delete hello; want_rc 0
	run fn invoke hello; want_rc 1
	[ ! -e "$FERRY_DATA/functions/hello" ] || die "the function's directory is still there"
}

start_daemon || { echo "FAIL e2e functions-daemon-start"; tail -20 "$W/serve.log"; exit 1; }
check functions-create-and-invoke
check functions-error-exits-1
check functions-publish-versions
check functions-alias-deploy-and-rollback
check functions-logs
check functions-refusals
check functions-delete
stop_daemon
# the `ferry __invoke` children write to the daemon's log: a sanitizer report there fails
if grep -q "ERROR: AddressSanitizer\|runtime error:" "$W/serve.log"; then
	echo "FAIL e2e functions-no-sanitizer-reports"
	grep -A5 "ERROR: AddressSanitizer\|runtime error:" "$W/serve.log" | head -20 | sed 's/^/    /'
else
	echo "ok   e2e functions-no-sanitizer-reports"
fi
