#!/usr/bin/env bash
# Runs every end-to-end case against the real binary (build/san/ferry by default).
#  - tests/e2e/cases/NAME/  : buildspec.yml, optional files/ (copied into the source
#    dir), setup.sh (run in the source dir first), args (extra `ferry build` flags),
#    and check.sh (assertions, see lib.sh); the build runs with --json and -a.
#  - tests/e2e/test_*.sh    : scripted scenarios; each prints "ok NAME" / "FAIL NAME".
# Prints one line per test and finally "E2E_COUNTS passed failed".
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
export FERRY=${FERRY:-$ROOT/build/san/ferry}
export E2E_LIB=$ROOT/tests/e2e/lib.sh
WORK=$(mktemp -d /tmp/ferry-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
JOBS=${E2E_JOBS:-2}
FILTER=${E2E_FILTER:-}

run_case() { # case-dir -> prints result line
	local c=$1 name; name=$(basename "$c")
	local d=$WORK/$name
	mkdir -p "$d/src" "$d/art" "$d/data"
	[ -d "$c/files" ] && cp -a "$c/files/." "$d/src/"
	[ -f "$c/buildspec.yml" ] && cp "$c/buildspec.yml" "$d/src/buildspec.yml"
	(
		export SRC=$d/src OUT=$d/out.txt JSON=$d/result.json ART=$d/art DATA=$d/data CASE=$ROOT/$c
		export FERRY_DATA=$DATA HOME=$d/home
		mkdir -p "$HOME"
		if [ -f "$c/setup.sh" ]; then
			(cd "$SRC" && bash "$CASE/setup.sh") >"$d/setup.txt" 2>&1 || { echo "FAIL e2e $name: setup.sh failed"; sed 's/^/    /' "$d/setup.txt" | tail -20; exit 1; }
		fi
		args=()
		[ -f "$c/args" ] && eval "args=($(cat "$c/args"))"
		(cd "$SRC" && timeout 120 "$FERRY" build -a "$ART" --json "$JSON" "${args[@]}") >"$OUT" 2>&1 </dev/null
		export RC=$?
		if (. "$E2E_LIB"; cd "$SRC" && . "$CASE/check.sh") 2>"$d/check.txt"; then
			echo "ok   e2e $name"
		else
			echo "FAIL e2e $name"
			sed 's/^/    /' "$d/check.txt"
			echo "    --- ferry output (rc=$RC, last 25 lines):"
			tail -25 "$OUT" | sed 's/^/    | /'
			exit 1
		fi
	)
}

run_script() { # test_*.sh -> its own lines
	local s=$1
	( export WORK_DIR=$WORK/$(basename "$s" .sh); mkdir -p "$WORK_DIR"; bash "$s" ) 2>&1
}

export -f run_case run_script
export WORK ROOT
results=$WORK/results.txt
{
	# the scripts first, the longest (the kill test) first of all, so that the short
	# cases fill the other job's time instead of leaving it idle at the end
	for s in tests/e2e/test_serve_kill.sh tests/e2e/test_*.sh; do
		[ -f "$s" ] || continue
		[ "$s" != tests/e2e/test_serve_kill.sh ] || [ -z "${kill_listed:-}" ] || continue
		[ "$s" = tests/e2e/test_serve_kill.sh ] && kill_listed=1
		[ -n "$FILTER" ] && [[ "$(basename "$s")" != *$FILTER* ]] && continue
		echo "script $s"
	done
	for c in tests/e2e/cases/*/; do
		c=${c%/}
		[ -n "$FILTER" ] && [[ "$(basename "$c")" != *$FILTER* ]] && continue
		echo "case $c"
	done
} | xargs -P "$JOBS" -I{} bash -c 'set -- {}; if [ "$1" = case ]; then run_case "$2"; else run_script "$2"; fi' >"$results"
cat "$results"
p=$(grep -c '^ok ' "$results")
f=$(grep -c '^FAIL ' "$results")
echo "E2E_COUNTS $p $f"
[ "$f" = 0 ]
