mkdir -p ci; printf "version: 0.2\nphases:\n  build:\n    commands:\n      - echo from ci/build.yml\n" > ci/build.yml
