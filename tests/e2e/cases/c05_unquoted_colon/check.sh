# checklist 5: an unquoted ": " makes the item a mapping; refused, naming Commands[0]
expect_rc 2
expect_out "Commands[0]"
expect_out_re "buildspec.yml:5:[0-9]+:"
