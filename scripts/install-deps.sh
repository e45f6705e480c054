#!/bin/sh
# Installs the Debian packages ferry needs to build, test and benchmark.
# Idempotent: does nothing when every package is already installed.
# Usage: scripts/install-deps.sh   (as root, or with sudo available)
set -eu

PKGS="build-essential pkg-config git ca-certificates
libyaml-dev libjansson-dev libsqlite3-dev libgit2-dev libarchive-dev
libsodium-dev libexpat1-dev libuv1-dev libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev
bubblewrap dash bash zip unzip python3 nodejs procps util-linux
clang libclang-rt-14-dev hyperfine clang-format
varnish
chromium"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
