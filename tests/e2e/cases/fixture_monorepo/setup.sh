git init -q -b main . && git config user.email t@t && git config user.name t
mkdir -p services/api services/web && echo v1 > services/api/app.txt && echo v1 > services/web/index.txt
git add -A && git commit -qm one && echo v2 > services/api/app.txt && git add -A && git commit -qm "change api"
