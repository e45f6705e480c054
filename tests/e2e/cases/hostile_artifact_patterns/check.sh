# hostile patterns: .., absolute paths and links out of the tree never bring outside files in
expect_rc 0
expect_zip "$ART/artifacts.zip" "inside/a.txt inside/link-in"
expect_out "Skipping invalid file path ../outside.txt"
expect_out "Skipping invalid file path /etc/passwd"
! unzip -p "$ART/artifacts.zip" | grep -q "root:" || fail "/etc/passwd content in the zip"
! unzip -p "$ART/artifacts.zip" | grep -q "^secret$" || fail "outside.txt content in the zip"
