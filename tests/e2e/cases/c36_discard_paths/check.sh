# checklist 36: discard-paths stores bare file names
expect_rc 0
expect_zip "$ART/artifacts.zip" "README.md index.html"
