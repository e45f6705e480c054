#!/bin/sh
# Installs the peers and tools ferry's benchmarks compare against, from Debian's
# packages: Buildbot (master and worker), hyperfine, wrk and nginx. Idempotent: does
# nothing when they are installed. A bench that cannot install them (no root, no
# package mirror) goes on without the peer and says so.
# Usage: bench/peers/install.sh [PACKAGE...]   (as root, or with sudo available;
#        default: all of the above; bench/edge asks for `wrk nginx` only)
set -eu

PKGS="buildbot buildbot-worker hyperfine wrk nginx"
[ $# -gt 0 ] && PKGS="$*"

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

# Debian's nginx package starts (and enables) its system service on port 80 when systemd
# runs. bench/edge starts nginx processes of its own; the service this script just caused
# is stopped and disabled again, so that installing the peer leaves no nginx running.
case " $missing " in
*" nginx "*)
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		$SUDO systemctl disable --now nginx.service >/dev/null 2>&1 || true
	fi
	;;
esac
