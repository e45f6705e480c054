echo "{\"lock\": 1}" > package-lock.json; mkdir -p deps
