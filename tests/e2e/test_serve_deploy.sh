#!/usr/bin/env bash
# appspec deployments through a real daemon: a pipeline Source -> Deploy(CodeDeploy)
# against an in-place group on a temporary directory goes green with the files in
# place and the hooks run; `ferry deploy get` shows the lifecycle events; a revision
# pushed with `ferry deploy push` whose ValidateService fails is rolled back.
# Prints "ok   e2e deploy-..." or "FAIL e2e deploy-..." per check.
set -u
. "$(dirname "$0")/serve_lib.sh"
TARGET=$W/target
REPO=$W/app.git
CLONE=$W/app

# last_execution_status PIPELINE
last_execution_status() {
	"$FERRY" pipeline executions "$1" --json 2>/dev/null |
		python3 -c 'import json,sys; s=json.load(sys.stdin)["pipelineExecutionSummaries"]; print(s[0]["status"] if s else "")'
}

deploy-group-create() {
	run deploy group create web prod --target "$TARGET"; want_rc 0
	in_out "deployment group web/prod created (in-place, CodeDeployDefault.OneAtATime)"
	run deploy group create web prod --target "$TARGET"; want_rc 1
	in_err "exists already"
	run deploy group create web bad --config CodeDeployDefault.Fast --target "$TARGET"; want_rc 1
	in_err "is not a configuration ferry knows"
	run deploy group list; want_rc 0
	in_out "prod"
}

deploy-pipeline-codedeploy() {
	new_repo appspec.yml "version: 0.0" "first"
	(cd "$CLONE" && mkdir -p scripts www &&
		printf 'version: 0.0\nos: linux\nfiles:\n  - source: www\n    destination: /srv/www\nhooks:\n  AfterInstall:\n    - location: scripts/mark.sh\n      timeout: 30\n  ValidateService:\n    - location: scripts/mark.sh\n' >appspec.yml &&
		printf '#!/bin/sh\necho "hook $LIFECYCLE_EVENT $DEPLOYMENT_ID"\necho "$LIFECYCLE_EVENT" >> "$FERRY_TARGET_ROOT/events"\n' >scripts/mark.sh &&
		chmod +x scripts/mark.sh && echo "from git" >www/index.html &&
		git add -A && git commit -qm "app" && git push -q origin main) || die "git failed"
	{ source_yml app app; cat <<Y; } >"$W/app.yml"
    - name: Deploy
      actions:
        - name: Install
          actionTypeId: {category: Deploy, owner: AWS, provider: CodeDeploy, version: "1"}
          configuration: {ApplicationName: web, DeploymentGroupName: prod}
          inputArtifacts: [{name: src}]
Y
	run pipeline create "$W/app.yml"; want_rc 0
	local status=""
	for _ in $(seq 300); do
		status=$(last_execution_status app)
		case "$status" in Succeeded | Failed | Stopped) break ;; esac
		sleep 0.1
	done
	[ "$status" = Succeeded ] || die "the execution is $status: $(tail -20 "$W/serve.log")"
	[ "$(cat "$TARGET/srv/www/index.html" 2>/dev/null)" = "from git" ] || die "index.html is not in place"
	[ "$(cat "$TARGET/events")" = "$(printf 'AfterInstall\nValidateService')" ] || die "hooks: $(cat "$TARGET/events")"
	run logs "$(run pipeline executions app --json; jfield 'r["pipelineExecutionSummaries"][0]["pipelineExecutionId"]')" Install
	in_out "hook ValidateService d-" || return 1
	in_out "Succeeded (1 target)"
}

deploy-get-shows-events() {
	run deploy list web prod --json; want_rc 0
	local id; id=$(jfield 'r["deployments"][0]["deploymentId"]')
	[ "$(jfield 'r["deployments"][0]["creator"]')" = pipeline ] || die "creator is not pipeline"
	run deploy get "$id"; want_rc 0
	in_out "status:      Succeeded"
	in_out "ApplicationStop" && in_out "Skipped" || return 1
	grep -qE 'ValidateService +Succeeded .*scripts/mark.sh' "$OUT" || die "no ValidateService row"
	run deploy log "$id"; want_rc 0
	in_out "hook AfterInstall $id"
}

deploy-push-failure-rolls-back() {
	mkdir -p "$W/bad/www" "$W/bad/s"
	printf 'version: 0.0\nos: linux\nfiles:\n  - source: www\n    destination: /srv/www\nhooks:\n  ValidateService:\n    - location: s/fail.sh\n' >"$W/bad/appspec.yml"
	printf '#!/bin/sh\necho broken; exit 4\n' >"$W/bad/s/fail.sh"
	echo "broken" >"$W/bad/www/index.html"
	echo "new" >"$W/bad/www/new.html"
	run deploy push web prod "$W/bad" --wait; want_rc 1
	in_out "ValidateService failed on target $TARGET" || return 1
	in_out "exit code 4" && in_out "rolled back to deployment d-" || return 1
	[ "$(cat "$TARGET/srv/www/index.html")" = "from git" ] || die "the good index.html is not back"
	[ ! -e "$TARGET/srv/www/new.html" ] || die "the failed revision's new file is still there"
	run deploy list web prod --json; want_rc 0
	[ "$(jfield 'r["deployments"][0]["creator"]')" = codeDeployRollback ] || die "no rollback deployment"
	[ "$(jfield 'r["deployments"][0]["status"]')" = Succeeded ] || die "the rollback did not succeed"
}

deploy-push-dir-keeps-execute-bits() {
	mkdir -p "$W/good/www"
	printf 'version: 0.0\nos: linux\nfiles:\n  - source: www\n    destination: /srv/www\n' >"$W/good/appspec.yml"
	printf '#!/bin/sh\necho tool\n' >"$W/good/www/tool.sh"
	chmod 755 "$W/good/www/tool.sh"
	echo "good" >"$W/good/www/index.html"
	run deploy push web prod "$W/good" --wait; want_rc 0
	[ -x "$TARGET/srv/www/tool.sh" ] || die "tool.sh lost its execute bit: $(ls -l "$TARGET/srv/www")"
	[ ! -x "$TARGET/srv/www/index.html" ] || die "index.html became executable"
}

deploy-unknown-group() {
	run deploy push web nope "$W/bad"; want_rc 1
	in_err 'deployment group "nope" of application "web" does not exist'
	run deploy get d-NOTTHERE1; want_rc 1
	in_err "does not exist"
}

start_daemon || die "the daemon did not start: $(tail -5 "$W/serve.log")"
for t in deploy-group-create deploy-pipeline-codedeploy deploy-get-shows-events \
	deploy-push-failure-rolls-back deploy-push-dir-keeps-execute-bits deploy-unknown-group; do
	check "$t"
done
