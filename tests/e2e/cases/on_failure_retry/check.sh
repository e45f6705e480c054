# on-failure RETRY-2: a failing BUILD starts the build over; the second attempt succeeds
expect_rc 0
expect_json "r[\"buildStatus\"]" SUCCEEDED
expect_json "r[\"attempts\"]" 2
expect_json "r[\"retriedAttempts\"][0][\"failedPhase\"]" BUILD
expect_out "flaky failure on try 1"
expect_out "Retrying the build (attempt 2)"
expect_out "passed on try 2"
expect_json "[p[\"phaseType\"] for p in r[\"phases\"]].count(\"BUILD\")" 1
expect_phase BUILD SUCCEEDED
