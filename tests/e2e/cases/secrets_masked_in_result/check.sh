# secrets are masked in the JSON result too: report failure messages, artifact names
expect_rc 0
expect_json "r[\"reports\"][0][\"failures\"][0].endswith(\"got ***\")" True
expect_json "r[\"artifacts\"][\"name\"]" "build-***"
! grep -qF "tok-ABC-123-secret" "$JSON" || fail "the secret is in the JSON result"
expect_no_out "tok-ABC-123-secret"
