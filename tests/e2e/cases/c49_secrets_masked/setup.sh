printf "s3cr3t-Value-42" | "$FERRY" secret set /CodeBuild/token
printf "{\"username\":\"admin\",\"password\":\"pa55-word-xyz\"}" | "$FERRY" secret set prod/db
printf "line-one-secret\nline-two-secret" | "$FERRY" secret set multi
