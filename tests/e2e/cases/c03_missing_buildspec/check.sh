# checklist 3: a missing buildspec fails DOWNLOAD_SOURCE with YAML_FILE_ERROR; nothing runs
expect_rc 2
expect_phase DOWNLOAD_SOURCE FAILED
expect_phase INSTALL ABSENT
expect_json "r[\"buildStatus\"]" FAILED
expect_json "[p for p in r[\"phases\"] if p[\"phaseType\"]==\"DOWNLOAD_SOURCE\"][0][\"contexts\"][0][\"statusCode\"]" YAML_FILE_ERROR
expect_out "no such file or directory"
