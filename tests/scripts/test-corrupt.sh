#!/bin/bash
# The corrupt-input catalog: one damaged module (or file-system object) per
# case, placed at kernel/bad/ in a copy of the fixture tree. For every case:
#  - modatlas neither crashes nor hangs (timeout; exit 0 as kmod, unless
#    the case says otherwise);
#  - one message names the file and the reason: an ERROR for a module that
#    cannot be read, an INFO (-vv) line for damage the parser tolerates as
#    kmod does (see docs/hardening.md), the walker's ERROR for file types;
#  - the bad module is listed as expected (no dependencies when unreadable,
#    still depending on ma_b when only tolerated damage), and every other
#    module is indexed exactly as in a run without it: modules.dep,
#    .alias, .symbols, .softdep, .devname and the dump of every .bin index,
#    with the bad module's own lines removed, equal the baseline's;
#  - where Debian's depmod (kmod 30) survives the same input, all ten files
#    are byte-identical to what it writes ("kmod=same" below).
# The damaged modules are made at test time by corrupt-module.py from the
# fixture module ma_a.ko (no binary is committed); decompression bombs are
# cached in .cache/corrupt/. test-badinput.sh has the simpler cases (empty,
# short, text, corrupt/truncated xz, truncated zstd) and output failures.
# Usage: test-corrupt.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
K=/usr/sbin/depmod
FIX=$REPO/tests/fixtures
CM=$REPO/tests/scripts/corrupt-module.py
V=6.1.0-56-amd64
TMP=$(mktemp -d)
chmod 755 "$TMP" # the unprivileged case reads the tree as nobody
trap 'rm -rf "$TMP"' EXIT
[ -n "${KEEP_TMP:-}" ] && trap - EXIT
SRC=$FIX/tree/lib/modules/$V/kernel/drivers/ma/chain/ma_a.ko
LIMIT=268435456 # MODFILE_DEFAULT_MAX_SIZE (src/elf/module.h)
NCASES=0

# Baseline: the fixture tree alone.
cp -a "$FIX/tree" "$TMP/base"
"$M" depmod --no-cache --compat=kmod30 -b "$TMP/base" $V 2> /dev/null
BASE=$TMP/base/lib/modules/$V
# The baseline's binary indexes as keys and values (dump-index without the
# priority column): each dump must succeed and list something.
BINFILES="modules.dep.bin modules.alias.bin modules.symbols.bin modules.builtin.bin modules.builtin.alias.bin"
BASE_DUMPS=$TMP/base-dumps
mkdir -p "$BASE_DUMPS"
for f in $BINFILES; do
	if "$M" dump-index "$BASE/$f" > "$BASE_DUMPS/$f.full" && [ -s "$BASE_DUMPS/$f.full" ]; then
		cut -f1,3- "$BASE_DUMPS/$f.full" > "$BASE_DUMPS/$f"
		ok "baseline: dump-index reads $f"
	else
		fail "baseline: dump-index reads $f"
		printf 'no baseline dump\n' > "$BASE_DUMPS/$f"
	fi
done
# What the intact ma_a indexes as, at kernel/bad/NAME.
GOODDEPS="kernel/drivers/ma/chain/ma_b.ko kernel/drivers/ma/chain/ma_c.ko"

modname_of() { basename "$1" | sed 's/\..*//; s/-/_/g'; }

# others_unchanged T NAME...: T's outputs minus everything about the
# modules NAME... equal the baseline's.
others_unchanged() {
	local t=$1 dir=$1/lib/modules/$V f pat="" n bad=0
	shift
	for n in "$@"; do pat="$pat -e $n"; done
	drop() { grep -v -F kernel/bad/ | grep -v -w $pat; }
	for f in modules.dep modules.alias modules.symbols modules.softdep modules.devname; do
		drop < "$dir/$f" > "$t.f" || true
		cmp -s "$t.f" "$BASE/$f" || { echo "    $f differs from the baseline"; bad=1; }
	done
	# The dumps' priority column is the module's position in depmod's
	# order, which an extra module shifts: compare keys and values. A dump
	# that fails (an unreadable index) is a difference, never "empty equals
	# empty"; the baseline's dumps were made and checked once, below.
	for f in $BINFILES; do
		if ! "$M" dump-index "$dir/$f" > "$t.dump" 2> "$t.dump.err"; then
			echo "    $f: dump-index failed: $(head -n1 "$t.dump.err")"
			bad=1
			continue
		fi
		drop < "$t.dump" | cut -f1,3- > "$t.f" || true
		cmp -s "$t.f" "$BASE_DUMPS/$f" || { echo "    $f differs from the baseline"; bad=1; }
	done
	[ $bad = 0 ]
}

# same_as_kmod T: Debian's depmod on a copy of T's input writes the same files
same_as_kmod() {
	local t=$1 same=0 f
	for f in $DEPFILES30; do
		cmp -s "$t/lib/modules/$V/$f" "$t-k/lib/modules/$V/$f" && same=$((same + 1))
	done
	[ $same = 10 ] || echo "    $same/10 files identical to Debian's depmod"
	[ $same = 10 ]
}

# run_tree T [ARGS]: modatlas -vv on tree T (a copy is kept for kmod), with
# a time limit; exit status in $rc, stderr in T.err (paths made relative)
run_tree() {
	local t=$1
	shift
	rm -rf "$t-k"
	cp -a "$t" "$t-k"
	timeout 120 "$M" depmod --no-cache --compat=kmod30 -vv "$@" -b "$t" $V > /dev/null 2> "$t.err"
	rc=$?
	sed -i "s|$t/lib/modules/$V/||g" "$t.err"
}

# case_file NAME EXPECT MESSAGE KMOD FILE: FILE goes to kernel/bad/NAME.
#  EXPECT  fail    unreadable: ERROR "failed to load symbols from PATH: MESSAGE",
#                  listed with no dependencies
#          nodeps  tolerated: INFO "PATH: MESSAGE", listed with no dependencies
#          deps    tolerated: INFO "PATH: MESSAGE" (none if MESSAGE is -),
#                  indexed as the intact ma_a (depends on ma_b, ma_c)
#  KMOD    same    all ten files byte-identical to Debian's depmod
#          -       not compared (reason in a comment at the case)
case_file() {
	local name=$1 expect=$2 msg=$3 kmod=$4 file=$5
	local t=$TMP/c-$name rel=kernel/bad/$name mod line
	NCASES=$((NCASES + 1))
	mod=$(modname_of "$name")
	cp -a "$TMP/base" "$t"
	mkdir -p "$t/lib/modules/$V/kernel/bad"
	cp "$file" "$t/lib/modules/$V/$rel"
	run_tree "$t"
	check "$name: exit 0, no crash or hang (rc $rc)" [ $rc = 0 ]
	case $expect in
	fail) contains "$name: error names the file and the reason" "$t.err" \
		"depmod: ERROR: failed to load symbols from $rel: $msg" ;;
	*) if [ "$msg" = - ]; then
		not_contains "$name: nothing to report" "$t.err" "$rel"
	   else
		contains "$name: -vv names the file and the reason" "$t.err" "depmod: INFO: $rel: $msg"
	   fi ;;
	esac
	line=$(grep "^$rel:" "$t/lib/modules/$V/modules.dep")
	if [ $expect = deps ]; then
		check "$name: indexed as the intact module ($line)" [ "$line" = "$rel: $GOODDEPS" ]
	else
		check "$name: listed, no dependencies ($line)" [ "$line" = "$rel:" ]
	fi
	check "$name: every other module indexed as without it" others_unchanged "$t" "$mod"
	if [ "$kmod" = same ]; then
		$K -b "$t-k" $V 2> /dev/null
		check "$name: 10/10 files identical to Debian's depmod" same_as_kmod "$t"
	fi
	rm -rf "$t" "$t-k"
}

# mk CASE: corrupt-module.py CASE on ma_a.ko, into $TMP/m/CASE.ko
mkdir -p "$TMP/m"
mk() { "$CM" "$1" "$SRC" "$TMP/m/${1//:/_}.ko" && echo "$TMP/m/${1//:/_}.ko"; }

SECTAB="elf: section table past the end of the file"
# ---- truncation at every structural boundary ----
case_file trunc-ident.ko fail "Exec format error (not an ELF file)" same "$(mk trunc-ident)"
case_file trunc-ehdr.ko fail "Invalid argument (elf: file too short for the ELF header)" same "$(mk trunc-ehdr)"
case_file trunc-after-ehdr.ko fail "Invalid argument (elf: file too short for the ELF header)" same "$(mk trunc-after-ehdr)"
case_file trunc-shtab-start.ko fail "Invalid argument ($SECTAB)" same "$(mk trunc-shtab-start)"
case_file trunc-shtab-mid.ko fail "Invalid argument ($SECTAB)" same "$(mk trunc-shtab-mid)"
case_file trunc-shtab-last.ko fail "Invalid argument ($SECTAB)" same "$(mk trunc-shtab-last)"

# The file cut at the start, the middle and the end of every section (the
# section table being at the end, all lose it), all in one tree.
NCASES=$((NCASES + 1))
t=$TMP/c-cut-every
cp -a "$TMP/base" "$t"
mkdir -p "$t/lib/modules/$V/kernel/bad"
mods=""
while read -r idx name off size; do
	[ "$idx" = 0 ] && continue
	for at in $off $((off + size / 2)) $((off + size)); do
		f=cut-$idx-$at.ko
		[ -e "$t/lib/modules/$V/kernel/bad/$f" ] && continue
		head -c "$at" "$SRC" > "$t/lib/modules/$V/kernel/bad/$f"
		mods="$mods $(modname_of $f)"
	done
done < <("$CM" --sections "$SRC")
n=$(ls "$t/lib/modules/$V/kernel/bad" | wc -l)
run_tree "$t"
check "cut-every ($n files): exit 0, no crash or hang (rc $rc)" [ $rc = 0 ]
c=$(grep -c "failed to load symbols from kernel/bad/cut-" "$t.err")
check "cut-every: an error names each of the $n files ($c)" [ "$c" = "$n" ]
c=$(grep -c "^kernel/bad/cut-.*:$" "$t/lib/modules/$V/modules.dep")
check "cut-every: each listed without dependencies ($c)" [ "$c" = "$n" ]
check "cut-every: every other module indexed as without them" others_unchanged "$t" $mods
$K -b "$t-k" $V 2> /dev/null
check "cut-every: 10/10 files identical to Debian's depmod" same_as_kmod "$t"
rm -rf "$t" "$t-k"

# The data cut in the middle of each section, the section table and the
# names kept (copied after the cut): each section on its own runs past
# the end of the file. Read what is there, say what is missing.
NCASES=$((NCASES + 1))
t=$TMP/c-cut-sections
cp -a "$TMP/base" "$t"
mkdir -p "$t/lib/modules/$V/kernel/bad"
mods=""
while read -r idx name off size; do
	[ "$idx" = 0 ] || [ "$size" = 0 ] || [ "$name" = .shstrtab ] && continue
	f=cutsec-$idx.ko
	"$CM" "cutsec:$name" "$SRC" "$t/lib/modules/$V/kernel/bad/$f"
	mods="$mods $(modname_of $f)"
done < <("$CM" --sections "$SRC")
n=$(ls "$t/lib/modules/$V/kernel/bad" | wc -l)
run_tree "$t"
check "cut-sections ($n files): exit 0, no crash or hang (rc $rc)" [ $rc = 0 ]
# Each file is either named by a message, or lost only sections the
# parser never reads (the relocations at the end) and is indexed intact.
said=0 intact=0
for f in "$t/lib/modules/$V/kernel/bad"/*; do
	rel=kernel/bad/$(basename "$f")
	if grep -qE "^depmod: (ERROR: failed to load symbols from |INFO: )$rel[: ]" "$t.err"; then
		said=$((said + 1))
	elif grep -qx "$rel: $GOODDEPS" "$t/lib/modules/$V/modules.dep"; then
		intact=$((intact + 1))
	fi
done
check "cut-sections: $said files named by a message, $intact intact (only unread sections lost)" \
	[ $((said + intact)) = "$n" ]
check "cut-sections: every other module indexed as without them" others_unchanged "$t" $mods
rm -rf "$t" "$t-k"

# ---- the ELF header and the section table ----
case_file shoff-past-eof.ko fail "Invalid argument ($SECTAB)" same "$(mk shoff-past-eof)"
case_file shoff-overflow.ko fail "Invalid argument ($SECTAB)" same "$(mk shoff-overflow)"
case_file shnum-huge.ko fail "Invalid argument ($SECTAB)" same "$(mk shnum-huge)"
# kmod 30 aborts on shnum-zero, shstrndx-range, xindex-shnum-huge and
# xindex-shstrndx-bad (assertion "idx < elf->header.section.count" in
# libkmod-elf.c), writing nothing: not compared.
case_file shnum-zero.ko fail "Invalid argument (elf: no section headers)" - "$(mk shnum-zero)"
case_file shentsize-zero.ko fail "Invalid argument (elf: unexpected section header size)" same "$(mk shentsize-zero)"
case_file shentsize-huge.ko fail "Invalid argument (elf: unexpected section header size)" same "$(mk shentsize-huge)"
case_file shstrndx-range.ko fail "Invalid argument (elf: invalid section name table index)" - "$(mk shstrndx-range)"
case_file shstrtab-nonul.ko fail "Invalid argument (elf: section name table does not end with NUL)" same "$(mk shstrtab-nonul)"
case_file shstrtab-empty.ko fail "Invalid argument (elf: section name table does not end with NUL)" same "$(mk shstrtab-empty)"
case_file class-bad.ko fail "Invalid argument (elf: invalid class 3)" same "$(mk class-bad)"
case_file data-bad.ko fail "Invalid argument (elf: invalid data encoding 7)" same "$(mk data-bad)"
case_file class-flip.ko fail "Invalid argument (elf: unexpected section header size)" same "$(mk class-flip)"
case_file endian-flip.ko fail "Invalid argument (elf: unexpected section header size)" same "$(mk endian-flip)"
# sh_entsize is never read (the symbol size follows from the class), as in
# kmod: nothing to report, the module is indexed as the intact one.
case_file entsize-zero.ko deps - same "$(mk entsize-zero)"
case_file entsize-huge.ko deps - same "$(mk entsize-huge)"
# SHN_XINDEX: the extended forms of e_shnum and e_shstrndx are valid ELF
# (kmod 30 does not know them: an assertion fails in libkmod-elf.c).
case_file xindex-shnum.ko deps - - "$(mk xindex-shnum)"
case_file xindex-shstrndx.ko deps - - "$(mk xindex-shstrndx)"
case_file xindex-shnum-huge.ko fail "Invalid argument (elf: no section headers)" - "$(mk xindex-shnum-huge)"
case_file xindex-shstrndx-bad.ko fail "Invalid argument (elf: invalid section name table index)" - "$(mk xindex-shstrndx-bad)"
case_file xindex-symbols.ko deps - same "$(mk xindex-symbols)"

# ---- sections ----
case_file strtab-nonul.ko deps "a string runs to the end of its section without NUL: cut there" same "$(mk strtab-nonul)"
case_file modinfo-nonul.ko deps "a string runs to the end of its section without NUL: cut there" same "$(mk modinfo-nonul)"
case_file sec-past-eof.ko nodeps "a section the parser reads lies outside the file: that section is ignored" same "$(mk sec-past-eof)"
case_file sec-overflow.ko deps "a section the parser reads lies outside the file: that section is ignored" same "$(mk sec-overflow)"
OVERLAP="sections (or the ELF header or section table) overlap: read as they are"
# names read from symbol bytes match nothing; the __versions entries
# still give ma_b
case_file overlap-strtab.ko deps "$OVERLAP" same "$(mk overlap-strtab)"
case_file overlap-modinfo.ko deps "$OVERLAP" same "$(mk overlap-modinfo)"
case_file overlap-shtab.ko deps "$OVERLAP" same "$(mk overlap-shtab)"
case_file versions-size.ko deps "__versions size is not a multiple of 64: the section is ignored (no symbol CRCs)" same "$(mk versions-size)"
case_file versions-noname-nul.ko deps "a __versions entry name has no NUL: cut at the end of its entry" same "$(mk versions-noname-nul)"
case_file symtab-size.ko nodeps ".symtab or .strtab missing, outside the file or not a whole number of symbols: no dependencies read" same "$(mk symtab-size)"
case_file symname-range.ko nodeps "an undefined symbol's name lies outside .strtab: no dependencies read" same "$(mk symname-range)"

# ---- the signature trailer ----
SIGBAD="signature trailer whose lengths do not fit the file: no signature read"
case_file sig-len-huge.ko deps "$SIGBAD" same "$(mk sig-len-huge)"
case_file sig-len-zero.ko deps "$SIGBAD" same "$(mk sig-len-zero)"
case_file sig-ids-lie.ko deps "$SIGBAD" same "$(mk sig-ids-lie)"
case_file sig-magic-only.ko deps "$SIGBAD" same "$(mk sig-magic-only)"
case_file sig-ok.ko deps - same "$(mk sig-ok)"

# ---- compressed streams (Debian's kmod has no zlib: .ko.gz not compared) ----
C=$TMP/comp
mkdir -p "$C"
gzip -n -c "$SRC" > "$C/good.gz"
{ head -c 400 "$C/good.gz"; head -c 200 /dev/zero; tail -c +601 "$C/good.gz"; } > "$C/corrupt.gz"
case_file corrupt.ko.gz fail "Invalid argument (gzip: " - "$C/corrupt.gz"
head -c $(( $(stat -c %s "$C/good.gz") - 100 )) "$C/good.gz" > "$C/trunc.gz"
case_file truncated.ko.gz fail "Invalid argument (gzip: unexpected end of file)" - "$C/trunc.gz"
head -c 9 "$C/good.gz" > "$C/header.gz"
case_file header-only.ko.gz fail "Invalid argument (gzip: unexpected end of file)" - "$C/header.gz"
zstd -q -c "$SRC" > "$C/good.zst"
{ head -c 300 "$C/good.zst"; head -c 300 /dev/zero; tail -c +601 "$C/good.zst"; } > "$C/corrupt.zst"
case_file corrupt.ko.zst fail "Invalid argument (zstd: " same "$C/corrupt.zst"
xz -c --check=crc32 "$SRC" > "$C/good.xz"
{ cat "$C/good.xz"; echo "trailing garbage"; } > "$C/garbage.xz"
case_file trailing-garbage.ko.xz fail "Invalid argument (xz: File is corrupt)" same "$C/garbage.xz"
printf '' | xz -c > "$C/empty.xz"
case_file empty-stream.ko.xz fail "Exec format error (not an ELF file)" same "$C/empty.xz"
gzip -n -c "$SRC" | xz -c > "$C/gzinxz.xz"
case_file gz-in-xz.ko.xz fail "Exec format error (not an ELF file)" same "$C/gzinxz.xz"
# a plain module named .ko.xz is read by magic, as kmod does
case_file plain-named.ko.xz deps - same "$SRC"

# Decompression bombs: ma_a.ko followed by 300 MiB of zeros, past the
# 256 MiB limit. Each must fail with the limit in the message, in bounded
# time and memory (peak RSS of a -j1 run, reported).
BOMBS=$CACHE/corrupt
mkdir -p "$BOMBS"
bomb() { # bomb FORMAT -> path (made once, cached)
	local f=$BOMBS/bomb-300M.$1
	if [ ! -s "$f" ]; then
		case $1 in
		xz) { cat "$SRC"; head -c 300M /dev/zero; } | xz -1 -T1 -c > "$f.tmp" ;;
		zst) { cat "$SRC"; head -c 300M /dev/zero; } |
			zstd -q -1 -c --stream-size=$(( $(stat -c %s "$SRC") + (300 << 20) )) > "$f.tmp" ;;
		nofcs.zst) { cat "$SRC"; head -c 300M /dev/zero; } | zstd -q -1 -c > "$f.tmp" ;;
		gz) { cat "$SRC"; head -c 300M /dev/zero; } | gzip -1 -n -c > "$f.tmp" ;;
		esac
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}
# case_bomb NAME FILE MESSAGE MAXRSS_KB: also reports peak RSS
case_bomb() {
	local name=$1 file=$2 msg=$3 maxkb=$4 t=$TMP/c-$1 rel=kernel/bad/$1 kb
	NCASES=$((NCASES + 1))
	cp -a "$TMP/base" "$t"
	mkdir -p "$t/lib/modules/$V/kernel/bad"
	cp "$file" "$t/lib/modules/$V/$rel"
	/usr/bin/time -f %M -o "$t.rss" timeout 120 "$M" depmod --no-cache --compat=kmod30 -j1 \
		-b "$t" $V 2> "$t.err"
	rc=$?
	kb=$(tail -n1 "$t.rss")
	sed -i "s|$t/lib/modules/$V/||g" "$t.err"
	echo "  $name: $(stat -c %s "$file") bytes, peak RSS $((kb / 1024)) MiB (limit $((maxkb / 1024)) MiB)"
	check "$name: exit 0, no crash or hang (rc $rc)" [ $rc = 0 ]
	contains "$name: error names the file and the limit" "$t.err" \
		"depmod: ERROR: failed to load symbols from $rel: File too large ($msg"
	check "$name: peak RSS ${kb} kB under ${maxkb} kB" [ "$kb" -lt "$maxkb" ]
	check "$name: listed without dependencies" grep -qx "$rel:" "$t/lib/modules/$V/modules.dep"
	check "$name: every other module indexed as without it" others_unchanged "$t" "$(modname_of "$name")"
	rm -rf "$t"
}
# The size the stream declares is over the limit: refused before decoding.
case_bomb bomb-declared.ko.xz "$(bomb xz)" "xz: decompressed size exceeds $LIMIT bytes)" 65536
case_bomb bomb-declared.ko.zst "$(bomb zst)" "zstd: decompressed size exceeds $LIMIT bytes)" 65536
# No usable declared size: decoded up to the limit, then refused. Memory
# is bounded by the limit itself (one module at a time per thread).
MAXKB=$(( (LIMIT + 128 * 1048576) / 1024 ))
# Under ASan a realloc copies and quarantines the old block (glibc moves
# large blocks with mremap): the growing buffer is held twice at the end.
if nm "$M" 2> /dev/null | grep -q __asan_init; then
	MAXKB=$(( (2 * LIMIT + 192 * 1048576) / 1024 ))
fi
case_bomb bomb-undeclared.ko.gz "$(bomb gz)" "gzip: decompressed size exceeds $LIMIT bytes)" $MAXKB
case_bomb bomb-undeclared.ko.zst "$(bomb nofcs.zst)" "zstd: decompressed size exceeds $LIMIT bytes)" $MAXKB
# xz with its footer damaged: the index cannot be found for a size hint
xzb=$(bomb xz)
{ head -c $(( $(stat -c %s "$xzb") - 12 )) "$xzb"; printf 'XXXXXXXXXXYZ'; } > "$C/nofooter.xz"
case_bomb bomb-undeclared.ko.xz "$C/nofooter.xz" "xz: decompressed size exceeds $LIMIT bytes)" $MAXKB
# zstd declaring 17 MiB (the sparse image path) but producing 300 MiB
"$CM" --zstd-fcs "$(bomb zst)" $((17 << 20)) > "$C/lying.zst"
case_bomb bomb-lying-size.ko.zst "$C/lying.zst" "zstd: decompressed size exceeds $((17 << 20)) bytes)" 131072

# Several bombs at once, on four threads: the run's decompressed bytes in
# flight stay under one budget (MODFILE_RUN_BUDGET, LIMIT + 1 MiB), not one
# limit per thread; each bomb is still refused with the same message.
NCASES=$((NCASES + 1))
t=$TMP/c-bombs
cp -a "$TMP/base" "$t"
mkdir -p "$t/lib/modules/$V/kernel/bad"
cp "$(bomb gz)" "$t/lib/modules/$V/kernel/bad/bomb-a.ko.gz"
cp "$(bomb nofcs.zst)" "$t/lib/modules/$V/kernel/bad/bomb-b.ko.zst"
cp "$C/nofooter.xz" "$t/lib/modules/$V/kernel/bad/bomb-c.ko.xz"
cp "$(bomb gz)" "$t/lib/modules/$V/kernel/bad/bomb-d.ko.gz"
/usr/bin/time -f %M -o "$t.rss" timeout 300 "$M" depmod --no-cache --compat=kmod30 -j4 \
	-b "$t" $V 2> "$t.err"
rc=$?
kb=$(tail -n1 "$t.rss")
echo "  four bombs, -j4: peak RSS $((kb / 1024)) MiB (one module's limit: $((LIMIT >> 20)) MiB)"
check "bombs -j4: exit 0 (rc $rc)" [ $rc = 0 ]
for b in bomb-a.ko.gz bomb-b.ko.zst bomb-c.ko.xz bomb-d.ko.gz; do
	contains "bombs -j4: $b refused at the limit" "$t.err" \
		"failed to load symbols from $t/lib/modules/$V/kernel/bad/$b: File too large ("
done
check "bombs -j4: peak RSS ${kb} kB under ${MAXKB} kB, as one bomb alone" [ "$kb" -lt "$MAXKB" ]
check "bombs -j4: every other module indexed as without them" others_unchanged "$t" bomb_a
rm -rf "$t"

# ---- file-system objects ----
# a directory named x.ko is a directory: walked, its module indexed (kmod too)
NCASES=$((NCASES + 1))
t=$TMP/c-dir
cp -a "$TMP/base" "$t"
mkdir -p "$t/lib/modules/$V/kernel/bad/dir.ko"
cp "$SRC" "$t/lib/modules/$V/kernel/bad/dir.ko/ma_inner.ko"
run_tree "$t"
check "dir.ko: exit 0 (rc $rc)" [ $rc = 0 ]
check "dir.ko: the module inside is indexed" \
	grep -qx "kernel/bad/dir.ko/ma_inner.ko: $GOODDEPS" "$t/lib/modules/$V/modules.dep"
check "dir.ko: every other module indexed as without it" others_unchanged "$t" ma_inner
$K -b "$t-k" $V 2> /dev/null
check "dir.ko: 10/10 files identical to Debian's depmod" same_as_kmod "$t"
rm -rf "$t" "$t-k"

# case_special NAME MESSAGE MAKE-COMMAND...: a non-module at kernel/bad/NAME,
# skipped by the walker with an error naming it; kmod words it the same.
case_special() {
	local name=$1 msg=$2 t=$TMP/c-$1 rel=kernel/bad/$1
	shift 2
	NCASES=$((NCASES + 1))
	cp -a "$TMP/base" "$t"
	mkdir -p "$t/lib/modules/$V/kernel/bad"
	(cd "$t/lib/modules/$V/kernel/bad" && "$@")
	run_tree "$t"
	check "$name: exit 0, no crash or hang (rc $rc)" [ $rc = 0 ]
	contains "$name: error names the file and the reason" "$t.err" "$msg"
	check "$name: not listed" not_listed "$t" "$rel"
	check "$name: every other module indexed as without it" others_unchanged "$t" "$(modname_of "$name")"
	$K -b "$t-k" $V 2> /dev/null
	check "$name: 10/10 files identical to Debian's depmod" same_as_kmod "$t"
	rm -rf "$t" "$t-k"
}
not_listed() { ! grep -q "^$2:" "$1/lib/modules/$V/modules.dep"; }
mksock() { python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"; }
case_special fifo.ko "depmod: ERROR: unsupported file type kernel/bad/fifo.ko: 10000" mkfifo fifo.ko
case_special socket.ko "depmod: ERROR: unsupported file type kernel/bad/socket.ko: 140000" mksock socket.ko
case_special chardev.ko "depmod: ERROR: unsupported file type kernel/bad/chardev.ko: 20000" mknod chardev.ko c 1 3
case_special dangling.ko "kernel/bad/dangling.ko): No such file or directory" ln -s nowhere.ko dangling.ko
case_special loop.ko "kernel/bad/loop.ko): Too many levels of symbolic links" ln -s loop.ko loop.ko
case_special loop2.ko "kernel/bad/loop2.ko): Too many levels of symbolic links" sh -c 'ln -s loop3.ko loop2.ko; ln -s loop2.ko loop3.ko'
# a directory symlink back to a parent: reported once and skipped (kmod
# recurses until it runs out of descriptors; not compared)
NCASES=$((NCASES + 1))
t=$TMP/c-dirloop
cp -a "$TMP/base" "$t"
mkdir -p "$t/lib/modules/$V/kernel/bad"
ln -s ../.. "$t/lib/modules/$V/kernel/bad/up"
run_tree "$t"
check "dirloop: exit 0, no crash or hang (rc $rc)" [ $rc = 0 ]
contains "dirloop: error names the link" "$t.err" \
	"kernel/bad/up: directory loop (links back to a parent directory), skipped"
check "dirloop: every other module indexed as without it" others_unchanged "$t" nothing_removed
rm -rf "$t" "$t-k"

# An unreadable module and an unreadable directory, for an unprivileged
# user (root reads everything): as root, nobody runs modatlas (setpriv) on
# a copy it can read except for those two, writing to a directory it owns;
# otherwise the user running the tests does.
NCASES=$((NCASES + 1))
t=$TMP/c-unreadable
cp -a "$TMP/base" "$t"
bd=$t/lib/modules/$V/kernel/bad
mkdir -p "$bd/locked"
cp "$SRC" "$bd/unreadable.ko"
cp "$SRC" "$bd/locked/hidden.ko"
chmod 000 "$bd/unreadable.ko" "$bd/locked"
mkdir -p "$t-out"
AS_NOBODY=""
if [ "$(id -u)" = 0 ]; then
	chown nobody "$t-out"
	AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
timeout 120 $AS_NOBODY "$M" depmod --no-cache --compat=kmod30 -b "$t" -o "$t-out" $V 2> "$t.err"
rc=$?
sed -i "s|$t/lib/modules/$V/||g" "$t.err"
check "unreadable: exit 0 (rc $rc)" [ $rc = 0 ]
contains "unreadable: error names the file and the reason" "$t.err" \
	"depmod: ERROR: failed to load symbols from kernel/bad/unreadable.ko: Permission denied (open: Permission denied)"
contains "unreadable: error names the directory and the reason" "$t.err" \
	"kernel/bad/locked, O_RDONLY): Permission denied"
check "unreadable: the module is listed without dependencies" \
	grep -qx "kernel/bad/unreadable.ko:" "$t-out/lib/modules/$V/modules.dep"
cp -a "$t-out/lib/modules/$V/." "$t/lib/modules/$V/"
check "unreadable: every other module indexed as without it" others_unchanged "$t" unreadable
rm -rf "$t" "$t-out"

# ---- the one deliberate exception ----
# A non-ASCII alias cannot be written to a 7-bit index: the run stops with
# an error naming the module and the string, exit 1, nothing written, the
# previous indexes kept (docs/compatibility.md; kmod 30 writes garbage,
# kmod 34 stops after replacing some files).
NCASES=$((NCASES + 1))
t=$TMP/c-nonascii
cp -a "$TMP/base" "$t"
mkdir -p "$t/lib/modules/$V/kernel/bad"
cp "$(mk alias-nonascii)" "$t/lib/modules/$V/kernel/bad/nonascii.ko"
cp -a "$t/lib/modules/$V" "$t.saved"
timeout 120 "$M" depmod --no-cache -b "$t" $V 2> "$t.err"
rc=$?
check "nonascii alias: exit 1 (rc $rc)" [ $rc = 1 ]
contains "nonascii alias: error names the module" "$t.err" "nonascii"
check "nonascii alias: previous indexes kept" diff -r "$t/lib/modules/$V" "$t.saved"
# A query on the indexes built from the tree builds the alias index only
# when a lookup reads it (docs/queries.md): a module found by its name
# is answered; an alias lookup fails with the same error, every time.
mkdir -p "$TMP/empty.d"
"$M" modprobe --index=files -C "$TMP/empty.d" -d "$t" -S $V -D ma_c > "$t.want" 2>&1
"$M" modprobe --index=build -C "$TMP/empty.d" -d "$t" -S $V -D ma_c > "$t.got" 2> "$t.err"
rc=$?
check "nonascii alias, query: a module's name answered (rc $rc)" [ $rc = 0 ]
same_file "nonascii alias, query: as from the previous indexes" "$t.want" "$t.got"
"$M" modprobe --index=build -C "$TMP/empty.d" -d "$t" -S $V -D no_such_alias > /dev/null 2> "$t.err"
rc=$?
check "nonascii alias, query: an alias lookup fails (rc $rc)" [ $rc != 0 ]
contains "nonascii alias, query: the error names the module" "$t.err" "nonascii"
rm -rf "$t" "$t.saved"

# ---- explicit files (depmod VERSION FILE...) ----
NCASES=$((NCASES + 1))
t=$TMP/c-explicit
cp -a "$TMP/base" "$t"
bd=$t/lib/modules/$V/kernel/bad
mkdir -p "$bd/adir.ko"
timeout 60 "$M" depmod --no-cache -b "$t" $V "$bd/adir.ko" "$t/lib/modules/$V/kernel/drivers/ma/chain/ma_c.ko" 2> "$t.err"
rc=$?
check "explicit directory: exit 0 (rc $rc)" [ $rc = 0 ]
contains "explicit directory: error names it and the reason" "$t.err" \
	"failed to load symbols from $bd/adir.ko: Is a directory"
contains "explicit directory: the other file is indexed" "$t/lib/modules/$V/modules.dep" \
	"kernel/drivers/ma/chain/ma_c.ko:"
# A FIFO given as a module file: opened with O_NONBLOCK, so no writer is
# waited for (kmod blocks in open() here). A hang is a failure: the run is
# killed after 60 s, far beyond the milliseconds it takes.
mkfifo "$bd/fifo.ko"
timeout 60 "$M" depmod --no-cache -b "$t" $V "$bd/fifo.ko" 2> "$t.err"
rc=$?
check "explicit FIFO: no hang (rc $rc; 124 = killed after 60 s)" [ $rc != 124 ]
check "explicit FIFO: exit 0 (rc $rc)" [ $rc = 0 ]
contains "explicit FIFO: error names it" "$t.err" "$bd/fifo.ko"
rm -rf "$t"

echo "  $NCASES catalog cases"
check "catalog: at least 30 distinct cases ($NCASES)" [ $NCASES -ge 30 ]
summary
