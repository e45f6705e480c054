# checklist 48: exported variables report their final values (unset ones as empty)
expect_rc 0
expect_json "{e[\"name\"]: e[\"value\"] for e in r[\"exportedEnvironmentVariables\"]}" "{\"NEVER_SET\": \"\", \"V\": \"x\"}"
