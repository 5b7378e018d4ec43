#!/bin/bash
# Real out-of-tree modules, built as DKMS builds them, for the check tests:
# the sources of three Debian 12 DKMS packages (acpi-call-dkms, one module;
# v4l2loopback-dkms, one module using videodev's exports; tp-smapi-dkms,
# three modules, thinkpad_ec exporting what tp_smapi and hdaps use) built
# with kbuild against linux-headers-6.1.0-56-amd64; and the Module.symvers
# of the 6.1.0-56 and 6.12.107+deb12 kernels.
#
# Every .deb is pinned and checked against the SHA-256 of the archive's
# signed Packages index (apt-cache show PKG=VERSION), cached copies too. The
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
# Cached under $CACHE/dkms/<kernel>/, keyed by every package version, the
# compiler's version and this recipe's: a warm run reads one stamp file.
# Prints shell assignments (eval them): DKMS_KVER, DKMS_TREE (the DKMS
# layout), DKMS_KODIR (the built .ko files, flat), DKMS_MODULES (their
# names), SYMVERS_61, SYMVERS_612 (the kernels' Module.symvers),
# SYMVERS_EXTRA (tp_smapi's own Module.symvers: thinkpad_ec's exports),
# DKMS_VERSIONS (the packages used). Progress and errors go to stderr.
# Usage: dkms-build.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RECIPE=1 # bump when the build steps change
KVER=6.1.0-56-amd64
KVER612=6.12.107+deb12-amd64
DKARCH=x86_64
# PACKAGE=VERSION, and whether another version may stand in when the pinned
# one has left the archive (a kernel's headers may not: they are its ABI).
PINS="
linux-headers-$KVER=6.1.192-2 strict
linux-headers-${KVER%-amd64}-common=6.1.192-2 strict
linux-kbuild-6.1=6.1.192-3 any
linux-headers-$KVER612=6.12.107-1~deb12u1 strict
acpi-call-dkms=1.2.2-2.1 any
v4l2loopback-dkms=0.12.7-2 any
tp-smapi-dkms=0.43-3 any
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
	printf 'DKMS_VERSIONS=%q\n' "$(tr '\n' ' ' < "$OUT/versions")"
}

if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$KEY" ]; then
	print_vars
	exit 0
fi

# ---- fetching, checked against the archive -------------------------------
debs=$CACHE/debs
mkdir -p "$debs"
updated=0
apt_update() {
	[ $updated = 1 ] && return 0
	updated=1
	say "apt-get update"
	apt-get -o DPkg::Lock::Timeout=600 update -qq > /dev/null 2>&1 ||
		say "apt-get update failed (using the package lists as they are)"
}
candidate() { apt-cache policy "$1" 2> /dev/null | sed -n 's/^  Candidate: //p' | grep -v '^(none)$' || true; }
sha() { sha256sum < "$1" | cut -d' ' -f1; }

# record PACKAGE VERSION: "SHA256 Filename" from the Packages index, or nothing
record() {
	apt-cache show "$1=$2" 2> /dev/null |
		awk 'NF == 0 {done = 1} done {next} /^SHA256: /{s = $2} /^Filename: /{f = $2}
		END {if (s != "" && f != "") print s, f}'
}

# fetch PACKAGE VERSION strict|any: sets DEB to a checked .deb of it
fetch() {
	local pkg=$1 ver=$2 mode=$3 rec want fname
	rec=$(record "$pkg" "$ver")
	[ -n "$rec" ] || { apt_update; rec=$(record "$pkg" "$ver"); }
	if [ -z "$rec" ]; then
		[ "$mode" = any ] || die "$pkg $ver is gone from the archive (pinned: the tests' kernel trees need this version)"
		ver=$(candidate "$pkg")
		[ -n "$ver" ] || die "$pkg is not in the archive"
		say "$pkg $2 is gone from the archive: using $ver"
		rec=$(record "$pkg" "$ver")
	fi
	want=${rec%% *} fname=${rec#* }
	[ -n "$rec" ] || die "no SHA-256 for $pkg $ver in the Packages index"
	DEB=$debs/$(basename "$fname")
	if [ -f "$DEB" ] && [ "$(sha "$DEB")" != "$want" ]; then
		say "cached $(basename "$DEB") does not match the archive's SHA-256: downloading it again"
		rm -f "$DEB"
	fi
	if [ ! -f "$DEB" ]; then
		local tmp
		tmp=$(mktemp -d "$debs/.dl.XXXXXX")
		(cd "$tmp" && apt-get download "$pkg=$ver" > /dev/null 2>&1) ||
			{ apt_update; (cd "$tmp" && apt-get download "$pkg=$ver" > /dev/null 2>&1); } ||
			{ rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
		mv "$tmp"/*.deb "$DEB"
		rm -rf "$tmp"
	fi
	[ "$(sha "$DEB")" = "$want" ] ||
		{ rm -f "$DEB"; die "$(basename "$DEB"): SHA-256 differs from the archive's"; }
	echo "$pkg $ver" >> "$OUT/versions"
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
while read -r pin mode; do
	[ -n "$pin" ] || continue
	pkg=${pin%%=*} ver=${pin#*=}
	fetch "$pkg" "$ver" "$mode"
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
