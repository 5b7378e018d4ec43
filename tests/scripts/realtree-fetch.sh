#!/bin/sh
# Download (cached) and unpack a Debian kernel image package.
# Usage: realtree-fetch.sh PACKAGE DEST   -> DEST/lib/modules/<ver>/...
set -e
pkg=$1 dest=$2
. "$(dirname "$0")/lib.sh"
debs=$CACHE/debs
mkdir -p "$debs"
deb=$(ls "$debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
	(cd "$debs" && { apt-get download "$pkg" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get download "$pkg" >/dev/null; }; })
	deb=$(ls "$debs/${pkg}_"*.deb | head -n1)
fi
if [ ! -f "$dest/.unpacked" ] || [ "$dest/.unpacked" -ot "$deb" ]; then
	rm -rf "$dest"
	mkdir -p "$dest"
	dpkg -x "$deb" "$dest"
	touch "$dest/.unpacked"
fi
