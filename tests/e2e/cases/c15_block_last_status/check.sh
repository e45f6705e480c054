# checklist 15: a block is judged by its last statement
expect_rc 0
expect_out "block-ok"
