# a wrong version is refused with its line
expect_rc 2
expect_out_re "buildspec.yml:1:[0-9]+: .*version"
