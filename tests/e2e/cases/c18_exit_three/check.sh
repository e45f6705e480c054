# checklist 18: exit 3 fails the phase with COMMAND_EXECUTION_ERROR and the exit status
expect_rc 1
expect_phase BUILD FAILED
expect_json "[p for p in r[\"phases\"] if p[\"phaseType\"]==\"BUILD\"][0][\"contexts\"][0][\"statusCode\"]" COMMAND_EXECUTION_ERROR
expect_json "[p for p in r[\"phases\"] if p[\"phaseType\"]==\"BUILD\"][0][\"contexts\"][0][\"message\"].endswith(\"Reason: exit status 3\")" True
expect_out "Command did not exit successfully exit 3 exit status 3"
