# checklist 23: a failed INSTALL skips PRE_BUILD, BUILD, POST_BUILD and UPLOAD_ARTIFACTS
expect_rc 1
expect_phase INSTALL FAILED
for p in PRE_BUILD BUILD POST_BUILD UPLOAD_ARTIFACTS; do expect_phase $p ABSENT; done
expect_phase FINALIZING SUCCEEDED
expect_no_out "should-not-run"
expect_no_file "$ART/artifacts.zip"
expect_json "r[\"buildStatus\"]" FAILED
