# checklist 16: set -e inside a block fails it at the failing line
expect_rc 1
expect_phase BUILD FAILED
expect_no_line "no-should-not-print"
