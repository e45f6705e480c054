#!/usr/bin/env bash
# Scenarios that need more than one ferry invocation or a signal:
# stop by SIGTERM/SIGINT, and the local cache (checklist 43–45, "second run faster").
set -u
. "$E2E_LIB"
W=$WORK_DIR
export FERRY_DATA=$W/data

check() { # name function
	local name=$1
	if ( set -e; "$2" ) 2>"$W/$name.err"; then echo "ok   e2e $name"; else
		echo "FAIL e2e $name"; sed 's/^/    /' "$W/$name.err"; fi
}

# SIGTERM (and Ctrl-C) stop the build: STOPPED, exit 1, no process of the build left.
stop_by_signal() {
	local sig
	for sig in TERM INT; do
		local src=$W/stop-$sig
		mkdir -p "$src"
		cat >"$src/buildspec.yml" <<'Y'
version: 0.2
phases:
  install:
    commands:
      - nohup sleep 62.4242 >/dev/null 2>&1 &
  build:
    commands:
      - echo build-started
      - sleep 63.4242
Y
		"$FERRY" build -s "$src" --json "$src/r.json" >"$src/out" 2>&1 &
		local pid=$!
		for _ in $(seq 100); do grep -q build-started "$src/out" && break; sleep 0.05; done
		kill -"$sig" "$pid"
		RC=0; wait "$pid" || RC=$?
		OUT=$src/out JSON=$src/r.json
		expect_rc 1
		expect_json 'r["buildStatus"]' STOPPED
		expect_phase BUILD STOPPED
		expect_phase POST_BUILD ABSENT
		! pgrep -f 'sleep 6[23].4242' >/dev/null || fail "a process of the stopped build is still running"
	done
}

# Checklist 43, 44, 45 and the speed-up: cache.paths restored before install, saved after success.
cache_keys() {
	local src=$W/cache
	mkdir -p "$src"
	cat >"$src/buildspec.yml" <<'Y'
version: 0.2
phases:
  install:
    commands:
      - if [ -d deps ]; then echo "deps restored=$(cat deps/stamp)"; else mkdir deps && sleep 1 && echo "$STAMP" > deps/stamp && echo deps-built; fi
cache:
  key: deps-$(cat lock.txt)
  fallback-keys:
    - deps-
  paths:
    - "deps/**/*"
Y
	echo v1 >"$src/lock.txt"
	OUT=$W/c1.out; RC=0; "$FERRY" build -s "$src" --env STAMP=first >"$OUT" 2>&1 || RC=$?
	expect_rc 0; expect_out deps-built
	rm -rf "$src/deps"
	local t0 t1
	t0=$(date +%s%N)
	OUT=$W/c2.out; RC=0; "$FERRY" build -s "$src" --env STAMP=second >"$OUT" 2>&1 || RC=$?
	t1=$(date +%s%N)
	expect_rc 0; expect_out "deps restored=first"
	[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] || fail "the cached build took $(( (t1 - t0) / 1000000 )) ms, not faster than the 1 s it saves"
	# a keyed entry is immutable: deps changed in the source does not overwrite deps-v1
	rm -rf "$src/deps"; mkdir -p "$src/deps"; echo changed >"$src/deps/stamp"
	OUT=$W/c3.out; RC=0; "$FERRY" build -s "$src" >"$OUT" 2>&1 || RC=$?
	rm -rf "$src/deps"
	OUT=$W/c4.out; RC=0; "$FERRY" build -s "$src" >"$OUT" 2>&1 || RC=$?
	expect_out "deps restored=first"
	# no exact entry for deps-v2: the fallback prefix deps- finds deps-v1
	echo v2 >"$src/lock.txt"; rm -rf "$src/deps"
	OUT=$W/c5.out; RC=0; "$FERRY" build -s "$src" >"$OUT" 2>&1 || RC=$?
	expect_out "deps restored=first"
}

cache_action_restore_saves_nothing() {
	local src=$W/cache-restore-only
	mkdir -p "$src"
	cat >"$src/buildspec.yml" <<'Y'
version: 0.2
phases:
  build:
    commands:
      - if [ -f out/x ]; then echo restored; else mkdir -p out && echo x > out/x && echo fresh; fi
cache:
  key: only
  action: restore
  paths:
    - "out/**/*"
Y
	OUT=$W/r1.out; RC=0; "$FERRY" build -s "$src" >"$OUT" 2>&1 || RC=$?
	expect_rc 0; expect_out fresh
	rm -rf "$src/out"
	OUT=$W/r2.out; RC=0; "$FERRY" build -s "$src" >"$OUT" 2>&1 || RC=$?
	expect_out fresh; expect_no_line restored
}

check stop_by_signal stop_by_signal
check cache_keys cache_keys
check cache_action_restore cache_action_restore_saves_nothing
