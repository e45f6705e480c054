# a missing parameter fails DOWNLOAD_SOURCE before any command, naming it and how to set it
expect_rc 2
expect_phase DOWNLOAD_SOURCE FAILED
expect_phase BUILD ABSENT
expect_out "/CodeBuild/not-there"
expect_out "ferry secret set"
expect_no_out "should-not-run"
