# an unknown key is refused before anything runs, with file:line:column and a suggestion
expect_rc 2
expect_out_re "buildspec.yml:4:[0-9]+: .*comands"
expect_out "commands"
expect_phase INSTALL ABSENT
