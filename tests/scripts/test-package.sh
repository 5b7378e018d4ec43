#!/bin/bash
# The Debian packages where depmod is really called (issue 13), in a Debian
# 12 chroot built by this test (mmdebstrap; the base is cached as
# .cache/pkgtest/bookworm-base-*.tar.zst, the .debs apt downloads in
# .cache/pkgtest/archives):
#   - dpkg-buildpackage builds modatlas and modatlas-depmod; lintian reports
#     no error and no warning; the binaries carry dpkg-buildflags' hardening;
#   - installing modatlas-depmod diverts kmod's depmod (both merged-/usr
#     names, and the man page);
#   - apt-get install linux-image-6.1.0-56-cloud-amd64: its postinst runs
#     depmod, now modatlas, and the indexes are byte-identical to what kmod's
#     (diverted) depmod writes for a copy of the tree;
#   - update-initramfs runs depmod -b on the initramfs tree: modatlas (strace
#     shows it) builds an initramfs whose modules.dep, and every other index
#     in it, is kmod's;
#   - acpi-call-dkms builds against the cloud kernel's headers: DKMS's
#     `depmod -a KVER -F System.map` runs modatlas (strace) and exits 0;
#   - the kernel's own probe (scripts/depmod.sh): an empty module directory
#     gets a modules.dep and exit 0; the autopkgtest passes;
#   - purging modatlas-depmod gives kmod's depmod back, indexes untouched
#     and still what kmod writes; purging modatlas removes its cache.
# Usage: test-package.sh BUILD_DIR (unused: the package builds its own)
set -u
cd "$(dirname "$0")/../.."
. tests/scripts/lib.sh

KVER=6.1.0-56-cloud-amd64
SUITE=bookworm
MIRRORS=("deb http://deb.debian.org/debian $SUITE main"
	"deb http://deb.debian.org/debian $SUITE-updates main"
	"deb http://deb.debian.org/debian-security $SUITE-security main")
# What every run needs before the packages under test: the base is cached,
# so this is paid once. Changing the list changes the cache file's name.
INCLUDES="kmod,initramfs-tools,zstd,cpio,dkms,linux-headers-$KVER,strace"
BASE_KEY=$(echo "$SUITE $INCLUDES ${MIRRORS[*]}" | md5sum | cut -c1-8)
PKGCACHE=$CACHE/pkgtest
BASE_TAR=$PKGCACHE/$SUITE-base-$BASE_KEY.tar.zst
ARCHIVES=$PKGCACHE/archives
# The eleven outputs less modules.weakdep: Debian 12's kmod 30 writes ten.
OUTPUTS=$DEPFILES30

if [ "$(id -u)" -ne 0 ]; then
	fail "test-package needs root (chroot, mounts)"
	summary
	exit
fi

t0=$(date +%s)
tick() { echo "   [$(($(date +%s) - t0)) s] $*"; }

mkdir -p "$PKGCACHE" "$ARCHIVES/partial"
# A run killed outright (SIGKILL: no trap runs) leaves its chroot's mounts
# and its folder: unmount (deepest first) and delete those of runs whose
# process is gone, before making ours.
for old in "$PKGCACHE"/run.*; do
	[ -d "$old" ] || continue
	pid=$(cat "$old/.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
	awk -v p="$old/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
	if grep -qF " $old/" /proc/mounts; then
		echo "test-package: mounts left under $old, not deleting it" >&2
	else
		echo "test-package: removing $old, left by a killed run"
		rm -rf --one-file-system "$old"
	fi
done
work=$(mktemp -d "$PKGCACHE/run.XXXXXX")
echo $$ > "$work/.pid"
R=$work/root
MOUNTS=()

# Unmount everything under $work (newest first), then delete it only if
# nothing is mounted there any more: never rm -rf through a mount.
cleanup() {
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null
	done
	if grep -qF " $work/" /proc/mounts; then
		echo "test-package: mounts left under $work, not deleting it" >&2
		return
	fi
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

inch() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
# apt-get install in the chroot; on failure (stale lists in a cached base:
# a package moved on in the archive), update the lists and try once more.
apt_in() {
	inch apt-get install -y -q --no-install-recommends "$@" >> "$work/apt.log" 2>&1 && return 0
	inch apt-get update -q >> "$work/apt.log" 2>&1
	inch apt-get install -y -q --no-install-recommends "$@" >> "$work/apt.log" 2>&1 && return 0
	tail -n 30 "$work/apt.log"
	return 1
}
# kmod is a multi-call binary that must be called "depmod".
kmod_depmod() { inch bash -c 'exec -a depmod /sbin/depmod.kmod "$@"' depmod "$@"; }
# same_indexes DESC DIR_A DIR_B FILES...: every file present and identical
same_indexes() {
	local desc=$1 a=$2 b=$3 f bad=
	shift 3
	for f in "$@"; do
		if [ ! -e "$a/$f" ] || ! cmp -s "$a/$f" "$b/$f"; then bad="$bad $f"; fi
	done
	if [ -z "$bad" ]; then ok "$desc"; else fail "$desc (differ or missing:$bad)"; fi
}
# A copy of the module tree DIR (inside the chroot) without its index
# files, under /tmp/NAME, indexed there by kmod's depmod.
kmod_copy() {
	local src=$1 name=$2
	inch rm -rf "/tmp/$name"
	inch mkdir -p "/tmp/$name/lib/modules"
	inch cp -a "$src" "/tmp/$name/lib/modules/$KVER"
	(cd "$R/tmp/$name/lib/modules/$KVER" && rm -f $DEPFILES)
	kmod_depmod -a -b "/tmp/$name" "$KVER"
}
# strace_ran_modatlas STRACE_FILE PATTERN: an execve of modatlas-depmod
# whose arguments match PATTERN, by a process that exited 0.
strace_ran_modatlas() {
	local line pid
	line=$(grep -E 'execve\("/usr/sbin/modatlas-depmod", \[' "$1" | grep -E -- "$2" | head -n1)
	if [ -z "$line" ]; then
		grep -E 'execve\("[^"]*depmod' "$1" | cut -c1-200 | sed 's/^/     seen: /'
		return 1
	fi
	echo "     $line" | cut -c1-200
	pid=${line%% *}
	grep -qE "^$pid +\+\+\+ exited with 0 \+\+\+" "$1"
}

# --- 1. the packages --------------------------------------------------
src=$work/src/modatlas
mkdir -p "$src"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -co --exclude-standard | while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
		tar -cf - -T - | tar -xf - -C "$src"
else
	tar --exclude=./.cache --exclude='./build*' -cf - . | tar -xf - -C "$src"
fi
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	tail -n 30 "$work/build.log"
	fail "dpkg-buildpackage -us -uc -b"
	summary
	exit
fi
changes=$(ls "$work"/src/modatlas_*.changes)
deb=$(ls "$work"/src/modatlas_*_*.deb)
depdeb=$(ls "$work"/src/modatlas-depmod_*_all.deb)
tick "packages built"

lintian --fail-on error,warning "$changes" > "$work/lintian.txt" 2>&1
lint_rc=$?
sed 's/^/     lintian: /' "$work/lintian.txt" | grep -v 'running with root privileges'
[ "$lint_rc" -eq 0 ] && ok "lintian: no error, no warning" || fail "lintian: errors or warnings"

mkdir -p "$work/x" && dpkg-deb -x "$deb" "$work/x"
flags_seen=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS)
for b in usr/bin/modatlas usr/sbin/modatlas-depmod; do
	f=$work/x/$b
	readelf -lW "$f" | grep -q GNU_RELRO && readelf -dW "$f" | grep -q 'BIND_NOW' &&
		readelf -dW "$f" | grep -q 'FLAGS_1.*PIE' &&
		readelf -sW --dyn-syms "$f" | grep -q '__stack_chk_fail' &&
		readelf -sW --dyn-syms "$f" | grep -qE '__[a-z]+_chk@' &&
		ok "$b: PIE, RELRO, BIND_NOW, stack protector, fortify ($flags_seen)" ||
		fail "$b: hardening missing"
done

# --- 2. the chroot ----------------------------------------------------
if [ ! -s "$BASE_TAR" ]; then
	tick "building the $SUITE base (cold: mmdebstrap, a few minutes)"
	if mmdebstrap --variant=apt --include="$INCLUDES" --skip=cleanup/apt/lists \
		--aptopt='Acquire::Retries "3"' "$SUITE" "$PKGCACHE/.base.tar.zst" "${MIRRORS[@]}" \
		> "$work/mmdebstrap.log" 2>&1; then
		mv "$PKGCACHE/.base.tar.zst" "$BASE_TAR"
	else
		tail -n 30 "$work/mmdebstrap.log"
		fail "mmdebstrap $SUITE"
		summary
		exit
	fi
fi
mkdir -p "$R"
tar --zstd -xpf "$BASE_TAR" -C "$R" --numeric-owner
mount -t proc proc "$R/proc" && MOUNTS+=("$R/proc")
mount -t sysfs sysfs "$R/sys" && MOUNTS+=("$R/sys")
mount --bind "$ARCHIVES" "$R/var/cache/apt/archives" && MOUNTS+=("$R/var/cache/apt/archives")
[ -c "$R/dev/null" ] || { mount --bind /dev "$R/dev" && MOUNTS+=("$R/dev"); }
mkdir -p "$R/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts" && MOUNTS+=("$R/dev/pts")
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d" && chmod +x "$R/usr/sbin/policy-rc.d"
tick "chroot ready"

# --- 3. the packages in --------------------------------------------------
mkdir -p "$R/tmp/debs" && cp "$deb" "$depdeb" "$R/tmp/debs/"
check "modatlas and modatlas-depmod install" apt_in /tmp/debs/"${deb##*/}" /tmp/debs/"${depdeb##*/}"
inch dpkg-divert --list > "$work/diversions.txt"
contains "/sbin/depmod diverted, renamed" "$work/diversions.txt" \
	"diversion of /sbin/depmod to /sbin/depmod.kmod by modatlas-depmod"
contains "/usr/sbin/depmod (its merged-/usr twin) diverted" "$work/diversions.txt" \
	"diversion of /usr/sbin/depmod to /usr/sbin/depmod.kmod.usr-is-merged by modatlas-depmod"
contains "depmod(8) diverted" "$work/diversions.txt" \
	"diversion of /usr/share/man/man8/depmod.8.gz to /usr/share/man/man8/depmod.kmod.8.gz by modatlas-depmod"
check "kmod's depmod link moved to /sbin/depmod.kmod" test "$(readlink "$R/sbin/depmod.kmod")" = /bin/kmod
inch depmod -V > "$work/V.txt" 2>&1
contains "depmod is modatlas, kmod 30 output" "$work/V.txt" "(kmod-compatible depmod, kmod 30 output)"
inch /usr/sbin/depmod -V > "$work/V2.txt" 2>&1
contains "/usr/sbin/depmod is modatlas too" "$work/V2.txt" "modatlas version"
check "man depmod is modatlas's" test "$(readlink "$R/usr/share/man/man8/depmod.8.gz")" = modatlas-depmod.8.gz
check "kmod's page kept as depmod.kmod.8.gz" test -f "$R/usr/share/man/man8/depmod.kmod.8.gz"
tick "installed"

# --- 4. a kernel package ------------------------------------------------
check "apt-get install linux-image-$KVER" apt_in "linux-image-$KVER"
M=$R/lib/modules/$KVER
check "its postinst ran modatlas (cache written for the tree)" \
	grep -qa "/lib/modules/$KVER" $(ls "$R"/var/cache/modatlas/*.meta 2>/dev/null || echo /dev/null)
check "no modules.weakdep (kmod 30 writes none)" test ! -e "$M/modules.weakdep"
kmod_copy "/lib/modules/$KVER" kmodtree
same_indexes "kernel postinst: indexes byte-identical to kmod's depmod" "$M" \
	"$R/tmp/kmodtree/lib/modules/$KVER" $OUTPUTS
echo "     $(grep -c . "$M/modules.dep") modules in modules.dep"
tick "kernel installed"

# --- 5. update-initramfs ------------------------------------------------
check "update-initramfs -u (under strace)" inch sh -c 'strace -f -q -s 256 -e trace=execve -e signal=none \
	-o /tmp/initramfs.strace update-initramfs -u -k "$0" > /tmp/initramfs.log 2>&1' "$KVER"
check "mkinitramfs's depmod -b ran modatlas and succeeded" \
	strace_ran_modatlas "$R/tmp/initramfs.strace" '"-a", "-b", "/var/tmp/mkinitramfs_'
inch rm -rf /tmp/initrd
check "unmkinitramfs" inch unmkinitramfs "/boot/initrd.img-$KVER" /tmp/initrd
idep=$(cd "$R" && find tmp/initrd -path "*/lib/modules/$KVER/modules.dep" | head -n1)
if [ -n "$idep" ]; then
	idir=/${idep%/modules.dep}
	kmod_copy "$idir" kmodinitrd
	same_indexes "initramfs: modules.dep byte-identical to kmod's" "$R$idir" \
		"$R/tmp/kmodinitrd/lib/modules/$KVER" modules.dep
	present=$(cd "$R$idir" && ls $OUTPUTS 2>/dev/null | tr '\n' ' ')
	same_indexes "initramfs: the other indexes too ($present)" "$R$idir" \
		"$R/tmp/kmodinitrd/lib/modules/$KVER" $present
	echo "     $(grep -c . "$R$idir/modules.dep") modules in the initramfs"
else
	fail "no modules.dep in the initramfs"
fi
tick "initramfs checked"

# --- 6. DKMS --------------------------------------------------------------
if inch sh -c 'strace -f -q -s 256 -e trace=execve -e signal=none -o /tmp/dkms.strace \
	apt-get install -y -q --no-install-recommends acpi-call-dkms > /tmp/dkms.log 2>&1'; then
	ok "apt-get install acpi-call-dkms (under strace)"
else
	tail -n 30 "$R/tmp/dkms.log"
	fail "apt-get install acpi-call-dkms (under strace)"
fi
check "DKMS's depmod -a KVER -F System.map ran modatlas and succeeded" \
	strace_ran_modatlas "$R/tmp/dkms.strace" "\"-a\", \"$KVER\", \"-F\", \"/boot/System.map-$KVER\""
contains "acpi_call is in modules.dep" "$M/modules.dep" "acpi_call.ko"
kmod_copy "/lib/modules/$KVER" kmodtree
same_indexes "after DKMS: indexes byte-identical to kmod's depmod" "$M" \
	"$R/tmp/kmodtree/lib/modules/$KVER" $OUTPUTS
tick "DKMS checked"

# --- 7. the kernel's probe, depmod -a, the autopkgtest -------------------
inch mkdir -p /tmp/probe/lib/modules/6.1.0-99-probe
check "scripts/depmod.sh probe: empty tree, exit 0" inch sh -c 'depmod -b /tmp/probe 6.1.0-99-probe 2>/dev/null'
check "scripts/depmod.sh probe: modules.dep written" test -e "$R/tmp/probe/lib/modules/6.1.0-99-probe/modules.dep"
check "depmod -a (modatlas) exits 0" inch depmod -a "$KVER"
cp "$src/debian/tests/installed-tree" "$R/tmp/installed-tree"
inch mkdir -p /tmp/autopkgtest
if inch env AUTOPKGTEST_TMP=/tmp/autopkgtest /tmp/installed-tree > "$work/autopkgtest.log" 2>&1; then
	ok "autopkgtest installed-tree"
else
	cat "$work/autopkgtest.log"
	fail "autopkgtest installed-tree"
fi
tick "probe and autopkgtest"

# --- 8. purge: kmod's depmod back, indexes valid --------------------------
mkdir -p "$work/before"
(cd "$M" && cp $OUTPUTS "$work/before/")
check "apt-get purge modatlas-depmod" inch sh -c 'apt-get purge -y -q modatlas-depmod > /tmp/purge.log 2>&1' 
inch dpkg-divert --list > "$work/diversions.txt"
not_contains "no depmod diversion left" "$work/diversions.txt" "depmod"
check "/sbin/depmod is kmod's link again" test "$(readlink "$R/sbin/depmod")" = /bin/kmod
check "no depmod.kmod left" test ! -e "$R/sbin/depmod.kmod" -a ! -L "$R/sbin/depmod.kmod"
check "kmod's depmod(8) back" test -f "$R/usr/share/man/man8/depmod.8.gz" -a ! -L "$R/usr/share/man/man8/depmod.8.gz"
inch depmod -V > "$work/V.txt" 2>&1
contains "depmod -V is kmod's" "$work/V.txt" "kmod version 30"
same_indexes "purge left the indexes as they were" "$work/before" "$M" $OUTPUTS
check "kmod's depmod -a works" inch depmod -a "$KVER"
same_indexes "kmod's depmod -a rewrites the same bytes" "$work/before" "$M" $OUTPUTS
check "apt-get purge modatlas" inch sh -c 'apt-get purge -y -q modatlas >> /tmp/purge.log 2>&1' 
check "purge removed /var/cache/modatlas" test ! -e "$R/var/cache/modatlas"
tick "purged"

echo "   test-package: $(($(date +%s) - t0)) s in all"
summary
