#!/bin/bash
# kmod 34.2, the reference for modatlas's default mode, built from the
# unmodified upstream tarball in Debian's kmod source package (Debian 12
# has only kmod 30). Idempotent and cached under $CACHE/kmod-34.2/:
#  1. a private apt state (its own sources list with trixie's and sid's
#     deb-src lines, its own lists; the machine's apt is untouched) lists
#     kmod_34.2.orig.tar.xz and its SHA-256 from the signed Sources index;
#  2. the tarball is downloaded and checked against that SHA-256 (and the
#     one recorded below: the same name can never hold other bytes in
#     Debian's pool), also when it is already in the cache;
#  3. meson --buildtype=debugoptimized (-O2: an unoptimised reference would
#     flatter modatlas in `make bench`), ninja, installed into the cache.
# Prints the three tools' paths as shell assignments (KMOD34_DEPMOD=...,
# KMOD34_MODPROBE=..., KMOD34_MODINFO=...): links to the kmod binary,
# which dispatches on its name. Progress goes to stderr.
# Usage: kmod34.sh           (tests/scripts/lib.sh: `kmod34` sets them)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
KVER=34.2
TARBALL=kmod_$KVER.orig.tar.xz
# as listed by Debian's Sources index for kmod 34.2-2
TARBALL_SHA256=012d16e2099115486d8aa9f2c2a23d058d3d0cad83113a60512647d25d3869e8
K=$CACHE/kmod-$KVER
INST=$K/inst
STAMP=$INST/.built

say() { echo "kmod34: $*" >&2; }
print_paths() {
	echo "KMOD34_DEPMOD=$INST/sbin/depmod"
	echo "KMOD34_MODPROBE=$INST/sbin/modprobe"
	echo "KMOD34_MODINFO=$INST/sbin/modinfo"
}

mkdir -p "$K"
exec 9> "$K/.lock"
flock 9 # one build at a time (suites may ask in parallel)

tools_ok() {
	local t
	for t in depmod modprobe modinfo; do
		[ -x "$INST/sbin/$t" ] || return 1
	done
	"$INST/bin/kmod" --version 2> /dev/null | grep -qx "kmod version $KVER"
}

# A finished build of a verified tarball: nothing to do.
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$TARBALL_SHA256" ] && tools_ok; then
	print_paths
	exit 0
fi

# ---- 1. where the tarball is, and its checksum, from the Sources index ----
APT=$K/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts"
cat > "$APT/sources.list" << EOF
deb-src http://deb.debian.org/debian trixie main
deb-src http://deb.debian.org/debian sid main
EOF
APTOPT=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/parts"
	-o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
	-o "Dir::State::status=/dev/null")
# uri_line: the "'URI' NAME SIZE SHA256:..." line of the orig tarball, for
# any Debian revision of kmod 34.2 the index lists (34.2-2 first)
uri_line() {
	local v
	for v in $KVER-2 $(apt-get "${APTOPT[@]}" -qq showsrc kmod 2> /dev/null |
		sed -n "s/^Version: \($KVER-[0-9.]*\)$/\1/p" | sort -urV); do
		apt-get "${APTOPT[@]}" -qq --print-uris source "kmod=$v" 2> /dev/null |
			grep -F " $TARBALL " && return 0
	done
	return 1
}
if ! line=$(uri_line); then
	say "updating the private apt lists (deb-src trixie, sid)"
	apt-get "${APTOPT[@]}" -qq update > "$K/apt-update.log" 2>&1 ||
		{ cat "$K/apt-update.log" >&2; say "apt-get update failed"; exit 1; }
	line=$(uri_line) || { say "no kmod $KVER source package in Debian's trixie or sid"; exit 1; }
fi
url=$(echo "$line" | sed -E "s/^'([^']*)'.*/\1/")
want=$(echo "$line" | sed -nE 's/.* SHA256:([0-9a-f]{64}).*/\1/p')
[ -n "$want" ] || { say "the Sources index gives no SHA-256 for $TARBALL ($line)"; exit 1; }
if [ "$want" != "$TARBALL_SHA256" ]; then
	say "the archive's $TARBALL has SHA-256 $want, not the recorded $TARBALL_SHA256"
	exit 1
fi

# ---- 2. the tarball, checked (also when cached) ----
tb=$K/$TARBALL
if [ -f "$tb" ] && [ "$(sha256sum < "$tb" | cut -d' ' -f1)" != "$want" ]; then
	say "cached $TARBALL does not match the archive's SHA-256: downloading again"
	rm -f "$tb"
fi
if [ ! -f "$tb" ]; then
	say "downloading $url"
	curl -fsSL --retry 3 -o "$tb.part" "$url" || { say "download failed: $url"; exit 1; }
	mv "$tb.part" "$tb"
fi
got=$(sha256sum < "$tb" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
	rm -f "$tb"
	say "$TARBALL: SHA-256 $got, the archive says $want"
	exit 1
fi

# ---- 3. build and install into the cache ----
rm -rf "$K/src" "$K/build" "$INST"
mkdir -p "$K/src"
tar -C "$K/src" --strip-components=1 -xJf "$tb"
say "building kmod $KVER (meson, debugoptimized)"
etc_depmod_d_existed=0
[ -e /etc/depmod.d ] && etc_depmod_d_existed=1
if ! (cd "$K/src" &&
	meson setup "$K/build" --prefix="$INST" --buildtype=debugoptimized \
		-Dmanpages=false -Ddocs=false -Dzstd=enabled -Dxz=enabled -Dzlib=enabled \
		-Dopenssl=enabled -Dbashcompletiondir=no -Dfishcompletiondir=no \
		-Dzshcompletiondir=no &&
	ninja -C "$K/build" && ninja -C "$K/build" install) > "$K/build.log" 2>&1; then
	tail -n 40 "$K/build.log" >&2
	say "build failed (log: $K/build.log)"
	exit 1
fi
# `ninja install` creates /etc/depmod.d when it is missing: leave the
# machine as it was.
[ $etc_depmod_d_existed = 1 ] || rmdir /etc/depmod.d 2> /dev/null || true
tools_ok || { say "installed, but $INST/bin lacks the kmod $KVER tools (sbin/depmod, modprobe, modinfo)"; exit 1; }
echo "$TARBALL_SHA256" > "$STAMP"
say "kmod $KVER ready in $INST"
print_paths
