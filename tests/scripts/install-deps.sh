#!/bin/sh
# Install the Debian packages modatlas needs to build and test, if missing.
# Idempotent and quiet when everything is present. Everything a test uses
# from outside the repository comes from here, so a developer's machine and
# a clean CI run the same tools:
#  - the build: compiler, pkg-config, the libraries' -dev packages;
#  - the references: kmod (Debian 12's depmod/modprobe/modinfo, kmod 30)
#    and what building kmod 34.2 needs (meson, ninja, the -dev packages
#    above; tests/scripts/kmod34.sh);
#  - linux-kbuild-6.1: the kernel's scripts/sign-file, which signs the test
#    modules (tests/scripts/test-check.sh);
#  - gcc-12, the compiler Debian's 6.1 kernel was built with: the DKMS
#    modules of tests/scripts/dkms-build.sh;
#  - tools the suites drive: clang (fuzzing), valgrind, strace, GNU time,
#    xz/zstd/gzip, graphviz's dot, openssl, curl (downloads), util-linux's
#    setpriv;
#  - packaging: scdoc, man-db, groff (the man pages), bash-completion, zsh
#    and fish (the completions), debhelper, dpkg-dev, lintian and
#    mmdebstrap (the Debian packages and their chroot test).
set -e
PKGS="build-essential gcc-12 pkg-config libelf-dev zlib1g-dev liblzma-dev libzstd-dev libxxhash-dev
libcmocka-dev libjson-c-dev libgraphviz-dev graphviz libssl-dev openssl kmod xz-utils
zstd gzip binutils python3 clang valgrind strace time meson ninja-build linux-kbuild-6.1
curl ca-certificates util-linux
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
# Other users of the machine may hold dpkg's lock for a while: wait for it.
LOCK="-o DPkg::Lock::Timeout=600"
$SUDO apt-get $LOCK update -qq
$SUDO apt-get $LOCK install -y -qq --no-install-recommends $missing >/dev/null
