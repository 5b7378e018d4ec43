#!/bin/bash
# One real Debian module tree, downloaded (tests/scripts/deb-fetch.sh:
# pinned version, checked against the archive's SHA-256) and unpacked once
# into $CACHE/trees/PACKAGE_VERSION/root. Never written to afterwards: the
# suites run depmod on hard-linked copies, or with -o.
#
# Usage: realtree-fetch.sh TREE      (TREE: amd64-6.1 or amd64-6.12xz)
# The package comes from lib.sh's table (realtree_spec), or from
# MODATLAS_TREE_6_1 / MODATLAS_TREE_6_12 (PACKAGE or PACKAGE=VERSION) to
# run the suites on another kernel ABI package.
# Prints shell assignments (lib.sh's `realtree` evals them):
#   RT_ROOT     the unpacked package (RT_ROOT/lib/modules/RT_KVER)
#   RT_KVER     the kernel version (the one folder under lib/modules)
#   RT_PKG, RT_PKGVER  the package and version used
#   RT_RECORDED 1 when that is the version tests/data's sums were recorded
#               for (then the reference tools are checked against them)
#   RT_NMODS    how many modules (*.ko*) the tree has
set -uo pipefail
tree=$1
. "$(dirname "$0")/lib.sh"
read -r pkg pinver series < <(realtree_spec "$tree") ||
	{ echo "realtree-fetch: unknown tree $tree" >&2; exit 1; }
recorded_pkg=$pkg recorded_ver=$pinver
var=$(realtree_var "$tree")
if [ -n "${!var:-}" ]; then
	pkg=${!var%%=*} pinver=""
	case ${!var} in *=*) pinver=${!var#*=} ;; esac
fi
out=$("$REPO/tests/scripts/deb-fetch.sh" "$pkg" "$pinver" "$series") || exit 1
eval "$out"
root=$CACHE/trees/${DEB_PACKAGE}_$DEB_VERSION/root
mkdir -p "$(dirname "$root")"
exec 9> "$(dirname "$root")/.lock"
flock 9
# unpacked from exactly this .deb (its SHA-256 is the stamp)
if [ "$(cat "$root/.unpacked" 2> /dev/null)" != "$DEB_SHA256" ]; then
	rm -rf "$root" "$root.tmp"
	mkdir -p "$root.tmp"
	dpkg -x "$DEB_FILE" "$root.tmp" || { echo "realtree-fetch: dpkg -x $DEB_FILE failed" >&2; exit 1; }
	echo "$DEB_SHA256" > "$root.tmp/.unpacked"
	mv "$root.tmp" "$root"
fi
kvers=$(ls "$root/lib/modules")
[ "$(echo "$kvers" | wc -l)" = 1 ] || { echo "realtree-fetch: not one kernel version in $root/lib/modules" >&2; exit 1; }
recorded=0
[ "$DEB_PACKAGE" = "$recorded_pkg" ] && [ "$DEB_VERSION" = "$recorded_ver" ] && recorded=1
printf 'RT_ROOT=%q\nRT_KVER=%q\nRT_PKG=%q\nRT_PKGVER=%q\nRT_RECORDED=%s\nRT_NMODS=%s\n' \
	"$root" "$kvers" "$DEB_PACKAGE" "$DEB_VERSION" "$recorded" \
	"$(find "$root/lib/modules/$kvers" -name '*.ko*' | wc -l)"
