#!/bin/bash
# `make bench`: modatlas against Debian's depmod (kmod 30) and kmod 34.2
# (built -O2 by tests/scripts/kmod34.sh), side by side in one run, on the
# two real Debian trees (4023 plain .ko; 4229 .ko.xz), and against the
# physical floor of each case on this machine (tests/bench/floor.c: the
# least time to stat what a cached run must stat, read the bytes depmod
# needs, write and fsync the outputs): a full run, then incremental runs (one module
# touched, replaced, restored, added, removed; a package of two modules,
# one using the other's export, added and removed; nothing changed).
# Then modatlas check, cold, cached and the same check again (its memo), beside depmod.
#
# Every figure is the median of $RUNS runs; within a run the tools take
# turns (kmod 30, kmod 34.2, modatlas, ...), so a drift of the machine's
# speed hits them alike. Files are in the page cache (a warm-up run
# first), and each timed run starts with nothing dirty (sync, not timed:
# kmod writes without fsync, and on ext4 the next fsync of any file also
# flushes what kmod left dirty). Ratios are kmod's time over modatlas's
# (how many times faster) and modatlas's over the floor (how far above
# it). A benchmark, not a test: it never fails on a timing.
#
# It times the drop-in depmod binary (build/depmod: what kernel install
# hooks and DKMS run) and build/modatlas for check. Last, the query
# commands (modprobe, modinfo) against kmod 34.2's, and diff beside two
# depmod runs.
# Usage: bench.sh DEPMOD [RUNS]   (DEPMOD: build/depmod)
set -u
M=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
RUNS=${2:-${RUNS:-7}}
. "$(dirname "$0")/lib.sh"
K30=$KMOD30_DEPMOD
kmod34 || { echo "bench: kmod 34.2 could not be built (tests/scripts/kmod34.sh)"; exit 1; }
K34=$KMOD34_DEPMOD
TREES=${BENCH_TREES:-amd64-6.1 amd64-6.12xz}
# the incremental cases, in this order (each changes the tree the next sees)
CASES="touched replaced restored added removed pkgadded pkgremoved unchanged"
MA=$(dirname "$M")/modatlas
W=$(workdir)
trap 'rm -rf "$W"' EXIT
FLOOR=$W/floor
cc -std=c11 -O2 -o "$FLOOR" "$REPO/tests/bench/floor.c" -lpthread -llzma -lz -lzstd ||
	{ echo "bench: cannot build tests/bench/floor.c"; exit 1; }

# what fresh memory costs here (tests/bench/pagefault.c): on a hypervisor
# that shadows page tables, a 4 KiB page fault is the dearest thing a run does
cc -std=c11 -O2 -o "$W/pagefault" "$REPO/tests/bench/pagefault.c" ||
	{ echo "bench: cannot build tests/bench/pagefault.c"; exit 1; }

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# A run's wall microseconds. The clock is read in place, never through
# $(...): that forks, and the fork (about 1.1 ms on the slow VM) would be
# counted in the timed span.
timed() {
	local t0 t1
	sync
	t0=${EPOCHREALTIME/./}
	"$@" > /dev/null 2>&1
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }
# floor_ms MODE ARGS...: the floor program's median, in microseconds
floor_us() { "$FLOOR" -n "$RUNS" "$@" | sed -n 's/^[a-z]*: median \([0-9.]*\) ms.*/\1/p' | awk '{ printf "%d", $1 * 1000 }'; }
declare -A T # T[tree.case.tool] = list of microseconds
add() { T[$1]="${T[$1]:-} $2"; }
med() { printf '%s\n' ${T[$1]} | median; }
sums() { (cd "$1" && sha256sum modules.* 2>/dev/null); }

echo "modatlas bench: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs per figure (median)"
echo "fresh memory on this machine (tests/bench/pagefault.c): $("$W/pagefault" | sed 's/ (median.*//' | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
echo "kmod: $($K30 -V | head -n1) (Debian 12), $("$K34" -V | head -n1) (built here, -O2); modatlas: $("$M" -V | head -n1) ($1)"

for tree in $TREES; do
	realtree "$tree" || { echo "bench: cannot fetch $tree"; exit 1; }
	ver=$RT_KVER
	src=$RT_ROOT/lib/modules/$ver
	k30b=$W/$tree-k30 k34b=$W/$tree-k34 mb=$W/$tree-ma
	export MODATLAS_CACHE_DIR=$W/$tree-cache
	for b in "$k30b" "$k34b" "$mb"; do
		rm -rf "$b"; mkdir -p "$b/lib/modules"
		cp -al "$src" "$b/lib/modules/"
	done
	find "$RT_ROOT" -type f -exec cat {} + > /dev/null # page cache
	md=$mb/lib/modules/$ver
	mod=$(cd "$src" && find kernel/fs/ext4 -name 'ext4.ko*' | head -n1)
	ext=${mod#kernel/fs/ext4/ext4}
	# "replaced": ext4 rebuilt with one alias changed (what a new build of
	# a DKMS module does to the indexes), recompressed like Debian's
	python3 - "$src/$mod" "$W/$tree-replaced$ext" <<'EOF'
import lzma, sys
src, dst = sys.argv[1:3]
data = open(src, "rb").read()
xz = src.endswith(".xz")
if xz:
    data = lzma.decompress(data)
data = bytearray(data)
i = data.index(b"alias=fs-ext4\0")
data[i + 6:i + 13] = b"fs-ex4z"
if xz:
    data = lzma.compress(bytes(data), check=lzma.CHECK_CRC32,
                         filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 20}])
open(dst, "wb").write(data)
EOF
	# "a package": two modules a DKMS package might install, one using the
	# other's export: copies of crc-itu-t and omfs, the symbol crc_itu_t
	# renamed crc_xtu_t in both (new to the tree)
	rm -rf "$W/$tree-pkg" && mkdir -p "$W/$tree-pkg"
	for m in kernel/lib/crc-itu-t kernel/fs/omfs/omfs; do
		python3 - "$src/$m$ext" "$W/$tree-pkg/pkg_$(basename "$m")$ext" <<'EOF2'
import lzma, sys
src, dst = sys.argv[1:3]
data = open(src, "rb").read()
xz = src.endswith(".xz")
if xz:
    data = lzma.decompress(data)
data = data.replace(b"crc_itu_t", b"crc_xtu_t")
if xz:
    data = lzma.compress(data, check=lzma.CHECK_CRC32,
                         filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 20}])
open(dst, "wb").write(data)
EOF2
	done
	$K30 -b "$k30b" "$ver" > /dev/null 2>&1
	$K34 -b "$k34b" "$ver" > /dev/null 2>&1
	"$M" -b "$mb" "$ver" > /dev/null 2>&1
	declare -A CHANGED=()
	for i in $(seq "$RUNS"); do
		add "$tree.full.k30" "$(timed $K30 -b "$k30b" "$ver")"
		add "$tree.full.k34" "$(timed $K34 -b "$k34b" "$ver")"
		add "$tree.full.ma" "$(timed "$M" --no-cache -b "$mb" "$ver")"
		rm -rf "$MODATLAS_CACHE_DIR"
		add "$tree.first.ma" "$(timed "$M" -b "$mb" "$ver")" # cold, writing the cache
		sleep 0.1 # stamps younger than 50 ms are racy: read again
		"$M" -b "$mb" "$ver" > /dev/null 2>&1
		for case in $CASES; do
			before=$(sums "$md")
			case $case in
			touched) touch "$md/$mod" ;;
			replaced) cp "$W/$tree-replaced$ext" "$md/$mod.new" && mv "$md/$mod.new" "$md/$mod" ;;
			restored) cp "$src/$mod" "$md/$mod.new" && mv "$md/$mod.new" "$md/$mod" ;;
			added) cp "$src/$mod" "$md/kernel/fs/ext4/bench_added$ext" ;;
			removed) rm "$md/kernel/fs/ext4/bench_added$ext" ;;
			pkgadded) mkdir -p "$md/updates/dkms" && cp "$W/$tree-pkg"/pkg_* "$md/updates/dkms/" ;;
			pkgremoved) rm "$md/updates/dkms"/pkg_* ;;
			unchanged) ;;
			esac
			add "$tree.$case.ma" "$(timed "$M" -b "$mb" "$ver")"
			# which outputs changed: what the floor writes for this case
			[ -n "${CHANGED[$case]+x}" ] ||
				CHANGED[$case]=$(diff <(echo "$before") <(sums "$md") | sed -n 's/^> [0-9a-f]*  //p' | tr '\n' ' ')
		done
	done
	pk30=$(peak $K30 -b "$k30b" "$ver")
	pk34=$(peak $K34 -b "$k34b" "$ver")
	pma=$(peak "$M" --no-cache -b "$mb" "$ver")
	# the floors
	fstat=$(floor_us stat "$src")
	fstamps=$(floor_us stamps "$src")
	fread=$(floor_us read "$src")
	# reading (decoding) the one module a case changes, and the package's
	rm -rf "$W/fm1" "$W/fm2" && mkdir -p "$W/fm1" "$W/fm2"
	ln "$src/$mod" "$W/fm1/" && cp "$W/$tree-pkg"/pkg_* "$W/fm2/"
	fmod1=$(floor_us read "$W/fm1") fmod2=$(floor_us read "$W/fm2")
	mkdir -p "$W/fw"
	fwrite=$(floor_us write "$W/fw" "$md"/modules.{dep,dep.bin,alias,alias.bin,softdep,weakdep,symbols,symbols.bin,builtin.bin,builtin.alias.bin,devname})
	n=$(wc -l < "$md/modules.dep")
	k30=$(med "$tree.full.k30") k34=$(med "$tree.full.k34")
	echo
	echo "== $tree: $RT_PKG $RT_PKGVER, $n modules"
	echo "  floor on this machine: walk the tree and stat each module $(ms "$fstat") ms; stat each module and directory, no walk (what a cached run must) $(ms "$fstamps") ms;"
	echo "    read what depmod needs $(ms "$fread") ms; write + fsync the 11 files $(ms "$fwrite") ms; read the one module a case changes $(ms "$fmod1") ms, the package's two $(ms "$fmod2") ms"
	printf '  %-34s %9s %9s %9s %8s %8s %8s\n' "case" "kmod 30" "kmod 34.2" "modatlas" "vs k30" "vs k34" "/floor"
	row() { # row LABEL MODATLAS_US FLOOR_US
		printf '  %-34s %9s %9s %9s %7sx %7sx %7sx\n' "$1" "$(ms "$k30")" "$(ms "$k34")" "$(ms "$2")" \
			"$(ratio "$k30" "$2")" "$(ratio "$k34" "$2")" "$(ratio "$2" "$3")"
	}
	# A full run over outputs that are already current (the runs before it
	# wrote them) writes nothing: kmod rewrites all eleven, modatlas
	# compares. Its floor is the read; one that must write adds the write.
	row "full run, --no-cache" "$(med "$tree.full.ma")" "$fread"
	row "full run, writing the cache" "$(med "$tree.first.ma")" "$fread"
	echo "      (full runs: floor = the read, the outputs being current; $(ms $((fread + fwrite))) ms with all eleven written)"
	for case in $CASES; do
		files=${CHANGED[$case]}
		fw=0 fm=0
		[ -n "$files" ] && fw=$(floor_us write "$W/fw" $(printf "$md/%s " $files))
		case $case in
		replaced | restored | added) fm=$fmod1 ;; # bytes new to the last run: read
		# (touched: the same bytes, which a hash proves; no floor for that)
		pkgadded) fm=$fmod2 ;;
		esac
		case $case in
		pkg*) label="a package of 2 ${case#pkg}" ;;
		unchanged) label="nothing changed" ;;
		*) label="one module $case" ;;
		esac
		row "$label" "$(med "$tree.$case.ma")" $((fstamps + fm + fw))
		[ -n "$files" ] && echo "      (outputs that changed: $files)"
	done
	printf '  %-34s %8s MB %8s MB %8s MB %7sx %7sx\n' "peak memory, full run (no cache)" \
		"$(awk -v k="$pk30" 'BEGIN{printf "%.1f", k/1024}')" "$(awk -v k="$pk34" 'BEGIN{printf "%.1f", k/1024}')" \
		"$(awk -v k="$pma" 'BEGIN{printf "%.1f", k/1024}')" "$(ratio "$pma" "$pk30")" "$(ratio "$pma" "$pk34")"
	echo "      (memory ratios: modatlas's peak over kmod's)"
	# check beside depmod: cold, on a tree depmod has read (its records
	# cached, no memo of an earlier check), and the same check again (the
	# memo, docs/cache.md)
	rm -rf "$MODATLAS_CACHE_DIR"
	"$M" -b "$mb" "$ver" > /dev/null 2>&1
	for i in $(seq "$RUNS"); do
		add "$tree.ckcold" "$(timed "$MA" check --no-cache -b "$mb" "$ver")"
		rm -f "$MODATLAS_CACHE_DIR"/*.memo
		add "$tree.ckwarm" "$(timed "$MA" check -b "$mb" "$ver")"
		add "$tree.ckagain" "$(timed "$MA" check -b "$mb" "$ver")"
		add "$tree.dmwarm" "$(timed "$M" -b "$mb" "$ver")"
	done
	printf '  %-34s cold (no cache) %9s ms   cached %9s ms   the same again %7s ms\n' \
		"modatlas check" "$(ms "$(med "$tree.ckcold")")" "$(ms "$(med "$tree.ckwarm")")" \
		"$(ms "$(med "$tree.ckagain")")"
	printf '  %-34s cold (no cache) %9s ms   cached %9s ms\n' "modatlas depmod" \
		"$(ms "$(med "$tree.full.ma")")" "$(ms "$(med "$tree.dmwarm")")"
done
# ---- queries: modprobe and modinfo against kmod 34.2's ----
# On each tree indexed by kmod 34.2's depmod: one query, and many names in
# one call against one process per name (an eighth of the modules, each in
# its own process, for both); modatlas also on the tree without indexes
# (built from the modules through the cache, which a first run filled).
KMP=$KMOD34_MODPROBE KMI=$KMOD34_MODINFO
QRUNS=$((RUNS < 3 ? RUNS : 3))
EMPTYC=$W/empty-modprobe.d
mkdir -p "$EMPTYC"
echo
echo "== queries: kmod 34.2's modprobe and modinfo, and modatlas's, on the tree's own indexes ($QRUNS runs)"
# row DESC KMOD-CMD... -- MODATLAS-CMD...
qrow() {
	local desc=$1 kc=() mc=() i k=() m=() km mm
	shift
	while [ "$1" != -- ]; do kc+=("$1"); shift; done
	shift
	mc=("$@")
	for i in $(seq "$QRUNS"); do
		k+=("$(timed "${kc[@]}")")
		m+=("$(timed "${mc[@]}")")
	done
	km=$(printf '%s\n' "${k[@]}" | median)
	mm=$(printf '%s\n' "${m[@]}" | median)
	printf '  %-44s kmod 34.2 %8s ms  modatlas %8s ms  ratio %5sx\n' "$desc" "$(ms "$km")" "$(ms "$mm")" "$(ratio "$km" "$mm")"
}
# whynew ARGS...: modatlas why ARGS bench=<now>, a question never asked
whynew() { "$MA" why "$@" "bench=${EPOCHREALTIME/./}"; }
# each LIST CMD...: CMD NAME for every name of LIST, a process each
each() { local l=$1 n; shift; while read -r n; do "$@" "$n"; done < "$l"; }
for tree in $TREES; do
	realtree "$tree" || { echo "bench: cannot fetch $tree"; exit 1; }
	ver=$RT_KVER
	qb=$W/$tree-query
	export MODATLAS_CACHE_DIR=$W/$tree-qcache
	rm -rf "$qb" "$MODATLAS_CACHE_DIR"
	mkdir -p "$qb/lib/modules"
	cp -al "$RT_ROOT/lib/modules/$ver" "$qb/lib/modules/"
	$K34 -b "$qb" "$ver" > /dev/null 2>&1
	# the records into the cache for both directories, as depmod or check
	# would have left them
	"$MA" modprobe -C "$EMPTYC" --index=build -d "$qb" -S "$ver" -R dummy > /dev/null 2>&1
	"$MA" modprobe -C "$EMPTYC" -d "$RT_ROOT" -S "$ver" -R dummy > /dev/null 2>&1
	sed 's/:.*//; s|.*/||; s/\..*//' "$qb/lib/modules/$ver/modules.dep" > "$qb.mods"
	awk 'NR % 8 == 0' "$qb.mods" > "$qb.mods8"
	nall=$(wc -l < "$qb.mods") nsome=$(wc -l < "$qb.mods8")
	echo "  -- $tree ($nall modules)"
	qrow "modprobe -D e1000e" $KMP -C "$EMPTYC" -d "$qb" -S "$ver" -D e1000e -- \
		"$MA" modprobe -C "$EMPTYC" -d "$qb" -S "$ver" -D e1000e
	qrow "modprobe -R, a PCI modalias" $KMP -C "$EMPTYC" -d "$qb" -S "$ver" -R \
		pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00 -- \
		"$MA" modprobe -C "$EMPTYC" -d "$qb" -S "$ver" -R pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00
	qrow "modinfo e1000e" $KMI -b "$qb" -k "$ver" e1000e -- "$MA" modinfo -b "$qb" -k "$ver" e1000e
	# why answers more than modprobe -D (every module of the load order
	# judged by check's rules): timed beside kmod's nearest question. A
	# new question each run (an option after the name that no run asked
	# before: why's memo cannot answer), then one asked before (its memo)
	qrow "why e1000e, a new question (beside modprobe -D)" $KMP -C "$EMPTYC" -d "$qb" -S "$ver" -D e1000e -- \
		whynew -C "$EMPTYC" -b "$qb" e1000e "$ver"
	for i in 1 2; do "$MA" why -C "$EMPTYC" -b "$qb" e1000e "$ver" > /dev/null 2>&1; done
	qrow "why e1000e, asked again (memo; beside -D)" $KMP -C "$EMPTYC" -d "$qb" -S "$ver" -D e1000e -- \
		"$MA" why -C "$EMPTYC" -b "$qb" e1000e "$ver"
	qrow "modprobe -D e1000e, modatlas: tree without indexes" $KMP -C "$EMPTYC" -d "$qb" -S "$ver" -D e1000e -- \
		"$MA" modprobe -C "$EMPTYC" -d "$RT_ROOT" -S "$ver" -D e1000e
	qrow "modprobe -D, $nsome names, a process each" each "$qb.mods8" $KMP -C "$EMPTYC" -d "$qb" -S "$ver" -D -- \
		each "$qb.mods8" "$MA" modprobe -C "$EMPTYC" -d "$qb" -S "$ver" -D
	qrow "modprobe -D -a, $nall names in one call" xargs -a "$qb.mods" $KMP -C "$EMPTYC" -d "$qb" -S "$ver" -D -a -- \
		xargs -a "$qb.mods" "$MA" modprobe -C "$EMPTYC" -d "$qb" -S "$ver" -D -a
	qrow "modinfo, $nsome names, a process each" each "$qb.mods8" $KMI -b "$qb" -k "$ver" -- \
		each "$qb.mods8" "$MA" modinfo -b "$qb" -k "$ver"
	qrow "modinfo, $nall names in one call" xargs -a "$qb.mods" $KMI -b "$qb" -k "$ver" -- \
		xargs -a "$qb.mods" "$MA" modinfo -b "$qb" -k "$ver"
done

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
	"$MA" diff -f json "$2" "$3" > /dev/null 2>&1 # the cache, and the page cache
	for i in $(seq "$RUNS"); do
		cold+=("$(timed "$MA" diff --no-cache -f json "$2" "$3")")
		warm+=("$(timed "$MA" diff -f json "$2" "$3")")
		a=$(timed "$M" --no-cache -n -b "$4" "$5")
		b=$(timed "$M" --no-cache -n -b "$6" "$7")
		dep+=($((a + b)))
	done
	local c w d p
	c=$(printf '%s\n' "${cold[@]}" | median)
	w=$(printf '%s\n' "${warm[@]}" | median)
	d=$(printf '%s\n' "${dep[@]}" | median)
	p=$(peak "$MA" diff -f json "$2" "$3")
	printf '  %-30s cold %8s ms (two cold depmod -n runs %8s ms, ratio %4sx)  cached %7s ms  peak %s MB\n' \
		"$1" "$(ms "$c")" "$(ms "$d")" "$(ratio "$d" "$c")" "$(ms "$w")" "$(awk -v k="$p" 'BEGIN{printf "%.1f", k/1024}')"
}
bench_diff "6.1.0-47 -> 6.1.0-56" "$D47" "$D56" "$R47" "$V47" "$R56" "$V56"
bench_diff "6.1.0-56 -> 6.12.107 (xz)" "$D56" "$D612" "$R56" "$V56" "$R612" "$V612"
