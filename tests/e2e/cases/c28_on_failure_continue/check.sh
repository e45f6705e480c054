# checklist 28: install on-failure CONTINUE goes on to PRE_BUILD; INSTALL stays FAILED; build FAILED
expect_rc 1
expect_phase INSTALL FAILED
expect_phase PRE_BUILD SUCCEEDED
expect_out "pre-ran succeeding=0"
expect_json "r[\"buildStatus\"]" FAILED
