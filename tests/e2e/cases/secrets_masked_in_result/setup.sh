printf "tok-ABC-123-secret" | "$FERRY" secret set /CodeBuild/t
