# checklist 49: parameter-store / secrets-manager values reach commands but never the log or the result
expect_rc 0
expect_out "token-has-real-value"
expect_out "token is ***"
expect_out "db password is ***"
for s in s3cr3t-Value-42 pa55-word-xyz line-one-secret line-two-secret; do
	expect_no_out "$s"
	! grep -qF "$s" "$JSON" || fail "secret $s in the json result"
done
