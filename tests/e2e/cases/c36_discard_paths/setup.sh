mkdir -p build/lib docs/guide; for f in README.md build/lib/libx.so docs/guide/index.html; do echo "$f" > "$f"; done
