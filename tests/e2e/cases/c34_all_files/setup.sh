mkdir -p src build/lib docs/guide; for f in README.md .env src/app.c build/app build/.hidden build/lib/libx.so docs/guide/index.html; do echo "$f" > "$f"; done
