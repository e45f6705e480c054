# checklist 4: a tab in the indentation is a YAML error with line and column; exit 2
expect_rc 2
expect_phase DOWNLOAD_SOURCE FAILED
expect_out_re "buildspec.yml:5:[0-9]+: .*(tab|cannot start any token)"
expect_phase INSTALL ABSENT
