#!/bin/sh
# Installs what the browser tests (tests/browser/) need: playwright-core, at the version
# pinned in tests/browser/package-lock.json, into tests/browser/node_modules (git-ignored)
# by the machine's npm. The browser is Debian's chromium (scripts/install-deps.sh installs
# it); Playwright's own browsers are never downloaded.
# Idempotent: does nothing when the pinned version is already installed.
# Usage: scripts/install-browser-deps.sh
set -eu
cd "$(dirname "$0")/../tests/browser"

want=$(sed -n '/"node_modules\/playwright-core"/,/}/s/.*"version": "\([^"]*\)".*/\1/p' package-lock.json)
have=$(sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' node_modules/playwright-core/package.json 2>/dev/null | head -1)
[ -n "$want" ] && [ "$want" = "$have" ] && exit 0

if ! command -v npm >/dev/null; then
	# Debian's nodejs comes without npm (NodeSource's includes it): Debian's npm package
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "install-browser-deps: installing Debian's npm" >&2
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null ||
		{ echo "install-browser-deps: npm is missing and apt-get could not install it" >&2; exit 1; }
fi
echo "install-browser-deps: installing playwright-core $want" >&2
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
