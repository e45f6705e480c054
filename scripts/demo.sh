#!/bin/sh
# `make demo`: runs ferry's main job on its embedded defaults — a real build of the
# example static site (examples/static-site) in a scratch copy, in the sandbox when
# bubblewrap is installed, then shows the artifact it produced.
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
