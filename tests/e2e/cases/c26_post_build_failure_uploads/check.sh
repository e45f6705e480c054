# checklist 26: a failed POST_BUILD after a green BUILD still uploads; build FAILED
expect_rc 1
expect_phase POST_BUILD FAILED
expect_phase UPLOAD_ARTIFACTS SUCCEEDED
expect_zip "$ART/artifacts.zip" "built.txt"
