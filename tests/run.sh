#!/usr/bin/env bash
# Runs ferry's test suites and ends with one line "N passed, N failed".
# Usage: tests/run.sh [layers|format|unit|e2e|browser|fuzz]...   (default: all)
# Unit tests are cmocka binaries built with ASan+UBSan (build/san/tests/test_*);
# end-to-end tests drive build/san/ferry (see tests/e2e/README.md); browser tests drive
# its web UI in Debian's chromium (tests/browser/run.sh, docs/ui.md "Testing").
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}
OUT=$ROOT/tests/out
mkdir -p "$OUT"
PASSED=0 FAILED=0
FAILURES=()

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(layers format unit e2e browser fuzz)

record() { # name status(0=pass)
	if [ "$2" = 0 ]; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); FAILURES+=("$1"); fi
}

run_layers() {
	local checker=../shared/tools/check-layers
	[ -x "$checker" ] || checker=scripts/check-layers
	if [ -x "$checker" ]; then
		if "$checker" . >"$OUT/layers.txt" 2>&1; then
			echo "ok   layers: $(tail -1 "$OUT/layers.txt")"; record layers 0
		else
			echo "FAIL layers:"; cat "$OUT/layers.txt"; record layers 1
		fi
	fi
}

run_format() {
	if clang-format --dry-run --Werror $(find src tests -name '*.[ch]') >"$OUT/format.txt" 2>&1; then
		echo "ok   format: every C file is clang-formatted"; record format 0
	else
		echo "FAIL format (run: make format):"; grep -o '^[^:]*:[0-9]*' "$OUT/format.txt" | sort -u | head; record format 1
	fi
}

run_unit() {
	local t name log p f
	# two at a time (UNIT_JOBS): each binary is independent and has its own temp dirs
	local jobs=${UNIT_JOBS:-2} running=0
	for t in build/san/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		if [ "$running" -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		( cd "$OUT" && "$ROOT/$t" >"$OUT/unit-$name.txt" 2>&1; echo $? >"$OUT/unit-$name.rc" ) &
		running=$((running + 1))
	done
	wait
	for t in build/san/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		log=$OUT/unit-$name.txt
		local rc
		rc=$(cat "$OUT/unit-$name.rc" 2>/dev/null || echo 1)
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$log" | tail -1)
		p=${p:-0} f=${f:-0}
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi # crashed (sanitizer) outside a test
		PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
		if [ "$f" = 0 ]; then
			echo "ok   unit $name: $p passed"
		else
			echo "FAIL unit $name: $p passed, $f failed (log: $log)"
			grep -E '^\[  FAILED  \] |^\[  ERROR   \]|ERROR: AddressSanitizer|runtime error' "$log" | head -20
			FAILURES+=("unit $name")
		fi
	done
}

run_e2e() {
	local res
	res=$(tests/e2e/run.sh)
	local rc=$?
	echo "$res" | grep -v '^E2E_COUNTS'
	local counts
	counts=$(echo "$res" | sed -n 's/^E2E_COUNTS \([0-9]*\) \([0-9]*\)$/\1 \2/p')
	if [ -z "$counts" ]; then record "e2e runner" 1; return; fi
	PASSED=$((PASSED + ${counts% *})) FAILED=$((FAILED + ${counts#* }))
	[ "$rc" = 0 ] || FAILURES+=("e2e")
}

run_browser() {
	# the web UI in Debian's chromium (tests/browser/run.sh); each check one ok/FAIL line
	local res counts
	res=$(FERRY=$ROOT/build/san/ferry tests/browser/run.sh 2>&1)
	echo "$res" | grep -v '^BROWSER_COUNTS'
	counts=$(echo "$res" | sed -n 's/^BROWSER_COUNTS \([0-9]*\) \([0-9]*\)$/\1 \2/p')
	if [ -z "$counts" ]; then record "browser suite" 1; return; fi
	PASSED=$((PASSED + ${counts% *})) FAILED=$((FAILED + ${counts#* }))
	[ "${counts#* }" = 0 ] || FAILURES+=("browser")
}

run_fuzz() {
	local f name
	for f in build/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		# the seed corpus plus a short bounded run: a crash is a failure
		local scratch; scratch=$(mktemp -d)
		# the seeds (every past crash among them), then a fixed-seed, fixed-count run:
		# deterministic, so a commit's result does not depend on luck; open-ended
		# fuzzing is `make fuzz`. New inputs go to a scratch corpus, not the repo's.
		if "$f" -seed=1 -runs="${FUZZ_RUNS:-20000}" -timeout=5 -artifact_prefix="$OUT/$name-" "$scratch" "tests/fuzz/corpus/$name" >"$OUT/$name.txt" 2>&1; then
			echo "ok   fuzz $name: $(grep -o 'Done [0-9]* runs' "$OUT/$name.txt" | tail -1)"; record "fuzz $name" 0
		else
			echo "FAIL fuzz $name (log: $OUT/$name.txt)"; tail -20 "$OUT/$name.txt"; record "fuzz $name" 1
		fi
		rm -rf "$scratch"
	done
}

for s in "${suites[@]}"; do
	case "$s" in
	layers) run_layers ;; format) run_format ;; unit) run_unit ;; e2e) run_e2e ;; browser) run_browser ;; fuzz) run_fuzz ;;
	*) echo "tests/run.sh: unknown suite $s (unit, e2e, browser, fuzz, layers)"; exit 2 ;;
	esac
done

if [ ${#FAILURES[@]} -gt 0 ]; then
	echo "failed: ${FAILURES[*]}"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
