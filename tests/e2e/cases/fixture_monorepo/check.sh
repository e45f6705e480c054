# fixture: a monorepo decides in install, from git diff, what to build; exported to the result
expect_rc 0
expect_out building-api
expect_no_line building-web
expect_json "{e[\"name\"]: e[\"value\"] for e in r[\"exportedEnvironmentVariables\"]}" "{\"BUILD_API\": \"yes\", \"BUILD_WEB\": \"no\"}"
expect_json "r[\"resolvedSourceVersion\"]" "$(git -C "$SRC" rev-parse HEAD)"
expect_out "commit $(git -C "$SRC" rev-parse HEAD)"
