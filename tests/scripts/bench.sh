#!/bin/bash
# `make bench`: modatlas against Debian's depmod (kmod 30) and kmod 34.2
# (built -O2 by tests/scripts/kmod34.sh), side by side in one run, on the
# two real Debian trees; then `modatlas check` on the 6.1 tree (the figure
# test-check.sh used to assert). Runs alternate, files are in the page
# cache (a warm-up run first), each figure is the median of $RUNS runs.
# A benchmark, not a test: it never fails on a timing. It times modatlas's
# drop-in depmod binary (build/depmod, what kernel install hooks and DKMS
# run); `modatlas depmod` is the same code with about 3.5 ms more start-up
# (it links graphviz, OpenSSL and json-c for `check`).
# Usage: bench.sh DEPMOD [RUNS]   (DEPMOD: build/depmod)
set -u
M=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
RUNS=${2:-${RUNS:-7}}
. "$(dirname "$0")/lib.sh"
K=$KMOD30_DEPMOD
kmod34 || { echo "bench: kmod 34.2 could not be built (tests/scripts/kmod34.sh)"; exit 1; }
K34=$KMOD34_DEPMOD
TREES="amd64-6.1 amd64-6.12xz"
CHECK=$(dirname "$M")/modatlas

now() { echo "${EPOCHREALTIME/./}"; } # microseconds
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
# timed CMD...: prints elapsed microseconds
# Each timed run starts with nothing dirty in the page cache (sync, not
# timed): kmod writes without fsync, and on ext4 (data=ordered) the next
# fsync of any file also flushes what kmod left dirty, so without it
# modatlas would pay for kmod's writeback.
timed() { local t0 t1; sync; t0=$(now); "$@" > /dev/null 2>&1; t1=$(now); echo $((t1 - t0)); }
# peak KB of CMD (max RSS)
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }

echo "modatlas bench: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), $RUNS runs per figure (median)"
echo "kmod: $($K -V | head -n1) (Debian 12), $("$K34" -V | head -n1) (built here, -O2); modatlas: $("$M" -V | head -n1) ($1)"
declare -A KFULL
W=$(workdir)
trap 'rm -rf "$W"' EXIT
for tree in $TREES; do
	realtree "$tree" || { echo "bench: cannot fetch $tree"; exit 1; }
	echo "$tree: $RT_PKG $RT_PKGVER"
	ver=$RT_KVER
	src=$RT_ROOT/lib/modules/$ver
	kb=$W/$tree-kmod k34b=$W/$tree-kmod34 mb=$W/$tree-modatlas
	export MODATLAS_CACHE_DIR=$W/$tree-cache
	for b in "$kb" "$k34b" "$mb"; do
		rm -rf "$b"; mkdir -p "$b/lib/modules"
		cp -al "$src" "$b/lib/modules/"
	done
	find "$RT_ROOT" -type f -exec cat {} + > /dev/null # page cache
	md=$mb/lib/modules/$ver
	full_m=() full_k=() full_k34=() nocache_m=() inc_m=() unch_m=() unch_k=()
	$K -b "$kb" "$ver" >/dev/null 2>&1
	$K34 -b "$k34b" "$ver" >/dev/null 2>&1
	"$M" -b "$mb" "$ver" >/dev/null 2>&1
	for i in $(seq "$RUNS"); do
		full_k+=("$(timed $K -b "$kb" "$ver")")
		full_k34+=("$(timed $K34 -b "$k34b" "$ver")")
		rm -rf "$MODATLAS_CACHE_DIR"
		full_m+=("$(timed "$M" -b "$mb" "$ver")")
		nocache_m+=("$(timed "$M" --no-cache -b "$mb" "$ver")")
		# nothing changed (kmod has no such notion: its run is a full run)
		"$M" -b "$mb" "$ver" >/dev/null 2>&1
		unch_k+=("$(timed $K -b "$kb" "$ver")")
		unch_m+=("$(timed "$M" -b "$mb" "$ver")")
		# one module touched, replaced, added, removed: each timed
		mod=$(grep -m1 -o '^kernel/fs/ext4/ext4.ko[^:]*' "$md/modules.dep")
		touch "$md/$mod"
		inc_m+=("$(timed "$M" -b "$mb" "$ver")")
		cp --remove-destination "$src/$mod" "$md/$mod.new"
		mv "$md/$mod.new" "$md/$mod"
		inc_m+=("$(timed "$M" -b "$mb" "$ver")")
		ext=${mod#kernel/fs/ext4/ext4}
		cp "$src/$mod" "$md/kernel/fs/ext4/bench_added$ext"
		inc_m+=("$(timed "$M" -b "$mb" "$ver")")
		rm "$md/kernel/fs/ext4/bench_added$ext"
		inc_m+=("$(timed "$M" -b "$mb" "$ver")")
	done
	fk=$(printf '%s\n' "${full_k[@]}" | median)
	fk34=$(printf '%s\n' "${full_k34[@]}" | median)
	fm=$(printf '%s\n' "${full_m[@]}" | median)
	nm=$(printf '%s\n' "${nocache_m[@]}" | median)
	im=$(printf '%s\n' "${inc_m[@]}" | median)
	imax=$(printf '%s\n' "${inc_m[@]}" | sort -n | tail -n1)
	uk=$(printf '%s\n' "${unch_k[@]}" | median)
	um=$(printf '%s\n' "${unch_m[@]}" | median)
	KFULL[$tree]=$fk
	rm -rf "$MODATLAS_CACHE_DIR"
	pk=$(peak $K -b "$kb" "$ver")
	pk34=$(peak $K34 -b "$k34b" "$ver")
	pm=$(peak "$M" -b "$mb" "$ver")
	n=$(wc -l < "$md/modules.dep")
	echo
	echo "== $tree ($n modules)"
	printf '  %-44s kmod 30   %8s ms  modatlas %8s ms  ratio %5sx\n' "full run (no cache yet)" "$(ms "$fk")" "$(ms "$fm")" "$(ratio "$fk" "$fm")"
	printf '  %-44s kmod 30   %8s ms  modatlas %8s ms  ratio %5sx\n' "full run, --no-cache" "$(ms "$fk")" "$(ms "$nm")" "$(ratio "$fk" "$nm")"
	printf '  %-44s kmod 34.2 %8s ms  modatlas %8s ms  ratio %5sx\n' "full run, kmod 34.2 (-O2) (no cache yet)" "$(ms "$fk34")" "$(ms "$fm")" "$(ratio "$fk34" "$fm")"
	printf '  %-44s kmod 30   %8s ms  modatlas %8s ms  ratio %5sx\n' "re-run, nothing changed" "$(ms "$uk")" "$(ms "$um")" "$(ratio "$uk" "$um")"
	printf '  %-44s kmod 30   %8s ms  modatlas %8s ms  ratio %5sx (slowest %s ms)\n' "re-run, one module touched/replaced/added/removed" "$(ms "$fk")" "$(ms "$im")" "$(ratio "$fk" "$im")" "$(ms "$imax")"
	printf '  %-44s kmod 30   %8s MB  modatlas %8s MB  ratio %5sx\n' "peak resident memory, full run" "$(awk -v k="$pk" 'BEGIN{printf "%.1f", k/1024}')" "$(awk -v k="$pm" 'BEGIN{printf "%.1f", k/1024}')" "$(ratio "$pk" "$pm")"
	printf '  %-44s kmod 34.2 %8s MB  modatlas %8s MB  ratio %5sx\n' "peak resident memory, full run, kmod 34.2" "$(awk -v k="$pk34" 'BEGIN{printf "%.1f", k/1024}')" "$(awk -v k="$pm" 'BEGIN{printf "%.1f", k/1024}')" "$(ratio "$pk34" "$pm")"
	eval "INC_$(echo "$tree" | tr -c 'a-z0-9\n' _)=$im; IMAX_$(echo "$tree" | tr -c 'a-z0-9\n' _)=$imax"
done
kx=${KFULL[amd64-6.12xz]}
echo
echo "== incremental re-runs against kmod's full run on the xz tree ($(ms "$kx") ms)"
for t in amd64_6_1 amd64_6_12xz; do
	v=INC_$t w=IMAX_$t
	printf '  %-14s median %8s ms  ratio %6sx   slowest %8s ms  ratio %6sx\n' "$t" "$(ms "${!v}")" "$(ratio "$kx" "${!v}")" "$(ms "${!w}")" "$(ratio "$kx" "${!w}")"
done

# modatlas check on the 6.1 tree with its Module.symvers (every module read,
# every signature parsed, every symbol and CRC checked), JSON out.
realtree amd64-6.1 || { echo "bench: cannot fetch amd64-6.1"; exit 1; }
if realtree_symvers; then
	"$CHECK" check -b "$RT_ROOT" -E "$RT_SYMVERS" -f json "$RT_KVER" > /dev/null 2>&1 # warm-up
	chk=()
	for i in $(seq "$RUNS"); do
		chk+=("$(timed "$CHECK" check -b "$RT_ROOT" -E "$RT_SYMVERS" -f json "$RT_KVER")")
	done
	echo
	echo "== modatlas check, amd64-6.1 ($RT_NMODS modules, -E Module.symvers, JSON)"
	cm=$(printf '%s\n' "${chk[@]}" | median)
	cmax=$(printf '%s\n' "${chk[@]}" | sort -n | tail -n1)
	printf '  %-44s modatlas %8s ms  (slowest %s ms)\n' "check, full tree" "$(ms "$cm")" "$(ms "$cmax")"
else
	echo "bench: no Module.symvers for amd64-6.1: check not timed"
fi

# modatlas diff: two trees read at once, each through the cache. Cold
# (--no-cache: every module of both read and parsed, the xz tree
# decompressed) against two cold depmod runs (--no-cache) on the same
# trees; cached (both trees' records from the cache, written by a first
# run). amd64-6.1-47 -> amd64-6.1 (two plain trees, a small diff) and
# amd64-6.1 -> amd64-6.12xz (plain -> xz, a big one), JSON out.
realtree amd64-6.1-47 || { echo "bench: cannot fetch amd64-6.1-47"; exit 1; }
D47=$RT_ROOT:$RT_KVER R47=$RT_ROOT V47=$RT_KVER
realtree amd64-6.1 || { echo "bench: cannot fetch amd64-6.1"; exit 1; }
D56=$RT_ROOT:$RT_KVER R56=$RT_ROOT V56=$RT_KVER
realtree amd64-6.12xz || { echo "bench: cannot fetch amd64-6.12xz"; exit 1; }
D612=$RT_ROOT:$RT_KVER R612=$RT_ROOT V612=$RT_KVER
export MODATLAS_CACHE_DIR=$W/diff-cache
echo
echo "== modatlas diff (JSON out; $RUNS runs each, median)"
bench_diff() { # bench_diff LABEL OLD NEW OLDROOT OLDVER NEWROOT NEWVER
	local cold=() warm=() dep=() i a b
	rm -rf "$MODATLAS_CACHE_DIR"
	"$CHECK" diff -f json "$2" "$3" > /dev/null 2>&1 # the cache, and the page cache
	for i in $(seq "$RUNS"); do
		cold+=("$(timed "$CHECK" diff --no-cache -f json "$2" "$3")")
		warm+=("$(timed "$CHECK" diff -f json "$2" "$3")")
		a=$(timed "$M" --no-cache -n -b "$4" "$5")
		b=$(timed "$M" --no-cache -n -b "$6" "$7")
		dep+=($((a + b)))
	done
	local c w d p
	c=$(printf '%s\n' "${cold[@]}" | median)
	w=$(printf '%s\n' "${warm[@]}" | median)
	d=$(printf '%s\n' "${dep[@]}" | median)
	p=$(peak "$CHECK" diff -f json "$2" "$3")
	printf '  %-30s cold %8s ms (two cold depmod -n runs %8s ms, ratio %4sx)  cached %7s ms  peak %s MB\n' \
		"$1" "$(ms "$c")" "$(ms "$d")" "$(ratio "$d" "$c")" "$(ms "$w")" "$(awk -v k="$p" 'BEGIN{printf "%.1f", k/1024}')"
}
bench_diff "6.1.0-47 -> 6.1.0-56" "$D47" "$D56" "$R47" "$V47" "$R56" "$V56"
bench_diff "6.1.0-56 -> 6.12.107 (xz)" "$D56" "$D612" "$R56" "$V56" "$R612" "$V612"
