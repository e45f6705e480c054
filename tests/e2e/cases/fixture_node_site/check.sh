# fixture: install cds into web/, build runs there, artifacts come from the source root
expect_rc 0
expect_out "built 2 pages"
expect_zip "$ART/artifacts.zip" "about.html index.html"
unzip -p "$ART/artifacts.zip" index.html | grep -q "<title>Node site</title>" || fail "page lacks the title"
