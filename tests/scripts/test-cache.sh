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
# Another format (what another version wrote) is no damage: rebuilt
# without a warning, which a drop-in depmod must not print after an
# upgrade; a debug line says so.
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
	case ${how#rec-} in
	format) not_contains "$how cache: ignored without a warning" "$TMP/dmg-$how.err" "ignored" ;;
	*) contains "$how cache: warned and ignored" "$TMP/dmg-$how.err" "it will be rebuilt" ;;
	esac
	check "$how cache: output identical to a cold run" diff -r "$TMP/dmg-$how/lib/modules/$V" "$TMP/dmg-$how-n/lib/modules/$V"
	"$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/dmg-$how" $V > /dev/null 2> "$TMP/dmg-$how.err2"
	not_contains "$how cache: rebuilt (no warning the next time)" "$TMP/dmg-$how.err2" "ignored"
done
C=$(ls "$TMP/cache"/*.meta | head -n1)
printf '\x09' | dd of="$C" bs=1 seek=8 conv=notrunc 2>/dev/null
"$M" depmod "${CONF[@]}" -vvv -b "$T" -o "$TMP/dmg-format" $V > /dev/null 2> "$TMP/dmg-format.vvv"
contains "another format: a debug line says why" "$TMP/dmg-format.vvv" \
	"DEBUG: cache $C ignored (written by another version); it will be rebuilt"

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
# it reads no module: neither libelf nor a decompressor is loaded
libs_loaded "$TMP/short.libs" "$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V
contains "shortcut: runs (libc loaded)" "$TMP/short.libs" libc.so
for l in libelf libz liblzma libzstd; do
	not_contains "shortcut: $l not loaded" "$TMP/short.libs" "$l."
done
echo garbage >> "$O/lib/modules/$V/modules.alias"
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2>&1
same_file "shortcut: a damaged output is rewritten" "$TMP/rename-n/lib/modules/$V/modules.alias" "$O/lib/modules/$V/modules.alias"
rm "$O/lib/modules/$V/modules.devname"
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2>&1
check "shortcut: a deleted output is rewritten" [ -s "$O/lib/modules/$V/modules.devname" ]

# The outputs a run put in place are stamped: a run that finds them so
# trusts them without reading them; one written in place (same size, its
# time set back) has a new ctime, and is rewritten. (A cache of their
# own: the tests around keep theirs.)
export MODATLAS_CACHE_DIR=$TMP/cache-stamped
P=$TMP/stamped
"$M" depmod "${CONF[@]}" -b "$T" -o "$P" $V > /dev/null 2>&1
"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$TMP/stamped-n" $V > /dev/null 2>&1
if command -v strace > /dev/null; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=openat \
		-o "$TMP/stamped.trace" "$M" depmod "${CONF[@]}" -b "$T" -o "$P" $V > /dev/null 2>&1
	contains "stamped outputs: the run opened its cache" "$TMP/stamped.trace" ".meta\""
	not_contains "stamped outputs: nothing changed, modules.alias not read" \
		"$TMP/stamped.trace" "/modules.alias\""
	not_contains "stamped outputs: nothing changed, modules.dep.bin not read" \
		"$TMP/stamped.trace" "/modules.dep.bin\""
else
	skip "stamped outputs: not read" "no strace"
fi
python3 - "$P/lib/modules/$V/modules.alias" <<'PY'
import os, sys
p = sys.argv[1]
st = os.stat(p)
b = bytearray(open(p, 'rb').read())
i = b.index(b'alias ')
b[i:i + 6] = b'alias_'
open(p, 'r+b').write(b)
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
check "stamped outputs: changed in place, same size and time" \
	sh -c "! cmp -s '$P/lib/modules/$V/modules.alias' '$TMP/stamped-n/lib/modules/$V/modules.alias'"
"$M" depmod "${CONF[@]}" -b "$T" -o "$P" $V > /dev/null 2>&1
same_file "stamped outputs: changed in place, rewritten" \
	"$TMP/stamped-n/lib/modules/$V/modules.alias" "$P/lib/modules/$V/modules.alias"
# kept, not rewritten (the same bytes already there, written long enough
# before the run for a later write to show in their times): stamped too
export MODATLAS_CACHE_DIR=$TMP/cache-kept
"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$P" $V > /dev/null 2>&1
sleep 0.1
"$M" depmod "${CONF[@]}" -b "$T" -o "$P" $V > /dev/null 2>&1
if command -v strace > /dev/null; then
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=openat \
		-o "$TMP/kept.trace" "$M" depmod "${CONF[@]}" -b "$T" -o "$P" $V > /dev/null 2>&1
	not_contains "stamped outputs, kept: modules.alias not read" "$TMP/kept.trace" \
		"/modules.alias\""
	# kept, then touched for depmod -A: stamped after the touch
	not_contains "stamped outputs, kept and touched: modules.dep not read" "$TMP/kept.trace" \
		"/modules.dep\""
else
	skip "stamped outputs, kept: not read" "no strace"
fi
export MODATLAS_CACHE_DIR=$TMP/cache
"$M" depmod "${CONF[@]}" --compat=kmod30 -b "$T" -o "$O" $V > /dev/null 2>&1
check "shortcut: other options give a full run (no weakdep stays stale)" [ "$(od -An -tx1 -j8 -N4 "$O/lib/modules/$V/modules.dep.bin" | tr -d ' ')" != "2000000c" ]
"$M" depmod "${CONF[@]}" -b "$T" -o "$O" $V > /dev/null 2>&1
check "shortcut: back to default layout" [ "$(od -An -tx1 -j9 -N3 "$O/lib/modules/$V/modules.dep.bin" | tr -d ' ')" = "00000c" ]

# Modules changed on disk but not in content (touched, reinstalled from
# the same build): read again and compared with the digest the cache
# recorded; the indexes are left as they are.
S=$TMP/touched
"$M" depmod "${CONF[@]}" -b "$T" -o "$S" $V > /dev/null 2> "$TMP/touched0.err"
sleep 0.1
"$M" depmod "${CONF[@]}" -b "$T" -o "$S" $V > /dev/null 2>&1
ino=$(stat -c %i "$S/lib/modules/$V/modules.dep")
F=$D/kernel/drivers/ma/alias/ma_alias.ko
touch "$F"
"$M" depmod "${CONF[@]}" -b "$T" -o "$S" $V > /dev/null 2> "$TMP/touched1.err"
"$M" depmod "${CONF[@]}" -b "$T" -o "$S" $V > /dev/null 2> "$TMP/touched2.err"
check "touched: modules.dep not rewritten" [ "$(stat -c %i "$S/lib/modules/$V/modules.dep")" = "$ino" ]
same_file "touched: same messages as the full run" "$TMP/touched0.err" "$TMP/touched2.err"
# cp over the file: same inode, new bytes of the same build
cp "$F" "$TMP/ma_alias.copy" && cat "$TMP/ma_alias.copy" > "$F"
"$M" depmod "${CONF[@]}" -b "$T" -o "$S" $V > /dev/null 2>&1
check "reinstalled, same build: modules.dep not rewritten" [ "$(stat -c %i "$S/lib/modules/$V/modules.dep")" = "$ino" ]
# racy: the restamped module is read again until its stamp is old
touch "$F"
"$M" depmod "${CONF[@]}" -b "$T" -o "$S" $V > /dev/null 2>&1
python3 - "$F" <<'PY'
import os, sys
p = sys.argv[1]
st = os.stat(p)
b = bytearray(open(p, 'rb').read())
i = b.index(b'description=')
b[i:i + 12] = b'dEscription='   # a key depmod ignores: same digest
open(p, 'r+b').write(b)
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
"$M" depmod "${CONF[@]}" -b "$T" -o "$S" $V > /dev/null 2>&1
check "racy stamp, change depmod ignores: modules.dep not rewritten" [ "$(stat -c %i "$S/lib/modules/$V/modules.dep")" = "$ino" ]
# a change in content, in place: the full run
python3 - "$F" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'alias=')
b[i + 6] = ord('Z')
open(p, 'r+b').write(b)
PY
"$M" depmod "${CONF[@]}" -b "$T" -o "$S" $V > /dev/null 2>&1
"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$TMP/touched-n" $V > /dev/null 2>&1
check "changed in place: indexed again, as a cold run" diff -r "$S/lib/modules/$V" "$TMP/touched-n/lib/modules/$V"
check "changed in place: modules.alias differs from before" sh -c "! cmp -s '$S/lib/modules/$V/modules.alias' '$TMP/rename-n/lib/modules/$V/modules.alias'"
cp "$TMP/ma_alias.copy" "$F"

# An output whose bytes would not change is not rewritten (nor fsynced
# anew), with or without the cache: after a change to one module's
# aliases, only the alias files get new inodes.
K=$TMP/kept
"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$K" $V > /dev/null 2>&1
inodes() { for f in $DEPFILES; do printf '%s %s\n' "$f" "$(stat -c %i "$K/lib/modules/$V/$f")"; done; }
inodes > "$TMP/kept.0"
"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$K" $V > /dev/null 2>&1
inodes > "$TMP/kept.1"
same_file "unchanged tree, --no-cache: no output rewritten" "$TMP/kept.0" "$TMP/kept.1"
F=$D/kernel/drivers/ma/alias/ma_alias.ko
cp "$F" "$TMP/ma_alias.keep"
python3 - "$F" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'alias=ma-twice')
b[i + 6:i + 14] = b'ma-thrce'
open(p, 'r+b').write(b)
PY
"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$K" $V > /dev/null 2>&1
inodes > "$TMP/kept.2"
changed=$(diff "$TMP/kept.1" "$TMP/kept.2" | sed -n 's/^> \([^ ]*\) .*/\1/p' | tr '\n' ' ')
check "an alias changed: only the alias files rewritten ($changed)" \
	[ "$changed" = "modules.alias modules.alias.bin " ]
"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$TMP/kept-fresh" $V > /dev/null 2>&1
check "an alias changed: the kept and rewritten files are a fresh run's" \
	diff -r "$K/lib/modules/$V" "$TMP/kept-fresh/lib/modules/$V"
cp "$TMP/ma_alias.keep" "$F"

# A run that read a few modules writes them to a small delta file, not
# the whole records file again; damage to the delta costs those records.
R=$TMP/cache-delta
rm -rf "$R"
MODATLAS_CACHE_DIR=$R "$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/delta" $V > /dev/null 2>&1
sleep 0.1
rino=$(stat -c "%i %z" "$R"/*.records)
F=$D/kernel/drivers/ma/alias/ma_alias.ko
python3 - "$F" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'alias=ma-twice')
b[i + 6:i + 14] = b'ma-thrce'
open(p, 'r+b').write(b)
PY
sleep 0.1
MODATLAS_CACHE_DIR=$R "$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/delta" $V > /dev/null 2>&1
check "one module read: the records file is not rewritten" [ "$(stat -c "%i %z" "$R"/*.records)" = "$rino" ]
check "one module read: its record goes to the delta file" [ -s "$(ls "$R"/*.delta 2>/dev/null | head -n1)" ]
read -r hit total < <(MODATLAS_CACHE_DIR=$R "$M" depmod "${CONF[@]}" -vvv -b "$T" -o "$TMP/delta2" $V 2>&1 >/dev/null |
	sed -n 's/.*DEBUG: \([0-9]*\) of \([0-9]*\) module records from the cache.*/\1 \2/p')
check "with the delta, every record from the cache ($hit of $total)" [ -n "$hit" ] && [ "$hit" = "$total" ]
"$M" depmod "${CONF[@]}" --no-cache -b "$T" -o "$TMP/delta-n" $V > /dev/null 2>&1
check "with the delta: output identical to a cold run" diff -r "$TMP/delta2/lib/modules/$V" "$TMP/delta-n/lib/modules/$V"
printf 'XXXX' | dd of="$(ls "$R"/*.delta | head -n1)" bs=1 seek=60 conv=notrunc 2>/dev/null
MODATLAS_CACHE_DIR=$R "$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/delta3" $V > /dev/null 2> "$TMP/delta3.err"
contains "damaged delta: warned" "$TMP/delta3.err" "it will be rebuilt"
check "damaged delta: output identical to a cold run" diff -r "$TMP/delta3/lib/modules/$V" "$TMP/delta-n/lib/modules/$V"
# many modules read again (new files, same bytes; another -o, so that the
# indexes are built and not proven unchanged): the records file is
# written anew, without delta
for f in $(find "$D" -name '*.ko' | head -n 12); do cat "$f" > "$f.tmp" && mv "$f.tmp" "$f"; done
sleep 0.1
MODATLAS_CACHE_DIR=$R "$M" depmod "${CONF[@]}" -b "$T" -o "$TMP/delta4" $V > /dev/null 2>&1
check "many modules read: a new records file" [ "$(stat -c "%i %z" "$R"/*.records)" != "$rino" ]
check "many modules read: no delta any more" [ -z "$(ls "$R"/*.delta 2>/dev/null)" ]
cp "$TMP/ma_alias.keep" "$F"

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
