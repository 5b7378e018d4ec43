#!/bin/bash
# The incremental cache never changes the output: after each kind of change
# to a tree, a run with the cache writes exactly what a cold run
# (--no-cache) writes, and prints the same messages. Also: a damaged cache
# is detected, reported and rebuilt; the "nothing changed" shortcut is not
# taken when outputs, config or options changed.
# Usage: test-cache.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
FIX=$REPO/tests/fixtures
V=6.1.0-56-amd64
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export MODATLAS_CACHE_DIR=$TMP/cache
T=$TMP/tree
D=$T/lib/modules/$V
cp -a "$FIX/tree" "$T"
mkdir -p "$TMP/empty.d"
CONF=(-C "$TMP/empty.d")

# run NAME [args]: cached run into $TMP/NAME-c, cold run into $TMP/NAME-n
compare_runs() {
	local name=$1 f same=0
	shift
	"$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/$name-c" "$@" $V > /dev/null 2> "$TMP/$name-c.err"
	"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$TMP/$name-n" "$@" $V > /dev/null 2> "$TMP/$name-n.err"
	for f in $DEPFILES; do
		cmp -s "$TMP/$name-c/lib/modules/$V/$f" "$TMP/$name-n/lib/modules/$V/$f" && same=$((same + 1))
	done
	check "$name: cached run identical to a cold run ($same/11 files)" [ $same = 11 ]
	same_file "$name: same messages" "$TMP/$name-n.err" "$TMP/$name-c.err"
}

# cached_count: "HIT TOTAL", how many module records came from the cache in
# a -vvv run (its debug line); nothing when the line is missing or reworded,
# which cache_hits below counts as a failure, never as "0 of 0".
cached_count() {
	"$M" depmod "${CONF[@]}" -vvv -b "$T" -o "$TMP/probe" $V 2>&1 >/dev/null |
		sed -n 's/.*DEBUG: \([0-9][0-9]*\) of \([0-9][0-9]*\) module records from the cache.*/\1 \2/p'
}
# cache_hits DESCRIPTION MAX-MISSES: the debug line is there, its total is
# the number of modules indexed (the lines of the probe run's modules.dep:
# the losing duplicate is never read), and at most MAX-MISSES of them were
# not served from the cache
cache_hits() {
	local d=$1 misses=$2 hit total n
	read -r hit total < <(cached_count)
	n=$(wc -l < "$TMP/probe/lib/modules/$V/modules.dep")
	if [ -z "${hit:-}" ] || [ -z "${total:-}" ]; then
		fail "$d (no 'N of N module records from the cache' debug line at -vvv)"
	elif [ "$total" -lt 1 ] || [ "$total" -ne "$n" ]; then
		fail "$d ($hit of $total: not the $n modules indexed)"
	elif [ $((total - hit)) -gt "$misses" ]; then
		fail "$d ($hit of $total from the cache)"
	else
		ok "$d ($hit of $total)"
	fi
}

# Stamps younger than 50 ms are racy and never trusted: let the copy age.
sleep 0.1
compare_runs cold
check "the cache files exist" [ -n "$(ls "$TMP/cache"/*.meta "$TMP/cache"/*.records 2>/dev/null)" ]
check "the cache is outside the tree" [ -z "$(find "$T" -name '*.meta' -o -name '*.records')" ]
compare_runs warm
sleep 0.1
cache_hits "unchanged tree: every record from the cache" 0

# add a module (a copy under a new name)
cp "$D/kernel/drivers/ma/chain/ma_c.ko" "$D/kernel/drivers/ma/ma_added.ko"
compare_runs add
contains "add: the new module is indexed" "$TMP/add-c/lib/modules/$V/modules.dep" "kernel/drivers/ma/ma_added.ko:"

# replace content, same size, mtime restored: only ctime tells
F=$D/kernel/drivers/ma/alias/ma_alias.ko
mt=$(stat -c %y "$F")
sleep 0.1
python3 - "$F" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'alias=ma-twice')
b[i + 6:i + 14] = b'ma-TWICE'
open(p, 'r+b').write(b)
PY
touch -d "$mt" "$F"
check "replace: size and mtime unchanged" [ "$(stat -c %y "$F")" = "$mt" ]
compare_runs replace
contains "replace: the new content is indexed" "$TMP/replace-c/lib/modules/$V/modules.alias" "alias ma-TWICE ma_alias"

# touch
sleep 0.1
touch "$D/kernel/drivers/ma/chain/ma_b.ko"
compare_runs touch
cache_hits "after a touch, the rest still comes from the cache" 1

# remove
rm "$D/kernel/drivers/ma/ma_added.ko"
compare_runs remove
not_contains "remove: the module is gone" "$TMP/remove-c/lib/modules/$V/modules.dep" "ma_added"

# rename (a new module name, the old one gone)
mv "$D/kernel/drivers/ma/ma_params.ko" "$D/kernel/drivers/ma/ma_params2.ko"
compare_runs rename
contains "rename: new name indexed" "$TMP/rename-c/lib/modules/$V/modules.dep" "ma_params2.ko:"

# a depmod.d change must be seen (config is part of what is stamped)
echo "exclude dkms" > "$TMP/empty.d/x.conf"
compare_runs config
not_contains "config: exclude applied" "$TMP/config-c/lib/modules/$V/modules.dep" "ma_upd_only"
rm "$TMP/empty.d/x.conf"

# damaged caches: corrupted, truncated, another format, garbage; in the
# meta file (read first) and in the records file (read on first use).
for how in corrupt truncate format garbage rec-corrupt rec-truncate rec-garbage; do
	case $how in
	rec-*) C=$(ls "$TMP/cache"/*.records | head -n1) ;;
	*) C=$(ls "$TMP/cache"/*.meta | head -n1) ;;
	esac
	# the records file is read only when something changed
	case $how in rec-*) touch "$D/kernel/drivers/ma/chain/ma_c.ko" ;; esac
	case ${how#rec-} in
	corrupt) printf 'XXXX' | dd of="$C" bs=1 seek=100 conv=notrunc 2>/dev/null ;;
	truncate) truncate -s $(( $(stat -c %s "$C") / 2 )) "$C" ;;
	format) printf '\x09' | dd of="$C" bs=1 seek=8 conv=notrunc 2>/dev/null ;;
	garbage) head -c 5000 /dev/urandom > "$C" ;;
	esac
	"$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/dmg-$how" $V > /dev/null 2> "$TMP/dmg-$how.err"
	"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$TMP/dmg-$how-n" $V > /dev/null 2>&1
	contains "$how cache: warned and ignored" "$TMP/dmg-$how.err" "it will be rebuilt"
	check "$how cache: output identical to a cold run" diff -r "$TMP/dmg-$how/lib/modules/$V" "$TMP/dmg-$how-n/lib/modules/$V"
	"$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/dmg-$how" $V > /dev/null 2> "$TMP/dmg-$how.err2"
	not_contains "$how cache: rebuilt (no warning the next time)" "$TMP/dmg-$how.err2" "ignored"
done

# The shortcut: nothing changed -> nothing rewritten, same messages.
O=$TMP/short
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2> "$TMP/short1.err"
sleep 0.1
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2> "$TMP/short1.err"
ino=$(stat -c %i "$O/lib/modules/$V/modules.dep")
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2> "$TMP/short2.err"
check "shortcut: nothing changed, modules.dep not rewritten" [ "$(stat -c %i "$O/lib/modules/$V/modules.dep")" = "$ino" ]
same_file "shortcut: same messages as the full run" "$TMP/short1.err" "$TMP/short2.err"
contains "shortcut: the messages are there" "$TMP/short2.err" "Unmatched bracket"
echo garbage >> "$O/lib/modules/$V/modules.alias"
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2>&1
same_file "shortcut: a damaged output is rewritten" "$TMP/rename-n/lib/modules/$V/modules.alias" "$O/lib/modules/$V/modules.alias"
rm "$O/lib/modules/$V/modules.devname"
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2>&1
check "shortcut: a deleted output is rewritten" [ -s "$O/lib/modules/$V/modules.devname" ]
"$M" depmod "${CONF[@]}" --compat=kmod30 -b "$T" -o "$O" $V > /dev/null 2>&1
check "shortcut: other options give a full run (no weakdep stays stale)" [ "$(od -An -tx1 -j8 -N4 "$O/lib/modules/$V/modules.dep.bin" | tr -d ' ')" != "2000000c" ]
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2>&1
check "shortcut: back to default layout" [ "$(od -An -tx1 -j9 -N3 "$O/lib/modules/$V/modules.dep.bin" | tr -d ' ')" = "00000c" ]

# A read-only cache location: the run still works, with a warning.
mkdir -p "$TMP/ro"
chmod 500 "$TMP/ro"
if [ "$(id -u)" = 0 ]; then
	MODATLAS_CACHE_DIR=/proc/modatlas-nowhere "$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/rocache" $V > /dev/null 2> "$TMP/ro.err"
else
	MODATLAS_CACHE_DIR=$TMP/ro/x "$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/rocache" $V > /dev/null 2> "$TMP/ro.err"
fi
rc=$?
check "unwritable cache dir: exit 0" [ $rc = 0 ]
contains "unwritable cache dir: warned" "$TMP/ro.err" "could not write cache"
check "unwritable cache dir: indexes written" diff -r "$TMP/rocache/lib/modules/$V" "$TMP/rename-n/lib/modules/$V"

# --no-cache writes no cache
rm -rf "$TMP/cache2"
MODATLAS_CACHE_DIR=$TMP/cache2 "$M" depmod --no-cache "${CONF[@]}" -b "$T" -o "$TMP/nc" $V 2>/dev/null
check "--no-cache: no cache written" [ ! -e "$TMP/cache2" ]
summary
