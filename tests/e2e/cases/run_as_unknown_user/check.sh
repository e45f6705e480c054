# run-as an unknown user fails the phase with COMMAND_EXECUTION_ERROR, naming the user, promptly
expect_rc 1
expect_phase INSTALL FAILED
expect_json "[p for p in r[\"phases\"] if p[\"phaseType\"]==\"INSTALL\"][0][\"contexts\"][0][\"statusCode\"]" COMMAND_EXECUTION_ERROR
expect_out "no-such-user-here"
expect_no_line should-not-run
expect_no_line build-should-not-run
expect_json "r[\"durationMs\"] < 20000" True
