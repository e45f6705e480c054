# checklist 29: build on-failure ABORT skips POST_BUILD
expect_rc 1
expect_phase BUILD FAILED
expect_phase POST_BUILD ABSENT
expect_no_out "post-should-not-run"
