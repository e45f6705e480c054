# --no-sandbox runs on the host and the result says "none"
expect_rc 0
expect_json "r[\"sandbox\"]" none
expect_file /tmp/ferry-e2e-nosandbox-marker
rm -f /tmp/ferry-e2e-nosandbox-marker
