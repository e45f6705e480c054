# checklist 40, 41: name is evaluated by the shell (out-v1) and does not rename the local zip; $VAR in base-directory
expect_rc 0
expect_zip "$ART/artifacts.zip" "x.txt"
expect_json "r[\"artifacts\"][\"name\"]" out-v1
