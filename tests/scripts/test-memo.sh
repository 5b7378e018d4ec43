#!/bin/bash
# modatlas check's memo (src/check/memo.c): a check that repeats an
# earlier one, with every input of that one unchanged, prints what it
# printed. Every case here runs the check through the memo and again with
# --no-cache, and requires the same stdout, stderr and exit status; it
# also says whether the memo answered (its output file kept its inode) or
# the check ran, and requires the one the case calls for:
#  - a repeat answers, in JSON and text, exit 0 and 1, -v's info lines;
#  - other options (format, --fail-on, -v, a relative path from another
#    directory) run it again; absolute paths from another directory do not;
#  - each input changed runs it again, and the new answer is the one a
#    cold check gives: a module touched, replaced, added, removed; a
#    directory added; modules.order, modules.builtin.modinfo, -E, a
#    modprobe.d file edited or added, a depmod.d file added, a --cert
#    replaced, a firmware file installed and removed, the tree's
#    build/Module.symvers appearing, a kernel added under --all;
#  - a damaged memo is a run more, with nothing said;
#  - why's memo (src/why/why_memo.c), the same way: a question asked again
#    answers (text, JSON, options after the name, a refusal's exit 1, a
#    name that is nothing), each answer kept beside the others; another
#    tree-wide option replaces them; a module file is never kept; each
#    input changed asks again: a module touched, replaced, added,
#    removed, the indexes rewritten by depmod, modules.softdep, a
#    modprobe.d file edited and added, -E; a damaged memo;
#  - the real Debian 6.1 tree: the repeat answers, byte for byte (check,
#    and why).
# Usage: test-memo.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
. "$(dirname "$0")/lib.sh"
M=$BUILD/modatlas
V=6.1.0-56-amd64
D=$REPO/tests/fixtures/defects
TMP=$(workdir)
trap 'rm -rf "$TMP"' EXIT
[ -n "${KEEP_TMP:-}" ] && trap - EXIT && echo "temporary files in $TMP"
MC=$TMP/cache
# the defect corpus, copied: its inputs are changed below
T=$TMP/tree
cp -a "$D/tree" "$T"
cp "$D/Module.symvers" "$TMP/Module.symvers"
cp -a "$D/modprobe.d" "$TMP/modprobe.d"
MD=$T/lib/modules/$V
DEF=$MD/kernel/drivers/ma/defects
ARGS=(-b "$T" -E "$TMP/Module.symvers" --modprobe-d "$TMP/modprobe.d")
settle() { sleep 0.1; } # after a change: the next run's stamps not "racy"
settle

# memo_inodes [DIR]: the inodes of DIR's memo outputs (default: check's
# cache): a run that keeps a memo writes a new one
memo_inodes() { stat -c %i "${1:-$MC}"/*.memo 2> /dev/null | tr '\n' ' '; }

# agree NAME WANT GOT: WANT and GOT the same (hit or run), and the run of
# NAME printed what its --no-cache run printed, with its exit status
agree() {
	local name=$1 want=$2 got=$3
	GOT=$got
	[ -n "${MEMO_DEFER:-}" ] && return 0 # real_repeat judges later
	[ -f "$TMP/$name.again" ] &&
		same_file "$name: again, untraced, the same answer" "$TMP/$name.out" "$TMP/$name.again"
	check "$name: the memo $([ "$want" = hit ] && echo answers || echo "is not used") (got: $got)" \
		[ "$got" = "$want" ]
	same_file "$name: stdout as --no-cache" "$TMP/$name.ref" "$TMP/$name.out"
	same_file "$name: stderr as --no-cache" "$TMP/$name.referr" "$TMP/$name.err"
	same_file "$name: exit status as --no-cache ($(cat "$TMP/$name.refrc"))" "$TMP/$name.refrc" "$TMP/$name.rc"
}

# until_kept DIR CMD...: CMD again until it leaves the memo in DIR as it
# was, at most twice (the suites beside this one link and unlink the same
# real tree's files, and each link changes the ctime of every name of a
# file: a stamp moved between two runs makes the second a run, rightly)
until_kept() {
	local dir=$1 before
	shift
	for try in 1 2; do
		before=$(memo_inodes "$dir")
		"$@" > /dev/null 2>&1
		[ -n "$before" ] && [ "$before" = "$(memo_inodes "$dir")" ] && break
		echo "  real: a stamp moved beside this suite; the memo was made again"
	done
}

# memo NAME WANT ARGS...: modatlas check ARGS through the memo, then with
# --no-cache; the same stdout, stderr and status; WANT hit (the memo
# answered) or run (the check ran and kept a new memo).
memo() {
	local name=$1 want=$2 before after got
	shift 2
	before=$(memo_inodes)
	"$M" check --cache-dir "$MC" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"
	echo $? > "$TMP/$name.rc"
	after=$(memo_inodes)
	"$M" check --no-cache "$@" > "$TMP/$name.ref" 2> "$TMP/$name.referr"
	echo $? > "$TMP/$name.refrc"
	got=run
	[ -n "$before" ] && [ "$before" = "$after" ] && got=hit
	agree "$name" "$want" "$got"
}

echo "== repeats"
memo first run "${ARGS[@]}" -f json $V
check "first: the defect corpus fails (exit 1)" [ "$(cat "$TMP/first.rc")" = 1 ]
memo repeat hit "${ARGS[@]}" -f json $V
memo text run "${ARGS[@]}" $V
memo text-repeat hit "${ARGS[@]}" $V
memo fail-never run "${ARGS[@]}" --fail-on never $V
memo fail-never-repeat hit "${ARGS[@]}" --fail-on never $V
check "fail-never: exit 0" [ "$(cat "$TMP/fail-never-repeat.rc")" = 0 ]
memo verbose run "${ARGS[@]}" -v $V
memo verbose-repeat hit "${ARGS[@]}" -v $V
"$M" check --cache-dir "$MC" "${ARGS[@]}" -vv $V > /dev/null 2> "$TMP/vv.err"
contains "-vv: runs the check (its debug lines describe this run)" "$TMP/vv.err" "timing: check: load"
memo back hit "${ARGS[@]}" -v $V

echo "== the modules"
touch -d '2 hours ago' "$DEF/ma_def_plain.ko"; settle
memo touched run "${ARGS[@]}" $V
memo touched-repeat hit "${ARGS[@]}" $V
cp "$TMP/text.out" "$TMP/before-replace.out"
rm "$DEF/ma_def_plain.ko" && cp "$DEF/ma_def_prop.ko" "$DEF/ma_def_plain.ko"; settle
memo replaced run "${ARGS[@]}" $V
if cmp -s "$TMP/before-replace.out" "$TMP/replaced.out"; then
	fail "replaced: (the replacement changes the report)"
else
	ok "replaced: (the replacement changes the report)"
fi
cp "$DEF/ma_def_user.ko" "$DEF/ma_def_added.ko"; settle
memo added run "${ARGS[@]}" $V
memo added-repeat hit "${ARGS[@]}" $V
rm "$DEF/ma_def_added.ko"; settle
memo removed run "${ARGS[@]}" $V
mkdir "$MD/kernel/drivers/ma/newdir" && cp "$D/tree/lib/modules/$V/kernel/drivers/ma/defects/ma_def_plain.ko" \
	"$MD/kernel/drivers/ma/newdir/ma_def_new.ko"; settle
memo new-directory run "${ARGS[@]}" $V
memo new-directory-repeat hit "${ARGS[@]}" $V

echo "== the tree's inputs"
echo "kernel/drivers/ma/newdir/ma_def_new.ko" >> "$MD/modules.order"; settle
memo modules.order run "${ARGS[@]}" $V
printf 'ma_builtin_memo.alias=ma-memo-alias\0' >> "$MD/modules.builtin.modinfo"; settle
memo builtin.modinfo run "${ARGS[@]}" $V
memo builtin.modinfo-repeat hit "${ARGS[@]}" $V
sed -i '0,/0x/s/0x[0-9a-f]\{8\}/0x12345678/' "$TMP/Module.symvers"; settle
memo symvers run "${ARGS[@]}" $V
printf 'blacklist ma_def_plain\n' >> "$TMP/modprobe.d/defects.conf"; settle
memo modprobe.d-edited run "${ARGS[@]}" $V
printf 'alias ma-memo ma_def_nothing\n' > "$TMP/modprobe.d/zz-memo.conf"; settle
memo modprobe.d-added run "${ARGS[@]}" $V
memo modprobe.d-repeat hit "${ARGS[@]}" $V
mkdir -p "$TMP/depmod.d"
printf 'search updates built-in\n' > "$TMP/depmod.d/a.conf"; settle
memo depmod.d run "${ARGS[@]}" -C "$TMP/depmod.d" $V
memo depmod.d-repeat hit "${ARGS[@]}" -C "$TMP/depmod.d" $V
printf 'exclude newdir\n' > "$TMP/depmod.d/b.conf"; settle
memo depmod.d-added run "${ARGS[@]}" -C "$TMP/depmod.d" $V

echo "== firmware"
grep -q 'MA-FIRMWARE-MISSING' "$TMP/depmod.d-added.out" && ok "firmware: missing.bin reported" ||
	fail "firmware: missing.bin reported"
cp "$T/lib/firmware/ma-defects/present.bin" "$T/lib/firmware/ma-defects/missing.bin"; settle
memo firmware-installed run "${ARGS[@]}" -C "$TMP/depmod.d" $V
not_contains "firmware: installed, no longer reported" "$TMP/firmware-installed.out" "MA-FIRMWARE-MISSING"
memo firmware-repeat hit "${ARGS[@]}" -C "$TMP/depmod.d" $V
rm "$T/lib/firmware/ma-defects/missing.bin"; settle
memo firmware-removed run "${ARGS[@]}" -C "$TMP/depmod.d" $V
contains "firmware: removed, reported again" "$TMP/firmware-removed.out" "MA-FIRMWARE-MISSING"
# the loader's other directories: updates/ appearing
mkdir -p "$T/lib/firmware/updates/ma-defects"
cp "$T/lib/firmware/ma-defects/present.bin" "$T/lib/firmware/updates/ma-defects/missing.bin"; settle
memo firmware-updates run "${ARGS[@]}" -C "$TMP/depmod.d" $V
not_contains "firmware: in updates/, not reported" "$TMP/firmware-updates.out" "MA-FIRMWARE-MISSING"

echo "== the kernel's exports from the tree's build/Module.symvers"
NOE=(-b "$T" --modprobe-d "$TMP/modprobe.d")
memo no-E run "${NOE[@]}" -f json $V
memo no-E-repeat hit "${NOE[@]}" -f json $V
# another kernel's: ignored, with a warning on stderr the memo replays
mkdir -p "$MD/build"
sed 's/^0x[0-9a-f]\{8\}/0x0badc0de/' "$D/Module.symvers" > "$MD/build/Module.symvers"; settle
memo build-other run "${NOE[@]}" $V
contains "build-other: a warning on stderr" "$TMP/build-other.err" "is not this tree's kernel"
memo build-other-repeat hit "${NOE[@]}" $V
rm "$MD/build/Module.symvers" && cp "$D/Module.symvers" "$MD/build/Module.symvers"; settle
memo build-symvers run "${NOE[@]}" -f json $V
contains "build-symvers: the kernel's exports come from it" "$TMP/build-symvers.out" "build/Module.symvers"

echo "== certificates"
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/k1.pem" -out "$TMP/c1.pem" -days 1 \
	-subj "/CN=memo one" > /dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/k2.pem" -out "$TMP/c2.pem" -days 1 \
		-subj "/CN=memo two" > /dev/null 2>&1; then
	cp "$TMP/c1.pem" "$TMP/cert.pem"; settle
	memo cert run "${ARGS[@]}" --cert "$TMP/cert.pem" $V
	memo cert-repeat hit "${ARGS[@]}" --cert "$TMP/cert.pem" $V
	cp "$TMP/c2.pem" "$TMP/cert.pem"; settle
	memo cert-replaced run "${ARGS[@]}" --cert "$TMP/cert.pem" $V
else
	fail "certificates: openssl made two"
fi

echo "== a relative path, from another directory"
mkdir -p "$TMP/wd1" "$TMP/wd2"
cp "$D/Module.symvers" "$TMP/wd1/Module.symvers"
cp "$TMP/Module.symvers" "$TMP/wd2/Module.symvers"; settle
pushd "$TMP/wd1" > /dev/null
memo rel-1 run -b "$T" -E Module.symvers $V
memo rel-1-repeat hit -b "$T" -E Module.symvers $V
popd > /dev/null
pushd "$TMP/wd2" > /dev/null
memo rel-2 run -b "$T" -E Module.symvers $V
popd > /dev/null
# absolute paths only: the working directory is not part of the key
memo abs-here run "${ARGS[@]}" -f json $V
pushd "$TMP/wd2" > /dev/null
memo abs-elsewhere hit "${ARGS[@]}" -f json $V
popd > /dev/null

echo "== --all"
memo all run -b "$T" -E "$TMP/Module.symvers" --all
memo all-repeat hit -b "$T" -E "$TMP/Module.symvers" --all
mkdir -p "$T/lib/modules/6.1.0-99-amd64/kernel"
cp "$D/tree/lib/modules/$V/kernel/drivers/ma/defects/ma_def_plain.ko" "$T/lib/modules/6.1.0-99-amd64/kernel/"; settle
memo all-new-kernel run -b "$T" -E "$TMP/Module.symvers" --all

echo "== a damaged memo"
memo before-damage run "${ARGS[@]}" -f json $V
for f in "$MC"/*.memo; do printf 'X' | dd of="$f" bs=1 seek=200 conv=notrunc status=none; done
memo damaged-output run "${ARGS[@]}" -f json $V
for f in $(grep -l 'check memo/1' "$MC"/*.meta); do
	printf 'X' | dd of="$f" bs=1 seek=300 conv=notrunc status=none
done
memo damaged-meta run "${ARGS[@]}" -f json $V

echo "== the cache's own messages"
# the tree's records damaged, and a module touched so that the check runs:
# the run says the cache was ignored (not something of the tree: no memo
# is kept of it); the next run says nothing, as --no-cache
for f in "$MC"/*.records; do printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc status=none; done
touch -d '3 hours ago' "$DEF/ma_def_user.ko"; settle
"$M" check --cache-dir "$MC" "${ARGS[@]}" $V > /dev/null 2> "$TMP/records-damaged.err"
contains "records damaged: the run says so" "$TMP/records-damaged.err" "ignored"
memo records-damaged-next run "${ARGS[@]}" $V
memo records-damaged-repeat hit "${ARGS[@]}" $V

echo "== why's memo"
# the indexed corpus of test-why (without the cycle depmod refuses)
W=$TMP/wtree WC=$TMP/wcache WCONF=$TMP/wconf.d
cp -a "$D/tree" "$W"
rm -r "$W/lib/modules/$V/kernel/drivers/ma/defects/cycle"
WD=$W/lib/modules/$V/kernel/drivers/ma/defects
"$M" depmod -b "$W" $V 2> /dev/null
mkdir -p "$WCONF"
printf 'options ma_def_exporter level=3\n' > "$WCONF/why.conf"
cp "$D/Module.symvers" "$TMP/wsym"
WARGS=(-b "$W" -E "$TMP/wsym" -C "$WCONF")
settle
# wmemo NAME WANT ARGS...: modatlas why ARGS through the memo (traced:
# a run opens the tree's modules.order, an answer from the memo opens
# nothing of the tree), then with --no-cache; the same stdout, stderr
# and status; WANT hit or run (a run keeps a new memo)
wmemo() {
	local name=$1 want=$2 before after got opened=no
	shift 2
	before=$(memo_inodes "$WC")
	# (LeakSanitizer cannot work under ptrace: off while traced)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=openat \
		-o "$TMP/$name.trace" "$M" why --cache-dir "$WC" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"
	echo $? > "$TMP/$name.rc"
	grep -q 'modules\.order"' "$TMP/$name.trace" && opened=yes
	after=$(memo_inodes "$WC")
	if [ -n "${ASAN_OPTIONS:-}" ]; then
		# the sanitizer pass: once more untraced, leaks checked (an
		# answer from the memo, mostly), the same bytes
		"$M" why --cache-dir "$WC" "$@" > "$TMP/$name.again" 2> /dev/null
	fi
	"$M" why --no-cache "$@" > "$TMP/$name.ref" 2> "$TMP/$name.referr"
	echo $? > "$TMP/$name.refrc"
	got=other
	[ "$opened" = no ] && [ -n "$before" ] && [ "$before" = "$after" ] && got=hit
	[ "$opened" = yes ] && [ -n "$after" ] && [ "$before" != "$after" ] && got=run
	agree "$name" "$want" "$got"
}
wmemo w-first run "${WARGS[@]}" ma_def_user $V
wmemo w-repeat hit "${WARGS[@]}" ma_def_user $V
wmemo w-json run "${WARGS[@]}" -f json ma_def_user $V
wmemo w-json-repeat hit "${WARGS[@]}" -f json ma_def_user $V
wmemo w-text-kept hit "${WARGS[@]}" ma_def_user $V
wmemo w-params run "${WARGS[@]}" ma_def_user $V debug=1
wmemo w-params-repeat hit "${WARGS[@]}" ma_def_user $V debug=1
contains "w-params: the options after the name in the answer" "$TMP/w-params-repeat.out" "debug=1"
wmemo w-refused run "${WARGS[@]}" ma_def_missing $V
check "w-refused: exit 1" [ "$(cat "$TMP/w-refused.rc")" = 1 ]
wmemo w-refused-repeat hit "${WARGS[@]}" ma_def_missing $V
wmemo w-nothing run "${WARGS[@]}" ma_no_such_module $V
wmemo w-nothing-repeat hit "${WARGS[@]}" ma_no_such_module $V
wmemo w-first-kept hit "${WARGS[@]}" ma_def_user $V
# another tree-wide option: the answers of the others are dropped
wmemo w-ignore-install run "${WARGS[@]}" -i ma_def_user $V
wmemo w-ignore-install-repeat hit "${WARGS[@]}" -i ma_def_user $V
wmemo w-back run "${WARGS[@]}" ma_def_user $V
wmemo w-cmdline run "${WARGS[@]}" --cmdline "ma_def_user.x=1" ma_def_user $V
# a module file: judged as if installed, never kept (no memo read or
# written: the memo's inode stays; the run reads the tree)
before=$(memo_inodes "$WC")
"$M" why --cache-dir "$WC" "${WARGS[@]}" "$WD/ma_def_plain.ko" $V > "$TMP/w-file.out" 2>&1
"$M" why --cache-dir "$WC" "${WARGS[@]}" "$WD/ma_def_plain.ko" $V > "$TMP/w-file2.out" 2>&1
check "w-file: a module file given keeps no memo" [ "$before" = "$(memo_inodes "$WC")" ]
same_file "w-file: the same answer twice" "$TMP/w-file.out" "$TMP/w-file2.out"
wmemo w-inputs run "${WARGS[@]}" ma_def_user $V
touch -d '2 hours ago' "$WD/ma_def_exporter.ko"; settle
wmemo w-touched run "${WARGS[@]}" ma_def_user $V
wmemo w-touched-repeat hit "${WARGS[@]}" ma_def_user $V
cp "$TMP/w-touched.out" "$TMP/w-before-replace.out"
rm "$WD/ma_def_exporter.ko" && cp "$WD/ma_def_prop.ko" "$WD/ma_def_exporter.ko"; settle
wmemo w-replaced run "${WARGS[@]}" ma_def_user $V
if cmp -s "$TMP/w-before-replace.out" "$TMP/w-replaced.out"; then
	fail "w-replaced: (the replacement changes the answer)"
else
	ok "w-replaced: (the replacement changes the answer)"
fi
cp "$WD/ma_def_plain.ko" "$WD/ma_def_new.ko"; settle
wmemo w-added run "${WARGS[@]}" ma_def_new $V
contains "w-added: stale indexes said" "$TMP/w-added.out" "After depmod"
wmemo w-added-repeat hit "${WARGS[@]}" ma_def_new $V
"$M" depmod -b "$W" $V 2> /dev/null; settle
wmemo w-depmod run "${WARGS[@]}" ma_def_new $V
not_contains "w-depmod: the indexes current now" "$TMP/w-depmod.out" "After depmod"
rm "$WD/ma_def_new.ko"; settle
wmemo w-removed run "${WARGS[@]}" ma_def_new $V
printf 'softdep ma_def_user post: ma_def_softdep\n' > "$W/lib/modules/$V/modules.softdep"; settle
wmemo w-softdep run "${WARGS[@]}" ma_def_user $V
contains "w-softdep: the tree's soft dependency in the answer" "$TMP/w-softdep.out" "ma_def_softdep"
printf 'options ma_def_user memo=2\n' >> "$WCONF/why.conf"; settle
wmemo w-conf-edited run "${WARGS[@]}" ma_def_user $V
contains "w-conf-edited: the new options line in the answer" "$TMP/w-conf-edited.out" "memo=2"
printf 'options ma_def_softdep memo=3\n' > "$WCONF/zz.conf"; settle
wmemo w-conf-added run "${WARGS[@]}" ma_def_user $V
contains "w-conf-added: the new file's options in the answer" "$TMP/w-conf-added.out" "memo=3"
wmemo w-conf-repeat hit "${WARGS[@]}" ma_def_user $V
sed -i '0,/0x/s/0x[0-9a-f]\{8\}/0x12345678/' "$TMP/wsym"; settle
wmemo w-symvers run "${WARGS[@]}" ma_def_user $V
for f in "$WC"/*.memo; do printf 'X' | dd of="$f" bs=1 seek=60 conv=notrunc status=none; done
wmemo w-damaged run "${WARGS[@]}" ma_def_user $V
check "w-damaged: nothing said of it" [ ! -s "$TMP/w-damaged.err" ]
wmemo w-damaged-repeat hit "${WARGS[@]}" ma_def_user $V

echo "== the real Debian amd64 6.1 tree"
if realtree amd64-6.1; then
	R=$TMP/real
	mkdir -p "$R/lib/modules"
	cp -al "$RT_ROOT/lib/modules/$RT_KVER" "$R/lib/modules/"
	settle
	# tree_ctimes: every change time under $R, which a neighbour suite's
	# link of the same file moves
	tree_ctimes() { find "$R" -printf '%C@ %p\n' | cksum; }
	# real_repeat FN CACHE SUBCMD NAME ARGS...: a repeat through FN (memo
	# or wmemo) after until_kept; one that ran while a stamp moved is tried
	# again, at most three times; one that ran while the tree stood still
	# fails
	real_repeat() {
		local fn=$1 dir=$2 sub=$3 name=$4 stamps try
		shift 4
		for try in 1 2 3; do
			stamps=$(tree_ctimes)
			until_kept "$dir" "$M" "$sub" --cache-dir "$dir" "$@"
			MEMO_DEFER=1 "$fn" "$name" hit "$@"
			[ "$GOT" = hit ] || [ "$stamps" = "$(tree_ctimes)" ] && break
			echo "  real: a stamp moved beside this suite during $name; tried again"
		done
		agree "$name" hit "$GOT"
	}
	memo real run -b "$R" -f json "$RT_KVER"
	real_repeat memo "$MC" check real-repeat -b "$R" -f json "$RT_KVER"
	wmemo real-why run -b "$R" e1000e "$RT_KVER"
	real_repeat wmemo "$WC" why real-why-repeat -b "$R" e1000e "$RT_KVER"
else
	fail "amd64-6.1: tree fetched"
fi
summary
