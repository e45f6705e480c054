#!/usr/bin/env bash
# Manual approvals through the CLI and the API of a real daemon: the execution waits
# in front of the build; a token with only the read scope is refused (403) and one
# with approve may answer; `ferry pipeline approve` lets the execution go on and
# `reject` fails it with the comment. Prints "ok   e2e approval-..." per check.
. "$(dirname "$0")/serve_lib.sh"
REPO=$W/repo.git
new_repo index.html hello first

{ source_yml gated; cat <<Y; } >"$W/approval.yml"
    - name: Gate
      actions:
        - name: Review
          actionTypeId: {category: Approval, owner: AWS, provider: Manual, version: "1"}
          configuration: {CustomData: "Ship it?"}
    - name: Build
      actions:
        - name: Build
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration: {ProjectName: gated-build}
          inputArtifacts: [{name: src}]
  executionMode: SUPERSEDED
projects:
  gated-build:
    buildspec: |
      version: 0.2
      phases: {build: {commands: ["echo shipped"]}}
Y

# wait_gate — until the Review approval waits (its token in the state)
wait_gate() {
	for _ in $(seq 300); do
		run pipeline state gated --json
		[ "$(jfield "[a for s in r['stageStates'] for a in s['actionStates'] if a['actionName']=='Review'][0].get('latestExecution',{}).get('token','')")" != "" ] && return 0
		sleep 0.1
	done
	die "no approval waits in Gate/Review"
}

approval_waits_and_read_scope_cannot_answer() {
	run pipeline create "$W/approval.yml"; want_rc 0
	wait_gate
	run token create reader --scopes read; want_rc 0
	local reader; reader=$(grep -o 'ferry_[A-Za-z0-9_-]*' "$OUT" | head -1)
	[ -n "$reader" ] || die "no token printed"
	FERRY_TOKEN=$reader "$FERRY" pipeline approve gated Gate Review >"$OUT" 2>"$ERR"; RC=$?
	want_rc 1
	in_err approve
}

approve_lets_the_execution_go_on() {
	local id; run pipeline executions gated --json; id=$(jfield "r['pipelineExecutionSummaries'][0]['pipelineExecutionId']")
	run pipeline approve gated Gate Review --comment "fine by me"; want_rc 0
	wait_status gated "$id" Succeeded
	run logs "$id" Build; in_out shipped
}

reject_fails_it_with_the_comment() {
	run pipeline start gated; want_rc 0
	local id; id=$(tr -d '[:space:]' <"$OUT")
	wait_gate
	run pipeline reject gated Gate Review; want_rc 2
	in_err "--comment"
	run pipeline reject gated Gate Review --comment "not today"; want_rc 0
	wait_status gated "$id" Failed
	in_out "not today"
}

start_daemon --no-sandbox || { echo "FAIL e2e approval: the daemon did not start"; exit 0; }
check approval_waits_and_read_scope_cannot_answer
check approve_lets_the_execution_go_on
check reject_fails_it_with_the_comment
