#!/bin/sh
# `make demo`: runs ferry's main job on its embedded defaults — a real build of the
# example static site (examples/static-site) in a scratch copy, in the sandbox when
# bubblewrap is installed, then shows the artifact it produced; then runs the same
# site through a pipeline on `ferry serve`: a push to a repository the daemon keeps
# starts Source → Build → Deploy → Invalidate, the edge serves the site from its
# CloudFront-like cache, and a second push changes it (the invalidation makes the new
# release visible).
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
# post-receive hook, a push, and the execution it starts (Source → Build → Deploy →
# Invalidate).
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
"$FERRY" site create static-site --cached --data "$DATA" >/dev/null
"$FERRY" pipeline create "$ROOT/examples/static-site/pipeline.yml" --no-start --data "$DATA" >/dev/null
echo "site static-site (cached at the edge, like CloudFront) and pipeline static-site"
echo "(Source → Build → Deploy → Invalidate) created; pushing main"
SITE_URL="$(cat "$DATA/edge.url")/static-site/"

# wait_done PREVIOUS-ID — until an execution newer than PREVIOUS-ID has finished; prints its id
wait_done() {
	i=0
	while :; do
		done_id=$("$FERRY" pipeline executions static-site --json --data "$DATA" |
			python3 -c 'import json,sys; s=json.load(sys.stdin)["pipelineExecutionSummaries"]; print(s[0]["pipelineExecutionId"] if s and s[0]["pipelineExecutionId"] != sys.argv[1] and s[0]["status"] not in ("InProgress","Stopping") else "")' "$1")
		[ -n "$done_id" ] && { echo "$done_id"; return 0; }
		i=$((i + 1)); [ $i -lt 1200 ] || { echo "the execution did not finish" >&2; exit 1; }
		sleep 0.1
	done
}
# show_page — the served page's title and first paragraph
show_page() {
	python3 -c 'import re,sys,urllib.request; t=urllib.request.urlopen(sys.argv[1]).read().decode(); print("   ", " | ".join(re.findall(r"<(?:title|h1|p)>(.*?)</", t)[:3]))' "$SITE_URL"
}

cd "$WORK/site-src"
git push -q "$DATA/repos/static-site.git" main
id=$(wait_done none)
"$FERRY" pipeline state static-site --data "$DATA"
echo
echo "== its build log (ferry logs $id Build)"
"$FERRY" logs "$id" Build --data "$DATA" | tail -6
echo
echo "== the site, served by the edge: $SITE_URL"
show_page

echo
echo "== a second push changes the page"
sed -i 's|</h1>|</h1>\n<p>Changed by a second push.</p>|' site/index.html
git -c user.name=demo -c user.email=demo@example.com commit -qam "a second version"
git push -q "$DATA/repos/static-site.git" main
id2=$(wait_done "$id")
"$FERRY" site releases static-site --data "$DATA"
echo "$SITE_URL now serves (the Invalidate stage cleared the edge's cached copy):"
show_page
"$FERRY" site invalidations static-site --data "$DATA" | head -4
echo "(while a daemon runs on $DATA: ferry site rollback static-site --data $DATA goes back to release 1)"
echo
echo "== URLs (valid while this daemon runs: \`DEMO_WAIT=1 make demo\` keeps it running until Ctrl-C)"
echo "   the site, at the edge:   $SITE_URL"
echo "   the daemon's API:        $(cat "$DATA/daemon.url")/api/  (token: $DATA/admin.token)"
if [ "${DEMO_WAIT:-}" = 1 ]; then
	echo "serving until Ctrl-C"
	wait "$SERVE_PID"
fi
