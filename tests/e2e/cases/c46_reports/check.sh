# checklist 46, 47: report group <project>-<name>, JUNITXML by default; failing tests fail the report, not the build
expect_rc 0
expect_json "r[\"buildStatus\"]" SUCCEEDED
expect_json "r[\"reports\"][0][\"reportGroupName\"]" p-unit
expect_json "r[\"reports\"][0][\"fileFormat\"]" JUNITXML
expect_json "r[\"reports\"][0][\"status\"]" FAILED
expect_json "(r[\"reports\"][0][\"total\"], r[\"reports\"][0][\"passed\"], r[\"reports\"][0][\"failed\"], r[\"reports\"][0][\"skipped\"])" "(3, 1, 1, 1)"
expect_json "round(r[\"reports\"][0][\"durationInSeconds\"], 2)" 0.75
expect_out "p-unit"
