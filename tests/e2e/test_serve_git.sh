#!/usr/bin/env bash
# The git side of `ferry serve`: `ferry hook install` on a bare repository, a real
# `git push` into it that starts the pipeline, `ferry logs --follow` of an action
# while it runs, and a push while the daemon is down, which must still succeed.
# Prints "ok   e2e hook-..." / "FAIL e2e hook-..." (and logs-...) per check.
set -u
. "$(dirname "$0")/serve_lib.sh"

# executions_of PIPELINE — the number of its executions
executions_of() {
	"$FERRY" pipeline executions "$1" --json 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["pipelineExecutionSummaries"]))'
}

REPO=$W/shop.git
setup() {
	new_repo shop.txt one first
	pipeline_yml shop CodeCommit "{RepositoryName: shop, BranchName: main, RepositoryUrl: $REPO}" \
		Slow '{ProjectName: shop-build}' 'echo "building $(cat shop.txt)"' \
		'if [ -f slow ]; then sleep 3; fi' 'echo "finished-after-sleep"' >"$W/shop.yml"
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
