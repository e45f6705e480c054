# checklist 1: buildspec.yml at the source root is used when no -b is given
expect_rc 0
expect_out "from the default buildspec"
expect_json "r[\"buildStatus\"]" SUCCEEDED
