#!/bin/sh
# Install the Debian packages modatlas needs to build and test, if missing.
# Idempotent and quiet when everything is present.
set -e
PKGS="build-essential gcc-12 pkg-config libelf-dev zlib1g-dev liblzma-dev libzstd-dev libxxhash-dev
libcmocka-dev libjson-c-dev libgraphviz-dev graphviz libssl-dev kmod xz-utils
zstd gzip binutils python3 clang valgrind strace time
scdoc man-db groff-base bash-completion zsh fish debhelper dpkg-dev lintian mmdebstrap"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
