# checklist 34: **/* selects top-level, nested and dot files with relative paths
expect_rc 0
expect_zip "$ART/artifacts.zip" ".env README.md build/.hidden build/app build/lib/libx.so docs/guide/index.html src/app.c"
