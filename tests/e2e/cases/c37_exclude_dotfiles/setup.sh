mkdir -p build; for f in README.md .env build/app build/.hidden; do echo "$f" > "$f"; done
