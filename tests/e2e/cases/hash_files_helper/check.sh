# codebuild-hash-files is on PATH in builds (also in the sandbox) and in cache keys
expect_rc 0
h=$("$FERRY" hash-files package-lock.json)
[ ${#h} = 64 ] || fail "hash-files printed \"$h\""
expect_content "$SRC/in-build.txt" "$h"
expect_out "key=npm-$h"
echo "{\"lock\": 2}" > package-lock.json
[ "$("$FERRY" hash-files package-lock.json)" != "$h" ] || fail "the hash did not change with the file"
