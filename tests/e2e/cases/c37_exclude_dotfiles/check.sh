# checklist 37: exclude-paths **/.* keeps dot-files out
expect_rc 0
expect_zip "$ART/artifacts.zip" "README.md build/app"
