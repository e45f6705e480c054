# checklist 19, 20: the default shell is sh (dash): [[ is not found, reported at script.sh line 4
expect_rc 1
expect_out_re "script.sh: 4: .*\[\[: not found"
