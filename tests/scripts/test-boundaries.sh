#!/bin/bash
# Where modatlas writes, and how it treats symlinks that leave the tree.
#  1. Under strace (every file-system change it makes, all threads):
#     with -o OUT only OUT is created and written; without -o only the
#     module directory; the cache (on by default) only adds its own
#     directory (--cache-dir / MODATLAS_CACHE_DIR), and --no-cache not
#     even that. The input tree is byte for byte and stat for stat as it
#     was. On the fixture tree and on the real 6.1 tree (the thread pool).
#  2. Symlinks leaving the tree are followed, as kmod follows them, and
#     indexed under the link's own path: modules.dep names
#     kernel/.../link.ko (relative to the module directory), never the
#     target. Same files as Debian's depmod.
# Usage: test-boundaries.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
K=/usr/sbin/depmod
FIX=$REPO/tests/fixtures
V=6.1.0-56-amd64
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset MODATLAS_CACHE_DIR

# snapshot DIR: every entry with its type, size, mode, mtime and content hash
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %T@ %l\n' | sort
	 find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# changes LOG: "syscall path" for each change, from an strace -y log
changes() { python3 "$REPO/tests/scripts/strace-writes.py" "$1"; }

# only_under LIST PREFIX...: every changed path lies under one of PREFIX
only_under() {
	local list=$1 p ok bad=0
	shift
	while read -r call path; do
		ok=0
		for p in "$@"; do
			case $path in "$p" | "$p"/*) ok=1 ;; esac
		done
		[ $ok = 1 ] || { echo "    outside: $call $path"; bad=1; }
	done < "$list"
	[ $bad = 0 ]
}

# traced NAME ARGS...: modatlas depmod under strace; changes in $TMP/NAME.chg
traced() {
	local name=$1
	shift
	# LeakSanitizer cannot run under ptrace (an ASan build then aborts)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -y -qq -o "$TMP/$name.log" -e trace=%file,%desc "$M" depmod "$@" 2> /dev/null
	rc=$?
	changes "$TMP/$name.log" > "$TMP/$name.chg"
	echo "  $name: $(wc -l < "$TMP/$name.chg") file-system changes, exit $rc"
}

if ! command -v strace > /dev/null; then
	skip "write boundaries (fixture and 6.1 trees)" "strace is not installed (tests/scripts/install-deps.sh)"
else
	# ---- fixture tree ----
	cp -a "$FIX/tree" "$TMP/tree"
	snapshot "$TMP/tree" > "$TMP/tree.before"
	traced fix-o-nocache --no-cache -b "$TMP/tree" -o "$TMP/out1" $V
	check "fixture -o, --no-cache: exit 0" [ $rc = 0 ]
	check "fixture -o, --no-cache: changes only under the output directory" \
		only_under "$TMP/fix-o-nocache.chg" "$TMP/out1"
	check "fixture -o, --no-cache: the indexes were written" [ -s "$TMP/out1/lib/modules/$V/modules.dep.bin" ]
	traced fix-o-cache --cache-dir="$TMP/cache" -b "$TMP/tree" -o "$TMP/out2" $V
	check "fixture -o, cache: changes only under the output and cache directories" \
		only_under "$TMP/fix-o-cache.chg" "$TMP/out2" "$TMP/cache"
	check "fixture -o, cache: the cache was written" [ -n "$(ls -A "$TMP/cache")" ]
	snapshot "$TMP/tree" > "$TMP/tree.after"
	check "fixture -o: the input tree is unchanged (contents, sizes, modes, mtimes)" \
		cmp -s "$TMP/tree.before" "$TMP/tree.after"
	traced fix-inplace --no-cache -b "$TMP/tree" $V
	check "fixture in place: changes only in the module directory" \
		only_under "$TMP/fix-inplace.chg" "$TMP/tree/lib/modules/$V"
	# minus the eleven files and the module directory's own entry
	# (its mtime changes as files are renamed into it)
	outs=$(echo $DEPFILES | sed 's/ /|/g; s/\./\\./g')
	snapshot "$TMP/tree" | grep -Ev "/($outs)( |$)|^\./lib/modules/$V " > "$TMP/tree.after2"
	grep -Ev "/($outs)( |$)|^\./lib/modules/$V " "$TMP/tree.before" > "$TMP/tree.before2"
	check "fixture in place: nothing but the eleven files changed" \
		diff "$TMP/tree.before2" "$TMP/tree.after2"
	# the default cache directory is only touched when the cache is on
	traced fix-default-nocache --no-cache -b "$TMP/tree" -o "$TMP/out3" $V
	check "--no-cache: not even the default cache directory is touched" \
		only_under "$TMP/fix-default-nocache.chg" "$TMP/out3"

	# ---- the real 6.1 tree, several threads ----
	if realtree amd64-6.1; then
		v=$RT_KVER
		find "$RT_ROOT" -printf '%p %s %T@ %m\n' | sort > "$TMP/real.before"
		traced real-o -j2 --cache-dir="$TMP/rcache" -b "$RT_ROOT" -o "$TMP/rout" "$v"
		check "6.1 tree -o, 2 threads: exit 0" [ $rc = 0 ]
		check "6.1 tree -o: changes only under the output and cache directories" \
			only_under "$TMP/real-o.chg" "$TMP/rout" "$TMP/rcache"
		find "$RT_ROOT" -printf '%p %s %T@ %m\n' | sort > "$TMP/real.after"
		check "6.1 tree -o: the input tree is unchanged" cmp -s "$TMP/real.before" "$TMP/real.after"
	else
		fail "amd64-6.1: fetched"
	fi
fi

# ---- symlinks that leave the tree ----
S=$TMP/sym
cp -a "$FIX/tree" "$S"
D=$S/lib/modules/$V
mkdir -p "$TMP/outside/dir" "$D/kernel/ext"
A=$FIX/tree/lib/modules/$V/kernel/drivers/ma/chain/ma_a.ko
cp "$A" "$TMP/outside/target-name.ko"
cp "$A" "$TMP/outside/dir/ma_lnk_indir.ko"
ln -s "$TMP/outside/target-name.ko" "$D/kernel/ext/ma_lnk_abs.ko"           # absolute, out of the tree
ln -s "../../../../../../outside/target-name.ko" "$D/kernel/ext/ma_lnk_rel.ko" # relative, out of the tree
ln -s "$TMP/outside/dir" "$D/kernel/ext/linkdir"                            # a directory out of the tree
ln -s ../drivers/ma/chain/ma_a.ko "$D/kernel/ext/ma_lnk_in.ko"               # inside, another name
ln -s "$TMP/outside/target-name.ko" "$D/updates/ma_c.ko"                    # out of the tree, a known name
[ -e "$D/kernel/ext/ma_lnk_rel.ko" ] || fail "symlink setup: the relative link does not resolve"
cp -a "$S" "$S-k"
"$M" depmod --no-cache --compat=kmod30 -b "$S" $V 2> "$TMP/sym.err"
rc=$?
$K -b "$S-k" $V 2> /dev/null
check "symlinks: exit 0" [ $rc = 0 ]
DEPS="kernel/drivers/ma/chain/ma_b.ko kernel/drivers/ma/chain/ma_c.ko"
for l in kernel/ext/ma_lnk_abs.ko kernel/ext/ma_lnk_rel.ko kernel/ext/linkdir/ma_lnk_indir.ko \
	kernel/ext/ma_lnk_in.ko; do
	contains "symlinks: $l indexed under the link's path" "$D/modules.dep" "$l: "
done
not_contains "symlinks: no target path in modules.dep" "$D/modules.dep" "outside"
contains "symlinks: a link out of the tree wins a duplicate name by its own place (updates/)" \
	"$D/modules.dep" "updates/ma_c.ko:"
same=0
for f in $DEPFILES30; do cmp -s "$D/$f" "$S-k/lib/modules/$V/$f" && same=$((same + 1)); done
check "symlinks: 10/10 files identical to Debian's depmod ($same)" [ $same = 10 ]
# modprobe follows the same path (the link)
mkdir -p "$TMP/mpconf"
out=$(modprobe -C "$TMP/mpconf" -d "$S" -S $V --show-depends ma_lnk_abs 2>&1)
case $out in *"insmod $D/kernel/ext/ma_lnk_abs.ko"*) ok "symlinks: modprobe loads through the link" ;;
	*) fail "symlinks: modprobe loads through the link ($out)" ;; esac
summary
