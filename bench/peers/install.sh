#!/bin/sh
# Installs the peers ferry's benchmarks compare against, from Debian's packages:
# Buildbot (master and worker) and hyperfine. Idempotent: does nothing when they are
# installed. A bench that cannot install them (no root, no package mirror) goes on
# without the peer and says so.
# Usage: bench/peers/install.sh   (as root, or with sudo available)
set -eu

PKGS="buildbot buildbot-worker hyperfine"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "bench/peers/install.sh: not root and no sudo: cannot install$missing" >&2; exit 1; }
	SUDO="sudo -n"
fi
echo "bench/peers/install.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
