# checklist 10, 11: a cd is seen by later commands, within and across phases
expect_rc 0
expect_content "$SRC/install-pwd.txt" "$SRC/sub"
expect_content "$SRC/build-pwd.txt" "$SRC/sub"
