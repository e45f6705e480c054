# checklist 35, 39: base-directory is not part of stored paths; paths resolve from the source root after cd /tmp
expect_rc 0
expect_zip "$ART/artifacts.zip" ".hidden app lib/libx.so"
