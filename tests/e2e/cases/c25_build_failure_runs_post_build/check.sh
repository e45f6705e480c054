# checklist 25: after a failed BUILD, POST_BUILD runs with CODEBUILD_BUILD_SUCCEEDING=0, then artifacts
expect_rc 1
expect_phase BUILD FAILED
expect_phase POST_BUILD SUCCEEDED
expect_phase UPLOAD_ARTIFACTS SUCCEEDED
expect_out "succeeding=0"
expect_zip "$ART/artifacts.zip" "partial.txt"
expect_json "r[\"buildStatus\"]" FAILED
