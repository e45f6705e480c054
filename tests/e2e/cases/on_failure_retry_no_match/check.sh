# on-failure RETRY-N-regex: a failure whose message and output do not match is not retried
expect_rc 1
expect_json "r[\"attempts\"]" 1
expect_out "does not match"
expect_phase BUILD FAILED
