# checklist 42: each secondary artifact is built from its own block into <identifier>.zip
expect_rc 0
expect_zip "$ART/WebOut.zip" "index.html"
expect_zip "$ART/ApiOut.zip" "app.py"
expect_zip "$ART/artifacts.zip" "buildspec.yml"
expect_json "sorted(a[\"artifactIdentifier\"] for a in r[\"secondaryArtifacts\"])" "[\"ApiOut\", \"WebOut\"]"
