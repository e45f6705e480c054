#!/usr/bin/env bash
# POST /webhooks/{pipeline} against a real daemon: a delivery without or with a wrong
# X-Hub-Signature-256 gets 401 and starts nothing (trigger events and executions
# unchanged); a signed push starts the pipeline; the same delivery id again is a
# duplicate; ping is ignored; old Gitea's bare-hex X-Gitea-Signature works; an unknown
# pipeline is 404. Prints "ok   e2e webhook-..." or "FAIL e2e webhook-..." per check.
set -u
. "$(dirname "$0")/serve_lib.sh"

REPO=$W/app.git
setup() {
	new_repo app.txt v1 "add app"
	SHA=$(git --git-dir="$REPO" rev-parse main)
	pipeline_yml app CodeStarSourceConnection \
		"{FullRepositoryId: acme/app, BranchName: main, RepositoryUrl: $REPO}" Compile \
		'{ProjectName: app-build}' 'cat app.txt' >"$W/app.yml"
	run pipeline create "$W/app.yml" --no-start || exit 1
	run pipeline webhook-secret app
	SECRET=$(cat "$OUT")
	python3 - "$W" "$SHA" <<'P'
import json, sys
w, sha = sys.argv[1], sys.argv[2]
push = {"ref": "refs/heads/main", "before": "0" * 40, "after": sha,
        "repository": {"full_name": "acme/app", "clone_url": "https://forge.test/acme/app.git"},
        "pusher": {"name": "e2e"},
        "head_commit": {"id": sha, "message": "add app\n\nbody", "timestamp": "2024-05-01T12:00:00Z"},
        "commits": [{"id": sha, "message": "add app", "added": ["app.txt"], "modified": [], "removed": []}]}
open(w + "/push.json", "w").write(json.dumps(push))
open(w + "/ping.json", "w").write(json.dumps({"zen": "Keep it simple.", "hook_id": 7,
                                               "repository": {"full_name": "acme/app"}}))
P
}

# sign FILE → "sha256=<hex>" under $SECRET
sign() { python3 -c 'import hmac,hashlib,sys; print("sha256="+hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).hexdigest())' "$SECRET" "$1"; }

# deliver PIPELINE FILE EVENT DELIVERY [HEADER]... — as GitHub sends it
deliver() {
	local pipeline=$1 file=$2 event=$3 delivery=$4
	shift 4
	local args=(-s -o "$OUT" -w '%{http_code}' -X POST "$URL/webhooks/$pipeline"
		-H 'Content-Type: application/json' -H "X-GitHub-Event: $event"
		-H "X-GitHub-Delivery: $delivery" --data-binary "@$file")
	for h in "$@"; do args+=(-H "$h"); done
	STATUS=$(curl "${args[@]}")
}

counts() { # "<trigger events> <executions>"
	"$FERRY" pipeline triggers app --json >"$W/t.json" 2>"$W/t.err" ||
		die "pipeline triggers failed: $(cat "$W/t.err")"
	"$FERRY" pipeline executions app --json >"$W/e.json" 2>"$W/e.err" ||
		die "pipeline executions failed: $(cat "$W/e.err")"
	python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["triggerEvents"]),
		len(json.load(open(sys.argv[2]))["pipelineExecutionSummaries"]))' "$W/t.json" "$W/e.json"
}

webhook-missing-signature-401() {
	local before; before=$(counts)
	deliver app "$W/push.json" push d-missing
	want_status 401
	[ "$(jfield 'r["error"]["code"]')" = invalid_signature ] || die "code is not invalid_signature"
	jfield 'r["error"]["message"]' | grep -q 'nothing started' || die "401 does not say nothing started"
	[ "$(counts)" = "$before" ] || die "counts changed from '$before' to '$(counts)'"
}

webhook-bad-signature-401() {
	local before; before=$(counts)
	deliver app "$W/push.json" push d-bad "X-Hub-Signature-256: sha256=$(printf '0%.0s' $(seq 64))"
	want_status 401
	jfield 'r["error"]["message"]' | grep -q 'does not match' || die "401 does not say the signature differs"
	# a right signature over another body is just as wrong
	echo '{"ref": "refs/heads/evil"}' >"$W/other.json"
	deliver app "$W/push.json" push d-bad2 "X-Hub-Signature-256: $(sign "$W/other.json")"
	want_status 401
	[ "$(counts)" = "$before" ] || die "counts changed from '$before' to '$(counts)'"
	grep -q 'webhook delivery d-bad: .*nothing started' "$W/serve.log" ||
		die "the daemon's log does not record the refused delivery"
}

webhook-good-signature-starts() {
	deliver app "$W/push.json" push d-1 "X-Hub-Signature-256: $(sign "$W/push.json")"
	want_status 202
	[ "$(jfield 'r["events"][0]["outcome"]')" = started ] || die "outcome is not started"
	local id; id=$(jfield 'r["events"][0]["pipelineExecutionId"]')
	run pipeline executions app
	grep -qF "$id" "$OUT" || die "execution $id not listed"
	run pipeline triggers app
	grep -E "webhook +refs/heads/main +${SHA:0:8} +started +$id" "$OUT" >/dev/null ||
		die "trigger list lacks the started delivery: $(cat "$OUT")"
}

webhook-replay-is-duplicate() {
	local before; before=$(counts)
	deliver app "$W/push.json" push d-1 "X-Hub-Signature-256: $(sign "$W/push.json")"
	want_status 202
	[ "$(jfield 'r["events"][0]["outcome"]')" = duplicate ] || die "a replayed delivery was not a duplicate"
	local after; after=$(counts)
	[ "${after#* }" = "${before#* }" ] || die "a replay started an execution"
}

webhook-ping-ignored() {
	deliver app "$W/ping.json" ping d-ping "X-Hub-Signature-256: $(sign "$W/ping.json")"
	want_status 200
	[ "$(jfield 'r["status"]')" = ignored ] || die "ping not ignored"
}

webhook-gitea-bare-hex-signature() {
	local sig; sig=$(sign "$W/push.json")
	STATUS=$(curl -s -o "$OUT" -w '%{http_code}' -X POST "$URL/webhooks/app" \
		-H 'Content-Type: application/json' -H 'X-Gitea-Event: push' -H 'X-Gitea-Delivery: g-1' \
		-H "X-Gitea-Signature: ${sig#sha256=}" --data-binary "@$W/push.json")
	want_status 202
	[ "$(jfield 'r["events"][0]["outcome"]')" != "" ] || die "no outcome"
}

webhook-unknown-pipeline-404() {
	deliver nosuch "$W/push.json" push d-x "X-Hub-Signature-256: $(sign "$W/push.json")"
	want_status 404
}

webhook-secret-rotation() {
	local old=$SECRET
	run pipeline webhook-secret app --rotate
	want_rc 0 || return 1
	[ "$(cat "$OUT")" != "$old" ] || die "rotate kept the secret"
	deliver app "$W/push.json" push d-after-rotate "X-Hub-Signature-256: $(sign "$W/push.json")"
	want_status 401
}

start_daemon
setup
for t in webhook-missing-signature-401 webhook-bad-signature-401 webhook-good-signature-starts \
	webhook-replay-is-duplicate webhook-ping-ignored webhook-gitea-bare-hex-signature \
	webhook-unknown-pipeline-404 webhook-secret-rotation; do
	check "$t"
done
