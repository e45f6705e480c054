# checklist 24: a failed PRE_BUILD skips BUILD and uploads nothing
expect_rc 1
expect_phase PRE_BUILD FAILED
expect_phase BUILD ABSENT
expect_phase UPLOAD_ARTIFACTS ABSENT
expect_no_file "$SRC/built.txt"
expect_no_file "$ART/artifacts.zip"
