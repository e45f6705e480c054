for i in 1 2; do "$FERRY" build --project numbered >/dev/null 2>&1 || exit 1; done
