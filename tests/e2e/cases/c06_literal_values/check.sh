# checklist 6, 7: scalars are their source text; variable values are literal
expect_rc 0
expect_out "flag=NO version=1.20"
expect_out "p=\$PATH:/x"
