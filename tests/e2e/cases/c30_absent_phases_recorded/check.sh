# checklist 30, 31: absent phases still run as empty phases; records ordered SUBMITTED..COMPLETED
expect_rc 0
for p in INSTALL PRE_BUILD POST_BUILD; do expect_phase $p SUCCEEDED; done
expect_json "[p[\"phaseType\"] for p in r[\"phases\"]]" "[\"SUBMITTED\", \"QUEUED\", \"PROVISIONING\", \"DOWNLOAD_SOURCE\", \"INSTALL\", \"PRE_BUILD\", \"BUILD\", \"POST_BUILD\", \"UPLOAD_ARTIFACTS\", \"FINALIZING\", \"COMPLETED\"]"
expect_json "\"phaseStatus\" in r[\"phases\"][-1]" False
