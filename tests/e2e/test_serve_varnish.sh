#!/usr/bin/env bash
# Varnish in front of the edge (contrib/varnish/ferry.vcl): a site's purge target gets
# its invalidations, so a deploy hidden behind both caches shows once invalidated; a
# target that does not answer leaves the invalidation Completed with a purgeError; a
# target off the loopback is refused. Skipped (ok, with a note) without varnishd.
# Prints "ok   e2e varnish-..." per check.
. "$(dirname "$0")/serve_lib.sh"

VARNISHD=$(command -v varnishd || echo /usr/sbin/varnishd)
VARNISH_PID=
# varnishd's own user must read the VCL and its work directory, and every directory
# above them: $W may sit in a private (0700) directory, so they get one of their own
VDIR=$(mktemp -d /tmp/ferry-e2e-varnish.XXXXXX)
chmod 755 "$VDIR"
stop_all() {
	if [ -n "$VARNISH_PID" ]; then
		kill "$VARNISH_PID" 2>/dev/null
		wait "$VARNISH_PID" 2>/dev/null
		VARNISH_PID=
	fi
	stop_daemon
	rm -rf "$VDIR"
}
trap stop_all EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# get PATH — through Varnish: body in $OUT, status in $STATUS, headers in $W/headers.txt
get() {
	STATUS=$(curl -s -o "$OUT" -D "$W/headers.txt" -w '%{http_code}' "http://127.0.0.1:$VPORT$1")
}

# start_varnish — varnishd on a free port in front of the edge; retries on a port taken
# meanwhile. As root, varnishd drops to its own user (Debian's package makes `varnish`
# and `vcache`): the work directory must be theirs to read, so it lives in $VDIR with
# the VCL, both world-readable.
start_varnish() {
	local edge_port vcl=$VDIR/ferry.vcl
	edge_port=$(sed 's/.*://; s#/.*##' "$FERRY_DATA/edge.url")
	sed "s/\.port = \"7879\"/.port = \"$edge_port\"/" "$(dirname "$0")/../../contrib/varnish/ferry.vcl" >"$vcl"
	chmod 644 "$vcl"
	for _ in 1 2 3; do
		VPORT=$(free_port)
		"$VARNISHD" -F -a "127.0.0.1:$VPORT" -f "$vcl" -n "$VDIR/work" -s malloc,16m \
			-p default_ttl=3600 >>"$W/varnish.log" 2>&1 &
		VARNISH_PID=$!
		for _ in $(seq 100); do
			curl -s -o /dev/null "http://127.0.0.1:$VPORT/" && return 0
			kill -0 "$VARNISH_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$VARNISH_PID" 2>/dev/null; wait "$VARNISH_PID" 2>/dev/null; VARNISH_PID=
	done
	return 1
}

release() {
	mkdir -p "$1/img"
	printf 'release %s\n' "$2" >"$1/index.html"
	printf 'logo %s\n' "$2" >"$1/img/logo.txt"
}

# wait_completed SITE ID — up to 20 s; the invalidation's JSON in $OUT
wait_completed() {
	for _ in $(seq 200); do
		run site invalidations "$1" "$2" --json
		[ "$RC" = 0 ] && [ "$(jfield 'r["status"]')" = Completed ] && return 0
		sleep 0.1
	done
	die "invalidation $2 is not Completed: $(cat "$OUT")"
}

varnish_serves_the_new_release_once_invalidated() {
	run site create www --cached --ttl 3600 --purge "varnish=http://localhost:$VPORT"; want_rc 0
	run site purge-target list www; want_rc 0; in_out "varnish=http://127.0.0.1:$VPORT"
	release "$W/r1" 1; release "$W/r2" 2
	run site deploy www "$W/r1"; want_rc 0
	get /www/index.html; want_status 200; grep -qx 'release 1' "$OUT" || die "first page: $(cat "$OUT")"
	get /www/img/logo.txt; want_status 200
	get /www/index.html; grep -qi '^Age:' "$W/headers.txt" || die "no Age from Varnish"
	grep -qi '^X-Varnish: [0-9]* [0-9]*' "$W/headers.txt" || die "second read was not a Varnish hit: $(cat "$W/headers.txt")"
	run site deploy www "$W/r2"; want_rc 0
	get /www/index.html; grep -qx 'release 1' "$OUT" || die "before the invalidation, Varnish should still serve release 1: $(cat "$OUT")"
	run site invalidate www '/*' /index.html; want_rc 0
	local id; id=$(cat "$OUT")
	wait_completed www "$id"
	[ "$(jfield 'r.get("purgeError")')" = None ] || die "purge error: $(jfield 'r.get("purgeError")')"
	get /www/index.html; want_status 200; grep -qx 'release 2' "$OUT" || die "after the invalidation: $(cat "$OUT")"
	get /www/img/logo.txt; grep -qx 'logo 2' "$OUT" || die "the wildcard did not reach /img/: $(cat "$OUT")"
	grep -qi '^X-Ferry-Url' "$W/headers.txt" && die "X-Ferry-Url leaked to clients"
	return 0
}

a_dead_target_is_recorded_and_the_invalidation_still_completes() {
	local dead; dead=$(free_port)
	run site purge-target add www "varnish=http://127.0.0.1:$dead"; want_rc 0
	run site invalidate www /index.html; want_rc 0
	local id; id=$(cat "$OUT")
	wait_completed www "$id"
	jfield 'r["purgeError"]' | grep -q "127.0.0.1:$dead" || die "no purgeError naming the dead target: $(cat "$OUT")"
	run site invalidations www "$id"; want_rc 0; in_out "purge error:"
	run site purge-target remove www "varnish=http://127.0.0.1:$dead"; want_rc 0
	run site purge-target list www; want_rc 0
	grep -q "$dead" "$OUT" && die "the removed target is still listed"
	return 0
}

targets_off_the_loopback_are_refused() {
	run site purge-target add www varnish=http://10.1.2.3:6081; want_rc 1; in_err "loopback only"
	run site purge-target add www squid=http://127.0.0.1:3128; want_rc 1; in_err "not one ferry knows"
	run site create other --purge varnish=https://127.0.0.1:6081; want_rc 1
	run site get other; [ "$RC" != 0 ] || die "a site was created with a refused target"
	return 0
}

if [ ! -x "$VARNISHD" ]; then
	echo "ok   e2e varnish (skipped: varnishd is not installed; scripts/install-deps.sh installs it)"
	exit 0
fi
start_daemon || { echo "FAIL e2e varnish: the daemon did not start"; tail "$W/serve.log"; exit 1; }
if ! start_varnish; then
	echo "FAIL e2e varnish: varnishd did not start"; tail -20 "$W/varnish.log"; exit 1
fi
check varnish_serves_the_new_release_once_invalidated
check a_dead_target_is_recorded_and_the_invalidation_still_completes
check targets_off_the_loopback_are_refused
