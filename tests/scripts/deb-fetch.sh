#!/bin/bash
# Download (cached in $CACHE/debs) one Debian binary package, checked
# against the archive's own SHA-256 (apt-cache show PKG=VERSION: the signed
# Packages index) before every use, cached copies included.
#
# Usage: deb-fetch.sh PACKAGE [VERSION [SERIES-REGEX]]
#   VERSION       the pinned version; empty: the archive's current one
#   SERIES-REGEX  when PACKAGE=VERSION is gone from the archive, the one
#                 line "deb-fetch: ... is gone ..." goes to stderr and the
#                 current version of PACKAGE is used; when PACKAGE itself is
#                 gone too, the newest package whose name matches the regex
#                 (an ABI series, e.g. ^linux-image-6\.1\.0-[0-9]+-amd64$)
# Prints shell assignments: DEB_FILE, DEB_PACKAGE, DEB_VERSION, DEB_SHA256,
# DEB_PINNED (1 when the pinned version itself was used). Exit 1, with the
# reason on stderr, when nothing suitable can be had.
set -uo pipefail
pkg=$1 want=${2:-} series=${3:-}
. "$(dirname "$0")/lib.sh"
debs=$CACHE/debs
mkdir -p "$debs"
exec 9> "$debs/.lock"
flock 9 # parallel suites fetch one at a time

say() { echo "deb-fetch: $*" >&2; }
updated=0
apt_update() {
	[ $updated = 1 ] && return 0
	updated=1
	apt-get -o DPkg::Lock::Timeout=600 update -qq > /dev/null 2>&1 ||
		say "apt-get update failed (using the lists as they are)"
}
# field PKG VER NAME: a field of the archive's record for PKG=VER
field() { apt-cache show "$1=$2" 2> /dev/null | sed -n "s/^$3: //p" | head -n1; }
has() { [ -n "$(field "$1" "$2" SHA256)" ]; }
candidate() {
	apt-cache policy "$1" 2> /dev/null | sed -n 's/^  Candidate: //p' | grep -v '^(none)$'
}

pinned=0
if [ -n "$want" ]; then
	has "$pkg" "$want" || apt_update
	if has "$pkg" "$want"; then
		ver=$want pinned=1
	else
		p2=$pkg v2=$(candidate "$pkg")
		if [ -z "$v2" ] && [ -n "$series" ]; then
			p2=$(apt-cache pkgnames 2> /dev/null | grep -E "$series" | sort -V | tail -n1)
			[ -n "$p2" ] && v2=$(candidate "$p2")
		fi
		if [ -z "$v2" ]; then
			say "$pkg $want is gone from the archive, and no current version of it${series:+ or of its series} is there"
			exit 1
		fi
		say "$pkg $want is gone from the archive: using $p2 $v2 instead"
		pkg=$p2 ver=$v2
	fi
else
	ver=$(candidate "$pkg")
	[ -n "$ver" ] || { apt_update; ver=$(candidate "$pkg"); }
	[ -n "$ver" ] || { say "$pkg is not in the archive"; exit 1; }
fi
sha=$(field "$pkg" "$ver" SHA256)
fname=$(field "$pkg" "$ver" Filename)
[ -n "$sha" ] && [ -n "$fname" ] || { say "no SHA-256 for $pkg $ver in the Packages index"; exit 1; }
deb=$debs/$(basename "$fname")
sum() { sha256sum < "$1" | cut -d' ' -f1; }
if [ -f "$deb" ] && [ "$(sum "$deb")" != "$sha" ]; then
	say "cached $(basename "$deb") does not match the archive's SHA-256: downloading it again"
	rm -f "$deb"
fi
if [ ! -f "$deb" ]; then
	tmp=$(mktemp -d "$debs/.dl.XXXXXX")
	if ! (cd "$tmp" && apt-get download "$pkg=$ver" > /dev/null 2>&1); then
		apt_update
		(cd "$tmp" && apt-get download "$pkg=$ver" > /dev/null 2>&1) ||
			{ rm -rf "$tmp"; say "apt-get download $pkg=$ver failed"; exit 1; }
	fi
	mv "$tmp"/*.deb "$deb" 2> /dev/null
	rm -rf "$tmp"
fi
got=$(sum "$deb")
if [ "$got" != "$sha" ]; then
	rm -f "$deb"
	say "$(basename "$deb"): SHA-256 $got, the archive says $sha"
	exit 1
fi
printf 'DEB_FILE=%q\nDEB_PACKAGE=%q\nDEB_VERSION=%q\nDEB_SHA256=%s\nDEB_PINNED=%s\n' \
	"$deb" "$pkg" "$ver" "$sha" "$pinned"
