# run-as: the top level applies to all phases, a phase-level value wins for its phase
expect_rc 0
expect_out_re "^nobody$"
expect_out_re "^root$"
