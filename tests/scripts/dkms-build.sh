#!/bin/bash
# Real out-of-tree modules, built as DKMS builds them, for the check tests:
# the sources of three Debian 12 DKMS packages (acpi-call-dkms, one module;
# v4l2loopback-dkms, one module using videodev's exports; tp-smapi-dkms,
# three modules, thinkpad_ec exporting what tp_smapi and hdaps use) built
# with kbuild against linux-headers-6.1.0-56-amd64 (the 6.1 tree's kernel);
# and the Module.symvers of the 6.1 and 6.12 trees' kernels.
#
# Every .deb comes through deb-fetch.sh: pinned, checked against the
# archive's SHA-256, cached; the headers at the version of the trees'
# images (the arguments: realtree's RT_KVER and RT_PKGVER of each). The
# headers packages are unpacked with dpkg -x into one root, laid out as the
# packages install them: the -amd64 headers' Makefile includes the -common
# one by its absolute /usr/src path, so it is rewritten to the root's copy;
# the relative scripts/ and tools/ links reach the root's linux-kbuild-6.1.
# Nothing is installed on the machine. Each package is built as Debian 12's
# dkms 3.0.10 builds it: dkms.conf sourced (kernelver, kernel_source_dir,
# dkms_tree, arch set), MAKE[0] run in <dkms_tree>/<module>/<version>/build
# with "make" turned into "make -j2 KERNELRELEASE=<kernel>", CC from the
# headers' .kernelvariables, each built module stripped (strip -g), and the
# result laid out as /var/lib/dkms is:
#   <dkms>/<module>/<version>/<kernel>/x86_64/module/<name>.ko
#   <dkms>/<module>/<version>/<kernel>/x86_64/log/make.log
#   <dkms>/<module>/<version>/source -> the unpacked /usr/src/<module>-<version>
#   <dkms>/<module>/kernel-<kernel>-x86_64 -> <version>/<kernel>/x86_64
# Unsigned: Debian's dkms signs only with a MOK key, which these tests
# leave out (an unsigned module in a signed tree is what test-dkms expects).
#
# Cached under $CACHE/dkms/<kernel>/, keyed by every package version asked
# for, the compiler's version and this recipe's: a warm run reads one stamp
# file and asks the archive nothing.
# Prints shell assignments (eval them): DKMS_KVER, DKMS_TREE (the DKMS
# layout), DKMS_KODIR (the built .ko files, flat), DKMS_MODULES (their
# names), SYMVERS_61, SYMVERS_612 (the kernels' Module.symvers),
# SYMVERS_EXTRA (tp_smapi's own Module.symvers: thinkpad_ec's exports),
# DKMS_VERSIONS (the packages used). Progress and errors go to stderr.
# Usage: dkms-build.sh [KVER PKGVER KVER612 PKGVER612]
#   (default: 6.1.0-56-amd64 6.1.192-2 6.12.107+deb12-amd64 6.12.107-1~deb12u1,
#   the trees of lib.sh's realtree_spec)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RECIPE=2 # bump when the build steps change
KVER=${1:-6.1.0-56-amd64} KPKGVER=${2:-6.1.192-2}
KVER612=${3:-6.12.107+deb12-amd64} KPKGVER612=${4:-6.12.107-1~deb12u1}
DKARCH=x86_64
# PACKAGE=VERSION: deb-fetch.sh takes the archive's current version when
# the pinned one is gone (for a headers package: the same ABI, its name).
# linux-headers-*-common comes at the version of linux-headers-KVER.
PINS="
linux-headers-$KVER=$KPKGVER
linux-headers-${KVER%-amd64}-common=
linux-kbuild-$(echo "$KVER" | cut -d. -f1,2)=6.1.192-3
linux-headers-$KVER612=$KPKGVER612
acpi-call-dkms=1.2.2-2.1
v4l2loopback-dkms=0.12.7-2
tp-smapi-dkms=0.43-3
"
CC_NAME=gcc-12 # the compiler Debian built linux 6.1 with (.kernelvariables)

say() { echo "dkms-build: $*" >&2; }
die() { say "$*"; exit 1; }

OUT=$CACHE/dkms/$KVER
mkdir -p "$CACHE/dkms"
exec 9> "$CACHE/dkms/.lock"
flock 9 # one build at a time

command -v "$CC_NAME" > /dev/null || die "$CC_NAME not found (install-deps.sh installs it)"
KEY="recipe=$RECIPE cc=$($CC_NAME -dumpfullversion) pins=$(echo $PINS | tr ' ' ',')"

print_vars() {
	local names
	names=$(cd "$OUT/ko" && ls *.ko | sed 's/\.ko$//' | tr '\n' ' ')
	printf 'DKMS_KVER=%q\n' "$KVER"
	printf 'DKMS_TREE=%q\n' "$OUT/dkms"
	printf 'DKMS_KODIR=%q\n' "$OUT/ko"
	printf 'DKMS_MODULES=%q\n' "${names% }"
	printf 'SYMVERS_61=%q\n' "$OUT/symvers/$KVER/Module.symvers"
	printf 'SYMVERS_612=%q\n' "$OUT/symvers/$KVER612/Module.symvers"
	printf 'SYMVERS_EXTRA=%q\n' "$OUT/symvers/extra/tp_smapi.Module.symvers"
	printf 'DKMS_VERSIONS=%q\n' "$(paste -sd, "$OUT/versions")"
}

if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$KEY" ]; then
	print_vars
	exit 0
fi

# fetch PACKAGE VERSION: DEB_FILE, DEB_VERSION... of a checked .deb
fetch() {
	local out
	out=$("$REPO/tests/scripts/deb-fetch.sh" "$1" "$2") || die "cannot have $1 $2"
	eval "$out"
	echo "$DEB_PACKAGE $DEB_VERSION" >> "$OUT/versions"
}

# Built in place; the stamp, written last, marks a finished build.
rm -rf "$OUT"
mkdir -p "$OUT"
WORK=$(mktemp -d "$CACHE/dkms/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
: > "$OUT/versions"
ROOT=$WORK/root     # the headers and kbuild, as installed (dropped at the end)
SRC=$OUT/src        # the DKMS packages' /usr/src: the builds' sources
DKMS=$OUT/dkms      # the /var/lib/dkms layout
mkdir -p "$ROOT" "$SRC" "$DKMS" "$OUT/ko" "$OUT/symvers/$KVER" "$OUT/symvers/$KVER612" \
	"$OUT/symvers/extra"

dkms_debs=""
hdrver=""
while read -r pin; do
	[ -n "$pin" ] || continue
	pkg=${pin%%=*} ver=${pin#*=}
	case $pkg in *-common) ver=$hdrver ;; esac
	fetch "$pkg" "$ver"
	DEB=$DEB_FILE
	[ "$pkg" = "linux-headers-$KVER" ] && hdrver=$DEB_VERSION
	case $pkg in
	linux-headers-$KVER612)
		# only its Module.symvers
		dpkg-deb --fsys-tarfile "$DEB" |
			tar -xO "./usr/src/linux-headers-$KVER612/Module.symvers" \
				> "$OUT/symvers/$KVER612/Module.symvers"
		;;
	*-dkms) dkms_debs="$dkms_debs $DEB" ;;
	*) dpkg -x "$DEB" "$ROOT" ;;
	esac
done <<< "$PINS"

H=$ROOT/usr/src/linux-headers-$KVER
[ -f "$H/Makefile" ] && [ -f "$H/.kernelvariables" ] || die "no kbuild headers in linux-headers-$KVER"
grep -qx "include /usr/src/linux-headers-${KVER%-amd64}-common/Makefile" "$H/Makefile" ||
	die "$H/Makefile is not the one-line include this recipe expects: $(head -c 200 "$H/Makefile")"
rm "$H/Makefile" # a fresh file: never write through a hard link
echo "include $ROOT/usr/src/linux-headers-${KVER%-amd64}-common/Makefile" > "$H/Makefile"
[ -x "$H/scripts/mod/modpost" ] || die "$H/scripts/mod/modpost missing: linux-kbuild-6.1 not where the headers expect it"
cp "$H/Module.symvers" "$OUT/symvers/$KVER/Module.symvers"
# CC as dkms takes it: from the headers' .kernelvariables
CC=$(printf 'show-%%:\n\t@echo $($*)\ninclude %s/.kernelvariables\n' "$H" | make -s -f - show-CC)
[ "$(echo $CC)" = "$CC_NAME" ] || die "the headers want CC=$CC, this recipe expects $CC_NAME"
export CC
# Nothing of an outer make (make check's jobserver) or of a cross build.
unset MAKEFLAGS MFLAGS MAKELEVEL ARCH CROSS_COMPILE KBUILD_OUTPUT KBUILD_EXTMOD

for deb in $dkms_debs; do
	dpkg -x "$deb" "$SRC"
done
for conf in "$SRC"/usr/src/*/dkms.conf; do
	src=$(dirname "$conf")
	# dkms.conf is a shell fragment dkms sources with these set.
	# shellcheck disable=SC1090
	eval "$(
		kernelver=$KVER kernel_source_dir=$H dkms_tree=$DKMS source_tree=$SRC/usr/src arch=$DKARCH
		set +u
		. "$conf"
		printf 'name=%q version=%q make_cmd=%q\n' "$PACKAGE_NAME" "$PACKAGE_VERSION" "${MAKE[0]:-}"
		printf 'built=(%s)\n' "$(printf '%q ' "${BUILT_MODULE_NAME[@]}")"
		printf 'locs=(%s)\n' "$(printf '%q ' "${BUILT_MODULE_LOCATION[@]}")"
	)"
	[ -n "$make_cmd" ] || make_cmd="make -C $H M=$DKMS/$name/$version/build"
	say "building $name $version ($(echo "${built[@]}")) against $KVER"
	b=$DKMS/$name/$version/build
	base=$DKMS/$name/$version/$KVER/$DKARCH
	mkdir -p "$b" "$base/log" "$base/module"
	cp -a "$src"/. "$b"/
	ln -s "$src" "$DKMS/$name/$version/source"
	log=$base/log/make.log
	{
		echo "DKMS make.log for $name-$version for kernel $KVER ($DKARCH)"
		echo "${make_cmd/#make/make -j2 KERNELRELEASE=$KVER}"
	} > "$log"
	(cd "$b" && eval "${make_cmd/#make/make -j2 KERNELRELEASE=$KVER}") >> "$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "$name $version: build failed (log above)"; }
	for i in "${!built[@]}"; do
		ko=$b/${locs[$i]:-}${built[$i]}.ko
		[ -f "$ko" ] || die "$name $version: $ko was not built"
		strip -g "$ko"
		cp "$ko" "$base/module/"
		ln "$base/module/${built[$i]}.ko" "$OUT/ko/${built[$i]}.ko"
	done
	# tp_smapi's own Module.symvers: what a user of thinkpad_ec's exports
	# gives kbuild as KBUILD_EXTRA_SYMBOLS
	[ "$name" = tp_smapi ] && cp "$b/Module.symvers" "$OUT/symvers/extra/tp_smapi.Module.symvers"
	ln -s "$version/$KVER/$DKARCH" "$DKMS/$name/kernel-$KVER-$DKARCH"
	rm -rf "$b" # dkms removes the build directory after a good build
done
[ -s "$OUT/symvers/extra/tp_smapi.Module.symvers" ] || die "tp_smapi built no Module.symvers"
[ "$(ls "$OUT/ko" | wc -l)" -ge 5 ] || die "expected 5 modules, built: $(ls "$OUT/ko")"

echo "$KEY" > "$OUT/.stamp"
print_vars
