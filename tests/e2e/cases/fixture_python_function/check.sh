# fixture: a Python function packaged for the stage chosen by an overridden variable
expect_rc 0
expect_out "\"stage\": \"prod\""
expect_zip "$ART/artifacts.zip" "config.json lambda_function.py"
unzip -p "$ART/artifacts.zip" config.json | grep -q "\"prod\"" || fail "config.json is not the prod one"
