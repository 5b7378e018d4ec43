#!/bin/bash
# Fixture trees (tests/fixtures): modatlas against kmod's own depmod, both
# run here on copies of each tree, option by option.
#  - --compat=kmod30 against Debian's depmod (kmod 30): every file
#    byte-identical, same stdout, stderr and exit code;
#  - default against kmod 34.2 (built by tests/scripts/kmod34.sh): every
#    file byte-identical (binary indexes included, compared as kmod 34.2
#    wrote them), modules.weakdep written, same stdout, stderr, exit code.
# Usage: test-fixtures.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
K=/usr/sbin/depmod
FIX=$REPO/tests/fixtures
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
kmod34 || { fail "kmod 34.2 built (tests/scripts/kmod34.sh)"; summary; exit; }
K34=$KMOD34_DEPMOD

# copy_tree SRC_ROOT NAME: a private copy to run depmod in
copy_tree() { rm -rf "$TMP/$2"; cp -a "$1" "$TMP/$2"; }

# same_files A B FILES...: how many of FILES are byte-identical in A and B
# (missing on both sides counts as the same); names the others
same_files() {
	local a=$1 b=$2 f same=0 n=0
	shift 2
	for f in "$@"; do
		n=$((n + 1))
		if cmp -s "$a/$f" "$b/$f" || [ ! -e "$a/$f" -a ! -e "$b/$f" ]; then
			same=$((same + 1))
		else
			echo "    $f differs ($a vs $b)" >&2
		fi
	done
	echo "$same/$n"
}

# compare NAME VER [args...]: from $TMP/NAME, Debian's depmod (kmod 30) runs
# in $TMP/NAME-k, modatlas --compat=kmod30 in $TMP/NAME-m, kmod 34.2 in
# $TMP/NAME-q and modatlas (default) in $TMP/NAME-d.
compare() {
	local name=$1 ver=$2 x r
	shift 2
	for x in k m q d; do
		rm -rf "$TMP/$name-$x"
		cp -a "$TMP/$name" "$TMP/$name-$x"
	done
	(cd "$TMP" && $K -b "$name-k" "$@" "$ver" > "$name-k.out" 2> "$name-k.err"; echo $? > "$name-k.rc")
	(cd "$TMP" && "$M" depmod --compat=kmod30 -b "$name-m" "$@" "$ver" > "$name-m.out" 2> "$name-m.err"; echo $? > "$name-m.rc")
	(cd "$TMP" && $K34 -b "$name-q" "$@" "$ver" > "$name-q.out" 2> "$name-q.err"; echo $? > "$name-q.rc")
	(cd "$TMP" && "$M" depmod -b "$name-d" "$@" "$ver" > "$name-d.out" 2> "$name-d.err"; echo $? > "$name-d.rc")
	local kd=$TMP/$name-k/lib/modules/$ver md=$TMP/$name-m/lib/modules/$ver
	local qd=$TMP/$name-q/lib/modules/$ver dd=$TMP/$name-d/lib/modules/$ver
	r=$(same_files "$kd" "$md" $DEPFILES30)
	check "$name [$*] kmod30: $r files identical to Debian's depmod" [ "$r" = 10/10 ]
	r=$(same_files "$qd" "$dd" $DEPFILES)
	check "$name [$*] default: $r files identical to kmod 34.2's depmod" [ "$r" = 11/11 ]
	# Messages carry absolute paths: name the copies alike.
	for x in k m q d; do
		sed -i "s|/$name-$x/|/$name-X/|g" "$TMP/$name-$x.err" "$TMP/$name-$x.out"
	done
	same_file "$name [$*] kmod30: same stderr" "$TMP/$name-k.err" "$TMP/$name-m.err"
	same_file "$name [$*] kmod30: same stdout" "$TMP/$name-k.out" "$TMP/$name-m.out"
	same_file "$name [$*] kmod30: same exit code" "$TMP/$name-k.rc" "$TMP/$name-m.rc"
	same_file "$name [$*] default: same stderr as kmod 34.2" "$TMP/$name-q.err" "$TMP/$name-d.err"
	same_file "$name [$*] default: same stdout as kmod 34.2" "$TMP/$name-q.out" "$TMP/$name-d.out"
	same_file "$name [$*] default: same exit code as kmod 34.2" "$TMP/$name-q.rc" "$TMP/$name-d.rc"
	if [ "$(cat "$TMP/$name-q.rc")" = 0 ] && ! grep -qw -- -n <<< "$*"; then
		local f n=0
		for f in $DEPFILES; do [ -f "$dd/$f" ] && n=$((n + 1)); done
		check "$name [$*] default: all 11 files written, modules.weakdep included ($n)" [ $n = 11 ]
	fi
}

V=6.1.0-56-amd64

# ---- set 1: the kbuild tree, plain and with each option ----
copy_tree "$FIX/tree" tree
compare tree $V
compare tree $V -e -E "$TMP/tree/Module.symvers"
contains "tree: -e -E reports the missing symbol" "$TMP/tree-m.err" "ma_missing.ko needs unknown symbol modatlas_nonexistent_symbol"
contains "tree: -e -E reports the CRC mismatch" "$TMP/tree-m.err" "ma_stale_user.ko disagrees about version of symbol ma_ver_func"
compare tree $V -e -F "$TMP/tree/System.map"
compare tree $V -w
compare tree $V -v
contains "tree: -v shows edges" "$TMP/tree-m.out" 'ma_a.ko needs "ma_b_func"'
compare tree $V -n
compare tree $V -P m
contains "tree: the dashed file name indexes as ma_foo_bar" "$TMP/tree-d/lib/modules/$V/modules.dep" "kernel/fs/ma/ma-foo-bar.ko:"
contains "tree: updates/ wins the duplicate name" "$TMP/tree-d/lib/modules/$V/modules.dep" "kernel/drivers/ma/ma_dup_user.ko: updates/ma_dup.ko"
contains "tree: weakdep lines" "$TMP/tree-d/lib/modules/$V/modules.weakdep" "weakdep ma_softdep"

# depmod.d: search order, override, exclude, external
mkdir -p "$TMP/conf1" "$TMP/ext"
cp "$FIX/tree/lib/modules/$V/kernel/drivers/ma/ma_params.ko" "$TMP/ext/ma_params.ko"
cat > "$TMP/conf1/a.conf" <<CONF
# comment
search external built-in updates
override ma_dup * kernel/drivers/ma
exclude dkms
external * $TMP/ext
CONF
echo "bogus line here" > "$TMP/conf1/b.conf"
echo "search updates" > "$TMP/conf1/ignored.txt"
copy_tree "$FIX/tree" tree
compare tree $V -C "$TMP/conf1"
not_contains "config: exclude skips updates/dkms" "$TMP/tree-d/lib/modules/$V/modules.dep" "ma_upd_only"
contains "config: override picks kernel/ ma_dup" "$TMP/tree-d/lib/modules/$V/modules.dep" "kernel/drivers/ma/ma_dup.ko:"
printf 'search updates built-in\noverride ma_dup 6\\.1.* updates\n' > "$TMP/conf2.conf"
compare tree $V -C "$TMP/conf2.conf"

# explicit module files (no -a): only those are indexed
copy_tree "$FIX/tree" tree
D=lib/modules/$V/kernel/drivers/ma/chain
cp -a "$TMP/tree" "$TMP/treef-k"; cp -a "$TMP/tree" "$TMP/treef-m"
$K -b "$TMP/treef-k" $V "$TMP/treef-k/$D/ma_a.ko" "$TMP/treef-k/$D/ma_b.ko" "$TMP/treef-k/$D/ma_c.ko" 2> "$TMP/f-k.err"
"$M" depmod --compat=kmod30 -b "$TMP/treef-m" $V "$TMP/treef-m/$D/ma_a.ko" "$TMP/treef-m/$D/ma_b.ko" "$TMP/treef-m/$D/ma_c.ko" 2> "$TMP/f-m.err"
for f in modules.dep modules.alias modules.symbols modules.dep.bin; do
	same_file "explicit files: $f identical" "$TMP/treef-k/lib/modules/$V/$f" "$TMP/treef-m/lib/modules/$V/$f"
done
"$M" depmod -b "$TMP/treef-m" $V kernel/a.ko 2> "$TMP/f-rel.err"; rc=$?
check "explicit files: relative path is fatal (exit 1)" [ $rc = 1 ]
contains "explicit files: relative path message" "$TMP/f-rel.err" "depmod: FATAL: kernel/a.ko: not absolute path."

# -A: nothing newer -> nothing rewritten; a touched module -> full run
copy_tree "$FIX/tree" treeq
"$M" depmod -b "$TMP/treeq" $V 2>/dev/null
touch -d '2000-01-01' "$TMP/treeq/lib/modules/$V/modules.dep.bin"
find "$TMP/treeq" -name '*.ko' -exec touch -d '2001-01-01' {} +
touch -d '2002-01-01' "$TMP/treeq/lib/modules/$V/modules.dep"
"$M" depmod -A -b "$TMP/treeq" $V; rc=$?
check "-A up to date: exit 0" [ $rc = 0 ]
check "-A up to date: nothing rewritten" [ "$(stat -c %Y "$TMP/treeq/lib/modules/$V/modules.dep.bin")" = "$(date -d 2000-01-01 +%s)" ]
touch -d '2003-01-01' "$TMP/treeq/lib/modules/$V/kernel/drivers/ma/chain/ma_a.ko"
cp "$TMP/treeq/lib/modules/$V/modules.dep.bin" "$TMP/treeq.dep.bin"
printf '#' >> "$TMP/treeq/lib/modules/$V/modules.dep.bin" # to see it rewritten
"$M" depmod -A -b "$TMP/treeq" $V 2>/dev/null
check "-A with a newer module: indexes rewritten" cmp -s "$TMP/treeq/lib/modules/$V/modules.dep.bin" "$TMP/treeq.dep.bin"
# the bytes did not change, yet modules.dep is newer than every module
# now, as after kmod's run: the next -A has nothing to do
check "-A with a newer module: modules.dep newer than the module" \
	[ "$(stat -c %Y "$TMP/treeq/lib/modules/$V/modules.dep")" -gt "$(date -d 2003-01-01 +%s)" ]
touch -d '2000-01-01' "$TMP/treeq/lib/modules/$V/modules.dep.bin"
"$M" depmod -A -b "$TMP/treeq" $V 2>/dev/null
check "-A after that: up to date" [ "$(stat -c %Y "$TMP/treeq/lib/modules/$V/modules.dep.bin")" = "$(date -d 2000-01-01 +%s)" ]

# ---- set 3: compressed trees ----
for c in xz zst; do
	"$FIX/compress-tree.sh" "$FIX/tree" "$TMP/tree-$c" $c
	mv "$TMP/tree-$c" "$TMP/tree$c"
	compare "tree$c" $V
done
# Debian's kmod skips .ko.gz (built without zlib); modatlas reads them:
# the gz tree must index like the xz one, extension aside.
"$FIX/compress-tree.sh" "$FIX/tree" "$TMP/treegz" gz
"$M" depmod -b "$TMP/treegz" $V 2> "$TMP/gz.err"
for f in modules.dep modules.alias modules.symbols modules.softdep modules.weakdep modules.devname; do
	sed 's/\.ko\.gz/.ko.xz/g' "$TMP/treegz/lib/modules/$V/$f" > "$TMP/gz.$f"
	same_file "gzip tree: $f as for xz" "$TMP/treexz-d/lib/modules/$V/$f" "$TMP/gz.$f"
done

# Libraries loaded when needed (docs/architecture.md): libelf when a
# module is read (it brings zlib), each decompressor for its own format
# (xz also uses zlib's CRC32)
libs_loaded "$TMP/libs-plain" "$M" depmod --no-cache -b "$FIX/tree" -o "$TMP/libs-out" $V
for c in plain xz zst gz; do
	[ $c = plain ] || libs_loaded "$TMP/libs-$c" "$M" depmod --no-cache -b "$TMP/tree$c" -o "$TMP/libs-out" $V
	contains "$c tree: libelf loaded" "$TMP/libs-$c" libelf.so
	case $c in
	xz) want=liblzma no="libzstd" ;;
	zst) want=libzstd no="liblzma" ;;
	gz) want=libz no="liblzma libzstd" ;;
	plain) want=libz no="liblzma libzstd" ;;
	esac
	contains "$c tree: $want loaded" "$TMP/libs-$c" "$want.so"
	for l in $no; do
		not_contains "$c tree: $l not loaded" "$TMP/libs-$c" "$l.so"
	done
done

# Huge compressed modules (over 16 MiB once decompressed) are read into a
# sparse image: a padded copy of a module must index exactly as the plain
# one, whatever the codec.
"$M" depmod --no-cache -b "$FIX/tree" -o "$TMP/huge-base" $V 2>/dev/null
base_peak=$(/usr/bin/time -f %M "$M" depmod --no-cache -j1 -b "$FIX/tree" -o "$TMP/huge-base" $V 2>&1 >/dev/null | tail -n1)
for c in xz zst; do
	rm -rf "$TMP/huge-$c"
	cp -a "$FIX/tree" "$TMP/huge-$c"
	HD=$TMP/huge-$c/lib/modules/$V/kernel/drivers/ma/chain
	python3 "$REPO/tests/scripts/pad-elf.py" "$HD/ma_b.ko" "$HD/ma_b.big" $((17 << 20))
	rm "$HD/ma_b.ko"
	case $c in
	xz) xz --check=crc32 --lzma2=dict=1MiB -c "$HD/ma_b.big" > "$HD/ma_b.ko.xz" ;;
	zst) zstd -q -c "$HD/ma_b.big" > "$HD/ma_b.ko.zst" ;;
	esac
	mv "$HD/ma_b.big" "$TMP/ma_b.big"
	"$M" depmod --no-cache -b "$TMP/huge-$c" -o "$TMP/huge-$c-out" $V 2>/dev/null
	for f in modules.dep modules.alias modules.symbols; do
		sed "s/ma_b\.ko\.$c/ma_b.ko/g" "$TMP/huge-$c-out/lib/modules/$V/$f" > "$TMP/huge.$f"
		same_file "huge $c module (sparse image): $f as with the small plain one" \
			"$TMP/huge-base/lib/modules/$V/$f" "$TMP/huge.$f"
	done
	peak=$(/usr/bin/time -f %M "$M" depmod --no-cache -j1 -b "$TMP/huge-$c" -o "$TMP/huge-$c-out" $V 2>&1 >/dev/null | tail -n1)
	check "huge $c module: peak memory grows by far less than its 17 MiB ($base_peak -> $peak KB)" \
		[ $((peak - base_peak)) -lt 8192 ]
done

# ---- set 4: other architectures (ELF32 LE, ELF64 BE) ----
for a in amd64 i386 armhf s390x; do
	ver=$(ls "$FIX/arch/$a/lib/modules")
	copy_tree "$FIX/arch/$a" "arch-$a"
	compare "arch-$a" "$ver"
	check "arch $a: modules.dep has edges" grep -q ': ' "$TMP/arch-$a-m/lib/modules/$ver/modules.dep"
done

# ---- set 2: cycles ----
copy_tree "$FIX/cycle" cycle
compare cycle $V
check "cycle: nothing written" [ ! -e "$TMP/cycle-m/lib/modules/$V/modules.dep" ]
contains "cycle: kmod's message" "$TMP/cycle-m.err" "depmod: ERROR: Cycle detected: ma_cyc_a -> ma_cyc_b -> ma_cyc_a"
copy_tree "$FIX/cycle-nested" nested
timeout 20 "$M" depmod -b "$TMP/nested" $V 2> "$TMP/nested.err"; rc=$?
check "nested cycles: exit 1 (not a hang)" [ $rc = 1 ]
check "nested cycles: each elementary cycle once" [ "$(grep -c 'Cycle detected' "$TMP/nested.err")" = 2 ]
contains "nested cycles: r a b" "$TMP/nested.err" "Cycle detected: ma_nest_r -> ma_nest_a -> ma_nest_b -> ma_nest_r"
contains "nested cycles: a b" "$TMP/nested.err" "Cycle detected: ma_nest_a -> ma_nest_b -> ma_nest_a"
contains "nested cycles: count" "$TMP/nested.err" "Found 3 modules in dependency cycles!"
check "nested cycles: nothing written" [ ! -e "$TMP/nested/lib/modules/$V/modules.dep" ]

# ---- determinism: thread counts ----
copy_tree "$FIX/tree" det
for j in 1 2 7; do
	"$M" depmod -j $j -b "$TMP/det" -o "$TMP/det-j$j" $V 2>/dev/null
done
for f in $DEPFILES; do
	check "determinism: $f same for -j1, -j2, -j7" sh -c "cmp -s '$TMP/det-j1/lib/modules/$V/$f' '$TMP/det-j2/lib/modules/$V/$f' && cmp -s '$TMP/det-j1/lib/modules/$V/$f' '$TMP/det-j7/lib/modules/$V/$f'"
done
summary
