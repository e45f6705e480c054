# checklist 8: start override > project (-e) > buildspec
expect_rc 0
expect_out "V=from-override W=from-project X=from-buildspec"
