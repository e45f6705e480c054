#!/bin/sh
# `make demo`: runs ferry's main job on its embedded defaults — a real build of the
# example static site (examples/static-site) in a scratch copy, in the sandbox when
# bubblewrap is installed, then shows the artifact it produced; then runs the same
# site through a pipeline on `ferry serve`: a push to a repository the daemon keeps
# starts Source → Build.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$ROOT/build/demo # kept after the demo, so its result can be looked at
rm -rf "$WORK" && mkdir -p "$WORK"
cp -a "$ROOT/examples/static-site" "$WORK/site-src"
cd "$WORK/site-src"
git init -q -b main . && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm "demo site"
export FERRY_DATA="$WORK/data"
echo "== ferry build  (source: examples/static-site, a copy in $WORK/site-src)"
"$ROOT/build/ferry" build --project static-site -a "$WORK/out" --json "$WORK/result.json"
echo
echo "== the artifact: $WORK/out/artifacts.zip"
unzip -l "$WORK/out/artifacts.zip"
echo "the machine-readable result: $WORK/result.json"

# Then the same site through a pipeline: the daemon, a repository it keeps, the
# post-receive hook, a push, and the execution it starts (Source → Build).
echo
echo "== ferry serve: a pipeline on the same site"
FERRY="$ROOT/build/ferry"
DATA="$WORK/data"
"$FERRY" serve --data "$DATA" --listen 127.0.0.1:0 --edge 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
trap 'kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null' EXIT
i=0
while [ ! -s "$DATA/daemon.url" ]; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$WORK/serve.log"; exit 1; }
	sleep 0.05
done
echo "daemon at $(cat "$DATA/daemon.url") (log: $WORK/serve.log)"
git init -q --bare -b main "$DATA/repos/static-site.git"
"$FERRY" hook install "$DATA/repos/static-site.git" --data "$DATA"
"$FERRY" pipeline create "$ROOT/examples/static-site/pipeline.yml" --no-start --data "$DATA" >/dev/null
echo "pipeline static-site created from examples/static-site/pipeline.yml; pushing main"
cd "$WORK/site-src"
git push -q "$DATA/repos/static-site.git" main
# the push started an execution: wait for it to finish
id=""
i=0
while :; do
	id=$("$FERRY" pipeline executions static-site --json --data "$DATA" |
		python3 -c 'import json,sys; s=json.load(sys.stdin)["pipelineExecutionSummaries"]; print(s[0]["pipelineExecutionId"] if s and s[0]["status"] not in ("InProgress","Stopping") else "")')
	[ -n "$id" ] && break
	i=$((i + 1)); [ $i -lt 1200 ] || { echo "the execution did not finish"; exit 1; }
	sleep 0.1
done
"$FERRY" pipeline state static-site --data "$DATA"
echo
echo "== its build log (ferry logs $id Build)"
"$FERRY" logs "$id" Build --data "$DATA" | tail -15
