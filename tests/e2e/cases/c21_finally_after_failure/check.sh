# checklist 21: a failing command skips the rest; finally still runs; phase FAILED
expect_rc 1
expect_out "ok1"
expect_no_out "ok2-should-not-run"
expect_out "fin-ran"
expect_phase BUILD FAILED
