#!/usr/bin/env bash
# The browser suite: ferry's web UI in Debian's chromium (headless) driven by
# playwright-core (tests/browser/node_modules, installed by
# scripts/install-browser-deps.sh). This script makes the fixture — a daemon
# (`$FERRY serve` on 127.0.0.1, its own data directory, stopped by PID at the end), a bare
# repository with ferry's hook, pipelines (a push-started build, a manual approval, a
# failing build, a slow build to stop), a site, a function and tokens — then runs
# ui.test.mjs against it. The daemon's PID is kept in $W/daemon.pid: the restart check
# (ui.test.mjs) stops it and starts another on the same ports, writing the new PID there.
# Prints "ok   browser NAME" / "FAIL browser NAME" per check and, last, screenshots of
# every page in tests/out/browser/.
# Usage: FERRY=build/san/ferry tests/browser/run.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${FERRY:=$ROOT/build/san/ferry}"
export FERRY
export SHOTS=${SHOTS:-$ROOT/tests/out/browser}
WORK_DIR=$(mktemp -d /tmp/ferry-browser.XXXXXX)
. "$ROOT/tests/e2e/serve_lib.sh"
stop_restarted() { # the daemon ui.test.mjs started, if any (by its PID, from daemon.pid)
	local pid
	pid=$(cat "$W/daemon.pid" 2>/dev/null)
	[ -n "$pid" ] && [ "$pid" != "$DAEMON_PID" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
}
trap 'stop_daemon; stop_restarted; rm -rf "$WORK_DIR"' EXIT

fail_setup() {
	echo "FAIL browser setup: $*"
	tail -20 "$W/serve.log" 2>/dev/null | sed 's/^/    | /'
	exit 1
}
[ -x /usr/bin/chromium ] || fail_setup "/usr/bin/chromium is missing (scripts/install-deps.sh)"
"$ROOT/scripts/install-browser-deps.sh" || fail_setup "playwright-core is not installed"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/FAIL-*.png

# the repository: its first commit, ferry's hook (a push starts the pipelines on it)
# (shop builds branch main; broken and gated build branch release, so that a push to
# main starts shop alone)
REPO=$W/shop.git
new_repo shop.txt one "first commit"
git -C "$CLONE" push -q origin main:release || fail_setup "git push of branch release"
# (with the sanitizers' build, freed memory is reused at once — no quarantine — so that
# the daemon's resident size measures what it holds, for the many-tabs check)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:quarantine_size_mb=0"
start_daemon --no-sandbox || fail_setup "the daemon did not start"
run hook install "$REPO"
[ "$RC" = 0 ] || fail_setup "hook install: $(cat "$ERR")"

# shop: pushed to, builds; broken: its build fails on a named command
{
	source_yml shop shop
	cat <<'Y'
    - name: Build
      actions:
        - name: Compile
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration: {ProjectName: shop-build}
          inputArtifacts: [{name: src}]
projects:
  shop-build:
    buildspec: |
      version: 0.2
      phases: {build: {commands: ["echo building $(cat shop.txt)"]}}
Y
} >"$W/shop.yml"
{
	source_yml broken shop | sed 's/BranchName: main/BranchName: release/'
	cat <<'Y'
    - name: Build
      actions:
        - name: Compile
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration: {ProjectName: broken-build}
          inputArtifacts: [{name: src}]
projects:
  broken-build:
    buildspec: |
      version: 0.2
      phases: {build: {commands: ["echo about to fail", "printf '\\033[31mred\\033[0m\\n'", "sleep 1.5", "ferry_missing_tool --frobnicate"]}}
Y
} >"$W/broken.yml"
# gated: waits for a manual approval between its source and its build
{
	source_yml gated shop | sed 's/BranchName: main/BranchName: release/'
	cat <<'Y'
    - name: Gate
      actions:
        - name: Review
          actionTypeId: {category: Approval, owner: AWS, provider: Manual, version: "1"}
          configuration: {CustomData: "Ship <b>it</b>?", ExternalEntityLink: "http://127.0.0.1/review"}
    - name: Deploy
      actions:
        - name: Ship
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration: {ProjectName: gated-build}
          inputArtifacts: [{name: src}]
projects:
  gated-build:
    buildspec: |
      version: 0.2
      phases: {build: {commands: ["echo shipped"]}}
Y
} >"$W/gated.yml"
# slow: a build that runs long enough to be stopped from the page
{
	source_yml slow shop | sed 's/BranchName: main/BranchName: release/'
	cat <<'Y'
    - name: Build
      actions:
        - name: Crawl
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration: {ProjectName: slow-build}
          inputArtifacts: [{name: src}]
projects:
  slow-build:
    buildspec: |
      version: 0.2
      phases: {build: {commands: ["echo crawling", "sleep 30"]}}
Y
} >"$W/slow.yml"
for p in shop broken gated slow; do
	run pipeline create "$W/$p.yml" --no-start
	[ "$RC" = 0 ] || fail_setup "pipeline create $p: $(cat "$ERR")"
done
run pipeline start broken
[ "$RC" = 0 ] || fail_setup "pipeline start broken: $(cat "$ERR")"

# a site with two releases, a function with an invocation (for their pages)
mkdir -p "$W/site1" "$W/site2" "$W/fn"
echo one >"$W/site1/index.html"
echo two >"$W/site2/index.html"
run site create docs --host docs.example.test && run site deploy docs "$W/site1" &&
	run site deploy docs "$W/site2" || fail_setup "site: $(cat "$ERR")"
printf 'exports.handler = async (e) => { console.log("hello from fn"); return {n: e.n}; };\n' >"$W/fn/index.js"
run fn create hello --runtime nodejs20.x --handler index.handler --dir "$W/fn" &&
	run fn invoke hello --payload '{"n": 1}' || fail_setup "function: $(cat "$ERR")"

# tokens: one that may do everything a person does in the UI, one that may only read
token_of() { grep -o 'ferry_[A-Za-z0-9_-]*' "$OUT" | head -1; }
run token create operator --scopes read,start,approve
[ "$RC" = 0 ] || fail_setup "token create: $(cat "$ERR")"
OPERATOR=$(token_of)
run token create reader --scopes read
[ "$RC" = 0 ] || fail_setup "token create --scopes read: $(cat "$ERR")"
READER=$(token_of)
[ -n "$OPERATOR" ] && [ -n "$READER" ] || fail_setup "no token printed"

echo "$DAEMON_PID" >"$W/daemon.pid"
export URL OPERATOR READER CLONE REPO W FERRY_DATA
timeout 120 node "${TEST_JS:-$HERE/ui.test.mjs}" | tee "$W/results.txt"
[ "${PIPESTATUS[0]}" = 124 ] && echo "FAIL browser suite: timed out after 120 s"
if grep -q '^FAIL' "$W/results.txt"; then
	echo "    --- daemon log (last 15 lines):"
	tail -15 "$W/serve.log" | sed 's/^/    | /'
fi
exit 0
