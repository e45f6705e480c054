# checklist 38: patterns that match nothing fail UPLOAD_ARTIFACTS with CLIENT_ERROR; build FAILED
expect_rc 1
expect_phase BUILD SUCCEEDED
expect_phase UPLOAD_ARTIFACTS FAILED
expect_json "[p for p in r[\"phases\"] if p[\"phaseType\"]==\"UPLOAD_ARTIFACTS\"][0][\"contexts\"][0][\"statusCode\"]" CLIENT_ERROR
expect_json "[p for p in r[\"phases\"] if p[\"phaseType\"]==\"UPLOAD_ARTIFACTS\"][0][\"contexts\"][0][\"message\"]" "no matching artifact paths found"
expect_out "Skipping invalid file path missing.txt"
expect_no_file "$ART/artifacts.zip"
