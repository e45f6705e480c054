#!/usr/bin/env bash
# The git side of `ferry serve`: `ferry hook install` on a bare repository, a real
# `git push` into it that starts the pipeline, `ferry logs --follow` of an action
# while it runs, and a push while the daemon is down, which must still succeed.
# Prints "ok   e2e hook-..." / "FAIL e2e hook-..." (and logs-...) per check.
set -u
: "${FERRY:?FERRY must name the binary under test}"
: "${WORK_DIR:=$(mktemp -d /tmp/ferry-e2e-git.XXXXXX)}"
W=$WORK_DIR
export HOME=$W/home FERRY_DATA=$W/data
unset XDG_DATA_HOME FERRY_URL FERRY_TOKEN
mkdir -p "$HOME"
OUT=$W/out.txt ERR=$W/err.txt
RC=0 DAEMON_PID=

stop_daemon() {
	if [ -n "$DAEMON_PID" ]; then
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_PID=
	fi
}
trap stop_daemon EXIT

start_daemon() {
	"$FERRY" serve --data "$FERRY_DATA" --listen 127.0.0.1:0 >>"$W/serve.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 300); do
		[ -s "$FERRY_DATA/daemon.url" ] && break
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
}

die() { echo "$*" >&2; exit 1; }
run() { "$FERRY" "$@" >"$OUT" 2>"$ERR" </dev/null; RC=$?; }
want_rc() { [ "$RC" = "$1" ] || die "exit status $RC, expected $1"; }
in_out() { grep -qF -- "$1" "$OUT" || die "stdout lacks: $1"; }
in_err() { grep -qF -- "$1" "$ERR" || die "stderr lacks: $1"; }

check() {
	local name=$1 why
	if why=$("$name" 2>&1); then
		echo "ok   e2e $name"
	else
		echo "FAIL e2e $name"
		printf '%s\n' "$why" | sed 's/^/    /'
		echo "    --- stdout:"; head -c 3000 "$OUT" | sed 's/^/    | /'
		echo "    --- stderr:"; head -c 3000 "$ERR" | sed 's/^/    | /'
		echo "    --- daemon log (last 15 lines):"; tail -15 "$W/serve.log" | sed 's/^/    | /'
	fi
}

# executions_of PIPELINE — the number of its executions
executions_of() {
	"$FERRY" pipeline executions "$1" --json 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["pipelineExecutionSummaries"]))'
}

# wait_status PIPELINE EXECUTION STATUS-REGEX — up to 60 s
wait_status() {
	for _ in $(seq 600); do
		"$FERRY" pipeline execution "$1" "$2" --json >"$W/ex.json" 2>/dev/null &&
			python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pipelineExecution"]["status"])' \
				"$W/ex.json" | grep -qE "^($3)\$" && return 0
		sleep 0.1
	done
	die "execution $2 never reached $3: $(cat "$W/ex.json")"
}

REPO=$W/shop.git
CLONE=$W/clone
setup() {
	git init -q --bare -b main "$REPO"
	git clone -q "$REPO" "$CLONE" 2>/dev/null
	(cd "$CLONE" && git config user.email e2e@ferry.test && git config user.name e2e &&
		echo one >shop.txt && git add shop.txt && git commit -qm "first" &&
		git push -q origin main) || exit 1
	cat >"$W/shop.yml" <<Y
pipeline:
  name: shop
  stages:
    - name: Source
      actions:
        - name: Checkout
          actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, version: "1"}
          configuration: {RepositoryName: shop, BranchName: main, RepositoryUrl: $REPO}
          outputArtifacts: [{name: src}]
    - name: Build
      actions:
        - name: Slow
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration: {ProjectName: shop-build}
          inputArtifacts: [{name: src}]
projects:
  shop-build:
    buildspec: |
      version: 0.2
      phases:
        build:
          commands:
            - echo "building \$(cat shop.txt)"
            - if [ -f slow ]; then sleep 3; fi
            - echo "finished-after-sleep"
Y
	run pipeline create "$W/shop.yml" --no-start || { cat "$ERR" >&2; exit 1; }
}

hook-install-refuses-foreign-hook() {
	printf '#!/bin/sh\necho mine\n' >"$REPO/hooks/post-receive"
	run hook install "$REPO"
	want_rc 1 && in_err 'is not ferry'"'"'s' && in_err '--force' || return 1
	grep -q 'echo mine' "$REPO/hooks/post-receive" || die "the foreign hook was changed"
	run hook install "$W"
	want_rc 1 && in_err 'not a bare git repository'
}

hook-install-writes-hook-and-token() {
	run hook install "$REPO" --force
	want_rc 0 && in_err 'hook installed' || return 1
	[ "$(stat -c %a "$REPO/hooks/post-receive")" = 755 ] || die "hook is not mode 755"
	[ "$(stat -c %a "$REPO/hooks/ferry.token")" = 600 ] || die "ferry.token is not mode 600"
	grep -qF "$(realpath "$FERRY")" "$REPO/hooks/post-receive" || die "hook lacks ferry's absolute path"
	run token list
	grep -qE ' hook:shop\.git +start ' "$OUT" || die "no start-scoped token hook:shop.git"
	# installing again replaces ferry's own hook and revokes its previous token
	local first; first=$(cat "$REPO/hooks/ferry.token")
	run hook install "$REPO"
	want_rc 0 || return 1
	[ "$(cat "$REPO/hooks/ferry.token")" != "$first" ] || die "reinstall kept the token"
	run token list
	[ "$(grep -cE ' hook:shop\.git .* live$' "$OUT")" = 1 ] || die "more than one live hook token"
}

hook-git-push-starts-pipeline() {
	local before; before=$(executions_of shop)
	(cd "$CLONE" && echo two >shop.txt && git commit -qam "second" &&
		git push origin main) >"$OUT" 2>"$ERR" || die "git push failed"
	in_err 'remote: ferry: pipeline shop: started execution' || return 1
	local id; id=$(sed -n 's/.*started execution \([0-9a-f-]*\).*/\1/p' "$ERR" | head -1)
	[ "$(executions_of shop)" = $((before + 1)) ] || die "no new execution"
	wait_status shop "$id" 'Succeeded|Failed'
	run logs "$id" Slow
	in_out 'building two' || return 1
	run pipeline triggers shop
	grep -qE "hook +refs/heads/main .* started +$id" "$OUT" || die "trigger list lacks the hook push"
}

logs-follow-running-action() {
	(cd "$CLONE" && touch slow && git add slow && git commit -qm "slow build" &&
		git push -q origin main) >"$OUT" 2>"$ERR" || die "git push failed"
	local id; id=$(sed -n 's/.*started execution \([0-9a-f-]*\).*/\1/p' "$ERR" | head -1)
	[ -n "$id" ] || die "the push started nothing"
	# wait until the build runs, then follow it to its end
	for _ in $(seq 600); do
		"$FERRY" pipeline state shop --json >"$W/state.json" 2>/dev/null
		python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
st=[a for g in s["stageStates"] for a in g["actionStates"] if a["actionName"]=="Slow"][0]
sys.exit(0 if st.get("latestExecution",{}).get("status")=="InProgress" else 1)' "$W/state.json" && break
		sleep 0.05
	done
	run logs "$id" Slow --follow
	want_rc 0 || return 1
	in_out 'building two' && in_out 'finished-after-sleep' || return 1
	# the whole execution, in order, each action under its header
	run logs "$id"
	want_rc 0 && in_out '==> Source / Checkout (Succeeded) <==' && in_out '==> Build / Slow' || return 1
	local a b
	a=$(grep -n '==> Source' "$OUT" | cut -d: -f1)
	b=$(grep -n '==> Build' "$OUT" | cut -d: -f1)
	[ "$a" -lt "$b" ] || die "actions not in the order they ran"
}

hook-push-with-daemon-down-succeeds() {
	(cd "$CLONE" && echo three >shop.txt && git commit -qam "third" &&
		timeout 30 git push origin main) >"$OUT" 2>"$ERR"
	local rc=$?
	[ "$rc" = 0 ] || die "git push failed (exit $rc) while the daemon was down"
	in_err 'warning: ferry did not get the push of refs/heads/main'
}

start_daemon
setup
for t in hook-install-refuses-foreign-hook hook-install-writes-hook-and-token \
	hook-git-push-starts-pipeline logs-follow-running-action; do
	check "$t"
done
stop_daemon
check hook-push-with-daemon-down-succeeds
