# shellcheck shell=bash
# What the `ferry serve` scenarios (tests/e2e/test_serve_*.sh) share; each sources it
# first. Not a test itself: run.sh runs only test_*.sh. It provides
#  - the environment: $FERRY (required), $WORK_DIR (default: a fresh directory) and
#    $W for it, HOME and FERRY_DATA inside it, no FERRY_URL / FERRY_TOKEN /
#    XDG_DATA_HOME from outside; $OUT and $ERR, where the last command's output goes;
#  - start_daemon [SERVE-OPTION]... / stop_daemon: `ferry serve` on 127.0.0.1 in the
#    background ($DAEMON_PID; its output appended to $W/serve.log), $URL and $ADMIN
#    (the admin token) once it listens; stop_daemon also runs on exit;
#  - helpers for the checks, each a function run by `check NAME`, in a subshell, that
#    fails with a reason on stderr: die, run (a ferry command; its exit status in
#    $RC), want_rc, in_out, in_err, want_status (of the last HTTP answer, $STATUS),
#    jfield (a field of the JSON answer in $OUT);
#  - new_repo: the bare repository $REPO with a first commit, made in its clone $CLONE;
#  - pipeline_yml: a two-stage pipeline (Source, then a CodeBuild Build) as YAML.
set -u
: "${FERRY:?FERRY must name the binary under test}"
: "${WORK_DIR:=$(mktemp -d "/tmp/ferry-e2e-$(basename "$0" .sh).XXXXXX")}"
W=$WORK_DIR
export HOME=$W/home FERRY_DATA=$W/data
unset XDG_DATA_HOME FERRY_URL FERRY_TOKEN
mkdir -p "$HOME"
OUT=$W/out.txt ERR=$W/err.txt
RC=0 STATUS=0 DAEMON_PID= URL= ADMIN=
CLONE=$W/clone

stop_daemon() {
	if [ -n "$DAEMON_PID" ]; then
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_PID=
	fi
}
trap stop_daemon EXIT

# start_daemon [SERVE-OPTION]... — waits up to 15 s for daemon.url; returns 1 without it
start_daemon() {
	rm -f "$FERRY_DATA/daemon.url"
	"$FERRY" serve --data "$FERRY_DATA" --listen 127.0.0.1:0 --edge 127.0.0.1:0 "$@" >>"$W/serve.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 300); do
		[ -s "$FERRY_DATA/daemon.url" ] && break
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	URL=$(cat "$FERRY_DATA/daemon.url" 2>/dev/null)
	ADMIN=$(cat "$FERRY_DATA/admin.token" 2>/dev/null)
	[ -n "$URL" ]
}

die() { echo "$*" >&2; exit 1; }
run() { "$FERRY" "$@" >"$OUT" 2>"$ERR" </dev/null; RC=$?; }
want_rc() { [ "$RC" = "$1" ] || die "exit status $RC, expected $1"; }
in_out() { grep -qF -- "$1" "$OUT" || die "stdout lacks: $1"; }
in_err() { grep -qF -- "$1" "$ERR" || die "stderr lacks: $1"; }
want_status() { [ "$STATUS" = "$1" ] || die "HTTP $STATUS, expected $1: $(cat "$OUT")"; }
# jfield EXPR — a Python expression on the JSON answer `r` in $OUT
jfield() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$OUT" "$1"; }

# check NAME — runs the function NAME; prints "ok   e2e NAME", or "FAIL e2e NAME", its
# reason, the last output and the end of the daemon's log
check() {
	local name=$1 why
	if why=$("$name" 2>&1); then
		echo "ok   e2e $name"
	else
		echo "FAIL e2e $name"
		printf '%s\n' "$why" | sed 's/^/    /'
		echo "    --- stdout/body:"; head -c 3000 "$OUT" | sed 's/^/    | /'
		echo "    --- stderr:"; head -c 3000 "$ERR" | sed 's/^/    | /'
		echo "    --- daemon log (last 15 lines):"; tail -15 "$W/serve.log" | sed 's/^/    | /'
	fi
}

# new_repo FILE TEXT MESSAGE — the bare repository $REPO (branch main) and its clone
# $CLONE, with one commit adding FILE that holds TEXT, pushed
new_repo() {
	git init -q --bare -b main "$REPO"
	git clone -q "$REPO" "$CLONE" 2>/dev/null
	(cd "$CLONE" && git config user.email e2e@ferry.test && git config user.name e2e &&
		echo "$2" >"$1" && git add "$1" && git commit -qm "$3" &&
		git push -q origin main) || exit 1
}

# pipeline_yml NAME SOURCE-PROVIDER SOURCE-CONFIGURATION BUILD-ACTION BUILD-CONFIGURATION
#   [COMMAND]... — pipeline NAME (with the variables of $VARIABLES, YAML flow items one
#   a line, when set): stage Source, whose action Checkout (SOURCE-PROVIDER) gives the
#   artifact src; stage Build, whose action BUILD-ACTION runs CodeBuild on src. The
#   CONFIGURATIONs are YAML flow mappings; the build's project NAME-build runs the COMMANDs.
pipeline_yml() {
	local name=$1 provider=$2 source_conf=$3 action=$4 build_conf=$5 line
	shift 5
	printf 'pipeline:\n  name: %s\n' "$name"
	if [ -n "${VARIABLES:-}" ]; then
		echo '  variables:'
		while IFS= read -r line; do echo "    - $line"; done <<<"$VARIABLES"
	fi
	cat <<Y
  stages:
    - name: Source
      actions:
        - name: Checkout
          actionTypeId: {category: Source, owner: AWS, provider: $provider, version: "1"}
          configuration: $source_conf
          outputArtifacts: [{name: src}]
    - name: Build
      actions:
        - name: $action
          actionTypeId: {category: Build, owner: AWS, provider: CodeBuild, version: "1"}
          configuration: $build_conf
          inputArtifacts: [{name: src}]
projects:
  $name-build:
    buildspec: |
      version: 0.2
      phases:
        build:
          commands:
Y
	for line in "$@"; do echo "            - $line"; done
}

# source_yml NAME [REPOSITORY-NAME] — the start of pipeline NAME: stage Source, whose
#   action Checkout (CodeCommit, branch main of $REPO) gives the artifact src; the
#   caller's stages follow at the same indent
source_yml() {
	cat <<Y
pipeline:
  name: $1
  stages:
    - name: Source
      actions:
        - name: Checkout
          actionTypeId: {category: Source, owner: AWS, provider: CodeCommit, version: "1"}
          configuration: {RepositoryName: ${2:-site}, RepositoryUrl: "$REPO", BranchName: main, PollForSourceChanges: "false"}
          outputArtifacts: [{name: src}]
Y
}

# wait_status PIPELINE ID STATUS-REGEX — until the execution's status matches (60 s at
#   most); $OUT then holds `ferry pipeline execution PIPELINE ID --json`
wait_status() {
	local s
	for _ in $(seq 600); do
		run pipeline execution "$1" "$2" --json
		s=$(jfield "r['pipelineExecution']['status']" 2>/dev/null)
		[[ "$s" =~ ^($3)$ ]] && return 0
		sleep 0.1
	done
	die "execution $2 is not $3: $(cat "$OUT")"
}
