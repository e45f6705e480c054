# --timeout ends the build: the running phase is TIMED_OUT, nothing after it runs, no process is left
expect_rc 1
expect_json "r[\"buildStatus\"]" TIMED_OUT
expect_phase BUILD TIMED_OUT
expect_phase POST_BUILD ABSENT
expect_no_out "should-not-run"
expect_json "r[\"durationMs\"] < 15000" True
