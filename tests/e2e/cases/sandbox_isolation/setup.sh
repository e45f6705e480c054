mkdir -p "$DATA"; echo keep > "$DATA/marker"
