# checklist 32: a background process from INSTALL is alive in BUILD, and gone after the build
expect_rc 0
expect_out "background-alive"
! pgrep -f "sleep 61.2345" >/dev/null || fail "the background process outlived the build"
