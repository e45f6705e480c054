#!/usr/bin/env bash
# Invoke (Lambda) actions against a real daemon (../shared/spec/pipeline.md §5): a node
# function answers its job with fetch() to FERRY_URL, authorised by the job's own
# secret from its event; the execution goes green and a later build reads the
# function's output variable. A wrong secret is refused (401), a second answer is
# InvalidJobStateException, and PutJobFailureResult fails the execution with its
# message; the built-in ferry:invalidate invalidates a site without a function.
# Prints "ok   e2e invoke-..." per check.
set -u
. "$(dirname "$0")/serve_lib.sh"
REPO=$W/repo.git
new_repo index.html hello first

# api METHOD PATH TOKEN [BODY] — the answer's body in $OUT, its status in $STATUS
api() {
	local args=(-s -o "$OUT" -w '%{http_code}' -X "$1" "$URL$2" -H "Authorization: Bearer $3")
	[ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	STATUS=$(curl "${args[@]}")
}

mkdir -p "$W/fn"
cat >"$W/fn/index.js" <<'JS'
exports.handler = async (event) => {
  const job = event['CodePipeline.job'];
  const params = JSON.parse(job.data.actionConfiguration.configuration.UserParameters || '{}');
  const verb = params.fail ? 'failure' : 'success';
  const body = params.fail
    ? {failureDetails: {type: 'JobFailed', message: 'told to fail'}}
    : {outputVariables: {Answer: '42'}, executionDetails: {summary: 'answered by ' + process.env.AWS_LAMBDA_FUNCTION_NAME}};
  const res = await fetch(process.env.FERRY_URL + '/api/jobs/' + job.id + '/' + verb, {
    method: 'POST',
    headers: {'Authorization': 'Bearer ' + job.data.artifactCredentials.secretAccessKey,
              'Content-Type': 'application/json'},
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error('answer refused: ' + res.status + ' ' + await res.text());
  console.log('answered job ' + job.id);
  return 'ok';
};
JS

# invoke_yml NAME USER-PARAMETERS — Source, then Call (the function), then a build
# that prints the function's output variable
invoke_yml() {
	source_yml "$1"
	cat <<Y
    - name: Invoke
      actions:
        - name: Call
          actionTypeId: {category: Invoke, owner: AWS, provider: Lambda, version: "1"}
          configuration: {FunctionName: answer, UserParameters: '$2'}
          inputArtifacts: [{name: src}]
          namespace: Ans
    - name: Report
      actions:
        - name: Report
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration:
            ProjectName: $1-report
            EnvironmentVariables: '[{"name": "ANSWER", "value": "#{Ans.Answer}"}]'
          inputArtifacts: [{name: src}]
projects:
  $1-report:
    buildspec: |
      version: 0.2
      phases: {build: {commands: ['echo "answer=\$ANSWER"']}}
Y
}

invoke-function-answers-and-the-pipeline-goes-green() {
	run fn create answer --runtime nodejs20.x --handler index.handler --dir "$W/fn"; want_rc 0
	invoke_yml green '{}' >"$W/green.yml"
	run pipeline create "$W/green.yml" --no-start; want_rc 0
	run pipeline start green; want_rc 0
	local id; id=$(tr -d '[:space:]' <"$OUT")
	wait_status green "$id" Succeeded
	run logs "$id" Call; in_out "answered job"
	run logs "$id" Report; in_out "answer=42"
	run pipeline state green --json
	[ "$(jfield "[a for s in r['stageStates'] for a in s['actionStates'] if a['actionName']=='Call'][0]['latestExecution']['summary']")" = "answered by answer" ] ||
		die "summary: $(cat "$OUT")"
}

job-secret-is-checked-and-a-second-answer-refused() {
	local id job
	run pipeline executions green --json
	id=$(jfield "r['pipelineExecutionSummaries'][0]['pipelineExecutionId']")
	run logs "$id" Call
	job=$(grep -o 'answered job [0-9a-f-]*' "$OUT" | head -1 | cut -d' ' -f3)
	[ -n "$job" ] || die "no job id in the log"
	api POST "/api/jobs/$job/success" not-the-secret '{}'; want_status 401
	api GET "/api/jobs/$job" "$ADMIN"; want_status 200
	[ "$(jfield "r['jobDetails']['data']['pipelineContext']['action']['name']")" = Call ] || die "no pipelineContext"
	[ "$(jfield "'artifactCredentials' in r['jobDetails']['data']")" = False ] || die "credentials of an ended job shown"
	api POST "/api/jobs/$job/success" "$ADMIN" '{}'; want_status 400
	[ "$(jfield "r['error']['code']")" = InvalidJobStateException ] || die "code: $(cat "$OUT")"
	api POST "/api/jobs/00000000-0000-4000-8000-000000000000/success" "$ADMIN" '{}'; want_status 400
	[ "$(jfield "r['error']['code']")" = JobNotFoundException ] || die "code: $(cat "$OUT")"
}

failure-result-fails-the-execution-with-its-message() {
	invoke_yml red '{"fail": true}' >"$W/red.yml"
	run pipeline create "$W/red.yml" --no-start; want_rc 0
	run pipeline start red; want_rc 0
	local id; id=$(tr -d '[:space:]' <"$OUT")
	wait_status red "$id" Failed
	in_out "told to fail"
}

ferry-invalidate-needs-no-function() {
	run site create docs; want_rc 0
	{ source_yml purge; cat <<Y; } >"$W/inv.yml"
    - name: Edge
      actions:
        - name: Invalidate
          actionTypeId: {category: Invoke, owner: AWS, provider: Lambda, version: "1"}
          configuration: {FunctionName: "ferry:invalidate", UserParameters: '{"site": "docs"}'}
Y
	run pipeline create "$W/inv.yml" --no-start; want_rc 0
	run pipeline start purge; want_rc 0
	local id; id=$(tr -d '[:space:]' <"$OUT")
	wait_status purge "$id" Succeeded
	run logs "$id" Invalidate; in_out "Invalidated 1 path(s) on site docs ("
}

start_daemon --no-sandbox || { echo "FAIL e2e invoke: the daemon did not start"; exit 0; }
check invoke-function-answers-and-the-pipeline-goes-green
check job-secret-is-checked-and-a-second-answer-refused
check failure-result-fails-the-execution-with-its-message
check ferry-invalidate-needs-no-function
