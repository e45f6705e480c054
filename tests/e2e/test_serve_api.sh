#!/usr/bin/env bash
# `ferry serve` and its API, driven through the real binary, curl and the ferry
# commands: health, tokens and scopes (401/403), pipelines from YAML, a malformed
# declaration, and a clean stop on SIGTERM. Prints "ok   e2e serve-..." or
# "FAIL e2e serve-..." per check.
set -u
. "$(dirname "$0")/serve_lib.sh"

# api METHOD PATH [TOKEN] [BODY-FILE] — the answer's body in $OUT, its status in $STATUS
api() {
	local args=(-s -o "$OUT" -w '%{http_code}' -X "$1" "$URL$2")
	[ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
	[ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "@$4")
	STATUS=$(curl "${args[@]}")
}
# A real repository with one commit, and a pipeline that builds it.
REPO=$W/site.git
setup_repo() {
	new_repo index.html hello "first page"
	local env='[{"name": "GREETING", "value": "#{variables.GREETING}"}]'
	VARIABLES='{name: GREETING, defaultValue: hello}' pipeline_yml site CodeStarSourceConnection \
		"{FullRepositoryId: acme/site, BranchName: main, RepositoryUrl: $REPO}" \
		Compile "{ProjectName: site-build, EnvironmentVariables: '$env'}" \
		'cat index.html' 'echo "greeting=$GREETING"' >"$W/site.yml"
}

serve-starts-and-writes-url() {
	[ -n "$URL" ] || die "no daemon.url after 15 s; daemon log: $(cat "$W/serve.log")"
	[[ "$URL" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || die "daemon.url holds '$URL'"
	[ "$(stat -c %a "$FERRY_DATA/admin.token")" = 600 ] || die "admin.token is not mode 600"
	grep -qF "admin token written to $FERRY_DATA/admin.token" "$W/serve.log" ||
		die "first start did not say where the admin token is"
}

serve-health-needs-no-token() {
	api GET /api/health
	want_status 200
	[ "$(jfield 'r["status"]')" = ok ] || die "status is not ok"
}

serve-401-without-or-with-bad-token() {
	api GET /api/pipelines
	want_status 401
	[ "$(jfield 'r["error"]["code"]')" = unauthorized ] || die "code is not unauthorized"
	jfield 'r["error"]["message"]' | grep -q '"read" scope' || die "message does not name the scope"
	api GET /api/pipelines ferry_0000000000000000000000000000000000000000000
	want_status 401
	jfield 'r["error"]["message"]' | grep -q 'unknown token' || die "bad token not called unknown"
	# the CLI says the same, exit status 1
	FERRY_TOKEN=ferry_bogus run pipeline list
	want_rc 1 && in_err 'ferry: unknown token'
}

serve-token-create-list-revoke() {
	run token create reader --scopes read
	want_rc 0 && in_err 'shown only this once' || return 1
	READER=$(cat "$OUT")
	[[ "$READER" == ferry_* ]] || die "token create printed '$READER'"
	echo "$READER" >"$W/reader.token"
	run token create reader --scopes read
	want_rc 1 && in_err 'exists already' || return 1
	run token list
	want_rc 0 && in_out reader && in_out admin.token || return 1
	! grep -qF "$READER" "$OUT" || die "token list printed a token"
	run token create doomed --scopes start
	want_rc 0 || return 1
	local doomed; doomed=$(cat "$OUT")
	run token revoke doomed
	want_rc 0 && in_err 'revoked' || return 1
	api GET /api/pipelines "$doomed"
	want_status 401
	jfield 'r["error"]["message"]' | grep -q 'revoked' || die "a revoked token is not called revoked"
}

serve-pipeline-create-from-yaml() {
	run pipeline create "$W/site.yml" --no-start
	want_rc 0 && in_err 'pipeline "site" created, version 1' || return 1
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["pipeline"]["name"]=="site", d' "$OUT" ||
		die "create did not print the stored declaration as JSON"
	run pipeline get site
	want_rc 0 && in_out '"ProjectName": "site-build"' && in_out '"version": 1' || return 1
	! grep -q metadata "$OUT" || die "get without --json printed metadata"
	run pipeline get site --json
	in_out '"pipelineArn"' || return 1
	run pipeline list
	want_rc 0 || return 1
	grep -qE '^site +1 +V2 +SUPERSEDED ' "$OUT" || die "list lacks the site row"
}

serve-403-read-token-cannot-start() {
	local reader; reader=$(cat "$W/reader.token")
	echo '{}' >"$W/empty.json"
	api POST /api/pipelines/site/executions "$reader" "$W/empty.json"
	want_status 403
	[ "$(jfield 'r["error"]["code"]')" = forbidden ] || die "code is not forbidden"
	jfield 'r["error"]["message"]' | grep -q '"start" scope' || die "403 does not name the start scope"
	# and reading works with it
	api GET /api/pipelines/site "$reader"
	want_status 200
	FERRY_TOKEN=$reader run pipeline start site
	want_rc 1 && in_err 'lacks the "start" scope'
}

serve-malformed-pipeline-400() {
	cat >"$W/broken.yml" <<'Y'
pipeline:
  name: broken
  stages:
    - name: Source
      actions:
        - name: Checkout
          actionTypeId: {category: Source, owner: AWS, provider: CodeStarSourceConnection, version: "1"}
          configuration:
            FullRepositoryId: acme/site
            Branch: main
          outputArtifacts: [{name: src}]
    - name: Build
      actions:
        - name: Compile
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration: {ProjectName: b}
          inputArtifacts: [{name: src}]
Y
	run pipeline create "$W/broken.yml"
	want_rc 1 || return 1
	grep -qE 'ferry: broken\.yml:10:[0-9]+: stages\[0\]\.actions\[0\]\.configuration' "$ERR" ||
		die "error does not name broken.yml, line 10 and the field"
	in_err 'Branch' || return 1
	api POST '/api/pipelines?filename=broken.yml' "$ADMIN" "$W/broken.yml"
	want_status 400
	run pipeline get broken
	want_rc 1 && in_err 'broken'
}

serve-start-and-read-execution() {
	run pipeline start site --var GREETING=hi
	want_rc 0 || return 1
	local id; id=$(cat "$OUT")
	[[ "$id" =~ ^[0-9a-f-]{36}$ ]] || die "start printed '$id', not an execution id"
	for _ in $(seq 600); do
		run pipeline execution site "$id" --json
		jfield 'r["pipelineExecution"]["status"]' | grep -qE '^(Succeeded|Failed|Stopped)$' && break
		sleep 0.1
	done
	run pipeline execution site "$id"
	want_rc 0 && in_out "execution $id" && in_out 'Compile' || return 1
	grep -qE '^status +Succeeded' "$OUT" || die "execution did not succeed"
	run pipeline executions site
	want_rc 0 && in_out "$id" || return 1
	run pipeline state site
	want_rc 0 && in_out 'Checkout' && in_out 'Compile' || return 1
	run logs "$id" Compile
	want_rc 0 && in_out 'hello' && in_out 'greeting=hi'
}

serve-update-checks-the-name() {
	sed 's/    - {name: GREETING, defaultValue: hello}/    - {name: GREETING, defaultValue: howdy}/' "$W/site.yml" >"$W/site2.yml"
	run pipeline update "$W/site2.yml"
	want_rc 0 && in_err 'pipeline "site" updated, version 2' || return 1
	run pipeline get site --version 1
	want_rc 0 && in_out '"defaultValue": "hello"' || return 1
	run pipeline get site
	in_out '"defaultValue": "howdy"' || return 1
	# PUT names the pipeline in its path: a body naming another one is refused
	sed 's/^  name: site$/  name: other/' "$W/site2.yml" >"$W/other.yml"
	api PUT '/api/pipelines/site?filename=other.yml' "$ADMIN" "$W/other.yml"
	want_status 400
	jfield 'r["error"]["message"]' | grep -q '"other" is not the pipeline addressed' ||
		die "400 does not explain the name mismatch"
	api GET /api/pipelines/other "$ADMIN"
	want_status 404
}

serve-usage-errors() {
	run pipeline
	want_rc 2 && in_err 'usage: ferry pipeline' || return 1
	run pipeline retry site Build
	want_rc 2 && in_err 'missing EXECUTION' || return 1
	run pipeline get site --rotate
	want_rc 2 && in_err '--rotate does not go with `ferry pipeline get`' || return 1
	run pipeline disable-transition site Build
	want_rc 2 && in_err '--reason' || return 1
	run serve --max-builds lots
	want_rc 2
}

serve-unknown-pipeline-404() {
	run pipeline state nosuch
	want_rc 1 && in_err 'ferry: ' && in_err 'nosuch' || return 1
	api GET /api/pipelines/nosuch "$ADMIN"
	want_status 404
}

# SIGTERM is sent from the main shell (the daemon is its child): see the end.
serve-sigterm-exits-0() {
	local rc; rc=$(cat "$W/serve.rc")
	[ "$rc" = 0 ] || die "daemon exited with $rc after SIGTERM; log: $(tail -20 "$W/serve.log")"
	grep -qF 'ferry: stopped' "$W/serve.log" || die "the daemon did not say it stopped"
	[ ! -e "$FERRY_DATA/daemon.url" ] || die "daemon.url left behind"
	run pipeline list
	want_rc 1 && in_err 'is `ferry serve` running?'
}

sigterm_daemon() {
	kill -TERM "$DAEMON_PID"
	(sleep 30 && kill -KILL "$DAEMON_PID" 2>/dev/null) &
	local watchdog=$! rc=0
	wait "$DAEMON_PID" || rc=$?
	kill "$watchdog" 2>/dev/null
	echo "$rc" >"$W/serve.rc"
	DAEMON_PID=
}

setup_repo
start_daemon
for t in serve-starts-and-writes-url serve-health-needs-no-token \
	serve-401-without-or-with-bad-token serve-token-create-list-revoke \
	serve-pipeline-create-from-yaml serve-403-read-token-cannot-start \
	serve-malformed-pipeline-400 serve-start-and-read-execution serve-update-checks-the-name \
	serve-usage-errors \
	serve-unknown-pipeline-404; do
	check "$t"
done
sigterm_daemon
check serve-sigterm-exits-0
