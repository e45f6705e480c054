# checklist 14: set -e does not carry over to the next item
expect_rc 0
expect_out "after"
