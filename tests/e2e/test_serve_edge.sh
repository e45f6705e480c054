#!/usr/bin/env bash
# The edge while releases switch (issue 5 item 8): readers hammering the edge during
# 20 deploys and rollbacks never get an error or a page that is not wholly one
# release's; in CACHED mode a deploy is not seen until an invalidation, then is.
# Prints "ok   e2e edge-..." per check.
. "$(dirname "$0")/serve_lib.sh"

# release DIR N — a site whose pages all say "release N", one of them 200 KB
release() {
	mkdir -p "$1/img"
	printf '<h1>release %s</h1>\n' "$2" >"$1/index.html"
	python3 -c 'import sys; sys.stdout.write(("release %s\n" % sys.argv[1]) * 20000)' "$2" >"$1/big.txt"
	printf 'release %s\n' "$2" >"$1/img/logo.txt"
}

readers_never_see_an_error_or_a_mixed_page() {
	run site create live --keep 3; want_rc 0
	release "$W/r1" 1; release "$W/r2" 2
	run site deploy live "$W/r1"; want_rc 0
	local edge; edge=$(cat "$FERRY_DATA/edge.url")
	python3 - "$edge" "$W/readers.txt" <<'PY' &
import os, sys, threading, time, http.client, urllib.parse
base, out = sys.argv[1], sys.argv[2]
u = urllib.parse.urlparse(base)
stop = time.time() + 600
bad, seen, n = [], set(), [0]
lock = threading.Lock()
def reader():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    paths = ["/live/", "/live/big.txt", "/live/img/logo.txt"]
    i = 0
    while time.time() < stop:
        p = paths[i % 3]; i += 1
        try:
            c.request("GET", p); r = c.getresponse(); body = r.read().decode()
        except Exception as e:
            with lock: bad.append(f"{p}: {e}")
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=10); continue
        marks = set(l.split("release ")[1].split("<")[0].strip() for l in body.splitlines() if "release " in l)
        with lock:
            n[0] += 1
            if r.status != 200: bad.append(f"{p}: HTTP {r.status}")
            elif len(marks) != 1: bad.append(f"{p}: mixed or empty page {sorted(marks)[:3]}")
            else: seen.update(marks)
        if os.path.exists(out + ".stop"):
            break
ts = [threading.Thread(target=reader) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
open(out, "w").write(f"{n[0]} reads, releases seen {sorted(seen)}\n" + "\n".join(bad[:10]))
PY
	local py=$!
	for i in $(seq 10); do
		run site deploy live "$W/r$(( (i % 2) + 1 ))"; want_rc 0
		run site rollback live; want_rc 0
	done
	echo done >"$W/readers.txt.stop"
	wait "$py"
	local report; report=$(cat "$W/readers.txt")
	[ "$(sed -n 2p "$W/readers.txt")" = "" ] || die "readers saw: $report"
	grep -q "'1', '2'" "$W/readers.txt" || die "readers did not see both releases: $report"
}

cached_site_serves_old_content_until_invalidated() {
	run site create cdn --cached --ttl 3600; want_rc 0
	release "$W/c1" 1; release "$W/c2" 2
	run site deploy cdn "$W/c1"; want_rc 0
	local edge; edge=$(cat "$FERRY_DATA/edge.url")
	get() { python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode().strip())' "$edge/cdn/img/logo.txt"; }
	[ "$(get)" = "release 1" ] || die "first read: $(get)"
	run site deploy cdn "$W/c2"; want_rc 0
	[ "$(get)" = "release 1" ] || die "a cached object changed before any invalidation: $(get)"
	run site invalidate cdn "/img/*"; want_rc 0
	[ "$(get)" = "release 2" ] || die "after invalidating /img/*: $(get)"
}

start_daemon --no-sandbox || { echo "FAIL e2e edge: the daemon did not start"; exit 0; }
check readers_never_see_an_error_or_a_mixed_page
check cached_site_serves_old_content_until_invalidated
