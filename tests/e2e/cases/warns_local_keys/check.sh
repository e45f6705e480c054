# keys AWS accepts that make no sense locally warn and are ignored; the build runs
expect_rc 0
expect_out "installed"
expect_out_re "warning: .*runtime-versions"
expect_out_re "warning: .*proxy"
