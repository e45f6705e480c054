# checklist 9: a scalar where a list is expected is a one-item list
expect_rc 0
expect_out "Running command echo single-scalar"
expect_zip "$ART/artifacts.zip" "out.txt"
