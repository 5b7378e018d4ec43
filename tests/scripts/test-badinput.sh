#!/bin/bash
# Bad input loses nothing: a broken module is reported with its path and the
# reason, still listed as kmod lists it, and every other module is indexed
# exactly as without it. Output failures (read-only or full filesystem, a
# cycle) leave the previous indexes intact and exit non-zero.
# Usage: test-badinput.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
K=/usr/sbin/depmod
FIX=$REPO/tests/fixtures
V=6.1.0-56-amd64
TMP=$(mktemp -d)
MNT=""
cleanup() { [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
[ -n "${KEEP_TMP:-}" ] && trap - EXIT

# Baseline: the fixture tree without any bad module.
cp -a "$FIX/tree" "$TMP/base"
"$M" depmod --compat=kmod30 -b "$TMP/base" $V 2> /dev/null
BASE=$TMP/base/lib/modules/$V
REAL=$FIX/tree/lib/modules/$V/kernel/drivers/ma/chain/ma_a.ko

# bad_case NAME FILE REASON: FILE (already made under $TMP/bad-NAME.src) is
# placed at kernel/bad/NAME in a copy of the tree.
bad_case() {
	local name=$1 src=$2 reason=$3 t=$TMP/case-$1 rel=kernel/bad/$1
	cp -a "$FIX/tree" "$t"
	mkdir -p "$t/lib/modules/$V/kernel/bad"
	cp "$src" "$t/lib/modules/$V/$rel"
	cp -a "$t" "$t-k"
	"$M" depmod --compat=kmod30 -b "$t" $V 2> "$t.err"; rc=$?
	$K -b "$t-k" $V 2> /dev/null
	check "$name: exit status 0, as kmod" [ $rc = 0 ]
	contains "$name: message names the file and the reason" "$t.err" \
		"depmod: ERROR: failed to load symbols from $t/lib/modules/$V/$rel: $reason"
	contains "$name: still listed in modules.dep" "$t/lib/modules/$V/modules.dep" "$rel:"
	local same=0 f
	for f in $DEPFILES30; do
		cmp -s "$t/lib/modules/$V/$f" "$t-k/lib/modules/$V/$f" && same=$((same + 1))
	done
	check "$name: all 10 files identical to Debian's depmod on the same tree ($same/10)" [ $same = 10 ]
	grep -v "^$rel:" "$t/lib/modules/$V/modules.dep" > "$t.dep"
	same_file "$name: every other module indexed as without it" "$BASE/modules.dep" "$t.dep"
	for f in modules.alias modules.symbols modules.softdep modules.devname; do
		same_file "$name: $f unchanged" "$BASE/$f" "$t/lib/modules/$V/$f"
	done
}

: > "$TMP/empty"
bad_case empty.ko "$TMP/empty" "Invalid argument"
head -c 3000 "$REAL" > "$TMP/trunc"
bad_case truncated.ko "$TMP/trunc" "Invalid argument"
echo "this is not a module, just text long enough" > "$TMP/text"
bad_case notelf.ko "$TMP/text" "Exec format error"
xz -c --check=crc32 "$REAL" > "$TMP/good.xz"
{ head -c 200 "$TMP/good.xz"; head -c 300 /dev/zero; tail -c +501 "$TMP/good.xz"; } > "$TMP/corrupt.xz"
bad_case corrupt.ko.xz "$TMP/corrupt.xz" "Invalid argument (xz: "
head -c $(( $(stat -c %s "$TMP/good.xz") / 2 )) "$TMP/good.xz" > "$TMP/trunc.xz"
bad_case truncated.ko.xz "$TMP/trunc.xz" "Invalid argument (xz: Unexpected end of input)"
zstd -q -c "$REAL" > "$TMP/good.zst"; head -c $(( $(stat -c %s "$TMP/good.zst") / 2 )) "$TMP/good.zst" > "$TMP/trunc.zst"
bad_case truncated.ko.zst "$TMP/trunc.zst" "Invalid argument (zstd: "

# ---- output failures keep the previous indexes ----
# prepare_out DIR: a good set of indexes in DIR, saved in DIR.saved
prepare_out() {
	"$M" depmod -b "$TMP/base" -o "$1" $V 2>/dev/null
	cp -a "$1" "$1.saved"
}
intact() { diff -r "$1" "$1.saved" > /dev/null; }

# a dependency cycle: exit 1, nothing written
cp -a "$FIX/tree" "$TMP/cyc"
cp "$FIX"/cycle/lib/modules/$V/kernel/*/ma_cyc_[ab].ko "$TMP/cyc/lib/modules/$V/kernel/" 2>/dev/null ||
	find "$FIX/cycle" -name 'ma_cyc_[ab].ko' -exec cp {} "$TMP/cyc/lib/modules/$V/kernel/" \;
prepare_out "$TMP/out-cyc"
"$M" depmod --no-cache -b "$TMP/cyc" -o "$TMP/out-cyc" $V 2> "$TMP/cyc.err"; rc=$?
check "cycle: exit 1" [ $rc = 1 ]
contains "cycle: reported" "$TMP/cyc.err" "Cycle detected: ma_cyc_a -> ma_cyc_b -> ma_cyc_a"
check "cycle: previous indexes intact" intact "$TMP/out-cyc"

if ! root_only "full-disk and read-only cases (mounting a tmpfs)"; then
	:
elif mkdir -p "$TMP/mnt" && mount -t tmpfs -o size=256k tmpfs "$TMP/mnt" 2>/dev/null; then
	MNT=$TMP/mnt
	# full filesystem: leave almost no room, then index again
	prepare_out "$MNT/out"
	mv "$MNT/out.saved" "$TMP/out-full.saved"
	dd if=/dev/zero of="$MNT/filler" bs=1k count=1000 2>/dev/null
	before=$(ls -A "$MNT/out/lib/modules/$V" | wc -l)
	"$M" depmod --no-cache -b "$TMP/base" -o "$MNT/out" $V 2> "$TMP/full.err"; rc=$?
	check "full disk: non-zero exit" [ $rc != 0 ]
	contains "full disk: clear error" "$TMP/full.err" "No space left on device"
	check "full disk: previous indexes intact" diff -r "$MNT/out" "$TMP/out-full.saved"
	check "full disk: no temporary files left" [ "$(ls -A "$MNT/out/lib/modules/$V" | wc -l)" = "$before" ]
	rm -f "$MNT/filler"
	# read-only filesystem
	mount -o remount,ro "$MNT"
	"$M" depmod --no-cache -b "$TMP/base" -o "$MNT/out" $V 2> "$TMP/ro.err"; rc=$?
	check "read-only: non-zero exit" [ $rc != 0 ]
	contains "read-only: clear error" "$TMP/ro.err" "Read-only file system"
	check "read-only: previous indexes intact" diff -r "$MNT/out" "$TMP/out-full.saved"
	umount "$MNT"; MNT=""
else
	fail "mount a tmpfs for the full-disk and read-only cases (as root)"
fi

# the module directory itself missing: kmod's FATAL, exit 1
"$M" depmod -b "$TMP/nowhere" $V 2> "$TMP/nodir.err"; rc=$?
check "missing module dir: exit 1" [ $rc = 1 ]
contains "missing module dir: kmod's message" "$TMP/nodir.err" "depmod: FATAL: could not search modules: No such file or directory"
summary
