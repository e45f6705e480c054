# checklist 13, 19: with env.shell bash, [[ works, but arrays do not survive to the next item
expect_rc 0
expect_out "elem=x"
expect_out "bash-brackets"
