# checklist 22: a failing finally fails a green phase (and stops the finally list)
expect_rc 1
expect_phase BUILD FAILED
expect_no_out "second-finally-should-not-run"
