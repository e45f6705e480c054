# isolation: source writable, rest read-only, private /tmp, data dir invisible; the result says so
expect_rc 0
expect_json "r[\"sandbox\"]" bubblewrap
expect_out "home=/root"
expect_out "etc-read-only"
expect_out "tmp-writable"
expect_out "data-entries=0"
expect_content "$SRC/written.txt" in-source
expect_no_file /tmp/ferry-e2e-private-marker
expect_no_file /etc/ferry-should-not-exist
