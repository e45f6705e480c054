# checklist 2: -b names a buildspec relative to the source directory
expect_rc 0
expect_out "from ci/build.yml"
expect_json "r[\"buildspec\"].endswith(\"/ci/build.yml\")" True
