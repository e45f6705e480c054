# checklist 17: exit 0 ends only its own item
expect_rc 0
expect_out "next"
expect_phase BUILD SUCCEEDED
