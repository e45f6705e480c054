# checklist 12: a plain assignment persists to later phases and reaches child processes
expect_rc 0
expect_out "x=1"
expect_out "child-x=1"
